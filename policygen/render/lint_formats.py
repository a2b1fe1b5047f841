"""The formats of `policygen lint`'s report, and the one table that picks a renderer for each."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from policygen.errors import Notice
from policygen.lint.findings import Finding
from policygen.lint.suppressions import Suppressed
from policygen.render.gitlab import issue_json, render_issues
from policygen.render.lint_json import render_lint_json
from policygen.render.lint_sarif import render_lint_sarif, repository_root
from policygen.render.lint_text import render_lint_text


def render_lint_gitlab(
    findings: Sequence[Finding], skipped: Sequence[Notice] = (), suppressed: Sequence[Suppressed] = ()
) -> str:
    """GitLab Code Quality JSON; GitLab reads each `location.path` from the repository root, so a
    file inside the git checkout is named relative to it, like SARIF's artifact URIs. The format
    has no place for skipped inputs or suppressed findings: they are warned on stderr and counted
    in the text report."""
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


# Each renderer takes the findings, the inputs skipped and the findings suppressed in the template.
LintRenderer = Callable[[Sequence[Finding], Sequence[Notice], Sequence[Suppressed]], str]
LINT_FORMATS: dict[str, LintRenderer] = {
    "text": render_lint_text,
    "json": render_lint_json,
    "sarif": render_lint_sarif,
    "gitlab": render_lint_gitlab,
}


def render_lint(
    findings: Sequence[Finding], output_format: str, skipped: Sequence[Notice] = (), suppressed: Sequence[Suppressed] = ()
) -> str:
    """The report; `skipped` (inputs left out, already warned on stderr) goes into JSON and SARIF,
    `suppressed` (findings an in-source suppression covers) into text, JSON and SARIF."""
    return LINT_FORMATS[output_format](findings, skipped, suppressed)
