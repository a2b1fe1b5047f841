"""Needs -> one IAM policy document: resources resolved, statements merged, sorted, with stable Sids."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterable

from policygen.errors import UsageError
from policygen.requirements import Need
from policygen.target import Target

POLICY_VERSION = "2012-10-17"
_FLAGS = {"region": "--region (or AWS_REGION)", "account": "--account"}


@dataclass(frozen=True)
class Statement:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    needs: tuple[Need, ...]  # why this statement exists, for --explain and the linter

    def to_json(self) -> dict[str, Any]:
        return {
            "Sid": self.sid,
            "Effect": "Allow",
            "Action": list(self.actions),
            "Resource": "*" if self.resources == ("*",) else list(self.resources),
        }


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]

    def to_json(self) -> dict[str, Any]:
        return {"Version": POLICY_VERSION, "Statement": [s.to_json() for s in self.statements]}


def generate_documented(needs: Iterable[Need], target: Target) -> Policy:
    """The documented policy (REFERENCE.md §2) for all `needs`, merged into as few statements as
    keep every action on exactly the resources some state needs it on."""
    groups: dict[tuple[str, ...], list[tuple[Need, tuple[str, ...]]]] = {}
    resolved: dict[tuple[str, ...], tuple[str, ...]] = {}  # the same few resource lists recur per state
    for need in needs:
        resources = resolved.get(need.resources)
        if resources is None:
            resources = tuple(sorted(set(_resolve(resource, need, target) for resource in need.resources)))
            resolved[need.resources] = resources
        groups.setdefault(resources, []).append((need, need.actions))
    statements = []
    for resources, members in groups.items():
        actions = tuple(sorted({action for _, acts in members for action in acts}, key=str.lower))
        statements.append(
            Statement(
                sid=_merged_sid([(need.sid, acts) for need, acts in members]),
                actions=actions,
                resources=resources,
                needs=tuple(sorted((need for need, _ in members), key=_need_order)),
            )
        )
    return Policy(tuple(_unique_sids(sorted(statements, key=lambda s: (s.sid, s.resources, s.actions)))))


def _resolve(resource: str, need: Need, target: Target) -> str:
    for name in sorted(need.placeholders):
        value = getattr(target, name)
        if value is None:
            task = need.task
            raise UsageError(
                f"the {name} is unknown, and state {task.path!r} in {task.file} needs it for "
                f"{', '.join(need.actions)} on {resource}",
                hint=f"pass {_FLAGS[name]}",
            )
        resource = resource.replace(f"{{{name}}}", value)
    return resource


def _merged_sid(rows: list[tuple[str, tuple[str, ...]]]) -> str:
    """One Sid for table rows merged into a statement: the row with the most actions names it, and
    each further row that adds actions adds its name without the shared "Batch" prefix
    (BatchRunJob + BatchSubmitJob -> BatchRunJob; BatchSubmitJob + BatchSdkCall -> BatchSubmitJobSdkCall)."""
    covered: set[str] = set()
    names: list[str] = []
    for sid, actions in sorted(set(rows), key=lambda row: (-len(row[1]), row[0], row[1])):
        if not covered.issuperset(actions) and sid not in names:
            names.append(sid)
        covered.update(actions)
    return names[0] + "".join(name.removeprefix("Batch") for name in names[1:])


def _unique_sids(statements: list[Statement]) -> list[Statement]:
    counts: dict[str, int] = {}
    for statement in statements:
        counts[statement.sid] = counts.get(statement.sid, 0) + 1
    seen: dict[str, int] = {}
    unique = []
    for statement in statements:
        if counts[statement.sid] > 1:
            seen[statement.sid] = seen.get(statement.sid, 0) + 1
            statement = replace(statement, sid=f"{statement.sid}{seen[statement.sid]}")
        unique.append(statement)
    return unique


def _need_order(need: Need) -> tuple[str, ...]:
    return (need.task.file, need.task.machine, need.task.pointer, need.sid)
