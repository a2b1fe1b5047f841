"""scan/features.py and scan/machine_properties.py: the Map states and the machine resource's
properties are recorded with where they are, whatever source the machine came from."""

from __future__ import annotations

import json

from policygen import pipeline
from policygen.scan.features import FeatureKind
from policygen.scan.machine_properties import NO_OPTIONS, MachineOptions, described_properties

MAP = {
    "StartAt": "Outer",
    "States": {
        "Outer": {
            "Type": "Parallel",
            "Branches": [{
                "StartAt": "Each",
                "States": {"Each": {
                    "Type": "Map",
                    "ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Bucket": "b"}},
                    "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                    "End": True,
                }},
            }],
            "End": True,
        }
    },
}


def _scan(tmp_path, name: str, content: str, options: MachineOptions = NO_OPTIONS):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return pipeline.scan_machines(pipeline.load_state_machines([str(path)]).machines, options)


def test_a_map_state_in_a_branch_and_the_machine_itself(tmp_path):
    scanned = _scan(tmp_path, "m.asl.json", json.dumps(MAP))
    assert [(f.kind, f.path, f.pointer) for f in scanned.features] == [
        (FeatureKind.MAP_STATE, "Outer/branch[0]/Each", "/States/Outer/Branches/0/States/Each"),
        (FeatureKind.STATE_MACHINE, "(state machine)", ""),
    ]
    (bucket,) = scanned.features[0].field_values("ItemReader.Parameters.Bucket")
    assert (bucket.text, bucket.pointer) == ("b", "/States/Outer/Branches/0/States/Each/ItemReader/Parameters/Bucket")
    assert scanned.features[1].field_values("LoggingConfiguration.Level") == ()


def test_jsonata_reads_arguments_for_parameters(tmp_path):
    definition = json.loads(json.dumps(MAP))
    definition["QueryLanguage"] = "JSONata"
    reader = definition["States"]["Outer"]["Branches"][0]["States"]["Each"]["ItemReader"]
    reader["Arguments"] = reader.pop("Parameters")
    (bucket,) = _scan(tmp_path, "m.asl.json", json.dumps(definition)).features[0].field_values("ItemReader.Parameters.Bucket")
    assert bucket.pointer.endswith("/ItemReader/Arguments/Bucket")


def test_flags_describe_a_plain_asl_machine(tmp_path):
    options = MachineOptions(name="n", logging=True, tracing=True, kms_key="k")
    machine = _scan(tmp_path, "m.asl.json", json.dumps(MAP), options).features[-1]
    values = {path: (value.text, value.field) for path, value in machine.properties.values.items()}
    assert values == {
        "StateMachineName": ("n", "--state-machine-name"),
        "LoggingConfiguration.Level": ("ALL", "--logging"),
        "TracingConfiguration.Enabled": ("true", "--tracing"),
        "EncryptionConfiguration.Type": ("CUSTOMER_MANAGED_KMS_KEY", "--kms-key"),
        "EncryptionConfiguration.KmsKeyId": ("k", "--kms-key"),
    }


def test_properties_of_each_source_are_found_where_they_are(tmp_path):
    sam = {"Transform": "AWS::Serverless-2016-10-31", "Resources": {"M": {"Type": "AWS::Serverless::StateMachine", "Properties": {
        "Name": "s", "Tracing": {"Enabled": True}, "Definition": MAP}}}}
    machine = _scan(tmp_path, "t.json", json.dumps(sam)).features[-1]
    assert machine.properties.values["TracingConfiguration.Enabled"].pointer == "/Resources/M/Properties/Tracing/Enabled"
    assert machine.machine_name.text == "s"
    plan = {"format_version": "1.2", "planned_values": {"root_module": {"resources": [{
        "address": "aws_sfn_state_machine.m", "type": "aws_sfn_state_machine",
        "values": {"name": "p", "definition": json.dumps(MAP), "tracing_configuration": [{"enabled": True}]}}]}}}
    machine = _scan(tmp_path, "plan.json", json.dumps(plan)).features[-1]
    assert machine.properties.values["TracingConfiguration.Enabled"].pointer == "/planned_values/root_module/resources/0/values/tracing_configuration/0/enabled"
    assert machine.machine_name.text == "p"


def test_scan_whole_role_still_returns_the_tasks(tmp_path):
    path = tmp_path / "m.asl.json"
    path.write_text(json.dumps(MAP), encoding="utf-8")
    batch, services = pipeline.scan_whole_role(pipeline.load_state_machines([str(path)]).machines)
    assert (batch, services) == ([], [])


def test_a_deployed_machine_s_properties_are_what_describe_state_machine_answered():
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:m"
    answer = {
        "loggingConfiguration": {"level": "ERROR", "includeExecutionData": False},
        "tracingConfiguration": {"enabled": True},
        "encryptionConfiguration": {"type": "CUSTOMER_MANAGED_KMS_KEY", "kmsKeyId": "alias/sfn"},
    }
    described = described_properties(arn, "m", answer)
    assert {key: (value.text, value.field) for key, value in described.values.items()} == {
        "StateMachineName": ("m", "name"),
        "LoggingConfiguration.Level": ("ERROR", "loggingConfiguration.level"),
        "TracingConfiguration.Enabled": ("true", "tracingConfiguration.enabled"),
        "EncryptionConfiguration.Type": ("CUSTOMER_MANAGED_KMS_KEY", "encryptionConfiguration.type"),
        "EncryptionConfiguration.KmsKeyId": ("alias/sfn", "encryptionConfiguration.kmsKeyId"),
    }
    assert all(value.is_static for value in described.values.values())
    # What AWS leaves out (or answers in a form it never uses) is absent: no feature is assumed on.
    sparse = described_properties(arn, "m", {"loggingConfiguration": None, "tracingConfiguration": {"enabled": "yes"}})
    assert set(sparse.values) == {"StateMachineName"}
