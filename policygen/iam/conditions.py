"""Condition operators as IAM evaluates them (IAM User Guide, "IAM JSON policy elements: Condition
operators", "Conditions with multiple context keys or values")."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from policygen.iam.arns import arn_parts
from policygen.iam.policy import ConditionTest, Statement
from policygen.iam.request import (
    Request,
    Truth,
    Unknown,
    _unknown,
    all_of,
    any_of,
    negate,
)
from policygen.iam.variables import (
    absence_known,
    has_variable_before_resource_part,
    value_matcher,
)

# --- Conditions


class _Kind(Enum):
    """How a policy value is compared with a request value."""

    STRING = "string"
    STRING_IGNORE_CASE = "string, ignoring case"
    STRING_LIKE = "string with wildcards"
    ARN = "ARN"
    BOOL = "boolean"
    NULL = "key presence"


# The modelled operators ("IAM JSON policy elements: Condition operators"): kind, negated.
_BASE_OPERATORS: dict[str, tuple[_Kind, bool]] = {
    "StringEquals": (_Kind.STRING, False),
    "StringNotEquals": (_Kind.STRING, True),
    "StringEqualsIgnoreCase": (_Kind.STRING_IGNORE_CASE, False),
    "StringNotEqualsIgnoreCase": (_Kind.STRING_IGNORE_CASE, True),
    "StringLike": (_Kind.STRING_LIKE, False),
    "StringNotLike": (_Kind.STRING_LIKE, True),
    # "ArnEquals, ArnLike ... These behave identically."
    "ArnEquals": (_Kind.ARN, False),
    "ArnLike": (_Kind.ARN, False),
    "ArnNotEquals": (_Kind.ARN, True),
    "ArnNotLike": (_Kind.ARN, True),
    "Bool": (_Kind.BOOL, False),
    "Null": (_Kind.NULL, False),
}
_SET_PREFIXES = ("ForAllValues", "ForAnyValue")
_IF_EXISTS = "IfExists"


@dataclass(frozen=True)
class _Operator:
    set_prefix: str | None  # "ForAllValues", "ForAnyValue" or None
    kind: _Kind
    negated: bool
    if_exists: bool


@lru_cache(maxsize=256)
def _parse_operator(name: str) -> _Operator | None:
    """The operator's meaning; None for one the evaluator does not model (or that does not exist)."""
    prefix, separator, rest = name.partition(":")
    set_prefix = prefix if separator else None
    base = rest if separator else name
    if set_prefix is not None and set_prefix not in _SET_PREFIXES:
        return None
    if_exists = base.endswith(_IF_EXISTS) and base != _IF_EXISTS
    if if_exists:
        base = base[: -len(_IF_EXISTS)]
    if base not in _BASE_OPERATORS:
        return None
    kind, negated = _BASE_OPERATORS[base]
    # "You can add IfExists to the end of any condition operator name except the Null condition";
    # a set operator over Null is not documented.
    if kind is _Kind.NULL and (if_exists or set_prefix is not None):
        return None
    return _Operator(set_prefix=set_prefix, kind=kind, negated=negated, if_exists=if_exists)


def condition_holds(test: ConditionTest, statement: Statement, request: Request) -> Truth:
    operator = _parse_operator(test.operator)
    if operator is None:
        return _unknown(f"condition operator {test.operator} is not modelled")
    values = request.context.get(test.key.lower())
    if values is None:
        if not absence_known(request, test.key):
            return _unknown(f"condition key {test.key} is not known for this request")
        return _holds_when_absent(operator, test)
    if operator.kind is _Kind.NULL:
        return _null_holds(test, present=True)
    return _holds_when_present(operator, test, values, statement, request)


def _holds_when_absent(operator: _Operator, test: ConditionTest) -> Truth:
    """The documented results for a key missing from the request context."""
    if operator.kind is _Kind.NULL:
        return _null_holds(test, present=False)
    if operator.set_prefix == "ForAllValues":
        # "It also returns true if there are no context keys in the request", and IfExists is true
        # for a missing key too: the combination agrees.
        return True
    if operator.set_prefix is not None and operator.if_exists:
        # ForAnyValue is false for a missing key, IfExists true: the combination is not documented.
        return _unknown(f"{test.operator} on a missing key is not documented")
    if operator.set_prefix == "ForAnyValue":
        return False  # "... or if the key does not exist, the condition returns false."
    # "If the key ... is not present ... the condition is false. If the policy condition requires
    # that the key is not matched, such as StringNotLike ..., the condition is true." IfExists: true.
    return operator.if_exists or operator.negated


def _null_holds(test: ConditionTest, present: bool) -> Truth:
    """Null: "true" holds when the key is absent, "false" when it is present."""
    return any_of(
        (value == "true") != present
        if value in ("true", "false")
        else _unknown(f"Null takes true or false, not {value!r}")
        for value in test.values
    )


def _holds_when_present(
    operator: _Operator, test: ConditionTest, values: tuple[str, ...], statement: Statement, request: Request
) -> Truth:
    def holds_for(value: str) -> Truth:
        return _value_holds(operator, test, value, statement, request)

    if operator.set_prefix == "ForAllValues":
        return all_of(holds_for(value) for value in values)
    if operator.set_prefix == "ForAnyValue":
        return any_of(holds_for(value) for value in values)
    if len(values) != 1:
        # "Multivalued context keys require a condition set operator": the documentation does not
        # say what a single-valued operator does with several (or no) values.
        return _unknown(f"{test.operator} on {test.key}, which has {len(values)} values, is not documented")
    return holds_for(values[0])


def _value_holds(operator: _Operator, test: ConditionTest, value: str, statement: Statement, request: Request) -> Truth:
    """One request value against the policy values: any matches (OR), or none for a negated operator (NOR)."""
    matches = any_of(_matches(operator.kind, wanted, value, statement, request) for wanted in test.values)
    return negate(matches) if operator.negated else matches


def _matches(kind: _Kind, wanted: str, value: str, statement: Statement, request: Request) -> Truth:
    if kind is _Kind.BOOL:
        return _bool_matches(wanted, value)
    if kind is _Kind.ARN:
        return _arn_matches(wanted, value, statement, request)
    matcher = value_matcher(
        wanted,
        request,
        wildcards=kind is _Kind.STRING_LIKE,
        variables=statement.variables_enabled,
        ignore_case=kind is _Kind.STRING_IGNORE_CASE,
    )
    return matcher if isinstance(matcher, Unknown) else matcher.matches(value)


def _bool_matches(wanted: str, value: str) -> Truth:
    # Only the documented spellings: how IAM reads "True" or "1" is not documented.
    for text in (wanted, value):
        if text not in ("true", "false"):
            return _unknown(f"Bool compares true or false, not {text!r}")
    return wanted == value


def _arn_matches(wanted: str, value: str, statement: Statement, request: Request) -> Truth:
    """ArnLike: "Each of the six colon-delimited components of the ARN is checked separately and
    each can include a multi-character match wildcard (*) or a single-character match wildcard (?)"."""
    if statement.variables_enabled and has_variable_before_resource_part(wanted):
        # A substituted value may hold colons: which component would it fill?
        return _unknown(f"ARN comparison with {wanted!r}: a policy variable before the resource part")
    wanted_parts, value_parts = _arn_components(wanted), _arn_components(value)
    if wanted_parts is None or value_parts is None:
        return _unknown(f"ARN comparison of {wanted!r} with {value!r}: not both ARNs")
    return all_of(
        _component_matches(pattern, component, statement, request)
        for pattern, component in zip(wanted_parts, value_parts, strict=False)
    )


def _component_matches(pattern: str, component: str, statement: Statement, request: Request) -> Truth:
    matcher = value_matcher(pattern, request, wildcards=True, variables=statement.variables_enabled)
    return matcher if isinstance(matcher, Unknown) else matcher.matches(component)


def _arn_components(text: str) -> tuple[str, ...] | None:
    """arn:partition:service:region:account:resource (the resource may hold more colons).

    policyuniverse's ARN parser is not used here: it accepts only an empty, `*`, or 12-digit
    account, so it rejects patterns such as `arn:aws:iam::1234*:role/x`."""
    parts = tuple(arn_parts(text))
    return parts if len(parts) == 6 and parts[0] == "arn" else None
