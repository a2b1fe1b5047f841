"""Templated definitions: placeholders in an ASL file (DefinitionSubstitutions outside their
template, Terraform templatefile() variables) and --substitute NAME=VALUE.

A Task whose Resource is still a placeholder that might be a Batch integration is never taken
for "not Batch": that would drop its permissions from `generate` and make `lint` call the role's
Batch grants unneeded (PG202). It is exit 2, naming the state, the placeholder and --substitute.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import assert_input_error

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "fixtures" / "inputs" / "bad"
PG202 = ROOT / "fixtures" / "lint" / "PG202"
TARGET = ("--region", "us-east-1", "--account", "123456789012")
PLACEHOLDER = BAD / "resource-placeholder.asl.json"  # "Resource": "${batch_arn}"
SERVICE = BAD / "resource-placeholder-service.asl.json"  # "arn:aws:states:::${service}:submitJob.sync"


def _write(tmp_path: Path, definition: dict, name: str = "m.asl.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(definition))
    return path


def _batch_state(resource: str, **parameters: str) -> dict:
    return {"StartAt": "Run", "States": {"Run": {
        "Type": "Task", "Resource": resource, "End": True,
        "Parameters": {"JobName": "j", "JobQueue": "q", "JobDefinition": "d:1", **parameters},
    }}}


def _resources(out: str) -> list[str]:
    found = []
    for statement in json.loads(out)["Statement"]:
        resource = statement["Resource"]
        found.extend([resource] if isinstance(resource, str) else resource)
    return found


# -- unresolved: exit 2 ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["scan", "generate", "lint"])
@pytest.mark.parametrize(("path", "placeholder"), [(PLACEHOLDER, "batch_arn"), (SERVICE, "service")])
def test_an_unresolved_resource_placeholder_is_an_error(run_cli, command, path, placeholder):
    args = [command, str(path)]
    if command == "generate":
        args += TARGET
    if command == "lint":
        args += ["--policy", str(PG202 / "good" / "policy.json"), *TARGET]
    assert_input_error(
        run_cli(*args),
        f"{path}:",
        "(at /States/Submit/Resource)",
        "state 'Submit'",
        f"${{{placeholder}}}",
        f"--substitute {placeholder}=VALUE",
    )


def _placeholder_copy_of_pg202_good(tmp_path: Path) -> Path:
    """The PG202 "good" case (a role that grants exactly what its submitJob state needs) with the
    state's Resource written as a templatefile() placeholder."""
    definition = json.loads((PG202 / "good" / "definition.asl.json").read_text())
    definition["States"]["Run"]["Resource"] = "${batch_arn}"
    return _write(tmp_path, definition)


def test_lint_never_calls_batch_grants_unneeded_while_a_resource_is_unresolved(run_cli, tmp_path):
    # Before, the placeholder state was "not Batch", so every Batch grant of the role was reported
    # unneeded (PG202) and --fix removed them.
    path = _placeholder_copy_of_pg202_good(tmp_path)
    policy = str(PG202 / "good" / "policy.json")
    result = run_cli("lint", str(path), "--policy", policy, "--format", "json", *TARGET)
    assert_input_error(result, "state 'Run'", "${batch_arn}", "--substitute batch_arn=VALUE")
    assert "PG202" not in result.err
    fixed = run_cli("lint", str(path), "--policy", policy, "--fix", *TARGET)
    assert_input_error(fixed, "state 'Run'", "${batch_arn}")


# -- --substitute fills them ----------------------------------------------------------------------


def test_substitute_fills_the_resource(run_cli):
    result = run_cli("scan", "--format", "json", str(PLACEHOLDER), "--substitute", "batch_arn=arn:aws:states:::batch:submitJob.sync")
    assert result.code == 0, result.err
    (state,) = json.loads(result.out)["batchStates"]
    assert (state["state"], state["pattern"], state["resource"]) == ("Submit", "run-job", "arn:aws:states:::batch:submitJob.sync")


def test_substitute_to_another_service_is_read_as_that_service(run_cli):
    # ecs:submitJob.sync is no ECS integration: the whole role cannot skip it.
    result = run_cli("scan", str(SERVICE), "--substitute", "service=ecs")
    assert_input_error(result, "state 'Submit'", "no Step Functions API 'submitJob'")


def test_substitute_fills_values_and_tag_keys_in_generate(run_cli, tmp_path):
    path = _write(tmp_path, _batch_state(
        "${integration}", JobQueue="${queue_arn}", Tags={"${team_key}": "genomics"}))
    result = run_cli(
        "generate", str(path), "--mode", "fine-grained", *TARGET,
        "--substitute", "integration=arn:aws:states:::batch:submitJob",
        "--substitute", "queue_arn=arn:aws:batch:us-east-1:123456789012:job-queue/nightly",
        "--substitute", "team_key=team",
    )
    assert result.code == 0, result.err
    assert "arn:aws:batch:us-east-1:123456789012:job-queue/nightly" in _resources(result.out)
    assert "job-queue/*" not in result.out  # the queue is known: no longer the documented wildcard
    assert '"aws:RequestTag/team": "genomics"' in result.out


def test_lint_with_substitute_checks_the_filled_state(run_cli, tmp_path):
    path = _placeholder_copy_of_pg202_good(tmp_path)
    result = run_cli(
        "lint", str(path), "--policy", str(PG202 / "good" / "policy.json"), "--format", "json", *TARGET,
        "--substitute", "batch_arn=arn:aws:states:::batch:submitJob",
    )
    assert result.code == 0, result.out + result.err
    assert json.loads(result.out)["findings"] == []


def test_an_unused_substitute_is_a_warning(run_cli):
    result = run_cli("scan", str(PLACEHOLDER), "--substitute", "batch_arn=arn:aws:states:::batch:submitJob",
                     "--substitute", "batch_rn=x")
    assert result.code == 0, result.err
    assert "policygen: warning: --substitute batch_rn: no ASL definition file has the placeholder ${batch_rn}" in result.err


def test_substitute_leaves_templates_alone(run_cli, tmp_path):
    # A template's definition is what CloudFormation deploys: its DefinitionSubstitutions win, and a
    # ${Name} it leaves reaches Step Functions as that text, which --substitute must not pretend away.
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n  Jobs:\n    Type: AWS::StepFunctions::StateMachine\n    Properties:\n"
        "      RoleArn: arn:aws:iam::123456789012:role/jobs\n"
        "      DefinitionSubstitutions: {Queue: from-the-template}\n"
        "      Definition:\n        StartAt: A\n        States:\n"
        "          A:\n            Type: Task\n            Resource: !Sub arn:${AWS::Partition}:states:::batch:submitJob\n"
        "            Parameters: {JobName: a, JobQueue: '${Queue}', JobDefinition: d}\n            End: true\n"
    )
    result = run_cli("scan", "--format", "json", str(path), "--substitute", "Queue=from-the-command-line")
    assert result.code == 0, result.err
    (state,) = json.loads(result.out)["batchStates"]
    assert state["jobQueue"]["value"] == "from-the-template"
    assert "--substitute Queue: no ASL definition file has the placeholder" in result.err


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        (["batch_arn"], "expected NAME=VALUE"),
        (["=x"], "'' is no placeholder name"),
        (["AWS::Partition=aws"], "CloudFormation fills its pseudo parameters: scan the template"),
        (["bad name=x"], "is no placeholder name"),
        (["a=1", "a=1"], "--substitute a: given twice"),
        (["a=1", "a=2"], "--substitute a: given twice"),
    ],
)
@pytest.mark.parametrize("command", ["scan", "generate", "lint"])
def test_a_bad_substitute_is_a_usage_error(run_cli, command, values, fragment):
    args = [command, str(PLACEHOLDER)]
    for value in values:
        args += ["--substitute", value]
    if command == "lint":
        args += ["--policy", str(PG202 / "good" / "policy.json")]
    assert_input_error(run_cli(*args), fragment)


# -- a placeholder partition follows --partition and the region -----------------------------------


@pytest.mark.parametrize(
    ("args", "partition"),
    [
        (["--partition", "aws-us-gov", "--region", "us-gov-west-1"], "aws-us-gov"),
        (["--region", "cn-north-1"], "aws-cn"),
        (["--region", "eu-west-1"], "aws"),
    ],
)
def test_a_placeholder_partition_follows_the_target(run_cli, tmp_path, args, partition):
    path = _write(tmp_path, _batch_state("arn:${partition}:states:::batch:submitJob.sync"))
    result = run_cli("generate", str(path), "--account", "123456789012", *args)
    assert result.code == 0, result.err
    resources = _resources(result.out)
    arns = [resource for resource in resources if resource != "*"]
    assert arns and all(arn.startswith(f"arn:{partition}:") for arn in arns), resources


def test_a_substituted_partition_is_the_resources(run_cli, tmp_path):
    path = _write(tmp_path, _batch_state("arn:${partition}:states:::batch:submitJob.sync"))
    result = run_cli("generate", str(path), "--account", "123456789012", "--region", "us-gov-east-1",
                     "--substitute", "partition=aws-us-gov")
    assert result.code == 0, result.err
    assert all(resource.startswith("arn:aws-us-gov:") for resource in _resources(result.out) if resource != "*")
    clash = run_cli("generate", str(path), "--account", "123456789012", "--region", "us-east-1",
                    "--substitute", "partition=aws-us-gov")
    assert_input_error(clash, "us-east-1", "aws-us-gov")
