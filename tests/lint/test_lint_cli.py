"""`policygen lint` end to end: exit codes, --fail-on, --ignore, the configuration file, template
input, usage and input errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "fixtures" / "lint"


def case_args(rule_id: str, kind: str) -> list[str]:
    case = CASES / rule_id / kind
    args = ["lint", str(case / "definition.asl.json"), "--policy", str(case / "policy.json")]
    if (case / "trust.json").exists():
        args += ["--trust-policy", str(case / "trust.json")]
    return args + ["--region", "us-east-1", "--account", "123456789012"]


def rule_ids(out: str) -> list[str]:
    return [finding["ruleId"] for finding in json.loads(out)["findings"]]


# --- exit codes


@pytest.mark.parametrize(
    "rule_id, fail_on, code",
    [
        ("PG101", None, 1), ("PG201", None, 0), ("PG201", "warning", 1), ("PG301", "warning", 0),
        ("PG301", "suggestion", 1), ("PG101", "suggestion", 1),
    ],
)
def test_exit_code_follows_fail_on(run_cli, rule_id, fail_on, code):
    args = case_args(rule_id, "bad") + (["--fail-on", fail_on] if fail_on else [])
    assert run_cli(*args).code == code


def test_ignore_drops_a_rule(run_cli):
    result = run_cli(*case_args("PG101", "bad"), "--ignore", "PG101", "--format", "json")
    assert (result.code, rule_ids(result.out)) == (0, [])


def test_ignore_of_an_unknown_rule_is_a_usage_error(run_cli):
    result = run_cli(*case_args("PG101", "bad"), "--ignore", "PG999")
    assert result.code == 2 and "unknown rule 'PG999'" in result.err


# --- configuration


def test_policygen_toml_ignores_per_rule_and_per_path(run_cli, tmp_path, monkeypatch):
    (tmp_path / ".policygen.toml").write_text(
        '[lint]\nfail-on = "warning"\n[lint.per-path-ignores]\n"legacy/*" = ["PG201"]\n', encoding="utf-8"
    )
    (tmp_path / "legacy").mkdir()
    policy = tmp_path / "legacy" / "policy.json"
    policy.write_text((CASES / "PG201" / "bad" / "policy.json").read_text(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    definition = str(CASES / "PG201" / "bad" / "definition.asl.json")
    assert run_cli("lint", definition, "--policy", "legacy/policy.json").code == 0
    other = tmp_path / "policy.json"
    other.write_text(policy.read_text(), encoding="utf-8")
    assert run_cli("lint", definition, "--policy", "policy.json").code == 1  # fail-on = "warning"


def test_pyproject_tool_policygen_lint(run_cli, tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.policygen.lint]\nignore = ["PG101"]\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run_cli(*case_args("PG101", "bad"), "--format", "json")
    assert (result.code, rule_ids(result.out)) == (0, [])


@pytest.mark.parametrize(
    "text, message",
    [
        ('[lint]\nignores = ["PG101"]\n', "unknown key 'ignores'"),
        ('[lint]\nignore = ["PG1O1"]\n', "unknown rule"),
        ('[lint]\nfail-on = "never"\n', "fail-on must be one of"),
        ("[lint\n", "not valid TOML"),
    ],
)
def test_bad_configuration_is_a_usage_error(run_cli, tmp_path, monkeypatch, text, message):
    (tmp_path / ".policygen.toml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run_cli(*case_args("PG101", "good"))
    assert result.code == 2 and message in result.err and ".policygen.toml" in result.err


def test_config_flag_names_the_file(run_cli, tmp_path):
    config = tmp_path / "lint.toml"
    config.write_text('[lint]\nignore = ["PG101"]\n', encoding="utf-8")
    assert run_cli(*case_args("PG101", "bad"), "--config", str(config)).code == 0


# --- input and usage errors


def test_definition_without_policy_is_a_usage_error(run_cli):
    result = run_cli("lint", str(CASES / "PG101" / "bad" / "definition.asl.json"))
    assert result.code == 2 and "--policy" in result.err


def test_trust_policy_without_policy_is_a_usage_error(run_cli):
    result = run_cli("lint", str(CASES / "PG204" / "good" / "template.yaml"), "--trust-policy", str(CASES / "PG105" / "bad" / "trust.json"))
    assert result.code == 2 and "--trust-policy goes with --policy" in result.err


def test_malformed_policy_is_an_input_error_with_its_location(run_cli, tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text('{"Version": "2012-10-17",\n "Statement": [{"Effect": "Permit", "Action": "*", "Resource": "*"}]}\n')
    result = run_cli("lint", str(CASES / "PG101" / "bad" / "definition.asl.json"), "--policy", str(policy))
    assert result.code == 2
    assert f"{policy}:2:" in result.err and "Effect must be" in result.err


def test_get_role_policy_output_is_read(run_cli, tmp_path):
    """`aws iam get-role-policy` wraps the document in PolicyDocument."""
    document = json.loads((CASES / "PG101" / "good" / "policy.json").read_text())
    wrapped = tmp_path / "policy.json"
    wrapped.write_text(json.dumps({"RoleName": "r", "PolicyName": "p", "PolicyDocument": document}))
    args = case_args("PG101", "good")
    args[args.index("--policy") + 1] = str(wrapped)
    assert run_cli(*args).code == 0


# --- region and account left open


def test_unknown_region_and_account_are_left_open_and_said(run_cli):
    args = case_args("PG101", "bad")[:-4]
    result = run_cli(*args)
    assert result.code == 1
    assert "arn:aws:events:<region>:<account>:rule/StepFunctionsGetEventsForBatchJobsRule" in result.out
    assert "(the account and region were not checked: pass --account and --region)" in result.out


def test_policy_for_another_region_is_found_with_the_region(run_cli):
    """REFERENCE.md §2: the managed rule lives in the state machine's region."""
    args = case_args("PG101", "good")
    args[args.index("--region") + 1] = "eu-west-1"
    result = run_cli(*args, "--format", "json")
    assert result.code == 1 and "PG103" in rule_ids(result.out)
    assert "region 'us-east-1', not 'eu-west-1'" in result.out


# --- templates


def test_template_role_is_linted_without_flags(run_cli):
    assert run_cli("lint", str(CASES / "PG204" / "good" / "template.yaml")).code == 0


@pytest.mark.parametrize(
    "role_arn",
    ["!Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${PipelineRole}", '!Sub "${PipelineRole.Arn}"'],
)
def test_template_role_arn_spelled_out_with_sub_is_the_template_role(run_cli, tmp_path, role_arn):
    """RoleArn built from the role's name (Ref of an AWS::IAM::Role is its name) names that role:
    it is linted, not reported as PG204."""
    template = tmp_path / "template.yaml"
    text = (CASES / "PG204" / "good" / "template.yaml").read_text()
    template.write_text(text.replace("RoleArn: !GetAtt PipelineRole.Arn", f"RoleArn: {role_arn}"))
    result = run_cli("lint", str(template), "--format", "json")
    assert (result.code, rule_ids(result.out)) == (0, [])


def test_template_messages_show_deploy_time_values_not_internal_placeholders(run_cli, tmp_path):
    """PG103's granted ARN and PG301's queue come from the template's ${AWS::Region} and !Ref Queue:
    messages show <region>/<Ref Queue>, never policygen's internal stand-ins."""
    template = tmp_path / "template.yaml"
    text = (CASES / "PG204" / "good" / "template.yaml").read_text()
    text = text.replace("rule/StepFunctionsGetEventsForBatchJobsRule", "rule/Other")
    text = text.replace("                  - !Ref Queue\n", "                  - \"*\"\n")
    template.write_text(text)
    messages = [f["message"] for f in json.loads(run_cli("lint", str(template), "--format", "json").out)["findings"]]
    assert sorted(m.split(" ")[0] for m in messages) == ["state", "statement"]  # PG103, PG301
    assert all("policygen-" not in m for m in messages), messages
    assert any("on arn:aws:events:<region>:<account>:rule/Other instead" in m for m in messages)
    assert any("job-queue/<Ref Queue>" in m for m in messages)


def test_fix_keeps_a_template_statement_as_the_template_writes_it(run_cli, tmp_path):
    """--fix on a template: an unflagged statement keeps its !Ref/!Sub (to go back into the
    template), not the stand-ins the linter evaluates them with (policygen-ref-Bucket is no bucket)."""
    template = tmp_path / "template.yaml"
    text = (CASES / "PG204" / "good" / "template.yaml").read_text()
    template.write_text(
        text + "              - Sid: Read\n                Effect: Allow\n                Action: s3:GetObject\n"
        "                Resource: !Sub arn:${AWS::Partition}:s3:::${Bucket}/*\n"
    )
    # No state of the template reads S3, so PG202 flags the statement (and --fix would drop it):
    # ignored here, where the subject is a statement --fix leaves alone.
    result = run_cli("lint", str(template), "--region", "us-east-1", "--account", "123456789012", "--fix", "--ignore", "PG202")
    assert result.code == 0, result.err
    assert "policygen-" not in result.out
    statements = {s.get("Sid"): s for s in json.loads(result.out)["Statement"]}
    assert statements["Read"]["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}/*"}
    assert {"Ref": "Queue"} in statements["Submit"]["Resource"]


@pytest.mark.parametrize(
    "policies",
    [
        "      Policies: !If [Prod, [], []]\n",
        "      Policies:\n        - PolicyName: batch\n          PolicyDocument:\n            Statement:\n"
        "              - !If [Prod, {Effect: Allow, Action: \"batch:*\", Resource: \"*\"}, !Ref AWS::NoValue]\n",
    ],
)
def test_template_policies_behind_fn_if_cannot_be_verified(run_cli, tmp_path, policies):
    """Fn::If around the Policies or a statement is valid CloudFormation: what the role allows
    is known at deploy time, so the needs are PG203, not an input error (exit 2) nor PG101."""
    template = tmp_path / "template.yaml"
    text = (CASES / "PG204" / "good" / "template.yaml").read_text()
    head, _ = text.split("      Policies:\n", 1)
    template.write_text("Conditions:\n  Prod: !Equals [!Ref AWS::Region, us-east-1]\n" + head + policies)
    result = run_cli("lint", str(template), "--format", "json")
    assert result.code == 0, result.err
    assert set(rule_ids(result.out)) == {"PG203"}
    assert "Fn::If" in json.loads(result.out)["findings"][0]["message"]


def test_fix_with_several_roles_is_a_usage_error(run_cli, tmp_path):
    template = tmp_path / "template.yaml"
    text = (CASES / "PG204" / "good" / "template.yaml").read_text()
    second = text.split("Resources:\n", 1)[1].replace("Pipeline", "Second").replace("  Queue:", "  Queue2:").replace("!Ref Queue", "!Ref Queue2")
    template.write_text(text + second)
    result = run_cli("lint", str(template), "--fix")
    assert result.code == 2 and "--state-machine" in result.err


def test_template_policies_attached_as_resources(run_cli):
    """AWS::IAM::Policy (Roles) and AWS::IAM::ManagedPolicy (ManagedPolicyArns: !Ref) are the
    role's policies; !GetAtt Queue.JobQueueArn is the same queue in the state and the policy."""
    result = run_cli("lint", str(CASES / "templates" / "attached.yaml"), "--format", "json")
    findings = json.loads(result.out)["findings"]
    assert [(f["ruleId"], "batch:TerminateJob" in f["message"]) for f in findings] == [("PG101", True)]


def test_sam_policies_templates_and_unreadable_managed_policies(run_cli):
    """SAM Policies: documents are read, policy templates grant no Batch permission, and an AWS
    managed policy policygen cannot read makes a missing permission PG203, not PG101."""
    result = run_cli("lint", str(CASES / "templates" / "sam.yaml"), "--format", "json")
    found = [(f["ruleId"], f["state"]["stateMachine"] if f["state"] else None) for f in json.loads(result.out)["findings"]]
    assert found == [("PG101", "Flow"), ("PG104", None), ("PG203", "Flow2")]


def test_terraform_roles_are_not_looked_up(run_cli):
    result = run_cli("lint", str(ROOT / "fixtures" / "inputs" / "terraform" / "plan.json"), "--format", "json")
    assert result.code == 0 and set(rule_ids(result.out)) == {"PG204"}


def test_help_names_option_values_not_python_types(run_cli):
    result = run_cli("lint", "--help")
    assert result.code == 0
    options = result.out.split("Options:", 1)[1]
    for shown in ("--policy FILE", "--trust-policy FILE", "--region REGION", "--account ACCOUNT", "-o, --output FILE",
                  "--ignore RULE", "--config FILE", "--state-machine NAME"):
        assert shown in options
    assert "<str>" not in options and "list[str]" not in options
    assert "Exit codes: 0" in result.out


@pytest.mark.parametrize("where", ["definition", "trust"])
def test_stdin_given_twice_is_a_usage_error(run_cli, where):
    """Before, the second reader found stdin drained and reported an "empty YAML document"."""
    case = CASES / "PG302" / "bad"
    args = ["lint", "-", "--policy", "-"] if where == "definition" else [
        "lint", str(case / "definition.asl.json"), "--policy", "-", "--trust-policy", "-"]
    result = run_cli(*args, stdin=(case / "policy.json").read_bytes())
    assert result.code == 2 and "stdin" in result.err and "more than once" in result.err
    assert len(result.err.splitlines()) == 1


def test_sam_policy_templates_may_grant_other_services_and_tracing_brings_x_ray(run_cli, tmp_path):
    # A SAM policy template (LambdaInvokePolicy) grants what SAM's table says, which policygen does
    # not read: a Lambda state's request is "cannot verify", never a PG101 IAM would not give. With
    # Tracing enabled SAM attaches AWSXrayWriteOnlyAccess, so X-Ray is granted.
    template = {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "Flow": {
                "Type": "AWS::Serverless::StateMachine",
                "Properties": {
                    "Definition": {"StartAt": "Call", "States": {"Call": {
                        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                        "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:f"}, "End": True}}},
                    "Policies": [{"LambdaInvokePolicy": {"FunctionName": "f"}}],
                    "Tracing": {"Enabled": True},
                },
            }
        },
    }
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template), encoding="utf-8")
    result = run_cli("lint", str(path), "--region", "us-east-1", "--account", "123456789012", "--format", "json")
    findings = json.loads(result.out)["findings"]
    assert [(f["ruleId"], f["state"]["path"] if f["state"] else None) for f in findings] == [("PG203", "Call")], result.out
    assert "the SAM policy template LambdaInvokePolicy" in findings[0]["message"]
    assert not any("xray:" in f["message"] for f in findings)
