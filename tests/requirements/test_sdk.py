"""AWS SDK integrations (aws-sdk:<service>:<apiAction>): the IAM actions from rules/integrations/aws-sdk.yaml's
rule, prefixes and exceptions; resources scoped from the state's arguments for the common targets, with
the narrowest documented fallback and a warning; every other call on its action's resource types."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cli import assert_input_error

from policygen.requirements import sdk
from policygen.requirements.sdk_table import resolve_call

ROOT = Path(__file__).resolve().parents[2]
TARGET = ("--region", "us-east-1", "--account", "123456789012")


def _generate(run_cli, tmp_path: Path, states: dict, *flags: str):
    definition = {"StartAt": next(iter(states)), "States": states}
    names = list(states)
    for name, following in zip(names, names[1:], strict=False):
        states[name]["Next"] = following
    states[names[-1]]["End"] = True
    path = tmp_path / "machine.asl.json"
    path.write_text(json.dumps(definition, indent=1), encoding="utf-8")
    return run_cli("generate", str(path), *TARGET, *flags), path


def _task(api: str, parameters: dict | None = None, **more) -> dict:
    state = {"Type": "Task", "Resource": f"arn:aws:states:::aws-sdk:{api}", **more}
    if parameters is not None:
        state["Parameters"] = parameters
    return state


def _grants(result) -> dict[str, list[str]]:
    """Action -> the resources the policy allows it on."""
    assert result.code == 0, result.err
    found: dict[str, list[str]] = {}
    for statement in json.loads(result.out)["Statement"]:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in statement["Action"]:
            found.setdefault(action, []).extend(resources)
    return {action: sorted(resources) for action, resources in found.items()}


def _warnings(result) -> list[str]:
    return [line for line in result.err.splitlines() if line.startswith("policygen: warning: ")]


@pytest.mark.parametrize(
    "api, parameters, action, resources",
    [
        ("s3:getObject", {"Bucket": "in", "Key": "a/b.csv"}, "s3:GetObject", ["arn:aws:s3:::in/a/b.csv"]),
        ("dynamodb:getItem", {"TableName": "orders", "Key": {}}, "dynamodb:GetItem", ["arn:aws:dynamodb:us-east-1:123456789012:table/orders"]),
        ("dynamodb:putItem", {"TableName": "arn:aws:dynamodb:eu-west-1:111122223333:table/t", "Item": {}}, "dynamodb:PutItem",
         ["arn:aws:dynamodb:eu-west-1:111122223333:table/t"]),
        ("sqs:sendMessage", {"QueueUrl": "https://sqs.eu-west-1.amazonaws.com/111122223333/jobs.fifo", "MessageBody": "x"}, "sqs:SendMessage",
         ["arn:aws:sqs:eu-west-1:111122223333:jobs.fifo"]),
        ("sqs:sendMessageBatch", {"QueueUrl": "https://eu-west-1.queue.amazonaws.com/111122223333/jobs", "Entries": []}, "sqs:SendMessage",
         ["arn:aws:sqs:eu-west-1:111122223333:jobs"]),
        ("sns:publish", {"TopicArn": "arn:aws:sns:us-east-1:123456789012:alerts", "Message": "x"}, "sns:Publish", ["arn:aws:sns:us-east-1:123456789012:alerts"]),
        ("lambda:invoke", {"FunctionName": "worker"}, "lambda:InvokeFunction", ["arn:aws:lambda:us-east-1:123456789012:function:worker"]),
        ("lambda:invoke", {"FunctionName": "worker:live"}, "lambda:InvokeFunction", ["arn:aws:lambda:us-east-1:123456789012:function:worker:live"]),
        ("secretsmanager:getSecretValue", {"SecretId": "prod/db"}, "secretsmanager:GetSecretValue",
         ["arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-??????"]),
        ("secretsmanager:getSecretValue", {"SecretId": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"},
         "secretsmanager:GetSecretValue", ["arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"]),
        ("ssm:getParameter", {"Name": "flag"}, "ssm:GetParameter", ["arn:aws:ssm:us-east-1:123456789012:parameter/flag"]),
        ("ssm:getParameter", {"Name": "/app/prod/flag"}, "ssm:GetParameter", ["arn:aws:ssm:us-east-1:123456789012:parameter/app/prod/flag"]),
        ("ssm:getParametersByPath", {"Path": "/app/prod/"}, "ssm:GetParametersByPath", ["arn:aws:ssm:us-east-1:123456789012:parameter/app/prod"]),
        ("kms:decrypt", {"KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "CiphertextBlob": "x"}, "kms:Decrypt",
         ["arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"]),
        ("sfn:startExecution", {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:child"}, "states:StartExecution",
         ["arn:aws:states:us-east-1:123456789012:stateMachine:child"]),
        ("sfn:describeExecution", {"ExecutionArn": "arn:aws:states:us-east-1:123456789012:execution:child:run-1"}, "states:DescribeExecution",
         ["arn:aws:states:us-east-1:123456789012:execution:child:run-1"]),
        ("eventbridge:putEvents", {"Entries": [{"EventBusName": "orders", "Detail": "{}"}, {"EventBusName": "arn:aws:events:eu-west-1:111122223333:event-bus/audit"}]},
         "events:PutEvents", ["arn:aws:events:eu-west-1:111122223333:event-bus/audit", "arn:aws:events:us-east-1:123456789012:event-bus/orders"]),
        ("eventbridge:putEvents", {"Entries": [{"Detail": "{}"}]}, "events:PutEvents", ["arn:aws:events:us-east-1:123456789012:event-bus/default"]),
        ("s3:listObjectsV2", {"Bucket": "reports"}, "s3:ListBucket", ["arn:aws:s3:::reports"]),
        ("dynamodb:batchWriteItem", {"RequestItems": {"orders": [], "arn:aws:dynamodb:eu-west-1:111122223333:table/audit": [], "lines.$": "$.lines"}},
         "dynamodb:BatchWriteItem", ["arn:aws:dynamodb:eu-west-1:111122223333:table/audit", "arn:aws:dynamodb:us-east-1:123456789012:table/lines",
                                     "arn:aws:dynamodb:us-east-1:123456789012:table/orders"]),
        ("dynamodb:query", {"TableName": "arn:aws:dynamodb:us-east-1:123456789012:table/t", "IndexName": "by-day"}, "dynamodb:Query",
         ["arn:aws:dynamodb:us-east-1:123456789012:table/t", "arn:aws:dynamodb:us-east-1:123456789012:table/t/index/by-day"]),
    ],
)
def test_common_targets_are_scoped_to_the_resource_the_state_names(run_cli, tmp_path, api, parameters, action, resources):
    result, _ = _generate(run_cli, tmp_path, {"Call": _task(api, parameters)})
    assert _grants(result) == {action: resources}
    assert result.err == ""


def test_jsonata_arguments_scope_the_same_way(run_cli, tmp_path):
    state = _task("s3:getObject", None, QueryLanguage="JSONata", Arguments={"Bucket": "in", "Key": "{% $states.input.key %}"})
    result, _ = _generate(run_cli, tmp_path, {"Call": state})
    assert _grants(result) == {"s3:GetObject": ["arn:aws:s3:::in/*"]}
    [warning] = _warnings(result)
    assert "state 'Call' (aws-sdk:s3:getObject): Key is known only at run time" in warning


@pytest.mark.parametrize(
    "api, parameters, action, resources, said",
    [
        # The narrowest fallback whose own arguments are known: the bucket stays.
        ("s3:getObject", {"Bucket": "in", "Key.$": "$.key"}, "s3:GetObject", ["arn:aws:s3:::in/*"], "Key is known only at run time ($.key)"),
        ("s3:getObject", {"Bucket.$": "$.bucket", "Key": "a"}, "s3:GetObject", ["arn:aws:s3:::*/*"], "Bucket is known only at run time ($.bucket)"),
        ("s3:getObject", {"Bucket": "in", "Key": "reports/*"}, "s3:GetObject", ["arn:aws:s3:::in/*"], "Key holds a wildcard ('reports/*')"),
        ("s3:getObject", {"Bucket": "arn:aws:s3:::in", "Key": "a"}, "s3:GetObject", ["arn:aws:s3:::*/*"], "Bucket is an ARN where the table expects a name"),
        ("dynamodb:getItem", {"TableName.$": "$.table"}, "dynamodb:GetItem", ["arn:aws:dynamodb:us-east-1:123456789012:table/*"], "TableName is known only at run time"),
        ("dynamodb:query", {"TableName": "t", "IndexName.$": "$.index"}, "dynamodb:Query",
         ["arn:aws:dynamodb:us-east-1:123456789012:table/t", "arn:aws:dynamodb:us-east-1:123456789012:table/t/index/*"], "IndexName is known only at run time"),
        ("sqs:sendMessage", {"QueueUrl": "https://example.com/queue", "MessageBody": "x"}, "sqs:SendMessage",
         ["arn:aws:sqs:us-east-1:123456789012:*"], "QueueUrl is no value the sqs-queue-arn transform can read"),
        ("sns:publish", {"PhoneNumber": "+15555550100", "Message": "x"}, "sns:Publish", ["arn:aws:sns:us-east-1:123456789012:*"], "TopicArn sends no value"),
        ("sns:publish", {"TopicArn": "alerts", "Message": "x"}, "sns:Publish", ["arn:aws:sns:us-east-1:123456789012:*"],
         "TopicArn names no resource of the documented form"),
        ("lambda:invoke", {"FunctionName": "123456789012:function:worker"}, "lambda:InvokeFunction",
         ["arn:aws:lambda:us-east-1:123456789012:function:*"], "FunctionName is no value the lambda-function-name transform can read"),
        ("kms:decrypt", {"KeyId": "alias/cards", "CiphertextBlob": "x"}, "kms:Decrypt", ["arn:aws:kms:us-east-1:123456789012:key/*"],
         "KeyId is no value the kms-key-id transform can read"),
        ("kms:decrypt", {"KeyId": "arn:aws:kms:us-east-1:123456789012:alias/cards", "CiphertextBlob": "x"}, "kms:Decrypt",
         ["arn:aws:kms:us-east-1:123456789012:key/*"], "KeyId names no resource of the documented form"),
        ("ssm:getParameter", {"Name": "flag:3"}, "ssm:GetParameter", ["arn:aws:ssm:us-east-1:123456789012:parameter/*"], "Name is no value the ssm-parameter-path"),
        ("secretsmanager:getSecretValue", {"SecretId.$": "$.secret"}, "secretsmanager:GetSecretValue",
         ["arn:aws:secretsmanager:us-east-1:123456789012:secret:*"], "SecretId is known only at run time"),
        ("sfn:startExecution", {"StateMachineArn.$": "$.machine"}, "states:StartExecution",
         ["arn:aws:states:us-east-1:123456789012:stateMachine:*"], "StateMachineArn is known only at run time"),
        ("dynamodb:batchGetItem", {"RequestItems.$": "$.reads"}, "dynamodb:BatchGetItem", ["arn:aws:dynamodb:us-east-1:123456789012:table/*"],
         "RequestItems is known only at run time ($.reads)"),
        ("eventbridge:putEvents", {"Entries.$": "$.events"}, "events:PutEvents", ["arn:aws:events:*:*:event-bus/*"], "Entries[*].EventBusName is known only at run time"),
    ],
)
def test_unknown_arguments_take_the_documented_fallback_with_a_warning(run_cli, tmp_path, api, parameters, action, resources, said):
    result, _ = _generate(run_cli, tmp_path, {"Call": _task(api, parameters)})
    assert _grants(result) == {action: resources}
    [warning] = _warnings(result)
    assert f"state 'Call' (aws-sdk:{api}): {said}" in warning
    assert "the policy allows the documented form" in warning


def test_copy_object_reads_the_source_and_writes_the_target(run_cli, tmp_path):
    result, _ = _generate(run_cli, tmp_path, {"Copy": _task("s3:copyObject", {"CopySource": "in/a.csv", "Bucket": "out", "Key": "b.csv"})})
    assert _grants(result) == {"s3:GetObject": ["arn:aws:s3:::in/a.csv"], "s3:PutObject": ["arn:aws:s3:::out/b.csv"]}
    encoded, _ = _generate(run_cli, tmp_path, {"Copy": _task("s3:copyObject", {"CopySource": "in/a%20b.csv", "Bucket": "out", "Key": "b.csv"})})
    assert _grants(encoded) == {"s3:GetObject": ["arn:aws:s3:::*/*"], "s3:PutObject": ["arn:aws:s3:::out/b.csv"]}
    assert "CopySource is no value the s3-copy-source transform can read" in encoded.err


def test_sfn_calls_use_the_states_prefix_and_exceptions_their_own_actions():
    assert resolve_call("sfn:startExecution").actions == ("states:StartExecution",)
    assert resolve_call("cloudwatchlogs:putLogEvents").actions == ("logs:PutLogEvents",)
    assert resolve_call("s3:headObject").actions == ("s3:GetObject",)
    assert resolve_call("kms:reEncrypt").actions == ("kms:ReEncryptFrom", "kms:ReEncryptTo")
    assert resolve_call("sqs:sendMessage").actions == ("sqs:SendMessage",)
    assert resolve_call("ec2:describeInstances").actions == ("ec2:DescribeInstances",)


def test_other_calls_get_their_resource_types_with_a_warning(run_cli, tmp_path):
    states = {
        "Tag": _task("s3:putBucketTagging", {"Bucket": "b", "Tagging": {"TagSet": []}}),
        "Instances": _task("ec2:describeInstances", {}),
        "Re": _task("kms:reEncrypt", {"CiphertextBlob": "x", "DestinationKeyId": "k"}),
    }
    result, _ = _generate(run_cli, tmp_path, states)
    assert _grants(result) == {
        "ec2:DescribeInstances": ["*"],
        "kms:ReEncryptFrom": ["arn:aws:kms:us-east-1:123456789012:key/*"],
        "kms:ReEncryptTo": ["arn:aws:kms:us-east-1:123456789012:key/*"],
        "s3:PutBucketTagging": ["arn:aws:s3:::*"],
    }
    warnings = _warnings(result)
    assert len(warnings) == 3  # one a state
    assert any("state 'Tag' (aws-sdk:s3:putBucketTagging): policygen does not read which resources the call acts on: "
               "the policy allows s3:PutBucketTagging on arn:{partition}:s3:::*" in w for w in warnings)
    assert any("state 'Re' (aws-sdk:kms:reEncrypt): policygen does not read which resources the call acts on: "
               "the policy allows kms:ReEncryptFrom, kms:ReEncryptTo on arn:{partition}:kms:{region}:{account}:key/*" in w for w in warnings)
    assert any("state 'Instances' (aws-sdk:ec2:describeInstances): ec2:DescribeInstances has no resource-level permissions" in w for w in warnings)


def test_transactions_grant_each_item_kinds_action_on_its_tables(run_cli, tmp_path):
    items = [{"Put": {"TableName": "orders", "Item": {}}}, {"ConditionCheck": {"TableName": "stock", "Key": {}}},
             {"Update": {"TableName": "arn:aws:dynamodb:eu-west-1:111122223333:table/totals", "Key": {}}}]
    result, _ = _generate(run_cli, tmp_path, {"Tx": _task("dynamodb:transactWriteItems", {"TransactItems": items})})
    assert _grants(result) == {  # no DeleteItem: no item deletes
        "dynamodb:PutItem": ["arn:aws:dynamodb:us-east-1:123456789012:table/orders"],
        "dynamodb:ConditionCheckItem": ["arn:aws:dynamodb:us-east-1:123456789012:table/stock"],
        "dynamodb:UpdateItem": ["arn:aws:dynamodb:eu-west-1:111122223333:table/totals"],
    }
    assert result.err == ""
    read, _ = _generate(run_cli, tmp_path, {"Get": _task("dynamodb:transactGetItems", {"TransactItems": [{"Get": {"TableName": "orders", "Key": {}}}]})})
    assert _grants(read) == {"dynamodb:GetItem": ["arn:aws:dynamodb:us-east-1:123456789012:table/orders"]}


@pytest.mark.parametrize("api, parameters, said", [
    ("dynamodb:transactWriteItems", {"TransactItems": "x"}, '"TransactItems" must be a list'),
    ("dynamodb:batchGetItem", {"RequestItems": "orders"}, '"RequestItems" must be an object whose keys are tables'),
    ("dynamodb:batchWriteItem", {"RequestItems": ["orders"]}, '"RequestItems" must be an object whose keys are tables'),
])
def test_malformed_arguments_are_an_error_at_the_argument(run_cli, tmp_path, api, parameters, said):
    result, path = _generate(run_cli, tmp_path, {"Call": _task(api, parameters)})
    line = assert_input_error(result, "state 'Call'", said)
    assert re.search(re.escape(str(path)) + r":\d+:\d+ \(at /States/Call/Parameters/", line), line


def test_transactions_from_an_expression_may_need_every_action(run_cli, tmp_path):
    result, _ = _generate(run_cli, tmp_path, {"Tx": _task("dynamodb:transactWriteItems", {"TransactItems.$": "$.items"})})
    table = ["arn:aws:dynamodb:us-east-1:123456789012:table/*"]
    assert _grants(result) == {action: table for action in ("dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem")}
    assert all("TransactItems[*]" in warning and "known only at run time ($.items)" in warning for warning in _warnings(result))


def test_partiql_gets_every_statement_kind_with_a_warning(run_cli, tmp_path):
    result, _ = _generate(run_cli, tmp_path, {"Ql": _task("dynamodb:executeStatement", {"Statement": "SELECT * FROM orders"})})
    table = ["arn:aws:dynamodb:us-east-1:123456789012:table/*"]  # also covers the indexes (table/*/index/*)
    assert _grants(result) == {action: table for action in ("dynamodb:PartiQLDelete", "dynamodb:PartiQLInsert", "dynamodb:PartiQLSelect", "dynamodb:PartiQLUpdate")}
    [warning] = _warnings(result)
    assert "policygen does not read which resources the call acts on" in warning


def test_statements_of_one_call_merge_across_states(run_cli, tmp_path):
    states = {"A": _task("sqs:sendMessage", {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/a", "MessageBody": "x"}),
              "B": _task("sqs:sendMessage", {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/b", "MessageBody": "x"})}
    result, _ = _generate(run_cli, tmp_path, states)
    statements = json.loads(result.out)["Statement"]
    assert [s["Sid"] for s in statements] == ["SdkSqsSendMessage"]
    assert statements[0]["Resource"] == ["arn:aws:sqs:us-east-1:123456789012:a", "arn:aws:sqs:us-east-1:123456789012:b"]


@pytest.mark.parametrize(
    "api, said",
    [
        ("sqz:sendMessage", "'sqz' is no AWS SDK service policygen knows"),
        ("sqs:sendMesage", "aws-sdk:sqs:sendMesage is no AWS SDK call policygen knows: the Service Authorization Reference has no IAM action sqs:SendMesage"),
        ("lambda:invokeAsync", "Step Functions does not support the AWS SDK call lambda:invokeAsync"),
        ("mobile:listProjects", "the AWS SDK service 'mobile' is deprecated"),
        ("apigateway:getRestApis", "policygen cannot name the IAM actions of aws-sdk:apigateway:getRestApis"),
        ("apigatewayv2:getApis", "policygen cannot name the IAM actions of aws-sdk:apigatewayv2:getApis"),
        ("s3:getObject.sync", "SDK integrations do not support .sync"),
    ],
)
def test_an_unknown_or_unsupported_call_is_an_error_at_its_state(run_cli, tmp_path, api, said):
    result, path = _generate(run_cli, tmp_path, {"Start": {"Type": "Pass"}, "Call": _task(api, {})})
    line = assert_input_error(result, "state 'Call'", said)
    assert re.search(re.escape(str(path)) + r":\d+:\d+ \(at /States/Call/Resource\)", line), line


def test_call_problem_is_the_scans_question():
    assert sdk.call_problem("s3:getObject") is None
    assert sdk.call_problem("sfn:startExecution") is None
    assert "sqs:SendMesage" in sdk.call_problem("sqs:sendMesage")


def test_batch_sdk_calls_stay_batchs_own(run_cli, tmp_path):
    result, _ = _generate(run_cli, tmp_path, {"Jobs": _task("batch:describeJobs", {"Jobs.$": "$.ids"})})
    assert "batch:DescribeJobs" in _grants(result)
    assert "SdkBatch" not in result.out


def test_every_transform_the_table_names_is_implemented():
    table = yaml.safe_load((ROOT / "rules" / "integrations" / "aws-sdk.yaml").read_text(encoding="utf-8"))
    used = set(re.findall(r"\|([a-z0-9-]+)\}", json.dumps(table["resource-scoping"])))
    assert used <= set(table["transforms"]) == set(sdk._TRANSFORMS)


def test_every_scoped_api_resolves_to_catalogued_actions():
    """Each resource-scoping api names a call whose actions the rule or an exception gives, and
    every `actions` limit names one of them (else its resources would never be used)."""
    table = yaml.safe_load((ROOT / "rules" / "integrations" / "aws-sdk.yaml").read_text(encoding="utf-8"))
    for entry in table["resource-scoping"]:
        for api in entry["apis"]:
            call = resolve_call(f"{entry['sdk']}:{api}")
            assert not isinstance(call, str), call
            assert set(entry.get("actions", call.actions)) <= set(call.actions), (entry["sdk"], api)


# --- whatever a state sends, the grant stays within the documented form ---------------------------

_TABLE = yaml.safe_load((ROOT / "rules" / "integrations" / "aws-sdk.yaml").read_text(encoding="utf-8"))
_SCOPED_CALLS = sorted({(entry["sdk"], api) for entry in _TABLE["resource-scoping"] for api in entry["apis"]})
_FIELDS = sorted({m for entry in _TABLE["resource-scoping"] for r in entry["resources"]
                  for m in re.findall(r"\{field:([A-Za-z]+)", r["name"] + r.get("when-present", "{field:x"))} - {"x"})
_VALUES = st.one_of(
    st.text(alphabet="ab/:*?-_.%$", max_size=12),
    st.sampled_from(["orders", "alias/k", "arn:aws:s3:::b", "arn:aws:kms:us-east-1:123456789012:alias/k", "in/a.csv",
                     "https://sqs.us-east-1.amazonaws.com/123456789012/q", "arn:aws:sns:us-east-1:123456789012:t", "a:1", "/p/q"]),
)


def _widest(api: str) -> list[str]:
    sdk_name, _, action = api.partition(":")
    return [entry["resources"][i]["dynamic"][-1] if isinstance(entry["resources"][i]["dynamic"], list) else entry["resources"][i]["dynamic"]
            for entry in _TABLE["resource-scoping"] if entry["sdk"] == sdk_name and action in entry["apis"]
            for i in range(len(entry["resources"]))]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(call=st.sampled_from(_SCOPED_CALLS), parameters=st.fixed_dictionaries({}, optional={field: _VALUES for field in _FIELDS}),
       entries=st.lists(st.dictionaries(st.just("EventBusName"), _VALUES), max_size=3))
def test_scoped_resources_never_leave_the_documented_form(tmp_path_factory, call, parameters, entries):
    """Every resource a scoped call is granted on has the shape of its widest documented fallback
    (region, account and partition aside: a static ARN may name another account), and no input
    raises anything but an InputError at one of the state's arguments."""
    from policygen import pipeline
    from policygen.errors import InputError
    from policygen.iam import wildcard
    from policygen.requirements.sdk import needs_of_sdk

    api = f"{call[0]}:{call[1]}"
    arguments = dict(parameters, Entries=entries, RequestItems={value: [] for value in parameters.values()})
    path = tmp_path_factory.mktemp("sdk") / "machine.asl.json"
    path.write_text(json.dumps({"StartAt": "A", "States": {"A": _task(api, arguments, End=True)}}), encoding="utf-8")
    _, [task] = pipeline.scan_whole_role(pipeline.load_state_machines([str(path)]))
    shapes = [re.sub(r"\{(partition|region|account)\}|\{field:[^}]*\}", "*", widest) for widest in _widest(api)]
    try:
        needs = needs_of_sdk(task, None, [])
    except InputError as error:  # e.g. TransactItems that is no list: exit 2 at the argument
        assert error.location is not None and error.location.pointer.startswith("/States/A/Parameters/"), error
        return
    for need in needs:
        for resource in need.resources:
            text = resource.replace("{partition}", "aws").replace("{region}", "us-east-1").replace("{account}", "123456789012")
            assert any(wildcard.matches(shape, text) for shape in shapes), (api, arguments, resource)


def test_request_options_add_their_actions_on_the_target(run_cli, tmp_path):
    copy = {"CopySource": "in/a.csv", "Bucket": "out", "Key": "b.csv", "Tagging": "team=x", "ACL.$": "$.acl"}
    result, _ = _generate(run_cli, tmp_path, {"Copy": _task("s3:copyObject", copy)})
    target = ["arn:aws:s3:::out/b.csv"]
    assert _grants(result) == {"s3:GetObject": ["arn:aws:s3:::in/a.csv"], "s3:PutObject": target,
                               "s3:PutObjectTagging": target, "s3:PutObjectAcl": target}


def test_every_request_option_goes_with_an_action_of_its_call():
    table = yaml.safe_load((ROOT / "rules" / "integrations" / "aws-sdk.yaml").read_text(encoding="utf-8"))
    for entry in table["request-options"]:
        call = resolve_call(f"{entry['sdk']}:{entry['api']}")
        assert not isinstance(call, str) and entry["with-action"] in call.actions, entry


def test_literal_dollar_braces_from_a_template_are_no_policy_variable(run_cli, tmp_path):
    """`${!x}` in a template is the literal text ${x}: as a resource IAM would read it as a policy
    variable, so the state's value is not written; the documented form is, with a warning."""
    template = tmp_path / "template.yaml"
    template.write_text(
        "Resources:\n  Machine:\n    Type: AWS::StepFunctions::StateMachine\n    Properties:\n"
        "      RoleArn: arn:aws:iam::123456789012:role/x\n      Definition:\n        StartAt: Get\n        States:\n"
        "          Get:\n            Type: Task\n            Resource: arn:aws:states:::aws-sdk:dynamodb:getItem\n"
        "            Parameters:\n              TableName: !Sub \"t-${!aws:username}\"\n              Key: {}\n            End: true\n",
        encoding="utf-8",
    )
    result = run_cli("generate", str(template), *TARGET)
    assert _grants(result) == {"dynamodb:GetItem": ["arn:aws:dynamodb:us-east-1:123456789012:table/*"]}
    assert "TableName holds 't-${aws:username}', which IAM would read as a policy variable" in result.err


def test_a_call_whose_resource_type_the_reference_spells_in_camel_case_is_granted_and_linted(run_cli, tmp_path):
    # autoscaling:DetachInstances acts on "autoScalingGroup" (the Service Authorization
    # Reference's case); the catalogue keys it "autoscalinggroup". This was exit 3 (KeyError).
    result, path = _generate(run_cli, tmp_path, {"Detach": _task("autoscaling:detachInstances", {"AutoScalingGroupName": "g", "InstanceIds": ["i-1"]})})
    assert result.code == 0, result.err
    assert _grants(result) == {"autoscaling:DetachInstances": ["arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:autoScalingGroupName/*"]}
    policy = tmp_path / "policy.json"
    policy.write_text(result.out, encoding="utf-8")
    linted = run_cli("lint", str(path), "--policy", str(policy), *TARGET)
    assert linted.code == 0, linted.out + linted.err
