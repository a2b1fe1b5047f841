"""Walks every state of a definition, through Parallel branches and Map processors, and records each
Task whose Resource is a Batch integration (docs/aws-facts.md#integration-patterns)."""

from __future__ import annotations

from typing import Any

from policygen.errors import InputError, Location
from policygen.iam import aws_names
from policygen.load.asl import StateMachine
from policygen.load.document import escape_pointer_token
from policygen.load.template import (
    PSEUDO_PARAMETERS,
    SERVERLESS,
    TERRAFORM_PLAN,
    OpaqueValue,
    Ref,
    parse_sub,
    unescape,
)
from policygen.scan.arguments import _Arguments, machine_prefix
from policygen.scan.model import (
    _STATIC,
    ABSENT,
    DEPLOY_PARTITION,
    JSONATA,
    JSONPATH,
    KNOWN_PARTITIONS,
    LANGUAGES,
    MAP_PROCESSORS,
    OPTIMIZED_PATTERNS,
    SDK_API_ACTION,
    STATE_TYPES,
    STATES_RESOURCE,
    BatchTask,
    FieldValue,
    Pattern,
    ServiceTask,
    ValueKind,
)
from policygen.scan.resources import (
    ANY,
    NO_COLON,
    OTHER,
    _placeholders,
    intrinsic_may_call_batch,
    is_serverless_variable,
    literal_tokens,
    may_be_batch,
    parse_intrinsic,
)
from policygen.scan.services import Catalogue, service_task


def scan(machine: StateMachine, batch_actions: frozenset[str] | None = None) -> list[BatchTask]:
    """Every Batch Task state of `machine`, in document order. `batch_actions` are the Batch API
    actions (IAM names) an `aws-sdk:batch:` Resource may call; None skips that check."""
    return _walk(machine, batch_actions, None)[0]


def scan_whole(machine: StateMachine, batch_actions: frozenset[str] | None, catalogue: Catalogue) -> tuple[list[BatchTask], list[ServiceTask]]:
    """Every Task state of `machine`, in document order: the Batch ones, and the others with the
    integration table that describes each (an InputError for a Task whose call is unknown)."""
    return _walk(machine, batch_actions, catalogue)


def _walk(machine: StateMachine, batch_actions: frozenset[str] | None, catalogue: Catalogue | None) -> tuple[list[BatchTask], list[ServiceTask]]:
    definition = machine.definition
    top_language = definition.get("QueryLanguage", JSONPATH)
    _check_language(top_language, machine, machine.pointer + "/QueryLanguage")
    walker = Walker(machine, top_language, batch_actions, catalogue)
    walker.states(definition, machine.pointer, "", found := [])
    return found, walker.services


def _check_language(value: Any, machine: StateMachine, pointer: str) -> None:
    if value not in (JSONPATH, JSONATA):
        raise _error(machine, f"QueryLanguage must be \"JSONPath\" or \"JSONata\", not {value!r}", pointer)


def _error(machine: StateMachine, message: str, pointer: str) -> InputError:
    """An InputError at `pointer`; for a machine from a template (or a SAM DefinitionUri file) the
    message names the machine's logical id or address, and the template when the file is another."""
    return InputError(machine_prefix(machine) + message, _location(machine, pointer))


def _location(machine: StateMachine, pointer: str) -> Location:
    """Where `pointer` is; for a pointer the text does not hold as written (a YAML `~` key) the
    line and column of the nearest enclosing value it does hold."""
    document = machine.document
    location = document.location(pointer)
    enclosing = pointer
    while location.line is None and enclosing:
        enclosing = enclosing.rsplit("/", 1)[0]
        position = document.locator(enclosing)
        if position is not None:
            return Location(document.name, position[0], position[1], pointer)
    return location


def _yaml_scalar(value: Any) -> str:
    """A non-string mapping key as YAML writes it: `null`, `true`, `1`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Walker:
    def __init__(self, machine: StateMachine, top_language: str, batch_actions: frozenset[str] | None, catalogue: Catalogue | None = None):
        self.machine = machine
        # Set when every Task is wanted (the whole role), not only the Batch ones.
        self.catalogue = catalogue
        self.services: list[ServiceTask] = []
        self.machine_name = machine.name
        self.file = machine.file
        self.top_language = top_language
        self.batch_actions = batch_actions
        self.template_free = machine.template is None
        # Resource -> (pattern, action, partition), or None for no Batch integration (a definition
        # repeats a few Resources many times); service_calls the same for the other integrations.
        self.calls: dict[str, tuple[Pattern, str, str | None] | None] = {}
        self.service_calls: dict[str, tuple[str, str, Pattern, str | None]] = {}

    def error(self, message: str, pointer: str) -> InputError:
        return _error(self.machine, message, pointer)

    def states(self, container: Any, pointer: str, path: str, found: list[BatchTask]) -> None:
        """Appends the Batch tasks in a definition-like object (one with "States") to `found`."""
        if not isinstance(container, dict):
            raise self.error("expected an object with \"StartAt\" and \"States\"", pointer)
        states = container.get("States")
        if not isinstance(states, dict):
            raise self.error("expected \"States\" to be an object of named states", pointer + "/States")
        if not isinstance(container.get("StartAt"), str):
            raise self.error("expected \"StartAt\", the name of the first state", pointer + "/StartAt")
        for name, state in states.items():
            if type(name) is not str:
                # A YAML key such as `~`, `1` or `yes` is no string; Step Functions names states
                # with strings only (a JSON object's keys).
                token = _yaml_scalar(name)
                raise self.error(f"state name {token} must be a string: quote it", f"{pointer}/States/{escape_pointer_token(token)}")
            if not isinstance(state, dict):
                raise self.error(f"state {name!r} must be an object", f"{pointer}/States/{escape_pointer_token(name)}")
            kind = state.get("Type")
            if kind == "Task":
                resource = state.get("Resource")
                state_pointer = f"{pointer}/States/{escape_pointer_token(name)}"
                state_path = f"{path}/{name}" if path else name
                if type(resource) is str and "${" not in resource and "batch" not in resource.lower():
                    # names no Batch integration in any spelling (task() would say the same, later)
                    if self.catalogue is not None:
                        self.services.append(service_task(self, state, state_pointer, state_path, self.catalogue))
                    continue
                task = self.task(state, state_pointer, state_path)
                if task is not None:
                    found.append(task)
                elif self.catalogue is not None:
                    self.services.append(service_task(self, state, state_pointer, state_path, self.catalogue))
            elif kind == "Parallel" or kind == "Map":
                state_pointer = f"{pointer}/States/{escape_pointer_token(name)}"
                self.state(state, kind, state_pointer, f"{path}/{name}" if path else name, found)
            elif kind not in STATE_TYPES:
                # Step Functions rejects any other type; a state policygen cannot read is never skipped quietly.
                state_pointer = f"{pointer}/States/{escape_pointer_token(name)}"
                raise self.error(
                    f"state {(f'{path}/{name}' if path else name)!r}: \"Type\" must be one of {', '.join(STATE_TYPES)}, not {kind!r}",
                    state_pointer + "/Type",
                )
            # any other state (most of them) holds no Task: skipping it early keeps large definitions fast

    def state(self, state: dict[str, Any], kind: str, pointer: str, path: str, found: list[BatchTask]) -> None:
        """A Parallel or Map state: the Batch tasks in its branches or its processor."""
        if kind == "Parallel":
            branches = state.get("Branches")
            if not isinstance(branches, list) or not branches:
                raise self.error(
                    f"state {path!r}: a Parallel state needs \"Branches\", a non-empty list of objects with \"StartAt\" and \"States\"",
                    pointer + "/Branches",
                )
            for index, branch in enumerate(branches):
                self.states(branch, f"{pointer}/Branches/{index}", f"{path}/branch[{index}]", found)
        else:
            processors = [key for key in MAP_PROCESSORS if key in state]
            if len(processors) != 1:
                raise self.error(
                    f"state {path!r}: a Map state needs exactly one of \"ItemProcessor\" and the older \"Iterator\""
                    + (", not both" if processors else ""),
                    pointer + (f"/{processors[-1]}" if processors else ""),
                )
            (key,) = processors
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
        call = self.calls.get(resource, ABSENT)
        if call is ABSENT:
            call = self.call(resource, pointer, path)
            if type(resource) is str:
                self.calls[resource] = call
        if call is None:
            return None
        pattern, action, partition = call
        language = state.get("QueryLanguage", self.top_language)
        if language not in LANGUAGES:
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
        the same for every state with that Resource (task() keeps it per walk). A Resource that
        might call Batch but is not written as Step Functions documents it is an InputError."""
        match = STATES_RESOURCE.fullmatch(resource)
        integration = match["integration"] if match is not None else ""
        if integration.startswith("batch:"):
            pattern, action = self.optimized_pattern(integration, pointer, path)
        elif integration.startswith("aws-sdk:batch:"):
            pattern, action = Pattern.SDK, self.sdk_action(integration, pointer, path)
        else:
            self.check_not_batch(resource, pointer, path)
            return None
        return pattern, action, self.partition(match["partition"], resource, pointer, path)

    def partition(self, partition: str, resource: str, pointer: str, path: str) -> str | None:
        """The partition a Batch Resource names; None when it is only known at deploy time (the
        partition the state machine is deployed in), which the target then supplies."""
        if partition in KNOWN_PARTITIONS:
            return partition
        template = self.machine.template
        if partition.startswith("${") and template is not None and not partition.startswith("${!"):
            return None  # ${AWS::Partition}, or a reference CloudFormation fills in
        if partition.startswith("${") and template is None and not partition.startswith("${AWS::"):
            # A placeholder (DefinitionSubstitutions, a Terraform templatefile variable): the
            # role is in the partition the machine is deployed in, as --partition or the region says.
            return None
        hint = ""
        if partition == DEPLOY_PARTITION:
            hint = " (CloudFormation fills in ${AWS::Partition}: scan the template)"
        elif partition.startswith("${!"):
            hint = f": {self.literal_placeholder_hint()}"
            partition = unescape(partition)
        raise self.error(
            f"state {path!r}: unknown partition {partition!r} in {unescape(resource)!r}; "
            f"expected one of {', '.join(KNOWN_PARTITIONS)}{hint}",
            pointer + "/Resource",
        )

    def literal_placeholder_hint(self) -> str:
        """Why a `${...}` in a template's definition reaches Step Functions as literal text."""
        kind = self.machine.template.kind if self.machine.template is not None else None
        if kind == SERVERLESS:
            return (
                "serverless-step-functions substitutes ${...} only in a definition that holds an intrinsic "
                "function or a #{...} pseudo parameter; write the Resource with Fn::Sub"
            )
        if kind == TERRAFORM_PLAN:
            return "the planned definition holds this text as it is (a templatefile() variable left unfilled?)"
        return (
            "no DefinitionSubstitutions entry fills it, and CloudFormation leaves ${...} in a Definition's plain "
            "strings as they are; write the Resource with !Sub"
        )

    def check_not_batch(self, resource: str, pointer: str, path: str) -> None:
        """Nothing, for a Resource that cannot call Batch; an InputError naming the state and the
        value for one that might (a misspelt integration, or one with a part only known later):
        skipping that state would drop its permissions without a word."""
        if isinstance(resource, OpaqueValue) and not is_serverless_variable(resource):
            # e.g. !If [Sync, ...batch:submitJob.sync, ...batch:submitJob]: which integration, and so
            # which permissions, is chosen at deploy time.
            if intrinsic_may_call_batch(parse_intrinsic(resource), self.parameters()):
                raise self.error(
                    f"state {path!r}: its Resource is chosen at deploy time ({resource}), so whether it calls "
                    "AWS Batch, and through which integration, is unknown; write one Resource ARN per state",
                    pointer + "/Resource",
                )
            return
        tokens, open_parts = self.resource_tokens(resource)
        if not may_be_batch(tokens):
            return
        shown = unescape(resource) if self.machine.template is not None and not isinstance(resource, OpaqueValue) else resource
        if not open_parts:
            hint = (
                f"; {self.literal_placeholder_hint()}" if self.machine.template is not None and "${" in shown else ""
            )
            raise self.error(
                f"state {path!r}: the Resource {shown!r} is no AWS Batch integration Step Functions knows: "
                "it takes them exactly as documented, e.g. arn:aws:states:::batch:submitJob.sync "
                f"(lower-case service, camelCase action, no spaces){hint}",
                pointer + "/Resource",
            )
        distinct = list(dict.fromkeys(open_parts))
        names = ", ".join(distinct)
        if self.machine.template is None:
            example = distinct[0][2:-1]
            raise self.error(
                f"state {path!r}: the Resource {shown!r} holds the placeholder{'s' if len(distinct) > 1 else ''} "
                f"{names}, so whether it calls "
                f"AWS Batch is unknown; give its value with --substitute {example}=VALUE",
                pointer + "/Resource",
            )
        raise self.error(
            f"state {path!r}: the Resource {shown!r} depends on {names}, only known at deploy time, so whether "
            "it calls AWS Batch is unknown; write the integration ARN in the definition "
            "(arn:${AWS::Partition}:states:::<service>:<action>)",
            pointer + "/Resource",
        )

    def parameters(self) -> frozenset[str]:
        template = self.machine.template
        return frozenset(template.parameters) if template is not None else frozenset()

    def resource_tokens(self, resource: str) -> tuple[list[str], list[str]]:
        """The Resource as glob tokens for may_be_batch (lower-case letters without whitespace,
        and wildcards for the parts only known later), and those parts as written."""
        tokens: list[str] = []
        open_parts: list[str] = []
        if self.machine.template is None or isinstance(resource, OpaqueValue):
            # A loose file's `${name}` placeholders, or a serverless variable: any text, or any
            # one ARN field for one between colons (`arn:${partition}:states:::lambda:invoke`).
            position = 0
            for start, end in _placeholders(resource):
                tokens.extend(literal_tokens(resource[position:start]))
                one_field = resource[start - 1 : start] == ":" and resource[end : end + 1] == ":"
                tokens.append(NO_COLON if one_field else ANY)
                open_parts.append(resource[start:end])
                position = end
            tokens.extend(literal_tokens(resource[position:]))
            return tokens, open_parts
        parameters = self.parameters()
        for segment in parse_sub(resource):
            if isinstance(segment, Ref):
                if segment.name in parameters:
                    tokens.append(ANY)  # a parameter holds whatever it is given
                    open_parts.append(f"the parameter {segment.name}")
                elif segment.name in PSEUDO_PARAMETERS:
                    tokens.append(NO_COLON)
                else:
                    # A resource's own name, ARN or attribute: never a Step Functions integration.
                    tokens.append(OTHER)
            else:
                # Literal `${...}` text reaches Step Functions as it is: no partition or service
                # it knows, but the state was surely meant to call something; let it match anything.
                position = 0
                for start, end in _placeholders(segment):
                    tokens.extend(literal_tokens(segment[position:start]))
                    tokens.append(ANY)
                    position = end
                tokens.extend(literal_tokens(segment[position:]))
        return tokens, open_parts

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
        pattern = OPTIMIZED_PATTERNS.get(integration)
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
        if not SDK_API_ACTION.fullmatch(api_action):
            raise self.error(
                f"state {path!r}: {integration!r} does not name a Batch API action in camelCase "
                "(e.g. aws-sdk:batch:describeJobs); SDK integrations do not support .sync",
                pointer + "/Resource",
            )
        # docs/aws-facts.md#integration-patterns: the IAM action is the API action with its first letter upper-cased.
        iam_name = api_action[0].upper() + api_action[1:]
        if self.batch_actions is not None and iam_name not in self.batch_actions:
            raise self.error(
                f"state {path!r}: unknown Batch API action {api_action!r} in {integration!r}",
                pointer + "/Resource",
            )
        return f"batch:{iam_name}"
