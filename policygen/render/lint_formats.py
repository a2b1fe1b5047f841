"""The formats of `policygen lint`'s report, and the one table that picks a renderer for each."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from policygen.errors import Notice
from policygen.lint.findings import Finding
from policygen.lint.suppressions import Suppressed
from policygen.render.lint_json import render_lint_json
from policygen.render.lint_sarif import render_lint_sarif
from policygen.render.lint_text import render_lint_text

# Each renderer takes the findings, the inputs skipped and the findings suppressed in the template.
LintRenderer = Callable[[Sequence[Finding], Sequence[Notice], Sequence[Suppressed]], str]
LINT_FORMATS: dict[str, LintRenderer] = {
    "text": render_lint_text,
    "json": render_lint_json,
    "sarif": render_lint_sarif,
}


def render_lint(
    findings: Sequence[Finding], output_format: str, skipped: Sequence[Notice] = (), suppressed: Sequence[Suppressed] = ()
) -> str:
    """The report; `skipped` (inputs left out, already warned on stderr) goes into JSON and SARIF,
    `suppressed` (findings an in-source suppression covers) into each format."""
    return LINT_FORMATS[output_format](findings, skipped, suppressed)
