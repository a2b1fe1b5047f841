"""One output file per state machine: safe file names from machine names, written into a directory
all together or not at all."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence

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


def file_names(names: Iterable[str], suffix: str) -> dict[str, str]:
    """name -> file name for each machine; two machines that would share a file are a UsageError."""
    files: dict[str, str] = {}
    owners: dict[str, str] = {}
    for name in names:
        if name in files:
            raise UsageError(
                f"two state machines are named {name!r} (in different files?): -o DIR would write both to "
                f"{files[name]}; pick one with --state-machine or use --merge"
            )
        file = safe_file_name(name, suffix)
        if file.lower() in owners:
            raise UsageError(
                f"state machines {owners[file.lower()]!r} and {name!r} would both be written to {file}; "
                "pick with --state-machine or use --merge"
            )
        owners[file.lower()] = name
        files[name] = file
    return files


def write_directory(path: str, files: Sequence[tuple[str, str]]) -> None:
    """Write each (file name, text) into the directory `path`, all of them or none: every name is
    checked first; a new directory is built beside `path` under a temporary name and renamed into
    place; into an existing one each file is written beside its target and then all are renamed,
    the renames undone if one fails. Files of the directory that are not written are left alone."""
    check_name_lengths(path)
    for name, _ in files:
        check_name_lengths(os.path.join(path, name))
    if os.path.isdir(path):
        _write_into_existing(path, files)
        return
    if os.path.lexists(path):
        raise UsageError(
            "is a file; with several state machines -o takes a directory (a file per machine), or use --merge",
            Location(path),
        )
    _write_new_directory(path, files)


def _write_into_existing(path: str, files: Sequence[tuple[str, str]]) -> None:
    destinations = [output_destination(os.path.join(path, name)) for name, _ in files]
    for destination in destinations:
        if destination.through:
            raise UsageError("is not a regular file; -o DIR writes a regular file per state machine", Location(destination.path))
    staged: list[Staged] = []
    try:
        for destination, (_, text) in zip(destinations, files, strict=False):
            staged.append(stage(destination, text.encode("utf-8")))
        commit(staged)
    finally:
        discard(staged)


def _write_new_directory(path: str, files: Sequence[tuple[str, str]]) -> None:
    parent = os.path.dirname(os.path.normpath(path)) or "."
    check_directory(path, parent)
    prefix = "." + os.path.basename(os.path.normpath(path))[:32] + "."
    try:
        temporary = tempfile.mkdtemp(prefix=prefix, dir=parent)
    except OSError as error:
        raise cannot_write(path, error) from None
    try:
        # mkdtemp makes 0700: give the directory the mode mkdir would.
        os.chmod(temporary, 0o777 & ~current_umask())
        for name, text in files:
            with open(os.path.join(temporary, name), "xb") as stream:  # 0666 less the umask
                stream.write(text.encode("utf-8"))
        os.rename(temporary, path)
    except BaseException as error:
        shutil.rmtree(temporary, ignore_errors=True)
        if isinstance(error, OSError):
            raise cannot_write(path, error) from None
        raise
