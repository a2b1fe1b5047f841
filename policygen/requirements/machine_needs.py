"""The state machine's own features -> the permissions they need (rules/integrations/state-machine.yaml,
read by requirements/machine_table.py): a Distributed Map's child executions, item reader and
result writer; an HTTP Task's endpoint, connection and secret; logging; X-Ray; a customer-managed key.

A feature applies when its `when` holds for a Map state, an HTTP Task state or the machine
resource; one that may hold (a value only known at deploy or run time) is granted, with a warning.
A `{field:...}` known only at run or deploy time falls back to the table's documented form, and an
unknown machine name to `*`, each with a warning naming the state or machine and the field.
Optional features (redrive) are granted only on request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any

from policygen.errors import InputError, Location, Notice
from policygen.iam.arns import is_arn
from policygen.load.template import Ref, parse_sub
from policygen.requirements.deploy_time import DeployTimeValues
from policygen.requirements.machine_table import (
    FIELD_PLACEHOLDER,
    Feature,
    FeatureGrant,
    FeatureResource,
    integration_of,
    machine_features,
    task_integrations,
)
from policygen.requirements.needs import Condition, Need
from policygen.scan import FieldValue, ServiceTask, ValueKind
from policygen.scan.features import FeatureKind, MachineFeature

_KEY_ARN = re.compile(r"arn:[a-z-]+:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+")
_KEY_ID = re.compile(r"(mrk-)?[A-Za-z0-9-]+")
_CONNECTION = re.compile(r"arn:(?P<p>[a-z-]+):events:(?P<r>[a-z0-9-]+):(?P<a>\d{12}):connection/(?P<name>[A-Za-z0-9._-]+)/[A-Za-z0-9-]+")
# (resource type, attribute ("" for Ref), transform) -> what the grant names for a template's own
# resource, in Fn::Sub syntax (the types' return values: AWS CloudFormation User Guide, and
# cfn-lint's schemas for AWS::Events::Connection's Arn and SecretArn).
_TEMPLATE_VALUES = {
    ("AWS::S3::Bucket", "", None): "${{id}}",  # Ref: the bucket's name
    ("AWS::KMS::Key", "Arn", "kms-key-arn"): "${{id}.Arn}",
    ("AWS::KMS::Key", "", "kms-key-arn"): "arn:{partition}:kms:{region}:{account}:key/${{id}}",  # Ref: the key id
    ("AWS::Events::Connection", "Arn", None): "${{id}.Arn}",
    ("AWS::Events::Connection", "Arn", "connection-secret"): "${{id}.SecretArn}",  # the secret the connection keeps
}
_NAME_PROPERTIES = {"AWS::S3::Bucket": "BucketName"}  # a Ref that is the name the template sets
_UNKNOWN = object()  # a `when` that may hold: its value is only known at deploy or run time

Occurrence = MachineFeature | ServiceTask


def machine_feature_needs(features: Iterable[MachineFeature], http_tasks: Iterable[ServiceTask],
                          deploy_time: DeployTimeValues | None, notices: list[Notice], optional: bool = False) -> list[Need]:
    """What the features of these machines need; `optional` adds the optional ones (redrive)."""
    found: list[Need] = []
    features = tuple(features)
    for feature in features:
        _check_map_resources(feature)
    said_per_machine: set[str] = set()  # what is true of a whole machine is said once, not per Map state
    for occurrence in (*features, *http_tasks):
        for feature in _features_for(_occurrence_kind(occurrence)):
            if feature.optional and not optional:
                continue
            applies = _holds(feature.when, occurrence)
            if applies is False:
                continue
            filler = _Filler(occurrence, feature, deploy_time, notices, said_per_machine)
            if applies is _UNKNOWN:
                filler.maybe(feature.when)
            for grant in feature.grants:
                need = filler.need(grant)
                if need is not None:
                    found.append(need)
    return found


def _occurrence_kind(occurrence: Occurrence) -> str:
    if isinstance(occurrence, ServiceTask):
        return "task"
    return "map" if occurrence.kind is FeatureKind.MAP_STATE else "machine"


def _when_kind(when: dict[str, Any] | None) -> str | None:
    """The one kind of occurrence a `when` can hold for (see _holds), None for every kind."""
    if when is None:
        return None
    if "task-resource" in when:
        return "task"
    if "machine-field" in when and "state-type" not in when:
        return "machine"
    return "map"


@cache
def _features_for(kind: str) -> tuple[Feature, ...]:
    """The features whose `when` can hold for this kind of occurrence: _holds is False for the
    others, and a definition has thousands of Map states to test."""
    return tuple(feature for feature in machine_features() if _when_kind(feature.when) in (None, kind))


def is_machine_task(task: ServiceTask) -> bool:
    """An HTTP Task: a Task integration state-machine.yaml describes, not a per-API table."""
    return f"{task.service}:{task.api}" in task_integrations()


def _check_map_resources(occurrence: MachineFeature) -> None:
    """A Map's ItemReader or ResultWriter Resource that no feature describes is an InputError at
    its line: its permissions would be missing from the role without a word."""
    if occurrence.kind is not FeatureKind.MAP_STATE:
        return
    for field, known in _map_resources().items():
        for value in occurrence.field_values(field):
            if integration_of(value.text) not in known:
                listed = ", ".join(f"arn:<partition>:states:::{name}" for name in sorted(known))
                raise InputError(
                    f"state {occurrence.path!r}: {field} {value.text!r} is no {field.split('.')[0]} policygen knows "
                    f"(known: {listed}), so what the role needs for it is unknown",
                    occurrence.location(value.pointer),
                )


@cache
def _map_resources() -> dict[str, frozenset[str]]:
    """The Map fields naming a Resource (ItemReader.Resource) -> the integrations the features know there."""
    found: dict[str, set[str]] = {}
    for feature in machine_features():
        when = feature.when
        if when.get("state-type") == "Map" and str(when.get("field", "")).endswith(".Resource") and "equals" in when:
            found.setdefault(when["field"], set()).add(integration_of(when["equals"]))
    return {field: frozenset(names) for field, names in found.items()}


def _holds(when: dict[str, Any] | None, occurrence: Occurrence) -> bool | object:
    """True, False, or _UNKNOWN when the value it tests is only known at deploy or run time."""
    if when is None:
        return True
    if "task-resource" in when:
        return isinstance(occurrence, ServiceTask) and integration_of(occurrence.resource) == integration_of(when["task-resource"])
    if isinstance(occurrence, ServiceTask):
        return False
    if "state-type" in when:
        if occurrence.kind is not FeatureKind.MAP_STATE or when["state-type"] != "Map":
            return False
        return _compare(occurrence.field_values(when["field"]), when)
    if "machine-field" in when:
        if occurrence.kind is not FeatureKind.STATE_MACHINE:
            return False
        return _compare(occurrence.properties.field_values(when["machine-field"]), when)
    if occurrence.kind is not FeatureKind.MAP_STATE:
        return False
    return _compare(occurrence.field_values(when["field"]), when)


def _compare(values: tuple[FieldValue, ...], when: dict[str, Any]) -> bool | object:
    if not values:
        return False
    if when.get("present"):
        return True
    if "equals" not in when and "not-equals" not in when:
        return True
    value = values[0]
    expected = when["equals"] if "equals" in when else when["not-equals"]
    if isinstance(expected, str) and integration_of(expected) is not None and integration_of(value.text) is not None:
        # A Resource ARN in any partition, `${AWS::Partition}` included: the integration decides.
        same = integration_of(value.text) == integration_of(expected)
    elif value.kind is not ValueKind.STATIC:
        return _UNKNOWN
    elif isinstance(expected, bool):
        same = value.text.lower() == str(expected).lower()  # CloudFormation takes "True" and "true"
    else:
        same = value.text == str(expected)
    return same if "equals" in when else not same


class _Filler:
    """Fills one feature's grants for one occurrence; warns once per field."""

    def __init__(self, occurrence: Occurrence, feature: Feature, deploy_time: DeployTimeValues | None, notices: list[Notice],
                 said_per_machine: set[str]):
        self.occurrence = occurrence
        self.feature = feature
        self.deploy_time = deploy_time
        self.notices = notices
        self.warned: set[str] = set()
        self.said_per_machine = said_per_machine

    def need(self, grant: FeatureGrant) -> Need | None:
        if grant.when is not None:
            applies = _holds(grant.when, self.occurrence)
            if applies is False:
                return None
            if applies is _UNKNOWN:
                self.maybe(grant.when, grant.sid)
        resources = tuple(dict.fromkeys(self.resource(resource) for resource in grant.resources))
        conditions = tuple(sorted(set(self.conditions(grant))))
        return Need(grant.sid, grant.actions, resources, grant.why, ", ".join(grant.sources), self.occurrence, conditions)  # type: ignore[arg-type]

    # -- resources -------------------------------------------------------------------------------

    def resource(self, resource: FeatureResource) -> str:
        filled = self.fill(resource.name)
        if filled is not None:
            return filled
        for fallback in resource.dynamic:
            filled = self.fill(fallback)
            if filled is not None:
                return filled
        raise AssertionError(f"{self.feature.id}: no fallback of {resource.name} is free of unknown fields")

    def fill(self, template: str) -> str | None:
        """The form with its placeholders filled; None when a field it names is not known (after
        warning about it)."""
        text = template.replace("{state-machine-arn}", "arn:{partition}:states:{region}:{account}:stateMachine:{state-machine-name}")
        if "{state-machine-name}" in text:
            text = text.replace("{state-machine-name}", self.machine_name())
        unknown = False
        for match in list(FIELD_PLACEHOLDER.finditer(text)):
            value = self.field_text(match["path"], match["transform"])
            if value is None:
                unknown = True
                continue
            text = text.replace(match[0], value)
        return None if unknown else text

    def field_text(self, path: str, transform: str | None) -> str | None:
        values = self.occurrence.field_values(path)
        value = values[0] if len(values) == 1 else None
        if value is not None and value.kind is ValueKind.DEPLOY_TIME:
            referenced = self.template_value(value, transform)
            if referenced is not None:
                return referenced
        known = self.known(value) if value is not None else None
        if known is not None and transform is not None:
            known = _TRANSFORMS[transform](known)
            if known is None:
                self.warn(path, value, f"is no {transform.replace('-', ' ')} policygen can name ({value.text!r})")
                return None
        if known is None and value is not None:
            self.warn(path, value)
        elif known is None:
            self.warn(path, None, "is not set")
        return known

    def known(self, value: FieldValue) -> str | None:
        if value.kind is ValueKind.STATIC:
            if not value.text or any(char in value.text for char in "*?") or "${" in value.text:
                return None  # a wildcard, or an IAM policy variable, in a name would widen the grant
            return value.text
        if value.kind is ValueKind.DEPLOY_TIME and self.deploy_time is not None:
            resolved = self.deploy_time.resolve(self.occurrence.file, self.occurrence.machine, value.text, "")
            if resolved is not None:
                return resolved.text
        return None

    def template_value(self, value: FieldValue, transform: str | None) -> str | None:
        """A resource of the template itself, by one `!Ref` or `!GetAtt` (_TEMPLATE_VALUES): in
        CloudFormation output the reference that names what the grant needs; in JSON and Terraform
        output a bucket's static BucketName. None when it names nothing this table knows."""
        template = self.deploy_time.templates.get((self.occurrence.file, self.occurrence.machine)) if self.deploy_time else None
        segments = parse_sub(value.text)
        if template is None or len(segments) != 1 or not isinstance(segments[0], Ref):
            return None
        logical_id, _, attribute = segments[0].name.partition(".")
        resource = template.resources.get(logical_id)
        form = _TEMPLATE_VALUES.get((resource.type, attribute, transform)) if resource is not None else None
        if form is None:
            return None
        assert self.deploy_time is not None and resource is not None
        if self.deploy_time.keep_references:
            return form.replace("{id}", logical_id)
        name = resource.properties.get(_NAME_PROPERTIES.get(resource.type, ""))
        if attribute or transform is not None or not isinstance(name, str) or not name or any(char in name for char in "*?$"):
            return None
        return name

    def machine_name(self) -> str:
        occurrence = self.occurrence
        name = occurrence.machine_name if isinstance(occurrence, MachineFeature) else None
        known = self.known(name) if name is not None else None
        if known is not None:
            return known
        if name is None and not isinstance(occurrence, MachineFeature):
            why = "a Task state does not say the name of its state machine"
        elif name is None:
            why = (
                "a plain ASL file does not say the name it is deployed under (pass --state-machine-name NAME)"
                if occurrence.properties.file == occurrence.file and not occurrence.properties.pointer
                else "its source sets no name, so the one it is deployed under is made up at deploy time"
            )
        else:
            why = f"its name ({name.field}: {name.text}) is only known at deploy time" if name.kind is not ValueKind.STATIC else f"its name {name.text!r} holds a wildcard"
        key = f"name\0{occurrence.file}\0{occurrence.machine}\0{self.feature.id}"
        if key not in self.said_per_machine:
            self.said_per_machine.add(key)
            self.note(key, f"{why}: {self.feature.id} grants on every state machine's name (*) instead")
        return "*"

    # -- conditions ------------------------------------------------------------------------------

    def conditions(self, grant: FeatureGrant) -> list[Condition]:
        found: list[Condition] = []
        for operator, key, value in grant.conditions:
            if isinstance(value, dict) and set(value) == {"field"}:
                values = self.occurrence.field_values(value["field"])
                known = self.known(values[0]) if len(values) == 1 else None
                if known is None:
                    self.note(f"condition\0{key}", f"{value['field']} is not known before run time, so the condition {key} is left out of {grant.sid}",
                              values[0].pointer if values else None)
                    continue
                found.append((operator, key, (known,)))
                continue
            filled = self.fill(str(value))
            if filled is None:
                continue  # warned: the key is left out
            if "*" in filled and operator == "StringEquals":
                operator = "StringLike"  # an unknown machine name: `*` must match as a wildcard
            found.append((operator, key, (filled,)))
        return found

    # -- warnings --------------------------------------------------------------------------------

    def maybe(self, when: dict[str, Any], sid: str | None = None) -> None:
        path = when.get("field") or when.get("machine-field")
        values = self.occurrence.field_values(path) if "field" in when else self.properties_values(path)
        what = sid or f"the {self.feature.id} permissions"
        self.note(f"when\0{path}\0{sid}", f"{path} is only known at deploy or run time ({values[0].text}): granting {what} in case it applies",
                  values[0].pointer)

    def properties_values(self, path: str) -> tuple[FieldValue, ...]:
        occurrence = self.occurrence
        return occurrence.properties.field_values(path) if isinstance(occurrence, MachineFeature) else ()

    def warn(self, path: str, value: FieldValue | None, reason: str | None = None) -> None:
        if reason is None:
            assert value is not None
            if value.kind is ValueKind.DYNAMIC:
                reason = f"is known only at run time ({value.text})"
            elif value.kind is ValueKind.DEPLOY_TIME:
                reason = f"is only known at deploy time ({value.text})"
            else:
                reason = f"holds a wildcard or a policy variable ({value.text!r}), which policygen will not write as a name"
        self.note(f"field\0{path}", f"{path} {reason}: {self.feature.id} allows the documented fallback instead",
                  value.pointer if value is not None else None)

    def note(self, key: str, message: str, pointer: str | None = None) -> None:
        if key in self.warned:
            return
        self.warned.add(key)
        occurrence = self.occurrence
        if isinstance(occurrence, MachineFeature) and occurrence.kind is FeatureKind.STATE_MACHINE:
            where = f"state machine {occurrence.machine!r}"
            file = occurrence.properties.file
        else:
            where = f"state {occurrence.path!r} ({occurrence.resource if isinstance(occurrence, MachineFeature) else _short(occurrence.resource)})"
            file = occurrence.file
        self.notices.append(Notice(f"{where}: {message}", Location(file, pointer=pointer if pointer else occurrence.pointer or None)))


def _key_arn(text: str) -> str | None:
    """kms-key-arn (state-machine.yaml): a key ARN as written, a key id as the key's ARN; an alias
    names no key (None)."""
    if _KEY_ARN.fullmatch(text):
        return text
    if "alias/" in text or not _KEY_ID.fullmatch(text) or is_arn(text):
        return None
    return f"arn:{{partition}}:kms:{{region}}:{{account}}:key/{text}"


def _connection_secret(text: str) -> str | None:
    """connection-secret (state-machine.yaml): the Secrets Manager secret EventBridge keeps a connection's credentials in."""
    match = _CONNECTION.fullmatch(text)
    if match is None:
        return None
    return f"arn:{match['p']}:secretsmanager:{match['r']}:{match['a']}:secret:events!connection/{match['name']}/*"


_TRANSFORMS = {"kms-key-arn": _key_arn, "connection-secret": _connection_secret}


def _short(resource: str) -> str:
    return resource.split(":::", 1)[1] if ":::" in resource else resource
