"""`policygen lint --fix` never widens access.

For random policies and random Batch definitions, over the needed requests and random others, the
fixed policy F and the original P satisfy, judged by policygen's evaluator and by the small oracle
in tests/iam_oracle.py:
- every request a state needs is allowed by F (and the linter finds no PG101/PG102/PG103 in F);
- a request F allows and no state needs is allowed by P;
or --fix refuses, naming a Deny it cannot narrow exactly. A second property draws only Deny
statements about the needed actions beside an Allow of all of them, where a narrowing error shows.
Then the three reported misses, each pinned on a fixed example, and one test per narrowing shape.
"""

from __future__ import annotations

import json
import re

import iam_oracle
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from strategies import fix_batch_state, parallel_machine, submit_state, tasks_of

from policygen.errors import Location, UsageError
from policygen.iam.evaluate import evaluate
from policygen.iam.policy import parse_policy
from policygen.iam.request import Decision, Request
from policygen.lint.engine import lint_role
from policygen.lint.findings import Role, policy_source
from policygen.lint.fix import fixed_policy
from policygen.lint.roles.unit import LintUnit
from policygen.requirements.requests import requests_of
from policygen.requirements.target import resolve_target

REGION, ACCOUNT, OTHER_REGION = "eu-west-1", "111122223333", "us-east-1"
ARN = f"arn:aws:batch:{REGION}:{ACCOUNT}"
RULE = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/StepFunctionsGetEventsForBatchJobsRule"
# Actions without resource types: their requests name "*" and nothing else.
RESOURCELESS = ("batch:DescribeJobs", "batch:ListJobs")
PROFILE = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- helpers -------------------------------------------------------------------------------------


_submit = submit_state


def _fix(tasks, *policies: dict):
    target = resolve_target(tasks, REGION, ACCOUNT, {})
    sources = tuple(
        policy_source(policy, f"p{i}.json", lambda p, i=i: Location(f"p{i}.json", pointer=p)) for i, policy in enumerate(policies)
    )
    role = Role("role", sources)
    findings = lint_role(tasks, role, target, lambda task: Location(task.file, pointer=task.pointer))
    unit = LintUnit(role, tuple(tasks), target, ("machine",))
    fixed, notes = fixed_policy(unit, findings)
    return fixed, notes, [access for task in tasks for access in requests_of(task, target)]


def _decision(policy: dict, action: str, resource: str, context: dict, known=frozenset({"*"})) -> Decision:
    """policygen's verdict; context values are strings, or tuples for a multivalued key."""
    document = parse_policy(policy, "policy.json")
    values = {k: v if isinstance(v, tuple) else (v,) for k, v in context.items()}
    return evaluate(Request(action, resource, values, known), [document]).decision


def _oracle(policy: dict, action: str, resource: str, context: dict) -> bool | None:
    """The oracle's verdict, None when the policy uses what it does not model (the conditions
    --fix writes for tags: ForAllValues, ForAnyValue, StringNotEquals)."""
    single = {k: v for k, v in context.items() if isinstance(v, str)}
    try:
        return iam_oracle.allows(policy, action, resource, single)
    except iam_oracle.NotJudged:
        return None


def _instances(pattern: str, names) -> list[str]:
    return [pattern.replace("*", name) for name in names] if "*" in pattern else [pattern]


def _glob(pattern: str, text: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.DOTALL) is not None


def _needed(accesses, action: str, resource: str, context: dict) -> bool:
    """Whether a state needs the request: its action, on a resource its pattern covers, meeting
    the need's conditions (the tag conditions: StringEquals, ForAllValues:StringEquals)."""
    for access in accesses:
        if access.action.lower() != action.lower():
            continue
        if not any(_glob(pattern, resource) for pattern in access.patterns):
            continue
        if all(_holds(operator, context.get(key), values) for operator, key, values in access.conditions):
            return True
    return False


def _holds(operator: str, value, wanted: tuple[str, ...]) -> bool:
    if operator == "StringEquals":
        return isinstance(value, str) and value in wanted
    assert operator == "ForAllValues:StringEquals", operator
    return value is None or all(item in wanted for item in (value if isinstance(value, tuple) else (value,)))


# --- strategies: what both evaluators can judge --------------------------------------------------

ACTIONS = (
    "batch:SubmitJob", "batch:TerminateJob", "batch:DescribeJobs", "batch:CancelJob", "batch:ListJobs",
    "batch:TagResource", "events:PutRule", "events:PutTargets", "events:DescribeRule", "s3:GetObject",
    "s3:DeleteObject", "logs:PutLogEvents",
)
ACTION_PATTERNS = ACTIONS + ("batch:*", "batch:Submit*", "batch:*Job?", "events:*", "s3:*", "*", "BATCH:terminatejob")
RESOURCE_PATTERNS = (
    "*",
    f"{ARN}:job-queue/etl",
    f"{ARN}:job-queue/*",
    "arn:aws:batch:*:*:job-queue/*",
    f"{ARN}:job/*",
    "arn:aws:batch:*:*:job/*",
    f"arn:aws:batch:{OTHER_REGION}:*:job/*",
    f"{ARN}:job-definition/etl:?",
    "arn:aws:batch:*:*:job-definition/*",
    f"{ARN}:job-definition/*",
    "arn:aws:events:*:*:rule/StepFunctionsGetEventsForBatchJobsRule",
    "arn:aws:events:*:*:rule/*",
    "arn:aws:s3:::bucket/*",
    "arn:aws:*",
)
CONDITIONS = (
    None,
    {"StringEquals": {"aws:RequestedRegion": REGION}},
    {"StringEquals": {"aws:RequestedRegion": OTHER_REGION}},
    {"StringLike": {"aws:RequestTag/team": "g*"}},
    {"StringEquals": {"aws:RequestedRegion": [REGION, OTHER_REGION]}, "StringLike": {"aws:RequestTag/team": "*"}},
)
NAMES = ("etl", "gpu", "x1")
# Resources no state needs, or not with every action.
OTHER_RESOURCES = (
    f"{ARN}:job-queue/etl",
    f"{ARN}:job-queue/x1",
    f"{ARN}:job/1",
    f"arn:aws:batch:{OTHER_REGION}:{ACCOUNT}:job/1",
    f"arn:aws:batch:{REGION}:999999999999:job-queue/etl",
    f"{ARN}:job-definition/gpu:1",
    f"arn:aws:events:{REGION}:{ACCOUNT}:rule/Other",
    RULE,
    "arn:aws:s3:::bucket/key",
)
NEAR_CONTEXTS = (
    {"aws:RequestedRegion": REGION},
    {"aws:RequestedRegion": OTHER_REGION},
    {"aws:RequestedRegion": REGION, "aws:RequestTag/team": "ops", "aws:TagKeys": ("team",)},
    {"aws:RequestedRegion": REGION, "aws:RequestTag/team": "genomics", "aws:TagKeys": ("owner", "team")},
)


def _one_or_list(items: list[str]):
    return items[0] if len(items) == 1 else items


@st.composite
def statement(draw, needed_actions: tuple[str, ...] = (), effects: tuple[str, ...] = ("Allow", "Deny")) -> dict:
    data: dict = {"Effect": draw(st.sampled_from(effects))}
    # Often the very actions the states need: a fix errs where the policy touches them.
    patterns = st.sampled_from(needed_actions) if needed_actions and draw(st.booleans()) else st.sampled_from(ACTION_PATTERNS)
    actions = draw(st.lists(patterns, min_size=1, max_size=3, unique=True))
    data[draw(st.sampled_from(["Action", "Action", "NotAction"]))] = _one_or_list(actions)
    resources = draw(st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=3, unique=True))
    data[draw(st.sampled_from(["Resource", "Resource", "NotResource"]))] = _one_or_list(resources)
    condition = draw(st.sampled_from(CONDITIONS))
    if condition is not None:
        data["Condition"] = condition
    if draw(st.booleans()):
        data["Sid"] = draw(st.sampled_from(["A", "B", "BatchSubmitJob"]))
    return data


@st.composite
def policy(draw, needed_actions: tuple[str, ...] = ()) -> dict:
    statements = draw(st.lists(statement(needed_actions), min_size=1, max_size=5))
    sids: set = set()
    for item in statements:  # IAM wants unique Sids; the fixer keeps them unique
        if "Sid" in item and item["Sid"] in sids:
            del item["Sid"]
        sids.add(item.get("Sid"))
    document = {"Statement": statements}
    if draw(st.booleans()):
        document = {"Version": "2012-10-17", **document}
    return document


@st.composite
def request(draw, accesses) -> tuple[str, str, dict]:
    # Half the time an action some state needs: the requests near the needs are where a fix errs.
    needed_actions = sorted({access.action for access in accesses})
    action = draw(st.sampled_from(needed_actions)) if draw(st.booleans()) else draw(st.sampled_from(ACTIONS))
    if action in RESOURCELESS:
        resource = "*"
    else:
        needed = [instance for a in accesses for p in a.patterns for instance in _instances(p, NAMES) if p != "*"]
        resource = draw(st.sampled_from(needed + list(OTHER_RESOURCES)))
    context: dict = {"aws:RequestedRegion": draw(st.sampled_from([REGION, OTHER_REGION]))}
    tags = {}
    for key, values in (("team", ["genomics", "ops"]), ("cost", ["x", "y"])):
        value = draw(st.sampled_from([None, *values]))
        if value is not None:
            tags[key] = value
            context[f"aws:RequestTag/{key}"] = value
    if tags or draw(st.booleans()):
        # As IAM sends it: the keys of the request's tags, or now and then one more.
        extra = ("owner",) if draw(st.booleans()) else ()
        context["aws:TagKeys"] = tuple(sorted(tags)) + extra
    return action, resource, context


# --- the property --------------------------------------------------------------------------------


def _needed_actions(tasks) -> tuple[str, ...]:
    target = resolve_target(tasks, REGION, ACCOUNT, {})
    return tuple(sorted({access.action for task in tasks for access in requests_of(task, target)}))


@PROFILE
@given(st.lists(fix_batch_state(), min_size=1, max_size=3), st.data())
def test_fix_allows_the_needs_and_nothing_new(states, data):
    tasks = tasks_of(parallel_machine(*states))
    original = data.draw(policy(_needed_actions(tasks)), label="original")
    _check_fix(tasks, original, data)


@PROFILE
@given(st.lists(fix_batch_state(), min_size=1, max_size=3), st.data())
def test_a_narrowed_deny_still_denies_all_but_the_needs(states, data):
    """The same property where it is hardest: a role that allows every needed action on every
    resource, and Deny statements about those actions; whatever a narrowed Deny stops denying
    shows."""
    tasks = tasks_of(parallel_machine(*states))
    needed_actions = _needed_actions(tasks)
    denies = data.draw(st.lists(statement(needed_actions, ("Deny",)), min_size=1, max_size=2), label="denies")
    allow = {"Effect": "Allow", "Action": [*needed_actions, "s3:GetObject"], "Resource": "*"}
    _check_fix(tasks, {"Version": "2012-10-17", "Statement": [allow, *denies]}, data)


def _check_fix(tasks, original: dict, data) -> None:
    try:
        fixed, _, accesses = _fix(tasks, original)
    except UsageError as error:
        # Refused: only for a Deny it cannot narrow exactly, which the message names.
        event("refused: " + re.sub(r"[\w:/*?.-]*[:/][\w:/*?.-]*|\"\w+\"|'\w+'", "X", error.message.split(" exactly: ")[-1])[:70])
        assert "cannot narrow statement" in error.message and error.location is not None
        index = int(error.location.pointer.rsplit("/", 1)[-1]) if error.location.pointer != "/Statement" else 0
        items = original["Statement"]
        assert (items[index] if isinstance(items, list) else items)["Effect"] == "Deny"
        return
    event("fixed")
    if _oracle(fixed, "s3:GetObject", "*", {}) is not None:
        event("fixed policy judged by the oracle")
    # The linter agrees: nothing missing, denied or misplaced is left.
    target = resolve_target(tasks, REGION, ACCOUNT, {})
    role = Role("fixed", (policy_source(fixed, "fixed.json", lambda p: Location("fixed.json", pointer=p)),))
    left = lint_role(tasks, role, target, lambda task: Location(task.file, pointer=task.pointer))
    assert not [f.message for f in left if f.rule.id in ("PG101", "PG102", "PG103")], fixed
    # Every needed request, at its representative and at concrete names, is allowed.
    for access in accesses:
        context = {key: values if key == "aws:TagKeys" else values[0] for key, values in access.context}
        for resource, pattern in zip(access.resources, access.patterns, strict=False):
            representative = Request(access.action, resource, dict(access.context), access.known_keys)
            assert evaluate(representative, [parse_policy(fixed, "fixed.json")]).decision is Decision.ALLOWED, (access, fixed)
            for concrete in _instances(pattern, NAMES):
                assert _decision(fixed, access.action, concrete, context, access.known_keys) is Decision.ALLOWED
                assert _oracle(fixed, access.action, concrete, context) in (True, None), (access.action, concrete, fixed)
    # Nothing the original did not allow, except what is needed: random requests, and those next
    # to each need (its action on its resources, in other contexts).
    near = [
        (access.action, concrete, context)
        for access in accesses
        for pattern in access.patterns
        for concrete in _instances(pattern, NAMES[:1])
        for context in NEAR_CONTEXTS
    ] + [
        (action, resource, NEAR_CONTEXTS[0])
        for action in sorted({access.action for access in accesses} - set(RESOURCELESS))
        for resource in OTHER_RESOURCES
    ]
    for action, resource, context in near + data.draw(st.lists(request(accesses), min_size=10, max_size=30)):
        if _needed(accesses, action, resource, context):
            continue
        if _oracle(fixed, action, resource, context):
            assert _oracle(original, action, resource, context), (action, resource, context, fixed)
            event("judged by the oracle")
        after = _decision(fixed, action, resource, context)
        before = _decision(original, action, resource, context)
        if after is Decision.ALLOWED:
            assert before is Decision.ALLOWED, (action, resource, context, after, before, fixed)
        if after is Decision.UNKNOWN:
            assert before in (Decision.ALLOWED, Decision.UNKNOWN), (action, resource, context, before, fixed)


# --- the three reported misses -------------------------------------------------------------------

RUN_JOB = _submit(JobQueue="etl", JobDefinition="etl:3")


def test_a_deny_guardrail_blocking_a_need_is_narrowed_not_dropped():
    """Was: PG102 dropped the whole Deny, so s3:DeleteObject (denied beside TerminateJob) became
    allowed by the Allow * beside it."""
    original = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Admin", "Effect": "Allow", "Action": ["batch:SubmitJob", "batch:DescribeJobs", "s3:*"], "Resource": "*"},
        {"Sid": "Guardrail", "Effect": "Deny", "Action": ["s3:DeleteObject", "batch:TerminateJob"], "Resource": "*"},
    ]}
    fixed, notes, _ = _fix(tasks_of(parallel_machine(RUN_JOB)), original)
    for policy_ in (original, fixed):
        assert not iam_oracle.allows(policy_, "s3:DeleteObject", "arn:aws:s3:::bucket/key", {})
        assert _decision(policy_, "s3:DeleteObject", "arn:aws:s3:::bucket/key", {}) is Decision.EXPLICIT_DENY
    # TerminateJob is still denied everywhere but on the state's own jobs, which it needs.
    assert _decision(fixed, "batch:TerminateJob", f"{ARN}:job/1", {}) is Decision.ALLOWED
    assert _decision(fixed, "batch:TerminateJob", f"arn:aws:batch:{OTHER_REGION}:{ACCOUNT}:job/1", {}) is Decision.EXPLICIT_DENY
    assert any('narrowed statement "Guardrail"' in note.message for note in notes)


def test_other_services_actions_in_an_edited_statement_are_kept():
    """Was: PG201 dropped the whole statement, s3:GetObject and logs included."""
    original = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Broad", "Effect": "Allow", "Action": ["batch:*", "s3:GetObject", "logs:PutLogEvents"], "Resource": "*"},
    ]}
    fixed, _, _ = _fix(tasks_of(parallel_machine(RUN_JOB)), original)
    for action, resource in (("s3:GetObject", "arn:aws:s3:::bucket/key"), ("logs:PutLogEvents", "arn:aws:logs:eu-west-1:1:log-group:g")):
        assert _decision(fixed, action, resource, {}) is Decision.ALLOWED
        assert iam_oracle.allows(fixed, action, resource, {})
    assert not iam_oracle.allows(fixed, "batch:DeleteJobQueue", f"{ARN}:job-queue/etl", {})


def test_a_narrow_role_gets_no_resource_star():
    """Was: the documented statements (SubmitJob and TerminateJob on "*") were added to a role that
    granted SubmitJob on one queue only."""
    original = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "batch:SubmitJob", "Resource": [f"{ARN}:job-queue/etl", f"{ARN}:job-definition/etl:3", f"{ARN}:job/*"]},
    ]}
    fixed, _, _ = _fix(tasks_of(parallel_machine(RUN_JOB)), original)
    stars = [s for s in fixed["Statement"] if s.get("Resource") in ("*", ["*"])]
    assert [s["Action"] for s in stars] == [["batch:DescribeJobs"]]  # it has no resource types
    for policy_ in (original, fixed):
        assert not iam_oracle.allows(policy_, "batch:SubmitJob", f"{ARN}:job-queue/other", {})
        assert not iam_oracle.allows(policy_, "batch:TerminateJob", f"arn:aws:batch:{OTHER_REGION}:{ACCOUNT}:job/1", {})
    assert iam_oracle.allows(fixed, "batch:TerminateJob", f"{ARN}:job/1", {})
    assert fixed["Statement"][0] == original["Statement"][0]  # kept as the original grants it


# --- how a Deny is narrowed ----------------------------------------------------------------------


def test_a_deny_is_narrowed_only_for_the_needed_tags():
    """TagResource is needed only with the state's tags (fine-grained conditions): the Deny keeps
    denying it with other tags, or with more tag keys, on the same jobs."""
    state = _submit(JobQueue="etl", JobDefinition="etl:3", Tags={"team": "genomics"})
    original = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["batch:TagResource"], "Resource": "*"},
        {"Sid": "NoTagging", "Effect": "Deny", "Action": "batch:TagResource", "Resource": "*"},
    ]}
    fixed, _, _ = _fix(tasks_of(parallel_machine(state)), original)
    document = parse_policy(fixed, "fixed.json")

    def decide(tags: dict, resource: str = f"{ARN}:job/1") -> Decision:
        context = {f"aws:RequestTag/{k}": (v,) for k, v in tags.items()}
        context["aws:TagKeys"] = tuple(sorted(tags))
        return evaluate(Request("batch:TagResource", resource, context, frozenset({"*"})), [document]).decision

    assert decide({"team": "genomics"}) is Decision.ALLOWED
    assert decide({"team": "ops"}) is Decision.EXPLICIT_DENY
    assert decide({"team": "genomics", "owner": "me"}) is Decision.EXPLICIT_DENY
    assert decide({"team": "genomics"}, f"{ARN}:job-queue/etl") is Decision.EXPLICIT_DENY
    assert decide({"team": "genomics"}, f"arn:aws:batch:{OTHER_REGION}:{ACCOUNT}:job/1") is Decision.EXPLICIT_DENY
    denies = [s for s in fixed["Statement"] if s["Effect"] == "Deny"]
    assert [s.get("Sid") for s in denies] == ["NoTagging", "NoTagging2", "NoTagging3"]


# What RUN_JOB needs (a .sync SubmitJob): every one of them is denied by a Deny of "*".
RUN_JOB_ACTIONS = [
    "batch:DescribeJobs", "batch:SubmitJob", "batch:TerminateJob", "events:DescribeRule", "events:PutRule", "events:PutTargets",
]


@pytest.mark.parametrize(
    "deny, shape",
    [
        ({"Action": "*", "Resource": "*"}, {"NotAction": RUN_JOB_ACTIONS}),
        ({"NotAction": ["iam:*"], "Resource": "*"}, {"NotAction": ["iam:*", *RUN_JOB_ACTIONS]}),
        ({"Action": ["batch:TerminateJob"], "NotResource": [f"{ARN}:job/keep"]}, {"NotResource": [f"{ARN}:job/keep", f"{ARN}:job/*"]}),
    ],
)
def test_deny_shapes_narrowed_exactly(deny, shape):
    original = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["batch:*", "s3:GetObject"], "Resource": "*"},
        {"Sid": "Guard", "Effect": "Deny", **deny, "Condition": {"StringEquals": {"aws:RequestedRegion": REGION}}},
    ]}
    fixed, _, _ = _fix(tasks_of(parallel_machine(RUN_JOB)), original)
    guard = next(s for s in fixed["Statement"] if s.get("Sid") == "Guard")
    assert {k: guard[k] for k in shape} == shape
    assert all(s["Condition"] == original["Statement"][1]["Condition"] for s in fixed["Statement"] if s["Effect"] == "Deny")
    region = {"aws:RequestedRegion": REGION}
    assert _decision(fixed, "batch:TerminateJob", f"{ARN}:job/1", region) is Decision.ALLOWED
    assert iam_oracle.allows(fixed, "batch:TerminateJob", f"{ARN}:job/1", region)


@pytest.mark.parametrize(
    "deny",
    [
        {"Action": "batch:*", "Resource": "*"},
        {"Action": "batch:Terminate*", "Resource": f"{ARN}:job/*"},
    ],
)
def test_a_deny_that_cannot_be_narrowed_exactly_is_refused(run_cli, tmp_path, deny):
    """Exit 2, the Deny named, nothing written: IAM cannot write "batch:* except TerminateJob"."""
    definition = tmp_path / "machine.asl.json"
    definition.write_text(json.dumps(parallel_machine(RUN_JOB)))
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "batch:SubmitJob", "Resource": "*"}, {"Sid": "Guard", "Effect": "Deny", **deny}]}))
    out = tmp_path / "fixed.json"
    result = run_cli("lint", str(definition), "--policy", str(policy_file), "--region", REGION, "--account", ACCOUNT, "--fix", "-o", str(out))
    assert result.code == 2
    assert 'cannot narrow statement "Guard"' in result.err and "Traceback" not in result.err
    assert result.out == "" and not out.exists()


def test_a_deny_partly_overlapping_the_needs_denies_more_never_less():
    original = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "batch:*", "Resource": "*"},
        {"Sid": "Guard", "Effect": "Deny", "Action": "batch:TerminateJob", "Resource": "arn:aws:batch:*:*:job/*"},
    ]}
    fixed, notes, _ = _fix(tasks_of(parallel_machine(RUN_JOB)), original)
    assert _decision(fixed, "batch:TerminateJob", f"{ARN}:job/1", {}) is Decision.ALLOWED
    assert _decision(fixed, "batch:TerminateJob", f"arn:aws:batch:{OTHER_REGION}:{ACCOUNT}:job/1", {}) is Decision.EXPLICIT_DENY
    assert any("more than before" in note.message for note in notes)


# --- Version --------------------------------------------------------------------------------------


def test_a_policy_without_version_keeps_dollar_braces_literal():
    """Without Version (2008-10-17) `${aws:username}` is text; the fixed policy keeps that reading."""
    literal = "arn:aws:s3:::bucket/${aws:username}"
    original = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": literal}]}
    fixed, _, _ = _fix(tasks_of(parallel_machine(RUN_JOB)), original)
    assert "Version" not in fixed
    assert _decision(fixed, "s3:GetObject", literal, {}) is Decision.ALLOWED
    assert _decision(fixed, "s3:GetObject", "arn:aws:s3:::bucket/alice", {"aws:username": "alice"}) is Decision.IMPLICIT_DENY


def test_policies_of_different_versions_with_dollar_braces_are_refused():
    old = {"Statement": [{"Sid": "Home", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${x}"}]}
    new = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "batch:SubmitJob", "Resource": "*"}]}
    with pytest.raises(UsageError, match='statement "Home" of p0.json'):
        _fix(tasks_of(parallel_machine(RUN_JOB)), old, new)
    fixed, _, _ = _fix(tasks_of(parallel_machine(RUN_JOB)), {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}, new)
    assert fixed["Version"] == "2012-10-17"


# --- Allow statements -----------------------------------------------------------------------------


def test_an_all_actions_grant_keeps_every_other_service():
    original = {"Version": "2012-10-17", "Statement": [{"Sid": "Admin", "Effect": "Allow", "Action": ["*", "s3:GetObject"], "Resource": "*"}]}
    fixed, _, _ = _fix(tasks_of(parallel_machine(RUN_JOB)), original)
    assert fixed["Statement"][0] == {"Sid": "Admin", "Effect": "Allow", "NotAction": ["batch:*", "events:*"], "Resource": "*"}
    assert _decision(fixed, "iam:CreateUser", "arn:aws:iam::1:user/x", {}) is Decision.ALLOWED
    assert _decision(fixed, "batch:DeleteJobQueue", f"{ARN}:job-queue/etl", {}) is Decision.IMPLICIT_DENY


def test_fix_without_region_is_a_usage_error(run_cli, tmp_path):
    definition = tmp_path / "machine.asl.json"
    definition.write_text(json.dumps(parallel_machine(RUN_JOB)))
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "batch:SubmitJob", "Resource": "*"}]}))
    result = run_cli("lint", str(definition), "--policy", str(policy_file), "--fix")
    assert result.code == 2 and "--region" in result.err and "--account" in result.err and result.out == ""


def test_fix_on_a_template_names_the_queue_with_ref(run_cli, tmp_path):
    """A statement --fix adds for a template names the template's queue as the template does."""
    from pathlib import Path

    text = (Path(__file__).parents[2] / "fixtures" / "lint" / "PG204" / "good" / "template.yaml").read_text()
    template = tmp_path / "template.yaml"
    template.write_text(text.replace("                Action: batch:SubmitJob\n", "                Action: batch:DescribeJobs\n"))
    result = run_cli("lint", str(template), "--region", "us-east-1", "--account", "123456789012", "--fix")
    added = [s for s in json.loads(result.out)["Statement"] if s.get("Sid") == "BatchSubmitJob"]
    assert added and {"Ref": "Queue"} in added[0]["Resource"], result.out
    assert "policygen-" not in result.out


def test_a_region_guardrail_that_spares_the_machines_region_is_left_alone():
    """Deny * outside eu-west-1: the states' requests are in eu-west-1, so it denies none of them."""
    guard = {"Sid": "Region", "Effect": "Deny", "Action": "*", "Resource": "*",
             "Condition": {"StringNotEquals": {"aws:RequestedRegion": REGION}}}
    original = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, guard]}
    fixed, notes, _ = _fix(tasks_of(parallel_machine(RUN_JOB)), original)
    assert guard in fixed["Statement"] and not any("narrowed" in note.message for note in notes)


def test_a_queue_known_only_at_run_time_is_said_when_added():
    state = _submit("arn:aws:states:::batch:submitJob", **{"JobQueue.$": "$.queue", "JobDefinition": "etl:3"})
    original = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "batch:SubmitJob", "Resource": f"{ARN}:job-queue/etl"}]}
    fixed, notes, _ = _fix(tasks_of(parallel_machine(state)), original)
    assert any("known only at run time" in n.message and f"{ARN}:job-queue/*" in n.message for n in notes)
    assert _decision(fixed, "batch:SubmitJob", f"arn:aws:batch:{REGION}:999999999999:job-queue/etl", {}) is Decision.IMPLICIT_DENY


def test_a_deny_is_not_narrowed_for_a_state_whose_requests_it_spares():
    """The Deny applies to tagged submissions only: state A sends no tags, so its queue is no
    reason to stop denying tagged submissions there; state B's tagged ones are needed."""
    plain = _submit("arn:aws:states:::batch:submitJob", JobQueue="etl", JobDefinition="etl:3")
    tagged = _submit("arn:aws:states:::batch:submitJob", JobQueue="gpu", JobDefinition="etl:3", Tags={"team": "genomics"})
    original = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["batch:SubmitJob", "batch:TagResource"], "Resource": "*"},
        {"Sid": "Guard", "Effect": "Deny", "Action": "batch:SubmitJob", "Resource": "arn:aws:batch:*:*:job-queue/*",
         "Condition": {"StringEquals": {"aws:RequestTag/team": "genomics"}}},
    ]}
    fixed, _, _ = _fix(tasks_of(parallel_machine(plain, tagged)), original)
    tagged_request = {"aws:RequestTag/team": "genomics", "aws:TagKeys": ("team",)}
    assert _decision(fixed, "batch:SubmitJob", f"{ARN}:job-queue/gpu", tagged_request) is Decision.ALLOWED
    assert _decision(fixed, "batch:SubmitJob", f"{ARN}:job-queue/etl", tagged_request) is Decision.EXPLICIT_DENY
    assert _decision(fixed, "batch:SubmitJob", f"{ARN}:job-queue/etl", {}) is Decision.ALLOWED


def test_a_wildcard_service_pattern_is_kept_with_a_warning():
    """`b*:*` grants backup:*, braket:*... too: dropping it would drop them; it stays, said."""
    original = {"Version": "2012-10-17", "Statement": [{"Sid": "B", "Effect": "Allow", "Action": ["b*:*", "batch:*"], "Resource": "*"}]}
    fixed, notes, _ = _fix(tasks_of(parallel_machine(RUN_JOB)), original)
    assert fixed["Statement"][0]["Action"] == "b*:*"
    assert _decision(fixed, "backup:StartBackupJob", "arn:aws:backup:eu-west-1:1:backup-vault:v", {}) is Decision.ALLOWED
    assert any("kept b*:*" in note.message for note in notes)


def test_a_deny_with_a_policy_variable_is_narrowed_as_if_it_matched():
    """`${aws:PrincipalTag/queue}` may name the state's queue: the Deny may deny it, so it is
    narrowed (here: SubmitJob denied on every resource but the needed ones)."""
    original = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["batch:SubmitJob"], "Resource": "*"},
        {"Sid": "Guard", "Effect": "Deny", "Action": "batch:SubmitJob", "Resource": f"{ARN}:job-queue/${{aws:PrincipalTag/queue}}"},
    ]}
    fixed, _, _ = _fix(tasks_of(parallel_machine(RUN_JOB)), original)
    tagged = {"aws:PrincipalTag/queue": "etl"}
    assert _decision(original, "batch:SubmitJob", f"{ARN}:job-queue/etl", tagged) is Decision.EXPLICIT_DENY
    assert _decision(fixed, "batch:SubmitJob", f"{ARN}:job-queue/etl", tagged) is Decision.ALLOWED
    assert _decision(fixed, "batch:SubmitJob", f"{ARN}:job-queue/other", {"aws:PrincipalTag/queue": "other"}) is Decision.EXPLICIT_DENY


def test_only_the_over_broad_part_of_a_flagged_statement_goes():
    """PG201 flags the statement for batch:*; events:PutEvents (an EventBridge state's) and
    batch:SubmitJob in it are not over-broad and stay."""
    original = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Mixed", "Effect": "Allow", "Action": ["batch:*", "events:PutEvents", "batch:SubmitJob"], "Resource": "*"}]}
    fixed, _, _ = _fix(tasks_of(parallel_machine(RUN_JOB)), original)
    assert fixed["Statement"][0] == {"Sid": "Mixed", "Effect": "Allow", "Action": ["events:PutEvents", "batch:SubmitJob"], "Resource": "*"}
