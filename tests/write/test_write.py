"""-o as a user expects: streams written through, symlinks followed, unwritable or over-long paths
an exit-2 error before anything is written, -o DIR whole or not at all, -o EXISTING_DIR the same in
every format."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from test_cli import assert_input_error

ROOT = Path(__file__).resolve().parents[2]
ASL = ROOT / "fixtures" / "inputs" / "asl"
CFN = ROOT / "fixtures" / "inputs" / "cloudformation"
EXPECTED = ROOT / "fixtures" / "expected" / "json" / "documented"
LINT = ROOT / "fixtures" / "lint"
TARGET = ("--region", "us-east-1", "--account", "123456789012")
POLICY = EXPECTED / "callback.json"
SEVERAL = CFN / "definition-strings.json"  # four state machines
SEVERAL_NAMES = ["IngestStateMachine.json", "ReportStateMachine.json", "ThumbnailStateMachine.json", "TranscodeStateMachine.json"]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="Linux /proc: /dev/stdout links into it")


def _generate(run_cli, *extra: str):
    return run_cli("generate", str(ASL / "callback.asl.json"), *TARGET, *extra)


def _listing(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


# --- streams: written through, never replaced ------------------------------------------------


def test_a_fifo_is_written_through_and_stays_a_fifo(run_cli, tmp_path):
    fifo = tmp_path / "policy.fifo"
    os.mkfifo(fifo)
    # The read end is open (non-blocking) before policygen opens the write end, so neither waits;
    # the policy fits the pipe's buffer.
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        result = _generate(run_cli, "-o", str(fifo))
        received = b""
        while chunk := os.read(reader, 65536):
            received += chunk
    finally:
        os.close(reader)
    assert (result.code, result.out, result.err) == (0, "", "")
    assert received == POLICY.read_bytes()
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["policy.fifo"]


@pytest.mark.skipif(not IS_ROOT, reason="making a device node needs root")
def test_a_character_device_is_written_through_and_stays_a_device(run_cli, tmp_path):
    # A private /dev/null (major 1, minor 3): what `-o /dev/null` as root must not replace.
    null = tmp_path / "null"
    try:
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        os.close(os.open(null, os.O_WRONLY))
    except PermissionError:
        pytest.skip("no device nodes here (no CAP_MKNOD, or a nodev file system)")
    result = _generate(run_cli, "-o", str(null))
    assert (result.code, result.err) == (0, "")
    status = os.lstat(null)
    assert stat.S_ISCHR(status.st_mode) and status.st_rdev == os.makedev(1, 3)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["null"]


def _run_process(args, stdout) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "policygen", *args], stdout=stdout, stderr=subprocess.PIPE, timeout=60, cwd=ROOT
    )


@needs_proc
@pytest.mark.parametrize("descriptor_link", ["/proc/self/fd/1", "/dev/fd/1"])
def test_stdout_by_its_descriptor_link_is_stdout(tmp_path, descriptor_link):
    # What /dev/stdout is: a link to this process's descriptor 1. A link of our own in tmp_path,
    # so a regression replaces that rather than the system's /dev/stdout.
    link = tmp_path / "stdout"
    link.symlink_to(descriptor_link)
    done = _run_process(["generate", str(ASL / "callback.asl.json"), *TARGET, "-o", str(link)], subprocess.PIPE)
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout == POLICY.read_bytes()
    assert os.readlink(link) == descriptor_link


@needs_proc
def test_stdout_appended_to_a_file_keeps_what_the_file_had(tmp_path):
    # `policygen ... -o /dev/stdout >> log`: the policy lands where the shell's descriptor points,
    # after what is there; the log is neither replaced nor written over.
    log = tmp_path / "log"
    log.write_bytes(b"before\n")
    link = tmp_path / "stdout"
    link.symlink_to("/proc/self/fd/1")
    with open(log, "ab") as stream:
        done = _run_process(["generate", str(ASL / "callback.asl.json"), *TARGET, "-o", str(link)], stream)
    assert (done.returncode, done.stderr) == (0, b"")
    assert log.read_bytes() == b"before\n" + POLICY.read_bytes()


# --- symlinks: the target replaced, the link kept ---------------------------------------------


def test_a_symlink_is_followed_and_kept(run_cli, tmp_path):
    real = tmp_path / "policies" / "real.json"
    real.parent.mkdir()
    real.write_text("old")
    real.chmod(0o640)
    link = tmp_path / "policy.json"
    link.symlink_to(Path("policies") / "real.json")
    result = _generate(run_cli, "-o", str(link))
    assert (result.code, result.err) == (0, "")
    assert link.is_symlink() and os.readlink(link) == str(Path("policies") / "real.json")
    assert real.read_bytes() == POLICY.read_bytes()
    assert real.stat().st_mode & 0o777 == 0o640  # the replaced file's mode, as a plain write keeps it
    assert sorted(path.name for path in real.parent.iterdir()) == ["real.json"]  # no temporary left


def test_a_dangling_symlink_creates_its_target(run_cli, tmp_path):
    link = tmp_path / "policy.json"
    link.symlink_to("new.json")
    result = _generate(run_cli, "-o", str(link))
    assert (result.code, result.err) == (0, "")
    assert link.is_symlink() and (tmp_path / "new.json").read_bytes() == POLICY.read_bytes()


def test_an_empty_path_is_an_error(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_input_error(_generate(run_cli, "-o", ""), "empty path")
    assert list(tmp_path.iterdir()) == []


def test_a_symlink_loop_is_an_error(run_cli, tmp_path):
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    assert_input_error(_generate(run_cli, "-o", str(tmp_path / "a")), str(tmp_path / "a"), "symbolic links")


# --- places that cannot be written: exit 2 naming the path, nothing written ---------------------


def test_a_parent_that_is_a_file_is_an_error(run_cli, tmp_path):
    (tmp_path / "file").write_text("keep")
    target = tmp_path / "file" / "policy.json"
    assert_input_error(_generate(run_cli, "-o", str(target)), str(target), f"{tmp_path / 'file'} is not a directory")
    assert _listing(tmp_path) == {"file": b"keep"}


@needs_proc
def test_a_place_the_system_refuses_is_exit_2_for_root_too(run_cli):
    # Permission bits do not stop root; /proc/self refuses new files to everyone.
    assert_input_error(_generate(run_cli, "-o", "/proc/self/policy.json"), "/proc/self/policy.json", "cannot write")


@pytest.mark.skipif(IS_ROOT, reason="root writes into a read-only directory")
def test_a_read_only_directory_is_an_error(run_cli, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        assert_input_error(_generate(run_cli, "-o", str(locked / "policy.json")), str(locked / "policy.json"), "cannot write")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_a_name_over_name_max_is_an_error(run_cli, tmp_path):
    target = tmp_path / ("p" * 300 + ".json")
    line = assert_input_error(_generate(run_cli, "-o", str(target)), "305 bytes long", "allows 255")
    assert str(tmp_path) in line
    assert list(tmp_path.iterdir()) == []


def test_a_path_over_path_max_is_an_error(run_cli, tmp_path):
    target = str(tmp_path) + "/d" * 2100 + "/policy.json"
    assert_input_error(_generate(run_cli, "-o", target), "bytes long; the system allows 4095")


def test_a_name_that_just_fits_is_written(run_cli, tmp_path):
    # The temporary beside it must fit NAME_MAX too: a name of 255 bytes is a legal target.
    target = tmp_path / ("p" * 250 + ".json")
    assert _generate(run_cli, "-o", str(target)).code == 0
    assert _listing(tmp_path) == {target.name: POLICY.read_bytes()}


def test_lint_checks_its_output_before_printing_the_report(run_cli, tmp_path):
    # With --fix and -o the report goes to stdout and the policy to the file: an unwritable -o
    # is said before any of it.
    case = LINT / "PG101" / "bad"
    result = run_cli("lint", str(case / "definition.asl.json"), "--policy", str(case / "policy.json"),
                     *TARGET, "--fix", "-o", str(tmp_path / "missing" / "fixed.json"))
    assert_input_error(result, str(tmp_path / "missing" / "fixed.json"), "does not exist")


# --- -o DIR: whole or not at all ----------------------------------------------------------------


def _several(run_cli, out: Path):
    return run_cli("generate", str(SEVERAL), *TARGET, "-o", str(out))


def _expected_several() -> dict[str, bytes]:
    return _listing(EXPECTED / "cloudformation" / "definition-strings")


def _existing_directory(tmp_path: Path) -> Path:
    out = tmp_path / "policies"
    out.mkdir()
    for name in SEVERAL_NAMES:
        (out / name).write_text(f"old {name}")
    (out / "unrelated.txt").write_text("not ours")
    return out


def _failing_on_call(function, failing_call: int):
    calls = []

    def wrapper(*args, **kwargs):
        calls.append(args)
        if len(calls) == failing_call:
            raise OSError(28, "No space left on device")
        return function(*args, **kwargs)

    return wrapper


def test_a_new_directory_appears_only_complete(run_cli, tmp_path):
    out = tmp_path / "policies"
    assert _several(run_cli, out).code == 0
    assert _listing(out) == _expected_several()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["policies"]  # no temporary directory left
    assert out.stat().st_mode & 0o777 == 0o777 & ~_umask()


def test_an_over_long_machine_name_fails_before_any_file_is_written(run_cli, tmp_path):
    template = json.loads(SEVERAL.read_text())
    resources = template["Resources"]
    resources["R" * 300] = resources.pop("ReportStateMachine")
    source = tmp_path / "template.json"
    source.write_text(json.dumps(template))
    out = tmp_path / "policies"
    assert_input_error(run_cli("generate", str(source), *TARGET, "-o", str(out)), "bytes long")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["template.json"]


def test_a_write_failing_midway_leaves_no_new_directory(run_cli, tmp_path, monkeypatch):
    import policygen.write.directory

    monkeypatch.setattr(policygen.write.directory, "open", _failing_on_call(open, 3), raising=False)
    out = tmp_path / "policies"
    assert_input_error(_several(run_cli, out), str(out), "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_an_existing_directory_is_untouched_when_a_name_is_taken_by_a_directory(run_cli, tmp_path):
    out = _existing_directory(tmp_path)
    (out / "TranscodeStateMachine.json").unlink()
    (out / "TranscodeStateMachine.json").mkdir()
    before = _listing_without_directories(out)
    assert_input_error(_several(run_cli, out), str(out / "TranscodeStateMachine.json"), "is a directory")
    assert _listing_without_directories(out) == before


def test_an_existing_directory_is_untouched_when_writing_fails_midway(run_cli, tmp_path, monkeypatch):
    out = _existing_directory(tmp_path)
    before = _listing(out)
    monkeypatch.setattr(tempfile, "mkstemp", _failing_on_call(tempfile.mkstemp, 3))
    assert_input_error(_several(run_cli, out), "No space left on device")
    assert _listing(out) == before  # nothing replaced, no temporary left


def test_an_existing_directory_is_put_back_when_a_rename_fails_midway(run_cli, tmp_path, monkeypatch):
    out = _existing_directory(tmp_path)
    (out / "ThumbnailStateMachine.json").unlink()  # one file the run creates, the others it replaces
    before = _listing(out)
    monkeypatch.setattr(os, "replace", _failing_on_call(os.replace, 4))
    assert_input_error(_several(run_cli, out), "No space left on device")
    assert _listing(out) == before  # the replaced files back, the new one gone, no backup left


def test_an_existing_directory_gets_every_file_and_keeps_the_rest(run_cli, tmp_path):
    out = _existing_directory(tmp_path)
    (out / "IngestStateMachine.json").chmod(0o600)
    assert _several(run_cli, out).code == 0
    assert _listing(out) == {**_expected_several(), "unrelated.txt": b"not ours"}
    assert (out / "IngestStateMachine.json").stat().st_mode & 0o777 == 0o600


def test_a_fifo_in_the_directory_is_an_error(run_cli, tmp_path):
    out = _existing_directory(tmp_path)
    (out / "ReportStateMachine.json").unlink()
    os.mkfifo(out / "ReportStateMachine.json")
    assert_input_error(_several(run_cli, out), str(out / "ReportStateMachine.json"), "not a regular file")


def _listing_without_directories(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir()) if not path.is_dir()}


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


# --- -o EXISTING_DIR: a file per state machine, in every format --------------------------------


@pytest.mark.parametrize(
    "fmt, file_name",
    [
        ("json", "RenderStateMachine.json"),
        ("cloudformation", "RenderStateMachine.yaml"),
        ("cloudformation-json", "RenderStateMachine.json"),
        ("terraform", "RenderStateMachine.tf"),
    ],
)
def test_one_machine_into_an_existing_directory_in_every_format(run_cli, tmp_path, fmt, file_name):
    source = str(CFN / "definition-object.yaml")
    stdout = run_cli("generate", source, *TARGET, "--format", fmt)
    assert stdout.code == 0, stdout.err
    result = run_cli("generate", source, *TARGET, "--format", fmt, "-o", str(tmp_path))
    assert (result.code, result.out, result.err) == (0, "", "")
    assert _listing(tmp_path) == {file_name: stdout.out.encode()}


def test_several_machines_into_an_existing_directory_as_cloudformation(run_cli, tmp_path):
    result = run_cli("generate", str(SEVERAL), *TARGET, "--format", "cloudformation", "-o", str(tmp_path))
    assert result.code == 0, result.err
    assert sorted(path.name for path in tmp_path.iterdir()) == [name.replace(".json", ".yaml") for name in SEVERAL_NAMES]
    one = run_cli("generate", str(SEVERAL), *TARGET, "--format", "cloudformation", "--state-machine", "ReportStateMachine")
    assert (tmp_path / "ReportStateMachine.yaml").read_text() == one.out


def test_several_machines_into_an_existing_directory_as_terraform_is_an_error(run_cli, tmp_path):
    result = run_cli("generate", str(SEVERAL), *TARGET, "--format", "terraform", "-o", str(tmp_path))
    assert_input_error(result, "one file", "--state-machine")
    assert list(tmp_path.iterdir()) == []


def test_several_machines_to_a_new_path_as_cloudformation_is_one_file(run_cli, tmp_path):
    out = tmp_path / "roles.yaml"
    result = run_cli("generate", str(SEVERAL), *TARGET, "--format", "cloudformation", "-o", str(out))
    assert result.code == 0, result.err
    stdout = run_cli("generate", str(SEVERAL), *TARGET, "--format", "cloudformation")
    assert out.read_text() == stdout.out


def test_merge_into_an_existing_directory_is_an_error(run_cli, tmp_path):
    result = run_cli("generate", str(SEVERAL), *TARGET, "--merge", "-o", str(tmp_path))
    assert_input_error(result, str(tmp_path), "is a directory")


@pytest.mark.parametrize("fix", [False, True])
def test_lint_into_a_directory_is_an_error_before_any_output(run_cli, tmp_path, fix):
    case = LINT / "PG101" / "bad"
    result = run_cli("lint", str(case / "definition.asl.json"), "--policy", str(case / "policy.json"), *TARGET,
                     *(["--fix"] if fix else []), "-o", str(tmp_path))
    assert_input_error(result, str(tmp_path), "is a directory")
    assert list(tmp_path.iterdir()) == []
