"""Batch tasks -> the permissions each one needs, from the integration table (docs/aws-facts.md#documented-policies,
docs/aws-facts.md#fine-grained-scoping).

Two modes read the same table (rules/integrations/batch.yaml): `documented` writes AWS's documented
policy; `fine-grained` names the queues, job definitions and consumable resources each state uses
and adds tag conditions. Resources keep {partition}/{region}/{account}: the generator fills them in
from the target (the states' own partition, or ${AWS::Partition} in CloudFormation output).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from policygen.errors import Location, Notice
from policygen.iam.arns import is_arn
from policygen.load.template import has_references, unescape
from policygen.requirements.deploy_time import DeployTimeValues
from policygen.requirements.table import (
    DOCUMENTED,
    Dispute,
    GrantTemplate,
    batch_table,
)
from policygen.scan import BatchTask, FieldValue, Pattern, ValueKind

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
    # Resources of the request that AWS's documents disagree about (rules/integrations/batch.yaml).
    disputes: tuple[Dispute, ...] = ()

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
    # How template references (a queue's !Ref) are written; None: they are unknown (wildcards).
    deploy_time: DeployTimeValues | None = None


@dataclass
class Needs:
    """The needs of a set of tasks, and what the user should know about how they were derived."""

    needs: list[Need] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)


def needs_of(task: BatchTask, options: Options = Options(), notices: list[Notice] | None = None) -> list[Need]:
    """What `task` needs from the role. Notices (e.g. a dynamic queue in fine-grained mode) are
    appended to `notices` when given."""
    # Tag-on-create: only SubmitJob creates the job the tags go on (docs/aws-facts.md#tag-on-create).
    tags_on_create = task.sends_tags and task.action == "batch:SubmitJob"
    grants = _grants(options.mode, task.pattern.value, task.action, tags_on_create)
    found = []
    for sid, actions, resources, conditions, why, source, kind, disputes in grants:
        if kind is _FIXED:
            found.append(_need(sid, actions, resources, why, source, task, (), disputes))
        elif kind is _SENT_TAGS:
            # The common case (every tagged state, in both modes): no per-state resources.
            conditions = _sent_tag_conditions(_sent_tags(task))
            found.append(_need(sid, actions, resources, why, source, task, conditions, disputes))
        else:
            expander = _FineGrained(task, options, notices if notices is not None else [])
            resources = expander.resources(resources)
            conditions = expander.conditions(conditions)
            why = expander.why(why)
            found.append(_need(sid, actions, resources, why, source, task, tuple(sorted(set(conditions))), disputes))
    return found


_new_object = object.__new__


def _need(
    sid: str,
    actions: tuple[str, ...],
    resources: tuple[str, ...],
    why: str,
    source: str,
    task: BatchTask,
    conditions: tuple[Condition, ...],
    disputes: tuple[Dispute, ...] = (),
) -> Need:
    """Need(sid, actions, ...) without the frozen dataclass's __init__, which sets each field
    through object.__setattr__ (nearly 3x the cost; one Need is made per row of every state). The
    object is the same: its fields in the same order, in its __dict__."""
    need = _new_object(Need)
    fields = need.__dict__
    fields["sid"] = sid
    fields["actions"] = actions
    fields["resources"] = resources
    fields["why"] = why
    fields["source"] = source
    fields["task"] = task
    fields["conditions"] = conditions
    fields["disputes"] = disputes
    return need


def needs_of_all(tasks: tuple[BatchTask, ...], options: Options) -> Needs:
    result = Needs()
    for task in tasks:
        result.needs.extend(needs_of(task, options, result.notices))
    return result


def missing_required_tags(task: BatchTask, required: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """The --tag pairs a SubmitJob state does not send as static tags: IAM would deny its SubmitJob
    under an aws:RequestTag condition (docs/aws-facts.md#fine-grained-scoping). An aws-sdk:batch:submitJob state is not
    checked: its grant is the documented one in both modes, with no tag condition to deny it."""
    if task.action != "batch:SubmitJob" or task.pattern is Pattern.SDK:
        return []
    sent = {tag.key: tag.value.text for tag in task.tags if tag.value.kind is ValueKind.STATIC}
    return [(key, value) for key, value in required if sent.get(key) != value]


@lru_cache(maxsize=1024)
def _grants(mode: str, pattern: str, action: str, tags_on_create: bool):
    """The table rows for one kind of call with {action} filled in, each with what needs_of does
    with it (_FIXED, _SENT_TAGS or _PER_STATE); cached because a large definition repeats a
    handful of kinds thousands of times."""
    table = batch_table()
    templates = table.modes[mode][pattern] + (table.tags_sent if tags_on_create else ())
    rows = []
    for template in templates:
        sid, actions, resources, conditions, why, source = _grant(template, action)
        if conditions == ("{sent-tags}",) and not _has_resource_tokens(resources):
            kind = _SENT_TAGS
        elif _has_fine_grained_tokens(resources, conditions):
            kind = _PER_STATE
        else:
            kind = _FIXED
        rows.append((sid, actions, resources, conditions, why, source, kind, template.disputes))
    return tuple(rows)


# What a table row needs from each state (needs_of):
_FIXED = "fixed"  # nothing: no tokens in its resources, no conditions
_SENT_TAGS = "sent-tags"  # only the conditions for the tags it sends
_PER_STATE = "per-state"  # its resources and conditions filled in by _FineGrained


def _grant(template: GrantTemplate, action: str):
    actions = tuple(name.replace("{action}", action) for name in template.actions)
    resources: list[str] = []
    for resource in template.resources:
        if resource == "{action-resources}":
            from policygen.iam import catalog

            resources.extend(catalog.resource_patterns(action))
        else:
            resources.append(resource)
    return template.sid, actions, tuple(resources), template.conditions, template.why, template.source


_RESOURCE_TOKENS = ("{job-queues}", "{job-definitions}", "{consumable-resources}")


def _has_resource_tokens(resources: tuple[str, ...]) -> bool:
    return any(resource in _RESOURCE_TOKENS for resource in resources)


def _has_fine_grained_tokens(resources: tuple[str, ...], conditions: tuple[str, ...]) -> bool:
    return bool(conditions) or _has_resource_tokens(resources)


def _sent_tags(task: BatchTask) -> tuple[tuple[str, str | None], ...] | None:
    """The tags a state sends as (key, static value or None), or None when the whole Tags is dynamic."""
    if task.dynamic_tags is not None:
        return None
    return tuple((tag.key, tag.value.text if tag.value.kind is ValueKind.STATIC else None) for tag in task.tags)


@lru_cache(maxsize=1024)
def _sent_tag_conditions(tags: tuple[tuple[str, str | None], ...] | None) -> tuple[Condition, ...]:
    """aws:RequestTag for each static tag value and aws:TagKeys for the keys, when the keys are
    known; nothing when the state's Tags as a whole come from an expression (docs/aws-facts.md#tag-on-create)."""
    if not tags:
        return ()
    found: list[Condition] = [("StringEquals", f"aws:RequestTag/{key}", (value,)) for key, value in tags if value is not None]
    found.append(("ForAllValues:StringEquals", "aws:TagKeys", tuple(sorted(key for key, _ in tags))))
    return tuple(sorted(set(found)))


class _FineGrained:
    """Fills a row's per-state tokens from what the state sends (docs/aws-facts.md#fine-grained-scoping)."""

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
        known = self.known(resource_type, value)
        if known is None:
            return [self.unknown(resource_type, value, field_name)]
        text, an_arn, _ = known
        return [text if an_arn else self.arn(f"{resource_type}/{text}")]

    def job_definitions(self) -> list[str]:
        value = self.task.job_definition
        known = self.known("job-definition", value)
        if known is None:
            return [self.unknown("job-definition", value, "JobDefinition")]
        text, an_arn, pinned = known
        if an_arn:
            _, _, name_part = text.partition(":job-definition/")
            if pinned or ":" in name_part:
                return [text]  # one revision (or, for a deploy-time ARN, `:*`)
            return [text, f"{text}:*"]
        if ":" in text:
            return [self.arn(f"job-definition/{text}")]
        # docs/aws-facts.md#job-definition-revisions: a name without revision asks for the latest active revision; match both forms.
        return [self.arn(f"job-definition/{text}"), self.arn(f"job-definition/{text}:*")]

    def known(self, resource_type: str, value: FieldValue | None) -> tuple[str, bool, bool] | None:
        """(text, is an ARN, names its revision) for a value the policy can name, else None."""
        if value is None:
            return None
        if value.kind is ValueKind.STATIC:
            return value.text, is_arn(value.text), False
        deploy_time = self.options.deploy_time
        if value.kind is ValueKind.DEPLOY_TIME and deploy_time is not None:
            resolved = deploy_time.resolve(self.task.file, self.task.machine, value.text, resource_type)
            if resolved is not None:
                if resolved.defaults:
                    self.defaults_used(value, resolved.defaults)
                return resolved.text, resolved.is_arn, resolved.pinned
        return None

    def defaults_used(self, value: FieldValue, defaults: tuple[tuple[str, str], ...]) -> None:
        """A parameter's Default is what the stack gets only when the deployer passes no value: say
        that the policy assumes it, or it would be silently too narrow for another value."""
        used = ", ".join(f"{name}={default!r}" for name, default in defaults)
        self.notices.append(
            Notice(
                f"state {self.task.path!r} takes {value.field} from {value.text}: the policy names it with the "
                f"parameter Default ({used}); a stack deployed with another value needs the policy generated "
                "again (--format cloudformation keeps the reference)",
                Location(self.task.file, pointer=value.pointer),
            )
        )

    def consumable_resources(self) -> list[str]:
        values = self.task.consumable_resources
        if not values:
            return self.job_definition_consumable_resources()
        found: list[str] = []
        for value in values:
            found.extend(self.named("consumable-resource", value, "ConsumableResource"))
        return found

    def job_definition_consumable_resources(self) -> list[str]:
        """SubmitJob also checks the consumable resources the job definition itself names. Those of
        a job definition the template registers (the state's JobDefinition is its Ref) are read
        from its ConsumableResourceProperties; any other job definition may name consumable
        resources we cannot read offline, so any consumable resource stays allowed."""
        task = self.task
        deploy_time = self.options.deploy_time
        definition = task.job_definition
        texts = None
        if deploy_time is not None and definition is not None and definition.kind is ValueKind.DEPLOY_TIME:
            texts = deploy_time.job_definition_consumable_resources(task.file, task.machine, definition.text)
        if texts is None:
            self.notes.append(
                "the state overrides no consumable resources and its job definition is none a template here "
                "registers: a job definition may name consumable resources, which SubmitJob checks and which "
                "cannot be read offline, so they are allowed through consumable-resource/*"
            )
            return [self.arn("consumable-resource/*")]
        assert definition is not None
        self.notes.append(
            f"the consumable resources are those of the template's job definition {definition.text} "
            "(its ConsumableResourceProperties)" if texts else
            f"the template's job definition {definition.text} names no consumable resources"
        )
        found: list[str] = []
        field_name = f"ConsumableResource (in the job definition {definition.text})"
        for text in texts:
            if not text:
                found.append(self.unreadable_consumable_resource(definition))
                continue
            kind = ValueKind.DEPLOY_TIME if has_references(text) else ValueKind.STATIC
            value = FieldValue(kind, text if has_references(text) else unescape(text), field_name, definition.pointer)
            found.extend(self.named("consumable-resource", value, "ConsumableResource"))
        return found

    def unreadable_consumable_resource(self, definition: FieldValue) -> str:
        self.notices.append(
            Notice(
                f"state {self.task.path!r} uses the job definition {definition.text}, one of whose consumable "
                "resources is a template value policygen does not read: fine-grained mode allows "
                "consumable-resource/* in the account and region instead",
                Location(self.task.file, pointer=definition.pointer),
            )
        )
        return self.arn("consumable-resource/*")

    def unknown(self, resource_type: str, value: FieldValue | None, field_name: str) -> str:
        task = self.task
        if value is None:
            reason = f"sets no {field_name}"
            location = Location(task.file, pointer=task.pointer)
        else:
            if value.kind is ValueKind.DEPLOY_TIME:
                deploy_time = self.options.deploy_time
                from_template = deploy_time is not None and deploy_time.has_template(task.file, task.machine)
                reason = f"takes {value.field} from a deploy-time value ({value.text}) " + (
                    "that the template does not resolve before deploy (--format cloudformation keeps the reference)"
                    if from_template
                    else "that only the template deploying this file fills in (scan that template instead)"
                )
            elif self._opaque_template_value(value):
                reason = (
                    f"takes {value.field} from a template value chosen at deploy time in a way policygen "
                    f"does not evaluate ({value.text})"
                )
            else:
                reason = f"takes {value.field} from an expression known only at run time ({value.text})"
            location = Location(task.file, pointer=value.pointer)
        self.notices.append(
            Notice(
                f"state {task.path!r} {reason}: fine-grained mode cannot name it and allows "
                f"{resource_type}/* in the account and region instead",
                location,
            )
        )
        return self.arn(f"{resource_type}/*")

    def _opaque_template_value(self, value: FieldValue) -> bool:
        """A dynamic value that is not a JSONPath/JSONata expression: in a template, an intrinsic
        like Fn::If or a serverless ${self:...} variable (policygen/load/template.py, OpaqueValue)."""
        deploy_time = self.options.deploy_time
        from_template = deploy_time is not None and deploy_time.has_template(self.task.file, self.task.machine)
        return from_template and not value.field.endswith(".$") and not value.text.startswith("{%")

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
                found.extend(_sent_tag_conditions(_sent_tags(self.task)))
            else:
                raise ValueError(f"unknown condition token {token!r} in the integration table")
        return found

    def why(self, why: str) -> str:
        return why if not self.notes else f"{why} ({'; '.join(self.notes)})"
