"""PolicySet (statements indexed by action, each distinct request decided once) answers exactly as
the straightforward `evaluate` over every statement does, and does less work for it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_evaluate import ACTION_PATTERNS, ACTIONS, PROPERTY_SETTINGS, policy, requests, statement_lists

from policygen.iam import evaluate as evaluate_module
from policygen.iam import policy_set as policy_set_module
from policygen.iam import wildcard
from policygen.iam.evaluate import action_element_matches, allows_only_under_conditions, evaluate
from policygen.iam.policy_set import ActionIndex, PolicySet
from policygen.iam.request import Request, Unknown
from policygen.iam.variables import fixed_matcher, value_matcher, value_pattern

# Action names and patterns that stress the index's buckets: case, wildcards in the service
# prefix, no colon at all, several colons, characters whose case folding is not plain lower().
ODD_ACTIONS = ("BATCH:SUBMITJOB", "batch", "batch:", ":submitjob", "ba:tch:x", "İam:x", "straße:x", "STRASSE:X", "ſ3:get")
ODD_PATTERNS = ("ba*:submitjob", "?atch:*", "batch*", "*:submitjob", "batch:", ":*", "ba:*", "İAM:*", "Straße:*", "S3:*", "*")
index_actions = st.one_of(st.sampled_from(ACTIONS + ODD_ACTIONS), st.text(alphabet="aB:*?ßİ", max_size=6))
index_patterns = st.one_of(st.sampled_from(ACTION_PATTERNS + ODD_PATTERNS), st.text(alphabet="aB:*?ßİ", max_size=6))


@st.composite
def index_statements(draw: st.DrawFn) -> dict:
    element = draw(st.sampled_from(("Action", "NotAction")))
    return {
        "Effect": draw(st.sampled_from(("Allow", "Deny"))),
        element: draw(st.lists(index_patterns, min_size=1, max_size=3)),
        "Resource": "*",
    }


@PROPERTY_SETTINGS
@given(st.lists(statement_lists, min_size=1, max_size=3), st.lists(requests(), min_size=1, max_size=6))
def test_policy_set_answers_as_evaluate(policies: list[list[dict]], asked: list[Request]) -> None:
    documents = [policy(*statements_) for statements_ in policies]
    policy_set = PolicySet(documents)
    for request in asked * 2:  # the second round is answered from what was remembered
        assert policy_set.evaluate(request) == evaluate(request, documents)


@PROPERTY_SETTINGS
@given(st.lists(index_statements(), min_size=1, max_size=8), st.lists(index_actions, min_size=1, max_size=4))
def test_index_finds_exactly_the_statements_covering_an_action(made: list[dict], actions: list[str]) -> None:
    statements_ = policy(*made).statements
    index = ActionIndex(statements_)
    for action in actions * 2:
        expected = tuple(statement for statement in statements_ if action_element_matches(statement, action))
        assert index.covering(action) == expected


@PROPERTY_SETTINGS
@given(statement_lists, requests())
def test_allowing_and_held_back_statements_are_the_straightforward_ones(made: list[dict], request: Request) -> None:
    document = policy(*made)
    policy_set = PolicySet([document])
    allow_statements = tuple(s for s in document.statements if s.effect.value == "Allow")
    assert policy_set.allowing(request.action) == tuple(
        s for s in allow_statements if action_element_matches(s, request.action)
    )
    assert policy_set.allowing_but_for_conditions(request) == tuple(
        s for s in document.statements if allows_only_under_conditions(s, request)
    )


# Policy values with and without variables, broken ones included (`${` never closed, `}` alone).
value_texts = st.lists(
    st.sampled_from(["a", "B", "*", "?", "${", "}", "aws:username", "${aws:username}", "${x, 'd*'}", "/", ":"]),
    max_size=8,
).map("".join)
CONTEXTS = ({}, {"aws:username": ("Bob",)}, {"aws:username": ("a*b",)}, {"aws:username": ("x", "y")})


@PROPERTY_SETTINGS
@given(
    value_texts,
    st.sampled_from(CONTEXTS),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.lists(st.sampled_from(["", "a", "aB", "Bob", "a*b", "a/Bob", "ab:x", "AB"]), max_size=4),
)
def test_compiled_value_matches_as_the_value_pattern(
    text: str, context: dict, wildcards: bool, variables: bool, ignore_case: bool, samples: list[str]
) -> None:
    """A value compiled once matches as the value resolved for each request did."""
    request = Request("s3:GetObject", "*", context, frozenset({"x"}))
    resolved = value_pattern(text, request, wildcards=wildcards, variables=variables)
    matcher = value_matcher(text, request, wildcards=wildcards, variables=variables, ignore_case=ignore_case)
    if isinstance(resolved, Unknown):
        assert matcher == resolved
        assert fixed_matcher(text, wildcards=wildcards, variables=variables, ignore_case=ignore_case) is None
        return
    expected = wildcard.compile_tokens(resolved, ignore_case)
    for sample in [*samples, text]:
        assert matcher.matches(sample) == expected.matches(sample)


def _counting(monkeypatch: pytest.MonkeyPatch, module, name: str) -> list[str]:
    """Record the Sid of every statement `module.name(statement, ...)` is called with."""
    tested: list[str] = []
    original = getattr(module, name)

    def counted(statement, *args):
        tested.append(statement.ref.sid or "")
        return original(statement, *args)

    monkeypatch.setattr(module, name, counted)
    return tested


def test_a_request_is_tested_only_against_statements_that_can_cover_its_action(monkeypatch):
    made = [{"Sid": f"S3{n}", "Effect": "Allow", "Action": f"s3:Get{n}", "Resource": "*"} for n in range(50)]
    made += [
        {"Sid": "Batch", "Effect": "Allow", "Action": "batch:Submit*", "Resource": "*"},
        {"Sid": "Any", "Effect": "Deny", "Action": "*", "Resource": "arn:aws:s3:::secret"},
        {"Sid": "Not", "Effect": "Deny", "NotAction": "batch:*", "Resource": "*"},
        {"Sid": "Sqs", "Effect": "Allow", "NotAction": "sqs:*", "Resource": "arn:aws:sns:*"},
    ]
    looked_at = _counting(monkeypatch, policy_set_module, "action_element_matches")
    tested = _counting(monkeypatch, evaluate_module, "_resource_element_matches")
    result = PolicySet([policy(*made)]).evaluate(Request("batch:SubmitJob", "arn:aws:batch:us-east-1:1:job/x"))
    assert result.decision.value == "allowed"
    # The 50 s3 statements are never looked at; the NotAction ones always are, and only the
    # statements that cover the action are tested against the request.
    assert looked_at == ["Batch", "Any", "Not", "Sqs"]
    assert tested == ["Batch", "Any", "Sqs"]


def test_a_request_asked_again_is_not_evaluated_again(monkeypatch):
    documents = [policy({"Effect": "Allow", "Action": "batch:*", "Resource": "*"})]
    tested = _counting(monkeypatch, evaluate_module, "_resource_element_matches")
    policy_set = PolicySet(documents)
    context = {"aws:RequestTag/team": ("a",)}
    first = policy_set.evaluate(Request("batch:SubmitJob", "*", context))
    # An equal request (keys are case-insensitive), built anew, is found again.
    again = policy_set.evaluate(Request("batch:SubmitJob", "*", {"AWS:RequestTag/Team": ("a",)}))
    assert again is first and len(tested) == 1
    policy_set.evaluate(Request("batch:SubmitJob", "*", {"aws:RequestTag/team": ("b",)}))
    assert len(tested) == 2
