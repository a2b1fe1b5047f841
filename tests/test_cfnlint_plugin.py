"""`cfn-lint -a policygen.cfnlint`: policygen's findings as cfn-lint rules, run as users run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "lint" / "templates"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"


def _cfn_lint(*templates: Path, cwd: Path) -> list[dict]:
    # -a takes one or more values: the templates go first.
    completed = subprocess.run(
        [str(CFN_LINT), "--format", "json", *map(str, templates), "-a", "policygen.cfnlint"],
        capture_output=True, text=True, cwd=cwd, timeout=120,
    )
    assert completed.returncode in (0, 2, 4, 6, 8, 10, 12, 14), completed.stderr
    return [match for match in json.loads(completed.stdout) if match["Rule"]["Id"][1] == "9"]


def test_findings_are_reported_under_mapped_ids_at_their_lines(tmp_path: Path) -> None:
    matches = _cfn_lint(FIXTURES / "attached.yaml", FIXTURES / "sam.yaml", cwd=tmp_path)
    found = sorted((Path(m["Filename"]).name, m["Location"]["Start"]["LineNumber"], m["Rule"]["Id"], m["Level"], m["Message"].split()[0]) for m in matches)
    assert found == [
        ("attached.yaml", 14, "E9101", "Error", "PG101"),
        ("sam.yaml", 10, "E9101", "Error", "PG101"),
        ("sam.yaml", 19, "E9104", "Error", "PG104"),
        ("sam.yaml", 27, "W9203", "Warning", "PG203"),
    ]
    assert "needs batch:TerminateJob" in next(m["Message"] for m in matches if m["Filename"].endswith("attached.yaml"))


def test_a_suggestion_is_informational(tmp_path: Path) -> None:
    from policygen.cfnlint import cfn_lint_id
    from policygen.lint.rules import all_rules

    assert {rule_id: cfn_lint_id(rule) for rule_id, rule in all_rules().items() if rule_id in ("PG101", "PG201", "PG301")} == {
        "PG101": "E9101", "PG201": "W9201", "PG301": "I9301",
    }


def test_a_clean_template_and_one_without_state_machine_give_no_policygen_match(tmp_path: Path) -> None:
    clean = tmp_path / "clean.yaml"
    text = (FIXTURES / "attached.yaml").read_text(encoding="utf-8")
    clean.write_text(text.replace("Action: batch:SubmitJob\n", "Action: [batch:SubmitJob, batch:TerminateJob]\n"), encoding="utf-8")
    bucket = tmp_path / "bucket.yaml"
    bucket.write_text('AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  B:\n    Type: AWS::S3::Bucket\n', encoding="utf-8")
    assert _cfn_lint(clean, bucket, cwd=tmp_path) == []


def test_a_template_policygen_cannot_read_is_an_e9000(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  Flow:\n    Type: AWS::StepFunctions::StateMachine\n'
        '    Properties:\n      RoleArn: arn:aws:iam::123456789012:role/r\n      DefinitionString: "{not json"\n',
        encoding="utf-8",
    )
    matches = _cfn_lint(broken, cwd=tmp_path)
    assert [m["Rule"]["Id"] for m in matches if m["Rule"]["Id"] == "E9000"] == ["E9000"], matches


def test_a_template_on_stdin_is_said_to_go_unchecked(tmp_path: Path) -> None:
    completed = subprocess.run(
        [str(CFN_LINT), "--format", "json", "-a", "policygen.cfnlint"],
        input=(FIXTURES / "attached.yaml").read_text(encoding="utf-8"), capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    ids = [match["Rule"]["Id"] for match in json.loads(completed.stdout) if match["Rule"]["Id"][1] == "9"]
    assert ids == ["W9000"], completed.stderr
