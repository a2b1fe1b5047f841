"""Amazon States Language files: one document is one state machine definition."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from policygen.errors import InputError, UsageError
from policygen.load.document import STDIN_NAME, Document
from policygen.load.template import TemplateContext, replace_placeholders


@dataclass(frozen=True)
class StateMachine:
    """A state machine definition and where it came from."""

    name: str
    document: Document = field(repr=False)
    definition: dict[str, Any] = field(repr=False)
    pointer: str = ""  # where the definition sits in the document
    # The IaC source (CloudFormation, SAM, Terraform plan, serverless.yml) it came from; None for
    # a plain ASL file. With a template, the definition's string values are in Fn::Sub syntax
    # (policygen/load/template.py).
    template: TemplateContext | None = field(default=None, repr=False, compare=False)

    @property
    def file(self) -> str:
        return self.document.name


def machine_name_for(document: Document) -> str:
    """A state machine name for a loose ASL file: its file name without the ASL suffixes."""
    if document.name == STDIN_NAME:
        return "stdin"
    name = Path(document.name).name
    for suffix in (".asl.json", ".asl.yaml", ".asl.yml", ".json", ".yaml", ".yml"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def state_machine_from_asl(document: Document) -> StateMachine:
    """The one definition an ASL document holds; anything else is an InputError."""
    data = document.data
    if not isinstance(data, dict) or not isinstance(data.get("States"), dict):
        raise InputError(
            "expected an Amazon States Language definition: an object with \"StartAt\" and \"States\"",
            document.location(""),
        )
    return StateMachine(name=machine_name_for(document), document=document, definition=data)


# A --substitute NAME: what DefinitionSubstitutions keys and Terraform templatefile() variables
# are in practice (letters, digits, `_`, `-`, `.`); never a pseudo parameter such as AWS::Partition.
_SUBSTITUTION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def parse_substitutions(values: Iterable[str]) -> dict[str, str]:
    """`NAME=VALUE` arguments as a mapping; a malformed or repeated NAME is a UsageError."""
    substitutions: dict[str, str] = {}
    for value in values:
        name, separator, text = value.partition("=")
        if not separator:
            raise UsageError(f"--substitute {value!r}: expected NAME=VALUE")
        if not _SUBSTITUTION_NAME.fullmatch(name):
            raise UsageError(
                f"--substitute {value!r}: {name!r} is no placeholder name (letters, digits, _, - and ., "
                "starting with a letter or _)",
                hint="CloudFormation fills its pseudo parameters: scan the template" if name.startswith("AWS::") else None,
            )
        if name in substitutions:
            raise UsageError(f"--substitute {name}: given twice ({substitutions[name]!r}, {text!r})")
        substitutions[name] = text
    return substitutions


def substitute_placeholders(machine: StateMachine, substitutions: Mapping[str, str], used: set[str]) -> StateMachine:
    """A loose ASL definition with each `${NAME}` of `substitutions` filled in, in its string
    values and keys, as DefinitionSubstitutions or templatefile() would fill it at deploy time;
    other placeholders stay. The names filled go into `used`. A template's definition is never
    changed: its own substitutions and references are what deploys, and a `${NAME}` it leaves
    reaches Step Functions as that text."""
    if machine.template is not None or not substitutions:
        return machine

    def fill(text: str) -> str:
        if "${" not in text:
            return text

        def filled(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in substitutions:
                return match.group(0)
            used.add(name)
            return substitutions[name]

        return replace_placeholders(text, filled)

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return fill(value)
        if isinstance(value, dict):
            return {fill(key) if isinstance(key, str) else key: walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    return replace(machine, definition=walk(machine.definition))
