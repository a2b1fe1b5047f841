"""IAM JSON text: what json.dumps(value, indent=2, ensure_ascii=False) writes, byte for byte, faster.

With an indent the standard library encodes in pure Python, a generator per level yielding every
separator on its own; a policy of a few hundred statements spent most of its rendering time there.
This builds the same text from a list of parts, each string encoded by the standard library's C
encoder. Anything besides str keys and str/int/bool/None/list/tuple/dict values (a float, a str
subclass) goes through json.dumps itself, so the text never differs.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring  # the C encoder where the interpreter has it
from typing import Any

_INDENT = "  "
_ATOMS = {True: "true", False: "false", None: "null"}


class _Unusual(Exception):
    """A value outside the plain JSON types: left to json.dumps."""


def dumps_indented(value: Any) -> str:
    """json.dumps(value, indent=2, ensure_ascii=False)."""
    parts: list[str] = []
    try:
        _encode(value, parts, "\n")
    except _Unusual:
        return json.dumps(value, indent=2, ensure_ascii=False)
    return "".join(parts)


def size_without_whitespace(text: str) -> int:
    """The characters of dumps_indented's text that are not whitespace: what IAM counts of a policy.
    Outside strings that text has only newlines and spaces; inside, a newline is escaped."""
    return len(text) - text.count(" ") - text.count("\n")


def _encode(value: Any, parts: list[str], newline: str) -> None:
    kind = type(value)
    if kind is str:
        parts.append(encode_basestring(value))
    elif kind is dict:
        if not value:
            parts.append("{}")
            return
        inner = newline + _INDENT
        opening = "{" + inner
        separator = "," + inner
        for key, item in value.items():
            if type(key) is not str:
                raise _Unusual
            parts.append(opening + encode_basestring(key) + ": ")
            opening = separator
            _encode(item, parts, inner)
        parts.append(newline + "}")
    elif kind is list or kind is tuple:
        if not value:
            parts.append("[]")
            return
        inner = newline + _INDENT
        opening = "[" + inner
        separator = "," + inner
        for item in value:
            parts.append(opening)
            opening = separator
            _encode(item, parts, inner)
        parts.append(newline + "]")
    elif kind is bool or value is None:
        parts.append(_ATOMS[value])
    elif kind is int:
        parts.append(int.__repr__(value))
    else:
        raise _Unusual
