"""Step 1 of --fix: Allow statements lose what the findings name (lint/fix/policy.py)."""


from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from policygen.errors import Notice
from policygen.iam import catalog, wildcard
from policygen.iam.policy import (
    Statement,
)
from policygen.lint.findings import StatementFix
from policygen.lint.fix.common import (
    JUDGED,
    WITHOUT_JUDGED,
    Entry,
    _name,
    has_wildcard,
)

# ---------------------------------------------------------------------------------------------
# Step 1: flagged Allow statements lose the flagged Batch/EventBridge actions


def fix_allow(
    raw: dict[str, Any], statement: Statement, fixes: list[tuple[str, StatementFix]], notes: list[Notice]
) -> list[Entry]:
    if not fixes:
        return [Entry(copy.deepcopy(raw), statement)]
    rules = "/".join(sorted({rule_id for rule_id, _ in fixes}))
    element = "NotAction" if statement.actions_negated else "Action"
    if not plain_strings(raw.get(element)):
        notes.append(
            Notice(f"kept {_name(statement.ref)} as written ({rules}): its {element} is not plain text", statement.ref.location)
        )
        return [Entry(copy.deepcopy(raw), statement)]
    whole = any(fix.actions is None for _, fix in fixes)
    named = {action for _, fix in fixes for action in fix.actions or ()}
    if statement.actions_negated:
        # Removing a NotAction entry would grant more: only the whole-statement fix (PG201) applies,
        # and it leaves out every Batch and EventBridge action.
        if not whole:
            return [Entry(copy.deepcopy(raw), statement)]
        left_out = [*statement.actions, *(p for p in WITHOUT_JUDGED if p not in statement.actions)]
        return [_rewrite_actions(raw, statement, left_out, True, rules, notes)]
    if whole and any(all_actions(pattern) for pattern in statement.actions):
        return [_rewrite_actions(raw, statement, list(WITHOUT_JUDGED), True, rules, notes)]
    kept: list[str] = []
    for pattern in statement.actions:
        if pattern in named:
            continue
        if whole and _over_broad(pattern):
            if has_wildcard(pattern.partition(":")[0]):
                # `b*:*` also grants services policygen has no list of (backup, braket...): IAM
                # cannot write "b*:* but not batch:*", and dropping it would drop them too.
                notes.append(
                    Notice(
                        f"kept {pattern} in {_name(statement.ref)} ({rules}): it also grants other services' actions, "
                        "which cannot be kept without it; it still grants Batch/EventBridge actions: narrow it by hand",
                        statement.ref.location,
                    )
                )
                kept.append(pattern)
            continue
        kept.append(pattern)
    if not kept:
        notes.append(
            Notice(f"dropped {_name(statement.ref)} ({rules}): it granted only flagged Batch/EventBridge actions", statement.ref.location)
        )
        return []
    return [_rewrite_actions(raw, statement, kept, False, rules, notes)]


def _rewrite_actions(
    raw: dict[str, Any], statement: Statement, actions: list[str], negated: bool, rules: str, notes: list[Notice]
) -> Entry:
    element = "NotAction" if negated else "Action"
    value: Any = actions[0] if len(actions) == 1 and not negated else list(actions)
    data = with_element(raw, "NotAction" if statement.actions_negated else "Action", element, value)
    removed = [a for a in statement.actions if a not in actions] if not negated else []
    what = f"removed {', '.join(removed)}" if removed else f"{element} is now {', '.join(actions)} (its other services' actions kept)"
    notes.append(Notice(f"{_name(statement.ref)} ({rules}): {what}", statement.ref.location))
    return Entry(data, replace(statement, actions=tuple(actions), actions_negated=negated))


def with_element(raw: dict[str, Any], old: str, new: str, value: Any) -> dict[str, Any]:
    """A copy of the statement with element `old` replaced by `new` at the same place (the
    statement reads as the user wrote it)."""
    return {(new if key == old else key): (value if key == old else copy.deepcopy(item)) for key, item in raw.items()}


def all_actions(pattern: str) -> bool:
    """`*`, `*:*`: every action of every service."""
    service, _, name = pattern.partition(":")
    return bool(service) and not service.strip("*") and not name.strip("*")


def _over_broad(pattern: str) -> bool:
    """What PG201 flags in a statement: a pattern that grants every Batch or every EventBridge
    action, or events:PutRule (any rule but the managed one is too many; the states' grant on the
    managed rule comes back in step 3). Other patterns (batch:SubmitJob, events:PutEvents for an
    EventBridge state) stay."""
    expanded = catalog.expand_action_pattern(pattern) or frozenset()
    every = any({f"{service}:{name}" for name in catalog.action_names(service)} <= expanded for service in JUDGED)
    return every or wildcard.matches_ignoring_case(pattern, "events:PutRule")


def plain_strings(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value))
