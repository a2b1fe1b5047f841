"""--explain: for each statement, which states need it and why (the AWS sources it rests on, docs/aws-facts.md)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from policygen.errors import one_line
from policygen.generate.policy import Policy, condition_json, need_order


def render_explanation(policy: Policy) -> str:
    if not policy.statements:
        return "No statements: no Batch state needs any permission.\n"
    lines: list[str] = []
    for statement in policy.statements:
        lines.append(f"{statement.sid}: {', '.join(statement.actions)}")
        lines.append(f"  on {', '.join(statement.resources)}")
        if statement.conditions:
            lines.append(f"  when {json.dumps(condition_json(statement.conditions), sort_keys=True)}")
        reasons: dict[tuple[str, str], list[str]] = {}
        for need in sorted(statement.needs, key=need_order):
            state = one_line(f"{need.task.file}: {need.task.path} ({need.task.pattern.value})")
            states = reasons.setdefault((need.why, need.source), [])
            if state not in states:
                states.append(state)
        for (why, source), states in reasons.items():
            lines.append(f"  because {why} [{source}]")
            lines.extend(f"    needed by {state}" for state in states)
        lines.append("")
    return "\n".join(lines)


def render_unit_explanation(units: Sequence, index: int) -> str:
    """--explain for the `index`th of `units` (outputs.Unit: a name and its generated policy), under
    a `# name` header when there are several."""
    unit = units[index]
    return render_named_explanation(unit.name, unit.generated.policy, index, len(units) > 1)


def render_named_explanation(name: str, policy: Policy, index: int, several: bool) -> str:
    """--explain for the `index`th policy of a run, under a `# name` header when there are `several`."""
    header = (("\n" if index else "") + f"# {name}\n") if several else ""
    return header + render_explanation(policy)
