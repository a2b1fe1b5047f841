"""A second IAM evaluator, deliberately small, written for the tests only: the --fix properties are
judged by it as well as by policygen/evaluate.py, so that a bug shared by the fixer and the
evaluator it relies on does not go unseen.

It knows Effect Allow/Deny, Action/NotAction, Resource/NotResource with `*` (any run of characters)
and `?` (one character), and Condition blocks of StringEquals and StringLike on single-valued keys.
Anything else raises NotJudged: the strategies generate only what it can judge.
Source: IAM User Guide, "Policy evaluation logic" (an explicit Deny wins, then an Allow, else
implicit deny), "IAM JSON policy elements" (Action names ignore case, ARNs do not; a missing
condition key makes StringEquals/StringLike false).
"""

from __future__ import annotations

import re
from collections.abc import Mapping


class NotJudged(Exception):
    """The policy uses something this evaluator does not model."""


def allows(policy: dict, action: str, resource: str, context: Mapping[str, str]) -> bool:
    """Whether the identity policy allows the request; `context` maps condition keys to one value."""
    allowed = False
    for statement in _statements(policy):
        if _applies(statement, action, resource, context):
            if statement["Effect"] == "Deny":
                return False
            allowed = True
    return allowed


def _statements(policy: dict) -> list[dict]:
    if "${" in repr(policy) and policy.get("Version") == "2012-10-17":
        raise NotJudged("policy variables")
    items = policy["Statement"]
    statements = [items] if isinstance(items, dict) else list(items)
    for statement in statements:  # judged whole or not at all, whatever the request
        for operator in statement.get("Condition", {}):
            if operator not in ("StringEquals", "StringLike"):
                raise NotJudged(operator)
    return statements


def _applies(statement: dict, action: str, resource: str, context: Mapping[str, str]) -> bool:
    if statement["Effect"] not in ("Allow", "Deny"):
        raise NotJudged(statement["Effect"])
    if "Action" in statement:
        action_ok = any(_match(p, action, ignore_case=True) for p in _list(statement["Action"]))
    else:
        action_ok = not any(_match(p, action, ignore_case=True) for p in _list(statement["NotAction"]))
    if "Resource" in statement:
        resource_ok = any(_match(p, resource, ignore_case=False) for p in _list(statement["Resource"]))
    else:
        resource_ok = not any(_match(p, resource, ignore_case=False) for p in _list(statement["NotResource"]))
    return action_ok and resource_ok and _conditions_hold(statement.get("Condition", {}), context)


def _conditions_hold(block: dict, context: Mapping[str, str]) -> bool:
    lowered = {key.lower(): value for key, value in context.items()}
    for operator, tests in block.items():
        for key, wanted in tests.items():
            value = lowered.get(key.lower())
            if value is None:
                return False
            if not any(_match(w, value, ignore_case=False) if operator == "StringLike" else w == value for w in _list(wanted)):
                return False
    return True


def _list(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _match(pattern: str, text: str, ignore_case: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None
