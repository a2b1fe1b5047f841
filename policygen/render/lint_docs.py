"""docs/rules.md, generated from rules/lint/*.yaml: `python -m policygen.render.lint_docs > docs/rules.md`.

tests/lint/test_lint_rules.py fails when docs/rules.md differs from what this writes."""

from __future__ import annotations

import sys

from policygen.lint.rules import Rule, all_rules

_HEADER = """\
# policygen lint rules

<!-- Generated from rules/lint/*.yaml by `python -m policygen.render.lint_docs > docs/rules.md`; do not edit. -->

`policygen lint` reports these findings. Ids say the severity: PG1xx are errors (the execution
fails at run time, or the role cannot be used), PG2xx warnings (more than needed, or not
checkable offline), PG3xx suggestions (works, could be tighter). `--fail-on` (default `error`)
sets which of them make the exit code 1; `--ignore PG201` and `[tool.policygen.lint]` in
pyproject.toml (or `[lint]` in `.policygen.toml`) suppress them. Output formats: docs/lint-output.md.
"""


def _fenced(text: str) -> str:
    return f"```\n{text}\n```"


def rule_anchor(rule: Rule) -> str:
    """The fragment a Markdown renderer (GitHub's) gives the rule's heading below: lower case, spaces as hyphens,
    the parentheses dropped; rule ids and names are ASCII letters, digits and hyphens."""
    return f"{rule.id.lower()}-{rule.name}-{rule.severity.value}"


def _rule_section(rule: Rule) -> str:
    doc = rule.doc
    return "\n\n".join(
        [
            f"## {rule.id} {rule.name} ({rule.severity.value})",
            rule.summary,
            f"Message: `{rule.message}`",
            f"### What it does\n\n{doc.what}",
            f"### Why is this bad?\n\n{doc.why}",
            f"### Example\n\n{_fenced(doc.bad)}",
            f"### Use instead\n\n{_fenced(doc.good)}",
            f"### How to fix\n\n{doc.fix}",
            f"Source: {rule.source}",
        ]
    )


def render_rules_markdown() -> str:
    rules = list(all_rules().values())
    table = ["| id | name | severity | summary |", "|---|---|---|---|"]
    table += [f"| [{r.id}](#{rule_anchor(r)}) | {r.name} | {r.severity.value} | {r.summary} |" for r in rules]
    sections = [_HEADER, "\n".join(table)] + [_rule_section(rule) for rule in rules]
    return "\n\n".join(section.rstrip("\n") for section in sections) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_rules_markdown())
