"""JSON and YAML loading: encodings, duplicate keys, alias bombs, CloudFormation tags, positions, stdin."""

from __future__ import annotations

import io
import json
import sys
import time

import pytest

from policygen.errors import InputError
from policygen.load import load_document
from policygen.load.asl import state_machine_from_asl
from policygen.load.document import STDIN_NAME, read_text
from policygen.load.json_source import parse_json
from policygen.load.yaml_source import parse_yaml

BOM = b"\xef\xbb\xbf"
SMALL_ASL = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
SMALL_ASL_YAML = "StartAt: A\nStates:\n  A:\n    Type: Pass\n    End: true\n"


def _error(callable_, *args) -> InputError:
    with pytest.raises(InputError) as caught:
        callable_(*args)
    return caught.value


def _feed_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


# --- encodings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, body",
    [("sm.asl.json", json.dumps(SMALL_ASL).encode()), ("sm.asl.yaml", SMALL_ASL_YAML.encode())],
)
def test_a_utf8_bom_is_tolerated(tmp_path, name, body):
    path = tmp_path / name
    path.write_bytes(BOM + body)
    document = load_document(str(path))
    assert document.data == SMALL_ASL
    # Positions are counted without the BOM.
    assert document.location("/StartAt").line == (1 if name.endswith(".json") else 1)
    assert document.location("/StartAt").column == (2 if name.endswith(".json") else 1)


def test_non_utf8_bytes_are_an_error_with_line_and_column(tmp_path):
    path = tmp_path / "latin1.asl.json"
    path.write_bytes(b'{\n  "Comment": "caf\xe9",\n  "States": {}\n}\n')
    error = _error(load_document, str(path))
    assert "not UTF-8" in error.message
    assert "0xe9" in error.message
    assert (error.location.file, error.location.line, error.location.column) == (str(path), 2, 18)


def test_utf16_is_not_mistaken_for_text(tmp_path):
    path = tmp_path / "utf16.asl.json"
    path.write_bytes(json.dumps(SMALL_ASL).encode("utf-16"))
    error = _error(load_document, str(path))
    assert "not UTF-8" in error.message
    assert error.location.line == 1


def test_missing_file_and_directory_are_input_errors(tmp_path):
    missing = _error(read_text, str(tmp_path / "nope.json"))
    assert missing.message == "no such file"
    assert missing.location.file == str(tmp_path / "nope.json")
    directory = _error(read_text, str(tmp_path))
    assert "directory" in directory.message


# --- syntax errors ---------------------------------------------------------------------------


def test_invalid_json_names_line_and_column():
    error = _error(parse_json, '{\n  "StartAt": "A",\n  "States": {\n}', "bad.json")
    assert error.message.startswith("invalid JSON")
    assert (error.location.line, error.location.column) == (4, 2)


def test_invalid_yaml_names_line_and_column():
    error = _error(parse_yaml, "StartAt: A\nStates:\n  A: {Type: Pass\n", "bad.yaml")
    assert error.message.startswith("invalid YAML")
    assert error.location.line == 4


def test_empty_and_multi_document_yaml_are_errors():
    assert "empty" in _error(parse_yaml, "# nothing\n", "e.yaml").message
    assert _error(parse_yaml, "a: 1\n---\nb: 2\n", "m.yaml").location.line == 2


def test_yaml_dates_stay_strings():
    assert parse_yaml("Version: 2012-10-17\n", "p.yaml").data == {"Version": "2012-10-17"}


def test_python_tags_are_not_constructed():
    error = _error(parse_yaml, "a: !!python/object/apply:os.system ['true']\n", "evil.yaml")
    assert error.message.startswith("invalid YAML")
    assert (error.location.line, error.location.column) == (1, 4)


# --- duplicate keys --------------------------------------------------------------------------


def test_json_duplicate_key_is_reported_at_the_second_occurrence():
    text = '{\n  "StartAt": "A",\n  "States": {\n    "A": {"Type": "Pass"},\n    "A": {"Type": "Fail"}\n  }\n}\n'
    error = _error(parse_json, text, "dup.json")
    assert "duplicate key 'A'" in error.message
    assert (error.location.line, error.location.column) == (5, 5)
    assert error.location.pointer == "/States/A"


def test_json_duplicate_key_message_and_location_name_the_same_key():
    # The outer duplicate comes first in the text; the inner one is parsed (and seen) first.
    text = '{"a": 1,\n "a": {"b": 1,\n  "b": 2}}'
    error = _error(parse_json, text, "dup.json")
    assert error.location.pointer in ("/a", "/a/b")
    key = error.location.pointer.rsplit("/", 1)[1]
    assert f"duplicate key {key!r}" in error.message
    expected_position = {"/a": (2, 2), "/a/b": (3, 3)}[error.location.pointer]
    assert (error.location.line, error.location.column) == expected_position


def test_json_duplicate_key_with_escapes_gets_an_escaped_pointer():
    error = _error(parse_json, '{"x": {"a/b~c": 1, "a/b~c": 2}}', "dup.json")
    assert error.location.pointer == "/x/a~1b~0c"
    assert (error.location.line, error.location.column) == (1, 20)


def test_yaml_duplicate_key_is_reported_at_the_second_occurrence():
    text = "StartAt: A\nStates:\n  A:\n    Type: Pass\n  A:\n    Type: Fail\n"
    error = _error(parse_yaml, text, "dup.yaml")
    assert "duplicate key 'A'" in error.message
    assert (error.location.file, error.location.line, error.location.column) == ("dup.yaml", 5, 3)


def test_yaml_duplicate_key_in_a_flow_mapping():
    error = _error(parse_yaml, "a: {x: 1, y: 2, x: 3}\n", "dup.yaml")
    assert "duplicate key 'x'" in error.message
    assert (error.location.line, error.location.column) == (1, 17)


def test_yaml_merge_key_overrides_are_not_duplicates():
    text = "base: &base {Type: Task, Retry: 1}\nstate:\n  <<: *base\n  Retry: 2\n"
    assert parse_yaml(text, "merge.yaml").data["state"] == {"Type": "Task", "Retry": 2}


def test_yaml_merge_of_several_mappings_keeps_the_first_value():
    text = "a: &a {k: 1}\nb: &b {k: 2, m: 3}\nc:\n  <<: [*a, *b]\n"
    assert parse_yaml(text, "merge.yaml").data["c"] == {"k": 1, "m": 3}


def test_yaml_merge_source_flattened_before_it_is_constructed_is_not_a_duplicate():
    # `c` flattens `b` (a merge source) before `b` itself, nested deeper, is constructed.
    text = "a: &a {x: 1}\nouter:\n  b: &b\n    <<: *a\n    x: 2\nc:\n  <<: *b\n"
    assert parse_yaml(text, "merge.yaml").data["outer"] == {"b": {"x": 2}}


def test_yaml_explicit_duplicate_beside_a_merge_is_still_reported():
    text = "base: &base {Type: Task}\nstate:\n  <<: *base\n  Retry: 1\n  Retry: 2\n"
    error = _error(parse_yaml, text, "merge.yaml")
    assert "duplicate key 'Retry'" in error.message
    assert error.location.line == 5


# --- aliases ---------------------------------------------------------------------------------


def _billion_laughs(levels: int = 9) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels + 1):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_yaml_alias_bomb_fails_fast_with_a_clear_error():
    started = time.perf_counter()
    error = _error(parse_yaml, _billion_laughs(), "bomb.yaml")
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5, f"took {elapsed:.2f}s"
    assert "alias bomb" in error.message
    assert error.location.file == "bomb.yaml"
    assert error.location.line is not None


def test_yaml_alias_bomb_of_mappings_fails_fast():
    lines = ["m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}"]
    for level in range(1, 10):
        lines.append(f"m{level}: &m{level} {{" + ", ".join(f"k{i}: *m{level - 1}" for i in range(8)) + "}")
    started = time.perf_counter()
    error = _error(parse_yaml, "\n".join(lines) + "\n", "bomb.yaml")
    assert time.perf_counter() - started < 0.5
    assert "alias bomb" in error.message


def test_modest_alias_use_still_loads():
    text = "defaults: &d {Type: Task, End: true}\nStates:\n  A: *d\n  B: *d\n"
    data = parse_yaml(text, "ok.yaml").data
    assert data["States"]["A"] == data["States"]["B"] == {"Type": "Task", "End": True}


def test_yaml_recursive_alias_is_rejected():
    error = _error(parse_yaml, "a: &a [1, *a]\n", "loop.yaml")
    assert "recursive alias" in error.message
    assert (error.location.line, error.location.column) == (1, 4)


def test_yaml_recursive_alias_through_a_mapping_is_rejected():
    error = _error(parse_yaml, "a: &a\n  b: *a\n", "loop.yaml")
    assert "recursive alias" in error.message


# --- tags ------------------------------------------------------------------------------------


def test_unknown_yaml_tag_is_an_error_with_position():
    error = _error(parse_yaml, "States:\n  A: !Frobnicate x\n", "tag.yaml")
    assert "unknown tag !Frobnicate" in error.message
    assert (error.location.line, error.location.column) == (2, 6)


@pytest.mark.parametrize(
    "yaml_value, expected",
    [
        ("!Ref JobQueue", {"Ref": "JobQueue"}),
        ("!Sub 'arn:${AWS::Partition}:batch'", {"Fn::Sub": "arn:${AWS::Partition}:batch"}),
        ("!Sub ['${A}-x', {A: !Ref B}]", {"Fn::Sub": ["${A}-x", {"A": {"Ref": "B"}}]}),
        ("!GetAtt Queue.JobQueueArn", {"Fn::GetAtt": ["Queue", "JobQueueArn"]}),
        ("!GetAtt Stack.Outputs.Arn", {"Fn::GetAtt": ["Stack", "Outputs.Arn"]}),
        ("!GetAtt [Queue, JobQueueArn]", {"Fn::GetAtt": ["Queue", "JobQueueArn"]}),
        ("!Join ['', [a, !Ref B]]", {"Fn::Join": ["", ["a", {"Ref": "B"}]]}),
        ("!If [IsProd, prod, dev]", {"Fn::If": ["IsProd", "prod", "dev"]}),
        ("!Select [0, !GetAZs '']", {"Fn::Select": [0, {"Fn::GetAZs": ""}]}),
        ("!Condition IsProd", {"Condition": "IsProd"}),
        ("!Base64 {a: 1}", {"Fn::Base64": {"a": 1}}),
    ],
)
def test_cloudformation_short_forms_load_as_long_forms(yaml_value, expected):
    assert parse_yaml(f"value: {yaml_value}\n", "t.yaml").data == {"value": expected}


# --- positions -------------------------------------------------------------------------------

_NESTED_JSON = """{
  "States": {
    "Outer": {
      "Branches": [
        {"States": {"a/b": {"x~y": 1}}},
        {"States": {"Inner": {"Type": "Pass"}}}
      ]
    }
  }
}
"""
_NESTED_YAML = """States:
  Outer:
    Branches:
      - States:
          a/b:
            x~y: 1
      - States:
          Inner:
            Type: Pass
"""


@pytest.mark.parametrize(
    "pointer, position",
    [
        ("", (1, 1)),
        ("/States", (2, 3)),
        ("/States/Outer/Branches/1", (6, 9)),
        ("/States/Outer/Branches/1/States/Inner/Type", (6, 31)),
        ("/States/Outer/Branches/0/States/a~1b", (5, 21)),
        ("/States/Outer/Branches/0/States/a~1b/x~0y", (5, 29)),
    ],
)
def test_json_pointer_to_line_and_column(pointer, position):
    document = parse_json(_NESTED_JSON, "n.json")
    location = document.location(pointer)
    assert (location.line, location.column) == position
    assert location.pointer == pointer
    assert location.file == "n.json"


@pytest.mark.parametrize(
    "pointer, position",
    [
        ("", (1, 1)),
        ("/States/Outer", (2, 3)),
        ("/States/Outer/Branches/1", (7, 9)),
        ("/States/Outer/Branches/1/States/Inner/Type", (9, 13)),
        ("/States/Outer/Branches/0/States/a~1b", (5, 11)),
        ("/States/Outer/Branches/0/States/a~1b/x~0y", (6, 13)),
    ],
)
def test_yaml_pointer_to_line_and_column(pointer, position):
    document = parse_yaml(_NESTED_YAML, "n.yaml")
    location = document.location(pointer)
    assert (location.line, location.column) == position
    assert location.pointer == pointer


@pytest.mark.parametrize("parse, text", [(parse_json, _NESTED_JSON), (parse_yaml, _NESTED_YAML)])
@pytest.mark.parametrize("pointer", ["/Nope", "/States/Outer/Branches/7", "/States/a/b"])
def test_pointer_that_is_not_there_keeps_the_pointer_without_a_position(parse, text, pointer):
    location = parse(text, "n").location(pointer)
    assert location.line is None and location.column is None
    assert location.pointer == pointer
    assert str(location) == f"n (at {pointer})"


def test_json_positions_count_crlf_lines():
    document = parse_json('{\r\n  "a": {\r\n    "b": 1\r\n  }\r\n}\r\n', "crlf.json")
    location = document.location("/a/b")
    assert (location.line, location.column) == (3, 5)


def test_location_renders_file_line_column_and_pointer():
    document = parse_json('{\n  "a": 1\n}', "f.json")
    assert str(document.location("/a")) == "f.json:2:3 (at /a)"
    assert str(document.location("")) == "f.json:1:1 (at /)"


# --- format detection and stdin --------------------------------------------------------------


def test_stdin_json(monkeypatch):
    _feed_stdin(monkeypatch, json.dumps(SMALL_ASL).encode())
    document = load_document("-")
    assert (document.name, document.format, document.data) == (STDIN_NAME, "json", SMALL_ASL)
    assert state_machine_from_asl(document).name == "stdin"


def test_stdin_yaml_with_a_bom(monkeypatch):
    _feed_stdin(monkeypatch, BOM + SMALL_ASL_YAML.encode())
    document = load_document("-")
    assert (document.name, document.format, document.data) == (STDIN_NAME, "yaml", SMALL_ASL)


def test_stdin_errors_name_stdin(monkeypatch):
    _feed_stdin(monkeypatch, b'{"StartAt": "A",\n "States": {"A": 1, "A": 2}}')
    error = _error(load_document, "-")
    assert error.location.file == STDIN_NAME
    assert error.location.line == 2


@pytest.mark.parametrize(
    "name, body, expected_format",
    [
        ("definition", b'  {"StartAt": "A", "States": {}}', "json"),
        ("definition.txt", b"StartAt: A\nStates: {}\n", "yaml"),
        ("definition.YML", b"StartAt: A\nStates: {}\n", "yaml"),
        ("definition.JSON", b'{"StartAt": "A", "States": {}}', "json"),
    ],
)
def test_format_by_suffix_else_by_content(tmp_path, name, body, expected_format):
    path = tmp_path / name
    path.write_bytes(body)
    document = load_document(str(path))
    assert document.format == expected_format
    assert document.data == {"StartAt": "A", "States": {}}


def test_json_suffix_with_yaml_content_is_a_json_error(tmp_path):
    path = tmp_path / "x.json"
    path.write_bytes(b"StartAt: A\n")
    assert _error(load_document, str(path)).message.startswith("invalid JSON")


@pytest.mark.parametrize("data", [{"Foo": 1}, [], "x", {"States": []}])
def test_a_document_that_is_not_a_state_machine_is_rejected(data):
    document = parse_json(json.dumps(data), "not.json")
    error = _error(state_machine_from_asl, document)
    assert "Amazon States Language" in error.message
    assert error.location.file == "not.json"
    assert error.location.pointer == ""


@pytest.mark.parametrize(
    "file_name, machine",
    [("dir/etl.asl.json", "etl"), ("etl.asl.yaml", "etl"), ("etl.yml", "etl"), ("etl.definition", "etl.definition")],
)
def test_state_machine_name_from_the_file_name(file_name, machine):
    document = parse_json(json.dumps(SMALL_ASL), file_name)
    assert state_machine_from_asl(document).name == machine


@pytest.mark.parametrize(
    "parse, text, pointer",
    [
        (parse_json, '{"a": {"b": ["x", "\\ud800"]}}', "/a/b/1"),
        (parse_json, '{"\\udc00": 1}', "/\udc00"),
        (parse_yaml, 'a:\n  b: "\\ud800"\n', "/a/b"),
        (parse_yaml, 'a: "\\U0000dfff"\n', "/a"),
    ],
)
def test_a_lone_surrogate_escape_is_an_input_error_at_its_string(parse, text, pointer):
    # Before, it reached the writers and ended in a UnicodeEncodeError (exit 3).
    error = _error(parse, text, "in")
    assert "surrogate" in error.message
    assert error.location.pointer == pointer


def test_a_surrogate_pair_escape_is_one_character():
    assert parse_json('{"a": "\\ud83d\\ude00"}', "in").data == {"a": "\U0001F600"}


def test_a_lone_surrogate_inside_a_definition_string_names_the_machine(tmp_path):
    from policygen.pipeline import load_state_machines

    template = {
        "Resources": {
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {"RoleArn": "arn:aws:iam::123456789012:role/r", "DefinitionString": '{"StartAt": "\\ud800", "States": {}}'},
            }
        }
    }
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template), encoding="utf-8")
    error = _error(load_state_machines, [str(path)], None)
    assert "surrogate" in error.message and "Machine" in str(error)
