"""Warnings generate gives where the policy is correct but a reviewer should know why it is wider."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SDK_SUBMIT = {
    "StartAt": "P",
    "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Sdk", "States": {"Sdk": {
            "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:batch:submitJob",
            "Parameters": {"JobName": "a", "JobQueue": "q", "JobDefinition": "d"}, "End": True}}},
        {"StartAt": "Optimized", "States": {"Optimized": {
            "Type": "Task", "Resource": "arn:aws:states:::batch:submitJob",
            "Parameters": {"JobName": "b", "JobQueue": "render", "JobDefinition": "blender:2"}, "End": True}}},
    ]}},
}


def _write(tmp_path, data) -> str:
    path = tmp_path / "sm.asl.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_fine_grained_warns_that_an_sdk_submit_job_keeps_the_documented_grant(run_cli, tmp_path):
    result = run_cli("generate", _write(tmp_path, SDK_SUBMIT), "--mode", "fine-grained",
                     "--region", "us-east-1", "--account", "123456789012")
    assert result.code == 0
    assert "state 'P/branch[0]/Sdk' calls SubmitJob through the AWS SDK integration" in result.err
    assert "'P/branch[1]/Optimized'" not in result.err  # the optimized integration is narrowed, no warning
    resources = [s["Resource"] for s in json.loads(result.out)["Statement"] if "batch:SubmitJob" in s["Action"]]
    assert ["arn:aws:batch:us-east-1:123456789012:job-queue/*" in r for r in resources].count(True) == 1


def test_documented_mode_does_not_warn_about_sdk_submit_job(run_cli, tmp_path):
    result = run_cli("generate", _write(tmp_path, SDK_SUBMIT), "--region", "us-east-1", "--account", "123456789012")
    assert result.code == 0 and result.err == ""


def test_a_placeholder_in_a_loose_asl_file_is_never_written_as_text(run_cli, tmp_path):
    # `${QueueArn}` is a DefinitionSubstitutions placeholder; in a policy it would read as an IAM
    # policy variable. Fine-grained falls back to job-queue/* and says which input would know it.
    definition = {"StartAt": "A", "States": {"A": {
        "Type": "Task", "Resource": "arn:aws:states:::batch:submitJob",
        "Parameters": {"JobName": "a", "JobQueue": "${QueueArn}", "JobDefinition": "d", "Tags": {"Stage": "${Stage}"}},
        "End": True}}}
    result = run_cli("generate", _write(tmp_path, definition), "--mode", "fine-grained",
                     "--region", "us-east-1", "--account", "123456789012")
    assert result.code == 0
    assert "${" not in result.out
    assert "job-queue/*" in result.out
    assert "only the template deploying this file fills in" in result.err


def test_a_state_with_credentials_warns_that_the_policy_is_for_the_assumed_role(run_cli, tmp_path):
    # Step Functions makes the call as Credentials.RoleArn (cross-account access): the Batch
    # permissions are that role's, and the execution role needs sts:AssumeRole on it instead.
    parameters = {"JobName": "a", "JobQueue": "q", "JobDefinition": "d"}
    definition = {"StartAt": "Static", "States": {
        "Static": {"Type": "Task", "Resource": "arn:aws:states:::batch:submitJob.sync", "Next": "Path",
                   "Credentials": {"RoleArn": "arn:aws:iam::222233334444:role/batch-runner"}, "Parameters": parameters},
        "Path": {"Type": "Task", "Resource": "arn:aws:states:::batch:submitJob", "Next": "Plain",
                 "Credentials": {"RoleArn.$": "$.role"}, "Parameters": parameters},
        "Plain": {"Type": "Task", "Resource": "arn:aws:states:::batch:submitJob", "End": True, "Parameters": parameters},
    }}
    result = run_cli("generate", _write(tmp_path, definition), "--region", "us-east-1", "--account", "123456789012")
    assert result.code == 0
    lines = result.err.splitlines()
    assert len(lines) == 2, result.err
    assert "state 'Static' calls Batch with the credentials of another role" in lines[0]
    assert "arn:aws:iam::222233334444:role/batch-runner" in lines[0] and "(at /States/Static/Credentials/RoleArn)" in lines[0]
    assert "sts:AssumeRole" in lines[0]
    assert "state 'Path'" in lines[1] and "RoleArn.$: $.role" in lines[1]
    scanned = json.loads(run_cli("scan", "-f", "json", _write(tmp_path, definition)).out)["batchStates"]
    assert [state["credentials"] and state["credentials"]["value"] for state in scanned] == [
        "arn:aws:iam::222233334444:role/batch-runner", "$.role", None]


def test_a_placeholder_tag_key_drops_the_tag_conditions_and_warns(run_cli, tmp_path):
    # `${OwnerKey}` is filled in at deploy time: written into aws:TagKeys or aws:RequestTag/<key> it
    # would read as an IAM policy variable, and TagResource for the real key would be denied.
    definition = {"StartAt": "A", "States": {"A": {
        "Type": "Task", "Resource": "arn:aws:states:::batch:submitJob",
        "Parameters": {"JobName": "a", "JobQueue": "q", "JobDefinition": "d", "Tags": {"${OwnerKey}": "me", "team": "x"}},
        "End": True}}}
    path = _write(tmp_path, definition)
    for mode in ("documented", "fine-grained"):
        result = run_cli("generate", path, "--mode", mode, "--region", "us-east-1", "--account", "123456789012")
        assert result.code == 0
        assert "${" not in result.out
        (tag,) = [s for s in json.loads(result.out)["Statement"] if "batch:TagResource" in s["Action"]]
        assert tag["Resource"] == ["arn:aws:batch:us-east-1:123456789012:job/*"] and "Condition" not in tag
        assert "state 'A': a tag key is only known at deploy time (Tags: ${OwnerKey})" in result.err
    # The known tag still counts for --tag: the state sends team=x.
    tagged = run_cli("generate", path, "--mode", "fine-grained", "--tag", "team=x",
                     "--region", "us-east-1", "--account", "123456789012")
    assert tagged.code == 0, tagged.err


def test_a_template_choice_is_called_a_deploy_time_choice_not_a_run_time_expression(run_cli):
    # Fn::If / Fn::ImportValue are fixed when the stack deploys; the warning must not say "run time".
    result = run_cli("generate", str(ROOT / "fixtures/inputs/cloudformation/deploy-choice.yaml"), "--mode", "fine-grained",
                     "--region", "us-east-1", "--account", "123456789012")
    assert result.code == 0
    assert "chosen at deploy time in a way policygen does not evaluate ({\"Fn::If\"" in result.err
    assert "known only at run time ({\"Fn::If\"" not in result.err


TEMPLATE_WITH_SUBBED_QUEUE_NAME = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Stage: {Type: String, Default: prod}
Resources:
  Queue:
    Type: AWS::Batch::JobQueue
    Properties:
      JobQueueName: !Sub "video-${Stage}"
      Priority: 1
      ComputeEnvironmentOrder: [{Order: 1, ComputeEnvironment: "arn:aws:batch:us-east-1:123456789012:compute-environment/ce"}]
  Machine:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      RoleArn: "arn:aws:iam::123456789012:role/sfn"
      Definition:
        StartAt: Encode
        States:
          Encode:
            Type: Task
            Resource: !Sub "arn:${AWS::Partition}:states:::batch:submitJob"
            Parameters: {JobName: encode, JobQueue: !Ref Queue, JobDefinition: "ffmpeg:12"}
            End: true
"""


def test_a_queue_named_with_a_parameter_default_is_named_and_the_default_is_said(run_cli, tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE_WITH_SUBBED_QUEUE_NAME)
    result = run_cli("generate", str(path), "--mode", "fine-grained", "--region", "us-east-1", "--account", "123456789012")
    assert result.code == 0, result.err
    assert "arn:aws:batch:us-east-1:123456789012:job-queue/video-prod" in result.out
    assert "job-queue/*" not in result.out
    assert "Stage='prod'" in result.err  # another deployed value would be denied: said, not silent
    cloudformation = run_cli("generate", str(path), "--mode", "fine-grained", "--format", "cloudformation")
    assert "- !Ref Queue" in cloudformation.out
