"""One table of what a Ref / Fn::GetAtt of a Batch resource returns, read by generate and lint alike."""

from __future__ import annotations

import fnmatch
import json
import textwrap
from pathlib import Path

import pytest

from policygen import pipeline
from policygen.lint.roles.template import TemplateReader
from policygen.load.template import Ref
from policygen.requirements.deploy_time import DeployTimeValues
from policygen.requirements.target import Target
from policygen.requirements.template_values import RETURN_VALUES, batch_arn_reference

REGION, ACCOUNT = "us-east-1", "123456789012"

_NAMED_RESOURCES = """
  Queue:
    Type: AWS::Batch::JobQueue
    Properties: {JobQueueName: render, Priority: 1, ComputeEnvironmentOrder: []}
  JobDef:
    Type: AWS::Batch::JobDefinition
    Properties: {JobDefinitionName: render-job, Type: container}
  Licenses:
    Type: AWS::Batch::ConsumableResource
    Properties: {ConsumableResourceName: licenses, ResourceType: REPLENISHABLE, TotalQuantity: 10}
  Fairshare:
    Type: AWS::Batch::SchedulingPolicy
    Properties: {Name: fair}
"""
_LOGICAL_IDS = {
    "AWS::Batch::JobQueue": "Queue",
    "AWS::Batch::JobDefinition": "JobDef",
    "AWS::Batch::ConsumableResource": "Licenses",
    "AWS::Batch::SchedulingPolicy": "Fairshare",
}


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def _template(tmp_path: Path):
    path = _write(
        tmp_path,
        "Resources:" + _NAMED_RESOURCES + """
  Machine:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      RoleArn: arn:aws:iam::123456789012:role/x
      Definition: {StartAt: A, States: {A: {Type: Pass, End: true}}}
""",
    )
    (machine,) = pipeline.load_state_machines([str(path)]).machines
    return machine


@pytest.mark.parametrize("entry", RETURN_VALUES, ids=lambda e: f"{e.resource_type}.{e.attribute or 'Ref'}")
def test_every_return_value_is_the_same_arn_in_generate_and_lint(tmp_path, entry):
    machine = _template(tmp_path)
    context = machine.template
    logical_id = _LOGICAL_IDS[entry.resource_type]
    name = logical_id + (f".{entry.attribute}" if entry.attribute else "")

    generated = DeployTimeValues({(machine.file, machine.name): context}, keep_references=False).resolve(
        machine.file, machine.name, "${" + name + "}", entry.arn_type
    )
    assert generated is not None and generated.is_arn
    generated_arn = generated.text.format(partition="aws", region=REGION, account=ACCOUNT)
    reader = TemplateReader(context, context.document, Target("aws", REGION, ACCOUNT))
    linted_arn = reader.reference(Ref(name))

    name_in_template = {"Queue": "render", "JobDef": "render-job", "Licenses": "licenses", "Fairshare": "fair"}[logical_id]
    expected = f"arn:aws:batch:{REGION}:{ACCOUNT}:{entry.arn_type}/{name_in_template}"
    if entry.revisioned:
        # generate allows every revision; lint stands for the one revision deploy time registers
        assert generated_arn == expected + ":*" and generated.pinned
        assert linted_arn.startswith(expected + ":") and fnmatch.fnmatchcase(linted_arn, generated_arn)
    else:
        assert generated_arn == linted_arn == expected


def test_the_table_names_only_arn_attributes():
    assert batch_arn_reference("AWS::Batch::JobQueue", "JobQueueName") is None
    assert batch_arn_reference("AWS::Batch::ConsumableResource", "TotalQuantity") is None
    assert batch_arn_reference("AWS::Batch::ComputeEnvironment", "") is None
    assert {(e.resource_type, e.attribute) for e in RETURN_VALUES} >= {
        ("AWS::Batch::JobDefinition", "JobDefinitionArn"),
        ("AWS::Batch::ConsumableResource", ""),
    }


_STATE = """
  Machine:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      RoleArn: !GetAtt Role.Arn
      Definition:
        StartAt: Submit
        States:
          Submit:
            Type: Task
            Resource: arn:aws:states:::batch:submitJob
            Parameters:
              JobName: render
              JobQueue: !Ref Queue
              JobDefinition: !GetAtt JobDef.JobDefinitionArn
              ConsumableResourcePropertiesOverride:
                ConsumableResourceList:
                  - {ConsumableResource: !Ref Licenses, Quantity: 1}
            End: true
"""


def _role(statements: list) -> str:
    policy = json.dumps({"Version": "2012-10-17", "Statement": statements})
    return f"""
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {{Effect: Allow, Principal: {{Service: states.amazonaws.com}}, Action: sts:AssumeRole}}
      Policies:
        - PolicyName: batch
          PolicyDocument: {policy}
"""


def test_getatt_job_definition_arn_and_ref_of_a_consumable_resource_are_named_not_wildcarded(run_cli, tmp_path):
    # Before the one table, generate knew neither (and fell back to job-definition/* and
    # consumable-resource/* with a warning) while lint knew both.
    path = _write(tmp_path, "Resources:" + _NAMED_RESOURCES + _role([]) + _STATE)
    result = run_cli("generate", str(path), "--mode", "fine-grained", "--region", REGION, "--account", ACCOUNT)
    assert result.code == 0, result.err
    (statement,) = json.loads(result.out)["Statement"]
    prefix = f"arn:aws:batch:{REGION}:{ACCOUNT}:"
    assert statement["Resource"] == [
        prefix + "consumable-resource/licenses",
        prefix + "job-definition/render-job:*",
        prefix + "job-queue/render",
        prefix + "job/*",
    ]
    assert "cannot name it" not in result.err


def test_the_generated_policy_with_literal_arns_lints_clean_against_the_template_references(run_cli, tmp_path):
    # Before, lint called `!Ref Queue` job-queue/policygen-ref-Queue, so the literal ARNs generate
    # writes for the same template were a false PG101.
    prefix = f"arn:aws:batch:{REGION}:{ACCOUNT}:"
    statements = [
        {
            "Effect": "Allow",
            "Action": "batch:SubmitJob",
            "Resource": [
                prefix + "consumable-resource/licenses",
                prefix + "job-definition/render-job:*",
                prefix + "job-queue/render",
                prefix + "job/*",
            ],
        }
    ]
    path = _write(tmp_path, "Resources:" + _NAMED_RESOURCES + _role(statements) + _STATE)
    result = run_cli("lint", str(path), "--region", REGION, "--account", ACCOUNT, "--format", "json")
    assert result.code == 0, result.out + result.err
    rules = {finding["rule"] for finding in json.loads(result.out)["findings"]}
    assert not rules & {"PG101", "PG201", "PG203"}, result.out


_JOB_DEFINITION_WITH_RESOURCES = """
  Queue:
    Type: AWS::Batch::JobQueue
    Properties: {JobQueueName: render, Priority: 1, ComputeEnvironmentOrder: []}
  Licenses:
    Type: AWS::Batch::ConsumableResource
    Properties: {ConsumableResourceName: licenses, ResourceType: REPLENISHABLE, TotalQuantity: 10}
  JobDef:
    Type: AWS::Batch::JobDefinition
    Properties:
      JobDefinitionName: render-job
      Type: container
      ConsumableResourceProperties:
        ConsumableResourceList:
          - {ConsumableResource: !GetAtt Licenses.ConsumableResourceArn, Quantity: 1}
          - {ConsumableResource: "arn:aws:batch:us-east-1:123456789012:consumable-resource/gpu-seats", Quantity: 2}
"""


def _machine(job_definition: str) -> str:
    return f"""
  Machine:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      RoleArn: arn:aws:iam::123456789012:role/x
      Definition:
        StartAt: Submit
        States:
          Submit:
            Type: Task
            Resource: arn:aws:states:::batch:submitJob
            Parameters: {{JobName: render, JobQueue: !Ref Queue, JobDefinition: {job_definition}}}
            End: true
"""


def _fine_grained(run_cli, path: Path):
    result = run_cli("generate", str(path), "--mode", "fine-grained", "--region", REGION, "--account", ACCOUNT, "--explain")
    assert result.code == 0, result.err
    (statement,) = json.loads(result.out)["Statement"]
    return statement["Resource"], result.err


def test_consumable_resources_of_the_templates_job_definition_replace_the_wildcard(run_cli, tmp_path):
    path = _write(tmp_path, "Resources:" + _JOB_DEFINITION_WITH_RESOURCES + _machine("!Ref JobDef"))
    resources, err = _fine_grained(run_cli, path)
    prefix = f"arn:aws:batch:{REGION}:{ACCOUNT}:"
    assert prefix + "consumable-resource/licenses" in resources
    assert prefix + "consumable-resource/gpu-seats" in resources
    assert prefix + "consumable-resource/*" not in resources
    assert "those of the template's job definition" in err


def test_a_job_definition_without_consumable_resources_gets_none(run_cli, tmp_path):
    template = _JOB_DEFINITION_WITH_RESOURCES.split("      ConsumableResourceProperties:")[0]
    path = _write(tmp_path, "Resources:" + template + _machine("!Ref JobDef"))
    resources, err = _fine_grained(run_cli, path)
    assert not [resource for resource in resources if ":consumable-resource/" in resource]
    assert "names no consumable resources" in err


def test_a_job_definition_outside_the_template_keeps_the_wildcard_and_explain_says_why(run_cli, tmp_path):
    # The same name as the template's job definition: a later revision registered outside the
    # template may name other consumable resources, so only a Ref reads the template's.
    path = _write(tmp_path, "Resources:" + _JOB_DEFINITION_WITH_RESOURCES + _machine("render-job"))
    resources, err = _fine_grained(run_cli, path)
    assert f"arn:aws:batch:{REGION}:{ACCOUNT}:consumable-resource/*" in resources
    assert "cannot be read offline" in err


def test_an_unreadable_consumable_resource_of_the_job_definition_is_the_wildcard_with_a_warning(run_cli, tmp_path):
    template = _JOB_DEFINITION_WITH_RESOURCES.replace(
        "!GetAtt Licenses.ConsumableResourceArn", "!If [UseLicenses, !Ref Licenses, !Ref AWS::NoValue]"
    )
    path = _write(tmp_path, "Conditions: {UseLicenses: !Equals [a, a]}\nResources:" + template + _machine("!Ref JobDef"))
    resources, err = _fine_grained(run_cli, path)
    prefix = f"arn:aws:batch:{REGION}:{ACCOUNT}:"
    assert prefix + "consumable-resource/*" in resources  # (it covers gpu-seats, which merges into it)
    assert "does not read" in err


@pytest.mark.parametrize("entry", RETURN_VALUES, ids=lambda e: f"{e.resource_type}.{e.attribute or 'Ref'}")
def test_cloudformation_output_keeps_every_arn_reference(tmp_path, entry):
    # Before the one table, --format cloudformation knew neither GetAtt JobDefinitionArn nor a
    # ConsumableResource's Ref, and wrote the wildcard instead of the reference.
    machine = _template(tmp_path)
    name = _LOGICAL_IDS[entry.resource_type] + (f".{entry.attribute}" if entry.attribute else "")
    values = DeployTimeValues({(machine.file, machine.name): machine.template}, keep_references=True)
    resolved = values.resolve(machine.file, machine.name, "${" + name + "}", entry.arn_type)
    assert resolved is not None and resolved.is_arn and resolved.text == "${" + name + "}"
    assert resolved.pinned == entry.revisioned
    assert values.resolve(machine.file, machine.name, "${" + name + "}", "job-queue" if entry.arn_type != "job-queue" else "job-definition") is None
