"""A Terraform plan's machines made one at a time, and its definitions written in Fn::Sub syntax
without a string-by-string copy when no string can hold a `${`."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from test_cli import assert_input_error

import policygen.load.terraform as terraform
from policygen import pipeline
from policygen.load.document import Document
from policygen.load.intrinsics import literal_definition
from policygen.load.json_source import parse_json

ROOT = Path(__file__).resolve().parents[2]
TARGET = ("--region", "us-east-1", "--account", "123456789012")
SUBMIT = {"Type": "Task", "Resource": "arn:aws:states:::batch:submitJob.sync",
          "Parameters": {"JobName": "j", "JobQueue": "q", "JobDefinition": "d:1"}, "End": True}


def _plan(definitions: list[str | None]) -> dict:
    resources = []
    for index, definition in enumerate(definitions):
        values = {"name": f"m{index}"} | ({} if definition is None else {"definition": definition})
        resources.append({"address": f"aws_sfn_state_machine.m{index}", "mode": "managed",
                          "type": "aws_sfn_state_machine", "name": f"m{index}", "values": values})
    return {"format_version": "1.2", "terraform_version": "1.7.0", "planned_values": {"root_module": {"resources": resources}}}


def _definition(comment: str = "") -> str:
    return json.dumps({"Comment": comment, "StartAt": "S", "States": {"S": SUBMIT}})


def _document(plan: dict) -> Document:
    return parse_json(json.dumps(plan), "plan.json")


def test_the_definitions_are_parsed_as_the_machines_are_taken(monkeypatch):
    parsed: list[str] = []
    loads_unique = terraform.loads_unique
    monkeypatch.setattr(terraform, "loads_unique", lambda text: parsed.append(text) or loads_unique(text))
    machines, warnings = terraform.state_machines_from_plan(_document(_plan([_definition("a"), None, _definition("b")])), True)
    assert parsed == []
    first = next(iter(machines))
    assert (first.name, len(parsed), warnings) == ("aws_sfn_state_machine.m0", 1, [])
    assert [machine.name for machine in machines] == ["aws_sfn_state_machine.m2"]
    assert len(parsed) == 2
    assert [notice.message for notice in warnings] == [
        "state machine 'aws_sfn_state_machine.m1': its definition is not in the plan: skipped "
        "(scan the rendered definition, or a plan where it is known)"
    ]


def test_a_broken_last_definition_of_a_plan_leaves_no_directory(run_cli, tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(_plan([_definition("a"), _definition("b"), _definition("c")[:-1]])))
    out = tmp_path / "policies"
    result = run_cli("generate", str(plan), *TARGET, "-o", str(out))
    assert_input_error(result, "aws_sfn_state_machine.m2", "not valid JSON")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["plan.json"]


def test_a_definition_without_a_placeholder_is_not_copied(monkeypatch):
    copied = []
    monkeypatch.setattr(terraform, "literal_definition", lambda value: copied.append(value) or literal_definition(value))
    (machine,) = terraform.state_machines_from_plan(_document(_plan([_definition("no placeholder, \u00e9 <&>")])), True)[0]
    assert copied == []
    assert machine.definition["Comment"] == "no placeholder, \u00e9 <&>"


def test_a_placeholder_however_escaped_is_written_as_a_literal(tmp_path):
    """`${` in a plan is text, never a reference, however the JSON writes it."""
    written = ("${Name}", "$\\u007bName}", "\\u0024{Name}", "$\\u007BName}", "\\u0024\\u007bName}")
    definitions = [_definition("x").replace('"x"', f'"{comment}"') for comment in written]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(_plan(definitions)))
    comments = [machine.definition["Comment"] for machine in pipeline.load_state_machines([str(path)]).machines]
    assert comments == ["${!Name}"] * len(written)


strings = st.text(st.sampled_from(["$", "{", "}", "!", "a", " ", "\\", '"', "é", "\n"]), max_size=8)
definitions = st.recursive(
    st.none() | st.booleans() | st.integers() | strings,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(strings, children, max_size=3),
    max_leaves=12,
)


@given(definitions, st.booleans())
def test_fn_sub_syntax_is_literal_definitions_however_the_text_is_written(value, ensure_ascii):
    text = json.dumps(value, ensure_ascii=ensure_ascii)
    assert terraform._in_sub_syntax(text, json.loads(text)) == literal_definition(json.loads(text))
