"""The `policygen` process: the CLI's main(), then an exit that skips the interpreter's teardown.

policygen.cli.main raises SystemExit, so tests can run it in-process; this is what the installed
command and `python -m policygen` run instead. Tearing the interpreter down (freeing every module
and every object still held, then a last full garbage collection) does nothing for a process that
ends here, and costs about a twentieth of a run over a 20,000-state definition
(bench/run.py, the one-large-file row). Like mypy, policygen flushes its streams and leaves with
os._exit, unless anything else still has work to do at exit.
"""

from __future__ import annotations

import atexit
import os
import sys

from policygen.cli import main


def console() -> None:
    try:
        main()
        code = 0
    except SystemExit as exit_:
        if not isinstance(exit_.code, int | None):
            raise  # a message for Python to print: its normal exit
        code = exit_.code or 0
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe or stream: Python's own exit reports it as before
        sys.exit(code)
    if _nothing_left_to_run():
        os._exit(code)
    sys.exit(code)


def _nothing_left_to_run() -> bool:
    """No atexit callback and no thread other than this one: an exit skipping them loses nothing."""
    threading = sys.modules.get("threading")
    return atexit._ncallbacks() == 0 and (threading is None or threading.active_count() == 1)
