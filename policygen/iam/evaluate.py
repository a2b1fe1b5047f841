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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from policygen.iam import wildcard
from policygen.iam.catalog import expand_action_pattern
from policygen.errors import InputError, Location
from policygen.load.document import escape_pointer_token

# Policy variables are substituted only in this language version; in "2008-10-17" or without a
# Version, `${aws:username}` is literal text ("IAM policy elements: Variables and tags").
VERSION_WITH_VARIABLES = "2012-10-17"
KNOWN_VERSIONS = (VERSION_WITH_VARIABLES, "2008-10-17")

_POLICY_ELEMENTS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_ELEMENTS = frozenset({"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"})
_PRINCIPAL_ELEMENTS = ("Principal", "NotPrincipal")

Locate = Callable[[str], Location]


# ---------------------------------------------------------------------------------------------
# The policy model


class Effect(Enum):
    ALLOW = "Allow"
    DENY = "Deny"


@dataclass(frozen=True)
class StatementRef:
    """Where a statement is, so that a finding can point at it."""

    source: str
    index: int  # position in the policy's Statement list (0 when Statement is a single object)
    sid: str | None
    pointer: str  # JSON pointer of the statement inside its policy document, e.g. "/Statement/2"
    location: Location

    def __str__(self) -> str:
        name = f"statement {self.index}" + (f" ({self.sid})" if self.sid else "")
        return f"{self.location}: {name}"


@dataclass(frozen=True)
class ConditionTest:
    """One key under one operator of a Condition block, e.g. StringLike aws:RequestTag/team."""

    operator: str  # as written, e.g. "ForAnyValue:StringLike"
    key: str  # as written; matched case-insensitively
    values: tuple[str, ...]  # JSON scalars as IAM reads them: true -> "true", 3 -> "3"


@dataclass(frozen=True)
class Statement:
    ref: StatementRef
    effect: Effect
    actions: tuple[str, ...]  # the patterns of Action, or of NotAction when actions_negated
    actions_negated: bool
    resources: tuple[str, ...]  # the patterns of Resource, or of NotResource when resources_negated
    resources_negated: bool
    conditions: tuple[ConditionTest, ...]
    variables_enabled: bool  # whether `${...}` is a policy variable (Version 2012-10-17)


@dataclass(frozen=True)
class PolicyDocument:
    source: str
    version: str | None
    statements: tuple[Statement, ...]


# ---------------------------------------------------------------------------------------------
# Parsing


def parse_policy(data: Any, source: str, locate: Locate | None = None) -> PolicyDocument:
    """Validate a loaded IAM identity policy and build its model; InputError for a malformed one."""
    where: Locate = locate or (lambda pointer: Location(source, pointer=pointer))
    _require(isinstance(data, dict), "a policy document must be a JSON object", "", where)
    _reject_unknown_elements(data, _POLICY_ELEMENTS, "", where)
    version = _parse_version(data, where)
    statements = tuple(
        _parse_statement(item, pointer, index, source, version == VERSION_WITH_VARIABLES, where)
        for index, (pointer, item) in enumerate(_statement_items(data, where))
    )
    return PolicyDocument(source=source, version=version, statements=statements)


def _require(condition: bool, message: str, pointer: str, where: Locate) -> None:
    if not condition:
        raise InputError(message, where(pointer))


def _reject_unknown_elements(data: dict, allowed: frozenset[str], pointer: str, where: Locate) -> None:
    for name in data:
        _require(name in allowed, f"unknown policy element {name!r}", f"{pointer}/{escape_pointer_token(name)}", where)


def _parse_version(data: dict, where: Locate) -> str | None:
    version = data.get("Version")
    _require(
        version is None or version in KNOWN_VERSIONS,
        f"Version must be one of {', '.join(KNOWN_VERSIONS)}",
        "/Version",
        where,
    )
    return version


def _statement_items(data: dict, where: Locate) -> list[tuple[str, Any]]:
    """(pointer, statement) pairs; a single statement object stands at /Statement itself."""
    _require("Statement" in data, "a policy needs a Statement element", "", where)
    statements = data["Statement"]
    if isinstance(statements, dict):
        return [("/Statement", statements)]
    _require(isinstance(statements, list), "Statement must be an object or a list of objects", "/Statement", where)
    return [(f"/Statement/{index}", item) for index, item in enumerate(statements)]


def _parse_statement(
    data: Any, pointer: str, index: int, source: str, variables_enabled: bool, where: Locate
) -> Statement:
    _require(isinstance(data, dict), "a statement must be a JSON object", pointer, where)
    for name in _PRINCIPAL_ELEMENTS:
        _require(name not in data, f"{name} has no place in an identity policy", f"{pointer}/{name}", where)
    _reject_unknown_elements(data, _STATEMENT_ELEMENTS, pointer, where)
    sid = data.get("Sid")
    _require(sid is None or isinstance(sid, str), "Sid must be a string", f"{pointer}/Sid", where)
    _require("Effect" in data, "a statement needs an Effect", pointer, where)
    _require(data["Effect"] in ("Allow", "Deny"), 'Effect must be "Allow" or "Deny"', f"{pointer}/Effect", where)
    actions, actions_negated = _parse_either(data, "Action", "NotAction", pointer, where)
    resources, resources_negated = _parse_either(data, "Resource", "NotResource", pointer, where)
    return Statement(
        ref=StatementRef(source=source, index=index, sid=sid, pointer=pointer, location=where(pointer)),
        effect=Effect(data["Effect"]),
        actions=actions,
        actions_negated=actions_negated,
        resources=resources,
        resources_negated=resources_negated,
        conditions=_parse_condition_block(data.get("Condition"), f"{pointer}/Condition", where),
        variables_enabled=variables_enabled,
    )


def _parse_either(
    data: dict, name: str, negated_name: str, pointer: str, where: Locate
) -> tuple[tuple[str, ...], bool]:
    """Exactly one of Action/NotAction (or Resource/NotResource): its patterns, and whether it is
    the Not form."""
    _require(
        not (name in data and negated_name in data),
        f"a statement takes {name} or {negated_name}, not both",
        f"{pointer}/{negated_name}",
        where,
    )
    # Identity policies have no implicit resource: a statement without one is rejected by IAM.
    _require(name in data or negated_name in data, f"a statement needs {name} or {negated_name}", pointer, where)
    element = name if name in data else negated_name
    return _parse_string_list(data[element], f"{pointer}/{element}", element, where), element == negated_name


def _parse_string_list(value: Any, pointer: str, element: str, where: Locate) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    _require(isinstance(value, list), f"{element} must be a string or a list of strings", pointer, where)
    # An empty list would make NotAction/NotResource match everything: reject rather than guess.
    _require(bool(value), f"{element} must not be an empty list", pointer, where)
    for index, item in enumerate(value):
        _require(isinstance(item, str), f"{element} entries must be strings", f"{pointer}/{index}", where)
    return tuple(value)


def _parse_condition_block(block: Any, pointer: str, where: Locate) -> tuple[ConditionTest, ...]:
    if block is None:
        return ()
    _require(isinstance(block, dict), "Condition must be an object of operator -> {key: values}", pointer, where)
    tests = []
    for operator, keys in block.items():
        operator_pointer = f"{pointer}/{escape_pointer_token(operator)}"
        # A YAML template can give a number as a key; IAM takes JSON, whose keys are strings.
        _require(isinstance(operator, str), "a condition operator must be a string", operator_pointer, where)
        _require(
            isinstance(keys, dict) and bool(keys),
            f"{operator} must be a non-empty object of key -> values",
            operator_pointer,
            where,
        )
        for key, values in keys.items():
            key_pointer = f"{operator_pointer}/{escape_pointer_token(key)}"
            _require(isinstance(key, str), "a condition key must be a string", key_pointer, where)
            tests.append(ConditionTest(operator, key, _parse_condition_values(values, key_pointer, where)))
    return tuple(tests)


def _parse_condition_values(values: Any, pointer: str, where: Locate) -> tuple[str, ...]:
    if not isinstance(values, list):
        return (_condition_scalar(values, pointer, where),)
    _require(bool(values), "condition values must not be an empty list", pointer, where)
    return tuple(_condition_scalar(value, f"{pointer}/{index}", where) for index, value in enumerate(values))


def _condition_scalar(value: Any, pointer: str, where: Locate) -> str:
    if isinstance(value, bool):  # before int: bool is an int in Python
        return "true" if value else "false"
    message = "a condition value must be a string, a boolean or a number"
    _require(isinstance(value, (str, int, float)), message, pointer, where)
    return str(value)


# ---------------------------------------------------------------------------------------------
# Requests and results


class Decision(Enum):
    ALLOWED = "allowed"
    IMPLICIT_DENY = "implicit deny"
    EXPLICIT_DENY = "explicit deny"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Request:
    """One concrete request: an action on a resource, with what is known of its request context."""

    action: str  # "batch:SubmitJob"
    resource: str  # a concrete ARN, or "*" for an action without resource-level permissions
    # Condition keys known for this request, each with its values; keys are case-insensitive
    # (stored lower-cased).
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # IAM-wildcard key patterns (case-insensitive) whose absence from `context` is known; a key
    # neither in `context` nor matched here is unknown.
    known_keys: frozenset[str] = frozenset()
    # True when the action is known to have no resource-level permissions (the Service
    # Authorization Reference lists no resource types for it): only a Resource of "*" matches it.
    # False leaves a wildcard ARN undecided for a "*" request (_covers_resourceless_action).
    resourceless: bool = False

    def __post_init__(self) -> None:
        lowered: dict[str, tuple[str, ...]] = {}
        for key, values in self.context.items():
            # A bare string would be read as a tuple of its characters.
            if not isinstance(values, tuple) or not all(isinstance(value, str) for value in values):
                raise TypeError(f"context values must be tuples of strings: {key!r} has {values!r}")
            if key.lower() in lowered:
                raise ValueError(f"context key {key!r} given twice (keys are case-insensitive)")
            lowered[key.lower()] = values
        object.__setattr__(self, "context", MappingProxyType(lowered))
        object.__setattr__(self, "known_keys", frozenset(pattern.lower() for pattern in self.known_keys))

    def __hash__(self) -> int:
        return hash((self.action, self.resource, frozenset(self.context.items()), self.known_keys, self.resourceless))


@dataclass(frozen=True)
class Evaluation:
    decision: Decision
    allowed_by: tuple[StatementRef, ...]  # Allow statements that certainly apply
    denied_by: tuple[StatementRef, ...]  # Deny statements that certainly apply
    uncertain: tuple[tuple[StatementRef, str], ...]  # statements whose applicability is unknown, and why


# ---------------------------------------------------------------------------------------------
# Three-valued logic: a test is True, False, or unknown (with the reasons it is unknown)


@dataclass(frozen=True)
class _Unknown:
    reasons: tuple[str, ...]


_Truth = bool | _Unknown


def _unknown(reason: str) -> _Unknown:
    return _Unknown((reason,))


def _all_of(results: Iterable[_Truth]) -> _Truth:
    """AND: one False settles it, even beside unknowns; otherwise any unknown makes it unknown."""
    reasons: list[str] = []
    for result in results:
        if result is False:
            return False
        if isinstance(result, _Unknown):
            reasons.extend(reason for reason in result.reasons if reason not in reasons)
    return _Unknown(tuple(reasons)) if reasons else True


def _any_of(results: Iterable[_Truth]) -> _Truth:
    """OR: one True settles it, even beside unknowns; otherwise any unknown makes it unknown."""
    reasons: list[str] = []
    for result in results:
        if result is True:
            return True
        if isinstance(result, _Unknown):
            reasons.extend(reason for reason in result.reasons if reason not in reasons)
    return _Unknown(tuple(reasons)) if reasons else False


def _negate(result: _Truth) -> _Truth:
    return result if isinstance(result, _Unknown) else not result


# ---------------------------------------------------------------------------------------------
# Evaluation


def evaluate(request: Request, policies: Sequence[PolicyDocument]) -> Evaluation:
    """Whether the policies allow the request ("Policy evaluation logic", identity policies only)."""
    allowed: list[StatementRef] = []
    denied: list[StatementRef] = []
    uncertain: list[tuple[StatementRef, str]] = []
    deny_uncertain = allow_uncertain = False
    for statement in itertools.chain.from_iterable(policy.statements for policy in policies):
        applies = _statement_applies(statement, request)
        is_deny = statement.effect is Effect.DENY
        if isinstance(applies, _Unknown):
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


def _statement_applies(statement: Statement, request: Request) -> _Truth:
    """Whether the statement's Action, Resource and Condition all match the request."""
    if not _action_element_matches(statement, request.action):
        return False
    # Lazy, so that conditions are not evaluated once the resource is known not to match.
    conditions = (_condition_holds(test, statement, request) for test in statement.conditions)
    return _all_of(itertools.chain((_resource_element_matches(statement, request),), conditions))


def allows_only_under_conditions(statement: Statement, request: Request) -> bool:
    """An Allow statement whose Action and Resource certainly cover the request but whose
    Condition does not certainly hold: the request is refused by its conditions alone."""
    if statement.effect is not Effect.ALLOW or not statement.conditions:
        return False
    if not _action_element_matches(statement, request.action):
        return False
    return _resource_element_matches(statement, request) is True and _statement_applies(statement, request) is not True


def statement_allows_action(statement: Statement, action: str) -> bool:
    """Whether an Allow statement's Action/NotAction covers `action` (resources and conditions aside)."""
    return statement.effect is Effect.ALLOW and _action_element_matches(statement, action)


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
    return frozenset(action for action in universe if _action_element_matches(statement, action))


# --- Action and Resource


def _action_element_matches(statement: Statement, action: str) -> bool:
    listed = any(wildcard.matches_ignoring_case(pattern, action) for pattern in statement.actions)
    return listed != statement.actions_negated


def _resource_element_matches(statement: Statement, request: Request) -> _Truth:
    listed = _any_of(_resource_matches(pattern, statement, request) for pattern in statement.resources)
    return _negate(listed) if statement.resources_negated else listed


def _resource_matches(pattern: str, statement: Statement, request: Request) -> _Truth:
    if request.resource == "*":
        return _covers_resourceless_action(pattern, request.resourceless)
    if statement.variables_enabled and _has_variable_before_resource_part(pattern):
        return _unknown(f"Resource {pattern}: a policy variable stands before the resource part of the ARN")
    resolved = _value_pattern(pattern, request, wildcards=True, variables=statement.variables_enabled)
    if isinstance(resolved, _Unknown):
        return resolved
    return wildcard.compile_tokens(resolved).matches(request.resource)


def _covers_resourceless_action(pattern: str, known_resourceless: bool = False) -> _Truth:
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


def _has_variable_before_resource_part(pattern: str) -> bool:
    """Whether a `${...}` stands before the fifth colon of an ARN (in a Resource, IAM allows
    variables only after it: "Variables and tags")."""
    # Only the first can: a later one has at least as many colons before it.
    first = next(_variables(pattern), None)
    return first is not None and pattern.count(":", 0, first[0]) < 5


# --- Wildcards and policy variables

# ${*}, ${?} and ${$} stand for the literal character ("Variables and tags": special characters).
_LITERAL_CHARACTER_VARIABLES = frozenset("*?$")


def _value_pattern(
    text: str, request: Request, *, wildcards: bool, variables: bool
) -> tuple[wildcard.Token, ...] | _Unknown:
    """One policy value as wildcard tokens (`*` and `?` only where `wildcards`), its policy
    variables replaced by their values as literal text."""
    if not variables:
        return _text_tokens(text, wildcards)
    pieces: list[wildcard.Token] = []
    position = 0
    for start, end, body in _variables(text):
        pieces.extend(_text_tokens(text[position:start], wildcards))
        value = _resolve_variable(body, request, wildcards)
        if isinstance(value, _Unknown):
            return value
        pieces.append(value)
        position = end
    pieces.extend(_text_tokens(text[position:], wildcards))
    return tuple(pieces)


def _text_tokens(text: str, wildcards: bool) -> tuple[wildcard.Token, ...]:
    return wildcard.tokens(text) if wildcards else (text,)


def _variables(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, body) of each `${body}`, left to right; the body holds no `}`.

    str.find rather than a regex: `\\$\\{[^}]*\\}` rescans the rest of the text from every `${`
    that no `}` closes, quadratic time on a value of many `${`."""
    position = 0
    while (start := text.find("${", position)) >= 0:
        end = text.find("}", start + 2)
        if end < 0:
            return
        yield start, end + 1, text[start + 2 : end]
        position = end + 1


def _variable_with_default(body: str) -> tuple[str, str | None]:
    """(key, default) of `key, 'default'` (the default holds no `'`), else (body stripped, None).

    Parsed by hand: the regex form spent quadratic time on a body of many spaces."""
    key, comma, rest = body.partition(",")
    rest = rest.strip()
    if comma and len(rest) >= 2 and rest[0] == rest[-1] == "'" and "'" not in rest[1:-1]:
        return key.strip(), rest[1:-1]
    return body.strip(), None


def _resolve_variable(body: str, request: Request, wildcards: bool) -> str | _Unknown:
    if body in _LITERAL_CHARACTER_VARIABLES:
        return body
    key, default = _variable_with_default(body)
    values = request.context.get(key.lower())
    if values is None:
        if default is not None and _absence_known(request, key):
            return default
        return _unknown(f"policy variable ${{{body}}}: {key} is not known for this request")
    if len(values) != 1:
        # "You cannot use a multivalued context key as a policy variable."
        return _unknown(f"policy variable ${{{body}}}: {key} has {len(values)} values, not one")
    if wildcards and any(char in values[0] for char in "*?"):
        # Whether IAM reads `*` or `?` in a substituted value as a wildcard is not documented.
        return _unknown(f"policy variable ${{{body}}}: its value {values[0]!r} holds a wildcard character")
    return values[0]


def _absence_known(request: Request, key: str) -> bool:
    return any(wildcard.matches_ignoring_case(pattern, key) for pattern in request.known_keys)


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


def _condition_holds(test: ConditionTest, statement: Statement, request: Request) -> _Truth:
    operator = _parse_operator(test.operator)
    if operator is None:
        return _unknown(f"condition operator {test.operator} is not modelled")
    values = request.context.get(test.key.lower())
    if values is None:
        if not _absence_known(request, test.key):
            return _unknown(f"condition key {test.key} is not known for this request")
        return _holds_when_absent(operator, test)
    if operator.kind is _Kind.NULL:
        return _null_holds(test, present=True)
    return _holds_when_present(operator, test, values, statement, request)


def _holds_when_absent(operator: _Operator, test: ConditionTest) -> _Truth:
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


def _null_holds(test: ConditionTest, present: bool) -> _Truth:
    """Null: "true" holds when the key is absent, "false" when it is present."""
    return _any_of(
        (value == "true") != present
        if value in ("true", "false")
        else _unknown(f"Null takes true or false, not {value!r}")
        for value in test.values
    )


def _holds_when_present(
    operator: _Operator, test: ConditionTest, values: tuple[str, ...], statement: Statement, request: Request
) -> _Truth:
    def holds_for(value: str) -> _Truth:
        return _value_holds(operator, test, value, statement, request)

    if operator.set_prefix == "ForAllValues":
        return _all_of(holds_for(value) for value in values)
    if operator.set_prefix == "ForAnyValue":
        return _any_of(holds_for(value) for value in values)
    if len(values) != 1:
        # "Multivalued context keys require a condition set operator": the documentation does not
        # say what a single-valued operator does with several (or no) values.
        return _unknown(f"{test.operator} on {test.key}, which has {len(values)} values, is not documented")
    return holds_for(values[0])


def _value_holds(operator: _Operator, test: ConditionTest, value: str, statement: Statement, request: Request) -> _Truth:
    """One request value against the policy values: any matches (OR), or none for a negated operator (NOR)."""
    matches = _any_of(_matches(operator.kind, wanted, value, statement, request) for wanted in test.values)
    return _negate(matches) if operator.negated else matches


def _matches(kind: _Kind, wanted: str, value: str, statement: Statement, request: Request) -> _Truth:
    if kind is _Kind.BOOL:
        return _bool_matches(wanted, value)
    if kind is _Kind.ARN:
        return _arn_matches(wanted, value, statement, request)
    resolved = _value_pattern(
        wanted, request, wildcards=kind is _Kind.STRING_LIKE, variables=statement.variables_enabled
    )
    if isinstance(resolved, _Unknown):
        return resolved
    return wildcard.compile_tokens(resolved, kind is _Kind.STRING_IGNORE_CASE).matches(value)


def _bool_matches(wanted: str, value: str) -> _Truth:
    # Only the documented spellings: how IAM reads "True" or "1" is not documented.
    for text in (wanted, value):
        if text not in ("true", "false"):
            return _unknown(f"Bool compares true or false, not {text!r}")
    return wanted == value


def _arn_matches(wanted: str, value: str, statement: Statement, request: Request) -> _Truth:
    """ArnLike: "Each of the six colon-delimited components of the ARN is checked separately and
    each can include a multi-character match wildcard (*) or a single-character match wildcard (?)"."""
    if statement.variables_enabled and _has_variable_before_resource_part(wanted):
        # A substituted value may hold colons: which component would it fill?
        return _unknown(f"ARN comparison with {wanted!r}: a policy variable before the resource part")
    wanted_parts, value_parts = _arn_components(wanted), _arn_components(value)
    if wanted_parts is None or value_parts is None:
        return _unknown(f"ARN comparison of {wanted!r} with {value!r}: not both ARNs")
    return _all_of(
        _component_matches(pattern, component, statement, request)
        for pattern, component in zip(wanted_parts, value_parts)
    )


def _component_matches(pattern: str, component: str, statement: Statement, request: Request) -> _Truth:
    resolved = _value_pattern(pattern, request, wildcards=True, variables=statement.variables_enabled)
    if isinstance(resolved, _Unknown):
        return resolved
    return wildcard.compile_tokens(resolved).matches(component)


def _arn_components(text: str) -> tuple[str, ...] | None:
    """arn:partition:service:region:account:resource (the resource may hold more colons).

    policyuniverse's ARN parser is not used here: it accepts only an empty, `*`, or 12-digit
    account, so it rejects patterns such as `arn:aws:iam::1234*:role/x`."""
    parts = tuple(text.split(":", 5))
    return parts if len(parts) == 6 and parts[0] == "arn" else None
