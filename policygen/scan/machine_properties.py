"""The properties of the state machine resource itself that its execution role depends on: its name,
LoggingConfiguration, TracingConfiguration and EncryptionConfiguration, read from the source it was
declared in, or for a plain ASL file from the command line (MachineOptions).

Each source spells them its own way; they are read into CloudFormation's names
(`LoggingConfiguration.Level`), which rules/integrations/state-machine.yaml uses:

- AWS::StepFunctions::StateMachine: StateMachineName, LoggingConfiguration (Level), TracingConfiguration
  (Enabled), EncryptionConfiguration (Type, KmsKeyId)
  (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-stepfunctions-statemachine.html);
- AWS::Serverless::StateMachine: Name, Logging, Tracing; SAM has no encryption property
  (https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-resource-statemachine.html);
- Terraform's aws_sfn_state_machine: name, logging_configuration (level), tracing_configuration
  (enabled), encryption_configuration (type, kms_key_id): blocks of at most one, lists in a plan's values;
- serverless-step-functions: name, loggingConfig (level, default OFF), tracingConfig (enabled)
  (its lib/deploy/stepFunctions/compileStateMachines.schema.js; it has no encryption setting);
- a deployed state machine (`policygen audit`): DescribeStateMachine's name, loggingConfiguration
  (level), tracingConfiguration (enabled), encryptionConfiguration (type, kmsKeyId)
  (https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeStateMachine.html).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from policygen.load.asl import StateMachine
from policygen.load.document import escape_pointer_token
from policygen.load.template import SERVERLESS, TERRAFORM_PLAN, OpaqueValue, has_references, render, unescape
from policygen.scan.model import FieldValue, ValueKind

if TYPE_CHECKING:  # the intrinsics are imported by the runs that read a template (_read)
    from policygen.load.intrinsics import Resolver

NAME = "StateMachineName"
LOGGING_LEVEL = "LoggingConfiguration.Level"
TRACING_ENABLED = "TracingConfiguration.Enabled"
ENCRYPTION_TYPE = "EncryptionConfiguration.Type"
KMS_KEY = "EncryptionConfiguration.KmsKeyId"
CUSTOMER_MANAGED_KEY = "CUSTOMER_MANAGED_KMS_KEY"

# Where each source keeps each property: dotted paths, `[0]` for a Terraform block's one element.
_SPELLINGS = {
    "AWS::StepFunctions::StateMachine": {
        NAME: "StateMachineName", LOGGING_LEVEL: "LoggingConfiguration.Level", TRACING_ENABLED: "TracingConfiguration.Enabled",
        ENCRYPTION_TYPE: "EncryptionConfiguration.Type", KMS_KEY: "EncryptionConfiguration.KmsKeyId",
    },
    "AWS::Serverless::StateMachine": {NAME: "Name", LOGGING_LEVEL: "Logging.Level", TRACING_ENABLED: "Tracing.Enabled"},
    TERRAFORM_PLAN: {
        NAME: "name", LOGGING_LEVEL: "logging_configuration.0.level", TRACING_ENABLED: "tracing_configuration.0.enabled",
        ENCRYPTION_TYPE: "encryption_configuration.0.type", KMS_KEY: "encryption_configuration.0.kms_key_id",
    },
    SERVERLESS: {NAME: "name", LOGGING_LEVEL: "loggingConfig.level", TRACING_ENABLED: "tracingConfig.enabled"},
}


@dataclass(frozen=True)
class MachineOptions:
    """What the command line says about the state machines beyond their sources: for a plain ASL
    file (which holds only the definition) its deployed name, logging, tracing and KMS key; for
    every machine whether to grant what redriving executions needs."""

    name: str | None = None  # --state-machine-name
    logging: bool = False  # --logging
    tracing: bool = False  # --tracing
    kms_key: str | None = None  # --kms-key
    redrive: bool = False  # --redrive

    @property
    def describes_machine(self) -> bool:
        return self.name is not None or self.logging or self.tracing or self.kms_key is not None


NO_OPTIONS = MachineOptions()


@dataclass(frozen=True)
class MachineProperties:
    """The properties a state machine resource sets, by CloudFormation name, and where they are."""

    file: str  # the file that declares them (a template, or the ASL file for flags)
    pointer: str  # the resource's properties in that file ("" for flags)
    values: Mapping[str, FieldValue] = field(default_factory=dict)

    @property
    def name(self) -> FieldValue | None:
        return self.values.get(NAME)

    def field_values(self, path: str) -> tuple[FieldValue, ...]:
        value = self.values.get(path)
        return () if value is None else (value,)


def machine_properties(machine: StateMachine, options: MachineOptions) -> MachineProperties:
    """The properties of `machine`'s resource; for a plain ASL file, those the options give."""
    template = machine.template
    if template is None:
        return _from_options(machine, options)
    if template.kind == TERRAFORM_PLAN:
        base = machine.pointer.removesuffix("/definition")
        resource = template.resources.get(machine.name)
        return _read(machine, resource.properties if resource else {}, _SPELLINGS[TERRAFORM_PLAN], template.file, base)
    if template.kind == SERVERLESS:
        base = machine.pointer.removesuffix("/definition")
        spec = _at_pointer(template.document.data if template.document is not None else None, base)
        return _read(machine, spec if isinstance(spec, dict) else {}, _SPELLINGS[SERVERLESS], template.file, base)
    resource = template.resources.get(machine.name)
    if resource is None or resource.type not in _SPELLINGS:
        return MachineProperties(template.file, "")
    base = f"/Resources/{escape_pointer_token(machine.name)}/Properties"
    return _read(machine, resource.properties, _SPELLINGS[resource.type], template.file, base)


def described_properties(file: str, name: str, answer: Mapping[str, Any]) -> MachineProperties:
    """The properties of a deployed state machine, from DescribeStateMachine's `answer`: what AWS
    holds is static, under the API's own names (`loggingConfiguration.level`) in messages."""
    values = {NAME: FieldValue(ValueKind.STATIC, name, "name", "")}
    for key, (spelling, kind) in _DESCRIBED.items():
        section, _, member = spelling.partition(".")
        raw = answer.get(section)
        raw = raw.get(member) if isinstance(raw, Mapping) else None
        if kind is bool and isinstance(raw, bool):
            values[key] = FieldValue(ValueKind.STATIC, "true" if raw else "false", spelling, "")
        elif kind is str and isinstance(raw, str) and raw:
            values[key] = FieldValue(ValueKind.STATIC, raw, spelling, "")
    return MachineProperties(file, "", values)


# Each property's place in DescribeStateMachine's answer, and the type the API gives it.
_DESCRIBED = {
    LOGGING_LEVEL: ("loggingConfiguration.level", str), TRACING_ENABLED: ("tracingConfiguration.enabled", bool),
    ENCRYPTION_TYPE: ("encryptionConfiguration.type", str), KMS_KEY: ("encryptionConfiguration.kmsKeyId", str),
}


def _from_options(machine: StateMachine, options: MachineOptions) -> MachineProperties:
    values: dict[str, FieldValue] = {}
    if options.name is not None:
        values[NAME] = FieldValue(ValueKind.STATIC, options.name, "--state-machine-name", "")
    if options.logging:
        values[LOGGING_LEVEL] = FieldValue(ValueKind.STATIC, "ALL", "--logging", "")
    if options.tracing:
        values[TRACING_ENABLED] = FieldValue(ValueKind.STATIC, "true", "--tracing", "")
    if options.kms_key is not None:
        values[ENCRYPTION_TYPE] = FieldValue(ValueKind.STATIC, CUSTOMER_MANAGED_KEY, "--kms-key", "")
        values[KMS_KEY] = FieldValue(ValueKind.STATIC, options.kms_key, "--kms-key", "")
    return MachineProperties(machine.file, "", values)


def _read(machine: StateMachine, properties: Mapping[str, Any], spellings: Mapping[str, str], file: str, base: str) -> MachineProperties:
    from policygen.load.intrinsics import Resolver

    template = machine.template
    assert template is not None
    document = template.document
    resolver = None
    if template.kind != TERRAFORM_PLAN and document is not None:
        resolver = Resolver(document, machine.name, known_name=lambda _: True, serverless=template.kind == SERVERLESS)
    values = {}
    for name, spelling in spellings.items():
        raw = _at(properties, spelling)
        if raw is None:
            continue
        pointer = base + "".join(f"/{escape_pointer_token(part)}" for part in spelling.split("."))
        values[name] = _value(raw, spelling, pointer, resolver)
    return MachineProperties(file, base, values)


def _at_pointer(data: Any, pointer: str) -> Any:
    """The value at a JSON pointer, None when any part is absent."""
    for token in pointer.split("/")[1:]:
        key = token.replace("~1", "/").replace("~0", "~")
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _at(container: Any, path: str) -> Any:
    """The value at a dotted path (`logging_configuration.0.level`), None when any part is absent."""
    from policygen.load.intrinsics import intrinsic_name

    for part in path.split("."):
        if isinstance(container, list) and part.isdigit():
            container = container[int(part)] if int(part) < len(container) else None
        elif isinstance(container, dict) and intrinsic_name(container) is None:
            container = container.get(part)
        else:
            return None
    return container


def _value(raw: Any, spelling: str, pointer: str, resolver: Resolver | None) -> FieldValue:
    """A property as a FieldValue: static text (booleans as `true`/`false`), a deploy-time value in
    Fn::Sub syntax, or dynamic for a value chosen at deploy time in a way policygen does not evaluate."""
    if isinstance(raw, bool):
        return FieldValue(ValueKind.STATIC, "true" if raw else "false", spelling, pointer)
    if resolver is None:  # a Terraform plan: every value is literal
        return FieldValue(ValueKind.STATIC, str(raw), spelling, pointer)
    if not isinstance(raw, (str, dict)):
        return FieldValue(ValueKind.STATIC, str(raw), spelling, pointer)
    text = render(resolver.segments(raw, pointer))
    if isinstance(text, OpaqueValue):
        return FieldValue(ValueKind.DYNAMIC, str(text), spelling, pointer)
    if has_references(text):
        return FieldValue(ValueKind.DEPLOY_TIME, text, spelling, pointer)
    return FieldValue(ValueKind.STATIC, unescape(text), spelling, pointer)
