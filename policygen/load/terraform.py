"""Terraform plans as JSON (`terraform show -json PLANFILE`) -> their aws_sfn_state_machine resources.

Every managed `aws_sfn_state_machine` in `planned_values.root_module` and its `child_modules`
(recursively) whose `definition` the plan knows; one whose definition is only known after apply
(`after_unknown` in `resource_changes`, or absent) gets a warning. Machines are named by address.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from policygen.errors import InputError, Notice
from policygen.load.asl import StateMachine
from policygen.load.document import Document
from policygen.load.intrinsics import literal_definition
from policygen.load.json_source import (
    DuplicateKeyError,
    LoneSurrogateError,
    loads_unique,
)
from policygen.load.template import (
    TERRAFORM_PLAN,
    TemplateContext,
    TemplateParameter,
    TemplateResource,
    locating_enclosing_value,
)

STATE_MACHINE_TYPE = "aws_sfn_state_machine"


def looks_like_plan(data: Any) -> bool:
    return isinstance(data, dict) and "format_version" in data and ("planned_values" in data or "terraform_version" in data)


def state_machines_from_plan(document: Document, required: bool) -> tuple[Iterator[StateMachine], list[Notice]]:
    """The plan's state machines in plan order, with warnings for those whose definition is unknown.

    The machines are made as they are iterated, each definition parsed then: a caller that is done
    with one before taking the next holds one parsed definition of the plan at a time. The shape of
    the plan is checked at once; a broken definition is an InputError when it is reached, and the
    warnings are complete once every machine has been taken."""
    data = document.data
    if not isinstance(data, dict) or not isinstance(data.get("planned_values"), dict):
        raise InputError(
            "expected the JSON of `terraform show -json PLANFILE`: an object with \"planned_values\"",
            document.location("/planned_values" if isinstance(data, dict) and "planned_values" in data else ""),
        )
    root = data["planned_values"].get("root_module")
    if not isinstance(root, dict):
        raise _shape_error("\"planned_values.root_module\" must be an object", document.location("/planned_values/root_module"))
    resources = list(_resources(document, root, "/planned_values/root_module"))
    context = TemplateContext(
        kind=TERRAFORM_PLAN,
        file=document.name,
        parameters=_variables(data.get("variables")),
        resources={
            resource["address"]: TemplateResource(resource["address"], str(resource.get("type", "")), resource.get("values") or {})
            for resource, _ in resources
        },
        document=document,
    )
    unknown = _unknown_definitions(document, data.get("resource_changes"))
    warnings: list[Notice] = []
    machines = [(resource, pointer) for resource, pointer in resources
                if resource.get("type") == STATE_MACHINE_TYPE and resource.get("mode", "managed") == "managed"]
    if required and not machines:
        raise InputError(f"no {STATE_MACHINE_TYPE} resource in the plan", document.location("/planned_values/root_module"))
    return _plan_machines(document, machines, context, unknown, warnings), warnings


def _plan_machines(
    document: Document, machines: list[tuple[dict[str, Any], str]], context: TemplateContext, unknown: set[str], warnings: list[Notice]
) -> Iterator[StateMachine]:
    located = locating_enclosing_value(document)
    for resource, pointer in machines:
        address = resource["address"]
        values = resource.get("values")
        definition = values.get("definition") if isinstance(values, dict) else None
        if not isinstance(definition, str):
            why = "is only known after apply" if address in unknown else "is not in the plan"
            warnings.append(
                Notice(
                    f"state machine {address!r}: its definition {why}: skipped "
                    "(scan the rendered definition, or a plan where it is known)",
                    document.location(pointer),
                )
            )
            continue
        definition_pointer = f"{pointer}/values/definition"
        parsed = _parse_definition(definition, address, definition_pointer, located)
        yield StateMachine(
            name=address, document=located, definition=_in_sub_syntax(definition, parsed), pointer=definition_pointer, template=context
        )
        del parsed  # not held while the next definition is parsed


def _parse_definition(definition: str, address: str, pointer: str, located: Document) -> dict[str, Any]:
    try:
        parsed = loads_unique(definition)
    except DuplicateKeyError as error:
        raise InputError(
            f"state machine {address!r}: duplicate key {error.key!r} in the definition: the second one "
            "would silently replace the first",
            located.location(pointer + error.pointer),
        ) from None
    except LoneSurrogateError as error:
        raise InputError(f"state machine {address!r}: {error}", located.location(pointer + error.pointer)) from None
    except json.JSONDecodeError as error:
        raise InputError(
            f"state machine {address!r}: the definition is not valid JSON: {error.msg} "
            f"(line {error.lineno}, column {error.colno} of the definition)",
            located.location(pointer),
        ) from None
    if not isinstance(parsed, dict):
        raise InputError(
            f"state machine {address!r}: the definition must be an object with \"StartAt\" and \"States\"",
            located.location(pointer),
        )
    return parsed


# How a `$` or `{` can be written in JSON text: as itself or as a \u escape (either case of hex digit).
_MAY_HOLD_PLACEHOLDER = ("${", "\\u0024", "\\u007b", "\\u007B")


def _in_sub_syntax(text: str, parsed: Any) -> Any:
    """The definition with its strings in Fn::Sub syntax, as every value of a plan is a literal:
    literal_definition, which writes each `${` as `${!`. A definition whose text cannot hold a `${`
    in any string is that already, and is not copied string by string (a plan's definitions rarely
    hold one)."""
    if any(marker in text for marker in _MAY_HOLD_PLACEHOLDER):
        return literal_definition(parsed)
    return parsed


def _shape_error(message: str, location) -> InputError:
    return InputError(f"not the JSON of `terraform show -json PLANFILE`: {message}", location)


def _resources(document: Document, module: dict[str, Any], pointer: str) -> Iterator[tuple[dict[str, Any], str]]:
    """(resource, pointer) of a module and its child modules, depth first in plan order."""
    resources = module.get("resources", [])
    if not isinstance(resources, list):
        raise _shape_error("\"resources\" of a module must be a list", document.location(f"{pointer}/resources"))
    for index, resource in enumerate(resources):
        resource_pointer = f"{pointer}/resources/{index}"
        if not isinstance(resource, dict) or not isinstance(resource.get("address"), str):
            raise _shape_error("a planned resource must be an object with an \"address\"", document.location(resource_pointer))
        yield resource, resource_pointer
    children = module.get("child_modules", [])
    if not isinstance(children, list):
        raise _shape_error("\"child_modules\" must be a list of modules", document.location(f"{pointer}/child_modules"))
    for index, child in enumerate(children):
        child_pointer = f"{pointer}/child_modules/{index}"
        if not isinstance(child, dict):
            raise _shape_error("a child module must be an object", document.location(child_pointer))
        yield from _resources(document, child, child_pointer)


def _unknown_definitions(document: Document, changes: Any) -> set[str]:
    """Addresses whose planned definition is only known after apply."""
    if changes is None:
        return set()
    if not isinstance(changes, list):
        raise _shape_error("\"resource_changes\" must be a list", document.location("/resource_changes"))
    unknown = set()
    for index, change in enumerate(changes):
        if not isinstance(change, dict) or change.get("type") != STATE_MACHINE_TYPE:
            continue
        pointer = f"/resource_changes/{index}"
        if not isinstance(change.get("address"), str):
            raise _shape_error("a resource change must have an \"address\" string", document.location(pointer))
        planned = change.get("change") or {}
        if not isinstance(planned, dict):
            raise _shape_error("\"change\" of a resource change must be an object", document.location(f"{pointer}/change"))
        after_unknown = planned.get("after_unknown") or {}
        if isinstance(after_unknown, dict) and after_unknown.get("definition") is True:
            unknown.add(change["address"])
    return unknown


def _variables(variables: Any) -> dict[str, TemplateParameter]:
    if not isinstance(variables, dict):
        return {}
    return {
        name: TemplateParameter(name, "terraform variable", spec.get("value"))
        for name, spec in variables.items()
        if isinstance(spec, dict)
    }
