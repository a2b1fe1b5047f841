"""`generate --check`: compare the committed policy (a file, or a directory of a file per state
machine) with what would be generated now, as a unified diff; nothing is written."""

from __future__ import annotations

import difflib
import os
import stat
from collections.abc import Iterator

from policygen.errors import Location, UsageError, one_line
from policygen.render.outputs import FILE_SUFFIXES, Outputs

_NO_FILE = "/dev/null"


def check_outputs(outputs: Outputs, path: str, output_format: str, output: str | None = None) -> str:
    """The unified diff that would turn what `path` holds into `outputs`; empty when it is current.
    A missing file, or in a directory a missing or extra file of the format's kind, is a difference.
    `output` (-o) is a UsageError: a check writes nothing."""
    if output is not None:
        raise UsageError("--check compares, -o writes: pass one of them")
    if outputs.text is not None:
        if os.path.isdir(path):
            raise UsageError("is a directory; with one output --check takes the file it is written to", Location(path))
        return _diff(path, _committed(path), outputs.text)
    if os.path.lexists(path) and not os.path.isdir(path):
        raise UsageError("is a file; with a file per state machine --check takes their directory", Location(path))
    generated = dict(outputs.files)
    committed = _committed_names(path, FILE_SUFFIXES[output_format])
    return "".join(
        _diff(os.path.join(path, name), _committed(os.path.join(path, name)), generated.get(name))
        for name in sorted(set(generated) | committed)
    )


def _committed_names(directory: str, suffix: str) -> set[str]:
    """The regular files in `directory` that a file per machine could be (not hidden, the format's suffix)."""
    if not os.path.isdir(directory):
        return set()
    try:
        names = os.listdir(directory)
    except OSError as error:
        raise UsageError(f"cannot read: {error.strerror}", Location(directory)) from None
    return {
        name
        for name in names
        if name.endswith(suffix) and not name.startswith(".") and os.path.isfile(os.path.join(directory, name))
    }


def _committed(path: str) -> str | None:
    """The text of the committed file, None when there is none. Bytes that are not UTF-8 show as
    U+FFFD: such a file differs from any generated one, which is always UTF-8."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise UsageError(f"cannot read: {error.strerror}", Location(path)) from None
    if not stat.S_ISREG(status.st_mode):
        raise UsageError("is not a regular file; --check compares files", Location(path))
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as error:
        raise UsageError(f"cannot read: {error.strerror}", Location(path)) from None
    return data.decode("utf-8", errors="replace")


def _diff(path: str, committed: str | None, generated: str | None) -> str:
    if committed == generated:
        return ""
    before = "" if committed is None else committed
    after = "" if generated is None else generated
    lines = difflib.unified_diff(
        _lines(before),
        _lines(after),
        fromfile=_NO_FILE if committed is None else one_line(path),
        tofile=_NO_FILE if generated is None else one_line(path) + " (generated)",
    )
    return "".join(_terminated(lines))


def _lines(text: str) -> list[str]:
    """Lines split on newlines only, each shown safely: a committed file may hold a carriage return
    or an escape sequence that must not start a line of its own in a terminal or a CI log."""
    return [one_line(line) + "\n" for line in text.split("\n")[:-1]] + (
        [one_line(text.rsplit("\n", 1)[-1])] if not text.endswith("\n") and text else []
    )


def _terminated(lines: Iterator[str]) -> Iterator[str]:
    for line in lines:
        if line.endswith("\n"):
            yield line
        else:
            yield line + "\n\\ No newline at end of file\n"
