"""Findings as GitLab Code Quality JSON: an array of issues, each with description, check_name,
fingerprint, severity and location.path / location.lines.begin
(https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from policygen.lint.findings import Finding
from policygen.lint.rules import Severity

# GitLab's severities are info, minor, major, critical, blocker.
_SEVERITIES = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.SUGGESTION: "minor"}


def _file_of(finding: Finding) -> str:
    return finding.location.file if finding.location is not None else "policygen"


def issue_json(finding: Finding, path: str, line: int | None = None) -> dict[str, Any]:
    """One Code Quality issue; `path` is where GitLab shows it (a file, or a resource's ARN).
    The line is `line`, else the finding's when it is in that file, else 1 (GitLab needs one)."""
    location = finding.location
    if line is None:
        line = location.line if location is not None and location.file == path and location.line else 1
    identity = "\0".join(
        (finding.rule.id, path, _file_of(finding), (location.pointer or "") if location else "", finding.message)
    )
    return {
        "description": f"{finding.rule.id} {finding.message}",
        "check_name": finding.rule.id,
        "fingerprint": hashlib.sha256(identity.encode()).hexdigest(),
        "severity": _SEVERITIES[finding.severity],
        "location": {"path": path, "lines": {"begin": line}},
    }


def render_gitlab(findings: Sequence[Finding], path_of: Callable[[int, Finding], str] | None = None) -> str:
    """The report; `path_of(index, finding)` names each finding's path (by default its file)."""
    issues = [
        issue_json(finding, path_of(index, finding) if path_of is not None else _file_of(finding))
        for index, finding in enumerate(findings)
    ]
    return render_issues(issues)


def render_issues(issues: Sequence[dict[str, Any]]) -> str:
    return json.dumps(list(issues), indent=2, ensure_ascii=False) + "\n"
