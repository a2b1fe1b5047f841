"""The progress bar (policygen/render/progress.py): drawn by `lint`, `generate` and `scan` over many
input files only when stderr is a terminal, cleared before warnings, errors and at the end, never on
stdout. The CLI runs as a subprocess with its stderr on a pseudo-terminal, as a user's shell has it."""

from __future__ import annotations

import io
import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

if sys.platform == "win32":
    pytest.skip("pseudo-terminals (pty, termios) are POSIX only", allow_module_level=True)

import fcntl
import pty
import termios
import tty

from policygen.cli_options import input_progress, warn
from policygen.errors import Notice
from policygen.render.progress import MIN_FILES, ProgressBar

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "fixtures" / "lint" / "PG101" / "bad"
BAR = re.compile(r"\r\[[# ]+\] (\d+)/(\d+) files")
CLEARED = re.compile(r"\r +\r")


def machines(directory: Path, count: int) -> Path:
    """`count` copies of a definition with a Batch state, as a directory policygen reads in sorted order."""
    directory.mkdir()
    for index in range(count):
        shutil.copy(CASE / "definition.asl.json", directory / f"machine{index:03}.asl.json")
    return directory


def run(args: list[str], tmp_path: Path, terminal: bool) -> tuple[int, bytes, str]:
    """policygen ARGS in a process of its own: exit code, stdout, and stderr (on a pseudo-terminal
    in raw mode when `terminal`, so the bytes are those policygen wrote, else a pipe)."""
    command = [sys.executable, "-m", "policygen", *args]
    with open(tmp_path / "stdout", "w+b") as stdout:
        if not terminal:
            done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE, cwd=ROOT, timeout=120)
            stdout.seek(0)
            return done.returncode, stdout.read(), done.stderr.decode()
        leader, follower = pty.openpty()
        tty.setraw(follower)
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=stdout, stderr=follower, cwd=ROOT)
        os.close(follower)
        terminal_bytes = bytearray()
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the process closed its end of the terminal
                break
            if not chunk:
                break
            terminal_bytes += chunk
        os.close(leader)
        code = process.wait(timeout=120)
        stdout.seek(0)
        return code, stdout.read(), terminal_bytes.decode()


COMMANDS = {
    "lint": ["lint", "{dir}", "--policy", str(CASE / "policy.json")],
    "generate": ["generate", "{dir}", "--merge", "--region", "us-east-1", "--account", "123456789012"],
    "scan": ["scan", "{dir}"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_bar_on_a_terminal_only_and_stdout_the_same(tmp_path, command):
    directory = machines(tmp_path / "many", 30)
    args = [part.replace("{dir}", str(directory)) for part in COMMANDS[command]]
    code, stdout, stderr = run(args, tmp_path, terminal=True)
    drawn = [(int(done), int(total)) for done, total in BAR.findall(stderr)]
    assert drawn == [(done, 30) for done in range(1, 31)], stderr  # every file, in order, to the end
    assert CLEARED.search(stderr.rsplit("30/30 files", 1)[1])  # and the line cleared when it finished
    assert stderr.endswith(CLEARED.findall(stderr)[-1])  # nothing after it: these runs warn of nothing
    plain_code, plain_stdout, plain_stderr = run(args, tmp_path, terminal=False)
    assert (plain_code, plain_stdout) == (code, stdout)  # stdout byte for byte the same either way
    assert plain_stderr == "" and b"files" not in stdout and b"\r" not in stdout


def test_no_bar_for_fewer_files_than_the_threshold(tmp_path):
    directory = machines(tmp_path / "few", MIN_FILES - 1)
    code, stdout, stderr = run(["scan", str(directory)], tmp_path, terminal=True)
    assert code == 0 and stdout and stderr == ""


def test_warnings_and_errors_start_on_a_cleared_line(tmp_path):
    directory = machines(tmp_path / "many", 25)
    (directory / "machine010-workflow.json").write_text('{"name": "ci", "on": "push"}', encoding="utf-8")
    code, _, stderr = run(["scan", str(directory)], tmp_path, terminal=True)
    assert code == 0 and "26/26 files" in stderr
    before, warning = stderr.split("policygen: warning: ", 1)
    assert CLEARED.search(before[-80:]) and before.endswith(CLEARED.findall(before)[-1])
    assert "skipped" in warning and "\r" not in warning.rstrip("\r\n")
    (directory / "machine012-broken.asl.json").write_text('{"StartAt": "A", ', encoding="utf-8")
    code, _, stderr = run(["lint", str(directory), "--policy", str(CASE / "policy.json")], tmp_path, terminal=True)
    before, error = stderr.split("policygen: error: ", 1)
    assert code == 2 and "invalid JSON" in error
    assert BAR.findall(before)[-1] == ("13", "27")  # stopped at the broken file, the bar cleared
    assert before.endswith(CLEARED.findall(before)[-1])


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_warning_while_the_bar_is_shown_clears_it_first(monkeypatch):
    stderr = _Terminal()
    monkeypatch.setattr(sys, "stderr", stderr)
    with input_progress() as progress:
        assert progress is not None
        progress(5, 40)
        warn([Notice("something to say")])
        progress(6, 40)
    text = stderr.getvalue()
    bar, rest = text.split("policygen: warning: something to say\n")
    assert bar.startswith("\r[###") and "5/40 files" in bar and CLEARED.search(bar[-60:]) and bar.endswith("\r")
    assert "6/40 files" in rest and rest.endswith(CLEARED.findall(rest)[-1])  # cleared at the end too


def test_off_a_terminal_there_is_no_bar(monkeypatch):
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    with input_progress() as progress:
        assert progress is None
        warn([Notice("something to say")])
    assert stderr.getvalue() == "policygen: warning: something to say\n"


def test_the_bar_fits_a_narrow_terminal():
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 40, 0, 0))
    with os.fdopen(follower, "w") as stream:
        bar = ProgressBar(stream, "files")
        for done in range(1, 101):
            bar(done, 100)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    lines = output.decode().split("\r")
    assert "[#" in output.decode() and "100/100 files" in output.decode()
    assert max(len(line) for line in lines) < 40  # a redraw never wraps onto a second line


def test_a_terminal_too_narrow_for_a_bar_gets_none(monkeypatch):
    stream = _Terminal()
    monkeypatch.setattr("policygen.render.progress._columns", lambda _: 20)
    bar = ProgressBar(stream, "files")
    bar(1, 2)
    bar(2, 2)
    assert stream.getvalue() == ""


def test_below_its_minimum_the_bar_draws_nothing():
    stream = io.StringIO()
    bar = ProgressBar(stream, "files", minimum=20)
    for done in range(1, 20):
        bar(done, 19)
    bar.clear()
    assert stream.getvalue() == ""
