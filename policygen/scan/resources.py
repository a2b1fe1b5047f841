"""Could a Resource call Batch? A Resource as glob tokens, matched against the Batch integrations' shapes."""

from __future__ import annotations

import json
from typing import Any

from policygen.load.template import (
    OpaqueValue,
    placeholders,
)

# A Resource as glob tokens: single lower-case characters, and wildcards for parts only known later.
ANY = "\x00any"  # any text
NO_COLON = "\x00no-colon"  # any text without ":" (a pseudo parameter: a partition, region, account)
OTHER = "\x00other"  # a resource's name or ARN: matches only a wildcard of the other side
_WILDCARDS = frozenset({ANY, NO_COLON})


def _shape(text: str) -> tuple[str, ...]:
    """A glob of states ARNs in any partition, region or account ("*": no colon; "+": anything)."""
    return tuple(NO_COLON if char == "*" else ANY if char == "+" else char for char in text)


# Every Resource that names the Batch service in a states ARN, spelt as documented or not.
_BATCH_SHAPES = tuple(
    _shape(f"arn:*:states:*:*:{service}{rest}") for service in ("batch", "aws-sdk:batch") for rest in ("", ":+")
)


def literal_tokens(text: str) -> list[str]:
    return [char for char in text.lower() if not char.isspace()]


def _placeholders(text: str) -> list[tuple[int, int]]:
    """(start, end) of every `${...}` in `text`, nested braces included (`${self:a.${sls:stage}}`)."""
    found = []
    position = text.find("${")
    while position >= 0:
        depth, index = 0, position
        while index < len(text):
            if text.startswith("${", index):
                depth += 1
                index += 2
                continue
            if text[index] == "}":
                depth -= 1
                if depth == 0:
                    break
            index += 1
        end = min(index + 1, len(text))
        found.append((position, end))
        position = text.find("${", end)
    return found


def may_be_batch(tokens: list[str]) -> bool:
    """Whether some value of the Resource's wildcards makes it a Batch shape."""
    return any(_globs_meet(tokens, shape) for shape in _BATCH_SHAPES)


def _globs_meet(left: list[str] | tuple[str, ...], right: list[str] | tuple[str, ...]) -> bool:
    """Whether two globs match a common text: a search over (position in left, position in right).
    A wildcard may match nothing (skip it) or take one character the other side offers."""
    seen = set()
    pending = [(0, 0)]
    while pending:
        i, j = pending.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == len(left) and j == len(right):
            return True
        a = left[i] if i < len(left) else None
        b = right[j] if j < len(right) else None
        if a in _WILDCARDS:
            pending.append((i + 1, j))
            if b is not None and b not in _WILDCARDS and _takes(a, b):
                pending.append((i, j + 1))
        if b in _WILDCARDS:
            pending.append((i, j + 1))
            if a is not None and a not in _WILDCARDS and _takes(b, a):
                pending.append((i + 1, j))
        if a is not None and b is not None and a not in _WILDCARDS and b not in _WILDCARDS and a == b and a != OTHER:
            pending.append((i + 1, j + 1))
    return False


def _takes(wildcard: str, token: str) -> bool:
    if wildcard == ANY:
        return True
    return token != ":" and token != OTHER


def is_serverless_variable(value: OpaqueValue) -> bool:
    """A serverless.yml string with `${self:...}`-style variables (its text as written), not an
    intrinsic function (its text JSON)."""
    return all(name.startswith("${") for name in value.intrinsics)


def parse_intrinsic(value: OpaqueValue) -> Any:
    """An opaque template value's intrinsic function call, as data (its text is compact JSON)."""
    try:
        return json.loads(value)
    except ValueError:
        return str(value)


def intrinsic_may_call_batch(value: Any, parameters: frozenset[str]) -> bool:
    """Whether a Resource chosen at deploy time might be a Batch integration: one of its
    choices names Batch or a parameter, or comes from a function whose result the template does
    not show (Fn::ImportValue, Fn::FindInMap, Fn::Select, ...). Resource names and ARNs
    (Fn::GetAtt, Ref to a resource) never are."""
    if isinstance(value, str):
        return "batch" in value.lower() or any(name in parameters for name in _sub_names(value))
    if isinstance(value, list):
        return any(intrinsic_may_call_batch(item, parameters) for item in value)
    if not isinstance(value, dict):
        return False
    if len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref":
            return argument in parameters
        if function == "Fn::GetAtt":
            return False
        if function == "Fn::If":
            return isinstance(argument, list) and intrinsic_may_call_batch(argument[1:], parameters)
        if function in ("Fn::Sub", "Fn::Join"):
            return intrinsic_may_call_batch(argument, parameters)
        if function.startswith("Fn::"):
            return True
    return any(intrinsic_may_call_batch(item, parameters) for item in value.values())


def _sub_names(text: str) -> list[str]:
    return [match.group(1).strip() for match in placeholders(text)]

