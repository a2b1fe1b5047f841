"""One output file per state machine: safe file names from machine names, written into a directory
a file at a time and put in place all together or not at all."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from policygen.errors import Location, UsageError
from policygen.write.atomic import (
    Staged,
    cannot_write,
    check_directory,
    check_name_lengths,
    commit,
    current_umask,
    discard,
    output_destination,
    stage,
)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_file_name(name: str, suffix: str) -> str:
    """A file name for a state machine name (a logical id, a Terraform address such as
    `module.etl.aws_sfn_state_machine.this["daily"]`): runs of other characters become `_`,
    never a hidden file, never a path."""
    stem = _UNSAFE.sub("_", name).strip("_.") or "state-machine"
    return stem + suffix


class FileNamer:
    """file_names one machine at a time, for -o DIR written as it is made."""

    def __init__(self, suffix: str) -> None:
        self.suffix = suffix
        self.files: dict[str, str] = {}  # machine name -> file name
        self._owners: dict[str, str] = {}  # file name, case folded -> machine name

    def add(self, name: str) -> str:
        """The file name for one more machine; one that would share a file with an earlier one is a UsageError."""
        if name in self.files:
            raise UsageError(
                f"two state machines are named {name!r} (in different files?): -o DIR would write both to "
                f"{self.files[name]}; pick one with --state-machine or use --merge"
            )
        file = safe_file_name(name, self.suffix)
        if file.lower() in self._owners:
            raise UsageError(
                f"state machines {self._owners[file.lower()]!r} and {name!r} would both be written to {file}; "
                "pick with --state-machine or use --merge"
            )
        self._owners[file.lower()] = name
        self.files[name] = file
        return file


def file_names(names: Iterable[str], suffix: str) -> dict[str, str]:
    """name -> file name for each machine; two machines that would share a file are a UsageError."""
    namer = FileNamer(suffix)
    for name in names:
        namer.add(name)
    return namer.files


def write_directory(path: str, files: Sequence[tuple[str, str]]) -> None:
    """Write each (file name, text) into the directory `path`, all of them or none (DirectoryWriter)."""
    with DirectoryWriter(path) as directory:
        for name, text in files:
            directory.add(name, text)
        directory.commit()


# What can be wrong with -o DIR, in the order of the checks: every name before any destination,
# every destination before any write. A problem is held, not raised, until commit(), and one of an
# earlier kind found in a later file takes its place, so the error reported does not depend on
# whether the files came all at once or one at a time.
_PATH, _NAME, _DESTINATION, _NOT_REGULAR, _WRITE = range(5)


class DirectoryWriter:
    """The directory `path`, written a file at a time and put in place whole or not at all: a new
    directory is built beside `path` under a temporary name and renamed into place; into an existing
    one each file is written beside its target and then all are renamed, the renames undone if one
    fails. Files of the directory that are not written are left alone. Leaving the `with` block
    without commit() removes whatever was written."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._opened = False
        self._existing = False
        self._temporary: str | None = None  # the new directory being built
        self._staged: list[Staged] = []  # the files staged beside their targets in an existing directory
        self._problem: tuple[int, UsageError] | None = None

    def __enter__(self) -> DirectoryWriter:
        return self

    def __exit__(self, *_: object) -> None:
        self.discard()

    def add(self, name: str, text: str) -> None:
        """Write the file `name` (in the temporary directory, or staged beside its target); a
        problem is held for commit(), and after one nothing more is written."""
        if not self._opened:
            self._open()
        file = os.path.join(self.path, name)
        self._check(_NAME, check_name_lengths, file)
        destination = self._check(_DESTINATION, output_destination, file) if self._existing else None
        if destination is not None and destination.through:
            self._hold(_NOT_REGULAR, UsageError("is not a regular file; -o DIR writes a regular file per state machine", Location(file)))
        if self._problem is not None:
            return
        data = text.encode("utf-8")
        try:
            if destination is not None:
                self._staged.append(stage(destination, data))
            else:
                with open(os.path.join(self._temporary, name), "xb") as stream:  # 0666 less the umask
                    stream.write(data)
        except UsageError as error:
            self._hold(_WRITE, error)
        except OSError as error:
            self._hold(_WRITE, cannot_write(self.path, error))

    def commit(self) -> None:
        """Put every file in place, or raise the problem held and write nothing."""
        if not self._opened:
            self._open()
        if self._problem is not None:
            self.discard()
            raise self._problem[1]
        if self._existing:
            try:
                commit(self._staged)
            finally:
                self.discard()
            return
        try:
            os.rename(self._temporary, self.path)
        except OSError as error:
            self.discard()
            raise cannot_write(self.path, error) from None
        self._temporary = None

    def discard(self) -> None:
        """Remove what was written and not committed."""
        staged, self._staged = self._staged, []
        discard(staged)
        if self._temporary is not None:
            shutil.rmtree(self._temporary, ignore_errors=True)
            self._temporary = None

    def _open(self) -> None:
        self._opened = True
        self._check(_PATH, check_name_lengths, self.path)
        self._existing = os.path.isdir(self.path)
        if self._existing or self._problem is not None:
            return
        if os.path.lexists(self.path):
            self._hold(_DESTINATION, UsageError(
                "is a file; with several state machines -o takes a directory (a file per machine), or use --merge",
                Location(self.path),
            ))
            return
        parent = os.path.dirname(os.path.normpath(self.path)) or "."
        self._check(_DESTINATION, check_directory, self.path, parent)
        if self._problem is not None:
            return
        prefix = "." + os.path.basename(os.path.normpath(self.path))[:32] + "."
        try:
            self._temporary = tempfile.mkdtemp(prefix=prefix, dir=parent)
            # mkdtemp makes 0700: give the directory the mode mkdir would.
            os.chmod(self._temporary, 0o777 & ~current_umask())
        except OSError as error:
            self._hold(_DESTINATION, cannot_write(self.path, error))

    def _check(self, rank: int, check: Callable[..., Any], *args: Any) -> Any:
        """check(*args), unless a problem at least as early in the order is already held."""
        if self._problem is not None and self._problem[0] <= rank:
            return None
        try:
            return check(*args)
        except UsageError as error:
            self._hold(rank, error)
            return None

    def _hold(self, rank: int, error: UsageError) -> None:
        if self._problem is None or rank < self._problem[0]:
            self._problem = (rank, error)
        self.discard()  # nothing of a run that will fail stays on disk, nor is more written
