"""The `policygen` command end to end: exit codes, one-line errors, stdin, -o, --debug, environment.

Most cases run in-process through policygen.cli.main (the console entry point); a few run as real
processes to prove what a user's terminal gets.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from policygen.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
ASL = ROOT / "fixtures" / "inputs" / "asl"
EXPECTED = ROOT / "fixtures" / "expected" / "json" / "documented"
TARGET = ("--region", "us-east-1", "--account", "123456789012")
RULE = "rule/StepFunctionsGetEventsForBatchJobsRule"


def assert_input_error(result, *fragments: str) -> str:
    """Exit 2, nothing on stdout, exactly one `policygen: error:` line on stderr, no traceback."""
    assert result.code == 2, (result.code, result.err)
    assert result.out == ""
    assert "Traceback" not in result.err
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert result.err.endswith("\n")
    line = lines[0]
    assert line.startswith("policygen: error: "), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    return line


def _with_position(line: str, path) -> None:
    assert re.search(re.escape(str(path)) + r":\d+:\d+", line), line


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def _machine(resource: str, **parameters) -> str:
    state = {"Type": "Task", "Resource": resource, "End": True}
    if parameters:
        state["Parameters"] = parameters
    return json.dumps({"StartAt": "Run", "States": {"Run": state}}, indent=2)


def _rule_arns(out: str) -> set[str]:
    return {
        resource
        for statement in json.loads(out)["Statement"]
        for resource in ([statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"])
        if resource.endswith(RULE)
    }


# --- bad input: exit 2, one line, where --------------------------------------------------------


def test_missing_file(run_cli, tmp_path):
    path = tmp_path / "absent.asl.json"
    assert_input_error(run_cli("generate", str(path), *TARGET), str(path), "no such file")


def test_directory(run_cli, tmp_path):
    assert_input_error(run_cli("generate", str(tmp_path), *TARGET), str(tmp_path), "directory")


def test_invalid_json(run_cli, tmp_path):
    path = _write(tmp_path, "bad.asl.json", '{\n  "StartAt": "A",\n  "States": {\n')
    line = assert_input_error(run_cli("generate", str(path), *TARGET), "invalid JSON")
    _with_position(line, path)


def test_invalid_yaml(run_cli, tmp_path):
    path = _write(tmp_path, "bad.asl.yaml", "StartAt: A\nStates:\n  A: [Type: Pass\n")
    line = assert_input_error(run_cli("generate", str(path), *TARGET), "invalid YAML")
    _with_position(line, path)


def test_duplicate_state_names(run_cli, tmp_path):
    path = _write(tmp_path, "dup.asl.json", '{"StartAt": "A", "States": {\n  "A": {"Type": "Pass", "End": true},\n  "A": {"Type": "Fail"}}}')
    line = assert_input_error(run_cli("generate", str(path), *TARGET), "duplicate key 'A'", f"{path}:3:3", "(at /States/A)")
    _with_position(line, path)


def test_yaml_duplicate_state_names(run_cli, tmp_path):
    path = _write(tmp_path, "dup.asl.yaml", "StartAt: A\nStates:\n  A: {Type: Pass, End: true}\n  A: {Type: Fail}\n")
    assert_input_error(run_cli("generate", str(path), *TARGET), "duplicate key 'A'", f"{path}:4:3")


def test_alias_bomb(run_cli, tmp_path):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, 10)]
    path = _write(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    line = assert_input_error(run_cli("generate", str(path), *TARGET), "alias bomb")
    _with_position(line, path)


def test_non_utf8_file(run_cli, tmp_path):
    path = _write(tmp_path, "latin.asl.json", b'{"Comment": "\xe9t\xe9", "StartAt": "A", "States": {}}')
    assert_input_error(run_cli("generate", str(path), *TARGET), f"{path}:1:14", "not UTF-8")


def test_json_that_is_not_a_state_machine(run_cli, tmp_path):
    path = _write(tmp_path, "policy.json", '{"Version": "2012-10-17", "Statement": []}')
    assert_input_error(run_cli("generate", str(path), *TARGET), f"{path}:1:1", "(at /)", "States")


@pytest.mark.parametrize(
    "resource, fragments",
    [
        ("arn:aws:states:::batch:submitJob.foo", ["batch:submitJob.foo", "state 'Run'"]),
        ("arn:aws:states:::aws-sdk:batch:describeJobz", ["describeJobz", "state 'Run'"]),
        ("arn:aws-moon:states:::batch:submitJob", ["unknown partition 'aws-moon'", "state 'Run'"]),
    ],
    ids=["unknown-suffix", "unknown-sdk-action", "unknown-partition"],
)
def test_bad_resources(run_cli, tmp_path, resource, fragments):
    path = _write(tmp_path, "sm.asl.json", _machine(resource))
    line = assert_input_error(run_cli("generate", str(path), *TARGET), *fragments, "(at /States/Run/Resource)")
    _with_position(line, path)


def test_mixed_partitions_across_files(run_cli, tmp_path):
    commercial = _write(tmp_path, "a.asl.json", _machine("arn:aws:states:::batch:submitJob"))
    china = _write(tmp_path, "b.asl.json", _machine("arn:aws-cn:states:::batch:submitJob"))
    assert_input_error(run_cli("generate", str(commercial), str(china), "--merge", *TARGET), "partitions", "aws", "aws-cn")


def test_region_needed_but_unknown(run_cli):
    path = ASL / "map-iterator.asl.json"
    assert_input_error(run_cli("generate", str(path), "--account", "123456789012"), "region", "--region", str(path), "'Each file/Convert'")


def test_account_needed_but_unknown(run_cli):
    path = ASL / "sdk.asl.json"
    assert_input_error(run_cli("generate", str(path), "--region", "us-east-1"), "account", "--account", str(path), "'Cancel'")


def test_nothing_needed_nothing_asked(run_cli):
    # Request Response needs batch:SubmitJob on "*" only: no region or account to ask for.
    result = run_cli("generate", str(ASL / "request-response.asl.json"))
    assert (result.code, result.err) == (0, "")
    assert result.out.encode() == (EXPECTED / "request-response.json").read_bytes()


@pytest.mark.parametrize(
    "flags, fragments",
    [
        (["--region", "US-EAST-1", "--account", "123456789012"], ["--region", "'US-EAST-1'"]),
        (["--region", "useast1", "--account", "123456789012"], ["--region", "'useast1'"]),
        (["--region", "us-east-1", "--account", "12345"], ["--account", "'12345'"]),
        (["--region", "us-east-1", "--account", "1234567890123"], ["--account"]),
        (["--region", "us-east-1", "--account", "12345678901a"], ["--account"]),
    ],
)
def test_invalid_region_and_account_values(run_cli, flags, fragments):
    assert_input_error(run_cli("generate", str(ASL / "run-job.asl.json"), *flags), *fragments)


def test_bad_format(run_cli):
    line = assert_input_error(run_cli("generate", str(ASL / "run-job.asl.json"), *TARGET, "--format", "xml"), "--format", "xml")
    assert "Usage:" not in line


@pytest.mark.parametrize("args", [["generate", "--regoin", "x", "f.json"], ["generate"], ["frobnicate"]])
def test_other_argument_errors_are_one_line_too(run_cli, args):
    assert_input_error(run_cli(*args))


# --- what works ------------------------------------------------------------------------------


def test_success_is_exit_0_with_a_clean_stderr(run_cli):
    result = run_cli("generate", str(ASL / "run-job.asl.json"), *TARGET)
    assert (result.code, result.err) == (0, "")
    assert result.out.encode() == (EXPECTED / "run-job.json").read_bytes()


@pytest.mark.parametrize("fixture", ["run-job.asl.json", "nested-parallel.asl.yaml"])
def test_stdin(run_cli, fixture):
    stem = fixture.split(".", 1)[0]
    result = run_cli("generate", "-", *TARGET, stdin=(ASL / fixture).read_bytes())
    assert (result.code, result.err) == (0, "")
    assert result.out.encode() == (EXPECTED / f"{stem}.json").read_bytes()


def test_stdin_errors_name_stdin(run_cli):
    result = run_cli("generate", "-", *TARGET, stdin=b'{"StartAt": "A",\n "States": {"A": {"Type": "Task", "Resource": 1}}}')
    assert_input_error(result, "<stdin>:2:", "(at /States/A/Resource)")


def test_output_file_is_written_whole_and_stdout_stays_empty(run_cli, tmp_path):
    target = tmp_path / "policy.json"
    result = run_cli("generate", str(ASL / "tagged.asl.json"), *TARGET, "-o", str(target))
    assert (result.code, result.out, result.err) == (0, "", "")
    assert target.read_bytes() == (EXPECTED / "tagged.json").read_bytes()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["policy.json"]  # no temporary left


def test_output_file_replaces_an_existing_one(run_cli, tmp_path):
    target = _write(tmp_path, "policy.json", "old")
    result = run_cli("generate", str(ASL / "callback.asl.json"), *TARGET, "--output", str(target))
    assert result.code == 0
    assert target.read_bytes() == (EXPECTED / "callback.json").read_bytes()


def test_output_file_gets_the_mode_a_plain_write_would(run_cli, tmp_path):
    # The atomic write goes through a temporary file, which mkstemp makes 0600: a CI step running
    # as another user could not read the policy, and a replaced file lost its mode.
    umask = os.umask(0o022)
    try:
        new = tmp_path / "new.json"
        assert run_cli("generate", str(ASL / "callback.asl.json"), *TARGET, "-o", str(new)).code == 0
        assert new.stat().st_mode & 0o777 == 0o644
        existing = _write(tmp_path, "existing.json", "old")
        existing.chmod(0o640)
        assert run_cli("generate", str(ASL / "callback.asl.json"), *TARGET, "-o", str(existing)).code == 0
        assert existing.stat().st_mode & 0o777 == 0o640
        assert existing.read_bytes() == (EXPECTED / "callback.json").read_bytes()
    finally:
        os.umask(umask)


def test_output_file_on_error_is_not_created(run_cli, tmp_path):
    target = tmp_path / "policy.json"
    result = run_cli("generate", str(tmp_path / "absent.json"), *TARGET, "-o", str(target))
    assert_input_error(result, "no such file")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("problem", ["missing-input", "unknown-region"])
def test_output_file_on_error_leaves_an_existing_file_untouched(run_cli, tmp_path, problem):
    target = _write(tmp_path, "policy.json", '{"keep": "me"}\n')
    before = target.stat().st_mtime_ns
    if problem == "missing-input":
        args = ["generate", str(tmp_path / "absent.json"), *TARGET]
    else:
        args = ["generate", str(ASL / "run-job.asl.json"), "--account", "123456789012", "--region", "nowhere"]
    result = run_cli(*args, "-o", str(target))
    assert_input_error(result)
    assert target.read_text() == '{"keep": "me"}\n'
    assert target.stat().st_mtime_ns == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["policy.json"]


def test_output_into_a_missing_directory_is_an_error(run_cli, tmp_path):
    result = run_cli("generate", str(ASL / "callback.asl.json"), *TARGET, "-o", str(tmp_path / "no" / "policy.json"))
    assert_input_error(result, str(tmp_path / "no" / "policy.json"))


def test_debug_reraises_in_process(run_cli, tmp_path):
    with pytest.raises(InputError):
        run_cli("--debug", "generate", str(tmp_path / "absent.json"), *TARGET)


# --- environment -----------------------------------------------------------------------------


def test_aws_environment_is_cleared_for_tests(request):
    assert "_clean_aws_environment" in request.fixturenames  # autouse, from conftest.py
    assert "AWS_REGION" not in os.environ and "AWS_DEFAULT_REGION" not in os.environ


def test_aws_default_region_is_used(run_cli, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    result = run_cli("generate", str(ASL / "map-iterator.asl.json"), "--account", "123456789012")
    assert result.code == 0, result.err
    assert _rule_arns(result.out) == {f"arn:aws:events:eu-west-1:123456789012:{RULE}"}


def test_aws_region_wins_over_aws_default_region(run_cli, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    result = run_cli("generate", str(ASL / "map-iterator.asl.json"), "--account", "123456789012")
    assert result.code == 0, result.err
    assert _rule_arns(result.out) == {f"arn:aws:events:ap-south-1:123456789012:{RULE}"}


def test_region_flag_wins_over_the_environment(run_cli, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    result = run_cli("generate", str(ASL / "map-iterator.asl.json"), *TARGET)
    assert result.code == 0, result.err
    assert result.out.encode() == (EXPECTED / "map-iterator.json").read_bytes()


def test_environment_wins_over_the_definitions_arns(run_cli, monkeypatch):
    # run-job.asl.json names a queue ARN in us-east-1 / 123456789012.
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    result = run_cli("generate", str(ASL / "run-job.asl.json"))
    assert result.code == 0, result.err
    assert _rule_arns(result.out) == {f"arn:aws:events:eu-central-1:123456789012:{RULE}"}


def test_empty_environment_values_are_ignored(run_cli, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    result = run_cli("generate", str(ASL / "map-iterator.asl.json"), "--account", "123456789012")
    assert _rule_arns(result.out) == {f"arn:aws:events:eu-west-1:123456789012:{RULE}"}


def test_invalid_region_in_the_environment_is_an_input_error(run_cli, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "not a region")
    assert_input_error(run_cli("generate", str(ASL / "map-iterator.asl.json"), "--account", "123456789012"), "'not a region'")


# --- real processes --------------------------------------------------------------------------


def _run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    return subprocess.run(
        [sys.executable, "-m", "policygen", *args], input=stdin, capture_output=True, cwd=ROOT, timeout=60, env=environment
    )


def test_process_bad_input_is_one_line_and_exit_2(tmp_path):
    path = _write(tmp_path, "sm.asl.json", _machine("arn:aws:states:::aws-sdk:batch:describeJobs.sync"))
    completed = _run("generate", str(path), *TARGET)
    assert completed.returncode == 2
    assert completed.stdout == b""
    stderr = completed.stderr.decode()
    assert "Traceback" not in stderr
    assert stderr.count("\n") == 1 and stderr.startswith(f"policygen: error: {path}:")
    assert "(at /States/Run/Resource)" in stderr


def test_process_debug_shows_the_traceback(tmp_path):
    completed = _run("--debug", "generate", str(tmp_path / "absent.json"), *TARGET)
    assert completed.returncode != 0
    stderr = completed.stderr.decode()
    assert "Traceback" in stderr
    assert "InputError" in stderr and "no such file" in stderr


def test_process_reads_stdin_and_writes_one_document():
    completed = _run("generate", "-", *TARGET, stdin=(ASL / "nested-parallel.asl.yaml").read_bytes())
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == b""
    assert completed.stdout == (EXPECTED / "nested-parallel.json").read_bytes()


def test_generate_and_scan_help_name_option_values_not_python_types(run_cli):
    result = run_cli("generate", "--help")
    assert result.code == 0
    options = result.out.split("Options:", 1)[1]
    for shown in ("--region REGION", "--account ACCOUNT", "-o, --output FILE|DIR", "--tag KEY=VALUE",
                  "--partition PARTITION", "--state-machine NAME", "--attach-to ROLE_LOGICAL_ID"):
        assert shown in options
    assert "<str>" not in options and "list[str]" not in options
    scan = run_cli("scan", "--help")
    assert scan.code == 0 and "<str>" not in scan.out.split("Options:", 1)[1]


def test_shell_completion_completes_commands_and_options():
    # Shell completion (typer's --install-completion / --show-completion) answers through the
    # environment variables the installed script sets, as bash calls it.
    def complete(words: str, index: int) -> list[str]:
        environment = dict(os.environ, _POLICYGEN_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=str(index))
        script = Path(sys.executable).parent / "policygen"  # the installed console script, as the shell runs it
        result = subprocess.run([str(script)], env=environment, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout.split()

    assert complete("policygen li", 1) == ["lint"]
    assert "--format" in complete("policygen lint --fo", 2)
    assert set(complete("policygen generate --mode ", 3)) == {"documented", "fine-grained"}


def test_the_readme_gitlab_job_writes_a_code_quality_report(run_cli, tmp_path, monkeypatch):
    # The README's .gitlab-ci.yml job, its lint line run on a definition and role with a PG101:
    # the report GitLab reads is written, and the job fails (exit 1) as the README says.
    import shlex

    import yaml

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"### GitLab CI\n.*?```yaml\n(.*?)```", readme, re.DOTALL).group(1)
    job = yaml.safe_load(block)["policygen"]
    assert job["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    lint_line = next(line for line in job["script"] if line.startswith("policygen lint "))
    infra = tmp_path / "infra"
    infra.mkdir()
    bad = ROOT / "fixtures" / "lint" / "PG101" / "bad"
    (infra / "pipeline.asl.json").write_bytes((bad / "definition.asl.json").read_bytes())
    (infra / "role-policy.json").write_bytes((bad / "policy.json").read_bytes())
    monkeypatch.chdir(tmp_path)
    result = run_cli(*shlex.split(lint_line)[1:])
    assert result.code == 1, result.err
    issues = json.loads((tmp_path / "gl-code-quality-report.json").read_text(encoding="utf-8"))
    assert issues and all(issue["check_name"] == "PG101" for issue in issues)
    assert {issue["location"]["path"] for issue in issues} == {"infra/pipeline.asl.json"}
