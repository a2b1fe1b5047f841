"""What lint asks the evaluator: the authorization checks a state's calls cause (action, resource,
request context), from the same table the generator writes policies from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from functools import lru_cache

from policygen.iam.arns import arn_resource
from policygen.requirements.markers import ANY_NAME, UNKNOWN_ACCOUNT, UNKNOWN_REGION
from policygen.requirements.needs import Condition, Need, Options, needs_of
from policygen.requirements.table import (
    FINE_GRAINED,
    Dispute,
)
from policygen.requirements.target import Target
from policygen.scan import BatchTask, FieldValue, Pattern, ServiceTask, Tag


@dataclass(frozen=True)
class Access:
    """One authorization check a Batch state's call causes: an action on a resource, with the
    request context IAM sees (docs/aws-facts.md#documented-policies,
docs/aws-facts.md#fine-grained-scoping).

    `resources` are concrete representative ARNs; the check passes when the policy allows any one
    of them (one for the optimised integrations; for an SDK call, each resource type the action
    may touch, since which one it touches depends on its arguments)."""

    task: BatchTask | ServiceTask
    action: str
    resources: tuple[str, ...]
    patterns: tuple[str, ...]  # the resource patterns they stand for, as the fine-grained policy writes them
    # False when the state does not name the resource (a queue known only at run time, the target of
    # an SDK call): a policy that names specific resources may still be right.
    exact: bool
    context: tuple[tuple[str, tuple[str, ...]], ...]  # condition keys known for the request, with their values
    known_keys: frozenset[str]  # key patterns whose absence from `context` is known
    open_parts: frozenset[str]  # "region", "account": not known, left open when matching
    why: str
    source: str
    # Set when AWS's documents disagree whether the call needs this resource at all.
    dispute: Dispute | None = None
    # The action has no resource-level permissions (no resource types in the Service Authorization
    # Reference): IAM matches it only with a Resource of "*".
    resourceless: bool = False
    # The fine-grained need the request comes from: its Sid and conditions (what `lint --fix`
    # writes when the role lacks the request).
    sid: str = ""
    conditions: tuple[Condition, ...] = ()
    # Why a request that is not `exact` may still be allowed by a role naming specific resources
    # (PG203's reason; "" where lint/checks/common.py's unnamed_reason says it from the Batch state).
    unnamed: str = ""


def requests_of(task: BatchTask, target: Target) -> list[Access]:
    """The concrete requests `task` makes, derived from its fine-grained needs (the one table)."""
    from policygen.iam import catalog

    accesses: list[Access] = []
    open_parts = frozenset(name for name in ("region", "account") if getattr(target, name) is None)
    for need in needs_of(task, Options(mode=FINE_GRAINED)):
        patterns = _requested_patterns(need, task)
        for action in need.actions:
            context, known = _request_context(task, action, target)
            if task.pattern is Pattern.SDK and action == task.action and need.resources == _sdk_resources(action, catalog):
                groups = [tuple(patterns)]  # any one of the action's resource types
            else:
                groups = [(pattern,) for pattern in patterns]
            resourceless = _resourceless(action)
            for group in groups:
                filled = tuple(_fill(pattern, target) for pattern in group)
                accesses.append(
                    Access(
                        task=task,
                        action=action,
                        resources=tuple(filled_pattern.replace("*", ANY_NAME) if filled_pattern != "*" else "*" for filled_pattern in filled),
                        patterns=filled,
                        exact=all(_names_known(pattern) for pattern in group),
                        context=context,
                        known_keys=known,
                        open_parts=open_parts if any(_uses_target(pattern) for pattern in group) else frozenset(),
                        why=need.why,
                        source=need.source,
                        dispute=_dispute(need, group),
                        resourceless=resourceless,
                        sid=need.sid,
                        conditions=need.conditions,
                    )
                )
    return accesses


def requests_of_tasks(tasks: Iterable[BatchTask], target: Target) -> list[Access]:
    """requests_of for every task, in order. The states of a large definition send a few distinct
    sets of values: each set's requests are made once, and copied for each further state that sends it."""
    made: dict[tuple, list[Access]] = {}
    found: list[Access] = []
    for task in tasks:
        signature = _signature(task)
        accesses = made.get(signature)
        if accesses is None:
            accesses = made[signature] = requests_of(task, target)
            found.extend(accesses)
        else:
            found.extend(_for_task(access, task) for access in accesses)
    return found


def _signature(task: BatchTask) -> tuple:
    """Every field of a task but where the state is (its machine, file, path and pointer, and its
    values' pointers): states with one signature make the same requests. Built from the fields
    themselves, so a field BatchTask gains is part of it."""
    return tuple(_without_location(getattr(task, name)) for name in _TASK_FIELDS)


def _without_location(value: object) -> object:
    if isinstance(value, FieldValue):
        return tuple(getattr(value, name) for name in _VALUE_FIELDS)
    if isinstance(value, Tag):
        return value.key, _without_location(value.value)
    if isinstance(value, tuple):
        return tuple(_without_location(item) for item in value)
    return value


_TASK_FIELDS = tuple(field.name for field in fields(BatchTask) if field.name not in ("machine", "file", "path", "pointer"))
_VALUE_FIELDS = tuple(field.name for field in fields(FieldValue) if field.name != "pointer")


def _for_task(access: Access, task: BatchTask) -> Access:
    """The same request, made by `task` (the frozen dataclass's __init__ would set each field
    through object.__setattr__ again)."""
    copy = object.__new__(Access)
    copy.__dict__.update(access.__dict__)
    copy.__dict__["task"] = task
    return copy


def _dispute(need: Need, group: tuple[str, ...]) -> Dispute | None:
    """The table's dispute about the one resource a request stands for (None for a request that may
    touch any of several resources, such as an SDK call's)."""
    if len(group) != 1:
        return None
    return next((dispute for dispute in need.disputes if dispute.covers(group[0])), None)


@lru_cache(maxsize=256)
def _resourceless(action: str) -> bool:
    """Whether the Service Authorization Reference lists no resource types for the action (it is
    allowed only by Resource "*"); False for an action outside the catalogue."""
    entry = _catalogue_entry(action)
    return entry is not None and not entry["resourceTypes"]


def _catalogue_entry(action: str) -> dict | None:
    from policygen.iam import catalog

    prefix, _, name = action.partition(":")
    catalogue = catalog.service(prefix)
    return catalogue.actions.get(name) if catalogue is not None else None


# The Service Authorization Reference lists these keys for every action whose request carries tags.
_REQUEST_TAG_KEYS = {"aws:RequestTag/${TagKey}": "aws:RequestTag/*", "aws:TagKeys": "aws:TagKeys"}


@lru_cache(maxsize=256)
def _keys_never_sent(action: str) -> frozenset[str]:
    """Tag condition keys that no request of `action` carries, per the Service Authorization
    Reference (rules/catalog/): aws:RequestTag/* and aws:TagKeys for an action that does not list
    them (it takes no tags), aws:ResourceTag/* for an action without resource types (there is no
    resource to have tags). Empty for an action outside the catalogue."""
    entry = _catalogue_entry(action)
    if entry is None:
        return frozenset()
    listed = set(entry["conditionKeys"])
    absent = {key for listed_as, key in _REQUEST_TAG_KEYS.items() if listed_as not in listed}
    if not entry["resourceTypes"]:
        absent.add("aws:ResourceTag/*")
    return frozenset(absent)


def _sdk_resources(action: str, catalog) -> tuple[str, ...]:
    try:
        return catalog.resource_patterns(action)
    except KeyError:
        return ()


def _requested_patterns(need: Need, task: BatchTask) -> list[str]:
    patterns = []
    for pattern in need.resources:
        # docs/aws-facts.md#job-definition-revisions: a job definition named without revision is requested at its latest
        # revision, `name:<revision>`; the generator also allows the unrevisioned form, which the
        # request does not need.
        if f"{pattern}:*" in need.resources:
            continue
        # The fine-grained table allows consumable-resource/* in case the job definition uses any;
        # a role without it is not wrong unless the state names consumable resources itself.
        if pattern.endswith(":consumable-resource/*") and not task.consumable_resources:
            continue
        patterns.append(pattern)
    return patterns


def _names_known(pattern: str) -> bool:
    """Whether the resource pattern names what the state uses: `job/*` does (job ids are made at
    run time, so every role needs them all, docs/aws-facts.md#fine-grained-scoping), `job-definition/d:*` does (any
    revision), `job-queue/*` does not (the state's queue is not known)."""
    if pattern == "*" or "*" not in pattern:
        return True
    resource = arn_resource(pattern)
    kind, _, name = resource.partition("/")
    return kind == "job" or name != "*"


def _uses_target(pattern: str) -> bool:
    return "{region}" in pattern or "{account}" in pattern


def _fill(pattern: str, target: Target) -> str:
    return (
        pattern.replace("{partition}", target.partition)
        .replace("{region}", target.region or UNKNOWN_REGION)
        .replace("{account}", target.account or UNKNOWN_ACCOUNT)
    )


def _request_context(task: BatchTask, action: str, target: Target) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], frozenset[str]]:
    """The condition keys a request of `task` carries, and the keys known to be absent.

    SubmitJob and TagResource carry the tags the state sends as aws:RequestTag/<key> and
    aws:TagKeys; TerminateJob acts on the job, which has those tags as aws:ResourceTag/<key>
    (docs/aws-facts.md#share-identifier); SubmitJob carries a static ShareIdentifier as batch:ShareIdentifier.
    An action that takes no tags (DescribeJobs, TerminateJob) carries no aws:RequestTag/aws:TagKeys
    at all: IAM's rules for a missing key then decide the condition (_keys_never_sent)."""
    context: dict[str, tuple[str, ...]] = {}
    known: set[str] = set(_keys_never_sent(action))
    if target.region is not None:
        context["aws:RequestedRegion"] = (target.region,)
    tags_static = task.dynamic_tags is None and all(tag.value.is_static for tag in task.tags)
    name = action.partition(":")[2]
    if name in ("SubmitJob", "TagResource"):
        for tag in task.tags:
            if tag.value.is_static:
                context[f"aws:RequestTag/{tag.key}"] = (tag.value.text,)
        if task.dynamic_tags is None:
            if task.tags:
                context["aws:TagKeys"] = tuple(sorted(tag.key for tag in task.tags))
            else:
                known.add("aws:TagKeys")
            if tags_static:
                known.add("aws:RequestTag/*")
    if name == "SubmitJob":
        share = task.share_identifier
        if share is None:
            known.add("batch:ShareIdentifier")
        elif share.is_static:
            context["batch:ShareIdentifier"] = (share.text,)
    if name == "TerminateJob" and task.pattern is not Pattern.SDK:
        # The job Step Functions stops is the one the state submitted, with the state's tags.
        for tag in task.tags:
            if tag.value.is_static:
                context[f"aws:ResourceTag/{tag.key}"] = (tag.value.text,)
        if tags_static:
            known.add("aws:ResourceTag/*")
    return tuple(sorted(context.items())), frozenset(known)
