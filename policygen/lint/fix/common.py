"""What the steps of --fix share: the judged services, statement entries, Sids, patterns and stand-ins."""


from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from policygen.iam.policy import (
    Statement,
    StatementRef,
)
from policygen.load.template import replace_placeholders
from policygen.requirements import markers

# ---------------------------------------------------------------------------------------------
# Sids and names


# The services whose grants the linter judges (PG201/PG202 are about them only).
JUDGED = ("batch", "events")
WITHOUT_JUDGED = ("batch:*", "events:*")
# Without a Version element a policy is read as 2008-10-17, where `${aws:username}` is literal
# text (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html).
DEFAULT_VERSION = "2008-10-17"
# A negated operator denies exactly when the need's condition does not hold: a negated operator
# holds when the key is absent, where the plain one does not
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html);
# ForAllValues holds for an absent key, ForAnyValue does not
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition_examples-multi-valued-context-keys.html).
NEGATED = {
    "StringEquals": "StringNotEquals",
    "StringLike": "StringNotLike",
    "ForAllValues:StringEquals": "ForAnyValue:StringNotEquals",
    "ForAllValues:StringLike": "ForAnyValue:StringNotLike",
}


@dataclass(frozen=True)
class Entry:
    """One statement of the fixed policy as it is written out (template intrinsics included), and
    as the evaluator reads it (None for a Deny, which step 3 does not need)."""

    data: dict[str, Any]
    parsed: Statement | None

def as_glob(pattern: str, statement: Statement) -> str:
    """A Resource pattern for the overlap tests: a policy variable (2012-10-17) may stand for any
    text, so it counts as `*` where that says "may overlap"."""
    return replace_placeholders(pattern, lambda _: "*") if statement.variables_enabled else pattern

template_value = markers.template_value


def with_unique_sids(kept: list[dict[str, Any]], added: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The statements in order, each Sid unique ("In IAM, the Sid value must be unique within a
    JSON policy", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_sid.html):
    a split statement's parts and an added statement get a number."""
    taken: set[str] = set()
    result = []
    for statement in [*kept, *added]:
        sid = statement.get("Sid")
        if isinstance(sid, str):
            if sid in taken:
                statement = {**statement, "Sid": _unique_sid(sid, taken)}
                statement = {key: statement[key] for key in ["Sid", *(k for k in statement if k != "Sid")]}
            taken.add(statement["Sid"])
        result.append(statement)
    return result


def _unique_sid(sid: str, taken: set[str]) -> str:
    number = 2
    while f"{sid}{number}" in taken:
        number += 1
    return f"{sid}{number}"


def _name(ref: StatementRef) -> str:
    return (f'statement "{ref.sid}"' if ref.sid else f"statement {ref.index}") + f" of {ref.source}"


# ---------------------------------------------------------------------------------------------
# IAM wildcards on patterns: `*` any run of characters, `?` one; action names ignore case


def has_wildcard(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def all_stars(pattern: str) -> bool:
    return bool(pattern) and not pattern.strip("*")
