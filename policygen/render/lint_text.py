"""Lint findings as text: one line per finding (`file:line: PG101 error message`) and a summary."""

from __future__ import annotations

from collections.abc import Sequence

from policygen.errors import Notice, one_line
from policygen.lint.findings import Finding
from policygen.lint.rules import Severity
from policygen.lint.suppressions import Suppressed


def summary_counts(findings: Sequence[Finding]) -> dict[str, int]:
    return {severity.value: sum(1 for f in findings if f.severity is severity) for severity in Severity}


def render_lint_text(findings: Sequence[Finding], skipped: Sequence[Notice] = (), suppressed: Sequence[Suppressed] = ()) -> str:
    """The findings, one a line, and the summary; skipped inputs were warned on stderr, suppressed
    findings are only counted."""
    lines = []
    for finding in findings:
        location = finding.location
        where = "policygen"
        if location is not None:
            where = location.file + (f":{location.line}" if location.line is not None else "")
        lines.append(one_line(f"{where}: {finding.rule.id} {finding.severity.value} {finding.message}"))
    counts = summary_counts(findings)
    if findings:
        parts = [f"{count} {name}{'' if count == 1 else 's'}" for name, count in counts.items() if count]
        lines.append(f"{len(findings)} finding{'' if len(findings) == 1 else 's'}: {', '.join(parts)}")
    else:
        lines.append("no findings")
    if suppressed:
        lines[-1] += f"; {len(suppressed)} suppressed"
    return "\n".join(lines) + "\n"
