"""The audit's verdicts: each described state machine's definition linted against the role it runs
as (the same checks as `policygen lint`), and every problem reading AWS turned into a finding."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from policygen.audit.collect import Collected, Machine, Problem
from policygen.errors import Location, Notice, PolicygenError
from policygen.lint.engine import lint_role
from policygen.lint.findings import Finding
from policygen.lint.rules import Rule, RuleDoc, Severity
from policygen.scan import BatchTask, ServiceTask

AUDITED = "audited"
UNREADABLE = "unreadable"

# Not a rule file under rules/lint/: it is about the audit's own reading of AWS, not about a role.
UNREADABLE_RULE = Rule(
    id="PGA01",
    name="unreadable",
    severity=Severity.ERROR,
    summary="The audit could not read a state machine, its role, or an account's or region's list of them.",
    message="{message}",
    source="https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html",
    doc=RuleDoc(
        what="A state machine, its execution role, or the list of an account's or region's state machines could not be read: the finding names the resource and the IAM action of the call that failed.",
        why="What was not read was not audited: the audit would otherwise pass a state machine it never saw.",
        bad="AccessDenied on states:DescribeStateMachine; NoSuchEntity on iam:GetRole (the role was deleted).",
        good="Every call the audit makes is allowed (policygen audit --print-required-policy) and every role exists.",
        fix="Grant the audit the policy --print-required-policy prints, or fix (or delete) the state machine whose role is gone.",
    ),
)


@dataclass(frozen=True)
class AuditFinding:
    """A finding and the resource it is about: a state machine's ARN, or (a listing that failed)
    the account and region; `action` is the IAM action of the failed call of an unreadable one."""

    resource: str
    finding: Finding
    action: str | None = None

    def sort_key(self) -> tuple:
        return (self.resource, *self.finding.sort_key())


@dataclass(frozen=True)
class MachineResult:
    arn: str
    status: str
    machine: Machine | None
    counts: dict[str, int]


@dataclass(frozen=True)
class AuditReport:
    findings: tuple[AuditFinding, ...]
    machines: tuple[MachineResult, ...]
    notices: tuple[Notice, ...]
    accounts: tuple[str, ...]
    regions: tuple[str, ...]

    def summary(self) -> dict[str, Any]:
        return {
            "listed": len(self.machines),
            "audited": sum(1 for m in self.machines if m.status == AUDITED),
            "unreadable": sum(1 for m in self.machines if m.status == UNREADABLE),
            "findings": _counts([f.finding for f in self.findings]),
        }


def judge(collected: Collected) -> AuditReport:
    """Every listed machine audited or marked unreadable, with its findings; problems that concern
    no one machine (a region that could not be listed, a role that could not be assumed) too."""
    by_machine: dict[str, list[Problem]] = {}
    findings: list[AuditFinding] = []
    for problem in collected.problems:
        if problem.machine is None:
            findings.append(_unreadable(problem.resource, problem))
        else:
            by_machine.setdefault(problem.machine, []).append(problem)
    notices: set[Notice] = set()
    results = []
    for arn in collected.listed:
        machine = collected.machines.get(arn)
        problems = by_machine.get(arn, [])
        found: list[AuditFinding] = [_unreadable(arn, problem) for problem in problems]
        if machine is not None and not problems:
            try:
                live = collected.roles[(machine.account, machine.role_arn)]
                notices.update(live.notices)
                found.extend(AuditFinding(arn, finding) for finding in lint_machine(machine, live.role))
            except PolicygenError as error:  # a definition policygen cannot read
                found.append(_unreadable(arn, Problem(arn, None, f"its definition cannot be linted: {error}", arn)))
        status = UNREADABLE if any(f.finding.rule is UNREADABLE_RULE for f in found) else AUDITED
        results.append(MachineResult(arn, status, machine, _counts([f.finding for f in found])))
        findings.extend(found)
    return AuditReport(
        findings=tuple(sorted(findings, key=AuditFinding.sort_key)),
        machines=tuple(results),
        notices=tuple(sorted(notices, key=str)),
        accounts=collected.accounts,
        regions=collected.regions,
    )


def lint_machine(machine: Machine, role: Any) -> list[Finding]:
    """The lint findings of one deployed definition against its role, as `policygen lint` finds
    them for files (the definition is named by the machine's ARN): its Task states, and its own
    features (Distributed Maps, logging, tracing, its KMS key) as DescribeStateMachine gave them."""
    from policygen.load.asl import state_machine_from_asl
    from policygen.load.json_source import parse_json
    from policygen.pipeline import scan_machines
    from policygen.requirements.target import resolve_target
    from policygen.scan.machine_properties import described_properties

    document = parse_json(machine.definition, machine.arn)
    state_machine = replace(state_machine_from_asl(document), name=machine.name)
    answer = {"loggingConfiguration": machine.logging, "tracingConfiguration": machine.tracing, "encryptionConfiguration": machine.encryption}
    described = described_properties(machine.arn, machine.name, answer)
    scanned = scan_machines([state_machine], deployed={machine.name: described})
    tasks, services = scanned.batch, (*scanned.services, *scanned.features)
    target = resolve_target((*tasks, *services), machine.region, machine.account, {}, machine.partition)

    def locate_task(task: BatchTask | ServiceTask) -> Location:
        return document.location(task.pointer)

    return lint_role(tasks, role, target, locate_task, (machine.arn,), services)


def _unreadable(resource: str, problem: Problem) -> AuditFinding:
    finding = Finding(UNREADABLE_RULE, problem.message, Location(resource))
    return AuditFinding(resource, finding, problem.action)


def _counts(findings: Sequence[Finding]) -> dict[str, int]:
    return {severity.value: sum(1 for f in findings if f.severity is severity) for severity in Severity}
