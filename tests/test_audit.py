"""`policygen audit` against moto's server on 127.0.0.1 (tests/conftest.py): fleets of state machines
in two regions and two accounts, shared and per-machine roles, a role deleted mid-audit, machines
deleted between list and describe, access denied, and injected throttling."""

from __future__ import annotations

import itertools
import json
import threading
from pathlib import Path

import pytest

boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto.server")

from audit_fleet import OTHER_ACCOUNT, OWN_ACCOUNT, Fleet, deploy  # noqa: E402  (tests/ is on sys.path)

from policygen.audit import AuditOptions, run_audit  # noqa: E402
from policygen.audit import aws as audit_aws  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SIXTY = {"good": 20, "missing": 20, "plain": 20}
MIXED = {"good": True, "missing": False, "plain": True}  # which kinds share one role


@pytest.fixture
def aws(aws_environment):
    return aws_environment


@pytest.fixture
def fast_backoff(monkeypatch):
    """botocore's waits scaled down, its retry decisions kept: the backoff base (1 s for
    throttling) to 5 ms, and the adaptive mode's floor rate (0.5 requests/s, which a steady 20 %
    of throttled answers drives it to) to 500/s, so the test takes seconds, not minutes."""
    from botocore.retries.bucket import TokenBucket
    from botocore.retries.standard import ExponentialBackoff

    monkeypatch.setattr(ExponentialBackoff, "_DEFAULT_BACKOFF_CONFIG", {"throttling_base_scale": 0.005, "non_throttling_base_scale": 0.005})
    monkeypatch.setattr(TokenBucket.__init__, "__defaults__", (500.0,))


def hook_sessions(monkeypatch, register):
    """Every session the audit makes gets `register(session)` called on it (its event hooks)."""
    original = audit_aws.new_session

    def new_session(*args, **kwargs):
        session = original(*args, **kwargs)
        register(session)
        return session

    monkeypatch.setattr(audit_aws, "new_session", new_session)


def audit_json(run_cli, *args: str):
    result = run_cli("audit", "--format", "json", *args)
    assert result.code in (0, 1), result.err
    return result, json.loads(result.out)


def errors_by_resource(report: dict) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for finding in report["findings"]:
        if finding["severity"] == "error":
            found.setdefault(finding["resource"], set()).add(finding["ruleId"])
    return found


# --- the issue's acceptance case


def test_sixty_machines_twenty_errors(aws, run_cli):
    fleet = deploy(Fleet(), OWN_ACCOUNT, "us-east-1", SIXTY, MIXED)
    result, report = audit_json(run_cli, "--region", "us-east-1")
    assert result.code == 1
    assert report["summary"]["listed"] == report["summary"]["audited"] == 60
    assert report["summary"]["unreadable"] == 0
    assert {m["arn"] for m in report["stateMachines"]} == set(fleet.kinds)
    errors = errors_by_resource(report)
    assert set(errors) == fleet.of_kind("missing") and all(rules == {"PG101"} for rules in errors.values())
    assert all("batch:DescribeJobs" in f["message"] for f in report["findings"] if f["severity"] == "error")
    assert report["findings"] == [f for f in report["findings"] if f["resource"] in fleet.of_kind("missing")]
    # The same audit, the same bytes.
    assert run_cli("audit", "--format", "json", "--region", "us-east-1").out == result.out


def test_clean_fleet_exits_zero_and_text_counts_every_machine(aws, run_cli):
    deploy(Fleet(), OWN_ACCOUNT, "us-east-1", {"good": 3, "plain": 2}, MIXED)
    result = run_cli("audit", "--region", "us-east-1")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[-1] == "audit: 5 state machines listed, 5 audited, 0 unreadable; no findings"
    assert sum(1 for line in lines if line.endswith(": audited")) == 5
    assert result.err == ""  # no progress bar: stderr is not a terminal


# --- scale: two regions, two accounts, roles read once


def test_hundreds_of_machines_in_two_regions_and_two_accounts(aws, run_cli, monkeypatch):
    fleet = Fleet()
    per_scope = {"good": 25, "missing": 25, "plain": 25}
    for account in (OWN_ACCOUNT, OTHER_ACCOUNT):
        for region in ("us-east-1", "eu-west-1"):
            deploy(fleet, account, region, per_scope, MIXED)
    assert len(fleet.kinds) == 300
    seen: list[tuple[str, str]] = []
    lock = threading.Lock()

    def record(model, **_):
        with lock:
            seen.append((model.service_model.service_name, model.name))

    hook_sessions(monkeypatch, lambda session: session.events.register("before-call", record))
    outcome = run_audit(
        AuditOptions(regions=("us-east-1", "eu-west-1"), assume_role="auditor", accounts=(OWN_ACCOUNT, OTHER_ACCOUNT), concurrency=8),
        "json",
    )
    report = json.loads(outcome.text)
    assert report["summary"]["listed"] == report["summary"]["audited"] == 300
    assert report["summary"]["accounts"] == sorted([OWN_ACCOUNT, OTHER_ACCOUNT])
    assert set(errors_by_resource(report)) == fleet.of_kind("missing")
    assert {m["account"] for m in report["stateMachines"]} == {OWN_ACCOUNT, OTHER_ACCOUNT}
    # Each role read once: as many GetRole calls as distinct roles, however many machines share one.
    calls = outcome.collected.counter.calls
    assert calls["iam:GetRole"] == len(fleet.roles) < len(fleet.kinds)
    assert calls["states:DescribeStateMachine"] == 300
    assert calls["sts:AssumeRole"] == 2
    # Every boto3 call the audit made is in the table --print-required-policy is made from.
    table = {(call.service, call.operation) for call in audit_aws.CALLS}
    assert seen and set(seen) <= table, set(seen) - table


def test_a_call_outside_the_table_is_refused_before_it_is_sent(aws):
    clients = audit_aws.Clients(audit_aws.new_session(), audit_aws.CallCounter.new(), 1)
    with pytest.raises(audit_aws.UnlistedCall, match="iam:ListRoles"):
        clients.client("iam").list_roles()
    assert audit_aws.action_of("iam", "GetRole") == "iam:GetRole"


def test_the_organization_s_active_accounts(aws, run_cli, monkeypatch):
    organizations = boto3.session.Session().client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    created = organizations.create_account(Email="team@example.com", AccountName="team")["CreateAccountStatus"]["AccountId"]
    fleet = deploy(Fleet(), OWN_ACCOUNT, "us-east-1", {"missing": 2}, MIXED)
    result, report = audit_json(run_cli, "--organization", "--assume-role", "arn:aws:iam::{account}:role/auditor", "--region", "us-east-1")
    assert result.code == 1
    assert report["summary"]["accounts"] == sorted([OWN_ACCOUNT, created])
    assert set(errors_by_resource(report)) == fleet.of_kind("missing")


def test_all_regions(aws, run_cli):
    east = deploy(Fleet(), OWN_ACCOUNT, "us-east-1", {"missing": 1}, MIXED)
    west = deploy(Fleet(), OWN_ACCOUNT, "eu-west-1", {"missing": 1}, MIXED)
    result, report = audit_json(run_cli, "--all-regions")
    assert result.code == 1
    assert {"us-east-1", "eu-west-1"} <= set(report["summary"]["regions"])
    assert set(errors_by_resource(report)) == east.of_kind("missing") | west.of_kind("missing")


# --- faults: nothing lost, nothing skipped silently


def test_a_role_deleted_mid_audit_is_a_finding_for_its_machines_and_the_audit_goes_on(aws, run_cli, monkeypatch):
    fleet = deploy(Fleet(), OWN_ACCOUNT, "us-east-1", SIXTY, MIXED)
    iam = boto3.session.Session().client("iam")
    deleted: list[str] = []
    lock = threading.Lock()

    def delete_role_after_first_describe(parsed, **_):
        with lock:
            if deleted:
                return
            role_arn = parsed["roleArn"]
            name = role_arn.rsplit("/", 1)[1]
            for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
                iam.delete_role_policy(RoleName=name, PolicyName=policy)
            iam.delete_role(RoleName=name)
            deleted.append(role_arn)

    hook_sessions(monkeypatch, lambda s: s.events.register("after-call.sfn.DescribeStateMachine", delete_role_after_first_describe))
    result, report = audit_json(run_cli, "--region", "us-east-1", "--concurrency", "4")
    assert result.code == 1
    orphans = set(fleet.roles[deleted[0]])
    summary = report["summary"]
    assert (summary["listed"], summary["unreadable"], summary["audited"]) == (60, len(orphans), 60 - len(orphans))
    unreadable = [f for f in report["findings"] if f["ruleId"] == "PGA01"]
    assert {f["resource"] for f in unreadable} == orphans
    assert all(f["apiCall"] == "iam:GetRole" and deleted[0] in f["message"] and "NoSuchEntity" in f["message"] for f in unreadable)
    assert {m["arn"] for m in report["stateMachines"] if m["status"] == "unreadable"} == orphans


def test_a_machine_deleted_between_list_and_describe(aws, run_cli, monkeypatch):
    fleet = deploy(Fleet(), OWN_ACCOUNT, "us-east-1", {"good": 5}, MIXED)
    states = boto3.session.Session().client("stepfunctions")
    gone = sorted(fleet.kinds)[2]

    def delete_after_list(**_):
        states.delete_state_machine(stateMachineArn=gone)

    hook_sessions(monkeypatch, lambda s: s.events.register("after-call.sfn.ListStateMachines", delete_after_list))
    result, report = audit_json(run_cli, "--region", "us-east-1")
    assert result.code == 1
    assert report["summary"]["listed"] == 5 and report["summary"]["unreadable"] == 1
    [finding] = report["findings"]
    assert finding["resource"] == gone and finding["apiCall"] == "states:DescribeStateMachine"
    assert "StateMachineDoesNotExist" in finding["message"]


class _Raw:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_):
        yield self._body


def _header(request, name: str) -> str:
    value = request.headers.get(name, "")
    return value.decode() if isinstance(value, bytes) else value


def _body(request) -> str:
    body = request.body or b""
    return body.decode() if isinstance(body, bytes) else body


def _error_response(request, service: str, code: str, status: int):
    from botocore.awsrequest import AWSResponse

    if service in ("sfn", "organizations"):
        body = json.dumps({"__type": code, "message": "injected"}).encode()
        headers = {"x-amzn-ErrorType": code, "Content-Type": "application/x-amz-json-1.0"}
    else:
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>injected</Message></Error>"
            "<RequestId>1</RequestId></ErrorResponse>"
        ).encode()
        headers = {"Content-Type": "text/xml"}
    return AWSResponse(request.url, status, headers, _Raw(body))


def test_access_denied_on_one_machine(aws, run_cli, monkeypatch):
    fleet = deploy(Fleet(), OWN_ACCOUNT, "us-east-1", {"good": 4}, MIXED)
    denied = sorted(fleet.kinds)[1]

    def deny(request, **_):
        if denied in _body(request) and "DescribeStateMachine" in _header(request, "X-Amz-Target"):
            return _error_response(request, "sfn", "AccessDeniedException", 400)
        return None

    hook_sessions(monkeypatch, lambda s: s.events.register("before-send.sfn", deny))
    result, report = audit_json(run_cli, "--region", "us-east-1")
    assert result.code == 1
    [finding] = report["findings"]
    assert (finding["resource"], finding["apiCall"]) == (denied, "states:DescribeStateMachine")
    assert "AccessDeniedException" in finding["message"]
    assert report["summary"]["audited"] == 3 and report["summary"]["unreadable"] == 1


def test_throttling_is_retried_and_no_machine_is_lost(aws, run_cli, monkeypatch, fast_backoff):
    fleet = Fleet()
    for region in ("us-east-1", "eu-west-1"):
        deploy(fleet, OWN_ACCOUNT, region, {"good": 20, "missing": 20, "plain": 20}, {"good": False, "missing": False, "plain": True})
    baseline = run_cli("audit", "--format", "json", "--region", "us-east-1", "--region", "eu-west-1")
    counter = itertools.count(1)
    lock = threading.Lock()
    injected: list[str] = []
    codes = itertools.cycle(["ThrottlingException", "TooManyRequestsException"])

    def throttle(service):
        def handler(request, **_):
            with lock:
                if next(counter) % 5:
                    return None
                code = next(codes) if service == "sfn" else "Throttling"
                injected.append(code)
            return _error_response(request, service, code, 400)

        return handler

    def register(session):
        session.events.register("before-send.sfn", throttle("sfn"))
        session.events.register("before-send.iam", throttle("iam"))

    hook_sessions(monkeypatch, register)
    throttled = run_cli("audit", "--format", "json", "--region", "us-east-1", "--region", "eu-west-1")
    assert throttled.code == baseline.code == 1
    assert len(injected) >= 40 and {"ThrottlingException", "TooManyRequestsException", "Throttling"} <= set(injected)
    assert throttled.out == baseline.out  # every machine, every finding, as without throttling
    assert json.loads(throttled.out)["summary"]["listed"] == 120


def test_a_definition_policygen_cannot_read_is_unreadable_not_skipped(aws, run_cli):
    fleet = deploy(Fleet(), OWN_ACCOUNT, "us-east-1", {"good": 1}, MIXED)
    [role_arn] = fleet.roles
    states = boto3.session.Session().client("stepfunctions")
    duplicate = '{"StartAt": "A", "StartAt": "B", "States": {"A": {"Type": "Pass", "End": true}}}'
    arn = states.create_state_machine(name="duplicate-keys", definition=duplicate, roleArn=role_arn)["stateMachineArn"]
    result, report = audit_json(run_cli, "--region", "us-east-1")
    assert result.code == 1
    [finding] = report["findings"]
    assert finding["resource"] == arn and finding["ruleId"] == "PGA01" and finding["apiCall"] is None
    assert "its definition cannot be linted" in finding["message"] and "StartAt" in finding["message"]
    assert report["summary"]["unreadable"] == 1 and report["summary"]["audited"] == 1


def test_a_role_of_another_account_is_never_read_in_its_place(aws, run_cli):
    fleet = deploy(Fleet(), OWN_ACCOUNT, "us-east-1", {"good": 1}, MIXED)
    [role_arn] = fleet.roles
    foreign = role_arn.replace(OWN_ACCOUNT, OTHER_ACCOUNT)  # a role of the same name, elsewhere
    states = boto3.session.Session().client("stepfunctions")
    arn = states.create_state_machine(name="foreign-role", definition=fleet_definition(), roleArn=foreign)["stateMachineArn"]
    result, report = audit_json(run_cli, "--region", "us-east-1")
    assert result.code == 1
    [finding] = report["findings"]
    assert finding["resource"] == arn and finding["apiCall"] is None
    assert finding["message"] == f"cannot audit {foreign}: the execution role is not a role of the state machine's account"


def fleet_definition() -> str:
    from audit_fleet import BATCH_DEFINITION

    return BATCH_DEFINITION


def test_a_permissions_boundary_is_named_in_a_warning(aws, run_cli):
    fleet = deploy(Fleet(), OWN_ACCOUNT, "us-east-1", {"good": 2}, MIXED)
    [role_arn] = fleet.roles
    iam = boto3.session.Session().client("iam")
    boundary = iam.create_policy(PolicyName="boundary", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))["Policy"]["Arn"]
    iam.put_role_permissions_boundary(RoleName=role_arn.rsplit("/", 1)[1], PermissionsBoundary=boundary)
    result, report = audit_json(run_cli, "--region", "us-east-1")
    assert result.code == 0
    assert result.err.count(f"permissions boundary {boundary} is not checked") == 1  # one role, one warning
    assert len(report["notices"]) == 1


def test_an_unknown_profile(aws, run_cli):
    err = one_line_error(run_cli("audit", "--profile", "nobody", "--region", "us-east-1"))
    assert "nobody" in err


# --- nothing listed: exit 2, one line


def one_line_error(result) -> str:
    assert result.code == 2 and result.out == "", result
    assert result.err.count("\n") == 1, result.err
    return result.err


def test_no_credentials(aws, run_cli, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    err = one_line_error(run_cli("audit", "--region", "us-east-1"))
    assert "no state machine could be listed" in err and "credentials" in err.lower()


def test_an_unreachable_endpoint(aws, run_cli, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # discard port: refused
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    err = one_line_error(run_cli("audit", "--region", "us-east-1"))
    assert "states:ListStateMachines" in err and "127.0.0.1:9" in err


def test_one_region_unlisted_is_a_finding_not_an_exit_2(aws, run_cli, monkeypatch):
    fleet = deploy(Fleet(), OWN_ACCOUNT, "us-east-1", {"good": 2}, MIXED)

    def deny_west(request, **_):
        if "eu-west-1" in _header(request, "Authorization"):
            return _error_response(request, "sfn", "AccessDeniedException", 400)
        return None

    hook_sessions(monkeypatch, lambda s: s.events.register("before-send.sfn.ListStateMachines", deny_west))
    result, report = audit_json(run_cli, "--region", "us-east-1", "--region", "eu-west-1")
    assert result.code == 1
    assert report["summary"]["audited"] == 2 == len(fleet.kinds)
    [finding] = report["findings"]
    assert "eu-west-1" in finding["resource"] and finding["apiCall"] == "states:ListStateMachines"


def test_an_account_that_cannot_be_assumed(aws, run_cli, monkeypatch):
    deploy(Fleet(), OWN_ACCOUNT, "us-east-1", {"good": 1}, MIXED)

    def deny_other(request, **_):
        if OTHER_ACCOUNT in _body(request):
            return _error_response(request, "sts", "AccessDenied", 403)
        return None

    hook_sessions(monkeypatch, lambda s: s.events.register("before-send.sts.AssumeRole", deny_other))
    result, report = audit_json(run_cli, "--assume-role", "auditor", "--accounts", f"{OWN_ACCOUNT},{OTHER_ACCOUNT}", "--region", "us-east-1")
    assert result.code == 1 and report["summary"]["audited"] == 1
    [finding] = report["findings"]
    assert finding["resource"] == f"arn:aws:iam::{OTHER_ACCOUNT}:role/auditor" and finding["apiCall"] == "sts:AssumeRole"


def test_no_organization_is_exit_2(aws, run_cli, monkeypatch):
    err = one_line_error(run_cli("audit", "--organization", "--assume-role", "auditor", "--region", "us-east-1"))
    assert "the organization lists no active account" in err  # moto without an organization: no accounts

    def refuse(request, **_):
        return _error_response(request, "organizations", "AccessDeniedException", 400)

    hook_sessions(monkeypatch, lambda s: s.events.register("before-send.organizations", refuse))
    err = one_line_error(run_cli("audit", "--organization", "--assume-role", "auditor", "--region", "us-east-1"))
    assert "cannot list the organization's accounts" in err and "AccessDeniedException" in err


def test_no_region_at_all(aws, run_cli, monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert "no region" in one_line_error(run_cli("audit"))


def test_unreadable_findings_are_valid_sarif(aws, run_cli, monkeypatch):
    jsonschema = pytest.importorskip("jsonschema")
    fleet = deploy(Fleet(), OWN_ACCOUNT, "us-east-1", {"good": 2}, MIXED)
    states = boto3.session.Session().client("stepfunctions")
    gone = sorted(fleet.kinds)[0]
    hook_sessions(monkeypatch, lambda s: s.events.register("after-call.sfn.ListStateMachines", lambda **_: states.delete_state_machine(stateMachineArn=gone)))
    result = run_cli("audit", "--format", "sarif", "--region", "us-east-1")
    assert result.code == 1
    log = json.loads(result.out)
    jsonschema.validate(log, json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8")))
    [sarif_result] = log["runs"][0]["results"]
    assert sarif_result["ruleId"] == "PGA01" and sarif_result["level"] == "error"
    assert sarif_result["properties"]["policygen"]["apiCall"] == "states:DescribeStateMachine"
    assert log["runs"][0]["tool"]["driver"]["rules"][sarif_result["ruleIndex"]]["id"] == "PGA01"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--accounts", OWN_ACCOUNT], "--assume-role"),
        (["--assume-role", "auditor"], "--accounts ID,ID... or --organization"),
        (["--assume-role", "auditor", "--accounts", "12"], "12-digit"),
        (["--assume-role", "arn:aws:iam::{account}:user/x", "--accounts", OWN_ACCOUNT], "role ARN"),
        (["--region", "nowhere"], "not an AWS region"),
        (["--region", "us-east-1", "--all-regions"], "not both"),
        (["--concurrency", "0"], "--concurrency"),
    ],
)
def test_usage_errors(aws, run_cli, args, message):
    assert message in one_line_error(run_cli("audit", *args))


def test_without_boto3(run_cli, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "boto3", None)
    assert "pip install 'policygen[live]'" in one_line_error(run_cli("audit", "--region", "us-east-1"))


# --- the formats


def test_sarif_locates_findings_by_the_machine_arn(aws, run_cli):
    jsonschema = pytest.importorskip("jsonschema")
    fleet = deploy(Fleet(), OWN_ACCOUNT, "us-east-1", {"missing": 2, "good": 1}, MIXED)
    result = run_cli("audit", "--format", "sarif", "--region", "us-east-1")
    assert result.code == 1
    log = json.loads(result.out)
    schema = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.validate(log, schema)
    results = log["runs"][0]["results"]
    located = {r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] for r in results}
    assert located == fleet.of_kind("missing")
    assert all(r["locations"][0]["logicalLocations"][0]["kind"] == "resource" for r in results)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)


def test_gitlab_code_quality(aws, run_cli):
    fleet = deploy(Fleet(), OWN_ACCOUNT, "us-east-1", {"missing": 3}, MIXED)
    result = run_cli("audit", "--format", "gitlab", "--region", "us-east-1")
    assert result.code == 1
    issues = json.loads(result.out)
    assert {issue["location"]["path"] for issue in issues} == fleet.of_kind("missing")
    for issue in issues:
        assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["check_name"] == "PG101" and issue["severity"] == "critical"
        assert isinstance(issue["location"]["lines"]["begin"], int)
    assert len({issue["fingerprint"] for issue in issues}) == len(issues)


def test_progress_bar_only_on_a_terminal(aws, run_cli, monkeypatch):
    import sys

    deploy(Fleet(), OWN_ACCOUNT, "us-east-1", {"good": 3}, MIXED)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    result = run_cli("audit", "--region", "us-east-1")
    assert result.code == 0 and "3/3 state machines" in result.err and "\r" in result.err
    assert result.err.endswith("\r" + " " * len(result.err.rsplit("\r", 3)[1]) + "\r")  # the shared bar, cleared at the end


def test_output_file(aws, run_cli, tmp_path):
    deploy(Fleet(), OWN_ACCOUNT, "us-east-1", {"missing": 1}, MIXED)
    target = tmp_path / "audit.json"
    result = run_cli("audit", "--format", "json", "--region", "us-east-1", "-o", str(target))
    assert result.code == 1 and result.out == ""
    assert json.loads(target.read_text(encoding="utf-8"))["summary"]["listed"] == 1


# --- the auditor's own policy


def required(run_cli, *args: str) -> dict:
    result = run_cli("audit", "--print-required-policy", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)


def actions_and_resources(policy: dict) -> dict[str, object]:
    return {action: statement["Resource"] for statement in policy["Statement"] for action in statement["Action"]}


def test_required_policy_plain(run_cli):
    assert actions_and_resources(required(run_cli)) == {
        "states:ListStateMachines": "*",
        "states:DescribeStateMachine": "arn:aws:states:*:*:stateMachine:*",
        "iam:GetRole": "arn:aws:iam::*:role/*",
        "iam:ListRolePolicies": "arn:aws:iam::*:role/*",
        "iam:GetRolePolicy": "arn:aws:iam::*:role/*",
        "iam:ListAttachedRolePolicies": "arn:aws:iam::*:role/*",
        # AWS managed policies are arn:aws:iam::aws:policy/...: the * account covers them.
        "iam:GetPolicy": "arn:aws:iam::*:policy/*",
        "iam:GetPolicyVersion": "arn:aws:iam::*:policy/*",
    }


def test_required_policy_with_every_option(run_cli):
    actions = actions_and_resources(required(run_cli, "--all-regions", "--organization", "--assume-role", "auditor"))
    assert actions["ec2:DescribeRegions"] == "*"
    assert actions["organizations:ListAccounts"] == "*"
    assert actions["sts:AssumeRole"] == "arn:aws:iam::*:role/auditor"
    assert set(actions) == {call.action for call in audit_aws.CALLS}
    govcloud = actions_and_resources(required(run_cli, "--region", "us-gov-west-1", "--accounts", OWN_ACCOUNT, "--assume-role", "arn:aws-us-gov:iam::{account}:role/audit/reader"))
    assert govcloud["sts:AssumeRole"] == "arn:aws-us-gov:iam::*:role/audit/reader"
    assert govcloud["iam:GetRole"] == "arn:aws-us-gov:iam::*:role/*"


def test_every_action_in_the_table_is_one_the_catalogue_knows():
    from policygen.iam import catalog

    for call in audit_aws.CALLS:
        service, name = call.action.split(":")
        if catalog.service(service) is not None:  # states and iam: the Service Authorization Reference's lists
            assert name in catalog.action_names(service), call.action


def test_required_policy_is_what_the_readme_shows(run_cli):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert json.dumps(required(run_cli), indent=2) in readme


# --- the whole role: every integration's states are judged, not only Batch's


def test_a_machine_of_every_integration_is_audited_for_each_state(aws, run_cli):
    from audit_fleet import trust

    folder = ROOT / "fixtures" / "lint" / "whole-role"
    definition = (folder / "definition.asl.json").read_text(encoding="utf-8")
    policy = json.loads((folder / "expected-policy.json").read_text(encoding="utf-8"))
    session = boto3.session.Session()
    iam, states = session.client("iam"), session.client("stepfunctions")
    arns = {}
    for name, document in (("whole", policy), ("no-invoke", {**policy, "Statement": [s for s in policy["Statement"] if s["Sid"] != "LambdaInvokeFunction"]})):
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust(OWN_ACCOUNT)))["Role"]["Arn"]
        iam.put_role_policy(RoleName=name, PolicyName="whole", PolicyDocument=json.dumps(document))
        arns[name] = states.create_state_machine(name=name, definition=definition, roleArn=role)["stateMachineArn"]
    result, report = audit_json(run_cli, "--region", "us-east-1")
    assert result.code == 1
    assert report["summary"]["audited"] == 2
    [finding] = report["findings"]
    assert finding["resource"] == arns["no-invoke"] and finding["ruleId"] == "PG101"
    assert finding["message"].startswith("state 'Invoke' (lambda:invoke) needs lambda:InvokeFunction on arn:aws:lambda:us-east-1:123456789012:function:prepare")


# --- the machine's own features, as DescribeStateMachine gives them

KEY = f"arn:aws:kms:us-east-1:{OWN_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
FEATURED = {
    "StartAt": "Fan out",
    "States": {
        "Fan out": {
            "Type": "Map",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Work",
                "States": {"Work": {"Type": "Pass", "End": True}},
            },
            "End": True,
        }
    },
}


def _featured_machine(run_cli, tmp_path, without: str | None = None) -> str:
    """A machine named "featured" with logging, tracing and a customer-managed key, and a
    Distributed Map; its role is what `generate` writes for it (told the same by its flags), less
    the action `without`."""
    from audit_fleet import trust

    path = tmp_path / "featured.asl.json"
    path.write_text(json.dumps(FEATURED), encoding="utf-8")
    generated = run_cli("generate", str(path), "--region", "us-east-1", "--account", OWN_ACCOUNT,
                        "--state-machine-name", "featured", "--logging", "--tracing", "--kms-key", KEY)
    assert generated.code == 0, generated.err
    policy = json.loads(generated.out)
    assert without is None or any(without in statement["Action"] for statement in policy["Statement"])
    statements = []
    for statement in policy["Statement"]:
        actions = [action for action in statement["Action"] if action != without]
        if actions:
            statements.append({**statement, "Action": actions})
    policy["Statement"] = statements
    session = boto3.session.Session()
    iam, states = session.client("iam"), session.client("stepfunctions")
    role = iam.create_role(RoleName="featured", AssumeRolePolicyDocument=json.dumps(trust(OWN_ACCOUNT)))["Role"]["Arn"]
    iam.put_role_policy(RoleName="featured", PolicyName="generated", PolicyDocument=json.dumps(policy))
    return states.create_state_machine(
        name="featured", definition=json.dumps(FEATURED), roleArn=role,
        loggingConfiguration={"level": "ERROR", "includeExecutionData": False,
                              "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": f"arn:aws:logs:us-east-1:{OWN_ACCOUNT}:log-group:sfn:*"}}]},
        tracingConfiguration={"enabled": True},
        encryptionConfiguration={"type": "CUSTOMER_MANAGED_KMS_KEY", "kmsKeyId": KEY, "kmsDataKeyReusePeriodSeconds": 300},
    )["stateMachineArn"]


def test_a_role_with_what_the_machine_itself_needs_passes(aws, run_cli, tmp_path):
    # Its name (the Distributed Map's children), logging, tracing and key come from AWS: the role
    # generate wrote for them, naming the machine, is exactly right (no PG203 for an unknown name).
    _featured_machine(run_cli, tmp_path)
    result, report = audit_json(run_cli, "--region", "us-east-1")
    assert report["findings"] == [] and result.code == 0
    assert report["summary"]["audited"] == 1


@pytest.mark.parametrize("left_out", ["logs:CreateLogDelivery", "xray:PutTraceSegments", "kms:Decrypt", "states:StartExecution"])
def test_a_role_missing_what_the_machine_itself_needs_is_a_finding(aws, run_cli, tmp_path, left_out):
    arn = _featured_machine(run_cli, tmp_path, left_out)
    result, report = audit_json(run_cli, "--region", "us-east-1")
    assert result.code == 1
    assert {(f["resource"], f["ruleId"]) for f in report["findings"]} == {(arn, "PG101")}
    assert any(left_out in f["message"] for f in report["findings"])
