"""Each lint rule on its fixtures (fixtures/lint/<RULE>/bad reports it, .../good does not), the rule
files themselves, and docs/rules.md against the generator."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
import yaml

from policygen.lint.rules import Severity, all_rules
from policygen.render.lint_docs import render_rules_markdown

ROOT = Path(__file__).resolve().parents[2]
LINT_FIXTURES = ROOT / "fixtures" / "lint"
RULE_IDS = sorted(all_rules())
# Rules whose fixtures are templates linted without --policy (tests/lint/test_lint_verdicts.py).
TEMPLATE_RULES = {"PG204"}


def lint_args(case: Path) -> list[str]:
    """`policygen lint` for a fixture case: its definition or template, policy, trust policy, args."""
    relative = case.relative_to(ROOT)
    definition = next(p for p in sorted(case.iterdir()) if p.name.startswith(("definition", "template")))
    args = ["lint", str(relative / definition.name)]
    for policy in sorted(case.glob("policy*.json")):
        args += ["--policy", str(relative / policy.name)]
    if (case / "trust.json").exists():
        args += ["--trust-policy", str(relative / "trust.json")]
    if (case / "args").exists():
        args += shlex.split((case / "args").read_text())
    return args


@pytest.fixture
def in_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # file names in the output are relative, as a user in the repository sees them


def test_every_rule_has_a_bad_and_a_good_fixture():
    for rule_id in RULE_IDS:
        assert (LINT_FIXTURES / rule_id / "bad").is_dir(), f"{rule_id} has no failing fixture"
        assert (LINT_FIXTURES / rule_id / "good").is_dir(), f"{rule_id} has no passing fixture"


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_bad_fixture_reports_the_rule(rule_id, run_cli, in_root):
    result = run_cli(*lint_args(LINT_FIXTURES / rule_id / "bad"), "--format", "json", "--fail-on", "suggestion")
    import json

    assert result.code == 1, result.err
    found = {finding["ruleId"] for finding in json.loads(result.out)["findings"]}
    assert rule_id in found


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_good_fixture_is_clean(rule_id, run_cli, in_root):
    result = run_cli(*lint_args(LINT_FIXTURES / rule_id / "good"), "--fail-on", "suggestion")
    assert (result.code, result.out) == (0, "no findings\n"), result.out + result.err


def test_rule_ids_say_their_severity():
    for rule in all_rules().values():
        expected = {"1": Severity.ERROR, "2": Severity.WARNING, "3": Severity.SUGGESTION}[rule.id[2]]
        assert rule.severity is expected, rule.id


def test_rule_files_have_every_doc_part():
    for path in sorted((ROOT / "rules" / "lint").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert set(data) == {"id", "name", "severity", "summary", "message", "source", "doc"}, path.name
        assert set(data["doc"]) == {"what", "why", "bad", "good", "fix"}, path.name
        assert "\n" not in data["message"], f"{path.name}: the message template is one line"


def test_docs_rules_md_is_up_to_date():
    expected = render_rules_markdown()
    actual = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert actual == expected, "docs/rules.md is stale: python -m policygen.render.lint_docs > docs/rules.md"



def test_pg101_says_when_a_tag_condition_is_what_refuses_the_states_own_queue(run_cli, tmp_path):
    # Issue 4, lint side: a tag condition the state does not satisfy is a PG1xx error, and says so.
    definition = {"StartAt": "A", "States": {"A": {
        "Type": "Task", "Resource": "arn:aws:states:::batch:submitJob",
        "Parameters": {"JobName": "a", "JobQueue": "render", "JobDefinition": "blender:2", "Tags": {"team": "ops"}},
        "End": True}}}
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "batch:SubmitJob",
        "Resource": ["arn:aws:batch:us-east-1:123456789012:job-queue/render",
                     "arn:aws:batch:us-east-1:123456789012:job-definition/blender:2",
                     "arn:aws:batch:us-east-1:123456789012:job/*"],
        "Condition": {"StringEquals": {"aws:RequestTag/team": "vfx"}}}]}
    (tmp_path / "sm.asl.json").write_text(json.dumps(definition))
    (tmp_path / "role.json").write_text(json.dumps(policy))
    result = run_cli("lint", str(tmp_path / "sm.asl.json"), "--policy", str(tmp_path / "role.json"),
                     "--region", "us-east-1", "--account", "123456789012")
    assert result.code == 1
    submit = next(line for line in result.out.splitlines() if "PG101" in line and "batch:SubmitJob" in line)
    assert "would allow it but for its conditions on aws:RequestTag/team" in submit


def test_a_state_with_credentials_is_not_a_missing_permission_of_the_execution_role(run_cli, tmp_path):
    # With Credentials, Step Functions calls Batch as Credentials.RoleArn: PG203, not a false PG101.
    definition = {"StartAt": "A", "States": {"A": {
        "Type": "Task", "Resource": "arn:aws:states:::batch:submitJob",
        "Credentials": {"RoleArn": "arn:aws:iam::210987654321:role/batch-submitter"},
        "Parameters": {"JobName": "a", "JobQueue": "render", "JobDefinition": "blender:2"},
        "End": True}}}
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::210987654321:role/batch-submitter"}]}
    (tmp_path / "sm.asl.json").write_text(json.dumps(definition))
    (tmp_path / "role.json").write_text(json.dumps(policy))
    result = run_cli("lint", str(tmp_path / "sm.asl.json"), "--policy", str(tmp_path / "role.json"),
                     "--region", "us-east-1", "--account", "123456789012")
    assert result.code == 0, result.out
    assert "PG101" not in result.out and "PG203" in result.out and "batch-submitter" in result.out


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_bad_fixture_output_matches_its_snapshot(rule_id, run_cli, in_root):
    """The whole text report for each rule's failing fixture, as a person read it (fixtures/lint/PGxxx/expected.txt):
    a change of message, location or of another rule firing on the same input shows here."""
    result = run_cli(*lint_args(LINT_FIXTURES / rule_id / "bad"), "--fail-on", "suggestion")
    assert result.out == (LINT_FIXTURES / rule_id / "expected.txt").read_text(encoding="utf-8")
