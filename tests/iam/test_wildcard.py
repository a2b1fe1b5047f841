"""The IAM wildcard matcher: agreement with a regex reference on small inputs, soundness of
`covers`, and time on patterns that made the former regex matchers backtrack exponentially."""

from __future__ import annotations

import itertools
import json
import re
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from policygen.generate.policy import without_covered
from policygen.iam import wildcard
from policygen.iam.catalog import expand_action_pattern
from policygen.iam.evaluate import evaluate
from policygen.iam.policy import parse_policy
from policygen.iam.request import Decision, Request

# Every character the regex translation had to escape or special-case, newline for DOTALL, and
# letters in both cases for the case-insensitive form.
ALPHABET = "ab*?[].\\$^\n(|Aé"
TEXT_ALPHABET = "ab*?[].\\$^\n(|AÉé"


def reference(pattern: str, text: str, ignore_case: bool = False) -> bool:
    """The translation the evaluator used before: fast enough on inputs this short."""
    regex = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.fullmatch(regex, text, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None


@settings(max_examples=600, deadline=None)
@given(st.text(ALPHABET, max_size=8), st.text(TEXT_ALPHABET, max_size=12))
def test_matches_agrees_with_the_regex_reference(pattern: str, text: str) -> None:
    assert wildcard.matches(pattern, text) == reference(pattern, text)
    assert wildcard.matches_ignoring_case(pattern, text) == reference(pattern, text, ignore_case=True)


@settings(max_examples=400, deadline=None)
@given(st.text("ab*?", max_size=8).flatmap(lambda p: st.tuples(st.just(p), _texts_near(p))))
def test_matches_agrees_on_texts_built_to_match(pair: tuple[str, str]) -> None:
    """Random texts rarely match a random pattern; these are the pattern with its wildcards filled."""
    pattern, text = pair
    assert wildcard.matches(pattern, text) == reference(pattern, text)


def _texts_near(pattern: str) -> st.SearchStrategy[str]:
    pieces = [
        st.text("ab*", max_size=3) if char == "*" else st.text("ab?", min_size=1, max_size=1) if char == "?" else st.just(char)
        for char in pattern
    ]
    return st.tuples(*pieces).map("".join) if pieces else st.just("")


_TOKEN = st.one_of(st.text(ALPHABET, min_size=1, max_size=3), st.sampled_from(list(wildcard.Wild)))


@settings(max_examples=300, deadline=None)
@given(st.lists(_TOKEN, max_size=6), st.text(TEXT_ALPHABET, max_size=10), st.booleans())
def test_tokens_keep_literal_text_literal(pattern: list, text: str, ignore_case: bool) -> None:
    """A literal token's `*` and `?` (a substituted policy variable, ${*}) are plain characters."""
    regex = "".join(
        ".*" if token is wildcard.Wild.ANY_RUN else "." if token is wildcard.Wild.ANY_CHAR else re.escape(token)
        for token in pattern
    )
    expected = re.fullmatch(regex, text, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None
    assert wildcard.compile_tokens(tuple(pattern), ignore_case).matches(text) == expected


def test_tokens_of_a_pattern() -> None:
    assert wildcard.tokens("job-queue/*") == ("job-queue/", wildcard.Wild.ANY_RUN)
    assert wildcard.tokens("a?b**") == ("a", wildcard.Wild.ANY_CHAR, "b", wildcard.Wild.ANY_RUN, wildcard.Wild.ANY_RUN)
    assert wildcard.tokens("") == ()


def test_case_folding_keeps_one_character_for_one() -> None:
    assert wildcard.matches_ignoring_case("STRASSE?", "straßeX") is False  # ß is not "ss"
    assert wildcard.matches_ignoring_case("stra?e", "STRAßE")
    assert wildcard.matches_ignoring_case("BATCH:Submit*", "batch:submitjob")
    assert not wildcard.matches("BATCH:Submit*", "batch:submitjob")


# --- covers


def _texts(alphabet: str, up_to: int) -> list[str]:
    return ["".join(chars) for size in range(up_to + 1) for chars in itertools.product(alphabet, repeat=size)]


TEXTS = _texts("ab", 6)


def old_covers(wider: str, narrower: str) -> bool:
    """catalog.wildcard_covers as it was: `wider` matched against `narrower`'s text."""
    return "*" in wider and reference(wider, narrower)


@settings(max_examples=500, deadline=None)
@given(st.text("ab*?", max_size=5), st.text("ab*?", max_size=5))
def test_covers_is_sound(wider: str, narrower: str) -> None:
    """Whatever `covers` says is covered is: every short text the narrower pattern matches, the
    wider one matches too."""
    if wildcard.covers(wider, narrower):
        assert all(wildcard.matches(wider, text) for text in TEXTS if wildcard.matches(narrower, text))


@settings(max_examples=500, deadline=None)
@given(st.text("ab*?", max_size=6), st.text("ab*?", max_size=6))
def test_covers_differs_from_before_only_where_a_question_mark_met_a_star(wider: str, narrower: str) -> None:
    if "?" in wider and "*" in narrower:
        assert not wildcard.covers(wider, narrower) or old_covers(wider, narrower)
    else:
        assert wildcard.covers(wider, narrower) == old_covers(wider, narrower)


def test_covers_examples() -> None:
    assert wildcard.covers("arn:aws:batch:*:*:job-queue/*", "arn:aws:batch:us-east-1:1:job-queue/a")
    assert wildcard.covers("job-definition/*", "job-definition/*:*")
    assert not wildcard.covers("job-definition/*:*", "job-definition/*")
    # A `?` is one character; the narrower `*` may be none ("a") or many ("abc"): not covered.
    assert not wildcard.covers("a?*", "a*")
    assert wildcard.covers("a?*", "a?")
    assert not wildcard.covers("job-queue/a", "job-queue/a")  # without `*`: equality is the caller's test


def test_generated_resources_keep_one_of_patterns_that_cover_each_other() -> None:
    """Queues "q*" and "q**" each cover the other: the policy used to lose both."""
    queue = "arn:aws:batch:us-east-1:123456789012:job-queue/"
    assert without_covered({queue + "q*", queue + "q**"}) == (queue + "q*",)


def test_generated_resources_keep_a_star_that_a_question_mark_does_not_cover() -> None:
    """"q?*" does not grant queue "q", which "q*" does: the policy used to keep only "q?*"."""
    queue = "arn:aws:batch:us-east-1:123456789012:job-queue/"
    assert without_covered({queue + "q*", queue + "q?*"}) == (queue + "q*",)
    assert without_covered({queue + "q?", queue + "q?*"}) == (queue + "q?*",)


def test_uncovered_keeps_one_of_patterns_that_cover_each_other() -> None:
    assert wildcard.uncovered({"q/a*", "q/a**", "q/ab"}) == ("q/a*",)
    assert wildcard.uncovered({"q/*", "q/*:*", "r/x"}) == ("q/*", "r/x")
    assert wildcard.uncovered(set()) == ()


# --- time: inputs that made the regex matchers backtrack


STARS = 40
ADVERSARIAL = [
    ("a" + "*a" * STARS + "b", "a" * 3000),
    ("*a" * STARS + "*b", "a" * 3000),
    ("?*" * STARS + "b", "x" * 3000),
    ("*" + "a?" * STARS + "*c", "ab" * 1500),
    ("arn:aws:batch:*:*:job-queue/" + "*x" * STARS + "*y", "arn:aws:batch:us-east-1:123456789012:job-queue/" + "x" * 3000),
]


# --- contains and intersects (lint --fix)


@settings(max_examples=500, deadline=None)
@given(st.text("ab*?", max_size=5), st.text("ab*?", max_size=5))
def test_contains_is_sound(outer: str, inner: str) -> None:
    if wildcard.contains(outer, inner):
        assert all(reference(outer, text) for text in TEXTS if reference(inner, text))


def test_contains_examples() -> None:
    assert wildcard.contains("a?c", "abc") and wildcard.contains("a?c", "a?c")
    assert wildcard.contains("job/*", "job/a*") and not wildcard.contains("a?", "a*")
    assert not wildcard.contains("job/a*", "job/*")


SHORT_TEXTS = _texts("ab", 8)


@settings(max_examples=500, deadline=None)
@given(st.text("ab*?", max_size=4), st.text("ab*?", max_size=4))
def test_intersects_is_exact(first: str, second: str) -> None:
    # A common text, where there is one, needs no more characters than the two patterns' literal
    # and `?` characters together: up to 8 here, all of which SHORT_TEXTS holds over "ab".
    witnessed = any(reference(first, text) and reference(second, text) for text in SHORT_TEXTS)
    assert wildcard.intersects(first, second) == witnessed


def test_intersects_long_patterns_neither_recurse_nor_backtrack() -> None:
    # lint --fix's former memoised recursion hit Python's recursion limit past ~1,000 characters.
    started = time.perf_counter()
    assert not wildcard.intersects("*a" * 1500 + "*b", "a" * 3000)
    assert wildcard.intersects("x" * 3000 + "*", "*" + "x" * 3000)
    assert time.perf_counter() - started < 10.0


def test_adversarial_patterns_take_milliseconds() -> None:
    started = time.perf_counter()
    for pattern, text in ADVERSARIAL:
        assert not wildcard.matches(pattern, text)
        assert not wildcard.matches_ignoring_case(pattern, text.upper())
        assert not wildcard.covers(pattern, text)
        assert not wildcard.covers(pattern, text + "*")
    # Every catalogued action name against an action pattern of forty `*?` (12 took the former
    # regex 0.4 s per name).
    assert expand_action_pattern("batch:" + "*?" * STARS + "#") == frozenset()
    assert time.perf_counter() - started < 1.0


def test_adversarial_resource_in_the_evaluator_takes_milliseconds() -> None:
    resource = "arn:aws:batch:*:*:job-queue/" + "*a" * STARS + "*b"
    condition = {"StringLike": {"aws:PrincipalTag/team": "*a" * STARS + "*b"}}
    policies = [
        parse_policy({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "batch:" + "*" * STARS + "x", "Resource": resource},
            {"Effect": "Allow", "Action": "batch:*", "Resource": "*", "Condition": condition},
            {"Effect": "Allow", "Action": "batch:*", "Resource": "*",
             "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:states:*:*:" + "*a" * STARS + "*b"}}},
        ]}, "policy.json")
    ]
    request = Request(
        "batch:SubmitJob",
        "arn:aws:batch:us-east-1:123456789012:job-queue/" + "a" * 3000,
        context={"aws:principaltag/team": ("a" * 3000,), "aws:sourcearn": ("arn:aws:states:us-east-1:1:" + "a" * 3000,)},
    )
    started = time.perf_counter()
    assert evaluate(request, policies).decision is Decision.IMPLICIT_DENY
    assert time.perf_counter() - started < 1.0


def test_lint_of_a_policy_with_forty_stars_finishes_fast(run_cli, tmp_path: Path) -> None:
    queue = "q" + "a" * 127  # the longest queue name Batch allows
    definition = {
        "StartAt": "Run",
        "States": {
            "Run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::batch:submitJob.sync",
                "Parameters": {"JobName": "n", "JobQueue": queue, "JobDefinition": "d:1"},
                "End": True,
            }
        },
    }
    statement = {
        "Effect": "Allow",
        "Action": ["batch:" + "*S" * STARS + "*x", "batch:SubmitJob"],
        "Resource": ["arn:aws:batch:*:*:job-queue/" + "*a" * STARS + "*b", "arn:aws:batch:*:*:job-definition/" + "*1" * STARS + "*2"],
    }
    (tmp_path / "machine.asl.json").write_text(json.dumps(definition), encoding="utf-8")
    (tmp_path / "policy.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": [statement]}), encoding="utf-8")
    started = time.perf_counter()
    result = run_cli(
        "lint", str(tmp_path / "machine.asl.json"), "--policy", str(tmp_path / "policy.json"),
        "--region", "us-east-1", "--account", "123456789012", "--format", "json",
    )
    elapsed = time.perf_counter() - started
    assert result.code == 1, result.err
    assert "PG101" in {finding["ruleId"] for finding in json.loads(result.out)["findings"]}
    assert elapsed < 2.0


# --- policy variables: found and parsed in linear time, as the former regexes did

OLD_VARIABLE = re.compile(r"\$\{([^}]*)\}")
OLD_VARIABLE_WITH_DEFAULT = re.compile(r"^\s*(?P<key>[^,]*?)\s*,\s*'(?P<default>[^']*)'\s*$")


@settings(max_examples=500, deadline=None)
@given(st.text("${}a, '\n\t*", max_size=16))
def test_variables_are_found_as_before(text: str) -> None:
    from policygen.iam.variables import _variables, variable_with_default

    assert list(_variables(text)) == [(m.start(), m.end(), m[1]) for m in OLD_VARIABLE.finditer(text)]
    old = OLD_VARIABLE_WITH_DEFAULT.match(text)
    assert variable_with_default(text) == ((old["key"], old["default"]) if old else (text.strip(), None))


def test_values_full_of_variable_marks_take_milliseconds() -> None:
    many = 40_000
    policies = [
        parse_policy({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "batch:*", "Resource": "arn:aws:batch:us-east-1:1:job-queue/" + "${" * many},
            {"Effect": "Allow", "Action": "batch:*", "Resource": "*",
             "Condition": {"StringLike": {"aws:PrincipalTag/team": "${a" + " " * many + "b, 'x'}"}}},
        ]}, "policy.json")
    ]
    request = Request("batch:SubmitJob", "arn:aws:batch:us-east-1:1:job-queue/q", context={"aws:principaltag/team": ("x",)})
    started = time.perf_counter()
    assert evaluate(request, policies).decision is Decision.UNKNOWN
    assert time.perf_counter() - started < 1.0


def _uncovered_pairwise(patterns: set[str]) -> tuple[str, ...]:
    """uncovered() as first written: every kept pattern tested against every other (quadratic)."""
    kept: list[str] = []
    for pattern in sorted(patterns, key=lambda p: (len(p) - p.count("*") - p.count("?"), p)):
        if any(wildcard.covers(other, pattern) for other in kept):
            continue
        kept = [other for other in kept if not wildcard.covers(pattern, other)]
        kept.append(pattern)
    return tuple(sorted(kept))


@given(st.sets(st.text(alphabet="ab/*?", max_size=6), max_size=12))
def test_uncovered_tests_plain_patterns_only_against_wildcards_and_keeps_the_same(patterns) -> None:
    assert wildcard.uncovered(patterns) == _uncovered_pairwise(patterns)
