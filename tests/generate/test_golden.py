"""Golden files: `policygen generate` on every ASL fixture matches its hand-reviewed policy byte for byte.

The goldens under fixtures/expected/json/documented/ were read by a person; there is deliberately no
way to regenerate them from this suite. A difference is either a bug or a change to review by hand.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
INPUTS = FIXTURES / "inputs" / "asl"
EXPECTED = FIXTURES / "expected" / "json" / "documented"
TARGET_FLAGS = ("--region", "us-east-1", "--account", "123456789012")
# Region and account come from the definition's own Batch ARNs, not from flags.
INFERS_TARGET = {"govcloud"}
WARNS = {"no-batch", "map-distributed"}  # map-distributed: a plain ASL file does not name its machine


def _stem(path) -> str:
    return path.name.split(".", 1)[0]


INPUT_FILES = sorted(path for path in INPUTS.iterdir() if path.is_file())


def _args(path) -> list[str]:
    flags = () if _stem(path) in INFERS_TARGET else TARGET_FLAGS
    return ["generate", str(path), *flags]


def test_every_input_has_a_golden_and_every_golden_an_input():
    inputs = {_stem(path) for path in INPUT_FILES}
    goldens = {path.stem for path in EXPECTED.glob("*.json")}
    assert inputs, "no ASL fixtures found"
    assert inputs == goldens


@pytest.mark.parametrize("path", INPUT_FILES, ids=_stem)
def test_generate_matches_golden(path, run_cli):
    result = run_cli(*_args(path))
    assert result.code == 0, result.err
    expected = (EXPECTED / f"{_stem(path)}.json").read_bytes()
    assert result.out.encode("utf-8") == expected


@pytest.mark.parametrize("path", INPUT_FILES, ids=_stem)
def test_stdout_is_exactly_one_json_document(path, run_cli):
    result = run_cli(*_args(path))
    assert result.code == 0, result.err
    document, end = json.JSONDecoder().raw_decode(result.out)
    assert result.out[end:] == "\n"
    assert set(document) == {"Version", "Statement"}
    assert "warning" not in result.out


@pytest.mark.parametrize("path", [p for p in INPUT_FILES if _stem(p) not in WARNS], ids=_stem)
def test_clean_inputs_write_nothing_to_stderr(path, run_cli):
    result = run_cli(*_args(path))
    assert result.code == 0
    assert result.err == ""


def test_no_task_state_warns_on_stderr_and_prints_the_empty_policy(run_cli, tmp_path):
    path = tmp_path / "no-task.asl.json"
    path.write_text(json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 5, "Next": "Done"}, "Done": {"Type": "Succeed"}}}))
    result = run_cli(*_args(path))
    assert result.code == 0
    assert json.loads(result.out) == {"Version": "2012-10-17", "Statement": []}
    lines = result.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("policygen: warning: ")
    assert "no Task state found" in lines[0]
    assert str(path) in lines[0]


def test_govcloud_target_is_inferred_from_the_definition(run_cli):
    result = run_cli("generate", str(INPUTS / "govcloud.asl.json"))
    assert result.code == 0, result.err
    statements = json.loads(result.out)["Statement"]
    resources = {r for s in statements for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])}
    assert "arn:aws-us-gov:events:us-gov-west-1:444455556666:rule/StepFunctionsGetEventsForBatchJobsRule" in resources


def test_golden_through_a_real_process_is_byte_identical():
    """The console script's real stdout (no capture layer in between) carries the same bytes."""
    path = INPUTS / "sdk.asl.json"
    completed = subprocess.run(
        [sys.executable, "-m", "policygen", *_args(path)],
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == b""
    assert completed.stdout == (EXPECTED / "sdk.json").read_bytes()
