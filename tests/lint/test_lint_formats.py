"""`policygen lint` output formats: golden files (text, json, sarif, --fix) for the mixed fixture,
the SARIF validated against the OASIS SARIF 2.1.0 schema and GitHub code scanning's needs, and the
JSON schema documented in docs/lint-output.md.

The goldens under fixtures/lint/expected/ were read by a person; there is no way to regenerate
them from this suite.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = ROOT / "fixtures" / "lint" / "expected"
MIXED = "fixtures/lint/mixed"
MIXED_ARGS = (
    "lint", f"{MIXED}/pipeline.asl.json", "--policy", f"{MIXED}/role-policy.json",
    "--policy", f"{MIXED}/logs-policy.json", "--trust-policy", f"{MIXED}/trust.json",
)
CLEAN_ARGS = (
    "lint", "fixtures/lint/PG101/good/definition.asl.json", "--policy", "fixtures/lint/PG101/good/policy.json",
    "--region", "us-east-1", "--account", "123456789012",
)
FORMATS = {"text": "txt", "json": "json", "sarif": "sarif", "gitlab": "gitlab.json"}
SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _in_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("name, args, code", [("mixed", MIXED_ARGS, 1), ("clean", CLEAN_ARGS, 0)])
@pytest.mark.parametrize("output_format", sorted(FORMATS))
def test_output_matches_golden(run_cli, name, args, code, output_format):
    result = run_cli(*args, "--format", output_format)
    assert result.code == code, result.err
    assert result.out == (EXPECTED / f"{name}.{FORMATS[output_format]}").read_text(encoding="utf-8")


def test_fix_matches_golden(run_cli, tmp_path):
    fixed = tmp_path / "fixed.json"
    args = MIXED_ARGS[:-2] + ("--region", "eu-west-1", "--account", "111122223333", "--fix", "-o", str(fixed))
    result = run_cli(*args)
    assert result.code == 1  # the exit code says what was found, before fixing
    assert fixed.read_text(encoding="utf-8") == (EXPECTED / "mixed.fixed.json").read_text(encoding="utf-8")
    assert "PG101" in result.out  # the report goes to stdout when the policy goes to a file
    assert "narrowed statement \"KeepJobs\"" in result.err  # a Deny is narrowed, never dropped


def test_fixed_policy_lints_without_errors(run_cli):
    args = ("lint", f"{MIXED}/pipeline.asl.json", "--policy", str(EXPECTED / "mixed.fixed.json"),
            "--region", "eu-west-1", "--account", "111122223333")
    result = run_cli(*args)
    assert result.code == 0, result.out


def test_fix_to_stdout_sends_the_report_to_stderr(run_cli):
    result = run_cli(*CLEAN_ARGS, "--fix")
    assert json.loads(result.out)["Statement"]
    assert result.err.endswith("no findings\n")


@pytest.mark.parametrize("args", [MIXED_ARGS, CLEAN_ARGS, ("lint", "fixtures/lint/PG204/bad/template.yaml")])
def test_sarif_is_valid_sarif_2_1_0(run_cli, args):
    log = json.loads(run_cli(*args, "--format", "sarif").out)
    jsonschema.Draft4Validator(SCHEMA).validate(log)


def test_sarif_has_what_github_code_scanning_reads(run_cli):
    """GitHub code scanning ("SARIF support for code scanning"): tool.driver.name and rules with id,
    short and full description, help and default level; each result a ruleId, a level, a message
    text and a physical location: a relative artifact URI and a 1-based start line."""
    log = json.loads(run_cli(*MIXED_ARGS, "--format", "sarif").out)
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "policygen"
    rules = driver["rules"]
    for rule in rules:
        assert rule["id"].startswith("PG") and rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"] and rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    assert len(run["results"]) == 7
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note") and result["message"]["text"]
        physical = result["locations"][0]["physicalLocation"]
        uri = physical["artifactLocation"]["uri"]
        assert uri.startswith("fixtures/lint/mixed/") and "\\" not in uri
        assert physical["region"]["startLine"] >= 1
        assert result["partialFingerprints"]


def test_sarif_uris_are_relative_to_the_repository_root(run_cli, tmp_path, monkeypatch):
    """GitHub resolves artifact URIs from the repository root: run in a subdirectory with paths
    relative to it (or absolute), the URIs still name the files from the root."""
    (tmp_path / ".git").mkdir()
    infra = tmp_path / "infra"
    (infra / "policies").mkdir(parents=True)
    case = ROOT / "fixtures" / "lint" / "PG101" / "bad"
    (infra / "sm.asl.json").write_text((case / "definition.asl.json").read_text(encoding="utf-8"), encoding="utf-8")
    (infra / "policies" / "role.json").write_text((case / "policy.json").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.chdir(infra)
    log = json.loads(run_cli("lint", "sm.asl.json", "--policy", str(infra / "policies" / "role.json"), "--format", "sarif").out)
    uris = {
        location["physicalLocation"]["artifactLocation"]["uri"]
        for result in log["runs"][0]["results"]
        for location in result["locations"] + result.get("relatedLocations", [])
    }
    assert uris and uris <= {"infra/sm.asl.json", "infra/policies/role.json"}, uris


def test_json_schema_is_stable(run_cli):
    """The keys docs/lint-output.md documents, version 1."""
    report = json.loads(run_cli(*MIXED_ARGS, "--format", "json").out)
    assert set(report) == {"version", "tool", "findings", "summary"} and report["version"] == 1
    assert set(report["summary"]) == {"error", "warning", "suggestion"}
    for finding in report["findings"]:
        assert set(finding) == {"ruleId", "rule", "severity", "message", "location", "state", "statements", "related"}
        assert set(finding["location"]) == {"file", "line", "column", "pointer"}
    documented = (ROOT / "docs" / "lint-output.md").read_text(encoding="utf-8")
    for key in ("ruleId", "severity", "statements", "related", "summary", "pointer"):
        assert f"`{key}`" in documented


def _github_anchor(heading: str) -> str:
    """The fragment GitHub gives a Markdown heading: lower case, punctuation but hyphens dropped, spaces as hyphens."""
    return "".join(c for c in heading.strip().lower() if c.isalnum() or c in " -").replace(" ", "-")


def test_sarif_names_the_project_and_each_rules_documentation(run_cli):
    """informationUri and helpUri come from [project.urls]; without them (the project has no public
    home yet) they are left out, never pointed at a page that does not exist."""
    import tomllib

    urls = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"].get("urls", {})
    driver = json.loads(run_cli(*MIXED_ARGS, "--format", "sarif").out)["runs"][0]["tool"]["driver"]
    assert driver.get("informationUri") == urls.get("Homepage")
    documentation = urls.get("Documentation")
    if documentation is None:
        assert all("helpUri" not in rule for rule in driver["rules"])
        return
    rules_md = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    anchors = {_github_anchor(line[3:]): line for line in rules_md.splitlines() if line.startswith("## PG")}
    assert documentation.endswith("docs/rules.md")
    for rule in driver["rules"]:
        page, anchor = rule["helpUri"].split("#")
        assert page == documentation
        assert anchors[anchor].startswith(f"## {rule['id']} "), (rule["id"], anchor)
    assert len({rule["helpUri"] for rule in driver["rules"]}) == len(driver["rules"]) == len(anchors)


def test_help_uri_is_the_documentation_url_anchored_at_the_rule(monkeypatch):
    from policygen.lint.rules import rule
    from policygen.render import lint_sarif

    monkeypatch.setattr(lint_sarif, "project_urls", lambda: {"Documentation": "https://example.org/docs/rules.md"})
    assert lint_sarif.help_uri(rule("PG101")) == "https://example.org/docs/rules.md#pg101-missing-permission-error"


def test_sarif_artifact_locations_are_relative_to_the_source_root(run_cli):
    run = json.loads(run_cli(*MIXED_ARGS, "--format", "sarif").out)["runs"][0]
    artifacts = [
        location["physicalLocation"]["artifactLocation"]
        for result in run["results"]
        for location in result["locations"] + result.get("relatedLocations", [])
    ]
    assert artifacts and all(artifact["uriBaseId"] == "%SRCROOT%" for artifact in artifacts)
    assert set(run["originalUriBaseIds"]) == {"%SRCROOT%"}
    jsonschema.Draft4Validator(SCHEMA).validate({"version": "2.1.0", "runs": [run]})


def test_absolute_paths_outside_the_checkout_have_no_base(run_cli, tmp_path, monkeypatch):
    case = ROOT / "fixtures" / "lint" / "PG101" / "bad"
    for name in ("definition.asl.json", "policy.json"):
        (tmp_path / name).write_bytes((case / name).read_bytes())
    args = ("lint", str(tmp_path / "definition.asl.json"), "--policy", str(tmp_path / "policy.json"), "--format", "sarif")
    run = json.loads(run_cli(*args).out)["runs"][0]
    artifact = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact["uri"].startswith("file:///") and "uriBaseId" not in artifact


def test_gitlab_paths_are_relative_to_the_repository_root_and_keep_the_line(run_cli, tmp_path, monkeypatch):
    """GitLab reads `location.path` from the repository root, like GitHub SARIF's URIs."""
    (tmp_path / ".git").mkdir()
    infra = tmp_path / "infra"
    infra.mkdir()
    case = ROOT / "fixtures" / "lint" / "PG101" / "bad"
    for name in ("definition.asl.json", "policy.json"):
        (infra / name).write_bytes((case / name).read_bytes())
    monkeypatch.chdir(infra)
    text = run_cli("lint", "definition.asl.json", "--policy", "policy.json")
    result = run_cli("lint", "definition.asl.json", "--policy", "policy.json", "--format", "gitlab")
    assert result.code == text.code == 1
    issues = json.loads(result.out)
    expected = [line.split(": ", 1)[0].rsplit(":", 1) for line in text.out.splitlines() if ": PG" in line]
    assert [[issue["location"]["path"], str(issue["location"]["lines"]["begin"])] for issue in issues] == [
        ["infra/" + file, line] for file, line in expected
    ]
    assert all(issue["severity"] == "critical" and issue["check_name"] == "PG101" for issue in issues)


def test_a_rule_docs_rules_md_does_not_hold_gets_no_help_uri():
    """audit's PGA01 is documented in docs/audit.md, not docs/rules.md: no anchor that leads nowhere."""
    from policygen.audit.judge import UNREADABLE_RULE
    from policygen.render.lint_sarif import rule_json

    assert "helpUri" not in rule_json(UNREADABLE_RULE)
    assert "PGA01" not in (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")


# --- informationUri / helpUri from the installed package's [project.urls], and help without them --

HOMEPAGE = "https://github.com/example/policygen"
RULES_PAGE = "https://github.com/example/policygen/blob/main/docs/rules.md"


@pytest.fixture
def installed_urls(monkeypatch):
    """Project-URL entries as the installed package's metadata would carry them ("Label, URL")."""
    from email.message import Message

    from policygen.render import lint_sarif

    def install(*entries: str) -> None:
        message = Message()
        for entry in entries:
            message["Project-URL"] = entry
        monkeypatch.setattr(lint_sarif, "metadata", lambda name: message)
        lint_sarif.project_urls.cache_clear()

    yield install
    lint_sarif.project_urls.cache_clear()


def _driver(run_cli) -> dict:
    log = json.loads(run_cli(*MIXED_ARGS, "--format", "sarif").out)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    return log["runs"][0]["tool"]["driver"]


def test_without_urls_the_help_holds_the_whole_rule(run_cli, installed_urls):
    """No public home yet: no informationUri, no helpUri, and code scanning still shows each
    rule's documentation, its example and what to use instead, from `help`."""
    from policygen.lint.rules import all_rules

    installed_urls()
    driver = _driver(run_cli)
    assert "informationUri" not in driver and all("helpUri" not in rule for rule in driver["rules"])
    for described in driver["rules"]:
        doc = all_rules()[described["id"]].doc
        for part in (doc.what, doc.why, doc.bad, doc.good, doc.fix):
            assert part in described["help"]["text"] and part in described["help"]["markdown"], (described["id"], part)
        assert f"```\n{doc.bad}\n```" in described["help"]["markdown"]


def test_with_urls_help_uri_is_the_rules_page_at_the_heading_lint_docs_writes(run_cli, installed_urls):
    from policygen.render.lint_docs import render_rules_markdown

    installed_urls(f"Homepage, {HOMEPAGE}", f"Documentation, {RULES_PAGE}")
    driver = _driver(run_cli)
    assert driver["informationUri"] == HOMEPAGE
    written = render_rules_markdown()  # what `python -m policygen.render.lint_docs` writes
    headings = {_github_anchor(line[3:]): line for line in written.splitlines() if line.startswith("## PG")}
    linked = set(re.findall(r"\]\(#([a-z0-9-]+)\)", written))  # the table's links to the headings
    for rule in driver["rules"]:
        page, anchor = rule["helpUri"].split("#")
        assert page == RULES_PAGE and anchor in linked
        assert headings[anchor].startswith(f"## {rule['id']} "), (rule["id"], anchor)
    assert len({rule["helpUri"] for rule in driver["rules"]}) == len(driver["rules"]) == len(headings)


def test_project_url_labels_compare_as_pep_753_says(run_cli, installed_urls):
    installed_urls(f"home-page, {HOMEPAGE}", f"DOCUMENTATION, {RULES_PAGE}#top")
    driver = _driver(run_cli)
    assert driver["informationUri"] == HOMEPAGE
    assert driver["rules"][0]["helpUri"] == f"{RULES_PAGE}#pg101-missing-permission-error"


@pytest.mark.parametrize("homepage, documentation", [
    ("not a url", "docs/rules.md"),  # relative: SARIF wants absolute URIs
    ("javascript:alert(1)", "ftp://example.org/docs/rules.md"),
    ("https://exa mple.org/", "https://[::1/docs/rules.md"),
    (HOMEPAGE, f"{HOMEPAGE}#readme"),  # a page other than docs/rules.md: its anchors would lead nowhere
    (HOMEPAGE, "https://example.org/docs/"),
])
def test_no_uri_from_a_url_that_is_not_one_or_not_the_rules_page(run_cli, installed_urls, homepage, documentation):
    installed_urls(f"Homepage, {homepage}", f"Documentation, {documentation}")
    driver = _driver(run_cli)
    assert driver.get("informationUri") == (homepage if homepage == HOMEPAGE else None)
    assert all("helpUri" not in rule for rule in driver["rules"])


def _artifact_locations(node):
    if isinstance(node, dict):
        if "artifactLocation" in node:
            yield node["artifactLocation"]
        for value in node.values():
            yield from _artifact_locations(value)
    elif isinstance(node, list):
        for value in node:
            yield from _artifact_locations(value)


def test_every_relative_location_has_the_source_root_base(run_cli, tmp_path, monkeypatch):
    """Results, related locations, in-source suppressions and the notifications of skipped inputs:
    each relative URI names %SRCROOT%, the one base in originalUriBaseIds, which gives no uri of
    its own (the checkout's path on this machine): GitHub resolves it to the repository root."""
    from test_lint_suppressions import TARGET, metadata, template

    (tmp_path / ".git").mkdir()
    infra = tmp_path / "infra"
    infra.mkdir()
    template(infra, policy=metadata("{id: PG301, reason: queues are created at run time}"))
    (infra / "workflow.json").write_text('{"name": "ci", "on": "push"}', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    log = json.loads(run_cli("lint", "infra", *TARGET, "--format", "sarif").out)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    (run,) = log["runs"]
    assert any("suppressions" in result for result in run["results"])
    assert run["invocations"][0]["toolExecutionNotifications"]
    artifacts = list(_artifact_locations(run))
    assert {artifact["uri"] for artifact in artifacts} == {"infra/stack.yaml", "infra/workflow.json"}
    assert all(artifact["uriBaseId"] == "%SRCROOT%" for artifact in artifacts)
    assert list(run["originalUriBaseIds"]) == ["%SRCROOT%"] and "uri" not in run["originalUriBaseIds"]["%SRCROOT%"]
