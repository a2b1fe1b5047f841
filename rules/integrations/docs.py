"""Write docs/integrations.md from the integration tables (rules/integrations/*.yaml).

    python rules/integrations/docs.py > docs/integrations.md

One row per integration, API and pattern: what the execution role needs, from which AWS page,
and whether that was checked against the current page. batch.yaml (the older Batch schema) is
described in docs/aws-facts.md instead. tests/test_integration_tables.py fails when the committed
page differs from this script's output.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
LEGACY_TABLES = {"batch.yaml"}
# aws-sdk.yaml and state-machine.yaml have schemas of their own: docs/integrations-sdk-and-machine.md.
OWN_SCHEMA_TABLES = {"aws-sdk.yaml", "state-machine.yaml"}
SUFFIX = {"request-response": "", "run-job": ".sync", "run-job-2": ".sync:2", "callback": ".waitForTaskToken"}
HEADER = """# Step Functions integrations: what the execution role needs

<!-- Generated from rules/integrations/*.yaml by `python rules/integrations/docs.py > docs/integrations.md`; do not edit. -->

One row per optimized integration, API and integration pattern. **Resources** shows how a state's
argument becomes the resource: a `form` is a shape of static value (a regular expression) and the
resources a value of that shape becomes, tried first; `name` is the ARN built from a static name in the field
(`{value}`), *ARN as written* means a static ARN in the field is used unchanged, and `dynamic` is
the documented fallback when the field is a path, a JSONata expression or absent. **Checked**
says whether the fact was read on the current AWS page (`verified`) or comes from an older or
indirect source (`unverified`; the table's YAML says why). AWS Batch is described in
[aws-facts.md](aws-facts.md). How to add an integration: [rules/integrations/README.md](../rules/integrations/README.md).

| Service | Task Resource | Actions | Resources | Managed rule | iam:PassRole | Sources | Checked |
|---|---|---|---|---|---|---|---|
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _resource(resource: object) -> str:
    if isinstance(resource, str):
        return f"`{resource}`"
    parts = [f"form {_form(form)}" for form in resource.get("forms") or ()]
    if "url" in resource:
        parts.append(f"URL `{resource['url']}`")
    if "name" in resource:
        parts.append(f"name `{resource['name']}`")
    if resource.get("arn"):
        parts.append("ARN as written")
    parts.append(f"dynamic `{resource['dynamic']}`")
    return f"`{resource['field']}`: " + ", ".join(parts)


def _form(form: dict) -> str:
    """One of a field's forms (README: "Forms"): what a value it matches becomes."""
    return f"`{form['id']}` (`{form['match']}`) → " + ", ".join(f"`{name}`" for name in form["names"])


def _conditions(conditions: dict) -> str:
    shown = []
    for operator, block in conditions.items():
        for key, value in block.items():
            value = f"the state's {value['field']}" if isinstance(value, dict) else value
            shown.append(f"{operator} `{key}` = {value}")
    return " (if " + "; ".join(shown) + ")"


def _checked(items: list[dict]) -> str:
    if not items:
        return "—"
    forms = [form for item in items for resource in item.get("resources") or () if isinstance(resource, dict) for form in resource.get("forms") or ()]
    return "unverified" if any("unverified" in item for item in items + forms) else "verified"


def _links(items: list[dict], sources: dict) -> str:
    ids = sorted({source for item in items for source in item["sources"]})
    return ", ".join(f"[{source}]({sources[source]})" for source in ids)


def _grant_rows(grants: list[dict]) -> tuple[list[str], list[str], list[str]]:
    actions, resources, rules = [], [], []
    for grant in grants:
        if "managed-rule" in grant:
            rules.append(f"`{grant['managed-rule']}`")
            continue
        conditions = _conditions(grant["conditions"]) if grant.get("conditions") else ""
        only = f" (only for a state that sends `{grant['if-sent']}`)" if "if-sent" in grant else ""
        actions.append(", ".join(f"`{action}`" for action in grant["actions"]) + conditions + only)
        resources.append("; ".join(_resource(resource) for resource in grant["resources"]))
    return actions, resources, rules


def _pass_role(entries: list[dict]) -> str:
    shown = []
    for entry in entries:
        to = f" to `{entry['passed-to']}`" if "passed-to" in entry else ""
        shown.append(f"`{entry['field']}`{to} (dynamic `{entry['dynamic']}`)")
    return "<br>".join(shown) or "—"


def rows(table: dict) -> list[str]:
    lines = []
    sources = table["sources"]
    for api, spec in table["apis"].items():
        pass_role = spec.get("pass-role") or []
        for pattern in spec["patterns"]:
            grants = spec["grants"][pattern]
            actions, resources, rules = _grant_rows(grants)
            resource = f"`arn:aws:states:::{table['service']}:{api}{SUFFIX[pattern]}`"
            cells = [
                table["title"],
                resource,
                "<br>".join(actions) or "none (see the table)",
                "<br>".join(resources) or "—",
                "<br>".join(rules) or "—",
                _pass_role(pass_role),
                _links(grants + pass_role, sources),
                _checked(grants + pass_role),
            ]
            lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    for entry in table.get("resource-arns") or []:
        actions, resources, rules = _grant_rows(entry["grants"])
        cells = [
            table["title"],
            f"`{entry['match']}` (the Resource itself)",
            "<br>".join(actions) or "none (see the table)",
            "<br>".join(resources).replace("`{resource}`", "the Task Resource") or "—",
            "<br>".join(rules) or "—",
            "—",
            _links(entry["grants"], sources),
            _checked(entry["grants"]),
        ]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return lines


def disputes(table: dict) -> list[str]:
    lines = []
    for entry in table.get("disputed") or []:
        said = "; ".join(f"[{source}]({table['sources'][source]}): {text}" for source, text in entry["sources"].items())
        lines.append(f"- **{table['title']}: {entry['about']}.** {said}. *Chosen:* {entry['choice']}.")
    return lines


def render(directory: Path = HERE) -> str:
    tables = [
        yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted(directory.glob("*.yaml"))
        if path.name not in LEGACY_TABLES | OWN_SCHEMA_TABLES
    ]
    body = [line for table in tables for line in rows(table)]
    disputed = [line for table in tables for line in disputes(table)]
    text = HEADER + "\n".join(body) + "\n"
    if disputed:
        text += "\n## Where AWS's sources disagree\n\n" + "\n".join(disputed) + "\n"
    return text


if __name__ == "__main__":
    sys.stdout.write(render())
