"""Definitions that try to slip a state past the scanner: no Task state is dropped without a word.

Every case here once gave "no AWS Batch Task state found", exit 0 and an empty policy (or a crash):
a Resource that might call Batch but is not written as Step Functions documents it, a state the
scanner could not read, a structure Step Functions would reject. Now each is recognised or exits 2
with one line naming the state (its JSON pointer) and the value.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import assert_input_error

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "fixtures" / "inputs" / "bad"
TARGET = ("--region", "us-east-1", "--account", "123456789012")


def _asl(tmp_path: Path, resource: str, name: str = "m.asl.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"StartAt": "Run", "States": {"Run": {
        "Type": "Task", "Resource": resource, "End": True,
        "Parameters": {"JobName": "j", "JobQueue": "q", "JobDefinition": "d:1"},
    }}}))
    return path


# -- Resources that might call Batch ---------------------------------------------------------------


@pytest.mark.parametrize("command", ["scan", "generate"])
@pytest.mark.parametrize(
    ("fixture", "fragments"),
    [
        ("resource-capitalised.asl.json", ["'arn:aws:states:::Batch:SubmitJob.sync'", "no AWS Batch integration Step Functions knows"]),
        ("resource-leading-space.asl.json", ["' arn:aws:states:::batch:submitJob.sync'", "no spaces"]),
    ],
)
def test_a_misspelt_batch_resource_is_an_error(run_cli, command, fixture, fragments):
    # Step Functions documents its integrations in one spelling and rejects resources it does not
    # know; policygen cannot know a state that calls Batch some other way, so it says so.
    path = BAD / fixture
    args = (command, str(path)) + (TARGET if command == "generate" else ())
    assert_input_error(run_cli(*args), f"{path}:", "(at /States/Submit/Resource)", "state 'Submit'", *fragments)


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:states:::aws-sdk:Batch:describeJobs",
        "arn:aws:states:::BATCH:submitJob",
        "arn:aws:states::: batch:submitJob",
        "arn:AWS:states:::batch:submitJob",
        "ARN:aws:states:::batch:submitJob",
        "arn:aws:States:::batch:submitJob\n",
        "arn:aws:states:::batch:submitJob\n",  # a regular expression's `$` would let this one through
        "\tarn:aws:states:::batch:submitJob",
    ],
)
def test_every_spelling_of_a_batch_resource_is_an_error(run_cli, tmp_path, resource):
    path = _asl(tmp_path, resource)
    assert_input_error(run_cli("scan", str(path)), "state 'Run'", "(at /States/Run/Resource)")


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:states:::lambda:invoke",
        "arn:aws:lambda:us-east-1:123456789012:function:batch-runner",
        "arn:aws:states:us-east-1:123456789012:activity:batch",
        "arn:${partition}:states:::lambda:invoke",
        "arn:aws:lambda:${region}:${account}:function:run",  # a function, its ARN filled in at deploy time
    ],
)
def test_another_service_is_no_batch_state(run_cli, tmp_path, resource):
    result = run_cli("scan", str(_asl(tmp_path, resource)))
    assert result.code == 0, result.err
    assert "no AWS Batch Task state found" in result.err


@pytest.mark.parametrize(
    "resource, fragment",
    [
        ("arn:aws:states:::LAMBDA:invoke", "is no Step Functions integration"),  # Step Functions takes lower case only
        (" arn:aws:states:::sns:publish", "is no integration Step Functions knows"),
        ("${worker}", "--substitute worker=VALUE"),
    ],
)
def test_a_resource_of_another_service_policygen_cannot_read_is_an_error(run_cli, tmp_path, resource, fragment):
    # The whole role needs every state's permissions: a state whose call is unknown is never skipped.
    assert_input_error(run_cli("scan", str(_asl(tmp_path, resource))), "state 'Run'", fragment)


def test_a_literal_partition_placeholder_in_a_definition_object_is_an_error(run_cli):
    path = BAD / "definition-object-literal-partition.yaml"
    assert_input_error(
        run_cli("generate", str(path), *TARGET),
        f"{path}:13:",
        "(at /Resources/Nightly/Properties/Definition/States/Submit/Resource)",
        "state machine 'Nightly': state 'Submit'",
        "'${AWS::Partition}'",
        "write the Resource with !Sub",
    )


def test_a_sub_partition_in_a_definition_object_is_recognised(run_cli, tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text((BAD / "definition-object-literal-partition.yaml").read_text().replace(
        "Resource: arn:${AWS::Partition}", "Resource: !Sub arn:${AWS::Partition}"))
    result = run_cli("scan", "--format", "json", str(path))
    assert result.code == 0, result.err
    (state,) = json.loads(result.out)["batchStates"]
    assert (state["state"], state["pattern"], state["partition"]) == ("Submit", "run-job", None)


def test_a_literal_partition_placeholder_in_a_plain_serverless_definition_is_an_error(run_cli):
    path = BAD / "serverless-literal-partition.yml"
    assert_input_error(
        run_cli("scan", str(path)),
        "(at /stepFunctions/stateMachines/nightly/definition/States/Submit/Resource)",
        "state machine 'nightly': state 'Submit'",
        "serverless-step-functions substitutes ${...} only in a definition that holds an intrinsic function",
    )


@pytest.mark.parametrize(
    ("resource", "queue"),
    [
        # An intrinsic anywhere makes the plugin deploy the whole definition as one Fn::Sub.
        ("arn:${AWS::Partition}:states:::batch:submitJob.sync", {"Ref": "NightlyQueue"}),
        # So does its #{...} pseudo parameter syntax.
        ("arn:#{AWS::Partition}:states:::batch:submitJob.sync", "nightly"),
        ("Fn::Sub", "nightly"),
    ],
)
def test_a_partition_the_serverless_plugin_fills_in_is_recognised(run_cli, tmp_path, resource, queue):
    text = (BAD / "serverless-literal-partition.yml").read_text()
    if resource == "Fn::Sub":
        text = text.replace("Resource: arn:", "Resource:\n              Fn::Sub: arn:")
    else:
        text = text.replace("Resource: arn:${AWS::Partition}:states:::batch:submitJob.sync", f"Resource: {resource}")
    text = text.replace("JobQueue: nightly", f"JobQueue: {json.dumps(queue)}")
    path = tmp_path / "serverless.yml"
    path.write_text(text)
    result = run_cli("scan", "--format", "json", str(path))
    assert result.code == 0, result.err
    (state,) = json.loads(result.out)["batchStates"]
    assert (state["stateMachine"], state["state"], state["pattern"]) == ("nightly", "Submit", "run-job")
    assert state["resource"] == "arn:${AWS::Partition}:states:::batch:submitJob.sync"


def test_a_template_parameter_as_resource_is_an_error(run_cli, tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text(
        "Parameters:\n  Integration:\n    Type: String\n"
        "Resources:\n  Jobs:\n    Type: AWS::StepFunctions::StateMachine\n    Properties:\n"
        "      RoleArn: arn:aws:iam::123456789012:role/jobs\n"
        "      Definition:\n        StartAt: A\n        States:\n"
        "          A: {Type: Task, Resource: !Ref Integration, End: true}\n"
    )
    assert_input_error(
        run_cli("scan", str(path)),
        "(at /Resources/Jobs/Properties/Definition/States/A/Resource)",
        "state 'A'",
        "the parameter Integration",
    )


def test_a_resource_attribute_as_resource_is_another_service(run_cli, tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties: {}\n"
        "  Jobs:\n    Type: AWS::StepFunctions::StateMachine\n    Properties:\n"
        "      RoleArn: arn:aws:iam::123456789012:role/jobs\n"
        "      Definition:\n        StartAt: A\n        States:\n"
        "          A: {Type: Task, Resource: !GetAtt Fn.Arn, End: true}\n"
    )
    result = run_cli("scan", str(path))
    assert result.code == 0, result.err
    assert "no AWS Batch Task state found" in result.err


def test_a_resource_chosen_between_two_other_services_is_an_error(run_cli, tmp_path):
    # Neither choice calls Batch, but the two need different permissions (the function ARN, or
    # lambda:invoke on the FunctionName argument): which one deploys is unknown, so it is refused.
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties: {}\n"
        "  Jobs:\n    Type: AWS::StepFunctions::StateMachine\n    Properties:\n"
        "      RoleArn: arn:aws:iam::123456789012:role/jobs\n"
        "      Definition:\n        StartAt: B\n        States:\n"
        "          B: {Type: Task, Resource: !If [Prod, !GetAtt Fn.Arn, !Sub 'arn:${AWS::Partition}:states:::lambda:invoke'], End: true}\n"
    )
    assert_input_error(run_cli("scan", str(path)), "state 'B'", "chosen at deploy time")


@pytest.mark.parametrize(
    ("intrinsic", "fragment"),
    [
        ("!ImportValue SharedIntegration", "Fn::ImportValue"),
        ("!FindInMap [Integrations, !Ref AWS::Region, Nightly]", "Fn::FindInMap"),
    ],
)
def test_a_resource_from_outside_the_template_is_an_error(run_cli, tmp_path, intrinsic, fragment):
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n  Jobs:\n    Type: AWS::StepFunctions::StateMachine\n    Properties:\n"
        "      RoleArn: arn:aws:iam::123456789012:role/jobs\n"
        "      Definition:\n        StartAt: A\n        States:\n"
        f"          A: {{Type: Task, Resource: {intrinsic}, End: true}}\n"
    )
    assert_input_error(run_cli("scan", str(path)), "state 'A'", "chosen at deploy time", fragment)


# -- Structure Step Functions would reject ---------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "fragments"),
    [
        ("state-name-null.asl.yaml", ["(at /States/null)", "state name null must be a string"]),
        ("state-type-unknown.asl.json", ["(at /States/Submit/Type)", "state 'Submit'", "not 'task'"]),
        ("map-two-processors.asl.json", ["(at /States/Each/Iterator)", "state 'Each'", "not both"]),
        ("parallel-empty-branches.asl.json", ["(at /States/Both/Branches)", "state 'Both'", "non-empty list"]),
    ],
)
@pytest.mark.parametrize("command", ["scan", "generate"])
def test_a_structure_step_functions_rejects_is_an_error(run_cli, fixture, fragments, command):
    path = BAD / fixture
    args = (command, str(path)) + (TARGET if command == "generate" else ())
    assert_input_error(run_cli(*args), f"{path}:", *fragments)


@pytest.mark.parametrize(
    ("definition", "pointer", "fragment"),
    [
        ("StartAt: A\nStates:\n  1: {Type: Pass, End: true}\n", "/States/1", "state name 1 must be a string"),
        ("StartAt: A\nStates:\n  yes: {Type: Pass, End: true}\n", "/States/true", "state name true must be a string"),
        ("StartAt: A\nStates:\n  A: {End: true}\n", "/States/A/Type", "not None"),
        ("StartAt: A\nStates:\n  A: {Type: Map, End: true}\n", "/States/A", "exactly one of \"ItemProcessor\""),
        ("StartAt: A\nStates:\n  A: {Type: Parallel, Branches: [{States: {}}], End: true}\n",
         "/States/A/Branches/0/StartAt", "\"StartAt\""),
        ("StartAt: A\nStates:\n  A: {Type: Parallel, Branches: [[]], End: true}\n", "/States/A/Branches/0", "\"States\""),
        ("StartAt: A\nStates:\n  A: {Type: Map, ItemProcessor: {StartAt: B, States: []}, End: true}\n",
         "/States/A/ItemProcessor/States", "an object of named states"),
        ("States:\n  A: {Type: Succeed}\n", "/StartAt", "\"StartAt\""),
    ],
)
def test_malformed_structure_names_its_pointer(run_cli, tmp_path, definition, pointer, fragment):
    path = tmp_path / "m.asl.yaml"
    path.write_text(definition)
    assert_input_error(run_cli("scan", str(path)), f"(at {pointer})", fragment)


# -- text a template leaves as it is ----------------------------------------------------------------


def _plan(tmp_path: Path, resource: str) -> Path:
    definition = {"StartAt": "Run", "States": {"Run": {"Type": "Task", "Resource": resource, "End": True,
                  "Parameters": {"JobName": "j", "JobQueue": "q", "JobDefinition": "d:1"}}}}
    plan = {"format_version": "1.2", "terraform_version": "1.6.0", "planned_values": {"root_module": {"resources": [{
        "address": "aws_sfn_state_machine.nightly", "mode": "managed", "type": "aws_sfn_state_machine",
        "name": "nightly", "values": {"definition": json.dumps(definition)},
    }]}}}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    return path


@pytest.mark.parametrize(
    ("resource", "fragment"),
    [
        # file() instead of templatefile(): the plan, and so Step Functions, has the placeholder as text.
        ("${batch_arn}", "'${batch_arn}' is no AWS Batch integration"),
        ("arn:${partition}:states:::batch:submitJob.sync", "unknown partition '${partition}'"),
    ],
)
def test_a_placeholder_left_in_a_terraform_plan_is_an_error(run_cli, tmp_path, resource, fragment):
    path = _plan(tmp_path, resource)
    assert_input_error(
        run_cli("scan", str(path)),
        "state machine 'aws_sfn_state_machine.nightly': state 'Run'",
        fragment,
        "the planned definition holds this text as it is",
    )


def test_a_definition_uri_placeholder_without_a_substitution_is_an_error(run_cli, tmp_path):
    (tmp_path / "nightly.asl.json").write_text(json.dumps({"StartAt": "Run", "States": {"Run": {
        "Type": "Task", "Resource": "${Integration}", "End": True,
        "Parameters": {"JobName": "j", "JobQueue": "${Queue}", "JobDefinition": "d:1"}}}}))
    template = tmp_path / "template.yaml"
    template.write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Nightly:\n    Type: AWS::Serverless::StateMachine\n"
        "    Properties:\n      DefinitionUri: nightly.asl.json\n      DefinitionSubstitutions: {Queue: nightly}\n"
    )
    assert_input_error(
        run_cli("scan", str(template)),
        "state machine 'Nightly'",
        "state 'Run'",
        "'${Integration}'",
        "no DefinitionSubstitutions entry fills it",
    )
    template.write_text(template.read_text().replace(
        "{Queue: nightly}", "{Queue: nightly, Integration: !Sub 'arn:${AWS::Partition}:states:::batch:submitJob'}"))
    result = run_cli("scan", "--format", "json", str(template))
    assert result.code == 0, result.err
    (state,) = json.loads(result.out)["batchStates"]
    assert (state["state"], state["pattern"]) == ("Run", "request-response")


@pytest.mark.parametrize(
    ("resource", "batch"),
    [
        ("${self:custom.integration}", True),
        ("arn:aws:states:::${self:custom.service}:submitJob.sync", True),
        ("arn:aws:lambda:${aws:region}:${aws:accountId}:function:${self:service}-${sls:stage}-prepare", False),
        ("arn:${self:custom.partition}:states:::lambda:invoke", False),
    ],
)
def test_a_serverless_variable_resource_that_might_be_batch_is_an_error(run_cli, tmp_path, resource, batch):
    path = tmp_path / "serverless.yml"
    path.write_text(
        "service: nightly\nprovider: {name: aws}\nstepFunctions:\n  stateMachines:\n    nightly:\n"
        "      definition:\n        StartAt: A\n        States:\n"
        f"          A: {{Type: Task, Resource: '{resource}', End: true}}\n"
    )
    result = run_cli("scan", str(path))
    if batch:
        assert_input_error(result, "state machine 'nightly': state 'A'", "only known at deploy time", "${self:")
    else:
        assert result.code == 0, result.err
        assert "no AWS Batch Task state found" in result.err
