"""Writing results: whole or not at all."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path

from policygen.errors import UsageError, Location


def write_output(text: str, path: str | None) -> None:
    """Print `text` to stdout, or replace `path` with it atomically (a temporary file, then rename)."""
    if path is None or path == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    target = Path(path)
    if target.is_dir():
        raise UsageError("is a directory; -o takes a file name", Location(path))
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError("the directory to write into does not exist", Location(path))
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=directory)
    try:
        # mkstemp makes the file 0600: give it the mode a plain write would (the replaced file's,
        # else 0666 less the umask), so CI steps running as another user can still read the policy.
        os.fchmod(handle, _mode_for(target))
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _mode_for(target: Path) -> int:
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
