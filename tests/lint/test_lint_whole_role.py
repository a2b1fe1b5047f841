"""Lint of the whole execution role: every Task state's needs checked, whatever its integration."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEFINITION = ROOT / "fixtures" / "lint" / "whole-role" / "definition.asl.json"
TARGET = ("--region", "us-east-1", "--account", "123456789012")
ACCOUNT = "123456789012"

# Each generated Sid -> the state that needs it and how findings name its integration.
NEEDED_BY = {
    "LambdaInvokeFunction": ("Invoke", "lambda:invoke"),
    "EcsRunTask": ("Render", "ecs:runTask.sync"),
    "EcsRunTaskSync": ("Render", "ecs:runTask.sync"),
    "EcsManagedRule": ("Render", "ecs:runTask.sync"),
    "EcsPassRole": ("Render", "ecs:runTask.sync"),
    "SnsPublish": ("Notify", "sns:publish"),
    "SqsSendMessage": ("Enqueue", "sqs:sendMessage"),
    "DynamoDbPutItem": ("Record", "dynamodb:putItem"),
    "StatesStartExecution": ("Child", "states:startExecution.sync:2"),
    "StatesStartExecutionTrack": ("Child", "states:startExecution.sync:2"),
    "StatesManagedRule": ("Child", "states:startExecution.sync:2"),
    "GlueStartJobRunSync": ("Crawl", "glue:startJobRun.sync"),
    "SdkS3GetObject": ("Fetch", "aws-sdk:s3:getObject"),
}


def _generated(run_cli, *args: str) -> dict:
    result = run_cli("generate", str(DEFINITION), *TARGET, *args)
    assert result.code == 0, result.err
    return json.loads(result.out)


def _lint(run_cli, tmp_path: Path, policy: dict, definition: Path = DEFINITION, *args: str):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy, indent=2), encoding="utf-8")
    return run_cli("lint", str(definition), "--policy", str(path), *TARGET, *args)


def _findings(result) -> list[str]:
    return [line for line in result.out.splitlines() if " PG" in line]


def _definition(tmp_path: Path, states: dict) -> Path:
    first = next(iter(states))
    chained = {name: {**state, **({"Next": names} if names else {"End": True})}
               for (name, state), names in zip(states.items(), [*list(states)[1:], None], strict=True)}
    path = tmp_path / "definition.asl.json"
    path.write_text(json.dumps({"StartAt": first, "States": chained}), encoding="utf-8")
    return path


def _task(resource: str, **parameters) -> dict:
    return {"Type": "Task", "Resource": resource, "Parameters": parameters}


def test_the_generated_whole_role_lints_clean(run_cli, tmp_path):
    """generate's policy for every kind of state passes lint. In fine-grained mode there is no
    finding at all; the documented mode keeps Batch's own PG301 suggestion (SubmitJob on any job
    queue while the state names its queue), which is not a warning and does not fail."""
    fine = _lint(run_cli, tmp_path, _generated(run_cli, "--mode", "fine-grained"))
    assert (fine.code, _findings(fine)) == (0, [])
    # What lint cannot check is said: the roles the ECS task definition passes, and the key of an
    # encrypted queue.
    warning, queue_key = fine.err.splitlines()
    assert "definition.asl.json:14:5 (at /States/Render)" in warning and "need iam:PassRole on the execution role, which the state does not show" in warning
    assert "sqs:sendMessage" in queue_key and "kms:GenerateDataKey and kms:Decrypt on that key" in queue_key
    documented = _lint(run_cli, tmp_path, _generated(run_cli))
    assert documented.code == 0
    assert [line.split(" ")[1:3] for line in _findings(documented)] == [["PG301", "suggestion"]]


def _without(policy: dict, index: int, action: str) -> dict:
    cut = json.loads(json.dumps(policy))
    statement = cut["Statement"][index]
    statement["Action"] = [a for a in statement["Action"] if a != action]
    if not statement["Action"]:
        del cut["Statement"][index]
    return cut


def _cuts() -> list[tuple[str, str]]:
    rows = json.loads((ROOT / "fixtures" / "lint" / "whole-role" / "expected-policy.json").read_text(encoding="utf-8"))
    return [(statement["Sid"], action) for statement in rows["Statement"] for action in statement["Action"]]


@pytest.mark.parametrize("sid, action", _cuts())
def test_removing_any_action_is_pg101_naming_the_state_and_integration(run_cli, tmp_path, sid, action):
    policy = _generated(run_cli, "--mode", "fine-grained")
    index = next(i for i, s in enumerate(policy["Statement"]) if s["Sid"] == sid)
    result = _lint(run_cli, tmp_path, _without(policy, index, action))
    assert result.code == 1
    errors = [line for line in _findings(result) if " error " in line]
    assert errors, result.out
    state, integration = NEEDED_BY.get(sid, ("Batch", "run-job"))
    assert all(f" PG101 error state {state!r} ({integration}) needs {action} on " in line for line in errors), errors


def test_the_scenario_policy_is_the_one_reviewed(run_cli):
    """The policy the removal test cuts from is the reviewed file beside the definition."""
    expected = json.loads((ROOT / "fixtures" / "lint" / "whole-role" / "expected-policy.json").read_text(encoding="utf-8"))
    assert _generated(run_cli, "--mode", "fine-grained") == expected


def test_pass_role_for_another_service_is_refused(run_cli, tmp_path):
    """A SageMaker state passes its role to sagemaker.amazonaws.com (iam:PassedToService): a grant
    conditioned on another service's principal does not allow it."""
    definition = _definition(tmp_path, {"Train": _task(
        "arn:aws:states:::sagemaker:createTrainingJob",
        TrainingJobName="t", RoleArn=f"arn:aws:iam::{ACCOUNT}:role/trainer",
        AlgorithmSpecification={"TrainingImage": "img", "TrainingInputMode": "File"},
        OutputDataConfig={"S3OutputPath": "s3://b/o"}, ResourceConfig={}, StoppingCondition={},
    )})
    policy = _generated_for(run_cli, definition)
    pass_role = next(s for s in policy["Statement"] if "iam:PassRole" in s["Action"])
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    assert _lint(run_cli, tmp_path, policy, definition).code == 0
    pass_role["Condition"]["StringEquals"]["iam:PassedToService"] = "ecs-tasks.amazonaws.com"
    result = _lint(run_cli, tmp_path, policy, definition)
    assert result.code == 1
    (line,) = [line for line in _findings(result) if "iam:PassRole" in line]
    assert "PG101 error state 'Train' (sagemaker:createTrainingJob) needs iam:PassRole" in line
    assert "but for its conditions on iam:PassedToService" in line


def _generated_for(run_cli, definition: Path) -> dict:
    result = run_cli("generate", str(definition), *TARGET)
    assert result.code == 0, result.err
    return json.loads(result.out)


def _invoke(function: str | None = None, dynamic: bool = False) -> dict:
    if dynamic:
        return _task("arn:aws:states:::lambda:invoke", **{"FunctionName.$": "$.fn"})
    return _task("arn:aws:states:::lambda:invoke", FunctionName=function)


def _allow(actions, resources) -> dict:
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


def _policy(*statements) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _fn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"


def test_a_function_known_only_at_run_time_is_a_warning_where_the_role_names_functions(run_cli, tmp_path):
    definition = _definition(tmp_path, {"Call": _invoke(dynamic=True)})
    named = _lint(run_cli, tmp_path, _policy(_allow("lambda:InvokeFunction", _fn("a"))), definition)
    (line,) = _findings(named)
    assert " PG203 warning state 'Call' (lambda:invoke) needs lambda:InvokeFunction on " in line
    assert "FunctionName is not a static name" in line
    assert named.code == 0
    documented = _lint(run_cli, tmp_path, _policy(_allow("lambda:InvokeFunction", _fn("*"))), definition)
    assert (documented.code, _findings(documented)) == (0, [])
    missing = _lint(run_cli, tmp_path, _policy(_allow("sns:Publish", "*")), definition)
    assert missing.code == 1
    assert any(" PG101 error state 'Call' (lambda:invoke) needs lambda:InvokeFunction" in line for line in _findings(missing))


def test_a_documented_star_is_a_warning_where_the_role_names_resources(run_cli, tmp_path):
    """Glue documents StartJobRun on "*" (no resource-level form for it): a role naming the job
    may be right, so it cannot be called wrong."""
    definition = _definition(tmp_path, {"Crawl": _task("arn:aws:states:::glue:startJobRun", JobName="crawl")})
    job = f"arn:aws:glue:us-east-1:{ACCOUNT}:job/crawl"
    result = _lint(run_cli, tmp_path, _policy(_allow("glue:StartJobRun", job)), definition)
    assert result.code == 0
    (line,) = _findings(result)
    assert " PG203 warning state 'Crawl' (glue:startJobRun) needs glue:StartJobRun on *" in line


def _pg202(result) -> str:
    (line,) = [line for line in _findings(result) if " PG202 " in line]
    return line


def test_pg202_a_service_wildcard_beyond_the_needed_action(run_cli, tmp_path):
    definition = _definition(tmp_path, {"Notify": _task("arn:aws:states:::sns:publish", TopicArn=f"arn:aws:sns:us-east-1:{ACCOUNT}:t", Message="m")})
    result = _lint(run_cli, tmp_path, _policy(_allow("sns:*", f"arn:aws:sns:us-east-1:{ACCOUNT}:t")), definition)
    assert result.code == 0
    # The catalogue knows SNS's actions: it counts the others the wildcard grants.
    assert re.search(r"allows every other sns action \(\d+\) \(through sns:\*, which also covers the needed sns:Publish\), which no state needs", _pg202(result))


def test_pg202_invoke_on_any_function_where_the_states_name_theirs(run_cli, tmp_path):
    definition = _definition(tmp_path, {"A": _invoke(_fn("a")), "B": _invoke("b")})
    result = _lint(run_cli, tmp_path, _policy(_allow("lambda:InvokeFunction", "*")), definition)
    assert f"allows lambda:InvokeFunction on other resources than {_fn('a')}, {_fn('b')}, which no state needs" in _pg202(result)
    exact = _lint(run_cli, tmp_path, _policy(_allow("lambda:InvokeFunction", [_fn("a"), _fn("b")])), definition)
    assert _findings(exact) == []
    extra = _lint(run_cli, tmp_path, _policy(_allow("lambda:InvokeFunction", [_fn("a"), _fn("b"), _fn("c")])), definition)
    assert "lambda:InvokeFunction on other resources than" in _pg202(extra)


def test_pg202_actions_of_a_service_no_state_uses(run_cli, tmp_path):
    definition = _definition(tmp_path, {"A": _invoke(_fn("a"))})
    policy = _policy(_allow("lambda:InvokeFunction", _fn("a")), _allow(["sqs:SendMessage", "dynamodb:Get*"], "*"))
    assert "allows sqs:SendMessage, dynamodb:Get*, which no state needs" in _pg202(_lint(run_cli, tmp_path, policy, definition))


def test_pg202_leaves_alone_what_the_definition_cannot_show(run_cli, tmp_path):
    """Logging, tracing and KMS are set on the state machine resource (rules/integrations/
    state-machine.yaml), and an ECS task passes the roles of its task definition: a role may hold
    those whatever the states need."""
    definition = _definition(tmp_path, {"Run": _task("arn:aws:states:::ecs:runTask", TaskDefinition="render:3")})
    policy = _policy(
        _allow("ecs:RunTask", f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/render:3"),
        _allow("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole"),
        _allow(["logs:CreateLogDelivery", "logs:GetLogDelivery", "xray:PutTraceSegments"], "*"),
    )
    result = _lint(run_cli, tmp_path, policy, definition)
    assert (result.code, _findings(result)) == (0, [])


def test_fix_adds_a_missing_lambda_invoke_as_generate_writes_it(run_cli, tmp_path):
    policy = _generated(run_cli, "--mode", "fine-grained")
    invoke = next(s for s in policy["Statement"] if s["Sid"] == "LambdaInvokeFunction")
    cut = {**policy, "Statement": [s for s in policy["Statement"] if s is not invoke]}
    result = _lint(run_cli, tmp_path, cut, DEFINITION, "--fix")
    assert result.code == 1
    fixed = json.loads(result.out)
    assert invoke in fixed["Statement"]
    assert sorted(map(json.dumps, fixed["Statement"])) == sorted(map(json.dumps, policy["Statement"]))
    assert 'added statement "LambdaInvokeFunction": lambda:InvokeFunction on ' + _fn("prepare") in result.err


def test_fix_narrows_service_grants_beyond_the_needs(run_cli, tmp_path):
    policy = _generated(run_cli, "--mode", "fine-grained")
    policy["Statement"].append({"Sid": "Extra", "Effect": "Allow", "Action": ["sns:*", "lambda:InvokeFunction", "sqs:DeleteQueue"], "Resource": "*"})
    result = _lint(run_cli, tmp_path, policy, DEFINITION, "--fix")
    fixed = json.loads(result.out)
    assert not any(s.get("Sid") == "Extra" for s in fixed["Statement"])
    again = _lint(run_cli, tmp_path, fixed)
    assert (again.code, _findings(again)) == (0, [])


def test_ecs_and_batch_managed_rules_are_each_their_own(run_cli, tmp_path):
    """The Batch rule's statement is Batch's, not a misplaced grant for the ECS state (PG103): the
    ECS state is told its own rule is missing (PG101)."""
    policy = _generated(run_cli, "--mode", "fine-grained")
    policy["Statement"] = [s for s in policy["Statement"] if s["Sid"] != "EcsManagedRule"]
    lines = _findings(_lint(run_cli, tmp_path, policy))
    assert lines and all(" PG101 error state 'Render' (ecs:runTask.sync) needs events:" in line for line in lines), lines
    assert all("StepFunctionsGetEventsForECSTaskRule" in line for line in lines)


def test_an_unknown_task_resource_is_an_input_error(run_cli, tmp_path):
    definition = _definition(tmp_path, {"X": _task("arn:aws:states:::sns:publishEverything", TopicArn="t")})
    result = run_cli("lint", str(definition), "--policy", str(DEFINITION), *TARGET)
    assert result.code == 2
    assert "publishEverything" in result.err and "Traceback" not in result.err


TEMPLATE = ROOT / "fixtures" / "lint" / "whole-role" / "template.yaml"


def test_a_template_role_is_linted_for_its_service_states(run_cli, tmp_path):
    """The topic's !Sub becomes the ARN generate writes, matched with the role's own !Sub; the
    function's !GetAtt Prepare.Arn is known only at deploy time, and the role naming that same
    !GetAtt allows it (as does the documented function:*)."""
    result = run_cli("lint", str(TEMPLATE), *TARGET)
    assert (result.code, _findings(result)) == (0, []), result.out
    text = TEMPLATE.read_text(encoding="utf-8")
    other = tmp_path / "other.yaml"
    other.write_text(text.replace("Resource: !GetAtt Prepare.Arn", f"Resource: {_fn('other')}"), encoding="utf-8")
    (line,) = _findings(run_cli("lint", str(other), *TARGET))
    assert ":18: PG203 warning state 'Prepare' (lambda:invoke) needs lambda:InvokeFunction on <Ref Prepare.Arn>, " in line
    broken = tmp_path / "template.yaml"
    broken.write_text(text.replace("Action: sns:Publish", "Action: sns:Subscribe"), encoding="utf-8")
    result = run_cli("lint", str(broken), *TARGET)
    assert result.code == 1
    lines = _findings(result)
    assert any(":24: PG101 error state 'Notify' (sns:publish) needs sns:Publish on arn:aws:sns:us-east-1:123456789012:done," in line for line in lines), lines
    assert any(" PG202 warning statement \"Publish\" of PipelineRole policy whole allows sns:Subscribe, which no state needs" in line for line in lines)


def test_fix_adds_a_template_function_as_the_template_names_it(run_cli, tmp_path):
    without = tmp_path / "template.yaml"
    text = TEMPLATE.read_text(encoding="utf-8")
    without.write_text(text.replace("              - Sid: Invoke\n                Effect: Allow\n                Action: lambda:InvokeFunction\n"
                                    "                Resource: !GetAtt Prepare.Arn\n", ""), encoding="utf-8")
    result = run_cli("lint", str(without), *TARGET, "--fix")
    assert result.code == 1
    added = json.loads(result.out)["Statement"][-1]
    assert added == {"Sid": "LambdaInvokeFunction", "Effect": "Allow", "Action": ["lambda:InvokeFunction"],
                     "Resource": [{"Fn::Sub": "${Prepare.Arn}"}]}


def test_fix_never_widens_a_grant_the_state_does_not_name(run_cli, tmp_path):
    """A function known only at run time, and a role allowing one function: --fix keeps that grant
    rather than add the documented function:* (the role may be right: PG203)."""
    definition = _definition(tmp_path, {"Call": _invoke(dynamic=True)})
    result = _lint(run_cli, tmp_path, _policy(_allow("lambda:InvokeFunction", _fn("a"))), definition, "--fix")
    assert json.loads(result.out)["Statement"] == [_allow("lambda:InvokeFunction", _fn("a"))]
    assert "--fix keeps them (PG203: check them by hand) rather than allow arn:aws:lambda:us-east-1:123456789012:function:*" in result.err
    missing = _lint(run_cli, tmp_path, _policy(_allow("sns:Publish", "*")), definition, "--fix", "--ignore", "PG202")
    assert json.loads(missing.out)["Statement"][-1]["Resource"] == [_fn("*")]  # what generate writes


def test_a_deny_of_a_service_state_s_need_is_pg102_naming_state_and_integration(run_cli, tmp_path):
    policy = _generated(run_cli, "--mode", "fine-grained")
    policy["Statement"].append({"Sid": "NoPublish", "Effect": "Deny", "Action": "sns:Publish", "Resource": "*"})
    result = _lint(run_cli, tmp_path, policy)
    assert result.code == 1
    (line,) = _findings(result)
    assert " PG102 error state 'Notify' (sns:publish) needs sns:Publish on arn:aws:sns:us-east-1:123456789012:done, but statement \"NoPublish\"" in line


def test_a_need_of_another_record_than_a_task_state_is_linted_too(run_cli, tmp_path, monkeypatch):
    """whole_role_needs is the dispatcher other kinds of needs join (the state machine's own
    features): a need whose record is not a Task state is requested and reported like the others."""
    from dataclasses import dataclass

    from policygen.requirements import service_requests
    from policygen.requirements.needs import Need

    @dataclass(frozen=True)
    class Feature:
        path: str
        file: str
        pointer: str
        service: str = "state-machine"

    definition = _definition(tmp_path, {"A": _invoke(_fn("a"))})
    original = service_requests.whole_role_needs

    def with_feature(services, deploy_time, notices):
        feature = Feature("(logging)", str(definition), "")
        return [*original(services, deploy_time, notices), Need("Logs", ("logs:CreateLogDelivery",), ("*",), "why", "src", feature)]  # type: ignore[arg-type]

    monkeypatch.setattr(service_requests, "whole_role_needs", with_feature)
    result = _lint(run_cli, tmp_path, _policy(_allow("lambda:InvokeFunction", _fn("a"))), definition)
    assert result.code == 1, result.err
    (line,) = _findings(result)
    assert " PG101 error state '(logging)' (state-machine) needs logs:CreateLogDelivery on *, which the role does not allow" in line


MACHINE_FEATURES = "fixtures/inputs/cloudformation/machine-features.yaml"


@pytest.mark.parametrize("left_out, state", [("logs:", "(state machine)"), ("s3:GetObject", None)])
def test_the_machines_own_needs_are_linted_too(run_cli, tmp_path, left_out, state):
    """A Distributed Map's reader, logging, X-Ray, the KMS key: the generated policy lints clean,
    and one left out is PG101 for the state (or the machine) that needs it."""
    generated = run_cli("generate", MACHINE_FEATURES, "--region", "us-east-1", "--account", ACCOUNT, "--merge")
    assert generated.code == 0, generated.err
    policy = json.loads(generated.out)
    (tmp_path / "whole.json").write_text(json.dumps(policy), encoding="utf-8")
    clean = run_cli("lint", MACHINE_FEATURES, "--policy", str(tmp_path / "whole.json"), "--region", "us-east-1", "--account", ACCOUNT)
    assert (clean.code, clean.out) == (0, "no findings\n"), clean.err
    policy["Statement"] = [s for s in policy["Statement"] if not any(a.startswith(left_out) for a in s["Action"])]
    (tmp_path / "partial.json").write_text(json.dumps(policy), encoding="utf-8")
    result = run_cli("lint", MACHINE_FEATURES, "--policy", str(tmp_path / "partial.json"), "--region", "us-east-1", "--account", ACCOUNT)
    assert result.code == 1
    missing = [line for line in result.out.splitlines() if " PG101 " in line and f"needs {left_out}" in line]
    assert missing, result.out
    if state is not None:
        assert all(f"state {state!r}" in line for line in missing)


def test_a_missing_put_events_is_not_said_to_be_a_managed_rule(run_cli, tmp_path):
    # Only the three actions of a .sync integration's managed rule fail with "not authorized to
    # create managed-rule"; events:PutEvents of an EventBridge state fails as any other call.
    put = _task("arn:aws:states:::events:putEvents", Entries=[{"Source": "a", "DetailType": "d", "Detail": {}, "EventBusName": "orders"}])
    definition = _definition(tmp_path, {"Put": put})
    (line,) = [line for line in _findings(_lint(run_cli, tmp_path, _policy(), definition)) if " PG101 " in line]
    assert " PG101 error state 'Put' (events:putEvents) needs events:PutEvents " in line
    assert "managed-rule" not in line
    sync = _definition(tmp_path, {"Run": _task("arn:aws:states:::ecs:runTask.sync", TaskDefinition="td:1", Cluster="c")})
    generated = json.loads(run_cli("generate", str(sync), *TARGET).out)
    without_rule = _policy(*[s for s in generated["Statement"] if not any(a.startswith("events:") for a in s["Action"])])
    missing_rule = [line for line in _findings(_lint(run_cli, tmp_path, without_rule, sync)) if " needs events:" in line]
    assert len(missing_rule) == 3
    assert all("not authorized to create managed-rule" in line for line in missing_rule)


def _stack(resources: dict, action: str, resource, state: dict, **top) -> dict:
    """A template with `resources`, a role trusted by Step Functions whose one statement allows
    `action` on `resource`, and a state machine of that role whose one state is `state`."""
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}]}
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]}
    return {**top, "Resources": {
        **resources,
        "Role": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": trust, "Policies": [{"PolicyName": "grants", "PolicyDocument": policy}]}},
        "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
            "Definition": {"StartAt": "Call", "States": {"Call": {**state, "End": True}}}}},
    }}


def _lint_stack(run_cli, tmp_path: Path, template: dict) -> list[str]:
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template), encoding="utf-8")
    return _findings(run_cli("lint", str(path), *TARGET))


def _publish(topic) -> dict:
    return _task("arn:aws:states:::sns:publish", TopicArn=topic, Message="done")


TOPICS = {"Topic": {"Type": "AWS::SNS::Topic"}, "Other": {"Type": "AWS::SNS::Topic"}}


def test_a_reference_that_is_an_arn_matches_the_same_reference_in_the_role(run_cli, tmp_path):
    # AWS::SNS::Topic's Ref is the topic ARN (CloudFormation User Guide, its return values): a
    # TopicArn of !Ref Topic is allowed exactly by a role granting sns:Publish on !Ref Topic.
    assert _lint_stack(run_cli, tmp_path, _stack(TOPICS, "sns:Publish", {"Ref": "Topic"}, _publish({"Ref": "Topic"}))) == []
    # Another topic's reference is not the same ARN: "cannot verify", never allowed by a guess.
    (line,) = _lint_stack(run_cli, tmp_path, _stack(TOPICS, "sns:Publish", {"Ref": "Topic"}, _publish({"Ref": "Other"})))
    assert " PG203 warning state 'Call' (sns:publish) needs sns:Publish " in line


def test_two_references_to_one_arn_are_one_resource(run_cli, tmp_path):
    # !GetAtt Topic.TopicArn and !Ref Topic both return the topic ARN (AWS::SNS::Topic return
    # values): a state writing one and a role writing the other agree.
    state = _publish({"Fn::GetAtt": ["Topic", "TopicArn"]})
    assert _lint_stack(run_cli, tmp_path, _stack(TOPICS, "sns:Publish", {"Ref": "Topic"}, state)) == []


def test_a_name_reference_matches_the_arn_the_role_builds_from_it_and_nothing_else(run_cli, tmp_path):
    # AWS::DynamoDB::Table's Ref is its name: the state's TableName !Ref Table needs table/<that
    # name> in the stack's Region and account, which a role's !Sub ...:table/${Table} names exactly.
    table = {"Table": {"Type": "AWS::DynamoDB::Table"}}
    state = _task("arn:aws:states:::dynamodb:putItem", TableName={"Ref": "Table"}, Item={})
    built = {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Table}"}
    assert _lint_stack(run_cli, tmp_path, _stack(table, "dynamodb:PutItem", built, state)) == []
    # The same table written as !GetAtt Table.Arn is another stand-in: "cannot verify", not a guess either way.
    (line,) = _lint_stack(run_cli, tmp_path, _stack(table, "dynamodb:PutItem", {"Fn::GetAtt": ["Table", "Arn"]}, state))
    assert " PG203 warning state 'Call' (dynamodb:putItem) needs dynamodb:PutItem " in line


def test_a_queue_url_reference_is_the_queue_its_arn_names(run_cli, tmp_path):
    # AWS::SQS::Queue's Ref is the queue URL and its GetAtt Arn the same queue's ARN (return
    # values): a QueueUrl of !Ref Queue is allowed by sqs:SendMessage on Queue.Arn.
    queue = {"Queue": {"Type": "AWS::SQS::Queue"}}
    state = _task("arn:aws:states:::sqs:sendMessage", QueueUrl={"Ref": "Queue"}, MessageBody="m")
    assert _lint_stack(run_cli, tmp_path, _stack(queue, "sqs:SendMessage", {"Fn::GetAtt": ["Queue", "Arn"]}, state)) == []


def test_a_statement_whose_resource_is_known_only_at_deploy_time_is_not_called_broader(run_cli, tmp_path):
    # CDK writes task definition and state machine ARNs with Fn::Select/Fn::Split, which policygen
    # does not evaluate: the statement may name exactly what the state needs, so lint cannot tell
    # (PG203) and must not say it allows other resources (PG202).
    selected = {"Fn::Select": [0, {"Fn::Split": [",", {"Ref": "Names"}]}]}
    resource = {"Fn::Join": ["", [f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:", selected]]}
    template = _stack({}, "lambda:InvokeFunction", resource, _invoke(_fn("prepare")), Parameters={"Names": {"Type": "String"}})
    assert [line.split(" ")[1] for line in _lint_stack(run_cli, tmp_path, template)] == ["PG203"]
