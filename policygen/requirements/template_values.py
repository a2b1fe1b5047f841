"""What a CloudFormation `Ref` or `Fn::GetAtt` of an AWS Batch resource returns: the one table that
`generate` (requirements/deploy_time.py) and `lint` (lint/roles/template.py) both read.

Sources (AWS CloudFormation Template Reference, each page's "Return values"; checked 2026-11-29):
- AWS::Batch::JobQueue: Ref and GetAtt JobQueueArn return the queue ARN, `…:job-queue/<name>`.
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-batch-jobqueue.html
- AWS::Batch::JobDefinition: Ref returns the ARN with the revision CloudFormation registered,
  `…:job-definition/<name>:<revision>`; GetAtt JobDefinitionArn returns the same ARN (a read-only
  property of the resource schema).
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-batch-jobdefinition.html
- AWS::Batch::ConsumableResource: Ref and GetAtt ConsumableResourceArn return the ARN,
  `…:consumable-resource/<name>` (the resource schema makes ConsumableResourceArn its primary
  identifier, which is what Ref returns for registry resources).
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-batch-consumableresource.html
- AWS::Batch::SchedulingPolicy: Ref and GetAtt Arn return the ARN, `…:scheduling-policy/<name>`.
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-batch-schedulingpolicy.html
Any other attribute of these resources (a name, a quantity) is not an ARN and is not in the table.
The facts, with the rest policygen relies on: docs/aws-facts.md#template-return-values.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BatchArnReference:
    """What one (resource type, attribute) returns: an ARN of `arn_type`, named by `name_property`."""

    resource_type: str  # AWS::Batch::JobQueue, ...
    attribute: str  # "" for Ref, else the Fn::GetAtt attribute
    arn_type: str  # the ARN's resource type: job-queue, job-definition, ...
    name_property: str  # the template property that names the resource (CloudFormation makes one up without it)
    revisioned: bool = False  # the ARN ends in `:<revision>`, which only deploy time knows


def _entries(resource_type: str, arn_type: str, name_property: str, arn_attribute: str, revisioned: bool = False):
    return tuple(
        BatchArnReference(resource_type, attribute, arn_type, name_property, revisioned)
        for attribute in ("", arn_attribute)
    )


RETURN_VALUES: tuple[BatchArnReference, ...] = (
    *_entries("AWS::Batch::JobQueue", "job-queue", "JobQueueName", "JobQueueArn"),
    *_entries("AWS::Batch::JobDefinition", "job-definition", "JobDefinitionName", "JobDefinitionArn", revisioned=True),
    *_entries("AWS::Batch::ConsumableResource", "consumable-resource", "ConsumableResourceName", "ConsumableResourceArn"),
    *_entries("AWS::Batch::SchedulingPolicy", "scheduling-policy", "Name", "Arn"),
)
_BY_KEY = {(entry.resource_type, entry.attribute): entry for entry in RETURN_VALUES}


def batch_arn_reference(resource_type: str, attribute: str) -> BatchArnReference | None:
    """The table entry for a Ref (`attribute` "") or GetAtt of a resource, None when it is no Batch ARN."""
    return _BY_KEY.get((resource_type, attribute))


def batch_arn(reference: BatchArnReference, name: str, partition: str, region: str, account: str, revision: str) -> str:
    """The ARN the reference returns for a resource called `name`; `revision` fills a job
    definition's revision (a pattern such as `*`, or a stand-in for the revision deploy time picks)."""
    arn = f"arn:{partition}:batch:{region}:{account}:{reference.arn_type}/{name}"
    return f"{arn}:{revision}" if reference.revisioned else arn


def reference_text(value: object) -> str | None:
    """A template value as Fn::Sub text (`{"Ref": "X"}` -> `${X}`, GetAtt -> `${X.Attr}`), or None
    for anything else (an Fn::If, a list): the form DeployTimeValues.resolve reads."""
    if isinstance(value, str):
        return value.replace("${", "${!")
    if not isinstance(value, dict) or len(value) != 1:
        return None
    (function, argument), = value.items()
    if function == "Ref" and isinstance(argument, str):
        return "${" + argument + "}"
    if function == "Fn::GetAtt":
        parts = argument.split(".", 1) if isinstance(argument, str) else argument
        if isinstance(parts, list) and len(parts) == 2 and all(isinstance(part, str) for part in parts):
            return "${" + f"{parts[0]}.{parts[1]}" + "}"
    if function == "Fn::Sub" and isinstance(argument, str):
        return argument
    return None
