"""What the integration tables' needs make of particular arguments, beyond the goldens of
fixtures/expected/integrations/: the cases reviewing those goldens found wrong."""

from __future__ import annotations

import json

from policygen import pipeline
from policygen.errors import Notice
from policygen.load.asl import state_machine_from_asl
from policygen.load.json_source import parse_json
from policygen.render.policy_json import render_policy_json


def _generate(state: dict) -> tuple[dict, list[Notice]]:
    definition = {"StartAt": "Call", "States": {"Call": {**state, "End": True}}}
    document = parse_json(json.dumps(definition), "call.asl.json")
    machines = [state_machine_from_asl(document)]
    batch, services = pipeline.scan_whole_role(machines)
    result = pipeline.generate_policy(batch, "us-east-1", "123456789012", {}, services=services)
    return json.loads(render_policy_json(result.policy)), list(result.warnings)


def _pairs(policy: dict) -> set[tuple[str, str]]:
    pairs = set()
    for statement in policy["Statement"]:
        resources = statement["Resource"]
        for action in statement["Action"]:
            for resource in [resources] if isinstance(resources, str) else resources:
                pairs.add((action, resource))
    return pairs


def test_an_entry_without_event_bus_name_puts_on_the_default_bus_even_beside_one_that_names_a_bus():
    # https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsRequestEntry.html:
    # an entry without EventBusName goes to the account's default event bus.
    entries = [{"Source": "a", "DetailType": "d", "Detail": {}, "EventBusName": "orders"}, {"Source": "a", "DetailType": "d", "Detail": {}}]
    policy, _ = _generate({"Type": "Task", "Resource": "arn:aws:states:::events:putEvents", "Parameters": {"Entries": entries}})
    assert _pairs(policy) == {
        ("events:PutEvents", "arn:aws:events:us-east-1:123456789012:event-bus/orders"),
        ("events:PutEvents", "arn:aws:events:us-east-1:123456789012:event-bus/default"),
    }


def _emr_cluster(job_flow_role: str) -> dict:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::elasticmapreduce:createCluster",
        "Parameters": {"Name": "c", "ServiceRole": "EMR_DefaultRole", "JobFlowRole": job_flow_role},
    }


def test_emr_job_flow_role_is_an_instance_profile_so_its_role_is_passed_as_role_star_with_a_warning():
    # JobFlowRole names an instance profile (https://docs.aws.amazon.com/emr/latest/APIReference/API_RunJobFlow.html),
    # whose role may have another name: PassRole on role/<profile name> would miss it.
    for profile in ("EMR_EC2_DefaultRole", "arn:aws:iam::123456789012:instance-profile/EMR_EC2_DefaultRole"):
        policy, notices = _generate(_emr_cluster(profile))
        passed = {resource for action, resource in _pairs(policy) if action == "iam:PassRole"}
        assert "arn:aws:iam::123456789012:role/*" in passed, profile
        assert "arn:aws:iam::123456789012:role/EMR_EC2_DefaultRole" not in passed, profile
        assert any("JobFlowRole" in notice.message and "role/*" in notice.message for notice in notices), profile


def test_a_lambda_partial_arn_names_the_function_in_its_own_account():
    # https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html: FunctionName may be a partial
    # ARN, 123456789012:function:my-function, with a version or alias appended or not.
    for name, arn in (
        ("111122223333:function:resize", "arn:aws:lambda:us-east-1:111122223333:function:resize"),
        ("111122223333:function:resize:live", "arn:aws:lambda:us-east-1:111122223333:function:resize:live"),
        ("resize:live", "arn:aws:lambda:us-east-1:123456789012:function:resize:live"),
    ):
        state = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": name}}
        policy, _ = _generate(state)
        assert _pairs(policy) == {("lambda:InvokeFunction", arn)}, name


def test_a_fallback_warning_names_the_resource_as_the_policy_writes_it():
    state = {"Type": "Task", "Resource": "arn:aws:states:::athena:startQueryExecution", "Parameters": {"QueryString": "q", "WorkGroup.$": "$.wg"}}
    policy, notices = _generate(state)
    assert ("athena:StartQueryExecution", "arn:aws:athena:us-east-1:123456789012:workgroup/*") in _pairs(policy)
    (warning,) = [notice.message for notice in notices if "WorkGroup" in notice.message]
    assert "the documented form arn:aws:athena:us-east-1:123456789012:workgroup/* instead" in warning


def _api_call(endpoint: str) -> dict:
    parameters = {"ApiEndpoint": endpoint, "Method": "GET", "Stage": "prod", "Path": "pets", "AuthType": "IAM_ROLE"}
    return {"Type": "Task", "Resource": "arn:aws:states:::apigateway:invoke", "Parameters": parameters}


def test_an_api_endpoint_grants_its_api_in_the_region_its_host_names():
    # ApiEndpoint is <API ID>.execute-api.<region>.amazonaws.com (connect-api-gateway); the
    # execute-api resource is <region>:<account>:<api id>/<stage>/<method>/<path>.
    policy, notices = _generate(_api_call("a1b2c3d4e5.execute-api.ap-southeast-2.amazonaws.com"))
    assert _pairs(policy) == {("execute-api:Invoke", "arn:aws:execute-api:ap-southeast-2:123456789012:a1b2c3d4e5/*")}
    assert notices == []


def test_an_endpoint_that_is_no_api_gateway_host_falls_back_to_the_documented_form_with_a_warning():
    # A custom domain (unsupported by the integration) or a host with a path names no API the
    # table can write: the page's account-wide form, said, never a guess.
    for endpoint in ("api.example.com", "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod", "A1B2.execute-api.us-east-1.amazonaws.com"):
        policy, notices = _generate(_api_call(endpoint))
        assert _pairs(policy) == {("execute-api:Invoke", "arn:aws:execute-api:us-east-1:123456789012:*")}, endpoint
        assert len(notices) == 1 and "ApiEndpoint" in notices[0].message, endpoint


def test_sending_to_a_queue_warns_that_an_encrypted_queue_needs_its_key_too():
    # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html:
    # every producer of a queue encrypted with a customer managed key must be allowed to use the
    # key; the state does not show the queue's key, so the policy cannot hold it and must say so.
    state = {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q", "MessageBody": "m"}}
    policy, notices = _generate(state)
    assert _pairs(policy) == {("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:q")}
    (warning,) = [notice.message for notice in notices if "KMS" in notice.message]
    assert "kms:GenerateDataKey and kms:Decrypt" in warning


def _run_task(**more) -> dict:
    return {"Type": "Task", "Resource": "arn:aws:states:::ecs:runTask", "Parameters": {"Cluster": "main", "TaskDefinition": "render", **more}}


def test_a_task_run_with_tags_may_tag_it_on_create_and_only_then():
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/supported-iam-actions-tagging.html:
    # RunTask with tags is also authorized as ecs:TagResource (ecs:CreateAction RunTask).
    tag_on_create = ("ecs:TagResource", "arn:aws:ecs:us-east-1:123456789012:task/*")
    tagged, _ = _generate(_run_task(Tags=[{"Key": "team", "Value": "genomics"}]))
    assert tag_on_create in _pairs(tagged)
    (statement,) = [s for s in tagged["Statement"] if "ecs:TagResource" in s["Action"]]
    assert statement["Condition"] == {"StringEquals": {"ecs:CreateAction": "RunTask"}}
    from_input, _ = _generate(_run_task(**{"Tags.$": "$.tags"}))
    assert tag_on_create in _pairs(from_input)
    untagged, _ = _generate(_run_task())
    assert not any(action == "ecs:TagResource" for action, _ in _pairs(untagged))


def test_arguments_that_are_one_expression_may_send_tags_so_tagging_is_allowed_and_said():
    state = {"Type": "Task", "Resource": "arn:aws:states:::ecs:runTask", "QueryLanguage": "JSONata", "Arguments": "{% $states.input.request %}"}
    policy, notices = _generate(state)
    assert ("ecs:TagResource", "arn:aws:ecs:us-east-1:123456789012:task/*") in _pairs(policy)
    assert any("may send Tags" in notice.message for notice in notices)
