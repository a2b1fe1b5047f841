"""Batch states -> the policy they need (generate.policy), with warnings about what it cannot say."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from policygen.errors import Location, Notice, UsageError
from policygen.generate.policy import Policy, generate_policy_document
from policygen.iam.json_text import size_without_whitespace
from policygen.requirements.needs import Need, Options, missing_required_tags, needs_of_all
from policygen.requirements.table import FINE_GRAINED
from policygen.requirements.target import Target, resolve_target
from policygen.requirements.whole_role import whole_role_needs
from policygen.scan import BatchTask, Pattern, ServiceTask, ValueKind
from policygen.scan.features import MachineFeature

# docs/aws-facts.md#policy-size-limits: IAM counts a policy's characters without whitespace.
MANAGED_POLICY_LIMIT = 6_144
INLINE_POLICIES_LIMIT = 10_240


@dataclass(frozen=True)
class Generated:
    policy: Policy
    target: Target
    tasks: tuple[BatchTask, ...]
    warnings: tuple[Notice, ...]
    services: tuple[ServiceTask, ...] = ()


def generate_policy(
    tasks: Iterable[BatchTask],
    region: str | None = None,
    account: str | None = None,
    environment: Mapping[str, str] | None = None,
    source_names: Iterable[str] = (),
    options: Options = Options(),
    allow_untagged: bool = False,
    partition: str | None = None,
    target: Target | None = None,
    services: Iterable[ServiceTask] = (),
    only_services: frozenset[str] | None = None,
    features: Iterable[MachineFeature] = (),
    redrive: bool = False,
) -> Generated:
    """The policy `tasks` need, in the mode `options` asks for, with the warnings a reviewer needs.

    In fine-grained mode with required tags, a SubmitJob state that does not send them would be
    denied at run time (docs/aws-facts.md#fine-grained-scoping): a UsageError, or a warning with `allow_untagged`.
    `target`, when given, replaces the region/account/partition resolution (CloudFormation and
    Terraform output write pseudo parameters and data sources there). `features` are the machines'
    own (scan/features.py); `redrive` adds what redriving their Distributed Maps needs."""
    tasks = tuple(tasks)
    services = tuple(services)
    features = tuple(features)
    warnings: list[Notice] = []
    if target is None:
        target = resolve_target((*tasks, *services), region, account, environment or {}, partition)
    warnings.extend(_untagged_states(tasks, options, allow_untagged))
    for task in tasks:
        if task.dynamic_tags is not None and task.action == "batch:SubmitJob":
            unknown, case = (
                ("a tag key is only known at deploy time", "whatever key it gets")
                if task.dynamic_tags.kind is ValueKind.DEPLOY_TIME
                else ("which tags the job gets is only known at run time", "in case it sends any")
            )
            warnings.append(
                Notice(
                    f"state {task.path!r}: {unknown} "
                    f"({task.dynamic_tags.field}: {task.dynamic_tags.text}); allowing batch:TagResource on "
                    f"job/* with no tag conditions {case}",
                    Location(task.file, pointer=task.dynamic_tags.pointer),
                )
            )
    warnings.extend(_assumed_roles(tasks))
    warnings.extend(_sdk_submit_jobs(tasks, options))
    found = needs_of_all(tasks, options)
    warnings.extend(found.notices)
    found.needs.extend(whole_role_needs((*services, *features), options.deploy_time, warnings, target, redrive))
    for record in (*services, *features):
        record.detach()  # its needs are made: the parsed document may go (one input at a time with -o DIR)
    if not tasks and not services and not found.needs:
        names = ", ".join(source_names) or "the input"
        warnings.insert(0, Notice(f"no Task state found in {names}: the policy is empty"))
    needs = found.needs if only_services is None else _only_services(found.needs, only_services, warnings)
    policy = generate_policy_document(needs, target)
    warnings.extend(_size_warnings(policy))
    return Generated(policy, target, tasks, tuple(warnings), services)


def _only_services(needs: list[Need], only: frozenset[str], warnings: list[Notice]) -> list[Need]:
    """--services: the needs of the integrations listed (iam:PassRole and the managed EventBridge
    rules go with the integration that needs them), and a warning naming what is left out: the
    role needs it from another policy, or those states fail."""
    kept, left_out = [], {}
    for need in needs:
        service = _service_of(need)
        if service in only:
            kept.append(need)
        else:
            left_out.setdefault(service, []).append(need.task.path)
    for service, paths in sorted(left_out.items()):
        states = ", ".join(repr(path) for path in dict.fromkeys(paths))
        warnings.append(Notice(f"--services leaves out {service} (needed by state(s) {states}): the role needs it from another policy"))
    return kept


def _service_of(need: Need) -> str:
    task = need.task
    if isinstance(task, BatchTask):
        return "batch"
    return task.api.partition(":")[0] if task.service == "aws-sdk" else task.service


def _assumed_roles(tasks: tuple[BatchTask, ...]) -> list[Notice]:
    """A state with `Credentials` calls Batch as the role it assumes, not as the execution role: the
    policy is right for that role, and the execution role needs sts:AssumeRole on it instead. Say
    so rather than let a policy for the wrong role pass quietly."""
    return [
        Notice(
            f"state {task.path!r} calls Batch with the credentials of another role ({task.credentials.field}: "
            f"{task.credentials.text}): its permissions in this policy belong on that role, and the execution "
            "role needs sts:AssumeRole on it instead, which this policy does not grant",
            Location(task.file, pointer=task.credentials.pointer),
        )
        for task in tasks
        if task.credentials is not None
    ]


def _sdk_submit_jobs(tasks: tuple[BatchTask, ...], options: Options) -> list[Notice]:
    """Fine-grained mode narrows the optimized integration only: an aws-sdk:batch:submitJob keeps
    the documented SubmitJob on every resource type, which also lets the other states' SubmitJob
    past their queue, job-definition and tag restrictions. Say so rather than let it pass quietly."""
    if options.mode != FINE_GRAINED:
        return []
    return [
        Notice(
            f"state {task.path!r} calls SubmitJob through the AWS SDK integration ({task.resource}), which "
            "fine-grained mode grants as documented (any queue and job definition, no tag condition): that "
            "grant also covers the other states' SubmitJob; use arn:aws:states:::batch:submitJob to narrow it",
            Location(task.file, pointer=task.pointer),
        )
        for task in tasks
        if task.pattern is Pattern.SDK and task.action == "batch:SubmitJob"
    ]


def _untagged_states(tasks: tuple[BatchTask, ...], options: Options, allow_untagged: bool) -> list[Notice]:
    if not options.required_tags:
        return []  # no --tag: no state can miss one
    notices = []
    for task in tasks:
        missing = missing_required_tags(task, options.required_tags)
        if not missing:
            continue
        tags = ", ".join(f"{key}={value}" for key, value in missing)
        message = (
            f"state {task.path!r} does not send the tag(s) {tags} in its Tags, so the "
            f"aws:RequestTag condition would deny its SubmitJob at run time"
        )
        location = Location(task.file, pointer=task.pointer)
        if not allow_untagged:
            raise UsageError(message, location, hint="add the tags to the state, or pass --allow-untagged")
        notices.append(Notice(message, location))
    return notices


def _size_warnings(policy: Policy) -> list[Notice]:
    size = size_without_whitespace(policy.json_text)
    if size <= MANAGED_POLICY_LIMIT:
        return []
    return [
        Notice(
            f"the policy has {size:,} characters (whitespace not counted): more than the {MANAGED_POLICY_LIMIT:,} "
            f"of a managed policy" + (f" and the {INLINE_POLICIES_LIMIT:,} of a role's inline policies" if size > INLINE_POLICIES_LIMIT else "")
        )
    ]
