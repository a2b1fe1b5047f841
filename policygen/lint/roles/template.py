"""The role a CloudFormation/SAM state machine uses, read from its own template, for `policygen lint TEMPLATE`.

- AWS::StepFunctions::StateMachine `RoleArn` (and SAM `Role`): `!GetAtt Role.Arn`,
  `!Sub "${Role.Arn}"`, `!Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${Role}"` or
  `!Ref Role` name an AWS::IAM::Role of the template, whose inline
  `Policies`, `ManagedPolicyArns` that are AWS::IAM::ManagedPolicy resources of the template, and
  AWS::IAM::Policy / ManagedPolicy / RolePolicy resources attached to it (`Roles`, `RoleName`) are
  its policies, and `AssumeRolePolicyDocument` its trust policy.
- AWS::Serverless::StateMachine without `Role`: SAM creates the role from `Policies` (policy
  documents, and policy templates, none of which grants Batch or EventBridge rule permissions).
- Policies policygen cannot read (an AWS managed policy ARN) make missing permissions "cannot
  verify" (PG203) rather than errors; a role outside the template is PG204.

Deploy-time values (`${AWS::Region}`, `!Ref JobQueue`) are made concrete the same way on both sides:
the state's `JobQueue: !Ref Queue` and the policy's `Resource: !Ref Queue` become the same ARN.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from policygen.errors import InputError, Location
from policygen.lint.findings import (
    Finding,
    PolicySource,
    Role,
    TrustPolicy,
    make_finding,
    policy_source,
)
from policygen.lint.roles.unit import LintUnit
from policygen.load.asl import StateMachine
from policygen.load.document import Document, escape_pointer_token
from policygen.load.intrinsics import Resolver
from policygen.load.template import (
    CLOUDFORMATION,
    SAM,
    Opaque,
    Ref,
    TemplateContext,
    parse_sub,
)
from policygen.requirements import markers
from policygen.requirements.deploy_time import canonical_reference
from policygen.requirements.markers import UNKNOWN_ACCOUNT, UNKNOWN_REGION
from policygen.requirements.target import Target, resolve_target
from policygen.requirements.template_values import batch_arn, batch_arn_reference
from policygen.scan import BatchTask, FieldValue, ServiceTask, Tag, ValueKind

_ROLE_TYPE = "AWS::IAM::Role"
_STEP_FUNCTIONS = "AWS::StepFunctions::StateMachine"
_OPAQUE = markers.DEPLOY_TIME_VALUE


def template_units(
    machines: Sequence[StateMachine],
    tasks: Sequence[BatchTask],
    region: str | None,
    account: str | None,
    partition: str | None,
    environment: Mapping[str, str],
    services: Sequence[ServiceTask] = (),
) -> tuple[list[LintUnit], list[Finding]]:
    """One LintUnit per role the template state machines use; PG204 for those whose role is not there."""
    by_machine: dict[tuple[str, str], list[BatchTask]] = {}
    for task in tasks:
        by_machine.setdefault((task.file, task.machine), []).append(task)
    services_by_machine: dict[tuple[str, str], list[ServiceTask]] = {}
    for service in services:
        services_by_machine.setdefault((service.file, service.machine), []).append(service)
    target = resolve_target((*tasks, *services), region, account, environment, partition)
    units: dict[tuple[str, str], tuple[Role, list[BatchTask], list[str], list[str], list[ServiceTask]]] = {}
    missing: list[Finding] = []
    for machine in machines:
        context = machine.template
        assert context is not None
        document = context.document or machine.document
        reader = TemplateReader(context, document, target)
        found = reader.role_of(machine.name)
        if isinstance(found, Finding):
            missing.append(found)
            continue
        key = (context.file, found.name)
        role, member_tasks, names, arns, member_services = units.setdefault(key, (found, [], [], [], []))
        names.append(machine.name)
        arns.append(reader.machine_arn(machine.name))
        member_tasks.extend(reader.concrete_task(task) for task in by_machine.get((machine.file, machine.name), []))
        member_services.extend(services_by_machine.get((machine.file, machine.name), []))
    result = [
        LintUnit(role, tuple(member_tasks), target, tuple(names), tuple(arns), from_template=True, services=tuple(member_services))
        for role, member_tasks, names, arns, member_services in units.values()
    ]
    return result, missing


class TemplateReader:
    def __init__(self, context: TemplateContext, document: Document, target: Target):
        self.context = context
        self.document = document
        self.target = target
        self.resolver = Resolver(document=document, machine="template", known_name=lambda name: True)

    # --- which role

    def role_of(self, machine: str) -> Role | Finding:
        pointer = f"/Resources/{escape_pointer_token(machine)}/Properties"
        resource = self.context.resources.get(machine)
        if self.context.kind not in (CLOUDFORMATION, SAM) or resource is None:
            return make_finding(
                "PG204",
                Location(self.context.file),
                {"machine": machine, "reason": f"policygen finds roles in CloudFormation and SAM templates, not in a {self.context.kind} source"},
            )
        key = "RoleArn" if resource.type == _STEP_FUNCTIONS else "Role"
        value = resource.properties.get(key)
        if value is None and resource.type != _STEP_FUNCTIONS:
            return self.sam_role(machine, resource.properties, pointer)
        if value is None:
            return self.not_found(machine, "it sets no RoleArn", pointer)
        logical_id = self.role_reference(value)
        if logical_id is None:
            return self.not_found(machine, f"its {key} ({_describe(value)}) is not a role of this template", f"{pointer}/{key}")
        return self.role(logical_id)

    def machine_arn(self, machine: str) -> str:
        """The state machine's ARN as far as the template says it (StateMachineName, SAM Name);
        its name part is empty when CloudFormation makes the name up."""
        resource = self.context.resources.get(machine)
        key = "StateMachineName" if resource is not None and resource.type == _STEP_FUNCTIONS else "Name"
        value = resource.properties.get(key) if resource is not None else None
        opaque: list[str] = []
        name = self.concrete(value, "", opaque) if value is not None else ""
        if opaque or not isinstance(name, str) or markers.has_reference(name):
            name = ""  # a deploy-time value (a parameter without default, the stack name): unknown
        region = self.target.region or UNKNOWN_REGION
        account = self.target.account or UNKNOWN_ACCOUNT
        return f"arn:{self.target.partition}:states:{region}:{account}:stateMachine:{name}"

    def not_found(self, machine: str, reason: str, pointer: str) -> Finding:
        return make_finding("PG204", self.document.location(pointer), {"machine": machine, "reason": reason})

    def role_reference(self, value: Any) -> str | None:
        """The AWS::IAM::Role a RoleArn names: GetAtt X.Arn, Sub "${X.Arn}", or Ref X."""
        name = None
        if isinstance(value, dict) and len(value) == 1:
            (function, argument), = value.items()
            if function == "Fn::GetAtt":
                parts = argument.split(".", 1) if isinstance(argument, str) else argument
                if isinstance(parts, list) and len(parts) == 2 and parts[1] == "Arn":
                    name = parts[0]
            elif function == "Fn::Sub" and isinstance(argument, str):
                # "${Role.Arn}", or the ARN spelled out around the role's name (Ref of a role):
                # "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${Role}".
                match = re.fullmatch(r"\$\{([^}.]+)\.Arn\}", argument) or re.fullmatch(
                    r"arn:\S*:iam::\S*:role/\$\{([^}.!:]+)\}", argument
                )
                name = match[1] if match else None
            elif function == "Ref" and isinstance(argument, str):
                name = argument
        resource = self.context.resources.get(name) if isinstance(name, str) else None
        return name if resource is not None and resource.type == _ROLE_TYPE else None

    # --- the role's policies

    def role(self, logical_id: str) -> Role:
        properties = self.context.resources[logical_id].properties
        base = f"/Resources/{escape_pointer_token(logical_id)}/Properties"
        sources: list[PolicySource | None] = []
        unreadable: list[str] = []
        for index, item in enumerate(_as_list(properties.get("Policies"))):
            if isinstance(item, dict) and "PolicyDocument" in item:
                name = item.get("PolicyName") if isinstance(item.get("PolicyName"), str) else str(index)
                sources.append(self.policy(item["PolicyDocument"], f"{base}/Policies/{index}/PolicyDocument", f"{logical_id} policy {name}", unreadable))
            else:  # e.g. Policies: !If [...]: the role may have more than policygen sees
                unreadable.append(f"the Policies entry {_describe(item)}")
        for arn in _as_list(properties.get("ManagedPolicyArns")):
            managed = _ref_name(arn)
            resource = self.context.resources.get(managed) if managed else None
            if resource is not None and resource.type == "AWS::IAM::ManagedPolicy":
                sources.append(self.attached(managed, unreadable))
            else:
                unreadable.append(f"the managed policy {_describe(arn)}")
        for other_id, resource in self.context.resources.items():
            if resource.type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                if logical_id in {_ref_name(role) for role in _as_list(resource.properties.get("Roles"))}:
                    sources.append(self.attached(other_id, unreadable))
            elif resource.type == "AWS::IAM::RolePolicy" and _ref_name(resource.properties.get("RoleName")) == logical_id:
                sources.append(self.attached(other_id, unreadable))
        trust = None
        if "AssumeRolePolicyDocument" in properties:
            pointer = f"{base}/AssumeRolePolicyDocument"
            trust = TrustPolicy(self.concrete(properties["AssumeRolePolicyDocument"], pointer, []), f"{logical_id} trust policy", self.locator(pointer))
        unique = {source.document.source: source for source in sources if source is not None}
        return Role(
            name=logical_id,
            policies=tuple(unique.values()),
            trust=trust,
            unreadable=tuple(dict.fromkeys(unreadable)),
            location=self.document.location(f"/Resources/{escape_pointer_token(logical_id)}"),
        )

    def attached(self, logical_id: str, unreadable: list[str]) -> PolicySource | None:
        pointer = f"/Resources/{escape_pointer_token(logical_id)}/Properties/PolicyDocument"
        document = self.context.resources[logical_id].properties.get("PolicyDocument")
        return self.policy(document, pointer, logical_id, unreadable)

    def sam_role(self, machine: str, properties: Mapping[str, Any], pointer: str) -> Role:
        """The role SAM creates for a state machine without Role, from its Policies, and the X-Ray
        policy SAM attaches when Tracing is enabled."""
        sources: list[PolicySource | None] = []
        unreadable: list[str] = []
        templates: list[str] = []
        for index, item in enumerate(_as_list(properties.get("Policies"))):
            item_pointer = f"{pointer}/Policies" + (f"/{index}" if isinstance(properties.get("Policies"), list) else "")
            if isinstance(item, dict) and "Statement" in item:
                sources.append(self.policy(item, item_pointer, f"{machine} policy {index}", unreadable))
            elif isinstance(item, dict) and len(item) == 1 and next(iter(item)).endswith("Policy"):
                # A SAM policy template (LambdaInvokePolicy, SQSSendMessagePolicy...) grants what
                # SAM's table says, which policygen does not read: what it may grant is "cannot verify".
                templates.append(f"the SAM policy template {next(iter(item))}")
            else:
                unreadable.append(f"the managed policy {_describe(item)}")
        attached = []
        tracing = properties.get("Tracing")
        if isinstance(tracing, Mapping) and tracing.get("Enabled") is True:
            attached.append("AWSXrayWriteOnlyAccess (SAM attaches it for Tracing)")
            sources.append(policy_source(_SAM_TRACING_POLICY, attached[-1], self.locator(f"{pointer}/Tracing")))
        return Role(
            name=f"{machine}Role",
            policies=tuple(source for source in sources if source is not None),
            unreadable=tuple(unreadable),
            location=self.document.location(pointer),
            policy_templates=tuple(dict.fromkeys(templates)),
            attached=tuple(attached),
        )

    def policy(self, data: Any, pointer: str, source: str, unreadable: list[str]) -> PolicySource | None:
        """The policy document as a PolicySource; None when a deploy-time value (Fn::If around a
        statement, say) leaves no readable document: it is then among the `unreadable`."""
        opaque: list[str] = []
        concrete = self.concrete(data, pointer, opaque)
        if opaque:
            unreadable.append(f"{source} (its {', '.join(dict.fromkeys(opaque))} is known only at deploy time)")
            try:
                parsed = policy_source(concrete, source, self.locator(pointer))
            except InputError:
                return None
            return replace(parsed, data=data)
        # --fix keeps unflagged statements as the template writes them (intrinsic functions
        # included), never with the stand-ins `concrete` put in place of deploy-time values.
        return replace(policy_source(concrete, source, self.locator(pointer)), data=data)

    def locator(self, pointer: str):
        return lambda inner: self.document.location(pointer + inner)

    # --- deploy-time values made concrete

    def concrete(self, value: Any, pointer: str, opaque: list[str]) -> Any:
        """A policy with intrinsic functions replaced by concrete text (see the module docstring)."""
        if isinstance(value, dict):
            if len(value) == 1 and (next(iter(value)) == "Ref" or str(next(iter(value))).startswith("Fn::")):
                return self.text(self.resolver.segments(value, pointer), opaque)
            return {key: self.concrete(item, f"{pointer}/{escape_pointer_token(key)}", opaque) for key, item in value.items()}
        if isinstance(value, list):
            return [self.concrete(item, f"{pointer}/{index}", opaque) for index, item in enumerate(value)]
        return value

    def text(self, segments, opaque: list[str]) -> str:
        pieces = []
        for segment in segments:
            if isinstance(segment, str):
                pieces.append(segment)
            elif isinstance(segment, Opaque):
                opaque.append(segment.intrinsic)
                pieces.append(_OPAQUE)
            else:
                pieces.append(self.reference(segment))
        return "".join(pieces)

    def reference(self, ref: Ref) -> str:
        target = self.target
        pseudo = {
            "AWS::Partition": target.partition,
            "AWS::Region": target.region or UNKNOWN_REGION,
            "AWS::AccountId": target.account or UNKNOWN_ACCOUNT,
            "AWS::URLSuffix": "amazonaws.com.cn" if target.partition == "aws-cn" else "amazonaws.com",
        }
        if ref.name in pseudo:
            return pseudo[ref.name]
        default = self.default_of(ref.name)
        if default is not None:
            return default
        name, _, attribute = ref.name.partition(".")
        resource = self.context.resources.get(name)
        batch = batch_arn_reference(resource.type, attribute) if resource is not None else None
        if batch is not None:
            region = target.region or UNKNOWN_REGION
            account = target.account or UNKNOWN_ACCOUNT
            resource_name = self.resource_name(resource.properties.get(batch.name_property), name)
            # The revision a job definition's Ref names is picked at deploy time: one stand-in on
            # both sides, so `!Ref JobDefinition` in the state and in the policy match each other
            # and `job-definition/<name>:*` matches both.
            return batch_arn(batch, resource_name, target.partition, region, account, revision=markers.REVISION)
        return markers.reference(canonical_reference(self.context.resources, ref.name))

    def resource_name(self, name: Any, logical_id: str) -> str:
        """The resource's name as the template gives it (the same one generate writes), or a
        stand-in when CloudFormation makes it up or deploy time chooses it."""
        if isinstance(name, str):
            return name
        if isinstance(name, dict):
            opaque: list[str] = []
            text = self.concrete(name, f"/Resources/{escape_pointer_token(logical_id)}", opaque)
            if isinstance(text, str) and not opaque and not markers.has_reference(text):
                return text
        return markers.reference(logical_id)

    def default_of(self, reference: str) -> str | None:
        """The Default of the template parameter a Ref names, as text; None for anything else."""
        parameter = self.context.parameters.get(reference)
        if parameter is not None and isinstance(parameter.default, (str, int)):
            return str(parameter.default)
        return None

    def concrete_task(self, task: BatchTask) -> BatchTask:
        """The task with its deploy-time values made concrete, as the policy's are."""

        def value(field: FieldValue | None) -> FieldValue | None:
            if field is None or field.kind is not ValueKind.DEPLOY_TIME:
                return field
            opaque: list[str] = []
            segments = parse_sub(field.text)
            text = self.text(segments, opaque)
            if opaque:
                return field
            defaults = tuple(s.name for s in segments if isinstance(s, Ref) and self.default_of(s.name) is not None)
            return FieldValue(ValueKind.STATIC, text, field.field, field.pointer, defaults)

        return replace(
            task,
            partition=task.partition or self.target.partition,
            job_queue=value(task.job_queue),
            job_definition=value(task.job_definition),
            share_identifier=value(task.share_identifier),
            tags=tuple(Tag(tag.key, value(tag.value)) for tag in task.tags),
            consumable_resources=tuple(value(item) for item in task.consumable_resources),
        )


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _ref_name(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("Ref"), str):
        return value["Ref"]
    return None


# The AWS managed policy SAM attaches to a state machine's role when Tracing is enabled
# (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSXrayWriteOnlyAccess.html,
# default version v2; aws/serverless-application-model's state machine generator attaches it).
_SAM_TRACING_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
                   "xray:GetSamplingStatisticSummaries"],
        "Resource": ["*"],
    }],
}


def _describe(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
