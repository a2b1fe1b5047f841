"""What `policygen audit` reads from AWS, concurrently: the accounts (assumed roles), their regions,
every state machine listed there, each one described, and each execution role read once.

Whatever cannot be read becomes a Problem naming the resource and the IAM action of the call that
failed, and the audit goes on; only when nothing at all can be listed is it an InputError.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import policygen.audit.aws as aws  # the module, not the package (which imports this one)
from policygen.audit.aws import CallCounter, Clients, action_of_failed_call, aws_errors, import_boto3, pages
from policygen.errors import InputError, PolicygenError, UsageError, one_line
from policygen.lint.roles.live import LiveRole, client_error_parts, read_role

# arn:PARTITION:states:REGION:ACCOUNT:stateMachine:NAME
_MACHINE_ARN = re.compile(r"^arn:(?P<partition>[a-z-]+):states:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):stateMachine:(?P<name>[^:]+)$")
_ROLE_ARN = re.compile(r"^arn:(?P<partition>[a-z-]+):iam::(?P<account>\d{12}):role/(?:[^/]+/)*(?P<name>[^/]+)$")
SESSION_NAME = "policygen-audit"

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class AuditOptions:
    regions: tuple[str, ...] = ()
    all_regions: bool = False
    profile: str | None = None
    assume_role: str | None = None  # a role name, or an ARN template with {account}
    accounts: tuple[str, ...] = ()
    organization: bool = False
    concurrency: int = 8


@dataclass(frozen=True)
class Problem:
    """Something the audit could not read: the resource, the IAM action of the failed call, why."""

    resource: str
    action: str | None  # None: no call failed, what it returned cannot be audited
    reason: str
    machine: str | None = None  # the state machine it leaves unaudited

    @property
    def message(self) -> str:
        if self.action is None:
            return one_line(f"cannot audit {self.resource}: {self.reason}")
        return one_line(f"cannot read {self.resource}: {self.action} failed: {self.reason}")


@dataclass(frozen=True)
class Machine:
    """A state machine as DescribeStateMachine returns it."""

    arn: str
    name: str
    partition: str
    region: str
    account: str
    role_arn: str
    definition: str = field(repr=False)
    type: str = "STANDARD"
    logging: Any = field(default=None, compare=False)
    tracing: Any = field(default=None, compare=False)
    encryption: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class Collected:
    listed: tuple[str, ...]  # every machine ARN listed, sorted
    machines: dict[str, Machine]  # those described, by ARN
    roles: dict[tuple[str, str], LiveRole]  # those read, by (account, role ARN)
    problems: tuple[Problem, ...]
    regions: tuple[str, ...]
    accounts: tuple[str, ...]
    counter: CallCounter


@dataclass(frozen=True)
class _Account:
    account: str | None  # None: the caller's own, unknown until its ARNs say
    clients: Clients
    regions: tuple[str, ...] = ()


def collect(options: AuditOptions, progress: Progress | None = None) -> Collected:
    """Read every state machine the options reach, and the role of each."""
    import_boto3()  # first: the except clauses below name botocore's errors
    counter = CallCounter.new()
    problems: list[Problem] = []
    base_region = options.regions[0] if options.regions else None
    base = Clients(_session(options.profile, base_region), counter, options.concurrency)
    region = base_region or _session_region(base)
    with ThreadPoolExecutor(max_workers=options.concurrency, thread_name_prefix="policygen-audit") as pool:
        accounts = _accounts(options, base, region, counter, problems, pool)
        accounts = [_with_regions(account, options, region, problems) for account in accounts]
        scopes = [(account, scope_region) for account in accounts for scope_region in account.regions]
        if not scopes:
            _nothing_listed(problems, "no account could be read")
        listings = list(pool.map(lambda scope: _list(scope[0], scope[1]), scopes))
        if all(isinstance(listing, Problem) for listing in listings):
            _nothing_listed([*problems, *listings], "no state machine could be listed")
        by_arn: dict[str, _Account] = {}
        for (account, _), listing in zip(scopes, listings, strict=True):
            if isinstance(listing, Problem):
                problems.append(listing)
                continue
            for arn in listing:
                by_arn.setdefault(arn, account)
        listed = sorted(by_arn)
        total = len(listed)
        done = _Ticker(progress, total)
        described = list(pool.map(lambda arn: done.tick(_describe(by_arn[arn], arn)), listed))
        machines = {item.arn: item for item in described if isinstance(item, Machine)}
        problems.extend(item for item in described if isinstance(item, Problem))
        roles, role_problems = _read_roles(machines, by_arn, pool)
        problems.extend(role_problems)
    return Collected(
        listed=tuple(listed),
        machines=machines,
        roles=roles,
        problems=tuple(problems),
        regions=tuple(sorted({r for account in accounts for r in account.regions})),
        accounts=tuple(sorted({m.account for m in machines.values()} | {a.account for a in accounts if a.account})),
        counter=counter,
    )


class _Ticker:
    """Calls `progress(done, total)` as each state machine is described, one thread at a time."""

    def __init__(self, progress: Progress | None, total: int):
        self._progress = progress
        self._total = total
        self._done = 0
        self._lock = threading.Lock()

    def tick(self, item: Any) -> Any:
        if self._progress is not None:
            with self._lock:
                self._done += 1
                self._progress(self._done, self._total)
        return item


def _session(profile: str | None, region: str | None) -> Any:
    try:
        return aws.new_session(profile, region)
    except aws_errors() as error:  # an unknown profile
        raise InputError(f"cannot start an AWS session: {one_line(str(error))}") from None


def _session_region(clients: Clients) -> str | None:
    return clients.region_name


def _nothing_listed(problems: Sequence[Problem], what: str) -> None:
    detail = f": {problems[0].message}" if problems else ""
    raise InputError(f"audit: {what}{detail}")


def _accounts(options: AuditOptions, base: Clients, region: str | None, counter: CallCounter, problems: list[Problem], pool: ThreadPoolExecutor) -> list[_Account]:
    if options.assume_role is None:
        return [_Account(None, base)]
    ids = list(options.accounts) if options.accounts else _organization_accounts(base, region)
    if not ids:
        raise InputError("audit: the organization lists no active account (organizations:ListAccounts)")
    assumed = list(pool.map(lambda account: _assume(base, account, options, region, counter), ids))
    problems.extend(item for item in assumed if isinstance(item, Problem))
    return [item for item in assumed if isinstance(item, _Account)]


def _organization_accounts(base: Clients, region: str | None) -> list[str]:
    """The organization's active accounts (organizations:ListAccounts, every page)."""
    try:
        accounts = pages(base.client("organizations", region), "list_accounts", "Accounts")
    except aws_errors() as error:  # every one means the same here: nothing to audit
        raise InputError(f"audit: cannot list the organization's accounts: {_reason(error)}") from None
    return sorted({account["Id"] for account in accounts if account.get("Status", "ACTIVE") == "ACTIVE"})


def role_to_assume(template: str, account: str, partition: str) -> str:
    """The ARN of the role to assume in `account`: a role name (or path/name), or an ARN template
    in which {account} is replaced."""
    if template.startswith("arn:"):
        arn = template.replace("{account}", account)
    else:
        arn = f"arn:{partition}:iam::{account}:role/{template.strip('/')}"
    if not _ROLE_ARN.match(arn):
        raise UsageError(f"--assume-role {template}: expected a role name or a role ARN with {{account}} (arn:aws:iam::{{account}}:role/NAME)")
    return arn


def _assume(base: Clients, account: str, options: AuditOptions, region: str | None, counter: CallCounter) -> _Account | Problem:
    from policygen.iam.aws_names import partition_of_region

    arn = role_to_assume(options.assume_role or "", account, partition_of_region(region) if region else "aws")
    try:
        answer = base.client("sts", region).assume_role(RoleArn=arn, RoleSessionName=SESSION_NAME)
    except aws_errors() as error:
        return Problem(arn, action_of_failed_call(error, "sts:AssumeRole"), _reason(error))
    credentials = answer["Credentials"]
    session = aws.new_session(
        region=region,
        credentials={
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        },
    )
    return _Account(account, Clients(session, counter, options.concurrency))


def _with_regions(account: _Account, options: AuditOptions, region: str | None, problems: list[Problem]) -> _Account:
    if options.regions:
        return _Account(account.account, account.clients, tuple(dict.fromkeys(options.regions)))
    if not options.all_regions:
        if region is None:
            raise UsageError("audit: no region: give --region REGION (repeatable), --all-regions, or set AWS_REGION")
        return _Account(account.account, account.clients, (region,))
    try:
        found = account.clients.client("ec2", region).describe_regions()["Regions"]
    except aws_errors() as error:
        problems.append(Problem(f"the regions of account {account.account or '(own)'}", action_of_failed_call(error, "ec2:DescribeRegions"), _reason(error)))
        return _Account(account.account, account.clients, ())
    return _Account(account.account, account.clients, tuple(sorted(item["RegionName"] for item in found)))


def _list(account: _Account, region: str) -> list[str] | Problem:
    try:
        listed = pages(account.clients.client("stepfunctions", region), "list_state_machines", "stateMachines")
    except aws_errors() as error:
        where = f"the state machines of account {account.account or '(own)'} in {region}"
        return Problem(where, action_of_failed_call(error, "states:ListStateMachines"), _reason(error))
    return [item["stateMachineArn"] for item in listed]


def _describe(account: _Account, arn: str) -> Machine | Problem:
    match = _MACHINE_ARN.match(arn)
    if match is None:
        return Problem(arn, None, "not a state machine ARN", arn)
    try:
        answer = account.clients.client("stepfunctions", match["region"]).describe_state_machine(stateMachineArn=arn)
    except aws_errors() as error:
        return Problem(arn, action_of_failed_call(error, "states:DescribeStateMachine"), _reason(error), arn)
    return Machine(
        arn=arn,
        name=match["name"],
        partition=match["partition"],
        region=match["region"],
        account=match["account"],
        role_arn=answer.get("roleArn", ""),
        definition=answer.get("definition", ""),
        type=answer.get("type", "STANDARD"),
        logging=answer.get("loggingConfiguration"),
        tracing=answer.get("tracingConfiguration"),
        encryption=answer.get("encryptionConfiguration"),
    )


def _read_roles(machines: dict[str, Machine], by_arn: dict[str, _Account], pool: ThreadPoolExecutor) -> tuple[dict[tuple[str, str], LiveRole], list[Problem]]:
    """Each distinct role once; a role that cannot be read is a problem of every machine using it."""
    wanted: dict[tuple[str, str], tuple[_Account, str]] = {}
    problems: list[Problem] = []
    for machine in machines.values():
        match = _ROLE_ARN.match(machine.role_arn)
        if match is None or match["account"] != machine.account:
            # Never read a role of the same name in the machine's account in its place.
            problems.append(Problem(machine.role_arn or "(no role)", None, "the execution role is not a role of the state machine's account", machine.arn))
            continue
        wanted.setdefault((machine.account, machine.role_arn), (by_arn[machine.arn], machine.region))
    keys = sorted(wanted)
    results = list(pool.map(lambda key: _read_role(*wanted[key], key[1]), keys))
    roles = {key: result for key, result in zip(keys, results, strict=True) if isinstance(result, LiveRole)}
    failed = {key: result for key, result in zip(keys, results, strict=True) if isinstance(result, Problem)}
    for machine in machines.values():
        problem = failed.get((machine.account, machine.role_arn))
        if problem is not None:
            problems.append(Problem(problem.resource, problem.action, problem.reason, machine.arn))
    return roles, problems


def _read_role(account: _Account, region: str, role_arn: str) -> LiveRole | Problem:
    name = _ROLE_ARN.match(role_arn)["name"]
    try:
        return read_role(account.clients.client("iam", region), name)
    except PolicygenError as error:  # a policy document that is not JSON
        return Problem(role_arn, "iam:GetRolePolicy", str(error))
    except aws_errors() as error:
        return Problem(role_arn, action_of_failed_call(error, "iam:GetRole"), _reason(error))


def _reason(error: Exception) -> str:
    if hasattr(error, "response") and isinstance(error.response, dict):
        code, message = client_error_parts(error)
        return f"{code}: {message}"
    return one_line(" ".join(str(error).split()))
