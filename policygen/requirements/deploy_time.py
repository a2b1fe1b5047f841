"""Deploy-time values (a queue `!Ref`'d from the template, a parameter) -> the ARN fine-grained mode
writes for them.

CloudFormation output keeps the template's references (a JobQueue's Ref is its ARN, a
JobDefinition's Ref is its ARN with revision), so the policy follows the stack. JSON and Terraform
output need text: a reference is resolved where the template says enough (a parameter's Default, a
queue's JobQueueName), and the pseudo parameters become the {partition}/{region}/{account} the
generator fills in from --partition/--region/--account (or says which flag is missing). Anything
else is unknown and the caller falls back to the wildcard with a warning: never a guessed name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from policygen.iam.arns import is_arn
from policygen.load.template import (
    TERRAFORM_PLAN,
    Ref,
    TemplateContext,
    TemplateResource,
    has_references,
    parse_sub,
)
from policygen.requirements.template_values import (
    batch_arn,
    batch_arn_reference,
    reference_text,
)

# What the Ref ("") or GetAtt of the resources Task states commonly name returns (CloudFormation
# User Guide, each type's "Return values"): kept as a reference in CloudFormation output.
_REFERENCE_KINDS = {
    ("AWS::Lambda::Function", ""): "name",
    ("AWS::Lambda::Function", "Arn"): "arn",
    ("AWS::Serverless::Function", ""): "name",
    ("AWS::Serverless::Function", "Arn"): "arn",
    ("AWS::Lambda::Alias", ""): "arn",
    ("AWS::Lambda::Version", ""): "arn",
    ("AWS::SNS::Topic", ""): "arn",
    ("AWS::SNS::Topic", "TopicArn"): "arn",
    ("AWS::SQS::Queue", ""): "url",  # the queue URL: the same queue as its Arn (lint matches them)
    ("AWS::SQS::Queue", "Arn"): "arn",
    ("AWS::SQS::Queue", "QueueName"): "name",
    ("AWS::DynamoDB::Table", ""): "name",
    ("AWS::DynamoDB::Table", "Arn"): "arn",
    ("AWS::Serverless::SimpleTable", ""): "name",
    ("AWS::StepFunctions::StateMachine", ""): "arn",
    ("AWS::StepFunctions::StateMachine", "Arn"): "arn",
    ("AWS::Serverless::StateMachine", ""): "arn",
    ("AWS::ECS::TaskDefinition", ""): "arn",
    ("AWS::ECS::Cluster", "Arn"): "arn",
    ("AWS::IAM::Role", ""): "name",
    ("AWS::IAM::Role", "Arn"): "arn",
    ("AWS::Events::EventBus", ""): "name",
    ("AWS::Events::EventBus", "Arn"): "arn",
    ("AWS::Glue::Job", ""): "name",
    ("AWS::CodeBuild::Project", ""): "name",
    ("AWS::CodeBuild::Project", "Arn"): "arn",
}
_PSEUDO_PLACEHOLDERS = {"AWS::Partition": "{partition}", "AWS::Region": "{region}", "AWS::AccountId": "{account}"}


@dataclass(frozen=True)
class Resolved:
    """A deploy-time value as policy text: a name, or an ARN (`is_arn`). `pinned` says the ARN
    already names one job-definition revision (a JobDefinition's Ref), or all of them (`:*`)."""

    text: str
    is_arn: bool
    pinned: bool = False
    # (parameter, its Default) for each template parameter whose Default the text was built from:
    # a stack deployed with another value needs another policy.
    defaults: tuple[tuple[str, str], ...] = ()


class DeployTimeValues:
    """Resolves the deploy-time values of the state machines' templates for one kind of output."""

    def __init__(self, templates: Mapping[tuple[str, str], TemplateContext], keep_references: bool):
        self.templates = templates  # (file, state machine name) -> its template
        self.keep_references = keep_references

    def has_template(self, file: str, machine: str) -> bool:
        return (file, machine) in self.templates

    def kept_as_reference(self, file: str, machine: str, text: str) -> bool:
        """Whether CloudFormation output would keep this value of another integration as a reference."""
        template = self.templates.get((file, machine))
        return template is not None and has_references(text) and self._as_reference(template, text, "") is not None

    def canonical_reference(self, file: str, machine: str, name: str) -> str:
        """canonical_reference for the template of the machine (the name as written without one)."""
        template = self.templates.get((file, machine))
        return canonical_reference(template.resources, name) if template is not None else name

    def resource_reference_kind(self, file: str, machine: str, text: str) -> str | None:
        """"arn", "name" or "url" when the value is one reference to a resource of the template that
        returns its ARN, its name or its URL (`!Ref Topic`, `!Ref Table`, `!Ref Queue`:
        _REFERENCE_KINDS); else None."""
        template = self.templates.get((file, machine))
        segments = parse_sub(text) if template is not None and has_references(text) else []
        if len(segments) != 1 or not isinstance(segments[0], Ref):
            return None
        return _resource_kind(template.resources, segments[0].name)

    def resolve(self, file: str, machine: str, text: str, resource_type: str) -> Resolved | None:
        template = self.templates.get((file, machine))
        if template is None or not has_references(text):
            return None
        if self.keep_references:
            return self._as_reference(template, text, resource_type)
        return self._as_text(template, text, resource_type)

    def _as_reference(self, template: TemplateContext, text: str, resource_type: str) -> Resolved | None:
        """CloudFormation output: the value as written, if it is an ARN or a name."""
        segments = parse_sub(text)
        if len(segments) == 1 and isinstance(segments[0], Ref):
            kind = self._reference_kind(template, segments[0].name, resource_type)
            if kind == "arn":
                return Resolved(text, is_arn=True, pinned=resource_type == "job-definition")
            if kind == "name":
                return Resolved(text, is_arn=False)
            return None
        if not all(isinstance(s, str) or self._is_text_reference(template, s.name) for s in segments):
            return None
        return Resolved(text, is_arn=is_arn(text))

    def _reference_kind(self, template: TemplateContext, name: str, resource_type: str) -> str | None:
        """"arn", "name", or None (unknown) for a whole value that is one reference."""
        logical_id, _, attribute = name.partition(".")
        resource = template.resources.get(logical_id)
        if resource is not None and not resource_type:
            return _REFERENCE_KINDS.get((resource.type, attribute))  # another integration's resource
        if resource is not None:
            return "arn" if _arn_of_type(resource, attribute, resource_type) else None
        parameter = template.parameters.get(name)
        if parameter is None or not isinstance(parameter.default, str):
            return None  # a parameter without a default: name or ARN is the deployer's choice
        return "arn" if is_arn(parameter.default) else "name"

    def _is_text_reference(self, template: TemplateContext, name: str) -> bool:
        """A reference that is plain text inside a longer value: a pseudo parameter or a String parameter."""
        if name.startswith("AWS::"):
            return name in _PSEUDO_PLACEHOLDERS
        parameter = template.parameters.get(name)
        return parameter is not None and parameter.type == "String"

    def _as_text(self, template: TemplateContext, text: str, resource_type: str) -> Resolved | None:
        """JSON/Terraform output: every reference replaced by what the template says it is."""
        segments = parse_sub(text)
        if len(segments) == 1 and isinstance(segments[0], Ref):
            logical_id, _, attribute = segments[0].name.partition(".")
            resource = template.resources.get(logical_id)
            if resource is not None:
                return self._resource_arn(template, resource, attribute, resource_type)
        pieces: list[str] = []
        defaults: list[tuple[str, str]] = []
        for segment in segments:
            if isinstance(segment, str):
                pieces.append(segment)
                continue
            value = self._text_of(template, segment.name)
            if value is None:
                return None
            pieces.append(value)
            if segment.name in template.parameters and template.kind != TERRAFORM_PLAN:
                defaults.append((segment.name, value))  # a plan's variables hold their values
        resolved = "".join(pieces)
        return Resolved(resolved, is_arn=is_arn(resolved), defaults=tuple(dict.fromkeys(defaults)))

    def _text_of(self, template: TemplateContext, name: str) -> str | None:
        if name in _PSEUDO_PLACEHOLDERS:
            return _PSEUDO_PLACEHOLDERS[name]
        parameter = template.parameters.get(name)
        if parameter is not None and isinstance(parameter.default, str) and not has_references(parameter.default):
            return parameter.default
        return None

    def _resource_arn(self, template: TemplateContext, resource: TemplateResource, attribute: str, resource_type: str) -> Resolved | None:
        reference = batch_arn_reference(resource.type, attribute)
        if reference is None or reference.arn_type != resource_type:
            return None
        name = resource.properties.get(reference.name_property)
        defaults: tuple[tuple[str, str], ...] = ()
        if isinstance(name, dict) and set(name) == {"Fn::Sub"} and isinstance(name["Fn::Sub"], str):
            # e.g. JobQueueName: !Sub "video-${Stage}": the name, with parameter defaults filled in.
            named = self._as_text(template, name["Fn::Sub"], resource_type)
            if named is None or named.is_arn:
                return None
            name, defaults = named.text, named.defaults
        if not isinstance(name, str) or has_references(name):
            return None  # CloudFormation makes up the name: the ARN is unknown before deploy
        # A job definition's Ref is its ARN with the revision, which only deploy time knows: `:*`.
        arn = batch_arn(reference, name, "{partition}", "{region}", "{account}", revision="*")
        return Resolved(arn, is_arn=True, pinned=reference.revisioned, defaults=defaults)

    def job_definition_consumable_resources(self, file: str, machine: str, text: str) -> tuple[str, ...] | None:
        """The consumable resources of the template's job definition a state names by Ref/GetAtt,
        as Fn::Sub text (None when the state names no job definition of the template).

        Only a reference counts: it is the revision this template registers, whose
        ConsumableResourceProperties the template holds. A job definition named by text may be a
        later revision registered outside the template, with consumable resources we cannot read."""
        template = self.templates.get((file, machine))
        segments = parse_sub(text) if template is not None else ()
        if len(segments) != 1 or not isinstance(segments[0], Ref):
            return None
        logical_id, _, attribute = segments[0].name.partition(".")
        resource = template.resources.get(logical_id)
        if resource is None or not _arn_of_type(resource, attribute, "job-definition"):
            return None
        properties = resource.properties.get("ConsumableResourceProperties")
        if properties is None:
            return ()
        entries = properties.get("ConsumableResourceList") if isinstance(properties, dict) else None
        if not isinstance(entries, list):
            return None  # an Fn::If or a malformed list: unknown, not "none"
        found: list[str] = []
        for entry in entries:
            value = entry.get("ConsumableResource") if isinstance(entry, dict) else None
            found.append(reference_text(value) or "")  # "" stands for a value we cannot read
        return tuple(found)


def canonical_reference(resources: Mapping[str, TemplateResource], name: str) -> str:
    """One spelling for the references that return one resource's ARN (`!Ref Topic` and
    `!GetAtt Topic.TopicArn` are the same topic ARN: _REFERENCE_KINDS): `<LogicalId>.Arn`, so a
    state and its role that write them differently still name the same thing; any other
    reference as written."""
    if _resource_kind(resources, name) == "arn":
        return f"{name.partition('.')[0]}.Arn"
    return name


def _resource_kind(resources: Mapping[str, TemplateResource], name: str) -> str | None:
    """What a reference (`Topic`, `Topic.TopicArn`) to one of `resources` returns, by
    _REFERENCE_KINDS: "arn", "name", "url", or None (not a resource, or a return value not listed)."""
    logical_id, _, attribute = name.partition(".")
    resource = resources.get(logical_id)
    return _REFERENCE_KINDS.get((resource.type, attribute)) if resource is not None else None


def _arn_of_type(resource: TemplateResource, attribute: str, resource_type: str) -> bool:
    reference = batch_arn_reference(resource.type, attribute)
    return reference is not None and reference.arn_type == resource_type
