"""A parsed input file: its data, its format, and a way to find where a JSON pointer is in its text."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from policygen.errors import InputError, Location

STDIN_NAME = "<stdin>"

# (line, column), 1-based, of the value a JSON pointer names; None when it cannot be found.
Locator = Callable[[str], "tuple[int, int] | None"]


@dataclass(frozen=True)
class Document:
    """One input file, parsed."""

    name: str
    format: str  # "json" or "yaml"
    data: Any
    locator: Locator = field(repr=False, compare=False)

    def location(self, pointer: str) -> Location:
        """The file with the line/column of `pointer` where it can be found, and the pointer itself."""
        position = self.locator(pointer)
        if position is None:
            return Location(self.name, pointer=pointer)
        line, column = position
        return Location(self.name, line=line, column=column, pointer=pointer)


def read_text(path: str) -> str:
    """The text of `path` (or stdin for "-"), decoded as UTF-8 with an optional BOM."""
    name = STDIN_NAME if path == "-" else path
    try:
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", Location(name)) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a file", Location(name)) from None
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror}", Location(name)) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        raise InputError(
            f"not UTF-8 text (byte 0x{raw[error.start]:02x})", Location(name, line, column)
        ) from None


def escape_pointer_token(token: str | int) -> str:
    """One JSON pointer reference token (RFC 6901)."""
    token = str(token)
    if "~" not in token and "/" not in token:
        return token  # nearly every state name: skip two string copies
    return token.replace("~", "~0").replace("/", "~1")


def split_pointer(pointer: str) -> list[str]:
    """The reference tokens of a JSON pointer, unescaped."""
    if not pointer:
        return []
    return [token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/")]
