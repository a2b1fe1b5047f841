"""The trust policy checks (PG105, PG106, PG203, PG302) as IAM reads a trust policy: NotPrincipal,
NotAction, an empty Condition, Version 2008-10-17 without variables, aws:SourceArn and
aws:SourceAccount against the state machine's own ARN, and regional service principals."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_lint import BATCH_RUN, RULE, events_on, ids, lint, tasks_of
from test_lint_rules import ROOT, lint_args

from policygen.errors import InputError, Location
from policygen.lint.engine import lint_role
from policygen.lint.findings import Role, TrustPolicy, policy_source
from policygen.requirements.target import Target

TRUST = {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}
ACCOUNT = {"StringEquals": {"aws:SourceAccount": "123456789012"}}
GOOD_ROLE = [BATCH_RUN, events_on(RULE)]

# Fixture cases beside each rule's bad/ and good/ (tests/lint/test_lint_rules.py): the rules each reports.
CASES = {
    "PG106/bad-empty-condition": {"PG106", "PG302"},
    "PG106/bad-empty-condition-operator": {"PG106", "PG302"},
    "PG106/bad-not-action": {"PG106", "PG302"},
    "PG106/bad-not-principal": {"PG106", "PG302"},
    "PG106/good-not-principal-deny": set(),
    "PG105/bad-deny-not-principal": {"PG105"},
    "PG105/bad-other-region-principal": {"PG105"},
    "PG105/good-own-region-principal": set(),
    "PG105/bad-source-arn-other-region": {"PG105"},
    "PG105/bad-source-arn-other-account": {"PG105"},
    "PG105/bad-source-arn-activity": {"PG105"},
    "PG105/good-source-arn": set(),
    "PG105/bad-no-version-variable": {"PG105"},
    "PG105/good-version-variable": set(),
    "PG203/bad-trust-names-a-state-machine": {"PG203"},
    "PG203/bad-trust-region-unknown": {"PG203"},
    "PG302/bad-empty-condition-operator": {"PG302"},
}


@pytest.fixture
def in_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_every_trust_case_is_listed():
    found = {
        f"{case.parent.name}/{case.name}"
        for case in (ROOT / "fixtures" / "lint").glob("PG*/*")
        if case.is_dir() and case.name not in ("bad", "good")
    }
    assert found == set(CASES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_trust_fixture_case_reports_exactly(case, run_cli, in_root):
    result = run_cli(*lint_args(ROOT / "fixtures" / "lint" / case), "--format", "json", "--fail-on", "suggestion")
    expected = CASES[case]
    assert result.code == (1 if expected else 0), result.out + result.err
    found = {finding["ruleId"] for finding in json.loads(result.out)["findings"]}
    assert found == expected, result.out


def trust_lint(statements, target=Target("aws", "us-east-1", "123456789012"), version="2012-10-17"):
    trust = {"Statement": statements}
    if version is not None:
        trust["Version"] = version
    return lint(GOOD_ROLE, trust=trust, target=target)


# --- PG106: an empty Condition is no condition; NotAction and NotPrincipal as IAM reads them


@pytest.mark.parametrize("condition", [{}, {"StringEquals": {}}, {"StringEquals": {}, "Bool": {}}])
def test_an_empty_condition_is_no_condition(condition):
    findings = trust_lint([dict(TRUST, Condition=ACCOUNT), dict(TRUST, Principal="*", Condition=condition)])
    assert ids(findings) == ["PG106", "PG302"]


def test_a_condition_that_tests_something_keeps_pg106_quiet():
    statement = dict(TRUST, Principal="*", Condition={"StringEquals": {}, **ACCOUNT})
    assert ids(trust_lint([statement])) == []


def test_not_action_with_allow_lets_assume_role_through():
    # IAM User Guide, NotAction: with Allow, every action not listed is allowed.
    statement = {"Effect": "Allow", "Principal": {"AWS": "*"}, "NotAction": "iam:*"}
    assert ids(trust_lint([dict(TRUST, Condition=ACCOUNT), statement])) == ["PG106", "PG302"]
    listed = {"Effect": "Allow", "Principal": {"AWS": "*"}, "NotAction": ["iam:*", "sts:*"]}
    assert ids(trust_lint([dict(TRUST, Condition=ACCOUNT), listed])) == []


def test_allow_with_not_principal_lets_everyone_else_in():
    statement = {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}
    findings = trust_lint([statement])
    assert ids(findings) == ["PG106", "PG302"]  # and Step Functions is among everyone else: no PG105
    excluding_states = dict(statement, NotPrincipal={"Service": "states.amazonaws.com"})
    assert ids(trust_lint([excluding_states])) == ["PG105", "PG106"]


def test_deny_with_not_principal_denies_everyone_not_listed():
    deny = {"Effect": "Deny", "NotPrincipal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    findings = trust_lint([dict(TRUST, Condition=ACCOUNT), deny])
    assert ids(findings) == ["PG105"] and "statement 1 of trust.json denies it" in findings[0].message
    sparing_states = dict(deny, NotPrincipal={"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]})
    assert ids(trust_lint([dict(TRUST, Condition=ACCOUNT), sparing_states])) == []


# --- Version: without it (2008-10-17) `${...}` is literal text


SOURCE_ARN_WITH_VARIABLE = {"StringLike": {"aws:SourceArn": "arn:aws:states:us-east-1:${aws:SourceAccount}:stateMachine:*"}}


def test_trust_policy_variables_need_version_2012_10_17():
    statement = dict(TRUST, Condition=SOURCE_ARN_WITH_VARIABLE)
    assert ids(trust_lint([statement])) == []
    assert ids(trust_lint([statement], version=None)) == ["PG105"]
    assert ids(trust_lint([statement], version="2008-10-17")) == ["PG105"]


def test_identity_policy_variables_need_version_2012_10_17():
    queue = "arn:aws:batch:us-east-1:123456789012:job-queue/${aws:PrincipalTag/team}"
    statements = [{"Effect": "Allow", "Action": "batch:SubmitJob", "Resource": [queue, "arn:aws:batch:*:*:job-definition/*"]}]
    tasks = tasks_of("arn:aws:states:::batch:submitJob", JobQueue="etl", JobDefinition="report:1")

    def findings(version):
        data = {"Statement": statements} | ({"Version": version} if version else {})
        policy = policy_source(data, "policy.json", lambda pointer: Location("policy.json", pointer=pointer))
        role = Role("role", (policy,))
        return lint_role(tasks, role, Target("aws", "us-east-1", "123456789012"), lambda task: Location(task.file))

    assert "PG203" in ids(findings("2012-10-17"))  # the tag is not known: cannot verify
    assert "PG101" in ids(findings(None))  # literal text: no queue is named so
    assert "PG101" in ids(findings("2008-10-17"))


# --- aws:SourceArn / aws:SourceAccount against the state machine's ARN


def arn_condition(pattern, operator="ArnLike"):
    return dict(TRUST, Condition={operator: {"aws:SourceArn": pattern}})


@pytest.mark.parametrize(
    "pattern, expected",
    [
        ("arn:aws:states:us-east-1:123456789012:stateMachine:*", []),
        ("arn:aws:states:*:123456789012:stateMachine:*", []),
        ("arn:aws:states:us-east-1:123456789012:*", []),
        ("arn:aws:states:eu-west-1:123456789012:stateMachine:*", ["PG105"]),
        ("arn:aws:states:us-east-1:999999999999:stateMachine:*", ["PG105"]),
        ("arn:aws-cn:states:us-east-1:123456789012:stateMachine:*", ["PG105"]),
        ("arn:aws:states:us-east-1:123456789012:activity:*", ["PG105"]),
        ("arn:aws:lambda:us-east-1:123456789012:function:*", ["PG105"]),
        ("arn:aws:states:us-east-1:123456789012:stateMachine:nightly", ["PG203"]),
        ("arn:aws:states:us-east-1:123456789012:stateMachine:night*", ["PG203"]),
    ],
)
def test_source_arn_is_decided_against_the_machine_arn(pattern, expected):
    findings = trust_lint([arn_condition(pattern)])
    assert ids(findings) == expected
    if expected == ["PG203"]:
        assert "depends on the state machine's name" in findings[0].message
        assert findings[0].message.startswith("Step Functions needs sts:AssumeRole on the role; policygen cannot tell")


def test_a_negated_source_arn_condition_on_a_name_cannot_be_verified():
    findings = trust_lint([arn_condition("arn:aws:states:*:*:stateMachine:test-*", "ArnNotLike")])
    assert ids(findings) == ["PG203"]


def test_pg105_says_which_machine_the_conditions_refuse():
    findings = trust_lint([arn_condition("arn:aws:states:eu-west-1:123456789012:stateMachine:*")])
    assert (
        "aws:SourceAccount = 123456789012, aws:SourceArn = arn:aws:states:us-east-1:123456789012:stateMachine:<any name>"
        in findings[0].message
    )


def test_unknown_region_or_account_is_cannot_verify_not_silence():
    no_region = Target("aws", None, "123456789012")
    findings = trust_lint([arn_condition("arn:aws:states:eu-west-1:123456789012:stateMachine:*")], target=no_region)
    assert ids(findings) == ["PG203"]
    assert "depends on the state machine's region" in findings[0].message and "pass --region" in findings[0].message
    no_account = Target("aws", "us-east-1", None)
    findings = trust_lint([dict(TRUST, Condition=ACCOUNT)], target=no_account)
    assert ids(findings) == ["PG203"] and "pass --account" in findings[0].message
    # What holds in every region and account holds; what fails in every one fails.
    unknown = Target("aws", None, None)
    assert ids(trust_lint([arn_condition("arn:aws:states:*:*:stateMachine:*")], target=unknown)) == []
    assert ids(trust_lint([arn_condition("arn:aws:states:*:*:activity:*")], target=unknown)) == ["PG105"]


def test_source_account_and_source_arn_must_agree():
    statement = dict(TRUST, Condition={
        "StringEquals": {"aws:SourceAccount": "111111111111"},
        "ArnLike": {"aws:SourceArn": "arn:aws:states:*:222222222222:stateMachine:*"},
    })
    assert ids(trust_lint([statement], target=Target("aws", None, None))) == ["PG105"]


def test_known_machine_arns_are_decided_exactly():
    tasks = tasks_of(JobQueue="q", **{"JobDefinition.$": "$.d"})
    trust = {"Version": "2012-10-17", "Statement": [arn_condition("arn:aws:states:us-east-1:123456789012:stateMachine:nightly")]}
    policy = policy_source({"Version": "2012-10-17", "Statement": GOOD_ROLE}, "policy.json", lambda p: Location("policy.json", pointer=p))
    role = Role("role", (policy,), TrustPolicy(trust, "trust.json", lambda p: Location("trust.json", pointer=p)))
    target = Target("aws", "us-east-1", "123456789012")

    def found(arn):
        return ids(lint_role(tasks, role, target, lambda task: Location(task.file), machine_arns=(arn,)))

    assert found("arn:aws:states:us-east-1:123456789012:stateMachine:nightly") == []
    assert found("arn:aws:states:us-east-1:123456789012:stateMachine:hourly") == ["PG105"]


def test_other_condition_keys_are_cannot_verify():
    statement = dict(TRUST, Condition={**ACCOUNT, "StringEquals": {"aws:SourceAccount": "123456789012", "sts:ExternalId": "x"}})
    findings = trust_lint([statement])
    assert ids(findings) == ["PG203"] and "sts:ExternalId" in findings[0].message


# --- Regional service principals (IAM User Guide, "AWS service principals in opt-in Regions")


@pytest.mark.parametrize(
    "service, region, expected",
    [
        ("states.us-east-1.amazonaws.com", "us-east-1", []),
        ("states.eu-west-1.amazonaws.com", "us-east-1", ["PG105"]),
        ("states.eu-west-1.amazonaws.com", None, ["PG203"]),
        ("states.amazonaws.com", None, []),
        ("stepfunctions.amazonaws.com", "us-east-1", ["PG105"]),
    ],
)
def test_regional_principal_counts_only_for_the_machines_region(service, region, expected):
    statement = dict(TRUST, Principal={"Service": service}, Condition=ACCOUNT)
    findings = trust_lint([statement], target=Target("aws", region, "123456789012"))
    assert ids(findings) == expected
    if service == "states.eu-west-1.amazonaws.com" and region:
        assert "which Step Functions in us-east-1 does not use" in findings[0].message


def test_china_principals_are_cannot_verify():
    statement = dict(TRUST, Principal={"Service": "states.cn-north-1.amazonaws.com.cn"}, Condition=ACCOUNT)
    findings = [f for f in trust_lint([statement], target=Target("aws-cn", "cn-north-1", "123456789012")) if f.rule.id != "PG103"]
    assert ids(findings) == ["PG203"] and "aws-cn" in findings[0].message


# --- Malformed trust policies: exit 2 with the JSON pointer, never a crash


@pytest.mark.parametrize(
    "statement, pointer",
    [
        (dict(TRUST, Principal={"Service": 5}), "/Statement/0/Principal/Service"),
        (dict(TRUST, Principal={"Service": ["states.amazonaws.com", None]}), "/Statement/0/Principal/Service/1"),
        (dict(TRUST, Principal={"Service": []}), "/Statement/0/Principal/Service"),
        (dict(TRUST, Principal={"AWS": {"x": 1}}), "/Statement/0/Principal/AWS"),
        (dict(TRUST, Principal={"Services": "states.amazonaws.com"}), "/Statement/0/Principal/Services"),
        (dict(TRUST, Principal=5), "/Statement/0/Principal"),
        (dict(TRUST, Principal="states.amazonaws.com"), "/Statement/0/Principal"),
        (dict(TRUST, NotPrincipal={"AWS": "*"}), "/Statement/0/NotPrincipal"),
        ({"Effect": "Allow", "Action": "sts:AssumeRole"}, "/Statement/0"),
        (dict(TRUST, Principal={"Service": "lambda.amazonaws.com"}, Action=5), "/Statement/0/Action"),
        (dict(TRUST, Effect=True), "/Statement/0/Effect"),
        (dict(TRUST, Condition={"StringEquals": {"aws:SourceAccount": {"a": 1}}}), "/Statement/0/Condition/StringEquals/aws:SourceAccount"),
        (dict(TRUST, Condition=[]), "/Statement/0/Condition"),
        (dict(TRUST, Resource="*"), "/Statement/0/Resource"),
    ],
)
def test_malformed_trust_policy_is_an_input_error(statement, pointer, run_cli, tmp_path):
    (tmp_path / "trust.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    (tmp_path / "policy.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": GOOD_ROLE}))
    definition = {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::batch:submitJob",
                                                   "Parameters": {"JobName": "a", "JobQueue": "q", "JobDefinition": "d"}, "End": True}}}
    (tmp_path / "m.asl.json").write_text(json.dumps(definition))
    result = run_cli("lint", str(tmp_path / "m.asl.json"), "--policy", str(tmp_path / "policy.json"),
                     "--trust-policy", str(tmp_path / "trust.json"), "--region", "us-east-1", "--account", "123456789012")
    assert result.code == 2, result.out + result.err
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1, result.err
    assert "trust.json" in result.err


@pytest.mark.parametrize(
    "statement, pointer",
    [
        (dict(TRUST, Principal={"Service": 5}), "/Statement/0/Principal/Service"),
        (dict(TRUST, Principal={"Service": ["states.amazonaws.com", None]}), "/Statement/0/Principal/Service/1"),
        (dict(TRUST, Principal={"Services": "states.amazonaws.com"}), "/Statement/0/Principal/Services"),
        (dict(TRUST, NotPrincipal={"AWS": "*"}), "/Statement/0/NotPrincipal"),
        ({"Effect": "Allow", "Action": "sts:AssumeRole"}, "/Statement/0"),
        (dict(TRUST, Principal={"Service": "lambda.amazonaws.com"}, Action=5), "/Statement/0/Action"),
        (dict(TRUST, NotResource="arn:aws:iam::123456789012:role/x"), "/Statement/0/NotResource"),
        # A YAML template can hold numbers where IAM's JSON has strings.
        (dict(TRUST, Condition={1: {"aws:SourceAccount": "123456789012"}}), "/Statement/0/Condition/1"),
        (dict(TRUST, Condition={"StringEquals": {2: "123456789012"}}), "/Statement/0/Condition/StringEquals/2"),
        (dict(TRUST, Principal={1: "states.amazonaws.com"}), "/Statement/0/Principal/1"),
    ],
)
def test_malformed_trust_policy_points_at_the_element(statement, pointer):
    with pytest.raises(InputError) as raised:
        trust_lint([statement])
    assert raised.value.location.pointer == pointer


# --- Any JSON as a trust policy: findings or an InputError, nothing else (exit 0/1/2)

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(
    ["*", "", "Allow", "Deny", "sts:AssumeRole", "sts:*", "iam:*", "states.amazonaws.com", "states.eu-west-1.amazonaws.com",
     "arn:aws:states:us-east-1:123456789012:stateMachine:*", "123456789012", "${aws:SourceAccount}", "2012-10-17", "2008-10-17"]
))
_KEYS = st.sampled_from(
    ["Version", "Statement", "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Condition", "Resource",
     "Service", "AWS", "StringEquals", "ArnLike", "Null", "aws:SourceArn", "aws:SourceAccount"]
)
# Keys may be numbers: a trust policy in a YAML template is not JSON.
_KEYS = st.one_of(_KEYS, st.integers(0, 2))
_JSON = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_KEYS, inner, max_size=4)), max_leaves=12)
_PRINCIPAL = st.one_of(_JSON, st.dictionaries(st.sampled_from(["Service", "AWS", "Federated", "CanonicalUser"]), _JSON, max_size=2))
_CONDITION = st.one_of(
    _JSON,
    st.dictionaries(st.sampled_from(["StringEquals", "ArnLike", "Bool", "Null"]), st.dictionaries(_KEYS, _JSON, max_size=2), max_size=2),
)
_STATEMENT = st.fixed_dictionaries(
    {"Effect": st.one_of(st.sampled_from(["Allow", "Deny"]), _JSON)},
    optional={
        "Principal": _PRINCIPAL,
        "NotPrincipal": _PRINCIPAL,
        "Action": st.one_of(st.sampled_from(["sts:AssumeRole", "*"]), _JSON),
        "NotAction": _JSON,
        "Condition": _CONDITION,
        "Sid": _JSON,
    },
)
_TRUST = st.one_of(
    _JSON,
    st.fixed_dictionaries({"Statement": st.one_of(st.lists(_STATEMENT, max_size=3), _STATEMENT, _JSON)},
                          optional={"Version": _SCALARS}),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trust=_TRUST, region=st.sampled_from([None, "us-east-1"]), account=st.sampled_from([None, "123456789012"]))
def test_any_trust_policy_gives_findings_or_an_input_error(trust, region, account):
    try:
        findings = lint(GOOD_ROLE, trust=trust, target=Target("aws", region, account))
    except InputError:
        return
    assert {finding.rule.id for finding in findings} <= {"PG105", "PG106", "PG203", "PG302"}


# --- Templates: ${AWS::Region}/${AWS::AccountId} are the machine's own; StateMachineName names it

TEMPLATE = ROOT / "fixtures" / "lint" / "PG204" / "good" / "template.yaml"
NAMED_SOURCE = (
    "              StringEquals: {aws:SourceAccount: !Ref AWS::AccountId}\n"
    "              ArnEquals:\n"
    "                aws:SourceArn: !Sub arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:nightly\n"
)


@pytest.mark.parametrize(
    "machine_name, extra_args, expected",
    [
        ("nightly", (), []),
        ("hourly", (), ["PG105"]),
        (None, (), ["PG203"]),
        ("nightly", ("--region", "eu-west-1", "--account", "123456789012"), []),
        ("!Sub ${AWS::StackName}-x", (), ["PG203"]),
    ],
)
def test_template_trust_is_decided_against_the_machine_it_names(run_cli, tmp_path, machine_name, extra_args, expected):
    text = TEMPLATE.read_text()
    text = text.replace("              StringEquals: {aws:SourceAccount: !Ref AWS::AccountId}\n", NAMED_SOURCE)
    if machine_name is not None:
        text = text.replace("      RoleArn: !GetAtt PipelineRole.Arn\n", f"      StateMachineName: {machine_name}\n      RoleArn: !GetAtt PipelineRole.Arn\n")
    assert "stateMachine:nightly" in text and (machine_name is None or "StateMachineName" in text)
    template = tmp_path / "template.yaml"
    template.write_text(text)
    result = run_cli("lint", str(template), "--format", "json", *extra_args)
    found = sorted({finding["ruleId"] for finding in json.loads(result.out)["findings"]})
    assert found == expected, result.out + result.err


def test_identity_policy_with_a_number_for_a_condition_key_is_an_input_error():
    from policygen.iam.policy import parse_policy

    statement = {"Effect": "Allow", "Action": "batch:SubmitJob", "Resource": "*", "Condition": {"StringEquals": {7: "x"}}}
    with pytest.raises(InputError) as raised:
        parse_policy({"Version": "2012-10-17", "Statement": [statement]}, "policy.yaml")
    assert raised.value.location.pointer == "/Statement/0/Condition/StringEquals/7"


def test_condition_values_are_literal_without_version():
    """IAM User Guide, Version: in 2008-10-17 `${aws:username}` is literal text, in conditions too."""
    from policygen.iam.evaluate import evaluate
    from policygen.iam.policy import parse_policy
    from policygen.iam.request import Decision, Request

    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                 "Condition": {"StringEquals": {"s3:prefix": "${aws:username}"}}}
    request = Request("s3:GetObject", "*", {"s3:prefix": ("david",), "aws:username": ("david",)})
    literal = Request("s3:GetObject", "*", {"s3:prefix": ("${aws:username}",), "aws:username": ("david",)})
    for version, allowed, refused in (("2012-10-17", request, literal), (None, literal, request), ("2008-10-17", literal, request)):
        policy = parse_policy({"Statement": [statement]} | ({"Version": version} if version else {}), "p.json")
        assert evaluate(allowed, [policy]).decision is Decision.ALLOWED, version
        assert evaluate(refused, [policy]).decision is Decision.IMPLICIT_DENY, version


def test_too_many_source_values_to_probe_is_cannot_verify_quickly():
    import time

    arns = [f"arn:aws:states:us-east-{i % 9}:1234567890{i:02d}:stateMachine:m{i}" for i in range(40)]
    started = time.perf_counter()
    findings = trust_lint([arn_condition(arns)], target=Target("aws", None, None))
    assert ids(findings) == ["PG203"] and "too many" in findings[0].message
    assert time.perf_counter() - started < 5


def test_several_unknown_parts_are_named_together():
    findings = trust_lint([arn_condition("arn:aws:states:eu-west-1:111111111111:stateMachine:x")], target=Target("aws", None, None))
    assert "depends on the state machine's name, region and account" in findings[0].message
    assert "(the account and region were not checked: pass --account and --region)" in findings[0].message


def test_a_deploy_time_value_in_a_condition_is_never_a_certain_refusal(run_cli, tmp_path):
    text = TEMPLATE.read_text().replace("              StringEquals: {aws:SourceAccount: !Ref AWS::AccountId}\n", NAMED_SOURCE)
    text = text.replace("stateMachine:nightly", "stateMachine:${Env}-pipeline")
    text = text.replace("      RoleArn: !GetAtt PipelineRole.Arn\n", "      StateMachineName: prod-pipeline\n      RoleArn: !GetAtt PipelineRole.Arn\n")
    text = text.replace("Resources:\n", "Parameters:\n  Env: {Type: String}\nResources:\n", 1)
    template = tmp_path / "template.yaml"
    template.write_text(text)
    result = run_cli("lint", str(template), "--format", "json")
    findings = json.loads(result.out)["findings"]
    assert [finding["ruleId"] for finding in findings] == ["PG203"], result.out + result.err
    assert "known only at deploy time" in findings[0]["message"] and "<Ref Env>-pipeline" in findings[0]["message"]


def test_a_deploy_time_service_principal_is_never_a_certain_refusal(run_cli, tmp_path):
    text = TEMPLATE.read_text().replace("Principal: {Service: states.amazonaws.com}", "Principal: {Service: !Ref TrustedService}")
    text = text.replace("Resources:\n", "Parameters:\n  TrustedService: {Type: String}\nResources:\n", 1)
    assert "!Ref TrustedService" in text
    template = tmp_path / "template.yaml"
    template.write_text(text)
    result = run_cli("lint", str(template), "--format", "json")
    findings = json.loads(result.out)["findings"]
    assert [finding["ruleId"] for finding in findings] == ["PG203"], result.out + result.err
    assert "<Ref TrustedService>" in findings[0]["message"]
