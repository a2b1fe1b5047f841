"""The AWS calls `policygen audit` makes, each with the IAM action it needs (one table, used both to
guard the clients and to print the auditor's own policy), and the boto3 sessions and clients.

boto3 is imported here only, when an audit runs (the `live` extra).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from policygen.errors import UsageError
from policygen.lint.roles.live import INSTALL_HINT

# When a call is made: on every audit, or only with the option that needs it.
ALWAYS = "always"
ASSUME_ROLE = "--assume-role"
ORGANIZATION = "--organization"
ALL_REGIONS = "--all-regions"

SERVICE_AUTHORIZATION_REFERENCE = "https://docs.aws.amazon.com/service-authorization/latest/reference/"


@dataclass(frozen=True)
class Call:
    """One API operation (botocore's service and operation names) and the IAM action that
    authorizes it (Service Authorization Reference, the page named by `reference`)."""

    service: str
    operation: str
    action: str
    when: str
    reference: str


CALLS: tuple[Call, ...] = (
    Call("stepfunctions", "ListStateMachines", "states:ListStateMachines", ALWAYS, "list_awsstepfunctions.html"),
    Call("stepfunctions", "DescribeStateMachine", "states:DescribeStateMachine", ALWAYS, "list_awsstepfunctions.html"),
    Call("iam", "GetRole", "iam:GetRole", ALWAYS, "list_awsidentityandaccessmanagementiam.html"),
    Call("iam", "ListRolePolicies", "iam:ListRolePolicies", ALWAYS, "list_awsidentityandaccessmanagementiam.html"),
    Call("iam", "GetRolePolicy", "iam:GetRolePolicy", ALWAYS, "list_awsidentityandaccessmanagementiam.html"),
    Call("iam", "ListAttachedRolePolicies", "iam:ListAttachedRolePolicies", ALWAYS, "list_awsidentityandaccessmanagementiam.html"),
    Call("iam", "GetPolicy", "iam:GetPolicy", ALWAYS, "list_awsidentityandaccessmanagementiam.html"),
    Call("iam", "GetPolicyVersion", "iam:GetPolicyVersion", ALWAYS, "list_awsidentityandaccessmanagementiam.html"),
    Call("sts", "AssumeRole", "sts:AssumeRole", ASSUME_ROLE, "list_awssecuritytokenservice.html"),
    Call("organizations", "ListAccounts", "organizations:ListAccounts", ORGANIZATION, "list_awsorganizations.html"),
    Call("ec2", "DescribeRegions", "ec2:DescribeRegions", ALL_REGIONS, "list_amazonec2.html"),
)
_BY_OPERATION = {(call.service, call.operation): call for call in CALLS}

# Retries: botocore's adaptive mode (standard retries of throttling and transient errors, with
# exponential backoff, plus client-side rate limiting), with more attempts than its default 3: an
# audit makes many calls in a burst and would rather wait than lose a machine.
# https://docs.aws.amazon.com/boto3/latest/guide/retries.html
MAX_ATTEMPTS = 10


class UnlistedCall(RuntimeError):
    """policygen made a call that is not in CALLS: a bug (the printed policy would miss it)."""


def action_of(service: str, operation: str) -> str:
    """The IAM action of an operation in CALLS; UnlistedCall for any other."""
    call = _BY_OPERATION.get((service, operation))
    if call is None:
        raise UnlistedCall(f"{service}:{operation} is not in policygen.audit.aws.CALLS")
    return call.action


def action_of_failed_call(error: Exception, default: str) -> str:
    """The IAM action of the call a botocore error came from (a ClientError names its operation)."""
    operation = getattr(error, "operation_name", None)
    actions = {call.operation: call.action for call in CALLS}
    return actions.get(operation, default)


def aws_errors() -> tuple[type[Exception], ...]:
    """botocore's errors: an AWS error answer (ClientError) and the client's own (no credentials,
    no endpoint, a bad profile, retries exhausted on a connection)."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError)


def required_policy(assume_role_arn: str | None, organization: bool, all_regions: bool, partition: str = "aws") -> dict[str, Any]:
    """The read-only IAM policy the audit needs for the options given: the reads, in every audited
    account (with --assume-role, the assumed role's policy), plus what the caller itself needs for
    the options (sts:AssumeRole on the roles, organizations:ListAccounts, ec2:DescribeRegions).

    Each action's resources are the Service Authorization Reference's for it (policygen's
    catalogue, any region and account), "*" for actions without resource types."""
    used = {ALWAYS} | ({ORGANIZATION} if organization else set()) | ({ALL_REGIONS} if all_regions else set())
    by_resources: dict[tuple[str, ...], list[str]] = {}
    for call in CALLS:
        if call.when in used:
            by_resources.setdefault(_resources(call.action, partition), []).append(call.action)
    if assume_role_arn:
        by_resources.setdefault((assume_role_arn,), []).append("sts:AssumeRole")
    statements = [
        {"Effect": "Allow", "Action": sorted(actions), "Resource": list(resources) if len(resources) > 1 else resources[0]}
        for resources, actions in sorted(by_resources.items(), key=lambda item: sorted(item[1]))
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def _resources(action: str, partition: str) -> tuple[str, ...]:
    from policygen.iam import catalog

    service = action.split(":", 1)[0]
    patterns = catalog.resource_patterns(action) if catalog.service(service) is not None else ()
    if not patterns:
        return ("*",)
    return tuple(sorted(p.format(partition=partition, region="*", account="*") for p in patterns))


class CallCounter:
    """API operations made, by IAM action, and HTTP requests sent (retries included), counted by
    every client of an audit (from many threads)."""

    def __init__(self) -> None:
        self.calls: Counter = Counter()
        self.requests: Counter = Counter()
        self._lock = threading.Lock()

    @classmethod
    def new(cls) -> CallCounter:
        return cls()

    def count(self, counter: Counter, action: str) -> None:
        with self._lock:
            counter[action] += 1


def import_boto3():
    try:
        import boto3
        import botocore  # noqa: F401
    except ImportError:
        raise UsageError("audit reads state machines from AWS with boto3, which is not installed", hint=INSTALL_HINT) from None
    return boto3


def new_session(profile: str | None = None, region: str | None = None, credentials: dict[str, str] | None = None):
    """A boto3 session: the standard AWS environment, a profile, or assumed-role credentials.
    (The one place sessions are made: tests hook their events here.)"""
    boto3 = import_boto3()
    if credentials is not None:
        return boto3.session.Session(region_name=region, **credentials)
    return boto3.session.Session(profile_name=profile, region_name=region)


class Clients:
    """The clients of one session (one account), made once and shared by the threads (botocore
    clients are thread-safe; sessions are not, so every client is made under a lock). Every
    call goes through `guard`: an operation outside CALLS is a bug, raised before it is sent."""

    def __init__(self, session: Any, counter: CallCounter, concurrency: int):
        self._session = session
        self._counter = counter
        self._concurrency = concurrency
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._lock = threading.Lock()

    @property
    def region_name(self) -> str | None:
        """The session's region (AWS_REGION, AWS_DEFAULT_REGION, the profile's), if any."""
        return self._session.region_name

    def client(self, service: str, region: str | None = None) -> Any:
        from botocore.config import Config

        key = (service, region)
        with self._lock:
            if key not in self._clients:
                retries: dict[str, Any] = {"mode": "adaptive"}
                if self._configured_max_attempts() is None:  # AWS_MAX_ATTEMPTS or the profile's wins
                    retries["total_max_attempts"] = MAX_ATTEMPTS
                config = Config(
                    retries=retries,
                    max_pool_connections=max(10, self._concurrency),
                    user_agent_extra="policygen-audit",
                )
                client = self._session.client(service, region_name=region, config=config)
                client.meta.events.register("before-call", self._guard)
                client.meta.events.register("before-send", self._sent)
                self._clients[key] = client
            return self._clients[key]

    def _configured_max_attempts(self) -> Any:
        botocore_session = getattr(self._session, "_session", None)
        return None if botocore_session is None else botocore_session.get_config_variable("max_attempts")

    def _guard(self, model: Any, **_: Any) -> None:
        action = action_of(model.service_model.service_name, model.name)
        self._counter.count(self._counter.calls, action)

    def _sent(self, **_: Any) -> None:
        self._counter.count(self._counter.requests, "all")


def pages(client: Any, operation: str, key: str, **arguments: Any) -> list:
    """Every item of a paginated list call."""
    return [item for page in client.get_paginator(operation).paginate(**arguments) for item in page.get(key, [])]
