"""`policygen audit`: every state machine deployed in the accounts and regions given, with the
definition AWS runs and the role it runs as, linted in one pass.

collect (aws.py's guarded clients, concurrently) -> judge (the lint checks) -> report (formats).
"""

from __future__ import annotations

from dataclasses import dataclass

from policygen.audit.collect import AuditOptions, Collected, Progress, collect
from policygen.audit.judge import AuditReport, judge
from policygen.audit.report import render_audit
from policygen.errors import Notice
from policygen.lint.rules import Severity

__all__ = ["AuditOptions", "AuditOutcome", "run_audit"]


@dataclass(frozen=True)
class AuditOutcome:
    text: str  # the report in the format asked for
    failed: bool  # a finding at or above the --fail-on severity
    notices: tuple[Notice, ...]
    report: AuditReport
    collected: Collected


def run_audit(options: AuditOptions, output_format: str = "text", fail_on: str = "error", progress: Progress | None = None) -> AuditOutcome:
    """Collect, judge and render; InputError (exit 2) only when nothing could be listed."""
    collected = collect(options, progress)
    report = judge(collected)
    threshold = Severity(fail_on)
    failed = any(item.finding.severity.rank >= threshold.rank for item in report.findings)
    return AuditOutcome(render_audit(report, output_format), failed, report.notices, report, collected)
