"""CloudFormation and AWS SAM templates -> the state machines they declare.

`AWS::StepFunctions::StateMachine`: Definition (an object, possibly holding intrinsics),
DefinitionString (a string, Fn::Sub or Fn::Join), DefinitionS3Location (not readable offline: a
warning), DefinitionSubstitutions. `AWS::Serverless::StateMachine`: Definition, DefinitionUri (a
local ASL file relative to the template; an S3 location gets the warning), DefinitionSubstitutions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from policygen.errors import InputError, Notice
from policygen.load.asl import StateMachine
from policygen.load.document import STDIN_NAME, Document, escape_pointer_token
from policygen.load.intrinsics import Resolver, intrinsic_name, literal_definition
from policygen.load.template import (
    CLOUDFORMATION,
    SAM,
    Opaque,
    Segments,
    TemplateContext,
    TemplateResource,
    locating_enclosing_value,
    render,
    template_parameters,
)

STEP_FUNCTIONS_STATE_MACHINE = "AWS::StepFunctions::StateMachine"
SAM_STATE_MACHINE = "AWS::Serverless::StateMachine"
SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
_MACHINE_TYPES = (STEP_FUNCTIONS_STATE_MACHINE, SAM_STATE_MACHINE)


def looks_like_template(data: Any) -> bool:
    """A CloudFormation or SAM template: `Resources` of typed resources, or the format version."""
    if not isinstance(data, dict):
        return False
    if "AWSTemplateFormatVersion" in data:
        return True
    resources = data.get("Resources")
    return isinstance(resources, dict) and any(
        isinstance(resource, dict) and isinstance(resource.get("Type"), str) and "::" in resource["Type"]
        for resource in resources.values()
    )


def template_context(document: Document) -> TemplateContext:
    """The template's parameters and resources; the template must have `Resources`."""
    data = document.data
    if not isinstance(data, dict):
        raise InputError("expected a CloudFormation template: an object with \"Resources\"", document.location(""))
    resources = data.get("Resources")
    if not isinstance(resources, dict):
        raise InputError("expected a CloudFormation template with \"Resources\", an object", document.location("/Resources"))
    parameters = data.get("Parameters") or {}
    if not isinstance(parameters, dict):
        raise InputError("\"Parameters\" must be an object", document.location("/Parameters"))
    is_sam = SAM_TRANSFORM in _transforms(data.get("Transform")) or any(
        isinstance(r, dict) and str(r.get("Type", "")).startswith("AWS::Serverless::") for r in resources.values()
    )
    return TemplateContext(
        kind=SAM if is_sam else CLOUDFORMATION,
        file=document.name,
        parameters=template_parameters(parameters),
        resources={
            logical_id: TemplateResource(logical_id, str(resource.get("Type", "")), _properties(resource))
            for logical_id, resource in resources.items()
            if isinstance(resource, dict)
        },
        document=document,
    )


def _transforms(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {item for item in value if isinstance(item, str)}
    return set()


def _properties(resource: dict[str, Any]) -> dict[str, Any]:
    properties = resource.get("Properties")
    return properties if isinstance(properties, dict) else {}


def state_machines_from_template(document: Document, required: bool) -> tuple[list[StateMachine], list[Notice]]:
    """Every state machine the template declares, in template order, with warnings for those that
    cannot be read offline. `required`: a template without any is an InputError."""
    context = template_context(document)
    located = locating_enclosing_value(document)
    machines: list[StateMachine] = []
    warnings: list[Notice] = []
    found = 0
    known_name = _known_name(context)
    for logical_id, resource in context.resources.items():
        if resource.type not in _MACHINE_TYPES:
            continue
        found += 1
        reader = _MachineReader(context, located, logical_id, known_name)
        machine = reader.read(resource)
        warnings.extend(reader.warnings)
        if machine is not None:
            machines.append(machine)
    if not found:
        message = f"no {STEP_FUNCTIONS_STATE_MACHINE} or {SAM_STATE_MACHINE} resource in the template"
        if required:
            raise InputError(message, document.location("/Resources"))
        warnings.append(Notice(message, document.location("/Resources")))
    return machines, warnings


def _known_name(context: TemplateContext) -> Callable[[str], bool]:
    """What a Ref/GetAtt/${Name} may name: a parameter or resource, and in SAM also the resources
    SAM generates from its own (named after them: `MyFunctionRole`, `MyApi.Stage`)."""
    sam_ids = tuple(r.logical_id for r in context.resources.values() if r.type.startswith("AWS::Serverless::"))

    def known(name: str) -> bool:
        if name in context.parameters or name in context.resources:
            return True
        return any(name.startswith(logical_id) for logical_id in sam_ids)

    return known


class _MachineReader:
    """One state machine resource -> a StateMachine (or a warning and None)."""

    def __init__(self, context: TemplateContext, document: Document, logical_id: str, known_name: Callable[[str], bool]):
        self.context = context
        self.document = document
        self.logical_id = logical_id
        self.pointer = f"/Resources/{escape_pointer_token(logical_id)}/Properties"
        self.resolver = Resolver(document, logical_id, known_name)
        self.warnings: list[Notice] = []

    def error(self, message: str, pointer: str) -> InputError:
        return self.resolver.error(message, pointer)

    def warn(self, message: str, pointer: str) -> None:
        self.warnings.append(Notice(f"state machine {self.logical_id!r}: {message}", self.document.location(pointer)))

    def read(self, resource: TemplateResource) -> StateMachine | None:
        properties = resource.properties
        substitutions = self.substitutions(properties.get("DefinitionSubstitutions"))
        sources = (
            ("Definition", "DefinitionString", "DefinitionS3Location")
            if resource.type == STEP_FUNCTIONS_STATE_MACHINE
            else ("Definition", "DefinitionUri")
        )
        given = [name for name in sources if name in properties]
        if not given:
            raise self.error(f"no {', '.join(sources[:-1])} or {sources[-1]}: the definition is missing", self.pointer)
        if len(given) > 1:
            raise self.error(f"sets both {given[0]} and {given[1]}; a state machine takes one of them", self.pointer)
        source = given[0]
        value = properties[source]
        pointer = f"{self.pointer}/{source}"
        if source == "Definition":
            return self.definition_object(value, pointer, substitutions)
        if source == "DefinitionString":
            return self.definition_string(value, pointer, substitutions)
        if source == "DefinitionS3Location":
            self.unreadable(f"its definition is in S3 ({self.describe_s3(value, pointer)})", pointer)
            return None
        return self.definition_uri(value, pointer, substitutions)

    def unreadable(self, why: str, pointer: str) -> None:
        self.warn(f"{why}, which policygen cannot read offline: skipped (scan the definition file itself)", pointer)

    def describe_s3(self, value: Any, pointer: str) -> str:
        """An S3 location as s3://bucket/key, in Fn::Sub syntax where it has references."""
        if isinstance(value, str):
            return value
        fields = _s3_fields(value)
        if fields is None:
            return render(self.resolver.segments(value, pointer))
        bucket, key = (render(self.resolver.segments(item, f"{pointer}/{name}")) for item, name in zip(fields, ("Bucket", "Key"), strict=False))
        return f"s3://{bucket}/{key}"

    def substitutions(self, value: Any) -> dict[str, Segments]:
        pointer = f"{self.pointer}/DefinitionSubstitutions"
        if value is None:
            return {}
        if not isinstance(value, dict) or intrinsic_name(value) is not None:
            raise self.error("DefinitionSubstitutions must be an object of names and values", pointer)
        return {
            str(name): self.resolver.segments(item, f"{pointer}/{escape_pointer_token(name)}")
            for name, item in value.items()
        }

    def machine(self, definition: Any, document: Document, pointer: str) -> StateMachine:
        if not isinstance(definition, dict):
            raise self.error("the definition must be an object with \"StartAt\" and \"States\"", pointer)
        return StateMachine(
            name=self.logical_id, document=document, definition=definition, pointer=pointer, template=self.context
        )

    def definition_object(self, value: Any, pointer: str, substitutions: Mapping[str, Segments]) -> StateMachine | None:
        name = intrinsic_name(value)
        if name is not None:
            self.resolver.segments(value, pointer)  # unknown functions and names are still errors
            self.unreadable(f"its Definition is computed at deploy time ({name})", pointer)
            return None
        return self.machine(self.resolver.definition_object(value, pointer, substitutions), self.document, pointer)

    def definition_string(self, value: Any, pointer: str, substitutions: Mapping[str, Segments]) -> StateMachine | None:
        segments = self.resolver.segments(value, pointer)
        if len(segments) == 1 and isinstance(segments[0], Opaque):
            self.unreadable(f"its DefinitionString is computed at deploy time ({segments[0].intrinsic})", pointer)
            return None
        return self.machine(self.resolver.definition_text(segments, pointer, substitutions), self.document, pointer)

    def definition_uri(self, value: Any, pointer: str, substitutions: Mapping[str, Segments]) -> StateMachine | None:
        if not isinstance(value, str) or value.startswith("s3://"):
            self.unreadable(f"its DefinitionUri is in S3 ({self.describe_s3(value, pointer)})", pointer)
            return None
        from policygen.load import load_document

        base = Path(".") if self.document.name == STDIN_NAME else Path(self.document.name).parent
        path = base / value
        if not path.is_file():
            raise self.error(f"DefinitionUri {value!r}: no such file ({path})", pointer)
        try:
            asl = load_document(str(path))
        except InputError as error:
            raise InputError(
                f"{error.message} (the DefinitionUri of state machine {self.logical_id!r} in {self.document.name})",
                error.location,
            ) from None
        if not isinstance(asl.data, dict):
            raise InputError(
                f"expected an Amazon States Language definition (the DefinitionUri of state machine {self.logical_id!r})",
                asl.location(""),
            )
        # The file is plain ASL: no intrinsics, only the DefinitionSubstitutions placeholders.
        return self.machine(literal_definition(asl.data, substitutions), asl, "")


def _s3_fields(value: Any) -> tuple[Any, Any] | None:
    """(Bucket, Key) of an S3 location object, None for anything else."""
    if isinstance(value, dict) and intrinsic_name(value) is None and "Bucket" in value and "Key" in value:
        return value["Bucket"], value["Key"]
    return None
