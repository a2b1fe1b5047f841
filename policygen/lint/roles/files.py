"""What `policygen lint` checks: the state machines, the role each one uses, and the findings.

Two ways to name the role: policy files (`--policy`, several = one role; `--trust-policy`), which
apply to every state machine given; or, for a CloudFormation/SAM template without `--policy`, the
role each state machine names in the template (policygen/lint_template.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from policygen.errors import Location, Notice, UsageError
from policygen.lint.engine import Finding, Role, TrustPolicy, lint_role, policy_source
from policygen.load import load_document
from policygen.load.asl import StateMachine
from policygen.load.document import Document
from policygen.scan import BatchTask
from policygen.requirements.target import Target, resolve_target


@dataclass(frozen=True)
class LintUnit:
    """One role and the Batch states of the state machines that use it."""

    role: Role
    tasks: tuple[BatchTask, ...]
    target: Target
    machines: tuple[str, ...]
    # The state machines' ARNs as far as known, for the trust policy's aws:SourceArn: an unknown
    # region or account is policygen-region / policygen-account, an unknown name is empty.
    machine_arns: tuple[str, ...] = ()
    # A template's role: its policies' values may be intrinsics, and the linter's stand-ins for them
    # (policygen-ref-Name) are template references, which --fix writes back as Ref/Fn::Sub.
    from_template: bool = False


@dataclass(frozen=True)
class LintReport:
    findings: tuple[Finding, ...]
    notices: tuple[Notice, ...]
    units: tuple[LintUnit, ...]


def load_role_files(policy_paths: Sequence[str], trust_path: str | None) -> Role:
    """The role made of these policy files (and trust policy): each file is one IAM policy
    document, or the output of `aws iam get-role-policy` (`{"PolicyDocument": {...}}`)."""
    sources = []
    for path in policy_paths:
        document = load_document(path)
        data, prefix = _unwrap(document.data, "PolicyDocument")
        sources.append(policy_source(data, document.name, _locator(document, prefix)))
    trust = None
    if trust_path is not None:
        document = load_document(trust_path)
        data, prefix = _unwrap(document.data, "AssumeRolePolicyDocument")
        trust = TrustPolicy(data, document.name, _locator(document, prefix))
    return Role(name=", ".join(policy_paths), policies=tuple(sources), trust=trust)


def _unwrap(data, key: str):
    if isinstance(data, dict) and key in data and "Statement" not in data:
        return data[key], f"/{key}"
    return data, ""


def _locator(document: Document, prefix: str):
    return lambda pointer: document.location(prefix + pointer)


def run_lint(
    machines: Sequence[StateMachine],
    tasks: Sequence[BatchTask],
    role: Role | None,
    region: str | None,
    account: str | None,
    partition: str | None,
    environment: Mapping[str, str],
) -> LintReport:
    """Lint `role` (from policy files) against every Batch state, or, when `role` is None, each
    template state machine against the role its template gives it."""
    documents = {machine.file: machine.document for machine in machines}

    def locate_task(task: BatchTask) -> Location:
        document = documents.get(task.file)
        return document.location(task.pointer) if document is not None else Location(task.file, pointer=task.pointer)

    notices: list[Notice] = []
    units: list[LintUnit] = []
    findings: list[Finding] = []
    if role is not None:
        target = resolve_target(tasks, region, account, environment, partition)
        units.append(LintUnit(role, tuple(tasks), target, tuple(m.name for m in machines)))
    else:
        from policygen.lint.roles.template import template_units

        plain = [machine.file for machine in machines if machine.template is None]
        if plain:
            raise UsageError(
                f"{plain[0]} is a state machine definition: pass the role's policy with --policy FILE "
                "(a CloudFormation or SAM template can be linted without it)"
            )
        found, missing = template_units(machines, tasks, region, account, partition, environment)
        units.extend(found)
        findings.extend(missing)
    if not tasks:
        notices.append(Notice("no AWS Batch Task state found: only the policies themselves were checked"))
    for unit in units:
        findings.extend(lint_role(unit.tasks, unit.role, unit.target, locate_task, unit.machine_arns))
    unique = sorted(set(findings), key=Finding.sort_key)
    return LintReport(tuple(unique), tuple(notices), tuple(units))

