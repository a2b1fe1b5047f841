"""dumps_indented is json.dumps(value, indent=2, ensure_ascii=False), byte for byte."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from policygen.iam.json_text import dumps_indented, size_without_whitespace

# Every kind of character: line breaks and other whitespace, quotes, backslashes, control
# characters, non-ASCII and astral ones.
text = st.text(st.characters(codec="utf-8") | st.sampled_from(["\n", "\r", "\t", " ", "\u2028", "\u00a0", '"', "\\", "\x00", "é", "😀"]))
plain = st.recursive(
    st.none() | st.booleans() | st.integers() | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=30,
)
# What is left to json.dumps: floats (NaN and infinities too), tuples, keys that are not strings.
unusual = st.recursive(
    plain | st.floats(),
    lambda children: st.lists(children, max_size=3).map(tuple)
    | st.dictionaries(st.integers() | st.booleans() | st.none() | text, children, max_size=3),
    max_leaves=15,
)


@given(plain)
def test_plain_json_is_written_as_json_dumps_writes_it(value):
    assert dumps_indented(value) == json.dumps(value, indent=2, ensure_ascii=False)


@given(unusual)
def test_anything_else_is_written_as_json_dumps_writes_it(value):
    assert dumps_indented(value) == json.dumps(value, indent=2, ensure_ascii=False)


@given(plain)
def test_the_size_without_whitespace_is_that_of_compact_json(value):
    """Compact JSON has no whitespace outside strings, and escapes line breaks inside them."""
    compact = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    assert size_without_whitespace(dumps_indented(value)) == len(compact) - compact.count(" ")


def test_a_str_subclass_is_written_as_json_dumps_writes_it():
    class Name(str):
        pass

    value = {"Sid": Name("A"), Name("key"): [Name("b")]}
    assert dumps_indented(value) == json.dumps(value, indent=2, ensure_ascii=False)
