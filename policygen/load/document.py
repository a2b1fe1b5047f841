"""A parsed input file: its data, its format, and a way to find where a JSON pointer is in its text."""

from __future__ import annotations

import codecs
import os
import re
import stat
import sys
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from policygen.errors import InputError, Location, UnreadableInput, UsageError

STDIN_NAME = "<stdin>"
# Far above any real definition, template or plan, and low enough that reading /dev/zero or an
# endless FIFO stops long before memory runs out (a read holds about twice the limit at its peak).
DEFAULT_INPUT_SIZE_LIMIT = 100 * 1024 * 1024
_LIMIT: ContextVar[int] = ContextVar("input_size_limit", default=DEFAULT_INPUT_SIZE_LIMIT)
_SIZE = re.compile(r"(?P<number>[0-9]+)\s*(?P<unit>[KMG]?)(?:I?B)?", re.IGNORECASE)
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}

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
    """The text of `path` (or stdin for "-"), decoded as UTF-8 with an optional BOM; at most
    the input size limit (`input_size_limit`) is read, so /dev/zero or an endless FIFO cannot
    fill memory."""
    name = STDIN_NAME if path == "-" else path
    limit = _LIMIT.get()
    try:
        raw = _read_stdin(limit) if path == "-" else _read_file(path, limit)
    except FileNotFoundError:
        raise InputError("no such file", Location(name)) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a file", Location(name)) from None
    except OSError as error:
        raise UnreadableInput(f"cannot read: {error.strerror}", Location(name)) from None
    if len(raw) > limit:
        raise _too_large(name, limit)
    return decode_text(raw, name)


def _too_large(name: str, limit: int) -> InputError:
    return InputError(
        f"larger than the input size limit of {describe_size(limit)}", Location(name), hint="--max-input-size raises it"
    )


def decode_text(raw: bytes, name: str) -> str:
    """UTF-8, with or without a BOM; UTF-16 and UTF-32 (which a JSON or YAML parser would take
    for garbage) are named as such."""
    encoding = _wide_encoding(raw)
    if encoding is not None:
        raise InputError(f"not UTF-8 text: the file is {encoding}; save it as UTF-8", Location(name, 1, 1))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        raise UnreadableInput(
            f"not UTF-8 text (byte 0x{raw[error.start]:02x})", Location(name, line, column)
        ) from None


# Byte order marks, UTF-32 first: its little-endian mark starts with UTF-16's.
_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "UTF-32 (little-endian, with a byte order mark)"),
    (codecs.BOM_UTF32_BE, "UTF-32 (big-endian, with a byte order mark)"),
    (codecs.BOM_UTF16_LE, "UTF-16 (little-endian, with a byte order mark)"),
    (codecs.BOM_UTF16_BE, "UTF-16 (big-endian, with a byte order mark)"),
)


def _wide_encoding(raw: bytes) -> str | None:
    """UTF-16 or UTF-32 from a byte order mark, else from where the NUL bytes of the first
    characters fall (RFC 8259 section 8.1's old rule: JSON and YAML start with ASCII, and neither
    allows a NUL character in UTF-8 text, so the patterns cannot be a UTF-8 file)."""
    for mark, encoding in _BYTE_ORDER_MARKS:
        if raw.startswith(mark):
            return encoding
    head = raw[:4]
    if len(head) == 4:
        if head[:3] == b"\0\0\0" and head[3]:
            return "UTF-32 (big-endian, no byte order mark)"
        if head[0] and head[1:] == b"\0\0\0":
            return "UTF-32 (little-endian, no byte order mark)"
    if len(head) >= 2:
        if head[0] == 0 and head[1]:
            return "UTF-16 (big-endian, no byte order mark)"
        if head[0] and head[1] == 0:
            return "UTF-16 (little-endian, no byte order mark)"
    return None


def _read_file(path: str, limit: int) -> bytes:
    with open(path, "rb") as stream:
        status = os.fstat(stream.fileno())
        if stat.S_ISREG(status.st_mode):
            if status.st_size > limit:
                raise _too_large(path, limit)
            # One read of the size the file says it has (+1 to see the end, or that it grew).
            return _read_at_most(stream, limit, min(status.st_size, limit) + 1)
        return _read_at_most(stream, limit)


def _read_stdin(limit: int) -> bytes:
    return _read_at_most(sys.stdin.buffer, limit)


def _read_at_most(stream: BinaryIO, limit: int, first: int = 1 << 16) -> bytes:
    """Up to limit + 1 bytes: one more than allowed says the input is too large, without reading on."""
    chunks = []
    total = 0
    size = first
    while total <= limit:
        chunk = stream.read(min(size, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        size = 1 << 16
    return b"".join(chunks)


def set_input_size_limit(limit: int) -> None:
    """The most bytes one input file (or stdin) may hold, for reads in this context (the CLI runs
    each command in a context of its own)."""
    _LIMIT.set(limit)


def parse_size(text: str, option: str = "--max-input-size") -> int:
    """A number of bytes: 1048576, or with K, M or G (powers of 1024; KB, KiB, MB... say the same)."""
    match = _SIZE.fullmatch(text.strip())
    if match is None or int(match["number"]) == 0:
        raise UsageError(f"{option} {text!r}: expected a number of bytes above 0, optionally with K, M or G (powers of 1024), e.g. 50M")
    return int(match["number"]) * _UNITS[match["unit"].upper()]


def describe_size(size: int) -> str:
    """1048576 -> "1 MiB"; sizes that are no whole unit in bytes."""
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


# A \\ud800-style escape (JSON \\uXXXX, YAML also \\UXXXXXXXX) that is not half of a pair decodes to
# a lone UTF-16 surrogate: no Unicode character, and nothing can write it (UTF-8 refuses it), so an
# input holding one would end in an internal error at the first output.
_SURROGATE_ESCAPE = re.compile(r"\\(?:u|U0000)[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")
LONE_SURROGATE = "an escaped UTF-16 surrogate (\\uD800-\\uDFFF) that is not half of a pair: no Unicode character"


def lone_surrogate(text: str, data: Any) -> str | None:
    """The JSON pointer of the first key or string in `data` (parsed from `text`) that holds a lone
    surrogate, or None. Costs a regular-expression search of the text unless it has such an escape."""
    if not _SURROGATE_ESCAPE.search(text):
        return None
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        pointer, value = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return pointer
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                child = f"{pointer}/{escape_pointer_token(key)}" if isinstance(key, (str, int)) else pointer
                if isinstance(key, str) and _SURROGATE.search(key):
                    return child
                stack.append((child, item))
        elif isinstance(value, list):
            stack.extend((f"{pointer}/{index}", item) for index, item in reversed(list(enumerate(value))))
    return None


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
