"""What `policygen lint` checks: a role and the Batch states of the state machines that use it."""

from __future__ import annotations

from dataclasses import dataclass, field

from policygen.errors import Notice
from policygen.lint.findings import Finding, Role
from policygen.requirements.deploy_time import DeployTimeValues
from policygen.requirements.target import Target
from policygen.scan import BatchTask, ServiceTask


@dataclass(frozen=True)
class LintUnit:
    """One role and the Task states of the state machines that use it (Batch's in `tasks`, every
    other integration's in `services`)."""

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
    services: tuple[ServiceTask, ...] = ()
    # How the services' template values are written (lint and --fix must ask the same requests).
    deploy_time: DeployTimeValues | None = field(default=None, compare=False)


@dataclass(frozen=True)
class LintReport:
    findings: tuple[Finding, ...]
    notices: tuple[Notice, ...]
    units: tuple[LintUnit, ...]
