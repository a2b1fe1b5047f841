"""The whole execution role: every Task state's integration, not only Batch's.

The expected statements below were read against rules/integrations/<service>.yaml and the AWS
pages they cite (Step Functions Developer Guide, "IAM policies for <service>")."""

from __future__ import annotations

import json

import pytest
from test_cli import assert_input_error

TARGET = ("--region", "eu-west-1", "--account", "111122223333")
ACCOUNT_ARN = "arn:aws:{service}:eu-west-1:111122223333:{resource}"


def _arn(service: str, resource: str) -> str:
    return ACCOUNT_ARN.format(service=service, resource=resource)


MIXED = {
    "Comment": "Lambda, ECS .sync with a task-role override, SNS, SQS, DynamoDB, a nested .sync:2, Glue .sync, an SDK s3:getObject, Batch .sync",
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "prepare", "Payload.$": "$"}, "Next": "Both"},
        "Both": {
            "Type": "Parallel",
            "Next": "Store",
            "Branches": [
                {"StartAt": "Render", "States": {"Render": {
                    "Type": "Task", "Resource": "arn:aws:states:::ecs:runTask.sync", "End": True,
                    "Parameters": {"Cluster": "render", "TaskDefinition": "render",
                                   "Overrides": {"TaskRoleArn": "arn:aws:iam::111122223333:role/render-task"}}}}},
                {"StartAt": "Align", "States": {"Align": {
                    "Type": "Task", "Resource": "arn:aws:states:::batch:submitJob.sync", "End": True,
                    "Parameters": {"JobName": "align", "JobQueue": "genomics", "JobDefinition": "bwa"}}}},
            ],
        },
        "Store": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "Parameters": {"TableName": "runs", "Item": {}}, "Next": "Child"},
        "Child": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                  "Parameters": {"StateMachineArn": "arn:aws:states:eu-west-1:111122223333:stateMachine:report"}, "Next": "Etl"},
        "Etl": {"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync", "Parameters": {"JobName": "etl"}, "Next": "Fetch"},
        "Fetch": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                  "Parameters": {"Bucket": "reports", "Key": "today.json"}, "Next": "Queue"},
        "Queue": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                  "Parameters": {"QueueUrl": "https://sqs.eu-west-1.amazonaws.com/111122223333/work", "MessageBody": "x"}, "Next": "Notify"},
        "Notify": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
                   "Parameters": {"TopicArn": "arn:aws:sns:eu-west-1:111122223333:done", "Message": "done"}, "End": True},
    },
}

# (action, resource) pairs the mix needs, straight from the tables.
MIXED_NEEDS = {
    ("lambda:InvokeFunction", _arn("lambda", "function:prepare")),
    ("ecs:RunTask", _arn("ecs", "task-definition/render")),
    ("ecs:RunTask", _arn("ecs", "task-definition/render:*")),
    ("ecs:StopTask", "*"),
    ("ecs:DescribeTasks", "*"),
    ("iam:PassRole", "arn:aws:iam::111122223333:role/render-task"),
    *{(action, _arn("events", f"rule/{rule}")) for action in ("events:PutTargets", "events:PutRule", "events:DescribeRule")
      for rule in ("StepFunctionsGetEventsForECSTaskRule", "StepFunctionsGetEventsForBatchJobsRule",
                   "StepFunctionsGetEventsForStepFunctionsExecutionRule")},
    ("batch:SubmitJob", "*"),
    ("batch:DescribeJobs", "*"),
    ("batch:TerminateJob", "*"),
    ("dynamodb:PutItem", _arn("dynamodb", "table/runs")),
    ("states:StartExecution", _arn("states", "stateMachine:report")),
    ("states:DescribeExecution", _arn("states", "execution:report:*")),
    ("states:StopExecution", _arn("states", "execution:report:*")),
    *{(action, "*") for action in ("glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun")},
    ("sqs:SendMessage", _arn("sqs", "work")),
    ("sns:Publish", _arn("sns", "done")),
    ("s3:GetObject", "arn:aws:s3:::reports/today.json"),
}


def _pairs(policy: dict) -> set[tuple[str, str]]:
    pairs = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        pairs.update((action, resource) for action in statement["Action"] for resource in resources)
    return pairs


def _write(tmp_path, definition: dict, name: str = "machine.asl.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(definition, indent=1), encoding="utf-8")
    return str(path)


def test_a_mixed_machine_gets_each_need_on_exactly_its_resources(run_cli, tmp_path):
    result = run_cli("generate", _write(tmp_path, MIXED), *TARGET)
    assert result.code == 0, result.err
    policy = json.loads(result.out)
    assert _pairs(policy) == MIXED_NEEDS
    # No statement is shared between integrations: each reads as one integration's grant.
    for statement in policy["Statement"]:
        assert len({action.split(":")[0] for action in statement["Action"]} - {"events", "iam"}) <= 1, statement
    passes = [s for s in policy["Statement"] if "iam:PassRole" in s["Action"]]
    assert [s.get("Condition") for s in passes] == [None]  # ecs-iam documents no iam:PassedToService
    # The roles the task definition itself names are not in the state: said, not guessed.
    assert "state 'Both/branch[0]/Render'" in result.err and "task definition" in result.err


def test_the_output_is_byte_identical_across_runs(run_cli, tmp_path):
    path = _write(tmp_path, MIXED)
    assert run_cli("generate", path, *TARGET).out == run_cli("generate", path, *TARGET).out


@pytest.mark.parametrize(
    "resource, fragments",
    [
        ("arn:aws:states:::lambda:invok", ["state 'Only'", "no Step Functions API 'invok'"]),
        ("arn:aws:states:::frobnicate:run", ["state 'Only'", "no optimized integration 'frobnicate'"]),
        ("arn:aws:states:::sns:publish.sync", ["state 'Only'", "does not support the run-job pattern"]),
        ("arn:aws:states:::lambda", ["state 'Only'", "is no Step Functions integration"]),
        ("arn:aws:sqs:eu-west-1:111122223333:work", ["state 'Only'", "is no integration Step Functions knows"]),
        ("${WorkerArn}", ["state 'Only'", "--substitute WorkerArn=VALUE"]),
    ],
)
def test_a_task_resource_policygen_does_not_know_is_an_error_naming_the_state(run_cli, tmp_path, resource, fragments):
    definition = {"StartAt": "Only", "States": {"Only": {"Type": "Task", "Resource": resource, "End": True}}}
    line = assert_input_error(run_cli("generate", _write(tmp_path, definition), *TARGET), *fragments)
    assert ":1:" not in line or "/States/Only/Resource" in line


def test_a_resource_chosen_at_deploy_time_is_an_error(run_cli, tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text(
        "Conditions:\n  Fast: !Equals [a, a]\nResources:\n  Machine:\n    Type: AWS::StepFunctions::StateMachine\n"
        "    Properties:\n      RoleArn: arn:aws:iam::111122223333:role/r\n      Definition:\n        StartAt: A\n"
        "        States:\n          A:\n            Type: Task\n"
        "            Resource: !If [Fast, arn:aws:states:::lambda:invoke, arn:aws:states:::sqs:sendMessage]\n"
        "            End: true\n",
        encoding="utf-8",
    )
    assert_input_error(run_cli("generate", str(template), *TARGET), "state 'A'", "chosen at deploy time", "template.yaml:13:")


def _one_state(resource: str, parameters: dict) -> dict:
    return {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True}}}


@pytest.mark.parametrize(
    "parameters, expected, warned",
    [
        ({"FunctionName.$": "$.fn"}, _arn("lambda", "function:*"), "FunctionName is known only at run time ($.fn)"),
        ({"FunctionName": "fn-*"}, _arn("lambda", "function:*"), "holds a wildcard ('fn-*')"),
        ({"FunctionName": "arn:aws:lambda:us-east-1:444455556666:function:shared:live"},
         "arn:aws:lambda:us-east-1:444455556666:function:shared:live", None),
    ],
)
def test_a_lambda_function_name_static_dynamic_or_wildcard(run_cli, tmp_path, parameters, expected, warned):
    result = run_cli("generate", _write(tmp_path, _one_state("arn:aws:states:::lambda:invoke", parameters)), *TARGET)
    assert result.code == 0, result.err
    assert _pairs(json.loads(result.out)) == {("lambda:InvokeFunction", expected)}
    if warned is None:
        assert result.err == ""
    else:
        assert "state 'Call'" in result.err and warned in result.err


def test_a_jsonata_argument_falls_back_with_a_warning(run_cli, tmp_path):
    definition = {"QueryLanguage": "JSONata", "StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": True,
        "Arguments": {"QueueUrl": "{% $states.input.queue %}", "MessageBody": "x"}}}}
    result = run_cli("generate", _write(tmp_path, definition), *TARGET)
    assert result.code == 0, result.err
    assert _pairs(json.loads(result.out)) == {("sqs:SendMessage", "*")}  # sqs-iam's dynamic form
    assert "QueueUrl is known only at run time" in result.err


def test_an_sqs_queue_url_that_is_no_queue_url_falls_back(run_cli, tmp_path):
    parameters = {"QueueUrl": "https://example.com/queue", "MessageBody": "x"}
    result = run_cli("generate", _write(tmp_path, _one_state("arn:aws:states:::sqs:sendMessage", parameters)), *TARGET)
    assert _pairs(json.loads(result.out)) == {("sqs:SendMessage", "*")}
    assert "state 'Call'" in result.err


def test_eventbridge_entries_without_a_bus_go_to_the_default_bus(run_cli, tmp_path):
    parameters = {"Entries": [{"Detail": {}, "DetailType": "d", "Source": "s"}, {"EventBusName": "audit", "Detail": {}}]}
    result = run_cli("generate", _write(tmp_path, _one_state("arn:aws:states:::events:putEvents", parameters)), *TARGET)
    assert result.code == 0, result.err
    assert _pairs(json.loads(result.out)) == {
        ("events:PutEvents", _arn("events", "event-bus/default")),
        ("events:PutEvents", _arn("events", "event-bus/audit")),
    }


def test_a_role_passed_with_a_documented_passed_to_service_condition(run_cli, tmp_path):
    parameters = {"TrainingJobName": "train", "RoleArn": "arn:aws:iam::111122223333:role/sagemaker",
                  "AlgorithmSpecification": {}, "OutputDataConfig": {}, "ResourceConfig": {}, "StoppingCondition": {}}
    result = run_cli("generate", _write(tmp_path, _one_state("arn:aws:states:::sagemaker:createTrainingJob", parameters)), *TARGET)
    assert result.code == 0, result.err
    (pass_role,) = [s for s in json.loads(result.out)["Statement"] if s["Action"] == ["iam:PassRole"]]
    assert pass_role["Resource"] == ["arn:aws:iam::111122223333:role/sagemaker"]
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}


def test_an_ecs_state_without_overrides_passes_no_role(run_cli, tmp_path):
    result = run_cli("generate", _write(tmp_path, _one_state("arn:aws:states:::ecs:runTask", {"TaskDefinition": "web:7"})), *TARGET)
    assert result.code == 0, result.err
    assert _pairs(json.loads(result.out)) == {("ecs:RunTask", _arn("ecs", "task-definition/web:7"))}


def test_services_keeps_the_listed_integrations_and_says_what_it_leaves_out(run_cli, tmp_path):
    result = run_cli("generate", _write(tmp_path, MIXED), *TARGET, "--services", "batch,lambda")
    assert result.code == 0, result.err
    pairs = _pairs(json.loads(result.out))
    assert {action.split(":")[0] for action, _ in pairs} == {"batch", "events", "lambda"}
    assert pairs == {pair for pair in MIXED_NEEDS if pair[0].startswith(("batch:", "lambda:")) or "BatchJobsRule" in pair[1]}
    for service, state in (("ecs", "Both/branch[0]/Render"), ("sns", "Notify"), ("glue", "Etl")):
        assert f"--services leaves out {service} (needed by state(s) '{state}')" in result.err


def test_services_refuses_an_unknown_integration(run_cli, tmp_path):
    assert_input_error(run_cli("generate", _write(tmp_path, MIXED), *TARGET, "--services", "batch,lamda"), "--services", "'lamda'")


TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties: {Runtime: python3.12, Handler: app.handler, Role: arn:aws:iam::111122223333:role/fn, Code: {ZipFile: "x"}}
  Topic:
    Type: AWS::SNS::Topic
  Machine:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      RoleArn: arn:aws:iam::111122223333:role/sfn
      Definition:
        StartAt: Legacy
        States:
          Legacy: {Type: Task, Resource: !GetAtt Fn.Arn, Next: Invoke}
          Invoke: {Type: Task, Resource: arn:aws:states:::lambda:invoke, Parameters: {FunctionName: !Ref Fn}, Next: Publish}
          Publish: {Type: Task, Resource: !Sub "arn:${AWS::Partition}:states:::sns:publish", Parameters: {TopicArn: !Ref Topic, Message: hi}, End: true}
"""


def test_cloudformation_output_keeps_the_templates_references(run_cli, tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE, encoding="utf-8")
    result = run_cli("generate", str(path), "--format", "cloudformation")
    assert result.code == 0, result.err
    assert "- !GetAtt Fn.Arn" in result.out
    assert '- !Sub "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${Fn}"' in result.out
    assert "- !Ref Topic" in result.out
    assert result.err == ""


def test_json_output_of_a_template_falls_back_for_references_and_says_so(run_cli, tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE, encoding="utf-8")
    result = run_cli("generate", str(path), *TARGET)
    assert result.code == 0, result.err
    assert _pairs(json.loads(result.out)) == {("lambda:InvokeFunction", _arn("lambda", "function:*")), ("sns:Publish", "*")}
    for state in ("Legacy", "Invoke", "Publish"):
        assert f"state '{state}'" in result.err
    assert result.err.count("--format cloudformation keeps the reference") == 3


def test_a_serverless_function_arn_built_from_variables_falls_back_to_the_accounts_functions(run_cli, tmp_path):
    path = tmp_path / "serverless.yml"
    path.write_text(
        "service: nightly\nprovider: {name: aws}\nstepFunctions:\n  stateMachines:\n    nightly:\n"
        "      definition:\n        StartAt: A\n        States:\n"
        "          A: {Type: Task, Resource: 'arn:aws:lambda:${aws:region}:${aws:accountId}:function:${self:service}-prepare', End: true}\n",
        encoding="utf-8",
    )
    result = run_cli("generate", str(path), *TARGET)
    assert result.code == 0, result.err
    assert _pairs(json.loads(result.out)) == {("lambda:InvokeFunction", _arn("lambda", "function:*"))}
    assert "state 'A'" in result.err and "only known at deploy time" in result.err
    assert "keeps the reference" not in result.err  # CloudFormation cannot hold a serverless variable


def test_a_jsonata_list_item_stands_for_a_whole_entry(run_cli, tmp_path):
    definition = {"QueryLanguage": "JSONata", "StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::events:putEvents", "End": True,
        "Arguments": {"Entries": ["{% $states.input.entry %}", {"EventBusName": "audit", "Detail": {}}]}}}}
    result = run_cli("generate", _write(tmp_path, definition), *TARGET)
    assert result.code == 0, result.err
    # The expression's bus is unknown: the page's dynamic form, which covers the static entry's bus too.
    assert _pairs(json.loads(result.out)) == {("events:PutEvents", "arn:aws:events:*:*:event-bus/*")}
    assert "is known only at run time ({% $states.input.entry %})" in result.err


def test_a_templates_literal_placeholder_is_never_written_as_a_policy_variable(run_cli, tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n  Machine:\n    Type: AWS::StepFunctions::StateMachine\n    Properties:\n"
        "      RoleArn: arn:aws:iam::111122223333:role/sfn\n      Definition:\n        StartAt: A\n        States:\n"
        "          A: {Type: Task, Resource: arn:aws:states:::lambda:invoke, End: true,\n"
        "              Parameters: {FunctionName: !Sub 'fn-${!aws:username}'}}\n",
        encoding="utf-8",
    )
    result = run_cli("generate", str(path), *TARGET)
    assert result.code == 0, result.err
    assert "${" not in result.out
    assert _pairs(json.loads(result.out)) == {("lambda:InvokeFunction", _arn("lambda", "function:*"))}
