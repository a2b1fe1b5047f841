"""The error types policygen raises, each carrying where in the input the problem is."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Characters that would end a line (LF, CR, NEL, U+2028/9) or hide text (controls, bidi and other
# format characters, surrogates, private-use and unassigned code points) where input text is shown.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


# The exit codes of bad input (a PolicygenError) and of a bug in policygen (any other exception).
EXIT_INPUT_ERROR = 2
EXIT_INTERNAL_ERROR = 3


def one_line(text: str) -> str:
    """`text` from an input file (a name, a path, a pointer) as one line: every character that
    could end the line or hide what follows written as a \\uXXXX escape. An error or a comment
    must not become another line of a log (a CI workflow command) or of generated code."""
    if text.isascii() and text.isprintable():
        return text  # nearly every name
    return "".join(_escaped(c) if unicodedata.category(c) in _UNSAFE_CATEGORIES else c for c in text)


def _escaped(character: str) -> str:
    code = ord(character)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


@dataclass(frozen=True)
class Location:
    """Where something is: a file, and a line/column or a JSON pointer when known."""

    file: str
    line: int | None = None
    column: int | None = None
    pointer: str | None = None

    def __str__(self) -> str:
        text = self.file
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        if self.pointer is not None:
            text += f" (at {self.pointer or '/'})"
        return text


class PolicygenError(Exception):
    """An error in the user's input or arguments: rendered as one line, exit code 2."""

    def __init__(self, message: str, location: Location | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        if self.hint:
            text += f" ({self.hint})"
        return one_line(text)


class InputError(PolicygenError):
    """A file that cannot be read or parsed, or a definition that is not what it should be."""


class UnreadableInput(InputError):
    """A file that cannot be read at all (permissions, binary bytes) or that is no input policygen
    knows: with several inputs it is skipped with a warning, alone it is an error."""


class UsageError(PolicygenError):
    """Arguments that do not fit together, or a value the policy needs that was not given."""


@dataclass(frozen=True)
class Notice:
    """Something the user should know (a warning); the output is still correct and complete."""

    message: str
    location: Location | None = None

    def __str__(self) -> str:
        return one_line(f"{self.location}: {self.message}" if self.location else self.message)
