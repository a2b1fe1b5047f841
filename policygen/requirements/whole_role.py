"""Every Task state but Batch's own -> what it needs from the execution role (the whole role).

Batch's needs come from requirements/needs.py; this module gathers the rest: the optimized
integrations from their tables (service_needs.py), the AWS SDK integrations (sdk.py), and the
machine's own features with the HTTP Task (machine_needs.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from policygen.errors import Location, Notice
from policygen.requirements.deploy_time import DeployTimeValues
from policygen.requirements.machine_needs import is_machine_task, machine_feature_needs
from policygen.requirements.needs import Need
from policygen.requirements.service_needs import needs_of_service
from policygen.requirements.target import Target
from policygen.scan import ServiceTask
from policygen.scan.features import MachineFeature


def whole_role_needs(tasks: Iterable[ServiceTask | MachineFeature], deploy_time: DeployTimeValues | None, notices: list[Notice],
                     target: Target | None = None, optional: bool = False) -> list[Need]:
    """The needs of every record but a Batch task: the services' Task states and the machines' own
    features (a MachineFeature stands where a Task does). `optional`: also the optional features'
    grants (--redrive)."""
    found: list[Need] = []
    machine_tasks = []
    features = []
    for task in tasks:
        if isinstance(task, MachineFeature):
            features.append(task)
            continue
        if task.credentials is not None:
            notices.append(_assumed_role(task))
        if is_machine_task(task):
            machine_tasks.append(task)
        elif task.service == "aws-sdk":
            found.extend(_needs_of_sdk(task, deploy_time, notices))
        else:
            found.extend(needs_of_service(task, deploy_time, notices, target))
    found.extend(machine_feature_needs(features, machine_tasks, deploy_time, notices, optional))
    return found


def _needs_of_sdk(task: ServiceTask, deploy_time: DeployTimeValues | None, notices: list[Notice]) -> list[Need]:
    # The SDK tables are read only by a run with an aws-sdk state (most definitions have none).
    from policygen.requirements.sdk import needs_of_sdk

    return needs_of_sdk(task, deploy_time, notices)


def _assumed_role(task: ServiceTask) -> Notice:
    """A state with `Credentials` makes its call as the role it assumes: the policy is right for
    that role, and the execution role needs sts:AssumeRole on it instead."""
    assert task.credentials is not None
    return Notice(
        f"state {task.path!r} calls {task.resource} with the credentials of another role ({task.credentials.field}: "
        f"{task.credentials.text}): its permissions in this policy belong on that role, and the execution role "
        "needs sts:AssumeRole on it instead, which this policy does not grant",
        Location(task.file, pointer=task.credentials.pointer),
    )
