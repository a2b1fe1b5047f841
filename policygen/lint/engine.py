"""Requirements + evaluation + rules -> findings: does a role give the Task states what they need,
and no more?

The requests come from `requirements.requests_of` (the one permission table); whether the role
allows each of them comes from `iam/evaluate.py`, never from comparing strings. The rules (ids,
severities, message templates) are data in rules/lint/ (`lint/rules.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from policygen.errors import Location
from policygen.lint.checks.actions import ActionChecks
from policygen.lint.checks.breadth import BreadthChecks
from policygen.lint.checks.requests import RequestChecks
from policygen.lint.checks.sids import SidChecks
from policygen.lint.checks.trust import TrustChecks
from policygen.lint.findings import Finding, Role
from policygen.requirements.deploy_time import DeployTimeValues
from policygen.requirements.service_requests import service_requests
from policygen.requirements.target import Target
from policygen.scan import BatchTask, ServiceTask

# Linting one role against the Task states that use it


def lint_role(
    tasks: Sequence[BatchTask],
    role: Role,
    target: Target,
    locate_task: Callable[[BatchTask | ServiceTask], Location],
    machine_arns: Sequence[str] = (),
    services: Sequence[ServiceTask] | None = None,
    deploy_time: DeployTimeValues | None = None,
) -> list[Finding]:
    """Every finding for `role`, used by the state machine(s) `tasks` (Batch's) and `services`
    (every other integration's) come from, in a stable order.

    `machine_arns`: the state machines' ARNs as far as known, for the trust policy's
    aws:SourceArn (an unknown region or account as UNKNOWN_REGION/UNKNOWN_ACCOUNT, an unknown name
    empty); without them, one state machine of unknown name in the target's region and account.
    `deploy_time`: how the services' template values are written (a template's role), else they
    are unknown and their requests take the documented fallback. Without `services` (None, not
    empty) the caller knows only the Batch states: other services' grants are not judged."""
    known = tuple(services) if services is not None else ()
    accesses = service_requests(known, target, deploy_time)
    checker = _Checker(tuple(tasks), role, target, locate_task, known, accesses, whole_role=services is not None)
    findings = [
        *checker.unknown_actions(),
        *checker.requests(),
        *checker.broad_and_unneeded(),
        *checker.duplicate_sids(),
        *checker.trust(machine_arns),
    ]
    return sorted(set(findings), key=Finding.sort_key)



class _Checker(ActionChecks, RequestChecks, BreadthChecks, SidChecks, TrustChecks):
    """Every family of checks (lint/checks/), over one role and the states that use it."""
