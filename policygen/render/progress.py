"""The progress bar a command draws on a terminal's stderr: `[#####     ] 12/60 files`, redrawn in place.

Whether stderr is a terminal is the command line's decision (policygen/cli_options.py, audit/command.py):
this module only draws on the stream it is given, and never on stdout."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TextIO

# `progress(done, total)`: called as each of `total` items (input files, state machines) is done.
Progress = Callable[[int, int], None]

# Below this many input files no bar is drawn. Reading takes some 7 ms for a small YAML template and
# under 0.1 ms for an ASL file, so fewer files are read in well under the ~0.15 s a bar needs to be
# seen rather than flash, and a run over a few files is over before the bar could say anything.
# From some 20 files (a cdk.out of many stacks, a directory of templates) a run can last long
# enough for a bar to show it is moving; drawing costs some 5 us a file on a terminal.
MIN_FILES = 20

_WIDTH = 30  # the bar's cells; fewer on a narrow terminal, so a redraw never wraps onto a second line


class ProgressBar:
    """`[#####     ] 12/60 files`: drawn over `stream`'s current line as each item is done, and
    cleared when the last one is (so what follows, warnings or a report on the same terminal,
    starts on a clean line), or by `clear()` (before a warning, and when the command ends early)."""

    def __init__(self, stream: TextIO, noun: str, minimum: int = 1) -> None:
        self._stream = stream
        self._noun = noun
        self._minimum = minimum
        self._width = min(_WIDTH, _columns(stream) - len(f"[] {10**6}/{10**6} {noun}") - 1)
        self._shown = 0  # the length of the line on screen, 0 when there is none

    def __call__(self, done: int, total: int) -> None:
        if total < self._minimum:
            return
        if self._width > 0:
            filled = self._width * done // total if total else self._width
            self._draw(f"[{'#' * filled}{' ' * (self._width - filled)}] {done}/{total} {self._noun}")
        if done >= total:
            self.clear()

    def clear(self) -> None:
        """Blank the bar's line and put the cursor back at its start; nothing when no bar is shown."""
        if self._shown:
            self._stream.write(f"\r{' ' * self._shown}\r")
            self._stream.flush()
            self._shown = 0

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.clear()

    def _draw(self, line: str) -> None:
        # Padded to the previous line's length: the count only grows, but a narrower redraw must not
        # leave the old line's end behind.
        self._stream.write(f"\r{line.ljust(self._shown)}")
        self._stream.flush()
        self._shown = max(self._shown, len(line))


def _columns(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (AttributeError, OSError, ValueError):  # not a real file (a test's stream), or no size
        return 80
