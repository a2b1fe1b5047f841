"""Step 2 of --fix: each Deny that may deny a needed request is narrowed by exactly those requests."""


from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from policygen.errors import Notice, UsageError
from policygen.iam import wildcard
from policygen.iam.evaluate import evaluate
from policygen.iam.policy import (
    PolicyDocument,
    Statement,
)
from policygen.iam.request import Request
from policygen.lint.fix.allow import all_actions, plain_strings, with_element
from policygen.lint.fix.common import (
    NEGATED,
    Entry,
    _name,
    all_stars,
    as_glob,
    has_wildcard,
    template_value,
)
from policygen.requirements.needs import Condition
from policygen.requirements.requests import Access

# ---------------------------------------------------------------------------------------------
# Step 2: a Deny is narrowed by exactly the needed requests it may deny


@dataclass(frozen=True)
class _Blocked:
    """What a Deny may deny of one needed action: the resource patterns, and the conditions the
    needed requests meet."""

    action: str
    patterns: tuple[str, ...]
    conditions: tuple[Condition, ...]
    states: tuple[str, ...]
    needed: tuple[str, ...]  # every pattern those states need the action on


def narrow_deny(
    raw: dict[str, Any], statement: Statement, accesses: Sequence[Access], template: bool, notes: list[Notice]
) -> list[Entry]:
    blocked = _blocked_by(statement, accesses)
    if not blocked:
        return [Entry(copy.deepcopy(raw), None)]
    parts: list[dict[str, Any]] = []
    others = _deny_other_actions(raw, statement, blocked)
    if others is not None:
        parts.append(others)
    for item in blocked:
        outside = _deny_outside(raw, statement, item, template, notes)
        if outside is not None:
            parts.append(outside)
        parts.extend(_deny_unless(raw, statement, item))
    for item in blocked:
        conditions = f" under {_conditions_text(item.conditions)}" if item.conditions else ""
        notes.append(
            Notice(
                f"narrowed {_name(statement.ref)}: it no longer denies {item.action} on {', '.join(item.patterns)}{conditions}, "
                f"which state {', '.join(repr(s) for s in item.states)} needs; it still denies everything else it denied",
                statement.ref.location,
            )
        )
    return [Entry(part, None) for part in parts]


def _blocked_by(statement: Statement, accesses: Sequence[Access]) -> list[_Blocked]:
    """The needed actions the Deny may deny, on the patterns it may deny them on (its Condition
    aside: narrowing a Deny by requests it would not deny anyway changes nothing)."""
    grouped: dict[str, dict[str, Any]] = {}
    # Per action, the patterns of every request the Deny may apply to (overlapping or not).
    needed: dict[str, set[str]] = {}
    # Whether the Deny passes the request by, once per distinct request (thousands of states ask a
    # few hundred); the key holds all that _action_in and _condition_fails read of the access.
    passed_by: dict[tuple, bool] = {}
    for access in accesses:
        asked = (access.action, access.context, access.known_keys)
        if asked not in passed_by:
            passed_by[asked] = not _action_in(statement, access.action) or _condition_fails(statement, access)
        if passed_by[asked]:
            continue
        needed.setdefault(access.action.lower(), set()).update(access.patterns)
        patterns = [p for p in access.patterns if _resource_overlaps(statement, p)]
        if not patterns:
            continue
        group = grouped.setdefault(access.action.lower(), {"action": access.action, "patterns": {}, "states": {}})
        for pattern in patterns:
            group["patterns"].setdefault(pattern, set()).add(access.conditions)
        group["states"][access.task.path] = None
    found = []
    for key in sorted(grouped):
        group = grouped[key]
        conditions = {c for cs in group["patterns"].values() for c in cs}
        if len(conditions) > 1:
            described = "; ".join(sorted(_conditions_text(c) or "none" for c in conditions))
            _refuse(statement, f"the states need {group['action']} under different conditions ({described})")
        found.append(
            _Blocked(
                group["action"],
                tuple(sorted(group["patterns"])),
                next(iter(conditions)),
                tuple(group["states"]),
                tuple(sorted(needed[key])),
            )
        )
    return found


def _condition_fails(statement: Statement, access: Access) -> bool:
    """Whether the Deny's Condition certainly does not hold for the state's requests (a region
    guardrail, say, in the machine's own region): then it denies none of them. Unknown keys make it
    uncertain, and an uncertain Deny is narrowed."""
    if not statement.conditions:
        return False
    probe = replace(statement, actions=("*",), actions_negated=False, resources=("*",), resources_negated=False)
    request = Request(access.action, "*", dict(access.context), access.known_keys)
    evaluation = evaluate(request, [PolicyDocument(statement.ref.source, None, (probe,))])
    return not evaluation.denied_by and not evaluation.uncertain


def _deny_other_actions(raw: dict[str, Any], statement: Statement, blocked: list[_Blocked]) -> dict[str, Any] | None:
    """The Deny for every action it denied except the blocked ones, on its own resources."""
    element = "NotAction" if statement.actions_negated else "Action"
    if not plain_strings(raw.get(element)):
        _refuse(statement, f"its {element} is not plain text")
    names = [item.action for item in blocked]
    data = copy.deepcopy(raw)
    if statement.actions_negated:
        # NotAction L denies what L does not match; with the needed actions added to L it denies
        # the same minus exactly those actions.
        data["NotAction"] = [*statement.actions, *(n for n in names if n not in statement.actions)]
        return data
    if any(all_actions(pattern) for pattern in statement.actions):
        return with_element(raw, "Action", "NotAction", names)
    kept = []
    for pattern in statement.actions:
        matched = [n for n in names if wildcard.matches_ignoring_case(pattern, n)]
        if not matched:
            kept.append(pattern)
        elif has_wildcard(pattern):
            _refuse(statement, f"its action {pattern} also covers other actions, and IAM cannot deny {pattern} except {', '.join(matched)}")
    if not kept:
        return None
    data["Action"] = kept[0] if len(kept) == 1 and isinstance(raw["Action"], str) else kept
    return data


def _deny_outside(
    raw: dict[str, Any], statement: Statement, item: _Blocked, template: bool, notes: list[Notice]
) -> dict[str, Any] | None:
    """The Deny for the blocked action on the resources it denied outside the needed patterns."""
    if any(all_stars(p) for p in item.patterns):
        return None  # every resource of the action is needed
    data = _deny_of_action(raw, item.action)
    element = "NotResource" if statement.resources_negated else "Resource"
    written = raw.get(element)
    new = [template_value(p) if template else p for p in item.patterns]
    if statement.resources_negated:
        listed = written if isinstance(written, list) else [written]
        data["NotResource"] = [*listed, *(v for p, v in zip(item.patterns, new, strict=False) if p not in statement.resources)]
        return data
    if any(all_stars(r) for r in statement.resources):
        return with_element(data, "Resource", "NotResource", new)
    listed = written if isinstance(written, list) else [written]
    if len(listed) != len(statement.resources):
        _refuse(statement, "its Resource is chosen at deploy time")
    kept = []
    for value, pattern in zip(listed, (as_glob(r, statement) for r in statement.resources), strict=False):
        if any(wildcard.contains(p, pattern) for p in item.patterns):
            continue  # wholly needed
        if any(wildcard.intersects(pattern, p) for p in item.patterns):
            # IAM cannot write "this pattern but not that one": deny the action on every
            # resource but the needed ones, which denies all it denied and more of that action.
            notes.append(
                Notice(
                    f"{_name(statement.ref)} denied {item.action} on {pattern}, which overlaps the needed "
                    f"{', '.join(item.patterns)}: it now denies {item.action} on every resource except "
                    f"{', '.join(item.needed)}, more than before",
                    statement.ref.location,
                )
            )
            return with_element(data, "Resource", "NotResource", [template_value(p) if template else p for p in item.needed])
        kept.append(value)
    if not kept:
        return None
    data["Resource"] = kept[0] if len(kept) == 1 and not isinstance(written, list) else kept
    return data


def _deny_unless(raw: dict[str, Any], statement: Statement, item: _Blocked) -> list[dict[str, Any]]:
    """For needed requests under conditions: the Deny for the blocked action wherever one of the
    conditions does not hold (what the needed requests leave of it on the needed resources)."""
    found = []
    for operator, key, values in item.conditions:
        negated = NEGATED.get(operator)
        if negated is None:
            _refuse(statement, f"the needed condition {operator} cannot be negated exactly")
        data = _deny_of_action(raw, item.action)
        block = data.get("Condition", {})
        if not isinstance(block, dict) or not all(isinstance(keys, dict) for keys in block.values()):
            _refuse(statement, "its Condition is not plain JSON")
        keys = block.setdefault(negated, {})
        if any(existing.lower() == key.lower() for existing in keys):
            _refuse(statement, f"its Condition already tests {key} with {negated}")
        keys[key] = values[0] if len(values) == 1 else list(values)
        data["Condition"] = block
        found.append(data)
    return found


def _deny_of_action(raw: dict[str, Any], action: str) -> dict[str, Any]:
    return with_element(raw, "NotAction" if "NotAction" in raw else "Action", "Action", action)


def _conditions_text(conditions: Iterable[Condition]) -> str:
    return ", ".join(f"{operator} {key} = {'/'.join(values)}" for operator, key, values in conditions)


def _refuse(statement: Statement, reason: str) -> None:
    raise UsageError(
        f"--fix cannot narrow {_name(statement.ref)} exactly: {reason}",
        statement.ref.location,
        hint="change that Deny by hand so that it no longer denies what the states need, then run --fix again",
    )


def _action_in(statement: Statement, action: str) -> bool:
    listed = any(wildcard.matches_ignoring_case(pattern, action) for pattern in statement.actions)
    return listed != statement.actions_negated


def _resource_overlaps(statement: Statement, pattern: str) -> bool:
    """Whether the statement's Resource/NotResource may match some resource of the pattern."""
    if statement.resources_negated:
        # An entry with a policy variable proves nothing: what it excludes is known per request.
        certain = [r for r in statement.resources if not (statement.variables_enabled and "${" in r)]
        return not any(wildcard.contains(r, pattern) for r in certain)
    return any(wildcard.intersects(as_glob(r, statement), pattern) for r in statement.resources)


