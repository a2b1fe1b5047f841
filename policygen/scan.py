"""State machine definitions -> the Batch Task states in them, with what each state sends.

Walks every state, through Parallel branches and Map processors (Iterator and ItemProcessor, inline
and DISTRIBUTED), and records each Task whose Resource is a Batch integration (REFERENCE.md §1).
"""

from __future__ import annotations

import re
from operator import attrgetter
from dataclasses import dataclass
from enum import Enum
from typing import Any

from policygen import aws_names
from policygen.errors import InputError
from policygen.load.asl import StateMachine
from policygen.load.document import escape_pointer_token
from policygen.load.template import OpaqueValue, has_references, unescape

JSONPATH = "JSONPath"
JSONATA = "JSONata"

_STATES_RESOURCE = re.compile(r"^arn:(?P<partition>\$\{AWS::Partition\}|[^:]*):states:::(?P<integration>.*)$")
_DEPLOY_PARTITION = "${AWS::Partition}"  # in a template: the partition it is deployed in
KNOWN_PARTITIONS = aws_names.PARTITIONS
_JSONATA_EXPRESSION = re.compile(r"^\{%.*%\}$", re.DOTALL)
_SDK_API_ACTION = re.compile(r"[a-z][A-Za-z0-9]*")
_LANGUAGES = (JSONPATH, JSONATA)
_ABSENT = object()


class Pattern(str, Enum):
    """How a Task state calls Batch (REFERENCE.md §1)."""

    REQUEST_RESPONSE = "request-response"
    RUN_JOB = "run-job"
    CALLBACK = "callback"
    SDK = "sdk"


_OPTIMIZED_PATTERNS = {
    "batch:submitJob": Pattern.REQUEST_RESPONSE,
    "batch:submitJob.sync": Pattern.RUN_JOB,
    "batch:submitJob.waitForTaskToken": Pattern.CALLBACK,
}


class ValueKind(str, Enum):
    STATIC = "static"  # written in the definition
    # Known only at run time: a JSONPath/intrinsic (`.$` key) or a JSONata `{% %}`; or chosen at
    # deploy time in a way policygen does not evaluate (Fn::If, ${self:...}: policygen/load/template.py).
    DYNAMIC = "dynamic"
    # Static once deployed: a template value with references; `text` is in Fn::Sub syntax, e.g.
    # "arn:${AWS::Partition}:batch:${AWS::Region}:${AWS::AccountId}:job-queue/${QueueName}" or "${RenderQueue}".
    DEPLOY_TIME = "deploy-time"


@dataclass(unsafe_hash=True, slots=True)  # not frozen: a frozen __init__ costs 2x, and one is made per value of every state
class FieldValue:
    """One value a state sends: the literal, or the expression that yields it at run time."""

    kind: ValueKind
    text: str
    field: str  # the key as written in the state, e.g. "JobQueue.$"
    pointer: str  # where it is in the document

    @property
    def is_static(self) -> bool:
        return self.kind is ValueKind.STATIC


_STATIC = ValueKind.STATIC


@dataclass(unsafe_hash=True, slots=True)
class Tag:
    key: str
    value: FieldValue


@dataclass(unsafe_hash=True, slots=True)  # see FieldValue
class BatchTask:
    """A Task state that calls AWS Batch, and the values it sends that permissions depend on."""

    machine: str
    file: str
    path: str  # state names from the top, e.g. "Both/branch[0]/Per sample/Call variants"
    pointer: str  # JSON pointer to the state in its document
    resource: str
    partition: str | None  # None: a template's ${AWS::Partition}, the partition it is deployed in
    pattern: Pattern
    action: str  # the IAM action the call itself needs, e.g. "batch:SubmitJob"
    query_language: str
    job_queue: FieldValue | None = None
    job_definition: FieldValue | None = None
    share_identifier: FieldValue | None = None
    tags: tuple[Tag, ...] = ()
    # Set when the tags as a whole (or every argument) come from an expression: which tags are
    # sent is unknown, so tag-on-create permissions may be needed.
    dynamic_tags: FieldValue | None = None
    consumable_resources: tuple[FieldValue, ...] = ()
    # The role the state assumes for its call (`Credentials.RoleArn`), if any: the Batch permissions
    # are then that role's, and the execution role needs sts:AssumeRole on it instead.
    credentials: FieldValue | None = None

    @property
    def sends_tags(self) -> bool:
        return bool(self.tags) or self.dynamic_tags is not None


_tag_key = attrgetter("key")


def scan(machine: StateMachine, batch_actions: frozenset[str] | None = None) -> list[BatchTask]:
    """Every Batch Task state of `machine`, in document order.

    `batch_actions` are the known Batch API actions (IAM names, e.g. "DescribeJobs") that an
    `aws-sdk:batch:` Resource may call; None skips that check.
    """
    definition = machine.definition
    top_language = definition.get("QueryLanguage", JSONPATH)
    _check_language(top_language, machine, machine.pointer + "/QueryLanguage")
    found: list[BatchTask] = []
    _Walker(machine, top_language, batch_actions).states(definition, machine.pointer, "", found)
    return found


def _check_language(value: Any, machine: StateMachine, pointer: str) -> None:
    if value not in (JSONPATH, JSONATA):
        raise _error(machine, f"QueryLanguage must be \"JSONPath\" or \"JSONata\", not {value!r}", pointer)


def _error(machine: StateMachine, message: str, pointer: str) -> InputError:
    """An InputError at `pointer`; for a machine from a template (or a SAM DefinitionUri file) the
    message names the machine's logical id or address, and the template when the file is another."""
    template = machine.template
    if template is not None:
        where = f" in {template.file}" if template.file != machine.file else ""
        message = f"state machine {machine.name!r}{where}: {message}"
    return InputError(message, machine.document.location(pointer))


class _Walker:
    def __init__(self, machine: StateMachine, top_language: str, batch_actions: frozenset[str] | None):
        self.machine = machine
        self.machine_name = machine.name
        self.file = machine.file
        self.top_language = top_language
        self.batch_actions = batch_actions
        self.template_free = machine.template is None
        # Resource -> (pattern, action, partition): a definition repeats a few Resources many times.
        self.calls: dict[str, tuple[Pattern, str, str | None]] = {}

    def error(self, message: str, pointer: str) -> InputError:
        return _error(self.machine, message, pointer)

    def states(self, container: Any, pointer: str, path: str, found: list[BatchTask]) -> None:
        """Appends the Batch tasks in a definition-like object (one with "States") to `found`."""
        if not isinstance(container, dict):
            raise self.error("expected an object with \"States\"", pointer)
        states = container.get("States")
        if not isinstance(states, dict):
            raise self.error("expected \"States\" to be an object of named states", pointer + "/States")
        for name, state in states.items():
            if not isinstance(state, dict):
                raise self.error(f"state {name!r} must be an object", f"{pointer}/States/{escape_pointer_token(name)}")
            kind = state.get("Type")
            if kind == "Task":
                resource = state.get("Resource")
                if isinstance(resource, str) and "batch:" not in resource:
                    continue  # a Task calling another service (task() would say the same, later)
                task = self.task(
                    state, f"{pointer}/States/{escape_pointer_token(name)}", f"{path}/{name}" if path else name
                )
                if task is not None:
                    found.append(task)
            elif kind == "Parallel" or kind == "Map":
                state_pointer = f"{pointer}/States/{escape_pointer_token(name)}"
                self.state(state, kind, state_pointer, f"{path}/{name}" if path else name, found)
            # any other state (most of them) holds no Task: skipping it early keeps large definitions fast

    def state(self, state: dict[str, Any], kind: str, pointer: str, path: str, found: list[BatchTask]) -> None:
        """A Parallel or Map state: the Batch tasks in its branches or its processor."""
        if kind == "Parallel":
            branches = state.get("Branches")
            if not isinstance(branches, list):
                raise self.error("a Parallel state needs \"Branches\", a list", pointer + "/Branches")
            for index, branch in enumerate(branches):
                self.states(branch, f"{pointer}/Branches/{index}", f"{path}/branch[{index}]", found)
        else:
            # ItemProcessor (inline or DISTRIBUTED) replaced the older Iterator; both hold States.
            for key in ("ItemProcessor", "Iterator"):
                if key in state:
                    self.states(state[key], f"{pointer}/{key}", path, found)

    def task(self, state: dict[str, Any], pointer: str, path: str) -> BatchTask | None:
        resource = state.get("Resource")
        if not isinstance(resource, str):
            raise self.error(f"state {path!r}: a Task state's \"Resource\" must be a string, not {resource!r}", pointer + "/Resource")
        if isinstance(resource, OpaqueValue) and "batch:" in resource:
            # e.g. !If [Sync, ...batch:submitJob.sync, ...batch:submitJob]: which integration, and so
            # which permissions, is chosen at deploy time. Skipping the state would drop its permissions.
            raise self.error(
                f"state {path!r}: its Resource is chosen at deploy time ({resource}), so which Batch "
                "integration it calls (and what it needs) is unknown; write one Resource ARN per state",
                pointer + "/Resource",
            )
        call = self.calls.get(resource)
        if call is None:
            call = self.call(resource, pointer, path)
            if call is None:
                return None
            if type(resource) is str:
                self.calls[resource] = call
        pattern, action, partition = call
        language = state.get("QueryLanguage", self.top_language)
        if language not in _LANGUAGES:
            _check_language(language, self.machine, pointer + "/QueryLanguage")
        arguments = _Arguments.of(state, language, pointer, path, self)
        job_queue = arguments.string("JobQueue")
        job_definition = arguments.string("JobDefinition")
        share_identifier = arguments.string("ShareIdentifier")
        tags, dynamic_tags = arguments.tags()
        consumable_resources = arguments.consumable_resources()
        self.check_names(path, partition, job_queue, job_definition, consumable_resources)
        credentials = state.get("Credentials")
        return BatchTask(
            self.machine_name,
            self.file,
            path,
            pointer,
            resource,
            partition,
            pattern,
            action,
            language,
            job_queue,
            job_definition,
            share_identifier,
            tags,
            dynamic_tags,
            consumable_resources,
            None if credentials is None else self.credentials(credentials, language, pointer, path),
        )

    def call(self, resource: str, pointer: str, path: str) -> tuple[Pattern, str, str | None] | None:
        """(pattern, IAM action, partition) of a Task's Resource, None for no Batch integration;
        the same for every state with that Resource (task() keeps it per walk)."""
        match = _STATES_RESOURCE.match(resource) if "batch:" in resource else None
        if match is None:
            return None
        integration = match["integration"]
        if integration.startswith("batch:"):
            pattern, action = self.optimized_pattern(integration, pointer, path)
        elif integration.startswith("aws-sdk:batch:"):
            pattern, action = Pattern.SDK, self.sdk_action(integration, pointer, path)
        else:
            return None
        partition: str | None = match["partition"]
        if partition == _DEPLOY_PARTITION and self.machine.template is not None:
            partition = None
        elif partition not in KNOWN_PARTITIONS:
            raise self.error(
                f"state {path!r}: unknown partition {partition!r} in {resource!r}; "
                f"expected one of {', '.join(KNOWN_PARTITIONS)}"
                + (" (CloudFormation fills in ${AWS::Partition}: scan the template)" if partition == _DEPLOY_PARTITION else ""),
                pointer + "/Resource",
            )
        return pattern, action, partition

    def check_names(self, path: str, partition: str | None, job_queue: FieldValue | None,
                    job_definition: FieldValue | None, consumable_resources: tuple[FieldValue, ...]) -> None:
        """A static queue, job definition or consumable resource that is not a Batch name or ARN (a
        wildcard, another partition) would be granted as written: refused instead."""
        problem = aws_names.batch_reference_problem
        if job_queue is not None and job_queue.kind is _STATIC:
            if problem(aws_names.JOB_QUEUE, job_queue.text, partition) is not None:
                self.refuse_name(path, partition, aws_names.JOB_QUEUE, job_queue)
        if job_definition is not None and job_definition.kind is _STATIC:
            if problem(aws_names.JOB_DEFINITION, job_definition.text, partition) is not None:
                self.refuse_name(path, partition, aws_names.JOB_DEFINITION, job_definition)
        for value in consumable_resources:
            if value.kind is _STATIC and problem(aws_names.CONSUMABLE_RESOURCE, value.text, partition) is not None:
                self.refuse_name(path, partition, aws_names.CONSUMABLE_RESOURCE, value)

    def refuse_name(self, path: str, partition: str | None, resource_type: str, value: FieldValue) -> None:
        problem = aws_names.batch_reference_problem(resource_type, value.text, partition)
        raise self.error(f"state {path!r}: {value.field}: {problem}", value.pointer)

    def credentials(self, value: Any, language: str, pointer: str, path: str) -> FieldValue:
        """`Credentials.RoleArn` (or `RoleArn.$`, a JSONata expression): the role Step Functions
        assumes to make the call (Step Functions Developer Guide, "Task workflow state", Credentials)."""
        credentials_pointer = pointer + "/Credentials"
        if isinstance(value, dict):
            role, _ = _Arguments(value, language, credentials_pointer, path, self, None).value(value, "RoleArn", credentials_pointer)
            if role is not None:
                return role
        return FieldValue(ValueKind.DYNAMIC, str(value), "Credentials", credentials_pointer)

    def optimized_pattern(self, integration: str, pointer: str, path: str) -> tuple[Pattern, str]:
        pattern = _OPTIMIZED_PATTERNS.get(integration)
        if pattern is None:
            raise self.error(
                f"state {path!r}: unknown Batch integration {integration!r}; expected batch:submitJob, "
                "batch:submitJob.sync, batch:submitJob.waitForTaskToken or aws-sdk:batch:<apiAction>",
                pointer + "/Resource",
            )
        return pattern, "batch:SubmitJob"

    def sdk_action(self, integration: str, pointer: str, path: str) -> str:
        api_action = integration[len("aws-sdk:batch:"):]
        # SDK integrations support Request Response and Wait for Callback, never .sync
        # (Step Functions Developer Guide, "Discover service integration patterns").
        if api_action.endswith(".waitForTaskToken"):
            api_action = api_action[: -len(".waitForTaskToken")]
        if not _SDK_API_ACTION.fullmatch(api_action):
            raise self.error(
                f"state {path!r}: {integration!r} does not name a Batch API action in camelCase "
                "(e.g. aws-sdk:batch:describeJobs); SDK integrations do not support .sync",
                pointer + "/Resource",
            )
        # REFERENCE.md §2: the IAM action is the API action with its first letter upper-cased.
        iam_name = api_action[0].upper() + api_action[1:]
        if self.batch_actions is not None and iam_name not in self.batch_actions:
            raise self.error(
                f"state {path!r}: unknown Batch API action {api_action!r} in {integration!r}",
                pointer + "/Resource",
            )
        return f"batch:{iam_name}"


class _Arguments:
    """The request a Task state sends: `Parameters` (JSONPath) or `Arguments` (JSONata)."""

    __slots__ = ("body", "language", "jsonpath", "jsonata", "template_free", "pointer", "path", "walker", "whole")

    def __init__(self, body: Any, language: str, pointer: str, path: str, walker: _Walker, whole: FieldValue | None):
        self.body = body if isinstance(body, dict) else {}
        self.language = language
        self.jsonpath = language == JSONPATH
        self.jsonata = language == JSONATA
        self.template_free = walker.template_free
        self.pointer = pointer
        self.path = path
        self.walker = walker
        self.whole = whole  # the arguments as one run-time expression

    def error(self, message: str, pointer: str) -> InputError:
        return self.walker.error(f"state {self.path!r}: {message}", pointer)

    @classmethod
    def of(cls, state: dict[str, Any], language: str, pointer: str, path: str, walker: _Walker) -> _Arguments:
        key = "Arguments" if language == JSONATA else "Parameters"
        body = state.get(key)
        body_pointer = f"{pointer}/{key}"
        whole = None
        if type(body) is dict:
            pass  # nearly every state
        elif language == JSONATA and isinstance(body, str) and _JSONATA_EXPRESSION.match(body):
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
            expression = container.get(dollar, _ABSENT)
            if expression is not _ABSENT:
                if name in container:
                    raise self.error(f"both \"{name}\" and \"{dollar}\" are set", pointer)
                field_pointer = f"{pointer}/{escape_pointer_token(dollar)}"
                if not isinstance(expression, str):
                    raise self.error(f"\"{dollar}\" must be a path or an intrinsic function", field_pointer)
                return FieldValue(ValueKind.DYNAMIC, expression, dollar, field_pointer), None
        raw = container.get(name, _ABSENT)
        if raw is _ABSENT:
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
        if self.jsonata and _JSONATA_EXPRESSION.match(raw):
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
            found.sort(key=_tag_key)
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
