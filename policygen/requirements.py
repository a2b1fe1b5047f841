"""Batch tasks -> the permissions each one needs, from the integration table (REFERENCE.md §2-§4).

Two modes read the same table (rules/integrations/batch.yaml): `documented` writes AWS's documented
policy; `fine-grained` names the queues, job definitions and consumable resources each state uses
and adds tag conditions. Resources may still hold {region}/{account}: the generator fills them in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from policygen.errors import Location, Notice
from policygen.integrations import DOCUMENTED, FINE_GRAINED, GrantTemplate, batch_table
from policygen.scan import BatchTask, FieldValue, ValueKind

# (operator, condition key, values): e.g. ("StringEquals", "aws:RequestTag/team", ("genomics",))
Condition = tuple[str, str, tuple[str, ...]]

_BATCH_ARN_PREFIX = "arn:{partition}:batch:{region}:{account}:"


@dataclass(frozen=True)
class Need:
    """Actions on resources, under conditions, that one Batch state needs."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    why: str
    source: str
    task: BatchTask
    conditions: tuple[Condition, ...] = ()

    @property
    def placeholders(self) -> frozenset[str]:
        return frozenset(
            name for name in ("partition", "region", "account") if any(f"{{{name}}}" in r for r in self.resources)
        )


@dataclass(frozen=True)
class Options:
    """What shapes the policy beyond the definitions."""

    mode: str = DOCUMENTED
    required_tags: tuple[tuple[str, str], ...] = ()  # --tag KEY=VALUE, fine-grained mode only


@dataclass
class Needs:
    """The needs of a set of tasks, and what the user should know about how they were derived."""

    needs: list[Need] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)


def needs_of(task: BatchTask, options: Options = Options(), notices: list[Notice] | None = None) -> list[Need]:
    """What `task` needs from the role. Notices (e.g. a dynamic queue in fine-grained mode) are
    appended to `notices` when given."""
    # Tag-on-create: only SubmitJob creates the job the tags go on (REFERENCE.md §3).
    tags_on_create = task.sends_tags and task.action == "batch:SubmitJob"
    # The partition stays a placeholder, like region and account: the generator fills it in from the
    # target (the tasks' own partition, or ${AWS::Partition} in CloudFormation output).
    grants = _grants(options.mode, task.pattern.value, task.action, "{partition}", tags_on_create)
    found = []
    for sid, actions, resources, conditions, why, source in grants:
        if _has_fine_grained_tokens(resources, conditions):
            expander = _FineGrained(task, options, notices if notices is not None else [])
            resources = expander.resources(resources)
            conditions = expander.conditions(conditions)
            why = expander.why(why)
        found.append(Need(sid, actions, resources, why, source, task, tuple(sorted(set(conditions)))))
    return found


def needs_of_all(tasks: tuple[BatchTask, ...], options: Options) -> Needs:
    result = Needs()
    for task in tasks:
        result.needs.extend(needs_of(task, options, result.notices))
    return result


def missing_required_tags(task: BatchTask, required: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """The --tag pairs a SubmitJob state does not send as static tags: IAM would deny its SubmitJob
    under an aws:RequestTag condition (REFERENCE.md §4)."""
    if task.action != "batch:SubmitJob":
        return []
    sent = {tag.key: tag.value.text for tag in task.tags if tag.value.kind is ValueKind.STATIC}
    return [(key, value) for key, value in required if sent.get(key) != value]


@lru_cache(maxsize=1024)
def _grants(mode: str, pattern: str, action: str, partition: str, tags_on_create: bool):
    """The table rows for one kind of call with {action} and {partition} filled in; cached because a
    large definition repeats a handful of kinds thousands of times."""
    table = batch_table()
    templates = table.modes[mode][pattern] + (table.tags_sent if tags_on_create else ())
    return tuple(_grant(template, action, partition) for template in templates)


def _grant(template: GrantTemplate, action: str, partition: str):
    actions = tuple(name.replace("{action}", action) for name in template.actions)
    resources: list[str] = []
    for resource in template.resources:
        if resource == "{action-resources}":
            from policygen import catalog

            resources.extend(catalog.resource_patterns(action))
        else:
            resources.append(resource)
    filled = tuple(resource.replace("{partition}", partition) for resource in resources)
    return template.sid, actions, filled, template.conditions, template.why, template.source


_RESOURCE_TOKENS = ("{job-queues}", "{job-definitions}", "{consumable-resources}")


def _has_fine_grained_tokens(resources: tuple[str, ...], conditions: tuple[str, ...]) -> bool:
    return bool(conditions) or any(resource in _RESOURCE_TOKENS for resource in resources)


class _FineGrained:
    """Fills a row's per-state tokens from what the state sends (REFERENCE.md §3-§4)."""

    def __init__(self, task: BatchTask, options: Options, notices: list[Notice]):
        self.task = task
        self.options = options
        self.notices = notices
        self.notes: list[str] = []

    def arn(self, suffix: str) -> str:
        return _BATCH_ARN_PREFIX + suffix

    def resources(self, resources: tuple[str, ...]) -> tuple[str, ...]:
        found: list[str] = []
        for resource in resources:
            if resource == "{job-queues}":
                found.extend(self.named("job-queue", self.task.job_queue, "JobQueue"))
            elif resource == "{job-definitions}":
                found.extend(self.job_definitions())
            elif resource == "{consumable-resources}":
                found.extend(self.consumable_resources())
            else:
                found.append(resource)
        return tuple(found)

    def named(self, resource_type: str, value: FieldValue | None, field_name: str) -> list[str]:
        """A queue or consumable resource: a name becomes its ARN, an ARN is kept."""
        if value is None or value.kind is not ValueKind.STATIC:
            return [self.unknown(resource_type, value, field_name)]
        if value.text.startswith("arn:"):
            return [value.text]
        return [self.arn(f"{resource_type}/{value.text}")]

    def job_definitions(self) -> list[str]:
        value = self.task.job_definition
        if value is None or value.kind is not ValueKind.STATIC:
            return [self.unknown("job-definition", value, "JobDefinition")]
        text = value.text
        if text.startswith("arn:"):
            base, _, name_part = text.partition(":job-definition/")
            if ":" in name_part:
                return [text]  # a pinned revision
            return [text, f"{text}:*"]
        if ":" in text:
            return [self.arn(f"job-definition/{text}")]
        # REFERENCE.md §3: a name without revision asks for the latest active revision; match both forms.
        return [self.arn(f"job-definition/{text}"), self.arn(f"job-definition/{text}:*")]

    def consumable_resources(self) -> list[str]:
        values = self.task.consumable_resources
        if not values:
            # The job definition itself may use consumable resources, which SubmitJob then checks;
            # offline we cannot read the job definition, so any consumable resource stays allowed.
            self.notes.append(
                "the state overrides no consumable resources; the job definition's own (if any) are "
                "allowed through consumable-resource/*"
            )
            return [self.arn("consumable-resource/*")]
        found: list[str] = []
        for value in values:
            found.extend(self.named("consumable-resource", value, "ConsumableResource"))
        return found

    def unknown(self, resource_type: str, value: FieldValue | None, field_name: str) -> str:
        task = self.task
        if value is None:
            reason = f"sets no {field_name}"
            location = Location(task.file, pointer=task.pointer)
        else:
            when = "run" if value.kind is ValueKind.DYNAMIC else "deploy"
            reason = f"takes {value.field} from an expression known only at {when} time ({value.text})"
            location = Location(task.file, pointer=value.pointer)
        self.notices.append(
            Notice(
                f"state {task.path!r} {reason}: fine-grained mode cannot name it and allows "
                f"{resource_type}/* in the account and region instead",
                location,
            )
        )
        return self.arn(f"{resource_type}/*")

    def conditions(self, tokens: tuple[str, ...]) -> list[Condition]:
        found: list[Condition] = []
        for token in tokens:
            if token == "{required-request-tags}":
                found.extend(("StringEquals", f"aws:RequestTag/{k}", (v,)) for k, v in self.options.required_tags)
            elif token == "{required-resource-tags}":
                found.extend(("StringEquals", f"aws:ResourceTag/{k}", (v,)) for k, v in self.options.required_tags)
            elif token == "{share-identifier}":
                share = self.task.share_identifier
                if share is not None and share.kind is ValueKind.STATIC:
                    found.append(("StringEquals", "batch:ShareIdentifier", (share.text,)))
            elif token == "{sent-tags}":
                found.extend(self.sent_tag_conditions())
            else:
                raise ValueError(f"unknown condition token {token!r} in the integration table")
        return found

    def sent_tag_conditions(self) -> list[Condition]:
        """aws:RequestTag for each static tag value and aws:TagKeys for the keys, when the keys are
        known; nothing when the state's Tags as a whole come from an expression."""
        task = self.task
        if task.dynamic_tags is not None or not task.tags:
            return []
        found: list[Condition] = [
            ("StringEquals", f"aws:RequestTag/{tag.key}", (tag.value.text,))
            for tag in task.tags
            if tag.value.kind is ValueKind.STATIC
        ]
        found.append(("ForAllValues:StringEquals", "aws:TagKeys", tuple(sorted(tag.key for tag in task.tags))))
        return found

    def why(self, why: str) -> str:
        return why if not self.notes else f"{why} ({'; '.join(self.notes)})"
