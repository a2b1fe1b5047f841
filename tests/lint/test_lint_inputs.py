"""Several inputs: a file policygen cannot read or classify is skipped with a warning naming it and
the others are still linted; a broken file of a kind policygen knows stays an error (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[2]
SAM = str(ROOT / "fixtures" / "lint" / "templates" / "sam.yaml")
SARIF_SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
WORKFLOW = "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test\n"


@pytest.fixture
def workflow(tmp_path) -> str:
    path = tmp_path / ".github" / "workflows" / "ci.yml"
    path.parent.mkdir(parents=True)
    path.write_text(WORKFLOW, encoding="utf-8")
    return str(path)


def test_an_unrelated_file_beside_a_template_is_skipped_and_the_template_linted(run_cli, workflow):
    alone = run_cli("lint", SAM)
    result = run_cli("lint", workflow, SAM)
    assert result.code == alone.code == 1
    assert result.out == alone.out  # the template's findings, all of them
    assert f"policygen: warning: {workflow}:1:1 (at /): skipped: cannot tell what this file is" in result.err


def test_a_single_unrelated_input_is_still_an_error(run_cli, workflow):
    result = run_cli("lint", workflow)
    assert result.code == 2 and "error:" in result.err and "cannot tell what this file is" in result.err


def test_every_input_skipped_is_an_error(run_cli, workflow, tmp_path):
    other = tmp_path / "notes.yml"
    other.write_text("- just\n- a list\n", encoding="utf-8")
    result = run_cli("lint", workflow, str(other))
    assert result.code == 2 and "none of the 2 inputs" in result.err


def test_a_missing_file_is_still_an_error(run_cli, tmp_path):
    result = run_cli("lint", SAM, str(tmp_path / "typo.yaml"))
    assert result.code == 2 and "no such file" in result.err


def test_binary_and_unparsable_unrelated_files_are_skipped(run_cli, tmp_path):
    binary = tmp_path / "logo.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    makefile = tmp_path / "Makefile"
    makefile.write_text("test:\n\tpytest -q: [\n", encoding="utf-8")
    result = run_cli("lint", str(binary), str(makefile), SAM)
    assert result.code == 1
    assert f"{binary}:" in result.err and "not UTF-8 text" in result.err
    assert f"{makefile}:" in result.err and "neither JSON nor YAML" in result.err


@pytest.mark.parametrize(
    "text",
    [
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Flow: [unclosed\n",  # invalid YAML, recognisably a template
        '{"StartAt": "A", "States": {',  # a broken definition
        '{"Comment": "no StartAt", "States": {"A": {"Type": "Pass", "End": true}}}',  # ASL, invalid
    ],
)
def test_a_broken_input_of_a_known_kind_fails_the_run(run_cli, tmp_path, text):
    broken = tmp_path / ("broken.json" if text.startswith("{") else "broken.yaml")
    broken.write_text(text, encoding="utf-8")
    result = run_cli("lint", SAM, str(broken))
    assert result.code == 2 and str(broken) in result.err and "skipped" not in result.err


def test_json_lists_the_skipped_files(run_cli, workflow):
    report = json.loads(run_cli("lint", SAM, workflow, "--format", "json").out)
    assert [entry["file"] for entry in report["skipped"]] == [workflow]
    assert report["skipped"][0]["reason"].startswith("cannot tell what this file is")
    assert report["findings"]
    assert "skipped" not in json.loads(run_cli("lint", SAM, "--format", "json").out)


def test_sarif_names_the_skipped_files_in_the_invocation(run_cli, workflow):
    log = json.loads(run_cli("lint", SAM, workflow, "--format", "sarif").out)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    run = log["runs"][0]
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is True
    (notification,) = invocation["toolExecutionNotifications"]
    assert notification["level"] == "warning"
    assert notification["message"]["text"].startswith("cannot tell what this file is")
    assert notification["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("workflows/ci.yml")
    assert run["results"]
    assert "invocations" not in json.loads(run_cli("lint", SAM, "--format", "sarif").out)["runs"][0]


def test_scan_skips_an_unrelated_file_too(run_cli, workflow):
    alone = run_cli("scan", SAM)
    result = run_cli("scan", workflow, SAM)
    assert (result.code, result.out) == (0, alone.out) and "skipped" in result.err


def test_generate_skips_an_unrelated_file_too(run_cli, workflow):
    alone = run_cli("generate", SAM, "--merge")
    result = run_cli("generate", workflow, SAM, "--merge")
    assert (result.code, result.out) == (0, alone.out) and "skipped" in result.err
