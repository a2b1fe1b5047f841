"""JSON text -> data: a fast parse with duplicate-key detection, and a slower one that knows positions.

A text of 16 KiB or more without escapes is parsed by msgspec, and kept when a count proves no
key was repeated; anything else (a small text, a text with escapes or that msgspec refuses, one
that may repeat a key) goes the exact way: `json.loads` with a pairs hook that refuses
duplicates, whose errors carry line and column. Either way the data are what `json.loads`
returns. Positions are only needed when something is reported, so they are found then, on the
same text: a pointer's place by following that pointer only (_Positions), the first repeated key
by a walk of the whole text (_PositionIndex).
"""

from __future__ import annotations

import bisect
import json
import re
from functools import cached_property
from json.decoder import scanstring
from typing import Any

from policygen.errors import InputError, Location
from policygen.load.document import (
    LONE_SURROGATE,
    Document,
    escape_pointer_token,
    lone_surrogate,
    split_pointer,
)

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_SCALAR = json.JSONDecoder()
# msgspec's parse and the count that replaces the pairs hook take about half the time of the
# exact path, but importing msgspec costs 2-5 ms, which the fast path pays back once the texts it
# parses add up to about a megabyte. A run over one ordinary definition (a few KiB) never imports
# it; a directory of hundreds of definitions, a large definition or a plan does.
FAST_PATH_MIN_CHARS = 16 * 1024
UNDECIDED = object()


class _DuplicateKey(Exception):
    def __init__(self, key: str):
        self.key = key


class _FirstDuplicate(Exception):
    """Where the first repeated key of a valid JSON text stands: its pointer, line and column."""

    def __init__(self, pointer: str, line: int, column: int):
        self.pointer = pointer
        self.line = line
        self.column = column


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


class LoneSurrogateError(ValueError):
    """A JSON text escapes half of a UTF-16 surrogate pair alone; `pointer` is the string holding it."""

    def __init__(self, pointer: str):
        super().__init__(LONE_SURROGATE)
        self.pointer = pointer


class DuplicateKeyError(ValueError):
    """A JSON text names one key twice in an object; `pointer` is the second one, in that text."""

    def __init__(self, key: str, pointer: str):
        super().__init__(f"duplicate key {key!r}")
        self.key = key
        self.pointer = pointer


def decode_fast(text: str) -> Any:
    """msgspec's parse of `text` when it is certainly what the exact path would return, else
    UNDECIDED: the text holds a backslash, msgspec refused it (NaN, Infinity, a number beyond a
    double or beyond 4300 digits, deep nesting, any syntax error: the exact path has the message),
    or a key may be repeated. msgspec, unlike orjson, keeps integers beyond 64 bits exact."""
    # Without a backslash there is no escape, so every string reads as it is written (the count
    # below relies on it) and no lone surrogate can be written. Texts with many escapes, like a
    # Terraform plan whose definitions are escaped strings, parse faster the exact way anyway.
    if "\\" in text:
        return UNDECIDED
    import msgspec  # imported only for large texts: see FAST_PATH_MIN_CHARS

    try:
        data = msgspec.json.decode(text)
        encoded = msgspec.json.encode(data)
    except Exception:  # whatever msgspec refuses, json.loads decides, with its own message
        return UNDECIDED
    return data if _kept_every_member(text, encoded) else UNDECIDED


def _kept_every_member(text: str, encoded: bytes) -> bool:
    """Whether the data parsed from `text` (a text without escapes), re-encoded as `encoded`, hold
    every member `text` writes, that is, no key was repeated.

    A member writes one ':' outside strings. `encoded` (compact, colons in strings raw) holds one
    colon per member of the data plus the colons of their strings; `text` holds one per member it
    writes plus the colons of all its strings. A repeated key drops a member, and the strings
    under it, from the data, so the counts differ by at least one."""
    return encoded.count(b":") == text.count(":")


def _parse_fast(text: str) -> Any:
    return decode_fast(text) if len(text) >= FAST_PATH_MIN_CHARS else UNDECIDED


def loads_unique(text: str) -> Any:
    """json.loads for JSON held inside another document (a DefinitionString, a plan's definition):
    a duplicate key (two states with one name) is a DuplicateKeyError, never a silent overwrite; a
    lone surrogate is a LoneSurrogateError."""
    data = _parse_fast(text)
    if data is not UNDECIDED:
        return data  # a text without a backslash writes no escape, so no lone surrogate
    try:
        data = _loads_exact(text)
    except _FirstDuplicate as duplicate:
        raise DuplicateKeyError(split_pointer(duplicate.pointer)[-1], duplicate.pointer) from None
    pointer = lone_surrogate(text, data)
    if pointer is not None:
        raise LoneSurrogateError(pointer)
    return data


def parse_json(text: str, name: str) -> Document:
    """Parse JSON text; duplicate keys and syntax errors are InputErrors with line and column."""
    data = _parse_fast(text)
    decided_fast = data is not UNDECIDED  # then the text has no backslash: no escape, no lone surrogate
    if not decided_fast:
        data = _parse_exact(text, name)
    document = Document(name=name, format="json", data=data, locator=_Positions(text).locate)
    surrogate = None if decided_fast else lone_surrogate(text, data)
    if surrogate is not None:
        raise InputError(LONE_SURROGATE, document.location(surrogate))
    return document


def _loads_exact(text: str) -> Any:
    """json.loads refusing repeated keys: JSONDecodeError, RecursionError, or _FirstDuplicate."""
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicates)
    except _DuplicateKey:
        pass
    # The hook runs as each object closes, before the parser reaches a syntax error further on
    # (`[{"a": 1, "a": 2}` lacks its `]`), and the position index reads only valid JSON: the
    # syntax error, if any, is the one to report.
    json.loads(text)
    index = _PositionIndex(text)
    pointer, offset = index.first_duplicate
    raise _FirstDuplicate(pointer, *index.line_column(offset))


def _parse_exact(text: str, name: str) -> Any:
    """json.loads with the duplicate check; its errors become InputErrors with line and column."""
    try:
        return _loads_exact(text)
    except json.JSONDecodeError as error:
        raise InputError(f"invalid JSON: {error.msg}", Location(name, error.lineno, error.colno)) from None
    except _FirstDuplicate as duplicate:
        # json.loads finishes inner objects first, so its duplicate may not be the first in the
        # text: name the key at the reported position.
        key = split_pointer(duplicate.pointer)[-1]
        raise InputError(
            f"duplicate key {key!r}: the second one would silently replace the first",
            Location(name, duplicate.line, duplicate.column, duplicate.pointer),
        ) from None
    except RecursionError:
        raise InputError("JSON nested too deeply", Location(name)) from None


class _Lines:
    """Line and column (both from 1) of an offset in a text."""

    def __init__(self, text: str):
        self.text = text

    @cached_property
    def _line_starts(self) -> list[int]:
        return [0] + [match.end() for match in re.finditer("\n", self.text)]

    def line_column(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1


class _Positions(_Lines):
    """Where the value a JSON pointer names stands in a valid JSON text (for a member, its key),
    found by following the pointer only. Each object or array on the way is read once, when a
    pointer first goes through it: its members' offsets are kept, and the values beside the path
    are skipped by the C decoder. Reporting a few findings in a large definition then costs about
    one json.loads of it, not a walk of every value in Python (_PositionIndex)."""

    def __init__(self, text: str):
        super().__init__(text)
        self.root = _WHITESPACE.match(text, 0).end()
        # a container's offset -> its members: token -> (offset reported, offset of the value)
        self.containers: dict[int, dict[str, tuple[int, int]]] = {}

    def locate(self, pointer: str) -> tuple[int, int] | None:
        reported = position = self.root
        for token in split_pointer(pointer):
            members = self.containers.get(position)
            if members is None:
                members = self.containers[position] = self._members(position)
            member = members.get(token)
            if member is None:
                return None
            reported, position = member
        return self.line_column(reported)

    def _members(self, position: int) -> dict[str, tuple[int, int]]:
        text = self.text
        members: dict[str, tuple[int, int]] = {}
        opening = text[position]
        if opening not in "{[":
            return members  # a scalar has no members
        closing = "}" if opening == "{" else "]"
        position = _WHITESPACE.match(text, position + 1).end()
        index = 0
        while text[position] != closing:
            if opening == "{":
                key_start = position
                key, position = scanstring(text, position + 1)
                position = _WHITESPACE.match(text, position).end() + 1  # the ':'
                position = _WHITESPACE.match(text, position).end()
                members.setdefault(key, (key_start, position))  # the first of repeated keys, as _PositionIndex
            else:
                members[str(index)] = (position, position)
                index += 1
            position = _SCALAR.raw_decode(text, position)[1]
            position = _WHITESPACE.match(text, position).end()
            if text[position] == ",":
                position = _WHITESPACE.match(text, position + 1).end()
        return members


class _PositionIndex(_Lines):
    """Offsets of every value (and of the key that names it) in a valid JSON text, by JSON pointer,
    and its repeated keys: what a duplicate-key error reports."""

    def __init__(self, text: str):
        super().__init__(text)
        self.offsets: dict[str, int] = {}
        self.duplicates: list[tuple[str, int]] = []
        self._value(_WHITESPACE.match(text, 0).end(), "")

    @property
    def first_duplicate(self) -> tuple[str, int]:
        return min(self.duplicates, key=lambda item: item[1])

    def _value(self, position: int, pointer: str) -> int:
        text = self.text
        self.offsets.setdefault(pointer, position)
        char = text[position]
        if char == "{":
            return self._object(position + 1, pointer)
        if char == "[":
            return self._array(position + 1, pointer)
        if char == '"':
            return scanstring(text, position + 1)[1]
        return _SCALAR.raw_decode(text, position)[1]

    def _object(self, position: int, pointer: str) -> int:
        text = self.text
        keys: set[str] = set()
        position = _WHITESPACE.match(text, position).end()
        if text[position] == "}":
            return position + 1
        while True:
            key_start = position
            key, position = scanstring(text, position + 1)
            child = f"{pointer}/{escape_pointer_token(key)}"
            if key in keys:
                self.duplicates.append((child, key_start))
            keys.add(key)
            # The key's position stands for the member: that is where a reader looks.
            self.offsets.setdefault(child, key_start)
            position = _WHITESPACE.match(text, position).end() + 1  # the ':'
            position = _WHITESPACE.match(text, position).end()
            position = self._value(position, child)
            position = _WHITESPACE.match(text, position).end()
            if text[position] == "}":
                return position + 1
            position = _WHITESPACE.match(text, position + 1).end()  # after ','

    def _array(self, position: int, pointer: str) -> int:
        text = self.text
        position = _WHITESPACE.match(text, position).end()
        if text[position] == "]":
            return position + 1
        index = 0
        while True:
            position = self._value(position, f"{pointer}/{index}")
            index += 1
            position = _WHITESPACE.match(text, position).end()
            if text[position] == "]":
                return position + 1
            position = _WHITESPACE.match(text, position + 1).end()
