"""The fast JSON path (msgspec and a colon count instead of the duplicate-key hook) against the exact
one (json.loads with the hook): it may hand a text over, never decide it differently."""

from __future__ import annotations

import json
import math
from contextlib import contextmanager
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policygen.errors import InputError
from policygen.load import json_source
from policygen.load.json_source import UNDECIDED, DuplicateKeyError, decode_fast, loads_unique, parse_json

WHITESPACE = st.sampled_from(["", " ", "\n  ", "\t", "\r\n"])
# Colons (raw, escaped, and text that only looks like an escape), quotes, backslashes, non-ASCII,
# characters beyond the BMP (written as surrogate pairs when escaped) and lone surrogates.
PIECES = st.sampled_from(["a", "b", ":", '"', "\\", "/", "\n", "é", "\U0001f600", "\ud800", "\udc00", "\\u003a", "u003A"])
KEYS = st.sampled_from(["a", "b", "a:b", ":", "Type", "é"])
SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}
NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.from_regex(r"-?(0|[1-9][0-9]{0,22})(\.[0-9]{1,18})?([eE][+-]?[0-9]{1,3})?", fullmatch=True),
    st.floats(allow_nan=False, allow_infinity=False).map(json.dumps),
    st.sampled_from(["-0", "-0.0", "0e0", "1e400", "-1e400", "NaN", "Infinity", "-Infinity", "18446744073709551616"]),
)


def _forms(char: str) -> list[str]:
    """Every way JSON may write `char` inside a string."""
    code = ord(char)
    forms = [] if char in '"\\' or code < 0x20 or 0xD800 <= code <= 0xDFFF else [char]
    if char in SHORT_ESCAPES:
        forms.append(SHORT_ESCAPES[char])
    if code > 0xFFFF:
        high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
        forms.append(f"\\u{high:04x}\\u{low:04X}")
    else:
        forms.extend((f"\\u{code:04x}", f"\\u{code:04X}"))
    return forms


@st.composite
def json_strings(draw, keys: bool = False, escapes: bool = True) -> str:
    """A JSON string as text; without `escapes`, only of characters written as they are."""
    value = draw(KEYS) if keys else "".join(draw(st.lists(PIECES, max_size=4)))
    if not escapes:
        return '"' + "".join(char for char in value if _forms(char)[0] == char) + '"'
    return '"' + "".join(draw(st.sampled_from(_forms(char))) for char in value) + '"'


@st.composite
def json_values(draw, depth: int = 0, escapes: bool = True) -> str:
    """A JSON value as text; objects draw keys from a small set, so that members repeating a key
    are frequent, and so are objects that repeat none."""
    kind = draw(st.sampled_from(["scalar", "object", "array"])) if depth < 3 else "scalar"
    if kind == "scalar":
        return draw(st.one_of(json_strings(escapes=escapes), NUMBERS, st.sampled_from(["true", "false", "null"])))
    space = draw(WHITESPACE)
    count = draw(st.integers(0, 4))
    if kind == "array":
        return "[" + f",{space}".join(draw(json_values(depth + 1, escapes)) for _ in range(count)) + "]"
    keys = [draw(json_strings(keys=True, escapes=escapes)) for _ in range(count)]
    if draw(st.booleans()):
        keys = list(dict.fromkeys(keys))
    return "{" + ",".join(f"{key}{space}:{space}{draw(json_values(depth + 1, escapes))}" for key in keys) + "}"


@st.composite
def json_texts(draw) -> str:
    """JSON texts that repeat keys or not, with every number form and whitespace, and half of them
    with every escape (the others go the fast way when no key repeats)."""
    return draw(WHITESPACE) + draw(json_values(escapes=draw(st.booleans()))) + draw(WHITESPACE)


@st.composite
def damaged(draw) -> str:
    """A text with one character removed or one inserted: mostly invalid JSON."""
    text = draw(json_texts())
    position = draw(st.integers(0, len(text)))
    if draw(st.booleans()) and text:
        return text[: max(position - 1, 0)] + text[position:]
    return text[:position] + draw(st.sampled_from(list(',:{}[]"\\ 0e-'))) + text[position:]


def same(left, right) -> bool:
    """Equal, and of the same types throughout (1 is not 1.0, -0.0 is not 0.0), keys in the same order."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(same(left[key], right[key]) for key in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(same, left, right))
    if isinstance(left, float):
        return repr(left) == repr(right)
    return left == right


def exact(text: str):
    return json.loads(text, object_pairs_hook=json_source._reject_duplicates)


@contextmanager
def fast_path_from(chars: int):
    with mock.patch.object(json_source, "FAST_PATH_MIN_CHARS", chars):
        yield


def outcome(parse, text: str):
    """What a parse makes of `text`: its data, or the error it raises (type, text, location)."""
    try:
        result = parse(text)
    except (InputError, DuplicateKeyError, ValueError, RecursionError) as error:
        return ("error", type(error).__name__, str(error), getattr(error, "location", None), getattr(error, "pointer", None))
    return ("data", getattr(result, "data", result))


def same_outcome(left, right) -> bool:
    return left[0] == right[0] and (same(left[1], right[1]) if left[0] == "data" else left == right)


@settings(max_examples=400)
@given(json_texts())
def test_the_fast_path_decides_only_what_the_exact_path_decides_the_same(text):
    decided = decode_fast(text)
    if decided is not UNDECIDED:
        assert same(decided, exact(text))  # the exact path parses it (raises on a duplicate key) to the same data


@settings(max_examples=300)
@given(st.one_of(json_texts(), damaged()))
def test_parse_json_and_loads_unique_do_not_depend_on_the_path(text):
    for parse in (lambda t: parse_json(t, "in.json"), loads_unique):
        with fast_path_from(0):
            fast = outcome(parse, text)
        with fast_path_from(math.inf):
            slow = outcome(parse, text)
        assert same_outcome(fast, slow), (fast, slow)


DUPLICATES = [
    '{"a": 1, "a": 2}',
    '{"x": {"a": 1, "b": 2, "a": 3}}',
    '[{"a": {"b": "c"}}, {"k": 1, "k": {"l": ":"}}]',
    '{"a": "x:y", "b": {"c": ":"}, "a": 1}',
    # Escapes send a text the exact way: a colon written \u003a would hide a dropped member's colon.
    '{"a": 1, "a": 2, "b": "\\u003a"}',
    '{"a": 1, "\\u0061": 2}',
]


@pytest.mark.parametrize("text", DUPLICATES)
def test_a_repeated_key_is_never_decided_fast(text):
    assert decode_fast(text) is UNDECIDED
    with fast_path_from(0):
        with pytest.raises(InputError, match="duplicate key"):
            parse_json(text, "dup.json")


@pytest.mark.parametrize(
    "text",
    [
        '{"n": 18446744073709551616, "m": -9223372036854775809, "big": 123456789012345678901234567890}',
        '{"z": -0, "f": -0.0, "e": 1E+2, "tiny": 2.5e-324, "huge": 1e400}',
        '{"nan": NaN, "inf": -Infinity}',
        '{"colon": "\\\\u003a", "escaped": "a\\u003Ab", "raw": "a:b"}',
        '{"pair": "\\ud83d\\ude00", "text": "\\u00e9"}',
    ],
)
def test_numbers_and_escapes_read_the_same_on_both_paths(text):
    with fast_path_from(0):
        fast = parse_json(text, "n.json").data
    with fast_path_from(math.inf):
        slow = parse_json(text, "n.json").data
    assert same(fast, slow)
    assert same(fast, json.loads(text))


@pytest.mark.parametrize("text", ['{"a": "\\ud800"}', '{"\\udc00": 1}', '["\\ud800\\ud800"]', '["\\ud800\\u0041"]'])
def test_a_lone_surrogate_is_refused_on_the_fast_path_too(text):
    assert decode_fast(text) is UNDECIDED
    with fast_path_from(0), pytest.raises(InputError, match="surrogate"):
        parse_json(text, "s.json")


def test_deep_nesting_is_an_input_error_on_either_path():
    text = "[" * 100_000 + "]" * 100_000
    for threshold in (0, math.inf):
        with fast_path_from(threshold), pytest.raises(InputError, match="nested too deeply"):
            parse_json(text, "deep.json")


def _large_definition(states: int) -> str:
    body = {f"State{i}": {"Type": "Task", "Resource": "arn:aws:states:::batch:submitJob.sync", "Next": f"State{i + 1}"} for i in range(states)}
    body[f"State{states}"] = {"Type": "Succeed"}
    return json.dumps({"StartAt": "State0", "States": body}, indent=2)


def test_a_large_text_is_parsed_without_the_pairs_hook(monkeypatch):
    text = _large_definition(1000)
    assert len(text) >= json_source.FAST_PATH_MIN_CHARS
    monkeypatch.setattr(json_source, "_reject_duplicates", mock.Mock(side_effect=AssertionError("the exact path ran")))
    document = parse_json(text, "large.json")
    assert same(document.data, json.loads(text))
    assert document.location("/States/State999/Resource").line == text[: text.index('"State999": {')].count("\n") + 3


def test_a_duplicate_in_a_large_text_keeps_its_line_column_and_pointer():
    text = _large_definition(1000)
    position = text.index('    "State500": {')
    text = text[:position] + '    "State7": {"Type": "Pass"},\n' + text[position:]
    assert len(text) >= json_source.FAST_PATH_MIN_CHARS
    with pytest.raises(InputError) as raised:
        parse_json(text, "large.json")
    error = raised.value
    assert error.message == "duplicate key 'State7': the second one would silently replace the first"
    assert (error.location.line, error.location.column, error.location.pointer) == (text[:position].count("\n") + 1, 5, "/States/State7")


def test_a_small_text_does_not_load_msgspec():
    import subprocess
    import sys

    code = "import sys; from policygen.load.json_source import parse_json; parse_json('{\"a\": [1, 2]}', 'x'); print('msgspec' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout.strip() == "False"


@pytest.mark.parametrize("text, position", [('[{"a": 1, "a": 2}', (1, 18)), ('{"x": {"a": 1, "a": 2}, "y": tru}', (1, 30))])
def test_a_syntax_error_after_a_repeated_key_is_reported_not_a_crash(text, position):
    with pytest.raises(InputError) as raised:
        parse_json(text, "broken.json")
    assert raised.value.message.startswith("invalid JSON: ")
    assert (raised.value.location.line, raised.value.location.column) == position
    with pytest.raises(json.JSONDecodeError):
        loads_unique(text)


@settings(max_examples=300)
@given(json_texts(), st.lists(st.sampled_from(["a", "b", "0", "1", "Type", "a:b", "é", "zz"]), max_size=3))
def test_a_pointer_is_found_where_the_whole_walk_puts_it(text, tokens):
    # _Positions follows one pointer, skipping the values beside it; _PositionIndex walks every
    # value. Each pointer the walk records, and pointers it does not (an absent key, an index
    # past the end, a path through a scalar), must be placed the same. Only in texts parse_json
    # accepts: valid, no key repeated (a repeated key is an error the whole walk places).
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return
    index = json_source._PositionIndex(text)
    if index.duplicates:
        return
    positions = json_source._Positions(text)
    for pointer, offset in index.offsets.items():
        assert positions.locate(pointer) == index.line_column(offset), pointer
    probe = "".join(f"/{token}" for token in tokens)
    expected = index.offsets.get(probe)
    assert positions.locate(probe) == (None if expected is None else index.line_column(expected))


def test_a_finding_deep_in_a_large_definition_is_placed_without_walking_every_value():
    states = {f"S{index}": {"Type": "Pass", "Result": {"n": [index, {"deep": "x:y"}]}, "Next": f"S{index + 1}"} for index in range(3000)}
    states["S3000"] = {"Type": "Succeed"}
    text = json.dumps({"StartAt": "S0", "States": states}, indent=2)
    document = parse_json(text, "big.json")
    line = text.splitlines().index('    "S2999": {') + 1
    assert (document.location("/States/S2999").line, document.location("/States/S2999").column) == (line, 5)
    assert document.location("/States/S2999/Result/n/1/deep").line == line + 6
    with mock.patch.object(json_source._PositionIndex, "__init__", side_effect=AssertionError("walked every value")):
        assert document.location("/States/S12/Next").line == text.splitlines().index('    "S12": {') + 1 + 10
