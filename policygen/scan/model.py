"""What the scan finds: the Batch Task states and the values they send (records and names).

Walks every state, through Parallel branches and Map processors (Iterator and ItemProcessor, inline
and DISTRIBUTED), and records each Task whose Resource is a Batch integration (docs/aws-facts.md#integration-patterns).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from operator import attrgetter
from typing import Any

from policygen.iam import aws_names

JSONPATH = "JSONPath"
JSONATA = "JSONata"

# Matched whole (fullmatch): `$` would let a trailing newline through, which Step Functions does not trim.
STATES_RESOURCE = re.compile(r"arn:(?P<partition>\$\{[^}]*\}|[^:]*):states:::(?P<integration>.*)")
DEPLOY_PARTITION = "${AWS::Partition}"  # in a template: the partition it is deployed in
KNOWN_PARTITIONS = aws_names.PARTITIONS
JSONATA_EXPRESSION = re.compile(r"^\{%.*%\}$", re.DOTALL)
SDK_API_ACTION = re.compile(r"[a-z][A-Za-z0-9]*")
LANGUAGES = (JSONPATH, JSONATA)
ABSENT = object()
# Every state type Step Functions accepts (Step Functions Developer Guide, "Discovering workflow
# states to use in Step Functions": https://docs.aws.amazon.com/step-functions/latest/dg/workflow-states.html).
STATE_TYPES = ("Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
MAP_PROCESSORS = ("ItemProcessor", "Iterator")  # ItemProcessor replaced the older Iterator


class Pattern(str, Enum):
    """How a Task state calls Batch (docs/aws-facts.md#integration-patterns)."""

    REQUEST_RESPONSE = "request-response"
    RUN_JOB = "run-job"
    RUN_JOB_2 = "run-job-2"  # `.sync:2`: nested Step Functions executions only
    CALLBACK = "callback"
    SDK = "sdk"


OPTIMIZED_PATTERNS = {
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
    # Template parameters whose Default the text stands for (a template linted offline): a stack
    # deployed with other values sends other text.
    defaults: tuple[str, ...] = ()

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


tag_key = attrgetter("key")


# The integration suffix of an optimized Task Resource -> its pattern (docs/aws-facts.md#integration-patterns).
PATTERN_SUFFIXES = {
    "": Pattern.REQUEST_RESPONSE,
    ".sync": Pattern.RUN_JOB,
    ".sync:2": Pattern.RUN_JOB_2,
    ".waitForTaskToken": Pattern.CALLBACK,
}


@dataclass(unsafe_hash=True, slots=True)  # see FieldValue
class ServiceTask:
    """A Task state that calls any integration but Batch's own (Lambda, ECS, SNS, an AWS SDK call,
    a Lambda function ARN, an activity...): what the integration tables (rules/integrations/) need
    to know of it. Its arguments are read field by field when a table asks for them."""

    machine: str
    file: str
    path: str
    pointer: str
    resource: str
    partition: str | None  # None: the partition the machine is deployed in
    # The table that describes the call: "lambda", "ecs", "aws-sdk", "states"...
    service: str
    # The <api> of arn:...:states:::<service>:<api>; for an SDK call "<sdk service>:<apiAction>";
    # for a Resource that is itself an ARN (a Lambda function, an activity), that ARN as the tables
    # match it (in a template, with stand-ins for its references).
    api: str
    pattern: Pattern
    query_language: str
    # The request the state sends (Parameters or Arguments), read by dotted path on demand.
    arguments: Any = field(default=None, hash=False, compare=False)
    credentials: FieldValue | None = None

    def field_values(self, path: str) -> tuple[FieldValue, ...]:
        """The values the state sends at a dotted argument path (`Overrides.TaskRoleArn`,
        `Entries[*].EventBusName`): none when it sends none, one dynamic value for a part that is
        an expression."""
        return self.arguments.field_values(path) if self.arguments is not None else ()

    def sends(self, name: str) -> bool | None:
        """Whether the state sends the top-level argument `name`; None when its arguments as a whole
        are an expression."""
        return self.arguments.sends(name) if self.arguments is not None else False

    def detach(self) -> None:
        """Lets go of the parsed document behind the arguments (see _Arguments.detach)."""
        if self.arguments is not None:
            self.arguments.detach()

    def items_without(self, path: str) -> tuple[str, ...]:
        """The pointers of the list items that leave out the field at a `[*]` path (`Entries[*].EventBusName`)."""
        return self.arguments.items_without(path) if self.arguments is not None else ()

