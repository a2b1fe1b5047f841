"""Needs -> one IAM policy document: resources resolved, statements merged, sorted, with stable Sids."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from policygen.errors import UsageError
from policygen.iam import wildcard
from policygen.iam.json_text import dumps_indented
from policygen.requirements.needs import Condition, Need
from policygen.requirements.target import Target

POLICY_VERSION = "2012-10-17"
_FLAGS = {"partition": "--partition", "region": "--region (or AWS_REGION)", "account": "--account"}


@dataclass(frozen=True)
class Statement:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    needs: tuple[Need, ...]  # why this statement exists, for --explain: in no set order (need_order sorts them)
    conditions: tuple[Condition, ...] = ()

    def to_json(self) -> dict[str, Any]:
        statement: dict[str, Any] = {
            "Sid": self.sid,
            "Effect": "Allow",
            "Action": list(self.actions),
            "Resource": "*" if self.resources == ("*",) else list(self.resources),
        }
        if self.conditions:
            statement["Condition"] = condition_json(self.conditions)
        return statement


def condition_json(conditions: Iterable[Condition]) -> dict[str, dict[str, Any]]:
    """IAM's Condition block: operators, then keys, in sorted order; one value as a string."""
    block: dict[str, dict[str, Any]] = {}
    for operator, key, values in sorted(conditions):
        block.setdefault(operator, {})[key] = values[0] if len(values) == 1 else list(values)
    return block


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]

    def to_json(self) -> dict[str, Any]:
        return {"Version": POLICY_VERSION, "Statement": [s.to_json() for s in self.statements]}

    @cached_property
    def json_text(self) -> str:
        """The document as IAM JSON (two-space indent, no final newline), encoded once: the size
        check and the JSON output share it."""
        return dumps_indented(self.to_json())


def generate_policy_document(needs: Iterable[Need], target: Target) -> Policy:
    """One policy for all `needs`: every action on exactly the resources, under exactly the
    conditions, some state needs it on. Statements that need the same actions under the same
    conditions share one resource list; then statements with the same resources and conditions
    share one action list. Neither step gives any action a resource or condition it did not have."""
    by_actions: dict[tuple, tuple[set[str], list[Need]]] = {}
    resolved: dict[tuple[str, ...], tuple[str, ...]] = {}  # the same few resource lists recur per state
    # Needs from one table row share their actions, resources and (mostly) conditions objects:
    # grouping by identity first spares hashing those tuples for every need.
    by_identity: dict[tuple[int, int, int], list[Need]] = {}
    for need in needs:
        identity = (id(need.actions), id(need.resources), id(need.conditions))
        members = by_identity.get(identity)
        if members is None:
            resources = resolved.get(need.resources)
            if resources is None:
                resources = tuple(_resolve(resource, need, target) for resource in need.resources)
                resolved[need.resources] = resources
            conditions = _resolved_conditions(need, target) if need.conditions else need.conditions
            group = by_actions.setdefault((need.actions, conditions, _integration(need)), (set(), []))
            group[0].update(resources)
            members = by_identity[identity] = group[1]
        members.append(need)

    by_resources: dict[tuple, list[tuple[tuple[str, ...], list[Need]]]] = {}
    for (actions, conditions, integration), (resources, members) in by_actions.items():
        by_resources.setdefault((without_covered(resources), conditions, integration), []).append((actions, members))

    statements = []
    for (resources, conditions, _), groups in by_resources.items():
        members = [need for _, group in groups for need in group]
        statements.append(
            Statement(
                sid=_merged_sid([(sid, actions) for actions, group in groups for sid in {need.sid for need in group}]),
                actions=tuple(sorted({a for actions, _ in groups for a in actions}, key=str.lower)),
                resources=resources,
                needs=tuple(members),
                conditions=conditions,
            )
        )
    statements = _without_redundant(statements)
    statements.sort(key=lambda s: (s.sid, s.resources, s.actions, s.conditions))
    return Policy(tuple(_unique_sids(statements)))


def _integration(need: Need) -> str:
    """The integration a need serves ("batch", "lambda", "aws-sdk"...): statements are merged within
    one integration only, so each reads as one integration's grant and its Sid names it."""
    return getattr(need.task, "service", "batch")


def _without_redundant(statements: list[Statement]) -> list[Statement]:
    """Drops a statement another one already grants: the other has all its actions, covers each of
    its resources, and asks for a subset of its conditions (so it applies whenever this one does).
    E.g. TagResource on job/* with tag conditions beside TagResource on job/* with none (a state
    with dynamic Tags). The dropped statement's needs move to the one that covers it, for --explain."""
    ordered = sorted(statements, key=lambda s: (len(s.conditions), -len(s.actions), s.sid, s.resources))
    kept: list[Statement] = []
    for statement in ordered:
        cover = next((other for other in kept if _covers(other, statement)), None)
        if cover is None:
            kept.append(statement)
        else:
            merged = replace(cover, needs=cover.needs + statement.needs)
            kept[kept.index(cover)] = merged
    return kept


def _covers(wider: Statement, narrower: Statement) -> bool:
    return (
        set(narrower.actions) <= set(wider.actions)
        and set(wider.conditions) <= set(narrower.conditions)
        and all(
            resource in wider.resources or any(wildcard.covers(w, resource) for w in wider.resources)
            for resource in narrower.resources
        )
    )


def without_covered(resources: set[str]) -> tuple[str, ...]:
    """Sorted, without the ARNs another one's wildcard already covers (job-queue/a beside job-queue/*)."""
    return wildcard.uncovered(resources)


def _resolve(resource: str, need: Need, target: Target) -> str:
    if "{" not in resource:
        return resource  # nearly every resource of a large definition: an ARN the state named
    missing = []
    for name in ("partition", "region", "account"):
        if f"{{{name}}}" not in resource:
            continue
        value = getattr(target, name)
        if value is None:
            missing.append(name)
        else:
            resource = resource.replace(f"{{{name}}}", value)
    if missing:
        task = need.task
        raise UsageError(
            f"the {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} unknown, and state {task.path!r} "
            f"in {task.file} needs {'it' if len(missing) == 1 else 'them'} for {', '.join(need.actions)} on {resource}",
            hint="pass " + " and ".join(_FLAGS[name] for name in missing),
        )
    return resource


def _resolved_conditions(need: Need, target: Target) -> tuple[Condition, ...]:
    """A need's conditions with {partition}/{region}/{account} filled in (a state machine's own
    ARN in a KMS encryption context: rules/integrations/state-machine.yaml)."""
    if not any("{" in value for _, _, values in need.conditions for value in values):
        return need.conditions
    return tuple((operator, key, tuple(_resolve(value, need, target) for value in values)) for operator, key, values in need.conditions)


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


def need_order(need: Need) -> tuple[str, ...]:
    """A statement's needs in the order --explain lists them (by file, machine and state); sorted
    only there, since a large definition's statements hold thousands."""
    return (need.task.file, need.task.machine, need.task.pointer, need.sid)
