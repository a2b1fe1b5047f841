"""The installed command's exit (policygen.console): what main() wrote arrives whole, with main()'s
exit code, although the process leaves with os._exit; and the normal exit runs when something
else still has work to do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG101 = ROOT / "fixtures" / "lint" / "PG101" / "bad"
TARGET = ("--region", "us-east-1", "--account", "123456789012")


# Buffered streams, as a user's shell gives them (this test's own environment may not): what is
# still in a buffer at the exit must be flushed by policygen itself.
ENVIRONMENT = {key: value for key, value in os.environ.items() if not key.startswith("AWS_") and key != "PYTHONUNBUFFERED"}


def _process(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "policygen", *args], capture_output=True, cwd=ROOT, timeout=60, env=ENVIRONMENT)


def _many_functions(tmp_path: Path, count: int) -> Path:
    states = {
        f"Call{index}": {"Type": "Task", "Resource": f"arn:aws:lambda:us-east-1:123456789012:function:fn-{index}", "Next": f"Call{index + 1}"}
        for index in range(count)
    }
    states[f"Call{count}"] = {"Type": "Succeed"}
    path = tmp_path / "many.asl.json"
    path.write_text(json.dumps({"StartAt": "Call0", "States": states}), encoding="utf-8")
    return path


def test_an_output_larger_than_a_pipe_arrives_whole(tmp_path, run_cli):
    path = _many_functions(tmp_path, 6000)
    completed = _process("generate", str(path), *TARGET)
    assert completed.returncode == 0, completed.stderr
    assert len(completed.stdout) > 4 * 65536  # several pipe buffers: written while the reader drains them
    in_process = run_cli("generate", str(path), *TARGET)
    assert completed.stdout.decode() == in_process.out
    assert completed.stderr.decode() == in_process.err  # the size warning, flushed before the exit


def test_exit_codes_and_both_streams_are_main_s(tmp_path):
    finding = _process("lint", str(PG101 / "definition.asl.json"), "--policy", str(PG101 / "policy.json"), *TARGET)
    assert finding.returncode == 1
    assert b"PG101" in finding.stdout
    bad = _process("generate", str(tmp_path / "absent.json"), *TARGET)
    assert bad.returncode == 2 and bad.stdout == b""
    assert bad.stderr.decode().startswith("policygen: error: ") and "absent.json" in bad.stderr.decode()


_LEAVE = """
import sys
from policygen import console

def main():
    print("main wrote this", end="")  # left in stdout's buffer: the exit must flush it
    sys.exit(3)

console.main = main
{setup}
console.console()
"""


def _leave(setup: str) -> subprocess.CompletedProcess:
    script = _LEAVE.format(setup=setup)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60, env=ENVIRONMENT)


def test_main_s_buffered_output_and_exit_code_survive_the_hard_exit():
    left = _leave("")
    assert (left.returncode, left.stdout, left.stderr) == (3, "main wrote this", "")


def test_an_atexit_callback_still_runs():
    left = _leave("import atexit; atexit.register(lambda: print(' and the callback ran', end=''))")
    assert (left.returncode, left.stdout) == (3, "main wrote this and the callback ran")


def test_a_running_thread_is_waited_for():
    setup = "import threading, time\nthreading.Thread(target=lambda: (time.sleep(0.2), print(' and the thread finished', end=''))).start()"
    left = _leave(setup)
    assert (left.returncode, left.stdout) == (3, "main wrote this and the thread finished")
