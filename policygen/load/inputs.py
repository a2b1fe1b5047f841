"""The inputs of one command, each read to its state machines, and which of them may be skipped.

With several inputs, a file that cannot be read (permissions, binary bytes) or that is no input
policygen knows (detection finds no definition, template, plan or serverless.yml in it, e.g. a
GitHub workflow beside the templates) is skipped with a warning naming it, and the others are
still read, as cfn-lint does. A file that is recognisably ours but broken (a template with invalid
YAML, a definition without StartAt, a template whose state machine cannot be read) stays an error:
a security check must not pass a template it could not read. A missing file stays an error too:
a misspelt path would otherwise check nothing and pass."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from policygen.errors import InputError, Notice, UnreadableInput
from policygen.load import parse_document
from policygen.load.asl import StateMachine
from policygen.load.document import STDIN_NAME, read_text
from policygen.load.sources import state_machines_from

# Text that only definitions, templates, plans and serverless.yml hold as keys: a file that does
# not parse but has one of these is a broken input of ours, not an unrelated file.
_OURS = re.compile(
    r"AWSTemplateFormatVersion|AWS::|[\"']?(?:StartAt|States|Resources|resource_changes|planned_values|stepFunctions)[\"']?\s*:"
)


@dataclass(frozen=True)
class InputResult:
    machines: tuple[StateMachine, ...]
    warnings: tuple[Notice, ...]
    skipped: tuple[Notice, ...]  # the files left out, each named (its location) with the reason


def read_inputs(paths: Sequence[str], input_type: str | None) -> InputResult:
    """The state machines of every input; with several, the unreadable or unrelated ones skipped.
    One input, or every input skipped, is an InputError (exit 2)."""
    machines: list[StateMachine] = []
    warnings: list[Notice] = []
    skipped: list[Notice] = []
    for path in paths:
        try:
            found, notices = read_input(path, input_type)
        except UnreadableInput as error:
            if len(paths) == 1:
                raise
            skipped.append(Notice(error.message + (f" ({error.hint})" if error.hint else ""), error.location))
            continue
        machines.extend(found)
        warnings.extend(notices)
    if skipped and len(skipped) == len(paths):
        raise InputError(
            f"none of the {len(paths)} inputs is a definition, template or plan policygen can read: "
            + "; ".join(str(notice) for notice in skipped)
        )
    return InputResult(tuple(machines), tuple(warnings), tuple(skipped))


def read_input(path: str, input_type: str | None) -> tuple[list[StateMachine], list[Notice]]:
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
