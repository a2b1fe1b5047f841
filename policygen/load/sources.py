"""Input files -> state machines: which kind of source a file is (detected from its content, or
forced with --input-type), and the loader for that kind."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from policygen.errors import Notice, UnreadableInput
from policygen.load.asl import StateMachine, state_machine_from_asl
from policygen.load.document import Document
from policygen.load.template import CLOUDFORMATION, SERVERLESS, TERRAFORM_PLAN

ASL = "asl"
# CLOUDFORMATION covers AWS SAM templates too (their TemplateContext.kind is "sam").
INPUT_TYPES = (ASL, CLOUDFORMATION, TERRAFORM_PLAN, SERVERLESS)

Loader = Callable[[Document, bool], "tuple[Iterable[StateMachine], list[Notice]]"]


def detect_input_type(document: Document) -> str:
    """The kind of source a parsed file is, from its content."""
    data = document.data
    if isinstance(data, dict) and "States" in data and "StartAt" in data:
        return ASL
    from policygen.load.cloudformation import looks_like_template
    from policygen.load.serverless import looks_like_serverless
    from policygen.load.terraform import looks_like_plan

    if looks_like_template(data):
        return CLOUDFORMATION
    if looks_like_plan(data):
        return TERRAFORM_PLAN
    if looks_like_serverless(data):
        return SERVERLESS
    if isinstance(data, dict) and "States" in data:
        return ASL  # let the ASL loader say what is wrong with it
    raise UnreadableInput(
        "cannot tell what this file is: expected an Amazon States Language definition, a CloudFormation "
        "or SAM template, the JSON of `terraform show -json PLANFILE`, or a serverless.yml",
        document.location(""),
        hint="--input-type asl|cloudformation|terraform-plan|serverless says which",
    )


def state_machines_from(document: Document, input_type: str | None = None) -> tuple[Iterable[StateMachine], list[Notice]]:
    """The state machines in a parsed file, with warnings for those that cannot be read offline.
    A plan's machines are made as they are taken (load.terraform): the warnings are complete, and a
    broken definition found, once the machines have all been taken.

    With `input_type` given the file must be that kind and hold at least one state machine."""
    if input_type is not None and input_type not in INPUT_TYPES:
        raise ValueError(f"unknown input type {input_type!r}")
    kind = input_type or detect_input_type(document)
    if kind == ASL:
        return [state_machine_from_asl(document)], []
    return _loader(kind)(document, input_type is not None)


def _loader(kind: str) -> Loader:
    if kind == CLOUDFORMATION:
        from policygen.load.cloudformation import state_machines_from_template

        return state_machines_from_template
    if kind == TERRAFORM_PLAN:
        from policygen.load.terraform import state_machines_from_plan

        return state_machines_from_plan
    from policygen.load.serverless import state_machines_from_serverless

    return state_machines_from_serverless
