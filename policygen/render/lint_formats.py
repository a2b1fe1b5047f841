"""The formats of `policygen lint`'s report, and the one table that picks a renderer for each."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from policygen.lint.findings import Finding
from policygen.render.gitlab import issue_json, render_issues
from policygen.render.lint_json import render_lint_json
from policygen.render.lint_sarif import render_lint_sarif, repository_root
from policygen.render.lint_text import render_lint_text


def render_lint_gitlab(findings: Sequence[Finding]) -> str:
    """GitLab Code Quality JSON; GitLab reads each `location.path` from the repository root, so a
    file inside the git checkout is named relative to it, like SARIF's artifact URIs."""
    root = repository_root(Path.cwd().resolve())
    return render_issues(
        [
            issue_json(finding, "policygen")
            if finding.location is None
            else issue_json(finding, repository_path(finding.location.file, root), finding.location.line or 1)
            for finding in findings
        ]
    )


def repository_path(file: str, root: Path | None) -> str:
    """`file` relative to the checkout `root` when it is inside it, else as given."""
    if root is not None and Path(file).exists():
        try:
            return Path(file).resolve().relative_to(root).as_posix()
        except ValueError:
            pass
    return file


LINT_FORMATS: dict[str, Callable[[Sequence[Finding]], str]] = {
    "text": render_lint_text,
    "json": render_lint_json,
    "sarif": render_lint_sarif,
    "gitlab": render_lint_gitlab,
}


def render_lint(findings: Sequence[Finding], output_format: str) -> str:
    return LINT_FORMATS[output_format](findings)
