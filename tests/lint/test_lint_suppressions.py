"""In-source suppressions: `Metadata.policygen.ignore` on a state machine, role or policy resource
suppresses the findings of those rules located on that resource, reported as suppressed."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
TARGET = ("--region", "us-east-1", "--account", "123456789012")

TEMPLATE = """\
Resources:
  Machine:
    Type: AWS::StepFunctions::StateMachine
{machine_metadata}    Properties:
      RoleArn: !GetAtt Role.Arn
      Definition:
        StartAt: Run
        States:
          Run:
            Type: Task
            Resource: arn:aws:states:::batch:submitJob.sync
            Parameters:
              JobName: run
              JobQueue: arn:aws:batch:us-east-1:123456789012:job-queue/q
              JobDefinition: arn:aws:batch:us-east-1:123456789012:job-definition/d
            End: true
  Role:
    Type: AWS::IAM::Role
{role_metadata}    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {{Service: states.amazonaws.com}}
            Action: sts:AssumeRole
  Policy:
    Type: AWS::IAM::Policy
{policy_metadata}    Properties:
      PolicyName: p
      Roles: [!Ref Role]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: batch:SubmitJob
            Resource: "*"
"""


ALL = ["PG101"] * 5 + ["PG302", "PG301"]  # the .sync state lacks five actions; the trust policy; the policy


def metadata(*entries: str) -> str:
    return "    Metadata:\n      policygen:\n        ignore:\n" + "".join(f"          - {entry}\n" for entry in entries)


def template(tmp_path: Path, machine: str = "", role: str = "", policy: str = "") -> str:
    path = tmp_path / "stack.yaml"
    path.write_text(TEMPLATE.format(machine_metadata=machine, role_metadata=role, policy_metadata=policy), encoding="utf-8")
    return str(path)


def rule_ids(findings) -> list[str]:
    return [finding["ruleId"] for finding in findings]


def test_without_suppressions_the_template_has_these_findings(run_cli, tmp_path):
    report = json.loads(run_cli("lint", template(tmp_path), *TARGET, "--format", "json").out)
    assert rule_ids(report["findings"]) == ALL and "suppressed" not in report


def test_suppressed_findings_are_left_out_and_counted(run_cli, tmp_path):
    path = template(tmp_path, role=metadata('{id: PG302, reason: "assumed by one state machine of this account"}'),
                     policy=metadata("{id: PG301, reason: queues are created at run time}"))
    result = run_cli("lint", path, *TARGET)
    assert result.code == 1  # the PG101 errors are not suppressed
    lines = result.out.splitlines()
    assert [line.split()[1] for line in lines[:-1]] == ["PG101"] * 5
    assert lines[-1] == "5 findings: 5 errors; 2 suppressed"
    assert result.err == ""


def test_json_lists_the_suppressed_findings_with_their_reason(run_cli, tmp_path):
    path = template(tmp_path, role=metadata('{id: PG302, reason: "assumed by one state machine of this account"}'))
    report = json.loads(run_cli("lint", path, *TARGET, "--format", "json").out)
    assert rule_ids(report["findings"]) == ["PG101"] * 5 + ["PG301"]
    (entry,) = report["suppressed"]
    assert entry["ruleId"] == "PG302"
    assert entry["suppression"]["reason"] == "assumed by one state machine of this account"
    assert entry["suppression"]["resource"] == "Role"
    assert entry["suppression"]["location"]["pointer"] == "/Resources/Role/Metadata/policygen/ignore/0"
    assert report["summary"] == {"error": 5, "warning": 0, "suggestion": 1}


def test_sarif_marks_the_suppressed_results_in_source(run_cli, tmp_path):
    path = template(tmp_path, policy=metadata("{id: PG301, reason: queues are created at run time}"))
    log = json.loads(run_cli("lint", path, *TARGET, "--format", "sarif").out)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    results = log["runs"][0]["results"]
    assert [(r["ruleId"], "suppressions" in r) for r in results] == [(i, False) for i in ALL[:-1]] + [("PG301", True)]
    (suppression,) = results[-1]["suppressions"]
    assert suppression["kind"] == "inSource" and suppression["justification"] == "queues are created at run time"


def test_a_suppression_covers_only_its_own_resource(run_cli, tmp_path):
    # PG301 is located on the policy resource: the role's suppression does not reach it.
    path = template(tmp_path, role=metadata("{id: PG301, reason: not here}"), machine=metadata("{id: PG302, reason: nor here}"))
    report = json.loads(run_cli("lint", path, *TARGET, "--format", "json").out)
    assert rule_ids(report["findings"]) == ALL and "suppressed" not in report


def test_suppressing_every_error_on_the_state_machine_passes_the_run(run_cli, tmp_path):
    path = template(tmp_path, machine=metadata("{id: PG101, reason: granted by a policy outside this stack}"))
    result = run_cli("lint", path, *TARGET)
    assert result.code == 0 and "PG101" not in result.out and result.out.endswith("2 suggestions; 5 suppressed\n")


def test_a_suppression_without_a_reason_suppresses_with_a_warning(run_cli, tmp_path):
    path = template(tmp_path, role=metadata("{id: PG302}"))
    result = run_cli("lint", path, *TARGET)
    assert "PG302" not in result.out and result.out.endswith("; 1 suppressed\n")
    assert "warning:" in result.err and "suppression of PG302 on Role gives no reason" in result.err
    assert "/Resources/Role/Metadata/policygen/ignore/0" in result.err
    log = json.loads(run_cli("lint", path, *TARGET, "--format", "sarif").out)
    (suppressed,) = [r for r in log["runs"][0]["results"] if "suppressions" in r]
    assert "justification" not in suppressed["suppressions"][0]


@pytest.mark.parametrize(
    "entry, message",
    [
        ("{id: PG999, reason: typo}", "unknown rule 'PG999'"),
        ("PG302", "expected {id: PGxxx"),
        ("{rule: PG302, reason: wrong key}", "expected {id: PGxxx"),
    ],
)
def test_an_unknown_or_malformed_suppression_suppresses_nothing_with_a_warning(run_cli, tmp_path, entry, message):
    result = run_cli("lint", template(tmp_path, role=metadata(entry)), *TARGET, "--format", "json")
    report = json.loads(result.out)
    assert rule_ids(report["findings"]) == ALL and "suppressed" not in report
    assert "warning:" in result.err and message in result.err


def test_metadata_on_another_resource_type_is_a_warning(run_cli, tmp_path):
    path = template(tmp_path)
    text = Path(path).read_text(encoding="utf-8") + (
        "  Queue:\n    Type: AWS::SQS::Queue\n" + metadata("{id: PG302, reason: wrong place}")
    )
    Path(path).write_text(text, encoding="utf-8")
    result = run_cli("lint", path, *TARGET, "--format", "json")
    assert rule_ids(json.loads(result.out)["findings"]) == ALL
    assert "Queue (AWS::SQS::Queue) suppresses nothing" in result.err


def test_sam_state_machine_suppresses_findings_on_its_inline_policies(run_cli, tmp_path):
    # fixtures/lint/templates/sam.yaml: Flow's inline statement names batch:SubmitJobs (PG104).
    text = (ROOT / "fixtures" / "lint" / "templates" / "sam.yaml").read_text(encoding="utf-8")
    path = tmp_path / "sam.yaml"
    path.write_text(text.replace(
        "  Flow:\n    Type: AWS::Serverless::StateMachine\n",
        "  Flow:\n    Type: AWS::Serverless::StateMachine\n" + metadata("{id: PG104, reason: fixed upstream}"),
    ), encoding="utf-8")
    before = json.loads(run_cli("lint", str(ROOT / "fixtures" / "lint" / "templates" / "sam.yaml"), "--format", "json").out)
    after = json.loads(run_cli("lint", str(path), "--format", "json").out)
    assert "PG104" in rule_ids(before["findings"]) and "PG104" not in rule_ids(after["findings"])
    assert rule_ids(after["suppressed"]) == ["PG104"]
    assert len(after["findings"]) == len(before["findings"]) - 1


def test_cdk_metadata_in_a_cloud_assembly_suppresses(run_cli, tmp_path):
    # What `(role.node.defaultChild as CfnResource).addMetadata("policygen", {...})` synthesises.
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    definition = {"StartAt": "Run", "States": {"Run": {
        "Type": "Task", "Resource": "arn:aws:states:::batch:submitJob", "End": True,
        "Parameters": {"JobName": "run", "JobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/q",
                       "JobDefinition": "arn:aws:batch:us-east-1:123456789012:job-definition/d"}}}}
    stack = {"Resources": {
        "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "DefinitionString": json.dumps(definition), "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]}}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": trust},
                 "Metadata": {"policygen": {"ignore": [{"id": "PG302", "reason": "one machine, one account"}]}}},
        "Policy": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyName": "p", "Roles": [{"Ref": "Role"}],
                   "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                       {"Effect": "Allow", "Action": "batch:SubmitJob", "Resource": "*"}]}}},
    }}
    out = tmp_path / "cdk.out"
    out.mkdir()
    (out / "cdk.out").write_text('{"version": "36.0.0"}', encoding="utf-8")
    (out / "Stack.template.json").write_text(json.dumps(stack, indent=1), encoding="utf-8")
    report = json.loads(run_cli("lint", str(out), *TARGET, "--format", "json").out)
    assert rule_ids(report["findings"]) == ["PG301"] and rule_ids(report["suppressed"]) == ["PG302"]
