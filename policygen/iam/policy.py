"""An IAM identity policy as read: the model (Statement, PolicyDocument) and its strict parser."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

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


def statement_items(statements: Any) -> list[tuple[int, str, Any]] | None:
    """A Statement element's statements as (index, JSON pointer, statement): a single statement
    object stands at /Statement itself; None when the element is neither an object nor a list.
    The one reader of that shape, for identity policies, trust policies and --fix alike."""
    if isinstance(statements, dict):
        return [(0, "/Statement", statements)]
    if isinstance(statements, list):
        return [(index, f"/Statement/{index}", item) for index, item in enumerate(statements)]
    return None


def _statement_items(data: dict, where: Locate) -> list[tuple[str, Any]]:
    """(pointer, statement) pairs; a single statement object stands at /Statement itself."""
    _require("Statement" in data, "a policy needs a Statement element", "", where)
    items = statement_items(data["Statement"])
    _require(items is not None, "Statement must be an object or a list of objects", "/Statement", where)
    return [(pointer, item) for _, pointer, item in items]


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
