"""`generate --check`: exit 1 and a unified diff when the committed policy is not what would be
generated now, 0 when it is, 2 on bad input; nothing is ever written."""

from __future__ import annotations

import shutil
from pathlib import Path

from test_cli import ASL, EXPECTED, TARGET, assert_input_error

ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATE = ROOT / "fixtures" / "inputs" / "cloudformation" / "definition-strings.json"


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def test_a_current_file_passes_quietly(run_cli, tmp_path):
    committed = tmp_path / "policy.json"
    shutil.copy(EXPECTED / "run-job.json", committed)
    result = run_cli("generate", str(ASL / "run-job.asl.json"), *TARGET, "--check", str(committed))
    assert (result.code, result.out, result.err) == (0, "", "")


def test_a_stale_file_fails_with_a_unified_diff_and_is_left_alone(run_cli, tmp_path):
    committed = tmp_path / "policy.json"
    stale = (EXPECTED / "run-job.json").read_text().replace("batch:SubmitJob", "batch:*")
    committed.write_text(stale)
    result = run_cli("generate", str(ASL / "run-job.asl.json"), *TARGET, "--check", str(committed))
    assert result.code == 1, result
    lines = result.out.splitlines()
    assert lines[0] == f"--- {committed}"
    assert lines[1] == f"+++ {committed} (generated)"
    assert '-        "batch:*",' in lines or any(line.startswith("-") and "batch:*" in line for line in lines[2:])
    assert any(line.startswith("+") and "batch:SubmitJob" in line for line in lines[2:])
    assert committed.read_text() == stale
    assert _snapshot(tmp_path) == {"policy.json": stale.encode()}


def test_the_diff_applied_to_the_committed_file_gives_the_generated_one(run_cli, tmp_path):
    import subprocess

    committed = tmp_path / "policy.json"
    committed.write_text('{\n  "Version": "2012-10-17"\n}')  # no newline at the end either
    result = run_cli("generate", str(ASL / "tagged.asl.json"), *TARGET, "--check", str(committed))
    assert result.code == 1
    assert "\\ No newline at end of file\n" in result.out
    if shutil.which("patch"):
        subprocess.run(["patch", "-s", str(committed)], input=result.out.encode(), check=True)
        assert committed.read_bytes() == (EXPECTED / "tagged.json").read_bytes()


def test_the_check_uses_the_same_options_as_generate(run_cli, tmp_path):
    committed = tmp_path / "policy.json"
    shutil.copy(EXPECTED / "run-job.json", committed)
    result = run_cli(
        "generate", str(ASL / "run-job.asl.json"), *TARGET, "--format", "terraform", "--check", str(committed)
    )
    assert result.code == 1
    assert '+data "aws_partition" "current" {}' in result.out.splitlines()


def test_a_missing_file_is_a_difference(run_cli, tmp_path):
    committed = tmp_path / "policy.json"
    result = run_cli("generate", str(ASL / "run-job.asl.json"), *TARGET, "--check", str(committed))
    assert result.code == 1
    assert result.out.splitlines()[:2] == ["--- /dev/null", f"+++ {committed} (generated)"]
    assert not committed.exists()


def test_control_characters_of_the_committed_file_are_shown_escaped(run_cli, tmp_path):
    committed = tmp_path / "policy.json"
    committed.write_bytes(b'{\r\n"x": "\x1b]0;owned\x07"\r\n}\n')
    result = run_cli("generate", str(ASL / "run-job.asl.json"), *TARGET, "--check", str(committed))
    assert result.code == 1
    assert "\r" not in result.out and "\x1b" not in result.out and "\x07" not in result.out
    assert '-"x": "\\u001b]0;owned\\u0007"\\u000d' in result.out.splitlines()


def _directory(run_cli, tmp_path: Path) -> Path:
    directory = tmp_path / "policies"
    assert run_cli("generate", str(TEMPLATE), *TARGET, "-o", str(directory)).code == 0
    assert len(list(directory.iterdir())) > 1
    return directory


def test_a_current_directory_passes(run_cli, tmp_path):
    directory = _directory(run_cli, tmp_path)
    (directory / "README.md").write_text("not a policy\n")
    result = run_cli("generate", str(TEMPLATE), *TARGET, "--check", str(directory))
    assert (result.code, result.out, result.err) == (0, "", "")


def test_a_directory_with_a_missing_an_extra_and_a_changed_file_fails(run_cli, tmp_path):
    directory = _directory(run_cli, tmp_path)
    first, second = sorted(directory.iterdir())[:2]
    first.unlink()
    second.write_text(second.read_text().replace("2012-10-17", "2008-10-17"))
    (directory / "Old.json").write_text("{}\n")
    before = _snapshot(directory)
    result = run_cli("generate", str(TEMPLATE), *TARGET, "--check", str(directory))
    assert result.code == 1
    headers = [line for line in result.out.splitlines() if line.startswith(("--- ", "+++ "))]
    expected = {
        first.name: ["--- /dev/null", f"+++ {first} (generated)"],
        second.name: [f"--- {second}", f"+++ {second} (generated)"],
        "Old.json": [f"--- {directory / 'Old.json'}", "+++ /dev/null"],
    }
    assert headers == [header for name in sorted(expected) for header in expected[name]]
    assert '-  "Version": "2008-10-17",' in result.out.splitlines()
    assert _snapshot(directory) == before


def test_check_with_output_is_a_usage_error(run_cli, tmp_path):
    result = run_cli("generate", str(ASL / "run-job.asl.json"), *TARGET, "--check", str(tmp_path / "a"), "-o", str(tmp_path / "b"))
    assert_input_error(result, "--check", "-o")
    assert list(tmp_path.iterdir()) == []


def test_a_file_where_a_directory_is_compared_is_a_usage_error(run_cli, tmp_path):
    committed = tmp_path / "policy.json"
    committed.write_text("{}\n")
    assert_input_error(run_cli("generate", str(TEMPLATE), *TARGET, "--check", str(committed)), str(committed), "directory")


def test_bad_input_is_exit_2(run_cli, tmp_path):
    bad = tmp_path / "bad.asl.json"
    bad.write_text("{")
    assert_input_error(run_cli("generate", str(bad), *TARGET, "--check", str(tmp_path / "policy.json")), str(bad))


def test_a_fifo_is_refused_not_read(run_cli, tmp_path):
    import os

    fifo = tmp_path / "policy.json"
    os.mkfifo(fifo)
    result = run_cli("generate", str(ASL / "run-job.asl.json"), *TARGET, "--check", str(fifo))
    assert_input_error(result, str(fifo), "not a regular file")
