"""Service tasks (every integration but Batch's own) -> the permissions each one needs, from the
integration tables (rules/integrations/<service>.yaml, read by requirements/integrations.py).

A resource named by a static argument becomes that resource's ARN; an argument known only at run
time (JSONPath, JSONata) or at deploy time falls back to the table's documented form, with a
warning naming the state and the argument. Never a guessed name: a static value with a wildcard
would widen the grant, so it falls back too (and says so). A value of one of the field's forms
(a Bedrock inference profile) becomes the form's names, with the form's warning where they reach
beyond what the state names.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from policygen.errors import Location, Notice
from policygen.iam.arns import is_arn
from policygen.requirements import needs
from policygen.requirements.deploy_time import DeployTimeValues
from policygen.requirements.integrations import (
    FieldResource,
    Form,
    Grant,
    camel_case,
    integration_table,
    resource_arn_entry,
)
from policygen.requirements.needs import Condition, Need
from policygen.requirements.target import Target
from policygen.scan import FieldValue, ServiceTask, ValueKind

_PASS_ROLE_NAME = "arn:{partition}:iam::{account}:role/{value}"
_URL_PARTS = {"partition": r"aws[a-z-]*", "region": r"[a-z]{2}(?:-[a-z]+)+-\d", "account": r"\d{12}", "value": r"[^:/*?]+"}
_URL_PART = re.compile(r"\\\{(partition|region|account|value)\\\}")


class _Known(NamedTuple):
    """A value the policy can name: its text, and whether it is already an ARN (one per state's
    field: a tuple is made at a third of a frozen dataclass's cost)."""

    text: str
    is_arn: bool


def needs_of_service(task: ServiceTask, deploy_time: DeployTimeValues | None, notices: list[Notice],
                     target: Target | None = None) -> list[Need]:
    """What `task` needs from the execution role; what the policy cannot name goes to `notices`
    (its resources as the policy for `target` writes them, when given)."""
    reader = _Reader(task, deploy_time, notices, target)
    if task.api.startswith("arn:"):
        return reader.resource_arn()
    table = integration_table(task.service)
    if table is None:
        return []  # the AWS SDK integrations: requirements/sdk.py
    api = table.apis[task.api]
    if api.notice:
        notices.append(Notice(f"state {task.path!r} ({task.resource}): {api.notice}", Location(task.file, pointer=task.pointer)))
    found = [reader.need(grant) for grant in api.grants[task.pattern.value] if reader.needed(grant)]
    for pass_role in api.pass_roles:
        roles = reader.field_resources(pass_role.role, pass_role.role.name, pass_roles=True)
        if not roles:
            continue  # the state passes no role there
        conditions: tuple[Condition, ...] = ()
        if pass_role.passed_to:
            conditions = (("StringEquals", "iam:PassedToService", (pass_role.passed_to,)),)
        found.append(
            _need(f"{camel_case(task.service)}PassRole", ("iam:PassRole",), tuple(roles), pass_role.why, ", ".join(pass_role.sources), task, conditions)
        )
    return [need for need in found if need is not None]


def _need(sid: str, actions: tuple[str, ...], resources: tuple[str, ...], why: str, source: str,
          task: ServiceTask, conditions: tuple[Condition, ...] = ()) -> Need:
    # needs._need: the same record without the frozen __init__ (one is made per state).
    return needs._need(sid, actions, tuple(dict.fromkeys(resources)), why, source, task, conditions)  # type: ignore[arg-type]


class _Reader:
    """Fills one state's grants from its arguments."""

    def __init__(self, task: ServiceTask, deploy_time: DeployTimeValues | None, notices: list[Notice], target: Target | None = None):
        self.task = task
        self.deploy_time = deploy_time
        self.notices = notices
        self.target = target
        self.warned: set[str] = set()

    def needed(self, grant: Grant) -> bool:
        """Whether the state needs the grant: one for a state that sends an argument (`if-sent`)
        is needed when it sends it, and, said in a warning, when which arguments it sends is an expression."""
        if grant.if_sent is None:
            return True
        sent = self.task.sends(grant.if_sent)
        if sent is None:
            self.tell(
                f"{grant.if_sent}:{grant.sid}",
                f"its arguments are an expression, which may send {grant.if_sent}: the policy allows {', '.join(grant.actions)} as for a state that sends it",
                self.task.pointer,
            )
        return sent is not False

    def need(self, grant: Grant) -> Need | None:
        resources: list[str] = []
        for resource in grant.resources:
            if isinstance(resource, str):
                resources.append(resource)
            else:
                resources.extend(self.field_resources(resource, resource.name))
        if not resources:
            return None
        conditions = tuple(sorted(set(self.conditions(grant))))
        return _need(grant.sid, grant.actions, tuple(resources), grant.why, ", ".join(grant.sources), self.task, conditions)

    def resource_arn(self) -> list[Need]:
        """A Resource that is itself the target's ARN (a Lambda function): `{resource}` is that ARN."""
        task = self.task
        entry = resource_arn_entry(task.service, task.api)
        if entry is None:
            return []
        known = self.known(FieldValue(_kind_of_resource(task.resource), task.resource, "Resource", task.pointer + "/Resource"))
        found = []
        for grant in entry.grants:
            resources = []
            for resource in grant.resources:
                if resource != "{resource}":
                    resources.append(resource)
                elif known is not None and known.is_arn:
                    resources.append(known.text)
                else:
                    reason = f"is only known at deploy time{self.keeps_references_hint(task.resource)}"
                    resources.append(self.fallback("Resource", task.resource, entry.dynamic or "*", task.pointer + "/Resource", reason))
            found.append(_need(grant.sid, grant.actions, tuple(resources), grant.why, ", ".join(grant.sources), task))
        return found

    def field_resources(self, resource: FieldResource, name: str | None, pass_roles: bool = False) -> list[str]:
        """The ARNs a field names; the fallback when it is unknown. A role field the state leaves
        out passes no role, an optional field left out needs nothing (both: no resource); any
        other field left out falls back too."""
        values = self.task.field_values(resource.field)
        if not values:
            if pass_roles or resource.optional:
                return []
            if resource.absent is not None and name is not None:
                return [name.replace("{value}", resource.absent)]
            return [self.fallback(resource.field, None, resource.dynamic, self.task.pointer, "sends no value")]
        found = []
        for value in values:
            found.extend(self.resource_of(resource, value, name or (_PASS_ROLE_NAME if pass_roles and resource.arn else None)))
        if resource.absent is not None and name is not None and self.task.items_without(resource.field):
            found.append(name.replace("{value}", resource.absent))  # the items that leave the field out
        return found

    def resource_of(self, resource: FieldResource, value: FieldValue, name: str | None) -> list[str]:
        known = self.known(value)
        if known is None:
            return [self.fallback(resource.field, value, resource.dynamic, value.pointer)]
        text = known.text
        if resource.forms:
            named = self.form_names(resource, value, text)
            if named is not None:
                return named
        if resource.url is not None:
            filled = _fill_from_url(resource.url, name, text)
            if filled is not None:
                return [filled]
            return [self.fallback(resource.field, value, resource.dynamic, value.pointer, f"is no {resource.url} this table can read")]
        if name is not None and name.endswith("{value}:*") and ":" in text.rpartition("/")[2]:
            return []  # a name:revision already names one revision; `:*` is for a bare family name
        if known.is_arn:
            if resource.arn:
                return [text]
            if name is not None and name.startswith("{value}"):
                return [name.replace("{value}", text)]
            if name is None:  # a field that names no resource of its own (an EMR instance profile)
                return [self.fallback(resource.field, value, resource.dynamic, value.pointer, "names no resource policygen can write")]
            return []  # this entry writes names only; the field's ARN entry names it
        if name is None:
            return [self.fallback(resource.field, value, resource.dynamic, value.pointer, "names no resource policygen can write")]
        return [_partial_arn(name, text) or name.replace("{value}", text)]

    def form_names(self, resource: FieldResource, value: FieldValue, text: str) -> list[str] | None:
        """The names of the first form the value takes (README: "Forms"), or None when it takes none."""
        if "${" in text:
            # A template reference kept as written (CloudFormation output): which form its value
            # takes is known only at deploy time, and `name` could name nothing.
            reason = f"holds the template reference {text!r}, so which form of value it takes is known only at deploy time"
            return [self.fallback(resource.field, value, resource.dynamic, value.pointer, reason)]
        for form in resource.forms:
            filled = _fill_form(form, text)
            if filled is not None:
                names, note = filled
                if note is not None:
                    self.tell(f"{resource.field}\0{note}", f"{resource.field} {_as_written(note, self.target)}", value.pointer)
                return names
        return None

    def tell(self, key: str, message: str, pointer: str) -> None:
        """A warning about this state, once per key."""
        if key not in self.warned:
            self.warned.add(key)
            task = self.task
            self.notices.append(Notice(f"state {task.path!r} ({_short(task.resource)}): {message}", Location(task.file, pointer=pointer)))

    def known(self, value: FieldValue) -> _Known | None:
        """The value as policy text, or None when only the fallback can stand for it."""
        if value.kind is ValueKind.STATIC:
            if any(char in value.text for char in "*?") or "${" in value.text or not value.text:
                return None  # a wildcard would widen the grant; IAM reads literal ${x} (a template's ${!x}) as a policy variable
            return _Known(value.text, is_arn(value.text))
        if value.kind is ValueKind.DEPLOY_TIME and self.deploy_time is not None:
            resolved = self.deploy_time.resolve(self.task.file, self.task.machine, value.text, "")
            if resolved is not None:
                return _Known(resolved.text, resolved.is_arn)
        return None

    def fallback(self, field: str, value: FieldValue | str | None, dynamic: str, pointer: str, reason: str | None = None) -> str:
        if reason is None:
            assert isinstance(value, FieldValue)
            if value.kind is ValueKind.DYNAMIC:
                reason = f"is known only at run time ({value.text})"
            elif value.kind is ValueKind.DEPLOY_TIME:
                reason = f"is only known at deploy time ({value.text}{self.keeps_references_hint(value.text)})"
            elif "${" in value.text:
                reason = f"holds {value.text!r}, which IAM would read as a policy variable"
            else:
                reason = f"holds a wildcard ({value.text!r}), which policygen will not write as a name"
        self.tell(f"{field}\0{dynamic}", f"{field} {reason}: the policy allows the documented form {_as_written(dynamic, self.target)} instead", pointer)
        return dynamic

    def keeps_references_hint(self, text: str) -> str:
        deploy_time = self.deploy_time
        if deploy_time is not None and not deploy_time.keep_references and deploy_time.kept_as_reference(self.task.file, self.task.machine, text):
            return "; --format cloudformation keeps the reference"
        return ""

    def conditions(self, grant: Grant) -> list[Condition]:
        found: list[Condition] = []
        for operator, key, value in grant.conditions:
            if isinstance(value, dict) and set(value) == {"field"}:
                values = self.task.field_values(value["field"])
                known = self.known(values[0]) if len(values) == 1 else None
                if known is None:
                    self.notices.append(
                        Notice(
                            f"state {self.task.path!r} ({_short(self.task.resource)}): {value['field']} is not known before run "
                            f"time, so the condition {key} is left out of {grant.sid}",
                            Location(self.task.file, pointer=values[0].pointer if values else self.task.pointer),
                        )
                    )
                    continue
                found.append((operator, key, (known.text,)))
            else:
                found.append((operator, key, tuple(value) if isinstance(value, list) else (str(value),)))
        return found


def _fill_form(form: Form, text: str) -> tuple[list[str], str | None] | None:
    """(the names, the note) a value of this form stands for, or None when it takes another form."""
    match = form.match.fullmatch(text)
    if match is None:
        return None
    parts = {"value": text, **match.groupdict()}
    if any(part is None for part in parts.values()):
        return None  # an optional group took no part in the match: its templates could not be filled

    def fill(template: str) -> str:
        return re.sub(r"\{(\w+)\}", lambda found: parts.get(found[1], found[0]), template)

    return [fill(name) for name in form.names], None if form.note is None else fill(form.note)


def _fill_from_url(url: str, name: str | None, text: str) -> str | None:
    """The ARN for a value that must match a URL or ARN template (an SQS queue URL), or None."""
    pattern = _URL_PART.sub(lambda match: f"(?P<{match[1]}>{_URL_PARTS[match[1]]})", re.escape(url))
    match = re.fullmatch(pattern, text)
    if match is None or name is None:
        return None
    filled = name
    for part, part_text in match.groupdict().items():
        filled = filled.replace(f"{{{part}}}", part_text)
    return filled


def _as_written(resource: str, target: Target | None) -> str:
    """A resource with the target's partition, region and account filled in where they are known."""
    for name in ("partition", "region", "account"):
        value = getattr(target, name, None)
        if value is not None:
            resource = resource.replace(f"{{{name}}}", value)
    return resource


def _partial_arn(name: str, text: str) -> str | None:
    """The ARN for a value that is the ARN's tail from the account on (Lambda's partial ARN
    123456789012:function:my-function), or None: such a value names its own account, and the
    name template would put it after the machine's account as if it were a name."""
    start = name.find("{account}:")
    if start < 0:
        return None
    pattern = re.escape(name[start:]).replace(re.escape("{account}"), r"\d{12}").replace(re.escape("{value}"), r"[^*?]+")
    return name[:start] + text if re.fullmatch(pattern, text) else None


def _kind_of_resource(resource: str) -> ValueKind:
    return ValueKind.DEPLOY_TIME if "${" in resource else ValueKind.STATIC


def _short(resource: str) -> str:
    """The integration part of a Task Resource, for messages."""
    return resource.split(":::", 1)[1] if ":::" in resource else resource
