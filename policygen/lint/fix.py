"""`policygen lint --fix`: the role's policy corrected so that it allows every request the Batch
states make, and nothing the original did not allow besides those requests.

For every request (action, resource, request context) the fixed policy guarantees:
- a request a state needs (`requirements.requests_of`, with the conditions of fine-grained mode)
  is allowed;
- any other request is allowed only if the original policy allowed it.

It gets there in three steps:
1. Allow statements flagged by PG104/PG202/PG103 lose the actions the finding names; those
   flagged by PG201 lose their over-broad Batch/EventBridge patterns (a NotAction or all-services
   grant becomes a NotAction that also leaves out batch:* and events:*). Everything else stays.
   Removing access never breaks the guarantee.
2. Each Deny that may deny a needed request is narrowed by exactly the needed requests: split
   into statements that still deny every other (action, resource, context) it denied. When that
   cannot be written exactly, --fix refuses (UsageError, exit 2) and names the statement.
3. Each needed request the remaining Allow statements do not certainly grant, on its whole
   resource pattern, is added as a narrow statement (its action on fine-grained mode's resources,
   under its conditions). A request already granted stays as the original grants it.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from policygen.errors import Location, Notice, UsageError
from policygen.generate.policy import generate_policy_document
from policygen.iam import catalog, wildcard
from policygen.iam.evaluate import (
    VERSION_WITH_VARIABLES,
    Decision,
    Effect,
    PolicyDocument,
    Request,
    Statement,
    StatementRef,
    evaluate,
)
from policygen.lint.findings import Finding, PolicySource, StatementFix
from policygen.lint.roles.unit import LintUnit
from policygen.requirements.needs import Access, Condition, Need, requests_of

# The services whose grants the linter judges (PG201/PG202 are about them only).
_JUDGED = ("batch", "events")
_WITHOUT_JUDGED = ("batch:*", "events:*")
# Without a Version element a policy is read as 2008-10-17, where `${aws:username}` is literal
# text (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html).
_DEFAULT_VERSION = "2008-10-17"
# A negated operator denies exactly when the need's condition does not hold: a negated operator
# holds when the key is absent, where the plain one does not
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html);
# ForAllValues holds for an absent key, ForAnyValue does not
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition_examples-multi-valued-context-keys.html).
_NEGATED = {
    "StringEquals": "StringNotEquals",
    "StringLike": "StringNotLike",
    "ForAllValues:StringEquals": "ForAnyValue:StringNotEquals",
    "ForAllValues:StringLike": "ForAnyValue:StringNotLike",
}


@dataclass(frozen=True)
class _Entry:
    """One statement of the fixed policy as it is written out (template intrinsics included), and
    as the evaluator reads it (None for a Deny, which step 3 does not need)."""

    data: dict[str, Any]
    parsed: Statement | None


def fixed_policy(unit: LintUnit, findings: Sequence[Finding]) -> tuple[dict[str, Any], list[Notice]]:
    """The corrected policy document for one role, and notes on what --fix changed.

    UsageError when the region or account is unknown, or when a Deny that blocks a needed request
    cannot be narrowed exactly."""
    accesses = [access for task in unit.tasks for access in requests_of(task, unit.target)]
    _require_target(accesses)
    template = unit.from_template
    version = _output_version(unit.role.policies)
    fixes = _fixes_by_statement(findings)
    notes: list[Notice] = []
    if unit.role.unreadable:
        notes.append(
            Notice(
                f"--fix cannot judge {', '.join(unit.role.unreadable)}: what it grants or denies is not part of "
                "the guarantees of the fixed policy",
                unit.role.location,
            )
        )
    entries: list[_Entry] = []
    for source in unit.role.policies:
        for raw, statement in _statement_pairs(source):
            if statement.effect is Effect.ALLOW:
                entries.extend(_fix_allow(raw, statement, fixes.get((statement.ref.source, statement.ref.index), []), notes))
            else:
                entries.extend(_narrow_deny(raw, statement, accesses, template, notes))
    # Where each state is (line and column), as the findings about it say.
    located = {id(finding.task): finding.location for finding in findings if finding.task is not None and finding.location}
    allows = [entry.parsed for entry in entries if entry.parsed is not None]
    added = _added_statements(accesses, allows, unit, template, located, notes)
    statements = _with_unique_sids([entry.data for entry in entries], added)
    document: dict[str, Any] = {} if version is None else {"Version": version}
    document["Statement"] = statements
    return document, notes


# ---------------------------------------------------------------------------------------------
# Inputs


def _require_target(accesses: Iterable[Access]) -> None:
    missing = sorted({part for access in accesses for part in access.open_parts})
    if missing:
        flags = " and ".join("--region (or AWS_REGION)" if part == "region" else "--account" for part in missing)
        raise UsageError(
            f"--fix names the states' Batch resources in the policy, and the {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} unknown",
            hint=f"pass {flags}",
        )


def _statement_pairs(source: PolicySource) -> list[tuple[dict[str, Any], Statement]]:
    """Each statement as loaded beside its parsed form. A template policy whose statements are
    chosen at deploy time (Fn::If) has no such pairing: --fix cannot rewrite it."""
    items = source.data.get("Statement") if isinstance(source.data, dict) else None
    raws = [items] if isinstance(items, dict) else items
    parsed = source.document.statements
    if not isinstance(raws, list) or len(raws) != len(parsed) or not all(isinstance(raw, dict) for raw in raws):
        raise UsageError(
            f"--fix cannot rewrite {source.document.source}: its statements are chosen at deploy time",
            source.locate("/Statement") if source.locate else None,
        )
    return list(zip(raws, parsed))


def _fixes_by_statement(findings: Sequence[Finding]) -> dict[tuple[str, int], list[tuple[str, StatementFix]]]:
    fixes: dict[tuple[str, int], list[tuple[str, StatementFix]]] = {}
    for finding in findings:
        for fix in finding.fixes:
            fixes.setdefault((fix.statement.source, fix.statement.index), []).append((finding.rule.id, fix))
    return fixes


def _output_version(sources: Sequence[PolicySource]) -> str | None:
    """The Version of the one document --fix writes: the original's. The role's policies may
    disagree; then 2012-10-17, where `${...}` is a policy variable, and --fix refuses when a
    statement from a policy without it holds `${` (which it would reinterpret)."""
    versions = {source.document.version for source in sources}
    if len(versions) <= 1:
        return next(iter(versions), VERSION_WITH_VARIABLES) if sources else VERSION_WITH_VARIABLES
    if {version or _DEFAULT_VERSION for version in versions} == {_DEFAULT_VERSION}:
        return _DEFAULT_VERSION
    for source in sources:
        if source.document.version == VERSION_WITH_VARIABLES:
            continue
        for statement in source.document.statements:
            if any("${" in text for text in _texts(statement)):
                raise UsageError(
                    f"--fix writes one policy with Version {VERSION_WITH_VARIABLES} for the role's policies, and "
                    f"{_name(statement.ref)} (Version {source.document.version or 'absent, i.e. ' + _DEFAULT_VERSION}) "
                    "holds `${`, which that Version reads as a policy variable",
                    statement.ref.location,
                    hint="give the role's policies one Version, or write the `${` as `${$}` in a 2012-10-17 policy",
                )
    return VERSION_WITH_VARIABLES


def _texts(statement: Statement) -> Iterable[str]:
    yield from statement.actions
    yield from statement.resources
    for test in statement.conditions:
        yield test.key
        yield from test.values


# ---------------------------------------------------------------------------------------------
# Step 1: flagged Allow statements lose the flagged Batch/EventBridge actions


def _fix_allow(
    raw: dict[str, Any], statement: Statement, fixes: list[tuple[str, StatementFix]], notes: list[Notice]
) -> list[_Entry]:
    if not fixes:
        return [_Entry(copy.deepcopy(raw), statement)]
    rules = "/".join(sorted({rule_id for rule_id, _ in fixes}))
    element = "NotAction" if statement.actions_negated else "Action"
    if not _plain_strings(raw.get(element)):
        notes.append(
            Notice(f"kept {_name(statement.ref)} as written ({rules}): its {element} is not plain text", statement.ref.location)
        )
        return [_Entry(copy.deepcopy(raw), statement)]
    whole = any(fix.actions is None for _, fix in fixes)
    named = {action for _, fix in fixes for action in fix.actions or ()}
    if statement.actions_negated:
        # Removing a NotAction entry would grant more: only the whole-statement fix (PG201) applies,
        # and it leaves out every Batch and EventBridge action.
        if not whole:
            return [_Entry(copy.deepcopy(raw), statement)]
        left_out = [*statement.actions, *(p for p in _WITHOUT_JUDGED if p not in statement.actions)]
        return [_rewrite_actions(raw, statement, left_out, True, rules, notes)]
    if whole and any(_all_actions(pattern) for pattern in statement.actions):
        return [_rewrite_actions(raw, statement, list(_WITHOUT_JUDGED), True, rules, notes)]
    kept: list[str] = []
    for pattern in statement.actions:
        if pattern in named:
            continue
        if whole and _over_broad(pattern):
            if _has_wildcard(pattern.partition(":")[0]):
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
) -> _Entry:
    element = "NotAction" if negated else "Action"
    value: Any = actions[0] if len(actions) == 1 and not negated else list(actions)
    data = _with_element(raw, "NotAction" if statement.actions_negated else "Action", element, value)
    removed = [a for a in statement.actions if a not in actions] if not negated else []
    what = f"removed {', '.join(removed)}" if removed else f"{element} is now {', '.join(actions)} (its other services' actions kept)"
    notes.append(Notice(f"{_name(statement.ref)} ({rules}): {what}", statement.ref.location))
    return _Entry(data, replace(statement, actions=tuple(actions), actions_negated=negated))


def _with_element(raw: dict[str, Any], old: str, new: str, value: Any) -> dict[str, Any]:
    """A copy of the statement with element `old` replaced by `new` at the same place (the
    statement reads as the user wrote it)."""
    return {(new if key == old else key): (value if key == old else copy.deepcopy(item)) for key, item in raw.items()}


def _all_actions(pattern: str) -> bool:
    """`*`, `*:*`: every action of every service."""
    service, _, name = pattern.partition(":")
    return bool(service) and not service.strip("*") and not name.strip("*")


def _over_broad(pattern: str) -> bool:
    """What PG201 flags in a statement: a pattern that grants every Batch or every EventBridge
    action, or events:PutRule (any rule but the managed one is too many; the states' grant on the
    managed rule comes back in step 3). Other patterns (batch:SubmitJob, events:PutEvents for an
    EventBridge state) stay."""
    expanded = catalog.expand_action_pattern(pattern) or frozenset()
    every = any({f"{service}:{name}" for name in catalog.action_names(service)} <= expanded for service in _JUDGED)
    return every or wildcard.matches_ignoring_case(pattern, "events:PutRule")


def _plain_strings(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value))


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


def _narrow_deny(
    raw: dict[str, Any], statement: Statement, accesses: Sequence[Access], template: bool, notes: list[Notice]
) -> list[_Entry]:
    blocked = _blocked_by(statement, accesses)
    if not blocked:
        return [_Entry(copy.deepcopy(raw), None)]
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
    return [_Entry(part, None) for part in parts]


def _blocked_by(statement: Statement, accesses: Sequence[Access]) -> list[_Blocked]:
    """The needed actions the Deny may deny, on the patterns it may deny them on (its Condition
    aside: narrowing a Deny by requests it would not deny anyway changes nothing)."""
    grouped: dict[str, dict[str, Any]] = {}
    # Per action, the patterns of every request the Deny may apply to (overlapping or not).
    needed: dict[str, set[str]] = {}
    for access in accesses:
        if not _action_in(statement, access.action) or _condition_fails(statement, access):
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
    if not _plain_strings(raw.get(element)):
        _refuse(statement, f"its {element} is not plain text")
    names = [item.action for item in blocked]
    data = copy.deepcopy(raw)
    if statement.actions_negated:
        # NotAction L denies what L does not match; with the needed actions added to L it denies
        # the same minus exactly those actions.
        data["NotAction"] = [*statement.actions, *(n for n in names if n not in statement.actions)]
        return data
    if any(_all_actions(pattern) for pattern in statement.actions):
        return _with_element(raw, "Action", "NotAction", names)
    kept = []
    for pattern in statement.actions:
        matched = [n for n in names if wildcard.matches_ignoring_case(pattern, n)]
        if not matched:
            kept.append(pattern)
        elif _has_wildcard(pattern):
            _refuse(statement, f"its action {pattern} also covers other actions, and IAM cannot deny {pattern} except {', '.join(matched)}")
    if not kept:
        return None
    data["Action"] = kept[0] if len(kept) == 1 and isinstance(raw["Action"], str) else kept
    return data


def _deny_outside(
    raw: dict[str, Any], statement: Statement, item: _Blocked, template: bool, notes: list[Notice]
) -> dict[str, Any] | None:
    """The Deny for the blocked action on the resources it denied outside the needed patterns."""
    if any(_all_stars(p) for p in item.patterns):
        return None  # every resource of the action is needed
    data = _deny_of_action(raw, item.action)
    element = "NotResource" if statement.resources_negated else "Resource"
    written = raw.get(element)
    new = [_template_value(p) if template else p for p in item.patterns]
    if statement.resources_negated:
        listed = written if isinstance(written, list) else [written]
        data["NotResource"] = [*listed, *(v for p, v in zip(item.patterns, new) if p not in statement.resources)]
        return data
    if any(_all_stars(r) for r in statement.resources):
        return _with_element(data, "Resource", "NotResource", new)
    listed = written if isinstance(written, list) else [written]
    if len(listed) != len(statement.resources):
        _refuse(statement, "its Resource is chosen at deploy time")
    kept = []
    for value, pattern in zip(listed, (_as_glob(r, statement) for r in statement.resources)):
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
            return _with_element(data, "Resource", "NotResource", [_template_value(p) if template else p for p in item.needed])
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
        negated = _NEGATED.get(operator)
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
    return _with_element(raw, "NotAction" if "NotAction" in raw else "Action", "Action", action)


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
    return any(wildcard.intersects(_as_glob(r, statement), pattern) for r in statement.resources)


def _as_glob(pattern: str, statement: Statement) -> str:
    """A Resource pattern for the overlap tests: a policy variable (2012-10-17) may stand for any
    text, so it counts as `*` where that says "may overlap"."""
    return re.sub(r"\$\{[^}]*\}", "*", pattern) if statement.variables_enabled else pattern


# ---------------------------------------------------------------------------------------------
# Step 3: the needed requests the Allow statements do not grant become narrow statements


def _added_statements(
    accesses: Sequence[Access],
    allows: Sequence[Statement],
    unit: LintUnit,
    template: bool,
    located: dict[int, Location],
    notes: list[Notice],
) -> list[dict[str, Any]]:
    needs: list[Need] = []
    for access in accesses:
        missing = tuple(
            pattern
            for resource, pattern in zip(access.resources, access.patterns)
            if not _granted(access, resource, pattern, allows)
        )
        if missing:
            needs.append(Need(access.sid, (access.action,), missing, access.why, access.source, access.task, access.conditions))
            if not access.exact:
                notes.append(
                    Notice(
                        f"state {access.task.path!r} does not name the resource of its {access.action} in the definition "
                        f"(it is known only at run time): --fix allows {access.action} on {', '.join(missing)}",
                        located.get(id(access.task)) or Location(access.task.file, pointer=access.task.pointer),
                    )
                )
    if not needs:
        return []
    statements = [statement.to_json() for statement in generate_policy_document(needs, unit.target).statements]
    for statement in statements:
        if template:
            statement["Resource"] = (
                _template_value(statement["Resource"]) if isinstance(statement["Resource"], str)
                else [_template_value(r) for r in statement["Resource"]]
            )
        notes.append(
            Notice(
                f"added statement \"{statement['Sid']}\": {', '.join(statement['Action'])} on "
                f"{_resources_text(statement['Resource'])}"
                + (" under its conditions" if "Condition" in statement else "")
                + ", which the states need and the role did not grant"
            )
        )
    return statements


def _granted(access: Access, resource: str, pattern: str, allows: Sequence[Statement]) -> bool:
    """Whether one Allow statement certainly grants the request on every resource of `pattern`."""
    request = Request(access.action, resource, dict(access.context), access.known_keys)
    for statement in allows:
        document = PolicyDocument(statement.ref.source, None, (statement,))
        if evaluate(request, [document]).decision is not Decision.ALLOWED:
            continue
        if pattern == "*" or _resource_covers(statement, pattern):
            return True
    return False


def _resource_covers(statement: Statement, pattern: str) -> bool:
    """Whether the Allow statement's Resource/NotResource certainly matches every resource of the
    pattern. An entry with a policy variable is known only per request: in NotResource it counts
    as any text, in Resource it never covers."""
    if statement.resources_negated:
        return not any(wildcard.intersects(_as_glob(listed, statement), pattern) for listed in statement.resources)
    plain = [listed for listed in statement.resources if not (statement.variables_enabled and "${" in listed)]
    return any(wildcard.contains(listed, pattern) for listed in plain)


def _resources_text(value: Any) -> str:
    items = value if isinstance(value, list) else [value]
    return ", ".join(item if isinstance(item, str) else json.dumps(item, sort_keys=True) for item in items)


_STAND_IN_ARN = re.compile(
    r"arn:[^:]+:batch:[^:]+:[^:]+:(?:job-queue|job-definition|consumable-resource)/policygen-ref-(?P<name>[A-Za-z0-9]+)(?::policygen-revision)?"
)
_STAND_IN = re.compile(r"policygen-ref-(?P<name>[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)?)")


def _template_value(pattern: str) -> Any:
    """A resource pattern with the linter's stand-ins for template values written as the template
    would: a Batch resource's own ARN as {"Ref": ...}, a parameter inside a text as Fn::Sub."""
    whole = _STAND_IN_ARN.fullmatch(pattern)
    if whole:
        return {"Ref": whole["name"]}
    if "policygen-ref-" not in pattern:
        return pattern
    return {"Fn::Sub": _STAND_IN.sub(lambda m: "${" + m["name"] + "}", pattern.replace("${", "${!"))}


# ---------------------------------------------------------------------------------------------
# Sids and names


def _with_unique_sids(kept: list[dict[str, Any]], added: list[dict[str, Any]]) -> list[dict[str, Any]]:
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


def _has_wildcard(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def _all_stars(pattern: str) -> bool:
    return bool(pattern) and not pattern.strip("*")


