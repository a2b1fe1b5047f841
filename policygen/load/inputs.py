"""The inputs of one command, each read to its state machines, and which of them may be skipped.

With several inputs, a file that cannot be read (permissions, binary bytes) or that is no input
policygen knows (detection finds no definition, template, plan or serverless.yml in it, e.g. a
GitHub workflow beside the templates) is skipped with a warning naming it, and the others are
still read, as cfn-lint does. A file that is recognisably ours but broken (a template with invalid
YAML, a definition without StartAt, a template whose state machine cannot be read) stays an error:
a security check must not pass a template it could not read. A missing file stays an error too:
a misspelt path would otherwise check nothing and pass.

A directory stands for the inputs in it, in sorted order: in an AWS CDK cloud assembly (`cdk.out`,
known by its `cdk.out` marker file or a `manifest.json` with `artifacts`) every `*.template.json`, nested stacks
(`*.nested.template.json`) and stages (`assembly-*/`) included, asset directories (`asset.*`)
and the assembly's own files left out; in any other directory, recursively, every `.json`,
`.yaml`, `.yml` and `.template` file, hidden files and directories and `node_modules` left out
(README.md, scripts and the like are plainly not ours and skipped without a word)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from policygen.errors import InputError, Location, Notice, UnreadableInput
from policygen.load import parse_document
from policygen.load.asl import StateMachine
from policygen.load.document import STDIN_NAME, read_text
from policygen.load.sources import state_machines_from

# Text that only definitions, templates, plans and serverless.yml hold as keys: a file that does
# not parse but has one of these is a broken input of ours, not an unrelated file.
_OURS = re.compile(
    r"AWSTemplateFormatVersion|AWS::|[\"']?(?:StartAt|States|Resources|resource_changes|planned_values|stepFunctions)[\"']?\s*:"
)

_TEMPLATE_SUFFIX = ".template.json"
_SUFFIXES = (".json", ".yaml", ".yml", ".template")


@dataclass(frozen=True)
class InputResult:
    machines: tuple[StateMachine, ...]
    warnings: tuple[Notice, ...]
    skipped: tuple[Notice, ...]  # the files left out, each named (its location) with the reason


def read_inputs(
    paths: Sequence[str], input_type: str | None, progress: Callable[[int, int], None] | None = None
) -> InputResult:
    """The state machines of every input; with several, the unreadable or unrelated ones skipped.
    One input, or every input skipped, is an InputError (exit 2). `progress(done, total)` is called
    as each file is read or skipped."""
    machines: list[StateMachine] = []
    warnings: list[Notice] = []
    skipped: list[Notice] = []
    for found, notices in each_input(paths, input_type, skipped, progress):
        machines.extend(found)
        warnings.extend(notices)  # complete once `found` is taken
    return InputResult(tuple(machines), tuple(warnings), tuple(skipped))


def each_input(
    paths: Sequence[str], input_type: str | None, skipped: list[Notice], progress: Callable[[int, int], None] | None = None
) -> Iterator[tuple[Iterable[StateMachine], list[Notice]]]:
    """read_inputs one file at a time, for a caller that drops each file's machines before the next
    is read: (machines, warnings) per input in order, each input skipped added to `skipped` instead.
    The warnings are complete once the machines are taken (a plan's are made as they are taken).
    `progress(done, total)` is called once the caller is done with each file, or it was skipped."""
    files = expand_paths(paths)
    for done, path in enumerate(files, 1):
        try:
            found = read_input(path, input_type)
        except UnreadableInput as error:
            if len(files) == 1:
                raise
            skipped.append(Notice(error.message + (f" ({error.hint})" if error.hint else ""), error.location))
        else:
            yield found
            del found  # not held (a whole parsed file) while the next one is read
        if progress is not None:
            progress(done, len(files))
    if skipped and len(skipped) == len(files):
        raise InputError(
            f"none of the {len(files)} inputs is a definition, template or plan policygen can read: "
            + "; ".join(str(notice) for notice in skipped)
        )


def read_input(path: str, input_type: str | None) -> tuple[Iterable[StateMachine], list[Notice]]:
    """The state machines of one file; UnreadableInput when it cannot be read or is no input of ours."""
    text = read_text(path)
    try:
        document = parse_document(text, STDIN_NAME if path == "-" else path)
    except UnreadableInput:
        raise
    except InputError as error:
        if input_type is not None or _OURS.search(text):
            raise
        raise UnreadableInput(f"neither JSON nor YAML ({error.message})", error.location) from None
    return state_machines_from(document, input_type)


def expand_paths(paths: Sequence[str]) -> list[str]:
    """The files the inputs name: a file as given, a directory as the inputs in it, sorted (an
    InputError when it has none)."""
    files: list[str] = []
    for path in paths:
        if path == "-" or not os.path.isdir(path):
            files.append(path)
            continue
        found = sorted(_files_in(path), key=lambda name: os.path.relpath(name, path).split(os.sep))
        if not found:
            raise InputError(
                "no *.template.json (a CDK cloud assembly) or .json, .yaml, .yml or .template file in this directory",
                Location(path),
            )
        files.extend(found)
    return files


def _files_in(directory: str) -> Iterator[str]:
    for root, directories, names in os.walk(directory):
        assembly = _is_cloud_assembly(root, names)
        directories[:] = [
            name for name in directories
            if not name.startswith(".") and name != "node_modules" and not (assembly and name.startswith("asset."))
        ]
        for name in names:
            if assembly:
                wanted = name.endswith(_TEMPLATE_SUFFIX)
            else:
                wanted = not name.startswith(".") and name.lower().endswith(_SUFFIXES)
            if wanted:
                yield os.path.join(root, name)


def _is_cloud_assembly(directory: str, names: list[str]) -> bool:
    """A CDK cloud assembly: `cdk synth` writes its `cdk.out` version file and its `manifest.json`
    (the artifacts to deploy). Another directory's manifest.json (a web app's) does not count, so
    its templates are not left out for not being named *.template.json."""
    if "cdk.out" in names:
        return True
    if "manifest.json" not in names:
        return False
    try:
        with open(os.path.join(directory, "manifest.json"), "rb") as stream:
            manifest = json.loads(stream.read(1 << 20))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and isinstance(manifest.get("artifacts"), dict)
