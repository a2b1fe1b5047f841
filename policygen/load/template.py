"""Deploy-time values of IaC sources: the template a state machine came from, and its values in Fn::Sub syntax.

A state machine read from a template (CloudFormation, SAM, a Terraform plan, serverless.yml) keeps
every value that is only known at deploy time as a symbol, never as a guess. Each string value of
its definition is written in Fn::Sub syntax:

- `${AWS::Partition}`, `${AWS::Region}`, `${AWS::AccountId}` (and the other pseudo parameters);
- `${LogicalId}` for `Ref` to a parameter or resource, `${LogicalId.Attr}` for `Fn::GetAtt`;
- a literal `${` as `${!` (so `has_references` tells template values from plain text).

Values that cannot be written that way (`Fn::If`, `Fn::Select`, `Fn::FindInMap`, `Fn::ImportValue`,
Serverless `${self:...}` variables, ...) are `OpaqueValue`s: strings whose text names the intrinsic
or variable, which the scanner treats as unknown until deploy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from policygen.load.document import Document

CLOUDFORMATION = "cloudformation"
SAM = "sam"
TERRAFORM_PLAN = "terraform-plan"
SERVERLESS = "serverless"

# CloudFormation's pseudo parameters (AWS CloudFormation User Guide, "Pseudo parameters reference").
PSEUDO_PARAMETERS = frozenset(
    {
        "AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region",
        "AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
    }
)

_REFERENCE = re.compile(r"\$\{(?!!)")
_ESCAPED = re.compile(r"\$\{!")


@dataclass(frozen=True)
class TemplateParameter:
    """A template parameter (CloudFormation `Parameters`): a value chosen at deploy time."""

    name: str
    type: str
    default: Any = None


# The type of a serverless.yml `functions` entry: no CloudFormation logical id (the framework names
# it <Name>LambdaFunction), so CloudFormation output cannot keep a reference to it.
SERVERLESS_FUNCTION = "serverless:function"


@dataclass(frozen=True)
class TemplateResource:
    """A resource the template declares, with its properties as written (intrinsics unresolved).

    For a Terraform plan, `logical_id` is the resource address and `properties` its planned values."""

    logical_id: str
    type: str
    properties: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class TemplateContext:
    """The source file a state machine was read from, and what its deploy-time symbols can name."""

    kind: str  # CLOUDFORMATION, SAM, TERRAFORM_PLAN or SERVERLESS
    file: str
    parameters: Mapping[str, TemplateParameter] = field(default_factory=dict, repr=False)
    resources: Mapping[str, TemplateResource] = field(default_factory=dict, repr=False)
    document: Document | None = field(default=None, repr=False, compare=False)


def template_parameters(declared: Mapping[str, Any]) -> dict[str, TemplateParameter]:
    """A `Parameters` section as TemplateParameters (entries that are not objects are ignored)."""
    return {
        name: TemplateParameter(name, str(spec.get("Type", "")), spec.get("Default"))
        for name, spec in declared.items()
        if isinstance(spec, dict)
    }


class OpaqueValue(str):
    """A value known only at deploy time that Fn::Sub syntax cannot express; the text names it,
    e.g. `{"Fn::If": ["UseSpot", {"Ref": "SpotQueue"}, {"Ref": "OnDemandQueue"}]}`."""

    intrinsics: tuple[str, ...]

    def __new__(cls, text: str, intrinsics: tuple[str, ...]) -> OpaqueValue:
        value = super().__new__(cls, text)
        value.intrinsics = intrinsics
        return value


def has_references(text: str) -> bool:
    """Whether a Fn::Sub-syntax string refers to a deploy-time value (`${...}` other than `${!`)."""
    return _REFERENCE.search(text) is not None


def references(text: str) -> list[str]:
    """The names a Fn::Sub-syntax string refers to, in order: "AWS::Region", "Queue", "Queue.Arn"."""
    return [segment.name for segment in parse_sub(text) if isinstance(segment, Ref)]


def unescape(text: str) -> str:
    """The literal text of a Fn::Sub-syntax string without references (`${!` back to `${`)."""
    return _ESCAPED.sub("${", text)


def escape(text: str) -> str:
    """Literal text in Fn::Sub syntax."""
    return text.replace("${", "${!")


# -- Values as segments: literal text, references, and opaque parts ---------------------------------


@dataclass(frozen=True)
class Ref:
    """A deploy-time reference: a pseudo parameter, a parameter or resource, or `Resource.Attribute`."""

    name: str


@dataclass(frozen=True)
class Opaque:
    """A part of a value that only deploy time knows and Fn::Sub syntax cannot write."""

    text: str
    intrinsic: str


Segment = str | Ref | Opaque
Segments = tuple[Segment, ...]

_SUB_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


def placeholders(text: str) -> Iterator[re.Match[str]]:
    """Every `${...}` of `text`, as re.finditer would find them. Searched only up to the last `}`:
    no placeholder ends after it, and a hostile run of unclosed `${` there would make every one of
    them scan to the end (quadratic time)."""
    return _SUB_PLACEHOLDER.finditer(text, 0, text.rfind("}") + 1)


def replace_placeholders(text: str, replacement: Callable[[re.Match[str]], str]) -> str:
    """re.sub over every `${...}` of `text`, in linear time (see placeholders)."""
    end = text.rfind("}") + 1
    return _SUB_PLACEHOLDER.sub(replacement, text[:end]) + text[end:]


def parse_sub(text: str) -> Segments:
    """A Fn::Sub template string as segments: `${!X}` is the literal `${X}`, `${Name}` a reference."""
    segments: list[Segment] = []
    position = 0
    for match in placeholders(text):
        segments.append(text[position : match.start()])
        inner = match.group(1)
        if inner.startswith("!"):
            segments.append("${" + inner[1:] + "}")
        else:
            segments.append(Ref(inner.strip()))
        position = match.end()
    segments.append(text[position:])
    return join_segments(segments)


def join_segments(parts: list[Segment] | tuple[Segment, ...]) -> Segments:
    """Segments with neighbouring literal texts merged and empty texts dropped."""
    joined: list[Segment] = []
    for part in parts:
        if isinstance(part, str):
            if not part:
                continue
            if joined and isinstance(joined[-1], str):
                joined[-1] += part
                continue
        joined.append(part)
    return tuple(joined)


def substitute(segments: Segments, substitutions: Mapping[str, Segments]) -> Segments:
    """Step Functions' DefinitionSubstitutions: `${Name}` in the (already resolved) literal text is
    replaced by that substitution's value; other `${...}` stay as they are."""
    if not substitutions:
        return segments
    result: list[Segment] = []
    for segment in segments:
        if not isinstance(segment, str):
            result.append(segment)
            continue
        position = 0
        for match in placeholders(segment):
            name = match.group(1)
            if name in substitutions:
                result.append(segment[position : match.start()])
                result.extend(substitutions[name])
                position = match.end()
        result.append(segment[position:])
    return join_segments(result)


def render(segments: Segments) -> str:
    """Segments as one value: a Fn::Sub-syntax string, or an OpaqueValue if any part is opaque."""
    text = "".join(_render_segment(segment) for segment in segments)
    opaque = tuple(dict.fromkeys(s.intrinsic for s in segments if isinstance(s, Opaque)))
    return OpaqueValue(text, opaque) if opaque else text


def _render_segment(segment: Segment) -> str:
    if isinstance(segment, Ref):
        return "${" + segment.name + "}"
    if isinstance(segment, Opaque):
        return segment.text
    return escape(segment)


def describe_intrinsic(value: Any) -> str:
    """An intrinsic function call as compact JSON, to name it in an opaque value or a message."""
    return json.dumps(value, ensure_ascii=False, default=str)


def locating_enclosing_value(document: Document) -> Document:
    """`document` with a locator that, for a pointer into a value parsed out of a string (a
    DefinitionString, a plan's `definition`), gives the position of that string."""

    def locate(pointer: str) -> tuple[int, int] | None:
        while True:
            position = document.locator(pointer)
            if position is not None or not pointer:
                return position
            pointer = pointer.rsplit("/", 1)[0]

    return Document(name=document.name, format=document.format, data=document.data, locator=locate)
