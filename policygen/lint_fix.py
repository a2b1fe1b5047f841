"""`policygen lint --fix`: the corrected policy, i.e. the documented policy the states need merged
with the role's statements that no rule flagged (flagged actions removed, flagged statements dropped)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from policygen.errors import Notice
from policygen.generate import POLICY_VERSION, generate_policy_document
from policygen.lint import Finding, StatementFix
from policygen.lint_inputs import LintUnit
from policygen.requirements import Options, needs_of_all


def fixed_policy(unit: LintUnit, findings: Sequence[Finding]) -> tuple[dict[str, Any], list[Notice]]:
    """The corrected policy document for one role, and notes on what was dropped."""
    generated = generate_policy_document(needs_of_all(unit.tasks, Options()).needs, unit.target).to_json()
    statements: list[dict[str, Any]] = list(generated["Statement"])
    fixes: dict[tuple[str, int], list[StatementFix]] = {}
    for finding in findings:
        for fix in finding.fixes:
            fixes.setdefault((fix.statement.source, fix.statement.index), []).append(fix)
    notes: list[Notice] = []
    sids = {statement["Sid"] for statement in statements}
    for source in unit.role.policies:
        for index, raw in enumerate(_statements(source.data)):
            ref = source.document.statements[index].ref
            kept = _apply(raw, fixes.get((source.document.source, index), []))
            if kept is None:
                notes.append(Notice(f"dropped {_name(ref)} (flagged); the generated statements replace what the Batch states need from it", ref.location))
                continue
            if kept.get("Sid") in sids:
                kept["Sid"] = _unique_sid(kept["Sid"], sids)
            if "Sid" in kept:
                sids.add(kept["Sid"])
            statements.append(kept)
    return {"Version": POLICY_VERSION, "Statement": statements}, notes


def _statements(data: Any) -> list[dict[str, Any]]:
    items = data["Statement"]
    return [items] if isinstance(items, dict) else list(items)


def _apply(raw: dict[str, Any], fixes: list[StatementFix]) -> dict[str, Any] | None:
    if any(fix.actions is None for fix in fixes):
        return None
    statement = copy.deepcopy(raw)
    remove = {action for fix in fixes for action in fix.actions or ()}
    if not remove:
        return statement
    element = "Action" if "Action" in statement else "NotAction"
    actions = statement[element]
    actions = [actions] if isinstance(actions, str) else list(actions)
    left = [action for action in actions if action not in remove]
    if not left:
        return None
    statement[element] = left[0] if len(left) == 1 else left
    return statement


def _unique_sid(sid: str, taken: set[str]) -> str:
    number = 2
    while f"{sid}{number}" in taken:
        number += 1
    return f"{sid}{number}"


def _name(ref) -> str:
    return (f'statement "{ref.sid}"' if ref.sid else f"statement {ref.index}") + f" of {ref.source}"
