"""AWS SDK integration states (arn:<partition>:states:::aws-sdk:<service>:<apiAction>) -> what the
execution role needs, following rules/integrations/aws-sdk.yaml (requirements/sdk_table.py).

The IAM actions come from the action-name rule and its exceptions. Their resources come from the
state's arguments where the table's `resource-scoping` says how (an S3 Bucket and Key, a DynamoDB
TableName, an SQS QueueUrl...); an argument known only at run time, absent, or holding a wildcard
takes the table's fallbacks, the narrowest one whose own arguments are known, with a warning. Every
other call is granted on the resource types the Service Authorization Reference lists for its
action, names as `*` (or on "*" for an action without resource-level permissions), with a warning:
the policy cannot name what the call acts on.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

from policygen.errors import InputError, Location, Notice
from policygen.iam import catalog, wildcard
from policygen.iam.arns import is_arn
from policygen.load.document import escape_pointer_token
from policygen.requirements.deploy_time import DeployTimeValues
from policygen.requirements.integrations import camel_case
from policygen.requirements.needs import Need
from policygen.requirements.sdk_table import ScopedResource, Scoping, SdkCall, resolve_call, sdk_table
from policygen.requirements.service_needs import _Reader, _short
from policygen.scan import FieldValue, ServiceTask, ValueKind

_FIELD = re.compile(r"\{field:(?P<path>[^}|]+)(?:\|(?P<transform>[a-z0-9-]+))?\}")
_TARGET_STAND_INS = {"{partition}": "aws", "{region}": "us-east-1", "{account}": "123456789012"}
_SQS_URL = re.compile(r"https://(?:sqs\.(?P<r1>[a-z]{2}(?:-[a-z]+)+-\d)|(?P<r2>[a-z]{2}(?:-[a-z]+)+-\d)\.queue)\.amazonaws\.com(?:\.cn)?/(?P<account>\d{12})/(?P<name>[A-Za-z0-9_-]{1,80}(?:\.fifo)?)")


def call_problem(api: str) -> str | None:
    """Why aws-sdk:<api> ("<sdk service>:<apiAction>") cannot be granted, or None (scan.Catalogue's question)."""
    resolved = resolve_call(api)
    return resolved if isinstance(resolved, str) else None


def needs_of_sdk(task: ServiceTask, deploy_time: DeployTimeValues | None, notices: list[Notice]) -> list[Need]:
    """What an aws-sdk `task` needs; what the policy cannot name goes to `notices`."""
    call = resolve_call(task.api)
    if isinstance(call, str):  # the scan refuses these; a task built elsewhere must not lose its grant silently
        raise InputError(f"state {task.path!r}: {call} ({task.resource})", Location(task.file, pointer=task.pointer + "/Resource"))
    reader = _Reader(task, deploy_time, notices)
    scopings = sdk_table().scoping.get((call.sdk, call.api), ())
    found: list[Need] = []
    unread: dict[tuple[str, ...], list[str]] = {}  # the action's resource types' patterns -> actions granted on them
    for action in call.actions:
        entries = [entry for entry in scopings if entry.actions is None or action in entry.actions]
        if entries and _all_left_out(task, entries):
            continue  # e.g. DeleteItem for a transaction without Delete items
        resources = [resource for entry in entries for resource in _scoped(reader, entry)]
        if resources:
            why = " ".join(dict.fromkeys([call.why, *(entry.why for entry in entries)]))
            sources = tuple(dict.fromkeys([*call.sources, *(url for entry in entries for url in entry.sources)]))
        else:
            resources = list(catalog.resource_patterns(action))
            unread.setdefault(tuple(resources), []).append(action)
            why = f"{call.why} policygen does not read which resource the call acts on: every resource of the action's types."
            sources = tuple(dict.fromkeys([*call.sources, *sdk_table().default_sources]))
        found.append(Need(_sid(call), (action,), tuple(dict.fromkeys(resources)), why, ", ".join(sources), task))  # type: ignore[arg-type]
    notices.extend(_unread_notice(task, actions, patterns) for patterns, actions in unread.items())
    found.extend(_option_needs(task, call, found))
    return found


def _option_needs(task: ServiceTask, call: SdkCall, needs: list[Need]) -> list[Need]:
    """The actions the state's request options add (an S3 copy that sets Tagging), on the
    resources of the action they go with."""
    found = []
    for option in sdk_table().options.get((call.sdk, call.api), ()):
        if not any(task.field_values(field) for field in option.fields):
            continue
        base = next(need for need in needs if option.on in need.actions)
        why = f"{option.why} The state sends {', '.join(f for f in option.fields if task.field_values(f))}."
        found.append(Need(base.sid, option.actions, base.resources, why, ", ".join(option.sources), task))  # type: ignore[arg-type]
    return found


def _sid(call: SdkCall) -> str:
    return f"Sdk{camel_case(call.sdk)}{call.api[:1].upper()}{call.api[1:]}"


def _unread_notice(task: ServiceTask, actions: list[str], patterns: tuple[str, ...]) -> Notice:
    """The policy cannot name what the call acts on: every resource of the actions' types, or "*"."""
    named = ", ".join(actions)
    if patterns == ("*",):
        said = f"{named} {'has' if len(actions) == 1 else 'have'} no resource-level permissions (Service Authorization Reference), so the policy allows {'it' if len(actions) == 1 else 'them'} on \"*\""
    else:
        said = f"policygen does not read which resources the call acts on: the policy allows {named} on {', '.join(patterns)}"
    return Notice(f"state {task.path!r} ({_short(task.resource)}): {said}", Location(task.file, pointer=task.pointer + "/Resource"))


def _all_left_out(task: ServiceTask, entries: list[Scoping]) -> bool:
    """Whether every resource of the entries waits for an argument the state does not send."""
    return all(
        resource.when_present is not None and not task.field_values(resource.when_present)
        for entry in entries
        for resource in entry.resources
    )


def _scoped(reader: _Reader, entry: Scoping) -> list[str]:
    found: list[str] = []
    for resource in entry.resources:
        if resource.when_present is not None and not reader.task.field_values(resource.when_present):
            continue  # e.g. a Query without IndexName: only the table
        found.extend(_filled(reader, resource))
    return found


# --- one scoped resource: its arguments' values, each combination named or replaced by a fallback


@dataclass(frozen=True)
class _Option:
    """One value an argument may take: the text the policy can name, or (text None) why it cannot."""

    path: str
    value: FieldValue | None
    text: str | None
    is_arn: bool
    reason: str | None = None  # None: the fallback warning says it from the value's kind


def _filled(reader: _Reader, resource: ScopedResource) -> list[str]:
    paths = list(dict.fromkeys(match["path"] for match in _FIELD.finditer(resource.name)))
    found = []
    for combination in itertools.product(*(_options(reader, resource, path) for path in paths)):
        known = {option.path: option for option in combination if option.text is not None}
        if len(known) == len(paths):
            named = _name(resource, resource.name, known)
            if isinstance(named, str):
                found.append(named)
                continue
            del known[named.path]  # a value the transform or the shape check refused
            combination = tuple(named if option.path == named.path else option for option in combination)
        found.append(_fallback(reader, resource, known, combination))
    return found


def _options(reader: _Reader, resource: ScopedResource, path: str) -> list[_Option]:
    values = _keys(reader.task, path[: -len("[keys]")]) if path.endswith("[keys]") else list(reader.task.field_values(path))
    if resource.absent is not None and "[*]" in path and reader.task.items_without(path):
        values.append(FieldValue(ValueKind.STATIC, resource.absent, path, reader.task.pointer))
    if not values:
        return [_Option(path, None, None, False, "sends no value")]
    options = []
    for value in values:
        known = reader.known(value)
        if known is None:
            options.append(_Option(path, value, None, False))
        elif value.kind is ValueKind.STATIC and "${" in known.text:
            # Literal text (a template's ${!x}) that IAM would read as a policy variable.
            options.append(_Option(path, value, None, False, f"holds {known.text!r}, which IAM would read as a policy variable"))
        else:
            options.append(_Option(path, value, known.text, known.is_arn))
    return options


def _name(resource: ScopedResource, template: str, known: dict[str, _Option]) -> str | _Option:
    """`template` with its {field:...} parts filled, or the option that cannot stand there."""
    fields = {match["path"]: match for match in _FIELD.finditer(template)}
    arn_field = known.get(resource.arn_field) if resource.arn_field in fields else None  # type: ignore[arg-type]
    if arn_field is not None and arn_field.is_arn:
        # A static ARN stands for the name up to its field; the rest is kept where it goes on to
        # another argument (table/{TableName}/index/{IndexName}), not a suffix of names (a
        # secret's -??????: its full ARN already ends in the suffix).
        tail = template[fields[arn_field.path].end():]
        template = "\0" + (tail if _FIELD.search(tail) else "")
    else:
        arn_field = None
    parts: list[str] = []
    last = 0
    for match in _FIELD.finditer(template):
        parts.append(template[last:match.start()])
        option = known[match["path"]]
        if option.is_arn:
            return _refused(option, "is an ARN where the table expects a name")
        text = _TRANSFORMS[match["transform"]](option.text or "") if match["transform"] else option.text
        if text is None:
            return _refused(option, f"is no value the {match['transform']} transform can read")
        parts.append(text)
        last = match.end()
    parts.append(template[last:])
    name = "".join(parts)
    if arn_field is not None:
        name = arn_field.text + name[1:]  # type: ignore[operator]
    if not _has_documented_shape(name, resource):
        return _refused(arn_field or known[next(iter(fields))], f"names no resource of the documented form {resource.dynamic[-1]}")
    return name


def _refused(option: _Option, reason: str) -> _Option:
    return _Option(option.path, option.value, None, False, reason)


def _has_documented_shape(name: str, resource: ScopedResource) -> bool:
    """Whether `name` is a resource of the entry's kind: it matches the widest fallback's shape. A
    reference kept for CloudFormation output (`${Topic}`) is the template's to resolve."""
    if "${" in name:
        return True
    text = name
    for placeholder, stand_in in _TARGET_STAND_INS.items():
        text = text.replace(placeholder, stand_in)
    shape = _FIELD.sub("*", resource.dynamic[-1])
    for placeholder in _TARGET_STAND_INS:
        shape = shape.replace(placeholder, "*")
    return is_arn(text) and wildcard.matches(shape, text)


def _fallback(reader: _Reader, resource: ScopedResource, known: dict[str, _Option], combination: tuple[_Option, ...]) -> str:
    """The narrowest fallback whose own arguments are all known, with a warning for each unknown one."""
    chosen = resource.dynamic[-1]
    for dynamic in resource.dynamic:
        if all(match["path"] in known for match in _FIELD.finditer(dynamic)):
            filled = _name(resource, dynamic, known) if _FIELD.search(dynamic) else dynamic
            if isinstance(filled, str):
                chosen = filled
                break
    for option in combination:
        if option.path in known:
            continue
        pointer = option.value.pointer if option.value is not None else reader.task.pointer
        reader.fallback(option.path.removesuffix("[keys]"), option.value, chosen, pointer, option.reason)
    return chosen


def _keys(task: ServiceTask, name: str) -> list[FieldValue]:
    """The keys of a static object argument (a DynamoDB batch call's RequestItems: its tables), or
    the one value standing for it when it is an expression."""
    arguments = task.arguments
    if arguments is None:
        return []
    if arguments.whole is not None:
        return [arguments.whole]
    value, raw = arguments.value(arguments.body, name, arguments.pointer)
    if value is not None and value.kind is not ValueKind.STATIC:
        return [value]
    if value is None and raw is None:
        return []
    if not isinstance(raw, dict):
        raise arguments.error(f"\"{name}\" must be an object whose keys are tables", f"{arguments.pointer}/{escape_pointer_token(name)}")
    found = []
    for key in raw:
        # A JSONPath key "orders.$" sends a run-time value to the table "orders".
        table = key[:-2] if arguments.jsonpath and key.endswith(".$") else key
        kind, text = arguments.kind_of(table)
        found.append(FieldValue(kind, text, name, f"{arguments.pointer}/{escape_pointer_token(name)}/{escape_pointer_token(key)}"))
    return found


# --- transforms (aws-sdk.yaml `transforms`): the argument's text -> the name part, or None


def _sqs_queue_arn(text: str) -> str | None:
    match = _SQS_URL.fullmatch(text)
    if match is None:
        return None
    return f"arn:{{partition}}:sqs:{match['r1'] or match['r2']}:{match['account']}:{match['name']}"


def _ssm_parameter_path(text: str) -> str | None:
    if ":" in text:  # a version or label selector (name:3): the parameter's ARN has none
        return None
    return "/" + text.strip("/") if text.strip("/") else None  # a path "/app/" is the ARN's parameter/app


def _s3_uri_object(text: str) -> str | None:
    return text[len("s3://"):] if text.startswith("s3://") and "/" in text[len("s3://"):] else None


def _s3_copy_source(text: str) -> str | None:
    source = text.lstrip("/")
    if "%" in source or "/" not in source:  # URL-encoded, or no key
        return None
    return source


def _kms_key_id(text: str) -> str | None:
    return None if text.startswith("alias/") else text


def _lambda_function_name(text: str) -> str | None:
    return None if ":function:" in text or text.count(":") > 1 else text


_TRANSFORMS: dict[str, Callable[[str], str | None]] = {
    "sqs-queue-arn": _sqs_queue_arn,
    "ssm-parameter-path": _ssm_parameter_path,
    "s3-uri-object": _s3_uri_object,
    "s3-copy-source": _s3_copy_source,
    "kms-key-id": _kms_key_id,
    "lambda-function-name": _lambda_function_name,
}
