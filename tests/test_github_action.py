"""action.yml: its shell steps, run locally with bash as GitHub runs them (inputs reach them through
env:), against a small definition and policy."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "lint"
EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def _action() -> dict:
    return yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))


def _evaluate(text: str, context: dict[str, str]) -> str:
    return EXPRESSION.sub(lambda match: context[match.group(1)], text)


def _run_action(workdir: Path, inputs: dict[str, str]) -> tuple[int, dict[str, str]]:
    """Runs the run: steps in order as a runner would (bash -e, stopping at the first that fails);
    returns the exit code of the last one run and the lint step's outputs."""
    action = _action()
    context = {f"inputs.{name}": spec.get("default", "") for name, spec in action["inputs"].items()}
    context.update({f"inputs.{name}": value for name, value in inputs.items()})
    context["env.POLICYGEN_ACTION_SKIP_INSTALL"] = "1"  # the package is installed in this venv
    outputs: dict[str, str] = {}
    code = 0
    for step in action["runs"]["steps"]:
        if "run" not in step:
            continue
        github_output = workdir / "github-output"
        github_output.write_text("", encoding="utf-8")
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "GITHUB_ACTION_PATH": str(ROOT),
            "GITHUB_OUTPUT": str(github_output),
            **{name: _evaluate(str(value), context) for name, value in step.get("env", {}).items()},
        }
        script = _evaluate(step["run"], context)
        assert "${{" not in step["run"], "inputs reach the shell through env: only"
        completed = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=workdir, env=env, capture_output=True, text=True, timeout=120,
        )
        for line in github_output.read_text(encoding="utf-8").splitlines():
            name, _, value = line.partition("=")
            outputs[name] = value
            context[f"steps.{step.get('id')}.outputs.{name}"] = value
        code = completed.returncode
        if code != 0:
            break
    return code, outputs


def _workdir(tmp_path: Path, rule: str, case: str) -> Path:
    shutil.copy(FIXTURES / rule / case / "definition.asl.json", tmp_path / "definition.asl.json")
    shutil.copy(FIXTURES / rule / case / "policy.json", tmp_path / "policy.json")
    return tmp_path


TARGET = {"policies": "policy.json", "region": "us-east-1", "account": "123456789012"}


@pytest.mark.parametrize(
    ("rule", "case", "fail_on", "expected"),
    [
        ("PG101", "bad", "error", 1),
        ("PG101", "good", "error", 0),
        ("PG201", "bad", "error", 0),
        ("PG201", "bad", "warning", 1),
        ("PG101", "bad", "never", 0),
    ],
)
def test_the_sarif_report_is_written_and_the_exit_code_follows_fail_on(tmp_path, rule, case, fail_on, expected) -> None:
    workdir = _workdir(tmp_path, rule, case)
    code, outputs = _run_action(workdir, {**TARGET, "paths": "*.asl.json", "fail-on": fail_on})
    assert code == expected
    assert outputs["report"] == "policygen.sarif"
    sarif = json.loads((workdir / "policygen.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    rule_ids = [result["ruleId"] for result in sarif["runs"][0]["results"]]
    assert set(rule_ids) == (set() if case == "good" else {rule})


def test_bad_input_fails_at_the_lint_step_with_no_report(tmp_path: Path) -> None:
    (tmp_path / "definition.asl.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "policy.json").write_text('{"Version": "2012-10-17", "Statement": []}', encoding="utf-8")
    code, outputs = _run_action(tmp_path, {**TARGET, "paths": "definition.asl.json"})
    assert code == 2
    assert outputs == {"report": "", "exit-code": "2"}
    assert not (tmp_path / "policygen.sarif").exists()


def test_an_input_cannot_inject_a_command(tmp_path: Path) -> None:
    workdir = _workdir(tmp_path, "PG101", "good")
    code, _ = _run_action(workdir, {**TARGET, "paths": "definition.asl.json", "region": "us-east-1$(touch pwned)"})
    assert code == 2  # an unknown region, not a command
    assert not (workdir / "pwned").exists()


def test_an_output_name_cannot_write_outputs_of_its_own(tmp_path: Path) -> None:
    # The report's name goes into $GITHUB_OUTPUT: a line break in it would add lines there and
    # could set exit-code=0 for a run with errors.
    workdir = _workdir(tmp_path, "PG101", "bad")
    code, outputs = _run_action(workdir, {**TARGET, "paths": "definition.asl.json", "policies": "policy.json", "output": "x.sarif\nexit-code=0"})
    assert code == 2
    assert "exit-code" not in outputs


def test_the_upload_step_uses_codeql_upload_sarif_only_when_asked() -> None:
    upload = next(step for step in _action()["runs"]["steps"] if step.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    assert upload["uses"] == "github/codeql-action/upload-sarif@v3"
    assert "inputs.upload-sarif == 'yes'" in upload["if"]


def test_the_readme_workflow_uses_the_action_s_inputs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### GitHub Action", 1)[1]
    workflow = yaml.safe_load(section.split("```yaml\n", 1)[1].split("```", 1)[0])
    step = next(step for step in workflow["jobs"]["lint"]["steps"] if "policygen" in step.get("uses", ""))
    inputs = _action()["inputs"]
    assert set(step["with"]) <= set(inputs)
    assert {name for name, spec in inputs.items() if spec.get("required")} <= set(step["with"])
