"""What the evaluator is asked and what it answers: Request, Decision, Evaluation, and the
three-valued truth (true / false / unknown with a reason) its steps combine."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType

from policygen.iam.policy import StatementRef

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
    # Hashed once: a request is the key its decision is remembered under (policy_set.PolicySet).
    _hash: int = field(init=False, repr=False, compare=False, default=0)

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
        key = (self.action, self.resource, frozenset(self.context.items()), self.known_keys, self.resourceless)
        object.__setattr__(self, "_hash", hash(key))

    def __hash__(self) -> int:
        return self._hash


@dataclass(frozen=True)
class Evaluation:
    decision: Decision
    allowed_by: tuple[StatementRef, ...]  # Allow statements that certainly apply
    denied_by: tuple[StatementRef, ...]  # Deny statements that certainly apply
    uncertain: tuple[tuple[StatementRef, str], ...]  # statements whose applicability is unknown, and why


# ---------------------------------------------------------------------------------------------
# Three-valued logic: a test is True, False, or unknown (with the reasons it is unknown)


@dataclass(frozen=True)
class Unknown:
    reasons: tuple[str, ...]


Truth = bool | Unknown


def _unknown(reason: str) -> Unknown:
    return Unknown((reason,))


def all_of(results: Iterable[Truth]) -> Truth:
    """AND: one False settles it, even beside unknowns; otherwise any unknown makes it unknown."""
    reasons: list[str] = []
    for result in results:
        if result is False:
            return False
        if isinstance(result, Unknown):
            reasons.extend(reason for reason in result.reasons if reason not in reasons)
    return Unknown(tuple(reasons)) if reasons else True


def any_of(results: Iterable[Truth]) -> Truth:
    """OR: one True settles it, even beside unknowns; otherwise any unknown makes it unknown."""
    reasons: list[str] = []
    for result in results:
        if result is True:
            return True
        if isinstance(result, Unknown):
            reasons.extend(reason for reason in result.reasons if reason not in reasons)
    return Unknown(tuple(reasons)) if reasons else False


def negate(result: Truth) -> Truth:
    return result if isinstance(result, Unknown) else not result
