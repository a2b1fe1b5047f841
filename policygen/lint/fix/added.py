"""Step 3 of --fix: the needed requests no Allow grants, added as narrow statements."""


from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from policygen.errors import Location, Notice
from policygen.generate.policy import generate_policy_document
from policygen.iam import wildcard
from policygen.iam.evaluate import evaluate, statement_allows_action
from policygen.iam.policy import (
    PolicyDocument,
    Statement,
)
from policygen.iam.request import Decision, Request
from policygen.lint.fix.common import as_glob, template_value
from policygen.lint.roles.unit import LintUnit
from policygen.requirements import markers
from policygen.requirements.needs import Need
from policygen.requirements.requests import Access
from policygen.scan import BatchTask, ServiceTask

# ---------------------------------------------------------------------------------------------
# Step 3: the needed requests the Allow statements do not grant become narrow statements


def added_statements(
    accesses: Sequence[Access],
    allows: Sequence[Statement],
    unit: LintUnit,
    template: bool,
    located: dict[int, Location],
    notes: list[Notice],
) -> list[dict[str, Any]]:
    needs: list[Need] = []
    granted: dict[tuple, bool] = {}
    for access in accesses:
        missing = tuple(
            pattern
            for resource, pattern in zip(access.resources, access.patterns, strict=False)
            if not _granted_once(granted, access, resource, pattern, allows)
        )
        missing = _alternatives_to_add(access, missing, template)
        if missing and _left_to_review(access, allows):
            notes.append(
                Notice(
                    f"state {access.task.path!r} does not name the resource of its {access.action} in the definition, and the "
                    f"role allows {access.action} on some resources: --fix keeps them (PG203: check them by hand) rather than "
                    f"allow {', '.join(missing)}",
                    located.get(id(access.task)) or Location(access.task.file, pointer=access.task.pointer),
                )
            )
            continue
        if missing:
            needs.append(Need(access.sid, (access.action,), missing, access.why, access.source, access.task, access.conditions))
            if not access.exact:
                notes.append(
                    Notice(
                        f"state {access.task.path!r} does not name the resource of its {access.action} in the definition "
                        f"(it is known only at {'run' if isinstance(access.task, BatchTask) else 'run or deploy'} time): "
                        f"--fix allows {access.action} on "
                        f"{', '.join(markers.shown_value(pattern) for pattern in missing)}",
                        located.get(id(access.task)) or Location(access.task.file, pointer=access.task.pointer),
                    )
                )
    if not needs:
        return []
    statements = [statement.to_json() for statement in generate_policy_document(needs, unit.target).statements]
    for statement in statements:
        if template:
            statement["Resource"] = (
                template_value(statement["Resource"]) if isinstance(statement["Resource"], str)
                else [template_value(r) for r in statement["Resource"]]
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


def _granted_once(
    answers: dict[tuple, bool], access: Access, resource: str, pattern: str, allows: Sequence[Statement]
) -> bool:
    """`_granted`, worked out once for all the states that ask the same (thousands of states ask a
    few hundred requests); the key holds all `_granted` reads of the access."""
    key = (access.action, resource, pattern, access.context, access.known_keys)
    if key not in answers:
        answers[key] = _granted(access, resource, pattern, allows)
    return answers[key]


def _alternatives_to_add(access: Access, missing: tuple[str, ...], template: bool) -> tuple[str, ...]:
    """Of a service state's template value and its documented fallback (alternatives: either
    allows the request), the one to add: in a template the value itself (written back as the
    template's !GetAtt), else the fallback (a stand-in means nothing in a policy file)."""
    if not isinstance(access.task, ServiceTask) or not any(markers.has_reference(p) for p in access.patterns):
        return missing
    return tuple(p for p in missing if markers.has_reference(p) == template)


def _left_to_review(access: Access, allows: Sequence[Statement]) -> bool:
    """Whether a service state's request that does not name its resource is granted on some
    resources already: the role may be right (PG203), and the documented broad form would widen it."""
    if access.exact or not isinstance(access.task, ServiceTask):
        return False
    return any(statement_allows_action(statement, access.action) for statement in allows)


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
        return not any(wildcard.intersects(as_glob(listed, statement), pattern) for listed in statement.resources)
    plain = [listed for listed in statement.resources if not (statement.variables_enabled and "${" in listed)]
    return any(wildcard.contains(listed, pattern) for listed in plain)


def _resources_text(value: Any) -> str:
    items = value if isinstance(value, list) else [value]
    return ", ".join(item if isinstance(item, str) else json.dumps(item, sort_keys=True) for item in items)


