"""The state machine's own needs (rules/integrations/state-machine.yaml) from every kind of source:
Distributed Map, HTTP Task, logging, X-Ray tracing and a customer-managed key; the documented
fallbacks with their warnings; nothing for a feature that is off; redrive only on request."""

from __future__ import annotations

import json

import pytest

TARGET = ("--region", "us-east-1", "--account", "123456789012")
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
LOG_ACTIONS = [
    "logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery",
]
XRAY_ACTIONS = ["xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments"]
PASS_ONLY = {"StartAt": "Wait", "States": {"Wait": {"Type": "Pass", "End": True}}}


def _distributed(reader: dict | None = None, writer: dict | None = None, **extra) -> dict:
    state = {
        "Type": "Map",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, **PASS_ONLY},
        "End": True,
        **extra,
    }
    if reader is not None:
        state["ItemReader"] = reader
    if writer is not None:
        state["ResultWriter"] = writer
    return {"StartAt": "Each", "States": {"Each": state}}


def _http(parameters: dict) -> dict:
    return {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": "arn:aws:states:::http:invoke", "Parameters": parameters, "End": True}}}


def _generate(run_cli, tmp_path, name: str, content, *flags: str):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    result = run_cli("generate", str(path), *TARGET, *flags)
    return result


def _statements(result) -> dict[str, dict]:
    assert result.code == 0, result.err
    return {statement["Sid"]: statement for statement in json.loads(result.out)["Statement"]}


def _actions(statements: dict[str, dict]) -> set[str]:
    return {action for statement in statements.values() for action in statement["Action"]}


# --- CloudFormation, SAM, Terraform plan, serverless.yml ----------------------------------------------


def _cloudformation(properties: dict, definition: dict, kind: str = "AWS::StepFunctions::StateMachine") -> str:
    source = "Definition"
    return json.dumps({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"LogLevel": {"Type": "String", "Default": "ALL"}},
        "Resources": {"Pipeline": {"Type": kind, "Properties": {source: definition, **properties}}},
    })


def test_cloudformation_features_and_name(run_cli, tmp_path):
    properties = {
        "StateMachineName": "orders",
        "RoleArn": "arn:aws:iam::123456789012:role/orders",
        "LoggingConfiguration": {"Level": "ALL"},
        "TracingConfiguration": {"Enabled": True},
        "EncryptionConfiguration": {"Type": "CUSTOMER_MANAGED_KMS_KEY", "KmsKeyId": KEY_ARN},
    }
    reader = {"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Bucket": "intake"}}
    result = _generate(run_cli, tmp_path, "template.json", _cloudformation(properties, _distributed(reader)))
    statements = _statements(result)
    assert result.err == ""
    assert statements["DistributedMapStartChildren"]["Resource"] == ["arn:aws:states:us-east-1:123456789012:stateMachine:orders"]
    assert statements["DistributedMapItemReaderList"]["Resource"] == ["arn:aws:s3:::intake"]
    merged = statements["LogDeliveryXRayTracing"]
    assert merged["Action"] == sorted(LOG_ACTIONS + XRAY_ACTIONS, key=str.lower) and merged["Resource"] == "*"
    key = statements["StateMachineKey"]
    assert key["Resource"] == [KEY_ARN]
    assert key["Condition"] == {"StringEquals": {"kms:EncryptionContext:aws:states:stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:orders"}}
    assert statements["StateMachineKeyLogDelivery"]["Condition"] == {"ArnLike": {"kms:EncryptionContext:SourceArn": "arn:aws:logs:us-east-1:123456789012:*"}}


def test_cloudformation_features_that_are_off_add_nothing(run_cli, tmp_path):
    properties = {
        "LoggingConfiguration": {"Level": "OFF"},
        "TracingConfiguration": {"Enabled": False},
        "EncryptionConfiguration": {"Type": "AWS_OWNED_KEY"},
    }
    inline = {"StartAt": "Each", "States": {"Each": {"Type": "Map", "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, **PASS_ONLY}, "End": True}}}
    result = _generate(run_cli, tmp_path, "template.json", _cloudformation(properties, inline))
    assert result.code == 0
    assert json.loads(result.out)["Statement"] == []
    assert "no Task state found" in result.err


def test_a_deploy_time_log_level_is_granted_with_a_warning(run_cli, tmp_path):
    result = _generate(run_cli, tmp_path, "template.json", _cloudformation({"LoggingConfiguration": {"Level": {"Ref": "LogLevel"}}}, PASS_ONLY))
    statements = _statements(result)
    assert statements["LogDelivery"]["Action"] == LOG_ACTIONS
    assert "LoggingConfiguration.Level is only known at deploy or run time (${LogLevel})" in result.err
    assert "/Resources/Pipeline/Properties/LoggingConfiguration/Level" in result.err


def test_cloudformation_without_a_name_grants_on_every_machine_with_a_warning(run_cli, tmp_path):
    result = _generate(run_cli, tmp_path, "template.json", _cloudformation({}, _distributed()))
    statements = _statements(result)
    assert statements["DistributedMapStartChildren"]["Resource"] == ["arn:aws:states:us-east-1:123456789012:stateMachine:*"]
    assert "state 'Each' (Map): its source sets no name" in result.err


def test_sam_logging_tracing_and_name(run_cli, tmp_path):
    properties = {"Name": "sam-orders", "Logging": {"Level": "ERROR"}, "Tracing": {"Enabled": True}}
    template = _cloudformation(properties, _distributed(), kind="AWS::Serverless::StateMachine")
    statements = _statements(_generate(run_cli, tmp_path, "template.json", template))
    assert statements["DistributedMapStartChildren"]["Resource"] == ["arn:aws:states:us-east-1:123456789012:stateMachine:sam-orders"]
    assert set(LOG_ACTIONS + XRAY_ACTIONS) <= _actions(statements)


def _plan(values: dict, definition: dict) -> str:
    machine = {
        "address": "aws_sfn_state_machine.orders", "mode": "managed", "type": "aws_sfn_state_machine", "name": "orders",
        "values": {"definition": json.dumps(definition), **values},
    }
    return json.dumps({"format_version": "1.2", "terraform_version": "1.9.5", "planned_values": {"root_module": {"resources": [machine]}}})


def test_terraform_plan_blocks(run_cli, tmp_path):
    values = {
        "name": "tf-orders",
        "logging_configuration": [{"level": "FATAL", "include_execution_data": False, "log_destination": "arn:aws:logs:us-east-1:123456789012:log-group:x:*"}],
        "tracing_configuration": [{"enabled": True}],
        "encryption_configuration": [{"type": "CUSTOMER_MANAGED_KMS_KEY", "kms_key_id": "1234abcd-12ab-34cd-56ef-1234567890ab", "kms_data_key_reuse_period_seconds": 300}],
    }
    statements = _statements(_generate(run_cli, tmp_path, "plan.json", _plan(values, _distributed())))
    assert statements["DistributedMapStartChildren"]["Resource"] == ["arn:aws:states:us-east-1:123456789012:stateMachine:tf-orders"]
    # A key id becomes the key's ARN (state-machine.yaml, kms-key-arn).
    assert statements["StateMachineKey"]["Resource"] == [KEY_ARN]
    assert set(LOG_ACTIONS + XRAY_ACTIONS) <= _actions(statements)


def test_terraform_plan_with_empty_blocks_adds_nothing(run_cli, tmp_path):
    values = {"name": "tf-orders", "logging_configuration": [], "tracing_configuration": [{"enabled": False}], "encryption_configuration": []}
    result = _generate(run_cli, tmp_path, "plan.json", _plan(values, PASS_ONLY))
    assert result.code == 0 and json.loads(result.out)["Statement"] == []


def test_serverless_logging_tracing_and_name(run_cli, tmp_path):
    import yaml

    machine = {"name": "sls-orders", "loggingConfig": {"level": "ALL", "destinations": []}, "tracingConfig": {"enabled": True}, "definition": _distributed()}
    text = yaml.safe_dump({"service": "orders", "provider": {"name": "aws"}, "stepFunctions": {"stateMachines": {"orders": machine}}})
    statements = _statements(_generate(run_cli, tmp_path, "serverless.yml", text))
    assert statements["DistributedMapStartChildren"]["Resource"] == ["arn:aws:states:us-east-1:123456789012:stateMachine:sls-orders"]
    assert set(LOG_ACTIONS + XRAY_ACTIONS) <= _actions(statements)


def test_serverless_name_from_a_variable_is_unknown(run_cli, tmp_path):
    import yaml

    machine = {"name": "orders-${sls:stage}", "loggingConfig": {"level": "OFF"}, "definition": _distributed()}
    text = yaml.safe_dump({"service": "orders", "provider": {"name": "aws"}, "stepFunctions": {"stateMachines": {"orders": machine}}})
    result = _generate(run_cli, tmp_path, "serverless.yml", text)
    statements = _statements(result)
    assert statements["DistributedMapStartChildren"]["Resource"] == ["arn:aws:states:us-east-1:123456789012:stateMachine:*"]
    assert "LogDelivery" not in statements
    assert "is only known at deploy time" in result.err


# --- plain ASL and its flags ----------------------------------------------------------------


def test_plain_asl_flags(run_cli, tmp_path):
    result = _generate(run_cli, tmp_path, "m.asl.json", _distributed(), "--state-machine-name", "flagged", "--logging", "--tracing", "--kms-key", KEY_ARN)
    statements = _statements(result)
    assert result.err == ""
    assert statements["DistributedMapStartChildren"]["Resource"] == ["arn:aws:states:us-east-1:123456789012:stateMachine:flagged"]
    assert statements["StateMachineKey"]["Condition"]["StringEquals"] == {
        "kms:EncryptionContext:aws:states:stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:flagged"
    }
    assert set(LOG_ACTIONS + XRAY_ACTIONS) <= _actions(statements)


def test_plain_asl_without_flags_has_no_machine_grants(run_cli, tmp_path):
    result = _generate(run_cli, tmp_path, "m.asl.json", PASS_ONLY)
    assert result.code == 0 and json.loads(result.out)["Statement"] == []


def test_plain_asl_without_a_name_grants_on_every_machine_with_a_warning(run_cli, tmp_path):
    result = _generate(run_cli, tmp_path, "m.asl.json", _distributed(), "--kms-key", KEY_ARN)
    statements = _statements(result)
    assert statements["DistributedMapStartChildren"]["Resource"] == ["arn:aws:states:us-east-1:123456789012:stateMachine:*"]
    # StringEquals would compare the `*` as text: the unknown name needs StringLike.
    assert statements["StateMachineKey"]["Condition"] == {
        "StringLike": {"kms:EncryptionContext:aws:states:stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:*"}
    }
    assert "pass --state-machine-name NAME" in result.err


def test_a_key_alias_falls_back_to_every_key_with_a_warning(run_cli, tmp_path):
    result = _generate(run_cli, tmp_path, "m.asl.json", PASS_ONLY, "--state-machine-name", "m", "--kms-key", "alias/orders")
    statements = _statements(result)
    assert statements["StateMachineKey"]["Resource"] == ["arn:aws:kms:us-east-1:123456789012:key/*"]
    assert "EncryptionConfiguration.KmsKeyId is no kms key arn policygen can name ('alias/orders')" in result.err


@pytest.mark.parametrize(
    "flags, fragment",
    [
        (("--state-machine-name", "two words"), "--state-machine-name 'two words': a state machine name has 1 to 80"),
        (("--state-machine-name", "a*"), "--state-machine-name 'a*': a state machine name has 1 to 80"),
        (("--kms-key", ""), "--kms-key '': expected a KMS key ARN or key id"),
    ],
)
def test_bad_machine_flags_are_usage_errors(run_cli, tmp_path, flags, fragment):
    result = _generate(run_cli, tmp_path, "m.asl.json", PASS_ONLY, *flags)
    assert result.code == 2
    assert result.err.startswith("policygen: error: ") and fragment in result.err and "Traceback" not in result.err


def test_machine_flags_are_refused_for_a_template(run_cli, tmp_path):
    result = _generate(run_cli, tmp_path, "template.json", _cloudformation({}, PASS_ONLY), "--logging")
    assert result.code == 2
    assert "a template, plan or serverless.yml sets them on the state machine resource itself" in result.err


def test_one_name_for_two_asl_files_is_refused(run_cli, tmp_path):
    for name in ("a.asl.json", "b.asl.json"):
        (tmp_path / name).write_text(json.dumps(PASS_ONLY), encoding="utf-8")
    result = run_cli("generate", str(tmp_path / "a.asl.json"), str(tmp_path / "b.asl.json"), *TARGET, "--merge", "--state-machine-name", "x")
    assert result.code == 2
    assert "--state-machine-name names one state machine" in result.err


# --- Distributed Map ------------------------------------------------------------------------


def test_item_reader_object_result_writer_and_redrive(run_cli, tmp_path):
    reader = {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "MANIFEST"}, "Parameters": {"Bucket": "inv", "Key": "m.json", "VersionId": "v1"}}
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "out", "Prefix": "runs/"}}
    definition = _distributed(reader, writer, Label="orders")
    flags = ("--state-machine-name", "m", "--redrive")
    statements = _statements(_generate(run_cli, tmp_path, "m.asl.json", definition, *flags))
    # The manifest's data files (GetObject on inv/*) cover the manifest itself: one statement.
    assert "DistributedMapItemReaderObject" not in statements
    assert statements["DistributedMapItemReaderManifestData"]["Resource"] == ["arn:aws:s3:::inv/*"]
    assert statements["DistributedMapItemReaderObjectVersion"]["Resource"] == ["arn:aws:s3:::inv/m.json"]
    assert statements["DistributedMapResultWriter"]["Resource"] == ["arn:aws:s3:::out/runs/*"]
    assert statements["DistributedMapRedrive"]["Resource"] == ["arn:aws:states:us-east-1:123456789012:execution:m/orders:*"]
    without = _statements(_generate(run_cli, tmp_path, "m.asl.json", definition, "--state-machine-name", "m"))
    assert "DistributedMapRedrive" not in without
    assert "states:RedriveExecution" not in _actions(without)


def test_a_csv_reader_reads_no_manifest_data_and_no_version(run_cli, tmp_path):
    reader = {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "CSV"}, "Parameters": {"Bucket": "inv", "Key": "a.csv"}}
    statements = _statements(_generate(run_cli, tmp_path, "m.asl.json", _distributed(reader), "--state-machine-name", "m"))
    assert statements["DistributedMapItemReaderObject"]["Resource"] == ["arn:aws:s3:::inv/a.csv"]
    assert "DistributedMapItemReaderManifestData" not in statements
    assert "DistributedMapItemReaderObjectVersion" not in statements


def test_a_run_time_key_falls_back_to_the_bucket_with_a_warning(run_cli, tmp_path):
    reader = {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "inv", "Key.$": "$.key"}}
    result = _generate(run_cli, tmp_path, "m.asl.json", _distributed(reader), "--state-machine-name", "m")
    statements = _statements(result)
    assert statements["DistributedMapItemReaderObject"]["Resource"] == ["arn:aws:s3:::inv/*"]
    assert "state 'Each' (Map): ItemReader.Parameters.Key is known only at run time ($.key)" in result.err
    assert "/States/Each/ItemReader/Parameters/Key.$" in result.err


def test_jsonata_arguments_and_a_run_time_bucket(run_cli, tmp_path):
    reader = {"Resource": "arn:aws:states:::s3:listObjectsV2", "Arguments": {"Bucket": "{% $states.input.bucket %}"}}
    definition = {"QueryLanguage": "JSONata", **_distributed(reader)}
    result = _generate(run_cli, tmp_path, "m.asl.json", definition, "--state-machine-name", "m")
    statements = _statements(result)
    assert statements["DistributedMapItemReaderList"]["Resource"] == ["arn:aws:s3:::*"]
    assert "ItemReader.Parameters.Bucket is known only at run time" in result.err


def test_a_wildcard_bucket_is_not_written_as_a_name(run_cli, tmp_path):
    reader = {"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Bucket": "in*"}}
    result = _generate(run_cli, tmp_path, "m.asl.json", _distributed(reader), "--state-machine-name", "m")
    assert _statements(result)["DistributedMapItemReaderList"]["Resource"] == ["arn:aws:s3:::*"]
    assert "holds a wildcard" in result.err


# --- HTTP Task ------------------------------------------------------------------------------


CONNECTION = "arn:aws:events:us-east-1:123456789012:connection/orders/0b1c2d3e-aaaa-bbbb-cccc-111122223333"


def test_http_task(run_cli, tmp_path):
    parameters = {"ApiEndpoint": "https://api.example.com/v1", "Method": "GET", "Authentication": {"ConnectionArn": CONNECTION}}
    result = _generate(run_cli, tmp_path, "m.asl.json", _http(parameters))
    statements = _statements(result)
    assert result.err == ""
    assert statements["HttpTaskInvoke"] == {
        "Sid": "HttpTaskInvoke", "Effect": "Allow", "Action": ["states:InvokeHTTPEndpoint"], "Resource": "*",
        "Condition": {"StringEquals": {"states:HTTPMethod": "GET"}, "StringLike": {"states:HTTPEndpoint": "https://api.example.com/v1"}},
    }
    assert statements["HttpTaskConnectionCredentials"]["Resource"] == [CONNECTION]
    assert statements["HttpTaskConnectionSecret"]["Resource"] == ["arn:aws:secretsmanager:us-east-1:123456789012:secret:events!connection/orders/*"]


def test_http_task_with_run_time_values(run_cli, tmp_path):
    parameters = {"ApiEndpoint.$": "$.url", "Method": "POST", "Authentication": {"ConnectionArn.$": "$.connection"}}
    result = _generate(run_cli, tmp_path, "m.asl.json", _http(parameters))
    statements = _statements(result)
    assert statements["HttpTaskInvoke"]["Condition"] == {"StringEquals": {"states:HTTPMethod": "POST"}}
    assert statements["HttpTaskConnectionCredentials"]["Resource"] == ["arn:aws:events:us-east-1:123456789012:connection/*"]
    assert statements["HttpTaskConnectionSecret"]["Resource"] == ["arn:aws:secretsmanager:us-east-1:123456789012:secret:events!connection/*"]
    assert "ApiEndpoint is not known before run time, so the condition states:HTTPEndpoint is left out" in result.err
    assert "Authentication.ConnectionArn is known only at run time ($.connection)" in result.err


def test_http_task_with_a_pattern_it_lacks_is_an_error(run_cli, tmp_path):
    definition = _http({"ApiEndpoint": "https://x", "Method": "GET"})
    definition["States"]["Call"]["Resource"] = "arn:aws:states:::http:invoke.sync"
    result = _generate(run_cli, tmp_path, "m.asl.json", definition)
    assert result.code == 2
    assert "http:invoke.sync" in result.err and "arn:<partition>:states:::http:invoke" in result.err


def test_explain_names_the_map_state_and_the_machine(run_cli, tmp_path):
    reader = {"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Bucket": "b"}}
    result = _generate(run_cli, tmp_path, "m.asl.json", _distributed(reader), "--state-machine-name", "m", "--tracing", "--explain")
    assert result.code == 0
    assert ": Each (map)" in result.err
    assert ": (state machine) (properties)" in result.err


# --- values as the sources write them ------------------------------------------------------------


def test_a_reader_in_another_partition_or_from_a_template_is_recognised(run_cli, tmp_path):
    reader = {"Resource": "arn:aws-cn:states:::s3:listObjectsV2", "Parameters": {"Bucket": "b"}}
    result = run_cli("generate", str(_write(tmp_path, "m.asl.json", _distributed(reader))), "--region", "cn-north-1", "--account", "123456789012", "--state-machine-name", "m")
    assert _statements(result)["DistributedMapItemReaderList"]["Resource"] == ["arn:aws-cn:s3:::b"]
    templated = {"Resource": {"Fn::Sub": "arn:${AWS::Partition}:states:::s3:listObjectsV2"}, "Parameters": {"Bucket": "b"}}
    template = _cloudformation({"StateMachineName": "m"}, _distributed(templated))
    result = _generate(run_cli, tmp_path, "template.json", template)
    assert _statements(result)["DistributedMapItemReaderList"]["Resource"] == ["arn:aws:s3:::b"]
    assert result.err == ""


def test_an_unknown_item_reader_is_an_error_at_its_line(run_cli, tmp_path):
    reader = {"Resource": "arn:aws:states:::s3:getObjects", "Parameters": {"Bucket": "b", "Key": "k"}}
    result = _generate(run_cli, tmp_path, "m.asl.json", _distributed(reader))
    assert result.code == 2
    assert "m.asl.json:1:" in result.err
    assert "(at /States/Each/ItemReader/Resource): state 'Each': ItemReader.Resource 'arn:aws:states:::s3:getObjects' is no ItemReader policygen knows" in result.err


def test_tracing_enabled_as_a_string(run_cli, tmp_path):
    result = _generate(run_cli, tmp_path, "template.json", _cloudformation({"TracingConfiguration": {"Enabled": "True"}}, PASS_ONLY))
    assert _statements(result)["XRayTracing"]["Action"] == XRAY_ACTIONS


def test_a_name_from_a_parameter_default(run_cli, tmp_path):
    template = json.loads(_cloudformation({"StateMachineName": {"Ref": "MachineName"}}, _distributed()))
    template["Parameters"]["MachineName"] = {"Type": "String", "Default": "from-default"}
    statements = _statements(_generate(run_cli, tmp_path, "template.json", json.dumps(template)))
    assert statements["DistributedMapStartChildren"]["Resource"] == ["arn:aws:states:us-east-1:123456789012:stateMachine:from-default"]


def test_a_key_of_the_template_keeps_its_reference_in_cloudformation_output(run_cli, tmp_path):
    template = json.loads(_cloudformation({"StateMachineName": "m", "EncryptionConfiguration": {"Type": "CUSTOMER_MANAGED_KMS_KEY", "KmsKeyId": {"Fn::GetAtt": ["Key", "Arn"]}}}, PASS_ONLY))
    template["Resources"]["Key"] = {"Type": "AWS::KMS::Key"}
    path = _write(tmp_path, "template.json", template)
    result = run_cli("generate", str(path), "--format", "cloudformation")
    assert result.code == 0, result.err
    assert "                  - !GetAtt Key.Arn\n" in result.out
    template["Resources"]["Pipeline"]["Properties"]["EncryptionConfiguration"]["KmsKeyId"] = {"Ref": "Key"}
    path = _write(tmp_path, "template.json", template)
    result = run_cli("generate", str(path), "--format", "cloudformation")
    assert '- !Sub "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/${Key}"' in result.out
    # JSON output cannot name it: the documented fallback, with a warning.
    statements = _statements(run_cli("generate", str(path), *TARGET))
    assert statements["StateMachineKey"]["Resource"] == ["arn:aws:kms:us-east-1:123456789012:key/*"]


def _write(tmp_path, name: str, content) -> object:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def test_a_bucket_of_the_template_by_its_ref(run_cli, tmp_path):
    reader = {"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Bucket": {"Ref": "Intake"}}}
    template = json.loads(_cloudformation({"StateMachineName": "m"}, _distributed(reader)))
    template["Resources"]["Intake"] = {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "order-intake"}}
    path = _write(tmp_path, "template.json", template)
    result = run_cli("generate", str(path), "--format", "cloudformation")
    assert result.code == 0, result.err
    assert '- !Sub "arn:${AWS::Partition}:s3:::${Intake}"' in result.out
    assert _statements(run_cli("generate", str(path), *TARGET))["DistributedMapItemReaderList"]["Resource"] == ["arn:aws:s3:::order-intake"]
    del template["Resources"]["Intake"]["Properties"]
    result = run_cli("generate", str(_write(tmp_path, "template.json", template)), *TARGET)
    assert _statements(result)["DistributedMapItemReaderList"]["Resource"] == ["arn:aws:s3:::*"]
    assert "ItemReader.Parameters.Bucket is only known at deploy time (${Intake})" in result.err


def test_a_policy_variable_in_a_bucket_is_not_written_as_a_name(run_cli, tmp_path):
    reader = {"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Bucket": "in-${aws:username}"}}
    template = _cloudformation({"StateMachineName": "m"}, _distributed(reader))
    result = _generate(run_cli, tmp_path, "template.json", template)
    assert _statements(result)["DistributedMapItemReaderList"]["Resource"] == ["arn:aws:s3:::*"]
    assert "holds a wildcard or a policy variable ('in-${aws:username}')" in result.err


def test_a_connection_of_the_template_names_its_own_secret_in_cloudformation_output(run_cli, tmp_path):
    parameters = {"ApiEndpoint": "https://x.example.com", "Method": "GET", "Authentication": {"ConnectionArn": {"Fn::GetAtt": ["Api", "Arn"]}}}
    template = json.loads(_cloudformation({"StateMachineName": "m"}, _http(parameters)))
    template["Resources"]["Api"] = {"Type": "AWS::Events::Connection", "Properties": {"AuthorizationType": "API_KEY"}}
    path = _write(tmp_path, "template.json", template)
    result = run_cli("generate", str(path), "--format", "cloudformation")
    assert result.code == 0, result.err
    assert "- Sid: \"HttpTaskConnectionCredentials\"" in result.out and "                  - !GetAtt Api.Arn\n" in result.out
    assert "                  - !GetAtt Api.SecretArn\n" in result.out
    statements = _statements(run_cli("generate", str(path), *TARGET))
    assert statements["HttpTaskConnectionSecret"]["Resource"] == ["arn:aws:secretsmanager:us-east-1:123456789012:secret:events!connection/*"]


def test_the_features_left_out_for_a_kind_of_occurrence_never_hold_for_it():
    """machine_feature_needs tests only the features whose `when` can hold for each occurrence (a
    definition has thousands of Map states): every feature it skips must be one _holds rejects."""
    from policygen import pipeline
    from policygen.requirements import machine_needs
    from policygen.requirements.machine_table import machine_features

    machines = pipeline.load_state_machines(["fixtures/inputs/cloudformation/machine-features.yaml"]).machines
    scanned = pipeline.scan_machines(machines)
    occurrences = [*scanned.features, *scanned.services]
    kinds = {machine_needs._occurrence_kind(occurrence) for occurrence in occurrences}
    assert kinds == {"map", "machine", "task"}  # the fixture has each kind
    for occurrence in occurrences:
        tested = machine_needs._features_for(machine_needs._occurrence_kind(occurrence))
        for feature in machine_features():
            if feature not in tested:
                assert machine_needs._holds(feature.when, occurrence) is False, (feature.id, occurrence.path)
    assert any(machine_needs._holds(f.when, o) is True for o in occurrences for f in machine_features())
