"""Amazon States Language files: one document is one state machine definition."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policygen.errors import InputError
from policygen.load.document import STDIN_NAME, Document
from policygen.load.template import TemplateContext


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
