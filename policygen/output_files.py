"""One output file per state machine: safe file names from machine names, written into a directory."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from policygen.errors import Location, UsageError

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


def output_directory(path: str) -> Path:
    """The directory -o names for one file per state machine, created when it does not exist yet
    (its parent must)."""
    directory = Path(path)
    if directory.exists() and not directory.is_dir():
        raise UsageError(
            "is a file; with several state machines -o takes a directory (a file per machine), or use --merge",
            Location(path),
        )
    if not directory.exists():
        if not directory.parent.is_dir():
            raise UsageError("the directory to write into does not exist", Location(path))
        directory.mkdir()
    return directory
