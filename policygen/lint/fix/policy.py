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

from collections.abc import Iterable, Sequence
from typing import Any

from policygen.errors import Notice, UsageError
from policygen.iam.policy import (
    VERSION_WITH_VARIABLES,
    Effect,
    Statement,
    statement_items,
)
from policygen.lint.findings import Finding, PolicySource, StatementFix
from policygen.lint.fix.added import added_statements
from policygen.lint.fix.allow import fix_allow
from policygen.lint.fix.common import DEFAULT_VERSION, Entry, _name, with_unique_sids
from policygen.lint.fix.deny import narrow_deny
from policygen.lint.roles.unit import LintUnit
from policygen.requirements.requests import Access, requests_of_tasks
from policygen.requirements.service_requests import service_requests


def fixed_policy(unit: LintUnit, findings: Sequence[Finding]) -> tuple[dict[str, Any], list[Notice]]:
    """The corrected policy document for one role, and notes on what --fix changed.

    UsageError when the region or account is unknown, or when a Deny that blocks a needed request
    cannot be narrowed exactly."""
    accesses = [
        *requests_of_tasks(unit.tasks, unit.target),
        *service_requests(unit.services, unit.target, unit.deploy_time),
    ]
    _require_target(accesses)
    template = unit.from_template
    version = _output_version(unit.role.policies)
    fixes = _fixes_by_statement(findings)
    notes: list[Notice] = []
    unread = (*unit.role.unreadable, *unit.role.policy_templates)
    if unread:
        notes.append(
            Notice(
                f"--fix cannot judge {', '.join(unread)}: what it grants or denies is not part of "
                "the guarantees of the fixed policy",
                unit.role.location,
            )
        )
    entries: list[Entry] = []
    for source in unit.role.policies:
        for raw, statement in _statement_pairs(source):
            if statement.effect is Effect.ALLOW:
                entries.extend(fix_allow(raw, statement, fixes.get((statement.ref.source, statement.ref.index), []), notes))
            else:
                entries.extend(narrow_deny(raw, statement, accesses, template, notes))
    # Where each state is (line and column), as the findings about it say.
    located = {id(finding.task): finding.location for finding in findings if finding.task is not None and finding.location}
    allows = [entry.parsed for entry in entries if entry.parsed is not None]
    added = added_statements(accesses, allows, unit, template, located, notes)
    statements = with_unique_sids([entry.data for entry in entries], added)
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
    items = statement_items(source.data.get("Statement")) if isinstance(source.data, dict) else None
    raws = None if items is None else [item for _, _, item in items]
    parsed = source.document.statements
    if not isinstance(raws, list) or len(raws) != len(parsed) or not all(isinstance(raw, dict) for raw in raws):
        raise UsageError(
            f"--fix cannot rewrite {source.document.source}: its statements are chosen at deploy time",
            source.locate("/Statement") if source.locate else None,
        )
    return list(zip(raws, parsed, strict=False))


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
    if {version or DEFAULT_VERSION for version in versions} == {DEFAULT_VERSION}:
        return DEFAULT_VERSION
    for source in sources:
        if source.document.version == VERSION_WITH_VARIABLES:
            continue
        for statement in source.document.statements:
            if any("${" in text for text in _texts(statement)):
                raise UsageError(
                    f"--fix writes one policy with Version {VERSION_WITH_VARIABLES} for the role's policies, and "
                    f"{_name(statement.ref)} (Version {source.document.version or 'absent, i.e. ' + DEFAULT_VERSION}) "
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
