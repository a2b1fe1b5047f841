"""IAM identity-policy evaluation: does a role's policy allow this request? (allowed / denied / unknown)

The evaluator never guesses. Whatever it cannot decide from the policy and the request (an
operator it does not model, a condition key whose value is not known, a policy variable it cannot
resolve, a combination the IAM documentation leaves undefined) makes the statement's applicability
unknown, and an unknown statement that could change the outcome makes the decision UNKNOWN.

Sources, all in the IAM User Guide: "Policy evaluation logic", "IAM JSON policy elements:
Condition operators", "Conditions with multiple context keys or values", "Single-valued vs.
multivalued context keys", "IAM policy elements: Variables and tags", "NotAction", "NotResource".
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

from policygen.iam import wildcard
from policygen.iam.catalog import expand_action_pattern
from policygen.iam.conditions import condition_holds
from policygen.iam.policy import Effect, PolicyDocument, Statement, StatementRef
from policygen.iam.request import (
    Decision,
    Evaluation,
    Request,
    Truth,
    Unknown,
    _unknown,
    all_of,
    any_of,
    negate,
)
from policygen.iam.variables import fixed_matcher, has_variable_before_resource_part, value_matcher

# ---------------------------------------------------------------------------------------------
# Evaluation


def evaluate(request: Request, policies: Sequence[PolicyDocument]) -> Evaluation:
    """Whether the policies allow the request ("Policy evaluation logic", identity policies only)."""
    return evaluate_statements(request, itertools.chain.from_iterable(policy.statements for policy in policies))


def evaluate_statements(request: Request, statements: Iterable[Statement], *, actions_covered: bool = False) -> Evaluation:
    """`evaluate` over these statements, in this order. A caller may leave out statements whose
    Action/NotAction does not cover the request's action (policy_set.PolicySet): they never apply,
    so the answer is the same. `actions_covered`: the caller kept only those that cover it, and
    the test is not made again."""
    applies_to = _resource_and_conditions_hold if actions_covered else _statement_applies
    allowed: list[StatementRef] = []
    denied: list[StatementRef] = []
    uncertain: list[tuple[StatementRef, str]] = []
    deny_uncertain = allow_uncertain = False
    for statement in statements:
        applies = applies_to(statement, request)
        is_deny = statement.effect is Effect.DENY
        if isinstance(applies, Unknown):
            uncertain.append((statement.ref, "; ".join(applies.reasons)))
            deny_uncertain |= is_deny
            allow_uncertain |= not is_deny
        elif applies:
            (denied if is_deny else allowed).append(statement.ref)
    return Evaluation(
        decision=_decide(bool(allowed), bool(denied), allow_uncertain, deny_uncertain),
        allowed_by=tuple(allowed),
        denied_by=tuple(denied),
        uncertain=tuple(uncertain),
    )


def _decide(allowed: bool, denied: bool, allow_uncertain: bool, deny_uncertain: bool) -> Decision:
    if denied:
        return Decision.EXPLICIT_DENY
    if not allowed and not allow_uncertain:
        # Whether or not an uncertain Deny applies, nothing allows the request: it is denied.
        return Decision.IMPLICIT_DENY
    if deny_uncertain or not allowed:
        return Decision.UNKNOWN
    return Decision.ALLOWED


def _statement_applies(statement: Statement, request: Request) -> Truth:
    """Whether the statement's Action, Resource and Condition all match the request."""
    if not action_element_matches(statement, request.action):
        return False
    return _resource_and_conditions_hold(statement, request)


def _resource_and_conditions_hold(statement: Statement, request: Request) -> Truth:
    """Whether the statement's Resource and Condition match the request (its Action aside)."""
    if not statement.conditions:
        return _resource_element_matches(statement, request)
    # Lazy, so that conditions are not evaluated once the resource is known not to match.
    conditions = (condition_holds(test, statement, request) for test in statement.conditions)
    return all_of(itertools.chain((_resource_element_matches(statement, request),), conditions))


def allows_only_under_conditions(statement: Statement, request: Request) -> bool:
    """An Allow statement whose Action and Resource certainly cover the request but whose
    Condition does not certainly hold: the request is refused by its conditions alone."""
    if statement.effect is not Effect.ALLOW or not statement.conditions:
        return False
    if not action_element_matches(statement, request.action):
        return False
    return _resource_element_matches(statement, request) is True and _resource_and_conditions_hold(statement, request) is not True


def statement_allows_action(statement: Statement, action: str) -> bool:
    """Whether an Allow statement's Action/NotAction covers `action` (resources and conditions aside)."""
    return statement.effect is Effect.ALLOW and action_element_matches(statement, action)


def actions_granted(statement: Statement) -> frozenset[str] | None:
    """The catalogued actions an Allow statement's Action/NotAction covers (empty for a Deny).

    None when an Action pattern names a service outside the catalogue: what it grants is unknown.
    A NotAction statement also grants every action of uncatalogued services; like
    `expand_action_pattern("*")`, the answer holds the catalogued ones only."""
    if statement.effect is Effect.DENY:
        return frozenset()
    if not statement.actions_negated and any(expand_action_pattern(pattern) is None for pattern in statement.actions):
        return None
    # One matcher for both questions: the catalogue universe filtered by the evaluator's own test.
    universe = expand_action_pattern("*") or frozenset()
    return frozenset(action for action in universe if action_element_matches(statement, action))


# --- Action and Resource


def action_element_matches(statement: Statement, action: str) -> bool:
    """Whether the statement's Action covers `action`, or its NotAction does not."""
    listed = any(wildcard.matches_ignoring_case(pattern, action) for pattern in statement.actions)
    return listed != statement.actions_negated


def _resource_element_matches(statement: Statement, request: Request) -> Truth:
    listed = any_of(_resource_matches(pattern, statement, request) for pattern in statement.resources)
    return negate(listed) if statement.resources_negated else listed


def _resource_matches(pattern: str, statement: Statement, request: Request) -> Truth:
    if request.resource == "*":
        return _covers_resourceless_action(pattern, request.resourceless)
    fixed = fixed_matcher(pattern, True, statement.variables_enabled)
    if fixed is not None:
        return fixed.matches(request.resource)
    if has_variable_before_resource_part(pattern):
        return _unknown(f"Resource {pattern}: a policy variable stands before the resource part of the ARN")
    matcher = value_matcher(pattern, request, wildcards=True, variables=statement.variables_enabled)
    return matcher if isinstance(matcher, Unknown) else matcher.matches(request.resource)


def _covers_resourceless_action(pattern: str, known_resourceless: bool = False) -> Truth:
    """Whether a Resource pattern covers an action without resource-level permissions.

    `*` does (Service Authorization Reference), and a pattern without wildcards cannot. For a
    wildcard ARN the documentation contradicts itself: "NotAction" says Resource "arn:aws:s3:::*"
    does not allow s3:ListAllMyBuckets, "Policy evaluation logic" (AllowS3ListRead) says it does.
    Both examples are S3's; for an action the caller knows to have no resource types, the Service
    Authorization Reference's rule decides: "If there is no value for this column, you must specify
    all resources ("*")" (Service Authorization Reference, e.g.
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsbatch.html)."""
    if pattern and set(pattern) == {"*"}:
        return True
    if known_resourceless or ("*" not in pattern and "?" not in pattern):
        return False
    return _unknown(f'whether Resource {pattern} covers an action without resource-level permissions ("*")')
