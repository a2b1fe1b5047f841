"""`policygen lint`'s check: every role against the states that use it, and the findings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from policygen.errors import Location, Notice, UsageError
from policygen.lint.engine import lint_role
from policygen.lint.findings import Finding, Role
from policygen.lint.roles.template import template_units
from policygen.lint.roles.unit import LintReport, LintUnit
from policygen.load.asl import StateMachine
from policygen.requirements.deploy_time import DeployTimeValues
from policygen.requirements.service_requests import unseen_needs
from policygen.requirements.target import resolve_target
from policygen.scan import BatchTask, ServiceTask


def run_lint(
    machines: Sequence[StateMachine],
    tasks: Sequence[BatchTask],
    role: Role | None,
    region: str | None,
    account: str | None,
    partition: str | None,
    environment: Mapping[str, str],
    services: Sequence[ServiceTask] = (),
) -> LintReport:
    """Lint `role` (from policy files) against every Task state (`tasks`, Batch's, and `services`,
    every other integration's), or, when `role` is None, each template state machine against the
    role its template gives it."""
    documents = {machine.file: machine.document for machine in machines}

    def locate_task(task: BatchTask | ServiceTask) -> Location:
        document = documents.get(task.file)
        return document.location(task.pointer) if document is not None else Location(task.file, pointer=task.pointer)

    notices: list[Notice] = []
    units: list[LintUnit] = []
    findings: list[Finding] = []
    if role is not None:
        target = resolve_target((*tasks, *services), region, account, environment, partition)
        units.append(LintUnit(role, tuple(tasks), target, tuple(m.name for m in machines), services=tuple(services)))
    else:
        plain = [machine.file for machine in machines if machine.template is None]
        if plain:
            raise UsageError(
                f"{plain[0]} is a state machine definition: pass the role's policy with --policy FILE "
                "(a CloudFormation or SAM template can be linted without it)"
            )
        found, missing = template_units(machines, tasks, region, account, partition, environment, services)
        units.extend(found)
        findings.extend(missing)
    if not tasks and not services:
        notices.append(Notice("no Task state found: only the policies themselves were checked"))
    notices.extend(unseen_needs(services, locate_task))
    deploy_time = _deploy_time(machines)
    units = [replace(unit, deploy_time=deploy_time) for unit in units]
    for unit in units:
        findings.extend(
            lint_role(unit.tasks, unit.role, unit.target, locate_task, unit.machine_arns, unit.services, unit.deploy_time)
        )
    unique = sorted(set(findings), key=Finding.sort_key)
    return LintReport(tuple(unique), tuple(notices), tuple(units))



def _deploy_time(machines: Sequence[StateMachine]) -> DeployTimeValues | None:
    """The template values of the services' states as `generate` writes them in JSON (a pseudo
    parameter, a parameter's Default, a Batch resource's ARN); the rest take the fallback."""
    templates = {(machine.file, machine.name): machine.template for machine in machines if machine.template is not None}
    return DeployTimeValues(templates, keep_references=False) if templates else None
