"""What lint asks the evaluator for every Task state but Batch's own: the requests its needs stand
for, from the same needs the generator writes (requirements/whole_role.py), so that a need the
dispatcher learns (an AWS SDK call, a state machine feature) is linted without more code here.

A resource the definition names is an exact request: a role that does not allow it is wrong. A
resource the policy can only write in a documented broad form (the table's fallback for a value
known at run time, or a documented `*`) is not: a role naming specific resources there may be
right, and lint says it cannot tell (PG203) rather than call it wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import cache

from policygen.errors import Location, Notice
from policygen.requirements import markers
from policygen.requirements.deploy_time import DeployTimeValues
from policygen.requirements.integrations import FieldResource, camel_case, integration_table, resource_arn_entry
from policygen.requirements.markers import ANY_NAME
from policygen.requirements.needs import Condition, Need
from policygen.requirements.requests import Access, _fill, _resourceless, _uses_target
from policygen.requirements.target import Target
from policygen.requirements.whole_role import whole_role_needs
from policygen.scan import ServiceTask, ValueKind

# Operators whose values a request that meets them carries as they are written (a Like value's `*`
# stands for any text: the request carries a stand-in for it).
_CARRIED = {"StringEquals": False, "ArnEquals": False, "StringLike": True, "ArnLike": True}


def service_requests(services: Iterable[ServiceTask], target: Target, deploy_time: DeployTimeValues | None = None) -> list[Access]:
    """The requests of every service task, in the order of their needs."""
    # The generator's warnings about fallbacks are not repeated: lint reports such a request itself
    # when the role does not allow its documented form (PG101, or PG203 where it names others).
    notices: list[Notice] = []
    return [access for need in whole_role_needs(services, deploy_time, notices) for access in _accesses(need, target, deploy_time)]


def unseen_needs(services: Iterable[ServiceTask], locate: Callable[[ServiceTask], Location]) -> list[Notice]:
    """What the tables say a state may need beyond what it shows (an ECS task definition's roles,
    passed too): lint cannot check those requests, and says so."""
    found = []
    for task in services:
        table = integration_table(task.service)
        api = table.apis.get(task.api) if table is not None else None
        if api is not None and api.notice:
            found.append(Notice(f"state {task.path!r} ({task.resource}): {api.notice}", locate(task)))
    return found


def _accesses(need: Need, target: Target, deploy_time: DeployTimeValues | None) -> list[Access]:
    task = need.task
    context, known = _context(need.conditions, target)
    accesses = []
    for group in _groups(need.resources):
        broad = [reason for reason in (_broad_reason(need, pattern) for pattern in group) if reason is not None]
        if deploy_time is not None and isinstance(task, ServiceTask) and len(group) == 1 and group[0] in _fallbacks(need):
            group = (*_references(task, _fallbacks(need)[group[0]], deploy_time), *group)
        filled = tuple(_fill(pattern, target) for pattern in group)
        for action in need.actions:
            accesses.append(
                Access(
                    task=task,  # type: ignore[arg-type]
                    action=action,
                    resources=tuple(pattern if pattern == "*" else pattern.replace("*", ANY_NAME) for pattern in filled),
                    patterns=filled,
                    exact=not broad,
                    context=context,
                    known_keys=known,
                    open_parts=_open_parts(target) if any(_uses_target(pattern) for pattern in group) else frozenset(),
                    why=need.why,
                    source=need.source,
                    resourceless=_resourceless(action),
                    sid=need.sid,
                    conditions=need.conditions,
                    unnamed=_unnamed(action, broad[0]) if broad else "",
                )
            )
    return accesses


def _groups(resources: tuple[str, ...]) -> list[tuple[str, ...]]:
    """One request per resource; a name written both bare and as `name:*` (an ECS task definition
    family and its revisions, which AWS's pages disagree about) is one request either form allows."""
    groups = []
    for pattern in resources:
        if pattern.endswith(":*") and pattern[:-2] in resources:
            continue
        groups.append((pattern, f"{pattern}:*") if f"{pattern}:*" in resources else (pattern,))
    return groups


def _open_parts(target: Target) -> frozenset[str]:
    return frozenset(name for name in ("region", "account") if getattr(target, name) is None)


def _context(conditions: tuple[Condition, ...], target: Target) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], frozenset[str]]:
    """The condition keys the request carries: the values the table's conditions require are those
    Step Functions sends (iam:PassedToService is the service the role is passed to). Other keys
    are unknown to policygen: a role conditioned on them cannot be decided (PG203)."""
    context: dict[str, tuple[str, ...]] = {}
    if target.region is not None:
        context["aws:RequestedRegion"] = (target.region,)
    for operator, key, values in conditions:
        if operator not in _CARRIED or key in context:
            continue
        filled = tuple(_fill(value, target) for value in values)
        context[key] = tuple(value.replace("*", ANY_NAME) for value in filled) if _CARRIED[operator] else filled
    return tuple(sorted(context.items())), frozenset()


def _broad_reason(need: Need, pattern: str) -> str | None:
    """Why a need's resource does not name what the state uses ("fallback:<fields>" or
    "documented"), or None when it does."""
    task = need.task
    if not isinstance(task, ServiceTask):  # a need of another kind of record (a state machine feature)
        return "documented" if "*" in pattern else None
    fallbacks, fixed = _table_forms(task.service, task.api, task.pattern.value).get(need.sid, ({}, frozenset()))
    if pattern in fallbacks and pattern not in fixed:
        return "fallback:" + " or ".join(dict.fromkeys(field.field for field in fallbacks[pattern]))
    if pattern == "*" or ("*" in pattern and (pattern in fixed or integration_table(task.service) is None)):
        return "documented"
    if "*" in pattern and any(form.fullmatch(pattern) for form in _broad_form_names(task.service, task.api, task.pattern.value).get(need.sid, ())):
        return "documented"  # a form's own wildcard (a foundation model in every Region): not a name the state gave
    return None


def _unnamed(action: str, reason: str) -> str:
    if reason.startswith("fallback:"):
        return (
            f"the definition does not name the resource ({reason.partition(':')[2]} is not a static name), and the "
            f"role allows {action} only on some resources: check that every value it can take is among them"
        )
    return (
        f"the call's resource is written in its documented broad form, and the role allows {action} only on some "
        "resources: check that they cover what the state acts on"
    )


@cache
def _table_forms(service: str, api: str, pattern: str) -> dict[str, tuple[dict[str, tuple[FieldResource, ...]], frozenset[str]]]:
    """Per Sid of one call's grants in its table: (fallback resource -> the field resources that
    fall back to it, fixed resources)."""
    table = integration_table(service)
    if table is None:
        return {}
    rows: list[tuple[str, tuple[str | FieldResource, ...]]] = []
    if api.startswith("arn:"):
        entry = resource_arn_entry(service, api)
        if entry is None:
            return {}
        field = FieldResource("Resource", None, None, True, entry.dynamic or "*")
        rows = [(grant.sid, tuple(field if r == "{resource}" else r for r in grant.resources)) for grant in entry.grants]
    elif api in table.apis:
        spec = table.apis[api]
        rows = [(grant.sid, grant.resources) for grant in spec.grants.get(pattern, ())]
        rows += [(f"{camel_case(service)}PassRole", (pass_role.role,)) for pass_role in spec.pass_roles]
    fallbacks: dict[str, dict[str, list[FieldResource]]] = {}
    fixed: dict[str, set[str]] = {}
    for sid, resources in rows:
        for item in resources:
            if isinstance(item, str):
                fixed.setdefault(sid, set()).add(item)
            else:
                fallbacks.setdefault(sid, {}).setdefault(item.dynamic, []).append(item)
    return {
        sid: ({name: tuple(items) for name, items in fallbacks.get(sid, {}).items()}, frozenset(fixed.get(sid, ())))
        for sid in dict.fromkeys(sid for sid, _ in rows)
    }


@cache
def _broad_form_names(service: str, api: str, pattern: str) -> dict[str, tuple[re.Pattern[str], ...]]:
    """Per Sid of one call's grants: the names its fields' forms write with a `*` of their own, as
    patterns over a need's resources (the value and the groups stand for any text without `*`)."""
    table = integration_table(service)
    spec = table.apis.get(api) if table is not None else None
    found: dict[str, list[re.Pattern[str]]] = {}
    for grant in spec.grants.get(pattern, ()) if spec is not None else ():
        for item in grant.resources:
            for form in item.forms if isinstance(item, FieldResource) else ():
                for name in form.names:
                    parts = re.split(r"\{(?:" + "|".join(map(re.escape, ("value", *form.match.groupindex))) + r")\}", name)
                    if any("*" in part for part in parts):
                        found.setdefault(grant.sid, []).append(re.compile("[^*]+".join(map(re.escape, parts))))
    return {sid: tuple(dict.fromkeys(patterns)) for sid, patterns in found.items()}


def _fallbacks(need: Need) -> dict[str, tuple[FieldResource, ...]]:
    """The need's fallback resources, each with the field resources that fall back to it."""
    task = need.task
    return _table_forms(task.service, task.api, task.pattern.value).get(need.sid, ({}, frozenset()))[0]


# A template value that is one reference: `${Name}` (Ref) or `${Name.Attribute}` (Fn::GetAtt).
_REFERENCE = re.compile(r"\$\{(?P<name>[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)?)\}")


def _references(task: ServiceTask, fields: tuple[FieldResource, ...], deploy_time: DeployTimeValues) -> tuple[str, ...]:
    """The linter's stand-ins for the template values a fallback stands for, tried before the
    fallback, which still allows them: a value that is an ARN as a whole (`!GetAtt Fn.Arn`, or
    `!Ref Topic` of a resource whose Ref is its ARN) as that reference, and one resource's name
    (`!Ref Table` of a DynamoDB table) in the ARN the field's name makes of it, in the stack's own
    Region and account, and a queue's URL (`!Ref Queue`) as its `Arn`. A role writing the same
    reference allows it exactly; one writing it
    another way (`!GetAtt Table.Arn` for the name) stays "cannot verify", never a guessed match."""
    found = []
    for field in fields:
        if field.field == "Resource" and task.api.startswith("arn:"):
            texts = [task.resource]
        else:
            texts = [value.text for value in task.field_values(field.field) if value.kind is ValueKind.DEPLOY_TIME]
        for text in texts:
            match = _REFERENCE.fullmatch(text)
            if match is None:
                continue
            kind = deploy_time.resource_reference_kind(task.file, task.machine, text)
            if (field.field == "Resource" and task.api.startswith("arn:")) or (field.arn and (match["name"].endswith(".Arn") or kind == "arn")):
                found.append(markers.reference(deploy_time.canonical_reference(task.file, task.machine, match["name"])))
            elif kind == "name" and field.name is not None and field.name.endswith("{value}") and field.url is None:
                found.append(field.name.replace("{value}", markers.reference(match["name"])))
            elif kind == "url" and field.url is not None:  # a queue's URL names the queue its Arn names
                logical_id = match["name"].partition(".")[0]
                found.append(markers.reference(deploy_time.canonical_reference(task.file, task.machine, f"{logical_id}.Arn")))
    return tuple(dict.fromkeys(found))
