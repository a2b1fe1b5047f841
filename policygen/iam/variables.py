"""Policy variables (`${aws:username}`) and wildcards in policy values, as IAM substitutes and matches them
(IAM User Guide, "IAM policy elements: Variables and tags")."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from policygen.iam import wildcard
from policygen.iam.request import Request, Unknown, _unknown

# --- Wildcards and policy variables

# ${*}, ${?} and ${$} stand for the literal character ("Variables and tags": special characters).
_LITERAL_CHARACTER_VARIABLES = frozenset("*?$")


def value_matcher(
    text: str, request: Request, *, wildcards: bool, variables: bool, ignore_case: bool = False
) -> wildcard.Wildcard | Unknown:
    """The matcher of one policy value for this request (`value_pattern`, compiled)."""
    fixed = fixed_matcher(text, wildcards, variables, ignore_case)
    if fixed is not None:
        return fixed
    resolved = value_pattern(text, request, wildcards=wildcards, variables=variables)
    if isinstance(resolved, Unknown):
        return resolved
    return wildcard.compile_tokens(resolved, ignore_case)


@lru_cache(maxsize=4096)
def fixed_matcher(text: str, wildcards: bool, variables: bool, ignore_case: bool = False) -> wildcard.Wildcard | None:
    """The matcher of a policy value that means the same for every request (it holds no policy
    variable, or variables are off), compiled once: lint asks thousands of requests of the same
    statements. None for a value whose variables each request fills in. (Positional arguments:
    the cache looks them up faster than keywords.)"""
    if variables and has_variable(text):
        return None
    return wildcard.compile_tokens(_text_tokens(text, wildcards), ignore_case)


def value_pattern(
    text: str, request: Request, *, wildcards: bool, variables: bool
) -> tuple[wildcard.Token, ...] | Unknown:
    """One policy value as wildcard tokens (`*` and `?` only where `wildcards`), its policy
    variables replaced by their values as literal text."""
    if not variables:
        return _text_tokens(text, wildcards)
    pieces: list[wildcard.Token] = []
    position = 0
    for start, end, body in _variables(text):
        pieces.extend(_text_tokens(text[position:start], wildcards))
        value = _resolve_variable(body, request, wildcards)
        if isinstance(value, Unknown):
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


def variable_with_default(body: str) -> tuple[str, str | None]:
    """(key, default) of `key, 'default'` (the default holds no `'`), else (body stripped, None).

    Parsed by hand: the regex form spent quadratic time on a body of many spaces."""
    key, comma, rest = body.partition(",")
    rest = rest.strip()
    if comma and len(rest) >= 2 and rest[0] == rest[-1] == "'" and "'" not in rest[1:-1]:
        return key.strip(), rest[1:-1]
    return body.strip(), None


def _resolve_variable(body: str, request: Request, wildcards: bool) -> str | Unknown:
    if body in _LITERAL_CHARACTER_VARIABLES:
        return body
    key, default = variable_with_default(body)
    values = request.context.get(key.lower())
    if values is None:
        if default is not None and absence_known(request, key):
            return default
        return _unknown(f"policy variable ${{{body}}}: {key} is not known for this request")
    if len(values) != 1:
        # "You cannot use a multivalued context key as a policy variable."
        return _unknown(f"policy variable ${{{body}}}: {key} has {len(values)} values, not one")
    if wildcards and any(char in values[0] for char in "*?"):
        # Whether IAM reads `*` or `?` in a substituted value as a wildcard is not documented.
        return _unknown(f"policy variable ${{{body}}}: its value {values[0]!r} holds a wildcard character")
    return values[0]


def absence_known(request: Request, key: str) -> bool:
    return any(wildcard.matches_ignoring_case(pattern, key) for pattern in request.known_keys)


def has_variable(text: str) -> bool:
    return next(_variables(text), None) is not None


def has_variable_before_resource_part(pattern: str) -> bool:
    """Whether a `${...}` stands before the fifth colon of an ARN (in a Resource, IAM allows
    variables only after it: "Variables and tags")."""
    # Only the first can: a later one has at least as many colons before it.
    first = next(_variables(pattern), None)
    return first is not None and pattern.count(":", 0, first[0]) < 5

