"""The integration tables (rules/integrations/<service>.yaml, schema in rules/integrations/README.md):
what each Step Functions integration but Batch's needs, per API and pattern, read on demand.

Batch keeps its own deeper table (requirements/table.py); the AWS SDK integrations and the state
machine's own features have their own modules. This module also answers the walk's question
"does Step Functions have this call?" (scan.Catalogue), so an unknown one is an error at its state.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from policygen.requirements.machine_table import task_call_problem
from policygen.rules_data import COMPILED, load_rules, rules_files
from policygen.scan import Pattern

# Tables with a schema of their own, read by other modules.
_OWN_SCHEMA = ("batch", "aws-sdk", "state-machine")
# What a form's templates may name besides its match's groups (which may not reuse these names).
_FORM_PLACEHOLDERS = frozenset({"partition", "region", "account", "value"})
_TEMPLATE_PART = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class Form:
    """A shape of a field's static value that names other resources than `name` would (README:
    "Forms"): Bedrock's inference profiles, which also need the foundation models they route to."""

    id: str
    match: re.Pattern[str]  # over the whole value; its named groups fill `names` and `note`
    names: tuple[str, ...]  # templates: {partition} {region} {account} {value} and the groups
    note: str | None  # what the state is told when this form applies (a grant beyond its Region)


@dataclass(frozen=True)
class FieldResource:
    """A resource (or a role passed) named by an argument of the state (README: "A field resource")."""

    field: str
    name: str | None  # the ARN a static name becomes ({value}), None when the field holds no name
    url: str | None  # a template a static value must match (an SQS queue URL, a state machine ARN)
    arn: bool  # a static ARN is used as written
    dynamic: str  # the documented fallback when the value is not known
    absent: str | None = None  # the name used when a static entry leaves the field out (EventBridge's "default" bus)
    forms: tuple[Form, ...] = ()  # tried in order before `name` and `arn`; the first that matches wins
    optional: bool = False  # a state that leaves the field out needs nothing here (Bedrock's Input.S3Uri)


@dataclass(frozen=True)
class Grant:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str | FieldResource, ...]
    conditions: tuple[tuple[str, str, Any], ...]  # (operator, key, value or {"field": path})
    why: str
    sources: tuple[str, ...]  # URLs
    verified: bool
    if_sent: str | None = None  # the grant is needed only by a state that sends this argument (ECS RunTask's Tags)


@dataclass(frozen=True)
class PassRole:
    role: FieldResource
    passed_to: str | None  # the iam:PassedToService value, only where AWS documents it
    why: str
    sources: tuple[str, ...]
    verified: bool


@dataclass(frozen=True)
class Api:
    patterns: tuple[str, ...]
    grants: dict[str, tuple[Grant, ...]]  # pattern -> grants
    pass_roles: tuple[PassRole, ...]
    notice: str | None  # what a reviewer must know that the state does not show


@dataclass(frozen=True)
class ResourceArn:
    """A Task Resource that is itself an ARN (a Lambda function, an activity)."""

    match: re.Pattern[str]
    grants: tuple[Grant, ...]
    dynamic: str | None  # the fallback for `{resource}` when the ARN is only known at deploy time


@dataclass(frozen=True)
class IntegrationTable:
    service: str
    title: str
    apis: dict[str, Api]
    resource_arns: tuple[ResourceArn, ...]


def optimized_services() -> tuple[str, ...]:
    """The services with a per-API table, e.g. ("apigateway", "athena", ..., "states")."""
    return tuple(name for name in rules_files(f"{COMPILED}/integrations", ".json") if name not in _OWN_SCHEMA)


@cache
def known_services() -> frozenset[str]:
    """Every integration name a Task Resource can carry: Batch, the optimized integrations, and the
    AWS SDK services (by their IAM prefixes, and the SDK names that differ from them)."""
    sdk = load_rules("integrations/aws-sdk.yaml")
    return frozenset(
        {"batch", *optimized_services(), *rules_files("catalog", ".json"), *(entry["sdk"] for entry in sdk["iam-prefixes"])}
    )


@cache
def integration_table(service: str) -> IntegrationTable | None:
    if service not in optimized_services():
        return None
    data = load_rules(f"integrations/{service}.yaml")
    sources = data["sources"]
    return IntegrationTable(
        service=service,
        title=data["title"],
        apis={name: _api(spec, sources, service, f"apis.{name}") for name, spec in data["apis"].items()},
        resource_arns=tuple(
            ResourceArn(_arn_match(entry["match"]), _grants(entry["grants"], sources, service, "resource-arns"), entry.get("dynamic"))
            for entry in data.get("resource-arns", ())
        ),
    )


def _api(spec: dict, sources: dict[str, str], service: str, where: str) -> Api:
    return Api(
        patterns=tuple(spec["patterns"]),
        grants={pattern: _grants(rows, sources, service, where) for pattern, rows in spec["grants"].items()},
        pass_roles=tuple(
            PassRole(
                role=_field_resource(entry, f"{service}.yaml {where}.pass-role"),
                passed_to=entry.get("passed-to"),
                why=entry.get("why", ""),
                sources=_urls(entry["sources"], sources),
                verified="verified" in entry,
            )
            for entry in spec.get("pass-role", ())
        ),
        notice=spec.get("notice"),
    )


def _grants(rows: list[dict], sources: dict[str, str], service: str, where: str) -> tuple[Grant, ...]:
    return tuple(
        _managed_rule(row, sources, service) if "managed-rule" in row else _statement(row, sources, f"{service}.yaml {where} {row['sid']}")
        for row in rows
    )


def _statement(row: dict, sources: dict[str, str], where: str) -> Grant:
    return Grant(
        sid=row["sid"],
        actions=tuple(row["actions"]),
        resources=tuple(item if isinstance(item, str) else _field_resource(item, where) for item in row["resources"]),
        conditions=tuple(
            (operator, key, value)
            for operator, keys in sorted(row.get("conditions", {}).items())
            for key, value in sorted(keys.items())
        ),
        why=row["why"],
        sources=_urls(row["sources"], sources),
        verified="verified" in row,
        if_sent=row.get("if-sent"),
    )


# What a managed rule stands for, in Batch's order (rules/integrations/batch.yaml), so the same
# actions read the same everywhere.
MANAGED_RULE_ACTIONS = ("events:PutTargets", "events:PutRule", "events:DescribeRule")


def _managed_rule(row: dict, sources: dict[str, str], service: str) -> Grant:
    """The EventBridge rule Step Functions manages to learn that a `.sync` job ended (README: managed rule)."""
    rule = row["managed-rule"]
    return Grant(
        sid=f"{camel_case(service)}ManagedRule",
        actions=MANAGED_RULE_ACTIONS,
        resources=(f"arn:{{partition}}:events:{{region}}:{{account}}:rule/{rule}",),
        conditions=(),
        why=row.get("why") or f"Step Functions learns that the job ended through its managed EventBridge rule {rule}.",
        sources=_urls(row["sources"], sources),
        verified="verified" in row,
    )


def _field_resource(item: dict, where: str) -> FieldResource:
    return FieldResource(
        field=item["field"],
        name=item.get("name"),
        url=item.get("url"),
        arn=bool(item.get("arn", True)),  # a pass-role entry without `arn` holds a role ARN
        dynamic=item["dynamic"],
        absent=item.get("absent"),
        optional=item.get("optional") is True,
        forms=tuple(_form(entry, f"rules/integrations/{where} {item['field']}") for entry in item.get("forms", ())),
    )


def _form(entry: dict, where: str) -> Form:
    """One `forms` entry, checked now: a table that cannot be applied fails at load, not at a state."""
    where = f"{where} form {entry.get('id')!r}"
    try:
        match = re.compile(entry["match"])
    except re.error as error:
        raise ValueError(f"{where}: match {entry['match']!r} is not a regular expression ({error})") from None
    groups = set(match.groupindex)
    if groups & _FORM_PLACEHOLDERS:
        raise ValueError(f"{where}: a group of match may not be named {', '.join(sorted(groups & _FORM_PLACEHOLDERS))} (a placeholder)")
    names = tuple(entry["names"])
    if not names:
        raise ValueError(f"{where}: names is empty")
    for template in (*names, entry.get("note") or ""):
        unknown = sorted(set(_TEMPLATE_PART.findall(template)) - _FORM_PLACEHOLDERS - groups)
        if unknown:
            raise ValueError(f"{where}: {template!r} uses {{{unknown[0]}}}, which is neither a placeholder nor a group of its match")
    return Form(entry["id"], match, names, entry.get("note"))


def camel_case(service: str) -> str:
    """"emr-serverless" -> "EmrServerless": a service as the start of a Sid."""
    return "".join(part.capitalize() for part in re.split(r"[-_]", service))


def _urls(ids: list[str], sources: dict[str, str]) -> tuple[str, ...]:
    return tuple(sources[source_id] for source_id in ids)


def _arn_match(pattern: str) -> re.Pattern[str]:
    """A `resource-arns` match (`arn:{partition}:lambda:*:*:function:*`) as a regex over Resources."""
    return re.compile(fnmatch.translate(pattern.replace("{partition}", "*")))


class TableCatalogue:
    """The walk's Catalogue (scan.Catalogue), answered from the tables."""

    def __init__(self, sdk_problem=None) -> None:
        # The AWS SDK integrations are checked by their own module (requirements/sdk.py).
        self.sdk_problem = sdk_problem

    def call_problem(self, service: str, api: str, pattern: Pattern) -> str | None:
        if service == "aws-sdk":
            return self.sdk_problem(api) if self.sdk_problem is not None else None
        machine_problem = task_call_problem(service, api, pattern)  # the HTTP Task: state-machine.yaml
        if machine_problem != "":
            return machine_problem
        table = integration_table(service)
        if table is None:
            return f"Step Functions has no optimized integration {service!r} that policygen knows (known: {', '.join(optimized_services())})"
        spec = table.apis.get(api)
        if spec is None:
            return f"{table.title} has no Step Functions API {api!r} that policygen knows (known: {', '.join(sorted(table.apis))})"
        if pattern.value not in spec.patterns:
            return f"{table.title} {api} does not support the {pattern.value} pattern (it supports {', '.join(spec.patterns)})"
        return None

    def arn_service(self, resource: str) -> str | None:
        return next((service for service in optimized_services() if resource_arn_entry(service, resource)), None)


def resource_arn_entry(service: str, resource: str) -> ResourceArn | None:
    """The `resource-arns` entry of a service's table that a Resource ARN matches, if any."""
    table = integration_table(service)
    if table is None:
        return None
    return next((entry for entry in table.resource_arns if entry.match.fullmatch(resource)), None)
