"""`policygen lint --role`: roles read from IAM with boto3, against moto's server on 127.0.0.1
(offline), linted as if their documents had been given as files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto.server")

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "fixtures" / "lint"
DEFINITION = str(CASES / "PG103" / "bad" / "definition.asl.json")  # one Batch submitJob.sync state
TARGET = ["--region", "us-east-1", "--account", "123456789012"]
ACCOUNT = "123456789012"  # moto's default account
GOOD_TRUST = json.loads((CASES / "PG105" / "good" / "trust.json").read_text(encoding="utf-8"))
BAD_TRUST = json.loads((CASES / "PG105" / "bad" / "trust.json").read_text(encoding="utf-8"))
@pytest.fixture
def iam(aws_environment):
    """An IAM client on a freshly reset moto (tests/conftest.py), with the environment that points
    policygen at it."""
    return boto3.session.Session().client("iam")


@pytest.fixture(scope="module")
def generated() -> dict:
    """What `policygen generate` writes for DEFINITION: the correct policy."""
    from typer.testing import CliRunner

    from policygen.cli import app

    result = CliRunner().invoke(app, ["generate", DEFINITION, *TARGET])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def batch_only(policy: dict) -> dict:
    return {**policy, "Statement": [s for s in policy["Statement"] if s["Action"][0].startswith("batch:")]}


def create_role(iam, name: str, trust: dict = GOOD_TRUST, inline: dict[str, dict] | None = None, path: str = "/") -> str:
    arn = iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    for policy_name, document in (inline or {}).items():
        iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(document))
    return arn


def lint(run_cli, role: str, *extra: str):
    result = run_cli("lint", DEFINITION, "--role", role, *TARGET, "--format", "json", *extra)
    findings = json.loads(result.out)["findings"] if result.code in (0, 1) else None
    return result, findings


def summary(findings) -> list[tuple[str, list[str]]]:
    """(rule, the policies or the file it points at) per finding."""
    return [
        (f["ruleId"], [s["policy"] for s in f["statements"]] or [f["location"]["file"]]) for f in findings
    ]


# --- roles that lint as their documents would


def test_the_generated_policy_is_clean(iam, run_cli, generated):
    create_role(iam, "good", inline={"batch": generated})
    result, findings = lint(run_cli, "good")
    assert (result.code, findings, result.err) == (0, [], "")


def test_a_role_arn_with_a_path_is_read_by_its_name(iam, run_cli, generated):
    arn = create_role(iam, "pipeline", inline={"batch": generated}, path="/service-role/")
    assert arn == f"arn:aws:iam::{ACCOUNT}:role/service-role/pipeline"
    result, findings = lint(run_cli, arn)
    assert (result.code, findings) == (0, [])


def test_missing_events_permissions(iam, run_cli, generated):
    create_role(iam, "no-events", inline={"batch": batch_only(generated)})
    result, findings = lint(run_cli, "no-events")
    assert result.code == 1
    assert {f["ruleId"] for f in findings} == {"PG101"}
    assert all("events:" in f["message"] for f in findings)


def test_events_permissions_on_the_wrong_rule(iam, run_cli):
    wrong = json.loads((CASES / "PG103" / "bad" / "policy.json").read_text(encoding="utf-8"))
    create_role(iam, "wrong-rule", inline={"runner": wrong})
    result, findings = lint(run_cli, "wrong-rule")
    assert (result.code, summary(findings)) == (1, [("PG103", ["iam:role/wrong-rule/inline/runner"])])


def test_only_the_default_version_of_a_managed_policy_counts(iam, run_cli, generated):
    create_role(iam, "managed")
    arn = iam.create_policy(PolicyName="runner", PolicyDocument=json.dumps(batch_only(generated)))["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(generated), SetAsDefault=False)
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(batch_only(generated)), SetAsDefault=False)
    iam.attach_role_policy(RoleName="managed", PolicyArn=arn)
    result, findings = lint(run_cli, "managed")
    assert result.code == 1 and {f["ruleId"] for f in findings} == {"PG101"}  # v1, the default
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v2")
    result, findings = lint(run_cli, "managed")
    assert (result.code, findings) == (0, [])


def test_inline_and_attached_policies_are_one_role_and_every_page_is_read(iam, run_cli, generated, monkeypatch):
    from botocore.paginate import Paginator

    create_role(iam, "split")
    for index, statement in enumerate(generated["Statement"]):
        arn = iam.create_policy(PolicyName=f"part{index}", PolicyDocument=json.dumps({**generated, "Statement": [statement]}))["Policy"]["Arn"]
        iam.attach_role_policy(RoleName="split", PolicyArn=arn)
    original = Paginator.paginate
    monkeypatch.setattr(Paginator, "paginate", lambda self, **kw: original(self, PaginationConfig={"PageSize": 1}, **kw))
    result, findings = lint(run_cli, "split")
    assert (result.code, findings) == (0, [])
    # A finding names the attached policy by its ARN.
    iam.put_role_policy(RoleName="split", PolicyName="a", PolicyDocument=json.dumps({**generated, "Statement": [{"Effect": "Allow", "Action": "batch:*", "Resource": "*"}]}))
    result, findings = lint(run_cli, "split", "--fail-on", "suggestion")
    assert result.code == 1
    assert "iam:role/split/inline/a" in {s["policy"] for f in findings for s in f["statements"]}


def test_a_trust_policy_without_states(iam, run_cli, generated):
    create_role(iam, "lambda-role", trust=BAD_TRUST, inline={"batch": generated})
    result, findings = lint(run_cli, "lambda-role")
    assert (result.code, summary(findings)) == (1, [("PG105", ["iam:role/lambda-role/trust"])])


def test_text_output_names_the_policy(iam, run_cli, generated):
    create_role(iam, "text", inline={"batch": batch_only(generated)})
    result = run_cli("lint", DEFINITION, "--role", "text", *TARGET)
    assert result.code == 1 and "PG101" in result.out


# --- errors: one line, exit 2


def one_line_error(result) -> str:
    assert result.code == 2 and result.out == ""
    assert result.err.count("\n") == 1, result.err
    return result.err


def test_an_unknown_role(iam, run_cli):
    err = one_line_error(run_cli("lint", DEFINITION, "--role", "nobody", *TARGET))
    assert "iam:role/nobody" in err and "does not exist" in err


def test_no_credentials(iam, run_cli, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    err = one_line_error(run_cli("lint", DEFINITION, "--role", "anyone", *TARGET))
    assert "iam:role/anyone" in err and "credentials" in err


def test_an_unreachable_endpoint(iam, run_cli, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_IAM", "http://127.0.0.1:9")  # discard port: refused
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    err = one_line_error(run_cli("lint", DEFINITION, "--role", "anyone", *TARGET))
    assert "iam:role/anyone" in err and "127.0.0.1:9" in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--role", "r", "--policy", str(CASES / "PG103" / "bad" / "policy.json")], "either --role or --policy"),
        (["--role", "r", "--trust-policy", str(CASES / "PG105" / "good" / "trust.json")], "either --role or --policy"),
        (["--role", "arn:aws:iam::123456789012:user/r"], "a role name or a role ARN"),
    ],
)
def test_usage_errors(run_cli, args, message):
    err = one_line_error(run_cli("lint", DEFINITION, *args))
    assert message in err


def test_without_boto3(run_cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "boto3", None)  # import boto3 raises ImportError
    err = one_line_error(run_cli("lint", DEFINITION, "--role", "r"))
    assert "pip install 'policygen[live]'" in err


def test_a_permissions_boundary_is_named_in_a_warning(iam, run_cli, generated):
    create_role(iam, "bounded", inline={"batch": generated})
    arn = iam.create_policy(PolicyName="boundary", PolicyDocument=json.dumps(generated))["Policy"]["Arn"]
    iam.put_role_permissions_boundary(RoleName="bounded", PermissionsBoundary=arn)
    result, findings = lint(run_cli, "bounded")
    assert (result.code, findings) == (0, [])
    assert f"permissions boundary {arn} is not checked" in result.err


def test_a_live_role_is_linted_for_every_integration(iam, run_cli):
    """--role reads the role's statements for other services as it reads Batch's."""
    folder = CASES / "whole-role"
    policy = json.loads((folder / "expected-policy.json").read_text(encoding="utf-8"))
    arn = create_role(iam, "whole", inline={"whole": policy})
    result = run_cli("lint", str(folder / "definition.asl.json"), "--role", arn, *TARGET)
    assert (result.code, result.out) == (0, "no findings\n"), result.out + result.err
    cut = {**policy, "Statement": [s for s in policy["Statement"] if s["Sid"] != "SnsPublish"]}
    arn = create_role(iam, "cut", inline={"whole": cut})
    result = run_cli("lint", str(folder / "definition.asl.json"), "--role", arn, *TARGET)
    assert result.code == 1
    assert " PG101 error state 'Notify' (sns:publish) needs sns:Publish on arn:aws:sns:us-east-1:123456789012:done," in result.out
