"""The formats of `policygen lint`'s report, and the one table that picks a renderer for each."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from policygen.lint.findings import Finding
from policygen.render.lint_json import render_lint_json
from policygen.render.lint_sarif import render_lint_sarif
from policygen.render.lint_text import render_lint_text

LINT_FORMATS: dict[str, Callable[[Sequence[Finding]], str]] = {
    "text": render_lint_text,
    "json": render_lint_json,
    "sarif": render_lint_sarif,
}


def render_lint(findings: Sequence[Finding], output_format: str) -> str:
    return LINT_FORMATS[output_format](findings)
