"""Where the policy's ARNs point: region, account and partition resolution (REFERENCE.md §1)."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "inputs" / "asl"


def test_a_stray_aws_region_of_another_partition_is_an_error_not_a_wrong_arn(run_cli, monkeypatch):
    # The govcloud definition's Resource ARNs are aws-us-gov: us-east-1 would build arn:aws-us-gov:events:us-east-1.
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    result = run_cli("generate", str(FIXTURES / "govcloud.asl.json"))
    assert result.code == 2
    assert "us-east-1 (from AWS_REGION) is not in the partition aws-us-gov" in result.err
    assert result.out == ""


def test_an_invalid_environment_region_names_the_variable_not_the_flag(run_cli, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "moon-1")
    result = run_cli("generate", str(FIXTURES / "request-response.asl.json"), "--account", "123456789012")
    assert result.code == 2
    assert "AWS_DEFAULT_REGION 'moon-1'" in result.err and "--region" not in result.err.split("(")[0]


def test_missing_account_message_shows_the_resource_with_the_region_filled_in(run_cli, tmp_path):
    definition = {
        "StartAt": "Run",
        "States": {"Run": {"Type": "Task", "Resource": "arn:aws:states:::batch:submitJob.sync",
                           "Parameters": {"JobName": "j", "JobQueue": "q", "JobDefinition": "d"}, "End": True}},
    }
    path = tmp_path / "sm.asl.json"
    path.write_text(json.dumps(definition))
    result = run_cli("generate", str(path), "--region", "eu-west-1")
    assert result.code == 2
    assert "the account is unknown" in result.err
    assert "arn:aws:events:eu-west-1:{account}:rule/StepFunctionsGetEventsForBatchJobsRule" in result.err
    assert "{region}" not in result.err and "pass --account" in result.err


def test_both_unknown_are_named_together(run_cli, tmp_path):
    definition = {
        "StartAt": "Run",
        "States": {"Run": {"Type": "Task", "Resource": "arn:aws:states:::batch:submitJob.sync",
                           "Parameters": {"JobName": "j", "JobQueue": "q", "JobDefinition": "d"}, "End": True}},
    }
    path = tmp_path / "sm.asl.json"
    path.write_text(json.dumps(definition))
    result = run_cli("generate", str(path))
    assert result.code == 2
    assert "the region and account are unknown" in result.err
    assert "--region (or AWS_REGION) and --account" in result.err


def test_mixed_partitions_name_a_state_of_each(run_cli, tmp_path):
    for name, partition in (("a", "aws"), ("b", "aws-cn")):
        (tmp_path / f"{name}.asl.json").write_text(json.dumps({
            "StartAt": "S",
            "States": {"S": {"Type": "Task", "Resource": f"arn:{partition}:states:::batch:submitJob",
                             "Parameters": {"JobName": "j", "JobQueue": "q", "JobDefinition": "d"}, "End": True}},
        }))
    result = run_cli("generate", str(tmp_path / "a.asl.json"), str(tmp_path / "b.asl.json"), "--merge",
                     "--region", "us-east-1", "--account", "123456789012")
    assert result.code == 2
    assert "aws in " in result.err and "aws-cn in " in result.err and "'S'" in result.err
