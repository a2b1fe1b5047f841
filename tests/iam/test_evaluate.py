"""IAM evaluation: examples from the IAM User Guide, properties of the decision, and policy parsing errors."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policygen.errors import InputError, Location
from policygen.iam.catalog import expand_action_pattern
from policygen.iam.evaluate import actions_granted, evaluate, statement_allows_action
from policygen.iam.policy import Effect, parse_policy
from policygen.iam.request import Decision, Request

ACCOUNT = "111122223333"
QUEUE = "arn:aws:batch:us-east-1:123456789012:job-queue/render"
INSTANCE = f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0abc"


def policy(*statements: dict, version: str | None = "2012-10-17", source: str = "policy.json"):
    data: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        data["Version"] = version
    return parse_policy(data, source)


def decide(policies: list[list[dict]], request: Request) -> Decision:
    return evaluate(request, [policy(*statements) for statements in policies]).decision


def allow(action: str, resource: str = "*", condition: dict | None = None) -> dict:
    return _statement("Allow", action, resource, condition)


def deny(action: str, resource: str = "*", condition: dict | None = None) -> dict:
    return _statement("Deny", action, resource, condition)


def _statement(effect: str, action: str, resource: str, condition: dict | None) -> dict:
    statement = {"Effect": effect, "Action": action, "Resource": resource}
    return statement | {"Condition": condition} if condition else statement


# ---------------------------------------------------------------------------------------------
# Examples from the IAM User Guide; each id names the page (and example) it comes from.

CARLOS = [
    {
        "Sid": "AllowS3ListRead",
        "Effect": "Allow",
        "Action": [
            "s3:GetBucketLocation",
            "s3:GetAccountPublicAccessBlock",
            "s3:ListAccessPoints",
            "s3:ListAllMyBuckets",
        ],
        "Resource": "arn:aws:s3:::*",
    },
    {
        "Sid": "AllowS3Self",
        "Effect": "Allow",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"],
    },
    {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::*log*"},
]
GET_LIST_DENY_REPORTS = [
    {"Sid": "AllowGetList", "Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"},
    {"Sid": "DenyReports", "Effect": "Deny", "Action": "iam:*Report", "Resource": "*"},
]
ALLOW_ALL = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
DENY_WITHOUT_MFA = [
    {
        "Sid": "DenyAllUsersNotUsingMFA",
        "Effect": "Deny",
        "NotAction": "iam:*",
        "Resource": "*",
        "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
    }
]
HR_PAYROLL = [
    {
        "Effect": "Deny",
        "Action": "s3:*",
        "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"],
    }
]
ALLOW_S3 = [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]

# "Conditions with multiple context keys or values": the S3 bucket policy, as an identity policy.
TAGS_AND_ARN = {
    "StringEquals": {
        "aws:PrincipalTag/department": ["finance", "hr", "legal"],
        "aws:PrincipalTag/role": ["audit", "security"],
    },
    "ArnLike": {"aws:PrincipalArn": ["arn:aws:iam::222222222222:user/Ana", "arn:aws:iam::222222222222:user/Mary"]},
}
TAGS_AND_NOT_ARN = {"StringEquals": TAGS_AND_ARN["StringEquals"], "ArnNotLike": TAGS_AND_ARN["ArnLike"]}


def list_bucket(condition: dict) -> list[dict]:
    return [allow("s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket", condition)]


def principal(department: str | None, role: str | None, user: str) -> Request:
    context = {"aws:PrincipalArn": (f"arn:aws:iam::222222222222:user/{user}",)}
    if department:
        context["aws:PrincipalTag/department"] = (department,)
    if role:
        context["aws:PrincipalTag/role"] = (role,)
    return Request("s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket", context, frozenset({"aws:PrincipalTag/*"}))


# "Single-valued vs. multivalued context keys": ForAllValues (with Null false) and ForAnyValue on aws:TagKeys.
FOR_ALL_TAG_KEYS = [
    {
        "Effect": "Allow",
        "Action": "ec2:DeleteTags",
        "Resource": f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/*",
        "Condition": {
            "ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]},
            "Null": {"aws:TagKeys": "false"},
        },
    }
]
FOR_ANY_TAG_KEYS = [
    {
        "Effect": "Allow",
        "Action": "ec2:DeleteTags",
        "Resource": f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/*",
        "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}},
    }
]


def delete_tags(*tag_keys: str) -> Request:
    context = {"aws:TagKeys": tag_keys} if tag_keys else {}
    return Request("ec2:DeleteTags", INSTANCE, context, frozenset({"aws:TagKeys"}))


# "Condition operators": ...IfExists (ec2:InstanceType) and Null (aws:TokenIssueTime).
RUN_INSTANCES_IF_EXISTS = [
    {
        "Sid": "RunInstance",
        "Effect": "Allow",
        "Action": "ec2:RunInstances",
        "Resource": "*",
        "Condition": {"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}},
    }
]
RUN_INSTANCES_NOT_WORKING = [
    dict(RUN_INSTANCES_IF_EXISTS[0], Condition={"StringLike": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}})
]
NO_TEMPORARY_CREDENTIALS = [
    {"Action": "ec2:*", "Effect": "Allow", "Resource": "*", "Condition": {"Null": {"aws:TokenIssueTime": "true"}}}
]
SECURE_TRANSPORT = [
    {
        "Effect": "Allow",
        "Action": "iam:*AccessKey*",
        "Resource": f"arn:aws:iam::{ACCOUNT}:user/*",
        "Condition": {"Bool": {"aws:SecureTransport": "true"}},
    }
]
MAX_KEYS = [
    {
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": "arn:aws:s3:::example_bucket",
        "Condition": {"NumericLessThanEquals": {"s3:max-keys": "10"}},
    }
]

# "Variables and tags": own access keys, home directory prefix, default value, special characters.
OWN_ACCESS_KEYS = [
    {"Action": ["iam:*AccessKey*"], "Effect": "Allow", "Resource": [f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}"]}
]
HOME_PREFIX = [
    {
        "Action": ["s3:ListBucket"],
        "Effect": "Allow",
        "Resource": ["arn:aws:s3:::mybucket"],
        "Condition": {"StringLike": {"s3:prefix": ["${aws:username}/*"]}},
    }
]
USERID_OR_ANONYMOUS = [
    {
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::bucket/${aws:userid, 'anonymous'}/*",
    }
]
LITERAL_STAR = [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/${*}"}]


def access_key(user: str, username: str | None = None) -> Request:
    context = {"aws:username": (username,)} if username else {}
    return Request("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/{user}", context)


def req(action: str, resource: str, **context: str) -> Request:
    """A request whose context keys are spelled with `__` for `:` (aws__username: aws:username)."""
    return Request(action, resource, {key.replace("__", ":"): (value,) for key, value in context.items()})


DOC_CASES = [
    # Policy evaluation logic: "Example identity-based and resource-based policy evaluation"
    pytest.param(
        [CARLOS],
        req("s3:PutObject", "arn:aws:s3:::carlossalazar-logs/notes.txt"),
        Decision.EXPLICIT_DENY,
        id="evaluation-logic/carlossalazar-logs-denied",
    ),
    pytest.param(
        [CARLOS],
        req("s3:PutObject", "arn:aws:s3:::carlossalazar/notes.txt"),
        Decision.ALLOWED,
        id="evaluation-logic/carlossalazar-own-bucket-allowed",
    ),
    pytest.param(
        [CARLOS],
        req("s3:GetObject", "arn:aws:s3:::someone-else/notes.txt"),
        Decision.IMPLICIT_DENY,
        id="evaluation-logic/carlossalazar-other-bucket-implicit",
    ),
    # The same page says AllowS3ListRead lets Carlos list all buckets; "NotAction" says a Resource of
    # arn:aws:s3:::* does not allow s3:ListAllMyBuckets. The documentation disagrees: unknown.
    pytest.param(
        [CARLOS],
        req("s3:ListAllMyBuckets", "*"),
        Decision.UNKNOWN,
        id="evaluation-logic/carlossalazar-ListAllMyBuckets-docs-disagree",
    ),
    # Policy evaluation logic: "The difference between explicit and implicit denies"
    pytest.param(
        [GET_LIST_DENY_REPORTS],
        req("iam:GetUser", "*"),
        Decision.ALLOWED,
        id="explicit-vs-implicit-deny/AllowGetList",
    ),
    pytest.param(
        [GET_LIST_DENY_REPORTS],
        req("iam:CreatePolicy", "*"),
        Decision.IMPLICIT_DENY,
        id="explicit-vs-implicit-deny/CreatePolicy-implicit",
    ),
    pytest.param(
        [GET_LIST_DENY_REPORTS],
        req("iam:GetOrganizationsAccessReport", "*"),
        Decision.EXPLICIT_DENY,
        id="explicit-vs-implicit-deny/DenyReports",
    ),
    pytest.param(
        [GET_LIST_DENY_REPORTS, [{"Effect": "Allow", "Action": "iam:GenerateCredentialReport", "Resource": "*"}]],
        req("iam:GenerateCredentialReport", "*"),
        Decision.EXPLICIT_DENY,
        id="explicit-vs-implicit-deny/another-policy-cannot-override",
    ),
    # NotAction: "NotAction with Allow"
    pytest.param(
        [[{"Effect": "Allow", "NotAction": "s3:DeleteBucket", "Resource": "arn:aws:s3:::*"}]],
        req("s3:GetObject", "arn:aws:s3:::b/k"),
        Decision.ALLOWED,
        id="NotAction/allow-all-s3-but-DeleteBucket-GetObject",
    ),
    pytest.param(
        [[{"Effect": "Allow", "NotAction": "s3:DeleteBucket", "Resource": "arn:aws:s3:::*"}]],
        req("s3:DeleteBucket", "arn:aws:s3:::b"),
        Decision.IMPLICIT_DENY,
        id="NotAction/allow-all-s3-but-DeleteBucket-DeleteBucket",
    ),
    pytest.param(
        [[{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]],
        Request("batch:SubmitJob", QUEUE),
        Decision.ALLOWED,
        id="NotAction/everything-but-IAM-batch",
    ),
    pytest.param(
        [[{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]],
        req("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/x"),
        Decision.IMPLICIT_DENY,
        id="NotAction/everything-but-IAM-iam",
    ),
    # NotAction: "NotAction with Deny" (DenyAllUsersNotUsingMFA), beside an allow-all policy
    pytest.param(
        [ALLOW_ALL, DENY_WITHOUT_MFA],
        req("s3:GetObject", "arn:aws:s3:::b/k", aws__MultiFactorAuthPresent="false"),
        Decision.EXPLICIT_DENY,
        id="NotAction/deny-without-MFA-no-MFA",
    ),
    pytest.param(
        [ALLOW_ALL, DENY_WITHOUT_MFA],
        req("s3:GetObject", "arn:aws:s3:::b/k", aws__MultiFactorAuthPresent="true"),
        Decision.ALLOWED,
        id="NotAction/deny-without-MFA-with-MFA",
    ),
    pytest.param(
        [ALLOW_ALL, DENY_WITHOUT_MFA],
        Request("s3:GetObject", "arn:aws:s3:::b/k", known_keys=frozenset({"aws:MultiFactorAuthPresent"})),
        Decision.EXPLICIT_DENY,
        id="NotAction/deny-without-MFA-key-absent-IfExists",
    ),
    pytest.param(
        [ALLOW_ALL, DENY_WITHOUT_MFA],
        req("iam:ListUsers", "*", aws__MultiFactorAuthPresent="false"),
        Decision.ALLOWED,
        id="NotAction/deny-without-MFA-iam-not-denied",
    ),
    pytest.param(
        [ALLOW_ALL, DENY_WITHOUT_MFA],
        req("s3:GetObject", "arn:aws:s3:::b/k"),
        Decision.UNKNOWN,
        id="NotAction/deny-without-MFA-key-unknown",
    ),
    # NotResource: the HRPayroll example, beside an allow for S3
    pytest.param(
        [ALLOW_S3, HR_PAYROLL],
        req("s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/march.csv"),
        Decision.ALLOWED,
        id="NotResource/HRPayroll-payroll-folder",
    ),
    pytest.param(
        [ALLOW_S3, HR_PAYROLL],
        req("s3:GetObject", "arn:aws:s3:::HRBucket/Engineering/plan.txt"),
        Decision.EXPLICIT_DENY,
        id="NotResource/HRPayroll-other-folder",
    ),
    pytest.param(
        [HR_PAYROLL],
        req("s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/march.csv"),
        Decision.IMPLICIT_DENY,
        id="NotResource/HRPayroll-grants-nothing",
    ),
    # Conditions with multiple context keys or values: "Evaluation logic for multiple context keys or values"
    pytest.param(
        [list_bucket(TAGS_AND_ARN)],
        principal("legal", "audit", "Mary"),
        Decision.ALLOWED,
        id="multiple-keys-or-values/legal-audit-Mary-match",
    ),
    pytest.param(
        [list_bucket(TAGS_AND_ARN)],
        principal("hr", "audit", "Nikki"),
        Decision.IMPLICIT_DENY,
        id="multiple-keys-or-values/hr-audit-Nikki-no-match",
    ),
    pytest.param(
        [list_bucket(TAGS_AND_ARN)],
        principal("hr", "payroll", "Mary"),
        Decision.IMPLICIT_DENY,
        id="multiple-keys-or-values/hr-payroll-Mary-no-match",
    ),
    pytest.param(
        [list_bucket(TAGS_AND_ARN)],
        principal("hr", None, "Mary"),
        Decision.IMPLICIT_DENY,
        id="multiple-keys-or-values/no-role-tag-no-match",
    ),
    pytest.param(
        [list_bucket(TAGS_AND_ARN)],
        principal(None, None, "Mary"),
        Decision.IMPLICIT_DENY,
        id="multiple-keys-or-values/no-tags-no-match",
    ),
    # Conditions with multiple context keys or values: "Evaluation logic for negated matching condition operators"
    pytest.param(
        [list_bucket(TAGS_AND_NOT_ARN)],
        principal("legal", "audit", "Nikki"),
        Decision.ALLOWED,
        id="negated-operators/legal-audit-Nikki-match",
    ),
    pytest.param(
        [list_bucket(TAGS_AND_NOT_ARN)],
        principal("hr", "audit", "Mary"),
        Decision.IMPLICIT_DENY,
        id="negated-operators/hr-audit-Mary-no-match",
    ),
    pytest.param(
        [list_bucket(TAGS_AND_NOT_ARN)],
        principal("hr", "payroll", "Nikki"),
        Decision.IMPLICIT_DENY,
        id="negated-operators/hr-payroll-Nikki-no-match",
    ),
    pytest.param(
        [list_bucket(TAGS_AND_NOT_ARN)],
        principal("hr", None, "Nikki"),
        Decision.IMPLICIT_DENY,
        id="negated-operators/no-role-tag-no-match",
    ),
    pytest.param(
        [list_bucket(TAGS_AND_NOT_ARN)],
        principal(None, None, "Nikki"),
        Decision.IMPLICIT_DENY,
        id="negated-operators/no-tags-no-match",
    ),
    # Single-valued vs. multivalued context keys: "ForAllValues" example table
    pytest.param(
        [FOR_ALL_TAG_KEYS],
        delete_tags("environment"),
        Decision.ALLOWED,
        id="multivalued/ForAllValues-environment-match",
    ),
    pytest.param(
        [FOR_ALL_TAG_KEYS],
        delete_tags("cost-center"),
        Decision.ALLOWED,
        id="multivalued/ForAllValues-cost-center-match",
    ),
    pytest.param(
        [FOR_ALL_TAG_KEYS],
        delete_tags("environment", "cost-center"),
        Decision.ALLOWED,
        id="multivalued/ForAllValues-both-match",
    ),
    pytest.param(
        [FOR_ALL_TAG_KEYS],
        delete_tags("environment", "dept"),
        Decision.IMPLICIT_DENY,
        id="multivalued/ForAllValues-environment-dept-no-match",
    ),
    pytest.param(
        [FOR_ALL_TAG_KEYS],
        delete_tags(),
        Decision.IMPLICIT_DENY,
        id="multivalued/ForAllValues-no-TagKeys-Null-prevents-match",
    ),
    # Single-valued vs. multivalued context keys: "ForAnyValue" example table
    pytest.param(
        [FOR_ANY_TAG_KEYS],
        delete_tags("environment"),
        Decision.ALLOWED,
        id="multivalued/ForAnyValue-environment-match",
    ),
    pytest.param(
        [FOR_ANY_TAG_KEYS],
        delete_tags("cost-center"),
        Decision.ALLOWED,
        id="multivalued/ForAnyValue-cost-center-match",
    ),
    pytest.param(
        [FOR_ANY_TAG_KEYS],
        delete_tags("environment", "cost-center"),
        Decision.ALLOWED,
        id="multivalued/ForAnyValue-both-match",
    ),
    pytest.param(
        [FOR_ANY_TAG_KEYS],
        delete_tags("environment", "dept"),
        Decision.ALLOWED,
        id="multivalued/ForAnyValue-environment-dept-match",
    ),
    pytest.param(
        [FOR_ANY_TAG_KEYS],
        delete_tags("dept"),
        Decision.IMPLICIT_DENY,
        id="multivalued/ForAnyValue-dept-no-match",
    ),
    pytest.param(
        [FOR_ANY_TAG_KEYS],
        delete_tags(),
        Decision.IMPLICIT_DENY,
        id="multivalued/ForAnyValue-no-TagKeys-no-match",
    ),
    # Condition operators: "...IfExists condition operators" (ec2:InstanceType)
    pytest.param(
        [RUN_INSTANCES_IF_EXISTS],
        Request("ec2:RunInstances", INSTANCE, {"ec2:InstanceType": ("t2.micro",)}),
        Decision.ALLOWED,
        id="condition-operators/IfExists-t2-allowed",
    ),
    pytest.param(
        [RUN_INSTANCES_IF_EXISTS],
        Request("ec2:RunInstances", INSTANCE, {"ec2:InstanceType": ("m5.large",)}),
        Decision.IMPLICIT_DENY,
        id="condition-operators/IfExists-m5-no-match",
    ),
    pytest.param(
        [RUN_INSTANCES_IF_EXISTS],
        Request("ec2:RunInstances", "arn:aws:ec2:us-east-1::image/ami-1", known_keys=frozenset({"ec2:InstanceType"})),
        Decision.ALLOWED,
        id="condition-operators/IfExists-key-absent-true",
    ),
    pytest.param(
        [RUN_INSTANCES_NOT_WORKING],
        Request("ec2:RunInstances", "arn:aws:ec2:us-east-1::image/ami-1", known_keys=frozenset({"ec2:InstanceType"})),
        Decision.IMPLICIT_DENY,
        id="condition-operators/THISPOLICYDOESNOTWORK-key-absent-false",
    ),
    # Condition operators: "Condition operator to check existence of condition keys" (Null)
    pytest.param(
        [NO_TEMPORARY_CREDENTIALS],
        Request("ec2:DescribeInstances", "*", known_keys=frozenset({"aws:TokenIssueTime"})),
        Decision.ALLOWED,
        id="condition-operators/Null-true-long-term-credentials",
    ),
    pytest.param(
        [NO_TEMPORARY_CREDENTIALS],
        Request("ec2:DescribeInstances", "*", {"aws:TokenIssueTime": ("2020-01-01T00:00:01Z",)}),
        Decision.IMPLICIT_DENY,
        id="condition-operators/Null-true-temporary-credentials",
    ),
    # Condition operators: "Boolean condition operators" (aws:SecureTransport)
    pytest.param(
        [SECURE_TRANSPORT],
        Request("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/ana", {"aws:SecureTransport": ("true",)}),
        Decision.ALLOWED,
        id="condition-operators/Bool-SecureTransport-true",
    ),
    pytest.param(
        [SECURE_TRANSPORT],
        Request("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/ana", {"aws:SecureTransport": ("false",)}),
        Decision.IMPLICIT_DENY,
        id="condition-operators/Bool-SecureTransport-false",
    ),
    # Condition operators: "Numeric condition operators" are not modelled
    pytest.param(
        [MAX_KEYS],
        Request("s3:ListBucket", "arn:aws:s3:::example_bucket", {"s3:max-keys": ("5",)}),
        Decision.UNKNOWN,
        id="condition-operators/NumericLessThanEquals-not-modelled",
    ),
    # Condition operators, "Important": a missing key makes a positive operator false, a negated one true
    pytest.param(
        [list_bucket({"ArnNotLike": {"aws:SourceArn": "arn:aws:sns:*:*:*"}})],
        Request("s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket", known_keys=frozenset({"aws:SourceArn"})),
        Decision.ALLOWED,
        id="condition-operators/missing-key-negated-true",
    ),
    pytest.param(
        [list_bucket({"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:*"}})],
        Request("s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket", known_keys=frozenset({"aws:SourceArn"})),
        Decision.IMPLICIT_DENY,
        id="condition-operators/missing-key-positive-false",
    ),
    # Variables and tags: "Introduction" (own access keys) and "Condition element" (s3:prefix)
    pytest.param(
        [OWN_ACCESS_KEYS],
        access_key("David", username="David"),
        Decision.ALLOWED,
        id="variables/own-access-key",
    ),
    pytest.param(
        [OWN_ACCESS_KEYS],
        access_key("Adele", username="David"),
        Decision.IMPLICIT_DENY,
        id="variables/someone-elses-access-key",
    ),
    pytest.param([OWN_ACCESS_KEYS], access_key("David"), Decision.UNKNOWN, id="variables/username-unknown"),
    pytest.param(
        [HOME_PREFIX],
        req("s3:ListBucket", "arn:aws:s3:::mybucket", aws__username="David", s3__prefix="David/photos"),
        Decision.ALLOWED,
        id="variables/home-prefix-StringLike",
    ),
    pytest.param(
        [HOME_PREFIX],
        req("s3:ListBucket", "arn:aws:s3:::mybucket", aws__username="David", s3__prefix="Adele/photos"),
        Decision.IMPLICIT_DENY,
        id="variables/other-prefix-StringLike",
    ),
    # Variables and tags: "Specifying default values" and "Special characters"
    pytest.param(
        [USERID_OR_ANONYMOUS],
        Request("s3:GetObject", "arn:aws:s3:::bucket/anonymous/x", known_keys=frozenset({"aws:userid"})),
        Decision.ALLOWED,
        id="variables/default-value-when-absent",
    ),
    pytest.param(
        [USERID_OR_ANONYMOUS],
        req("s3:GetObject", "arn:aws:s3:::bucket/anonymous/x", aws__userid="AIDA1"),
        Decision.IMPLICIT_DENY,
        id="variables/default-value-unused-when-present",
    ),
    pytest.param(
        [LITERAL_STAR],
        req("s3:GetObject", "arn:aws:s3:::bucket/*"),
        Decision.ALLOWED,
        id="variables/special-character-literal-star",
    ),
    pytest.param(
        [LITERAL_STAR],
        req("s3:GetObject", "arn:aws:s3:::bucket/anything"),
        Decision.IMPLICIT_DENY,
        id="variables/special-character-not-a-wildcard",
    ),
]


@pytest.mark.parametrize(("policies", "request_", "expected"), DOC_CASES)
def test_documented_examples(policies: list[list[dict]], request_: Request, expected: Decision) -> None:
    assert decide(policies, request_) is expected


def test_variables_are_literal_without_version() -> None:
    """Variables and tags: without Version 2012-10-17, `${aws:username}` is literal text."""
    literal = evaluate(access_key("David", username="David"), [policy(*OWN_ACCESS_KEYS, version=None)])
    assert literal.decision is Decision.IMPLICIT_DENY
    dollar = Request("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}")
    assert evaluate(dollar, [policy(*OWN_ACCESS_KEYS, version="2008-10-17")]).decision is Decision.ALLOWED


# ---------------------------------------------------------------------------------------------
# What the evaluation reports, and when it is unknown


def test_reports_which_statements_apply() -> None:
    result = evaluate(req("s3:PutObject", "arn:aws:s3:::carlossalazar-logs/x"), [policy(*CARLOS)])
    assert [ref.sid for ref in result.denied_by] == ["DenyS3Logs"]
    assert result.allowed_by == ()
    allowed = evaluate(req("s3:PutObject", "arn:aws:s3:::carlossalazar/x"), [policy(*CARLOS)])
    assert [(ref.sid, ref.index, ref.pointer, ref.source) for ref in allowed.allowed_by] == [
        ("AllowS3Self", 1, "/Statement/1", "policy.json")
    ]


def test_unknown_names_the_operator() -> None:
    request = Request("s3:ListBucket", "arn:aws:s3:::example_bucket", {"s3:max-keys": ("5",)})
    result = evaluate(request, [policy(*MAX_KEYS)])
    [(ref, reason)] = result.uncertain
    assert ref.index == 0 and "NumericLessThanEquals" in reason


def test_unknown_names_the_key() -> None:
    result = evaluate(Request("ec2:RunInstances", INSTANCE), [policy(*RUN_INSTANCES_IF_EXISTS)])
    assert result.decision is Decision.UNKNOWN
    assert "ec2:InstanceType" in result.uncertain[0][1]


def test_known_keys_are_wildcards_and_case_insensitive() -> None:
    statement = allow("batch:SubmitJob", QUEUE, {"Null": {"aws:RequestTag/team": "true"}})
    request = Request("batch:SubmitJob", QUEUE, known_keys=frozenset({"AWS:requesttag/*"}))
    assert evaluate(request, [policy(statement)]).decision is Decision.ALLOWED


def test_context_keys_are_case_insensitive_values_are_not() -> None:
    def decision(operator: str, key: str, value: str) -> Decision:
        statement = allow("batch:SubmitJob", QUEUE, {operator: {"aws:RequestTag/Team": "render"}})
        return evaluate(Request("batch:SubmitJob", QUEUE, {key: (value,)}), [policy(statement)]).decision

    assert decision("StringEquals", "AWS:REQUESTTAG/TEAM", "render") is Decision.ALLOWED
    assert decision("StringEquals", "aws:RequestTag/Team", "Render") is Decision.IMPLICIT_DENY
    assert decision("StringEqualsIgnoreCase", "aws:RequestTag/Team", "Render") is Decision.ALLOWED


def test_single_valued_operator_on_several_values_is_unknown() -> None:
    """The documentation requires a set operator for a multivalued key and does not say what happens without one."""
    statement = allow("ec2:DeleteTags", "*", {"StringEquals": {"aws:TagKeys": "environment"}})
    assert evaluate(delete_tags("environment", "dept"), [policy(statement)]).decision is Decision.UNKNOWN
    assert evaluate(delete_tags("environment"), [policy(statement)]).decision is Decision.ALLOWED


@pytest.mark.parametrize(
    ("operator", "tag_keys", "expected"),
    [
        # Each request value is tested on its own; a negated operator means "matches none of the policy values".
        pytest.param(
            "ForAllValues:StringNotEquals",
            ("dept", "owner"),
            Decision.ALLOWED,
            id="ForAllValues-negated-none-listed",
        ),
        pytest.param(
            "ForAllValues:StringNotEquals",
            ("dept", "environment"),
            Decision.IMPLICIT_DENY,
            id="ForAllValues-negated-one-listed",
        ),
        pytest.param(
            "ForAnyValue:StringNotEquals",
            ("dept", "environment"),
            Decision.ALLOWED,
            id="ForAnyValue-negated-one-unlisted",
        ),
        pytest.param(
            "ForAnyValue:StringNotEquals",
            ("environment",),
            Decision.IMPLICIT_DENY,
            id="ForAnyValue-negated-all-listed",
        ),
        pytest.param("ForAnyValue:StringLike", ("env-prod",), Decision.ALLOWED, id="ForAnyValue-like"),
        # "If the key values in the request resolve to an empty data set ... ForAllValues returns
        # true, and ... ForAnyValue returns false" (and the same for a missing key).
        pytest.param("ForAllValues:StringEquals", (), Decision.ALLOWED, id="ForAllValues-empty-set-true"),
        pytest.param("ForAnyValue:StringEquals", (), Decision.IMPLICIT_DENY, id="ForAnyValue-empty-set-false"),
        pytest.param("ForAllValues:StringEquals", None, Decision.ALLOWED, id="ForAllValues-missing-key-true"),
        pytest.param("ForAnyValue:StringEquals", None, Decision.IMPLICIT_DENY, id="ForAnyValue-missing-key-false"),
    ],
)
def test_set_operators(operator: str, tag_keys: tuple[str, ...] | None, expected: Decision) -> None:
    statement = allow("ec2:DeleteTags", "*", {operator: {"aws:TagKeys": ["environment", "env-*"]}})
    context = {} if tag_keys is None else {"aws:TagKeys": tag_keys}
    request = Request("ec2:DeleteTags", INSTANCE, context, frozenset({"aws:TagKeys"}))
    assert evaluate(request, [policy(statement)]).decision is expected


def test_set_operator_with_if_exists_on_missing_key_is_unknown() -> None:
    statement = allow("ec2:DeleteTags", "*", {"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": "a"}})
    assert evaluate(delete_tags(), [policy(statement)]).decision is Decision.UNKNOWN


def test_arn_operators_compare_component_by_component() -> None:
    """ArnLike: each of the six colon-delimited components is checked separately, so `*` stays inside one."""
    def decision(pattern: str, arn: str) -> Decision:
        statement = allow("sqs:SendMessage", "*", {"ArnLike": {"aws:SourceArn": pattern}})
        request = Request("sqs:SendMessage", "arn:aws:sqs:us-east-1:1:q", {"aws:SourceArn": (arn,)})
        return evaluate(request, [policy(statement)]).decision

    topic = "arn:aws:sns:us-east-1:123456789012:topic"
    assert decision("arn:aws:sns:*:123456789012:*", topic) is Decision.ALLOWED
    assert decision("arn:aws:*:us-east-1:123456789012:topic", topic) is Decision.ALLOWED
    assert decision("arn:aws:sns:*", topic) is Decision.UNKNOWN  # not six components
    region_us_account_x = "arn:aws:sns:us:x-1:123456789012:topic"
    assert decision("arn:aws:sns:us-*-1:123456789012:topic", region_us_account_x) is Decision.IMPLICIT_DENY
    assert decision("arn:aws:sns:${aws:RequestedRegion}:123456789012:topic", topic) is Decision.UNKNOWN


def test_wildcards() -> None:
    """Action: case-insensitive, `*` and `?`, no character classes. Resource: case-sensitive, `*` spans `:` and `/`."""
    def decision(action_pattern: str, resource_pattern: str, action: str = "batch:SubmitJob") -> Decision:
        return evaluate(Request(action, QUEUE), [policy(allow(action_pattern, resource_pattern))]).decision

    assert decision("BATCH:submit???", "*") is Decision.ALLOWED
    assert decision("batch:*", "arn:aws:batch:*") is Decision.ALLOWED
    assert decision("batch:[S]ubmitJob", "*") is Decision.IMPLICIT_DENY
    assert decision("batch:[S]ubmitJob", "*", action="batch:[S]ubmitJob") is Decision.ALLOWED
    assert decision("batch:SubmitJob", QUEUE.replace("render", "RENDER")) is Decision.IMPLICIT_DENY
    assert decision("batch:SubmitJob", QUEUE.replace("render", "rend?r")) is Decision.ALLOWED
    assert decision("states:*", "*") is Decision.IMPLICIT_DENY


def test_actions_without_resource_level_permissions() -> None:
    """Resource "*" covers them; a concrete ARN cannot; a wildcard ARN is documented both ways."""
    def decision(resource_element: str, key: str = "Resource") -> Decision:
        statement = {"Effect": "Allow", "Action": "batch:DescribeJobs", key: resource_element}
        return evaluate(Request("batch:DescribeJobs", "*"), [policy(statement)]).decision

    assert decision("*") is Decision.ALLOWED
    assert decision(QUEUE) is Decision.IMPLICIT_DENY
    assert decision("arn:aws:batch:*") is Decision.UNKNOWN
    assert decision(QUEUE, key="NotResource") is Decision.ALLOWED
    assert decision("*", key="NotResource") is Decision.IMPLICIT_DENY


def test_policy_variable_rules() -> None:
    def decision(resource_element: str, **context: tuple[str, ...]) -> Decision:
        statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource_element}
        context_keys = {key.replace("__", ":"): values for key, values in context.items()}
        request = Request("s3:GetObject", "arn:aws:s3:::bucket/ana", context_keys)
        return evaluate(request, [policy(statement)]).decision

    assert decision("arn:aws:s3:::bucket/${AWS:UserName}", aws__username=("ana",)) is Decision.ALLOWED
    assert decision("arn:aws:s3:::bucket/${aws:username}", aws__username=("ana", "bo")) is Decision.UNKNOWN
    assert decision("arn:aws:s3:::bucket/${aws:username}", aws__username=("a*",)) is Decision.UNKNOWN
    assert decision("arn:${aws:partition}:s3:::bucket/ana", aws__partition=("aws",)) is Decision.UNKNOWN


def test_deny_that_might_apply_blocks_allowed_but_not_implicit_deny() -> None:
    maybe_deny = deny("batch:SubmitJob", "*", {"StringEquals": {"aws:RequestTag/team": "x"}})
    request = Request("batch:SubmitJob", QUEUE)
    assert evaluate(request, [policy(maybe_deny, allow("batch:SubmitJob"))]).decision is Decision.UNKNOWN
    assert evaluate(request, [policy(maybe_deny)]).decision is Decision.IMPLICIT_DENY


def test_false_beats_unknown_within_a_statement() -> None:
    unmodelled_and_false = {
        "DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"},
        "StringEquals": {"aws:RequestTag/team": "x"},
    }
    statement = allow("batch:SubmitJob", "*", unmodelled_and_false)
    request = Request("batch:SubmitJob", QUEUE, {"aws:RequestTag/team": ("y",)})
    assert evaluate(request, [policy(statement)]).decision is Decision.IMPLICIT_DENY


def test_statement_allows_action_and_actions_granted() -> None:
    [describe, deny, outside, negated] = policy(
        {"Effect": "Allow", "Action": "batch:Describe*", "Resource": "*"},
        {"Effect": "Deny", "Action": "batch:*", "Resource": "*"},
        # The catalogue ships every IAM service: only a service AWS does not have is outside it.
        {"Effect": "Allow", "Action": ["batch:SubmitJob", "nosuchservice:GetObject"], "Resource": "*"},
        {"Effect": "Allow", "NotAction": ["batch:*", "iam:*", "logs:*", "xray:*", "events:*"], "Resource": "*"},
    ).statements
    assert statement_allows_action(describe, "batch:describejobs")
    assert not statement_allows_action(describe, "batch:SubmitJob")
    assert not statement_allows_action(deny, "batch:SubmitJob")
    assert actions_granted(describe) == expand_action_pattern("batch:Describe*")
    assert "batch:DescribeJobs" in actions_granted(describe)
    assert actions_granted(deny) == frozenset()
    assert actions_granted(outside) is None
    granted = actions_granted(negated)
    assert granted and not any(action.startswith(("batch:", "iam:", "logs:", "xray:", "events:")) for action in granted)
    assert {"states:StartExecution", "s3:GetObject", "sqs:SendMessage"} <= granted


def test_request_rejects_a_bare_string_value() -> None:
    with pytest.raises(TypeError):
        Request("batch:SubmitJob", QUEUE, {"aws:TagKeys": "team"})  # type: ignore[dict-item]
    with pytest.raises(ValueError):
        Request("batch:SubmitJob", QUEUE, {"aws:TagKeys": ("a",), "AWS:TAGKEYS": ("b",)})


# ---------------------------------------------------------------------------------------------
# Properties

ACTIONS = ("batch:SubmitJob", "batch:DescribeJobs", "batch:TagResource", "states:StartExecution")
ACTION_PATTERNS = ACTIONS + ("*", "batch:*", "batch:Describe*", "BATCH:submitjob", "batch:Submit?ob", "states:*")
RESOURCES = (QUEUE, "arn:aws:batch:us-east-1:123456789012:job-queue/other", "*")
RESOURCE_PATTERNS = ("*", QUEUE, "arn:aws:batch:*:*:job-queue/*", QUEUE.replace("render", "r*"), "arn:aws:states:*")
CONDITIONS = (
    {},
    {"StringEquals": {"aws:RequestTag/team": "render"}},
    {"StringNotEquals": {"aws:RequestTag/team": ["render", "audio"]}},
    {"StringLike": {"aws:RequestTag/team": "r*"}},
    {"Null": {"aws:RequestTag/team": "true"}},
    {"StringEqualsIfExists": {"aws:RequestTag/team": "render"}},
    {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "cost"]}},
    {"ForAnyValue:StringLike": {"aws:TagKeys": "t*"}},
    {"NumericLessThan": {"batch:ShareIdentifier": "3"}},
    {"StringEquals": {"batch:ShareIdentifier": "high"}},
)
CONTEXTS = (
    ({}, frozenset()),
    ({}, frozenset({"aws:RequestTag/*", "aws:TagKeys"})),
    ({"aws:RequestTag/team": ("render",), "aws:TagKeys": ("team",)}, frozenset({"aws:RequestTag/*"})),
    ({"aws:RequestTag/team": ("audio",), "aws:TagKeys": ("team",)}, frozenset({"aws:RequestTag/*"})),
    ({"aws:TagKeys": ("team", "owner")}, frozenset({"aws:RequestTag/*", "batch:*"})),
)


@st.composite
def statements(draw: st.DrawFn, effect: str | None = None) -> dict:
    action_element = draw(st.sampled_from(("Action", "NotAction")))
    resource_element = draw(st.sampled_from(("Resource", "Resource", "NotResource")))
    statement = {
        "Effect": effect or draw(st.sampled_from(("Allow", "Deny"))),
        action_element: draw(st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=3)),
        resource_element: draw(st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=2)),
    }
    condition = draw(st.sampled_from(CONDITIONS))
    if condition:
        statement["Condition"] = condition
    return statement


@st.composite
def requests(draw: st.DrawFn) -> Request:
    context, known = draw(st.sampled_from(CONTEXTS))
    return Request(draw(st.sampled_from(ACTIONS)), draw(st.sampled_from(RESOURCES)), context, known)


statement_lists = st.lists(statements(), max_size=6)
# conftest.py's autouse environment fixture is function-scoped; these tests do not touch the environment.
PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY_SETTINGS
@given(statement_lists, requests())
def test_a_matching_deny_always_wins(others: list[dict], request_: Request) -> None:
    deny = {"Effect": "Deny", "Action": request_.action, "Resource": "*"}
    assert evaluate(request_, [policy(*others, deny)]).decision is Decision.EXPLICIT_DENY


@PROPERTY_SETTINGS
@given(statement_lists, statements(effect="Allow"), requests())
def test_adding_an_allow_never_takes_away_allowed(others: list[dict], extra: dict, request_: Request) -> None:
    # A plain Allow for the request makes ALLOWED common enough to test (the others may still deny).
    existing = [*others, {"Effect": "Allow", "Action": request_.action, "Resource": "*"}]
    if evaluate(request_, [policy(*existing)]).decision is Decision.ALLOWED:
        assert evaluate(request_, [policy(*existing, extra)]).decision is Decision.ALLOWED
        assert evaluate(request_, [policy(*existing), policy(extra)]).decision is Decision.ALLOWED


@PROPERTY_SETTINGS
@given(st.sampled_from(ACTION_PATTERNS), st.sampled_from(ACTIONS), requests(), st.sampled_from(CONDITIONS))
def test_not_action_never_allows_what_it_lists(pattern: str, action: str, request_: Request, condition: dict) -> None:
    statement = {"Effect": "Allow", "NotAction": [pattern], "Resource": "*"}
    if condition:
        statement["Condition"] = condition
    listed = Request(pattern, request_.resource, request_.context, request_.known_keys)
    assert evaluate(listed, [policy(statement)]).decision is Decision.IMPLICIT_DENY
    matching = Request(action, request_.resource, request_.context, request_.known_keys)
    if statement_allows_action(policy({"Effect": "Allow", "Action": pattern, "Resource": "*"}).statements[0], action):
        assert evaluate(matching, [policy(statement)]).decision is Decision.IMPLICIT_DENY


@PROPERTY_SETTINGS
@given(
    st.lists(statements(), min_size=1, max_size=6).flatmap(
        lambda items: st.tuples(st.just(items), st.permutations(items))
    ),
    requests(),
)
def test_statement_order_does_not_matter(orders: tuple[list[dict], list[dict]], request_: Request) -> None:
    original, shuffled = orders
    first = evaluate(request_, [policy(*original)])
    second = evaluate(request_, [policy(*shuffled)])
    assert first.decision is second.decision
    assert len(first.allowed_by) == len(second.allowed_by)
    assert len(first.denied_by) == len(second.denied_by)
    assert sorted(reason for _, reason in first.uncertain) == sorted(reason for _, reason in second.uncertain)


UNMODELLED_OPERATORS = (
    "NumericLessThan",
    "NumericEquals",
    "DateGreaterThan",
    "IpAddress",
    "NotIpAddress",
    "BinaryEquals",
    "StringEqualsAnything",
    "ForAllValues:NumericEquals",
    "NullIfExists",
)


@PROPERTY_SETTINGS
@given(st.sampled_from(UNMODELLED_OPERATORS), requests())
def test_unmodelled_operator_on_a_matching_statement_is_unknown(operator: str, request_: Request) -> None:
    statement = allow("*", "*", {operator: {"aws:RequestTag/team": "1"}})
    result = evaluate(request_, [policy(statement)])
    assert result.decision is Decision.UNKNOWN
    assert operator in result.uncertain[0][1]


# ---------------------------------------------------------------------------------------------
# Parsing errors

GOOD = {"Effect": "Allow", "Action": "batch:SubmitJob", "Resource": "*"}


@pytest.mark.parametrize(
    ("data", "pointer"),
    [
        pytest.param([GOOD], "", id="not-an-object"),
        pytest.param({"Version": "2012-10-17"}, "", id="no-Statement"),
        pytest.param({"Statement": "x"}, "/Statement", id="Statement-a-string"),
        pytest.param({"Statement": [GOOD, 3]}, "/Statement/1", id="statement-not-an-object"),
        pytest.param({"Version": "2012-10-18", "Statement": [GOOD]}, "/Version", id="unknown-Version"),
        pytest.param({"Statement": [GOOD], "Statements": []}, "/Statements", id="unknown-policy-element"),
        pytest.param({"Statement": [{"Action": "a:b", "Resource": "*"}]}, "/Statement/0", id="no-Effect"),
        pytest.param({"Statement": [dict(GOOD, Effect="allow")]}, "/Statement/0/Effect", id="Effect-lower-case"),
        pytest.param({"Statement": [{"Effect": "Allow", "Resource": "*"}]}, "/Statement/0", id="no-Action"),
        pytest.param({"Statement": [dict(GOOD, NotAction="a:b")]}, "/Statement/0/NotAction", id="Action-and-NotAction"),
        pytest.param({"Statement": [dict(GOOD, Action=3)]}, "/Statement/0/Action", id="Action-a-number"),
        pytest.param(
            {"Statement": [dict(GOOD, Action=["a:b", None])]},
            "/Statement/0/Action/1",
            id="Action-entry-null",
        ),
        pytest.param({"Statement": [dict(GOOD, Action=[])]}, "/Statement/0/Action", id="Action-empty"),
        pytest.param({"Statement": [{"Effect": "Allow", "Action": "a:b"}]}, "/Statement/0", id="no-Resource"),
        pytest.param(
            {"Statement": [dict(GOOD, NotResource="*")]},
            "/Statement/0/NotResource",
            id="Resource-and-NotResource",
        ),
        pytest.param(
            {"Statement": [GOOD, {"Effect": "Allow", "Action": "a:b", "NotResource": []}]},
            "/Statement/1/NotResource",
            id="NotResource-empty",
        ),
        pytest.param({"Statement": [dict(GOOD, Principal={"AWS": "*"})]}, "/Statement/0/Principal", id="Principal"),
        pytest.param({"Statement": [dict(GOOD, NotPrincipal="*")]}, "/Statement/0/NotPrincipal", id="NotPrincipal"),
        pytest.param({"Statement": [dict(GOOD, Sid=1)]}, "/Statement/0/Sid", id="Sid-a-number"),
        pytest.param(
            {"Statement": [dict(GOOD, Actions="a:b")]},
            "/Statement/0/Actions",
            id="unknown-statement-element",
        ),
        pytest.param({"Statement": [dict(GOOD, Condition=[])]}, "/Statement/0/Condition", id="Condition-a-list"),
        pytest.param(
            {"Statement": [dict(GOOD, Condition={"StringEquals": "x"})]},
            "/Statement/0/Condition/StringEquals",
            id="operator-not-an-object",
        ),
        pytest.param(
            {"Statement": [dict(GOOD, Condition={"StringEquals": {}})]},
            "/Statement/0/Condition/StringEquals",
            id="operator-empty",
        ),
        pytest.param(
            {"Statement": [dict(GOOD, Condition={"StringEquals": {"aws:RequestTag/team": {"a": 1}}})]},
            "/Statement/0/Condition/StringEquals/aws:RequestTag~1team",
            id="condition-value-an-object",
        ),
        pytest.param(
            {"Statement": [dict(GOOD, Condition={"StringEquals": {"aws:RequestTag/team": ["a", None]}})]},
            "/Statement/0/Condition/StringEquals/aws:RequestTag~1team/1",
            id="condition-value-null",
        ),
        pytest.param(
            {"Statement": [dict(GOOD, Condition={"StringEquals": {"k": []}})]},
            "/Statement/0/Condition/StringEquals/k",
            id="condition-values-empty",
        ),
        pytest.param({"Statement": dict(GOOD, Effect="Maybe")}, "/Statement/Effect", id="single-statement-object"),
    ],
)
def test_malformed_policies(data: Any, pointer: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_policy(data, "role.json")
    assert raised.value.location == Location("role.json", pointer=pointer)


IN_TEMPLATE = "/Resources/Role/Properties/PolicyDocument"


def test_errors_and_statements_are_located_with_locate() -> None:
    def locate(pointer: str) -> Location:
        return Location("template.yaml", line=10 + pointer.count("/"), pointer=f"{IN_TEMPLATE}{pointer}")

    parsed = parse_policy({"Statement": GOOD}, "template.yaml", locate)
    assert parsed.statements[0].ref.location == Location("template.yaml", 11, None, f"{IN_TEMPLATE}/Statement")
    with pytest.raises(InputError) as raised:
        parse_policy({"Statement": [dict(GOOD, Effect="allow")]}, "template.yaml", locate)
    assert raised.value.location == Location("template.yaml", 13, None, f"{IN_TEMPLATE}/Statement/0/Effect")


def test_parsed_model() -> None:
    parsed = policy(
        {
            "Sid": "Tags",
            "Effect": "Deny",
            "NotAction": "iam:*",
            "NotResource": [QUEUE],
            "Condition": {"Bool": {"aws:SecureTransport": False}, "NumericEquals": {"n": 3}},
        }
    )
    [statement] = parsed.statements
    assert parsed.version == "2012-10-17"
    assert (statement.effect, statement.actions_negated, statement.resources_negated) == (Effect.DENY, True, True)
    assert [(test.operator, test.key, test.values) for test in statement.conditions] == [
        ("Bool", "aws:SecureTransport", ("false",)),
        ("NumericEquals", "n", ("3",)),
    ]
    assert str(statement.ref) == "policy.json (at /Statement/0): statement 0 (Tags)"
