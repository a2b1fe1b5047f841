"""The request a Task state sends: `Parameters` (JSONPath) or `Arguments` (JSONata), read field by field."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from policygen.errors import InputError, Location
from policygen.iam import aws_names
from policygen.load.document import escape_pointer_token
from policygen.load.template import (
    OpaqueValue,
    has_references,
    unescape,
)
from policygen.scan.model import (
    _STATIC,
    ABSENT,
    JSONATA,
    JSONATA_EXPRESSION,
    JSONPATH,
    FieldValue,
    Tag,
    ValueKind,
    tag_key,
)

if TYPE_CHECKING:  # only for annotations: walk.py makes the _Arguments
    from policygen.load.asl import StateMachine
    from policygen.scan.walk import Walker


class _Arguments:
    """The request a Task state sends: `Parameters` (JSONPath) or `Arguments` (JSONata)."""

    __slots__ = ("body", "language", "jsonpath", "jsonata", "template_free", "pointer", "path", "walker", "whole", "read")

    def __init__(self, body: Any, language: str, pointer: str, path: str, walker: Walker, whole: FieldValue | None):
        self.body = body if isinstance(body, dict) else {}
        self.language = language
        self.jsonpath = language == JSONPATH
        self.jsonata = language == JSONATA
        self.template_free = walker.template_free
        self.pointer = pointer
        self.path = path
        self.walker = walker
        self.whole = whole  # the arguments as one run-time expression
        self.read: dict[str, tuple[FieldValue, ...]] | None = None  # field_values' answers, once asked

    def error(self, message: str, pointer: str) -> InputError:
        return self.walker.error(f"state {self.path!r}: {message}", pointer)

    @classmethod
    def of(cls, state: dict[str, Any], language: str, pointer: str, path: str, walker: Walker) -> _Arguments:
        key = "Arguments" if language == JSONATA else "Parameters"
        body = state.get(key)
        body_pointer = f"{pointer}/{key}"
        whole = None
        if type(body) is dict:
            pass  # nearly every state
        elif language == JSONATA and isinstance(body, str) and JSONATA_EXPRESSION.match(body):
            whole = FieldValue(ValueKind.DYNAMIC, body, key, body_pointer)
        elif isinstance(body, OpaqueValue):  # e.g. Parameters: !If [...]: known only at deploy time
            whole = FieldValue(ValueKind.DYNAMIC, str(body), key, body_pointer)
        elif body is not None and not isinstance(body, dict):
            raise walker.error(f"state {path!r}: \"{key}\" must be an object", body_pointer)
        return cls(body, language, body_pointer, path, walker, whole)

    def value(self, container: dict[str, Any], name: str, pointer: str) -> tuple[FieldValue | None, Any]:
        """(the field as a FieldValue if it is a string or dynamic, the raw value otherwise)."""
        if self.jsonpath:
            dollar = name + ".$"
            expression = container.get(dollar, ABSENT)
            if expression is not ABSENT:
                if name in container:
                    raise self.error(f"both \"{name}\" and \"{dollar}\" are set", pointer)
                field_pointer = f"{pointer}/{escape_pointer_token(dollar)}"
                if not isinstance(expression, str):
                    raise self.error(f"\"{dollar}\" must be a path or an intrinsic function", field_pointer)
                return FieldValue(ValueKind.DYNAMIC, expression, dollar, field_pointer), None
        raw = container.get(name, ABSENT)
        if raw is ABSENT:
            return None, None
        if isinstance(raw, str):
            # kind_of(), inlined for the common case: a loose ASL file's JSONPath string
            if self.template_free and not self.jsonata:
                kind = ValueKind.DEPLOY_TIME if "${" in raw else ValueKind.STATIC
                return FieldValue(kind, raw, name, f"{pointer}/{escape_pointer_token(name)}"), None
            kind, text = self.kind_of(raw)
            return FieldValue(kind, text, name, f"{pointer}/{escape_pointer_token(name)}"), None
        return None, raw

    def kind_of(self, raw: str) -> tuple[ValueKind, str]:
        """A string value's kind, and its text (a template's literal without Fn::Sub escapes)."""
        if self.jsonata and JSONATA_EXPRESSION.match(raw):
            return ValueKind.DYNAMIC, raw
        if self.template_free:
            # A loose ASL file deployed through a template holds DefinitionSubstitutions
            # placeholders (`${QueueArn}`): filled in at deploy time, never literal text. In a
            # policy, `${...}` would read as an IAM policy variable.
            return (ValueKind.DEPLOY_TIME if "${" in raw else ValueKind.STATIC), raw
        if isinstance(raw, OpaqueValue):
            return ValueKind.DYNAMIC, str(raw)
        if has_references(raw):
            return ValueKind.DEPLOY_TIME, raw
        return ValueKind.STATIC, unescape(raw)

    def string(self, name: str) -> FieldValue | None:
        if self.whole is not None:
            return self.whole
        field, raw = self.value(self.body, name, self.pointer)
        if raw is not None:
            raise self.error(
                f"\"{name}\" must be a string", f"{self.pointer}/{escape_pointer_token(name)}"
            )
        return field

    def tags(self) -> tuple[tuple[Tag, ...], FieldValue | None]:
        """(the tags the state sends, sorted by key; the value standing for them when which tags
        are sent is not known: the arguments or Tags as a whole from an expression, or a tag key
        with a deploy-time `${Name}` placeholder)."""
        if self.whole is not None:
            return (), self.whole
        field, raw = self.value(self.body, "Tags", self.pointer)
        if field is not None:
            if field.kind is not ValueKind.DYNAMIC:
                raise self.error("\"Tags\" must be an object of tag keys and values", f"{self.pointer}/Tags")
            return (), field
        if raw is None:
            return (), None
        tags_pointer = f"{self.pointer}/Tags"
        if not isinstance(raw, dict):
            raise self.error("\"Tags\" must be an object of tag keys and values", tags_pointer)
        found = []
        placeholder = None  # the first key with a `${...}` placeholder
        jsonpath = self.jsonpath
        for key in raw:
            name = key[:-2] if jsonpath and key.endswith(".$") else key
            if "${" in name:
                # A tag key with a `${Name}` placeholder (DefinitionSubstitutions, a template
                # reference) is only known at deploy time: as text in aws:TagKeys or
                # aws:RequestTag/<key> it would read as an IAM policy variable and deny the tag the
                # state really sends. It is no known tag; it makes the tags dynamic.
                if placeholder is None:
                    placeholder = key
                continue
            value, nested = self.value(raw, name, tags_pointer)
            if nested is not None or value is None:
                raise self.error(
                    f"tag {name!r} must have a string value", f"{tags_pointer}/{escape_pointer_token(key)}"
                )
            problem = aws_names.tag_problem(name, value.text if value.kind is _STATIC else None)
            if problem is not None:
                raise self.error(problem, f"{tags_pointer}/{escape_pointer_token(key)}")
            found.append(Tag(name, value))
        if len(found) > 1:
            found.sort(key=tag_key)
        dynamic = None
        if placeholder is not None:
            dynamic = FieldValue(ValueKind.DEPLOY_TIME, placeholder, "Tags", f"{tags_pointer}/{escape_pointer_token(placeholder)}")
        return tuple(found), dynamic

    def consumable_resources(self) -> tuple[FieldValue, ...]:
        if self.whole is not None:
            return ()
        field, raw = self.value(self.body, "ConsumableResourcePropertiesOverride", self.pointer)
        if field is not None:
            return (field,) if field.kind is ValueKind.DYNAMIC else ()
        if raw is None:
            return ()
        properties_pointer = f"{self.pointer}/ConsumableResourcePropertiesOverride"
        if not isinstance(raw, dict):
            raise self.error("\"ConsumableResourcePropertiesOverride\" must be an object", properties_pointer)
        listed, items = self.value(raw, "ConsumableResourceList", properties_pointer)
        if listed is not None:
            return (listed,) if listed.kind is ValueKind.DYNAMIC else ()
        if items is None:
            return ()
        list_pointer = f"{properties_pointer}/ConsumableResourceList"
        if not isinstance(items, list):
            raise self.error("\"ConsumableResourceList\" must be a list", list_pointer)
        found = []
        for index, item in enumerate(items):
            item_pointer = f"{list_pointer}/{index}"
            if not isinstance(item, dict):
                raise self.error("a consumable resource entry must be an object", item_pointer)
            value, _ = self.value(item, "ConsumableResource", item_pointer)
            if value is not None:
                found.append(value)
        return tuple(found)

    def field_values(self, path: str) -> tuple[FieldValue, ...]:
        """The values sent at a dotted path (`Overrides.TaskRoleArn`; `Entries[*].EventBusName`
        for every item of a list): none when the state sends none there, one dynamic value where a
        part of the path is an expression."""
        if self.whole is not None:
            return (self.whole,)
        # A Map state's few fields are asked once per feature of state-machine.yaml: read them once.
        if self.read is None:
            self.read = {}
        found = self.read.get(path)
        if found is None:
            if "." in path or "[" in path:
                collected: list[FieldValue] = []
                self._collect(self.body, self.pointer, path.split("."), collected, [])
                found = tuple(collected)
            else:  # one field of the arguments (a FunctionName, a QueueUrl): what _collect does for it, directly
                value, raw = self.value(self.body, path, self.pointer)
                if raw is not None:
                    raise self.error(f"\"{path}\" must be a string", f"{self.pointer}/{escape_pointer_token(path)}")
                found = () if value is None else (value,)
            self.read[path] = found
        return found

    def sends(self, name: str) -> bool | None:
        """Whether the state sends the top-level argument `name` (as a value or an expression);
        None when the arguments as a whole are an expression, which may or may not hold it."""
        if self.whole is not None:
            return None
        return name in self.body or (self.jsonpath and f"{name}.$" in self.body)

    def items_without(self, path: str) -> tuple[str, ...]:
        """The JSON pointers of the list items that leave out the field at a `[*]` path
        (an `Entries` item without `EventBusName`); field_values has no value for them."""
        if self.whole is not None:
            return ()
        missing: list[str] = []
        self._collect(self.body, self.pointer, path.split("."), [], missing)
        return tuple(missing)

    def _collect(self, container: dict[str, Any], pointer: str, segments: list[str], found: list[FieldValue],
                 missing: list[str], inside_list: bool = False) -> None:
        segment, rest = segments[0], segments[1:]
        each = segment.endswith("[*]")
        name = segment[:-3] if each else segment
        value, raw = self.value(container, name, pointer)
        field_pointer = f"{pointer}/{escape_pointer_token(name)}"
        if value is not None:
            if (rest or each) and value.kind is _STATIC:
                raise self.error(f"\"{name}\" must be {'a list' if each else 'an object'}", field_pointer)
            found.append(value)  # the value itself, or an expression standing for what is inside it
            return
        if raw is None:
            if inside_list:
                missing.append(pointer)
            return
        if each and not isinstance(raw, list):
            raise self.error(f"\"{name}\" must be a list", field_pointer)
        items = [(item, f"{field_pointer}/{index}") for index, item in enumerate(raw)] if each else [(raw, field_pointer)]
        for item, item_pointer in items:
            if rest:
                kind, text = self.kind_of(item) if isinstance(item, str) else (_STATIC, "")
                if kind is not _STATIC:
                    # a JSONata item ("{% ... %}") or a template value standing for a whole object
                    found.append(FieldValue(kind, text, name, item_pointer))
                    continue
                if not isinstance(item, dict):
                    raise self.error(f"\"{name}\" must hold objects", item_pointer)
                self._collect(item, item_pointer, rest, found, missing, inside_list or each)
            elif isinstance(item, str):
                kind, text = self.kind_of(item)
                found.append(FieldValue(kind, text, name, item_pointer))
            else:
                raise self.error(f"\"{name}\" must be a string", item_pointer)

    def detach(self) -> None:
        """Lets go of the walk, which holds the whole parsed document, once the tables have read
        what they need (-o DIR keeps one input at a time in memory). A later error names the state
        machine and the JSON pointer, without line and column."""
        if not isinstance(self.walker, _DetachedErrors):
            self.walker = _DetachedErrors(self.walker)


def machine_prefix(machine: StateMachine) -> str:
    """How an error names the state machine: for one from a template (or a SAM DefinitionUri
    file), its logical id or address, and the template when the file is another; else nothing."""
    template = machine.template
    if template is None:
        return ""
    where = f" in {template.file}" if template.file != machine.file else ""
    return f"state machine {machine.name!r}{where}: "


class _DetachedErrors:
    """What detached arguments keep of the walk, for an error found later."""

    __slots__ = ("template_free", "file", "prefix")

    def __init__(self, walker: Walker):
        machine = walker.machine
        self.template_free = walker.template_free
        self.file = machine.document.name
        self.prefix = machine_prefix(machine)

    def error(self, message: str, pointer: str) -> InputError:
        return InputError(self.prefix + message, Location(self.file, pointer=pointer))
