"""Lint findings as JSON, in the stable schema documented in docs/lint-output.md (version 1)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from policygen import __version__
from policygen.errors import Location, Notice
from policygen.lint.findings import Finding
from policygen.lint.suppressions import Suppressed
from policygen.render.lint_text import summary_counts

SCHEMA_VERSION = 1


def location_json(location: Location | None) -> dict[str, Any] | None:
    if location is None:
        return None
    return {"file": location.file, "line": location.line, "column": location.column, "pointer": location.pointer}


def finding_json(finding: Finding) -> dict[str, Any]:
    state = finding.task
    return {
        "ruleId": finding.rule.id,
        "rule": finding.rule.name,
        "severity": finding.severity.value,
        "message": finding.message,
        "location": location_json(finding.location),
        "state": None
        if state is None
        else {"file": state.file, "stateMachine": state.machine, "path": state.path, "pointer": state.pointer},
        "statements": [
            {
                "file": ref.location.file,
                "policy": ref.source,
                "index": ref.index,
                "sid": ref.sid,
                "pointer": ref.pointer,
                "line": ref.location.line,
            }
            for ref in finding.refs
        ],
        "related": [location_json(location) for location in finding.related],
    }


def render_lint_json(findings: Sequence[Finding], skipped: Sequence[Notice] = (), suppressed: Sequence[Suppressed] = ()) -> str:
    document: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "tool": {"name": "policygen", "version": __version__},
        "findings": [finding_json(finding) for finding in findings],
        "summary": summary_counts(findings),
    }
    if suppressed:  # only then, like `skipped`
        document["suppressed"] = [
            dict(finding_json(entry.finding), suppression={
                "reason": entry.suppression.reason,
                "resource": entry.suppression.resource,
                "location": location_json(entry.suppression.location),
            })
            for entry in suppressed
        ]
    if skipped:  # only then: reports of runs that skipped nothing keep their keys (version 1)
        document["skipped"] = [
            {"file": notice.location.file if notice.location else None, "reason": notice.message} for notice in skipped
        ]
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
