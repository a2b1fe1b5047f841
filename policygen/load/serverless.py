"""serverless.yml (Serverless Framework with the serverless-step-functions plugin) -> its state machines.

Each `stepFunctions.stateMachines.<key>` with a `definition` object; named by its `name:` when that is
a plain string, else by its key. Definitions may hold CloudFormation intrinsics (`Fn::GetAtt`, `Ref`,
`Fn::Sub`) and Serverless variables (`${self:...}`, `${opt:...}`, `${sls:...}`): both are deploy-time
values, the variables opaque (policygen/load/intrinsics.py).
"""

from __future__ import annotations

from typing import Any

from policygen.errors import InputError, Notice
from policygen.load.asl import StateMachine
from policygen.load.document import Document, escape_pointer_token
from policygen.load.intrinsics import Resolver, intrinsic_name
from policygen.load.template import (
    SERVERLESS,
    SERVERLESS_FUNCTION,
    TemplateContext,
    TemplateResource,
    template_parameters,
)


def looks_like_serverless(data: Any) -> bool:
    return isinstance(data, dict) and "service" in data and ("provider" in data or "stepFunctions" in data)


def state_machines_from_serverless(document: Document, required: bool) -> tuple[list[StateMachine], list[Notice]]:
    """The state machines under `stepFunctions.stateMachines`, in file order."""
    data = document.data
    if not isinstance(data, dict):
        raise InputError("expected a serverless.yml: an object with \"service\" and \"stepFunctions\"", document.location(""))
    step_functions = data.get("stepFunctions")
    machines_spec = step_functions.get("stateMachines") if isinstance(step_functions, dict) else None
    pointer = "/stepFunctions/stateMachines"
    if machines_spec is None:
        message = "no stepFunctions.stateMachines (the serverless-step-functions plugin's section)"
        if required:
            raise InputError(message, document.location(""))
        return [], [Notice(message, document.location(""))]
    if not isinstance(machines_spec, dict):
        raise InputError("stepFunctions.stateMachines must be an object of named state machines", document.location(pointer))
    context = _context(document)
    machines: list[StateMachine] = []
    warnings: list[Notice] = []
    for key, spec in machines_spec.items():
        machine_pointer = f"{pointer}/{escape_pointer_token(key)}"
        if not isinstance(spec, dict):
            raise InputError(f"state machine {key!r} must be an object with a \"definition\"", document.location(machine_pointer))
        name = spec.get("name")
        if not isinstance(name, str) or "${" in name:
            name = str(key)  # a name made of variables is only known at deploy time
        definition = spec.get("definition")
        definition_pointer = f"{machine_pointer}/definition"
        if not isinstance(definition, dict) or intrinsic_name(definition) is not None:
            if definition is None:
                raise InputError(f"state machine {name!r} has no \"definition\"", document.location(machine_pointer))
            warnings.append(
                Notice(
                    f"state machine {name!r}: its definition is only known at deploy time ({str(definition)[:80]}): skipped",
                    document.location(definition_pointer),
                )
            )
            continue
        # Serverless and the plugin add resources of their own (functions, roles): any name may exist.
        resolver = Resolver(
            document, name, known_name=lambda _: True, serverless=True, plain_strings_are_sub=_plugin_substitutes(definition)
        )
        machines.append(
            StateMachine(
                name=name,
                document=document,
                definition=resolver.definition_object(definition, definition_pointer, {}),
                pointer=definition_pointer,
                template=context,
            )
        )
    if required and not machines_spec:
        raise InputError("stepFunctions.stateMachines is empty", document.location(pointer))
    return machines, warnings


def _plugin_substitutes(value: Any) -> bool:
    """Whether serverless-step-functions deploys the definition as one Fn::Sub: it does when the
    definition holds an intrinsic function or a `#{...}` pseudo parameter, and writes it as a
    plain DefinitionString otherwise, where CloudFormation fills in nothing
    (lib/deploy/stepFunctions/compileStateMachines.js in serverless-operations/serverless-step-functions)."""
    if isinstance(value, dict):
        return intrinsic_name(value) is not None or any(_plugin_substitutes(item) for item in value.values())
    if isinstance(value, list):
        return any(_plugin_substitutes(item) for item in value)
    return isinstance(value, str) and "#{" in value


def _context(document: Document) -> TemplateContext:
    """The CloudFormation parameters and resources the file declares under `resources`, and its
    `functions`: serverless-step-functions reads `Fn::GetAtt: [<function key>, Arn]` in a
    definition as that function's ARN."""
    functions = document.data.get("functions")
    declared_functions = {
        str(name): TemplateResource(str(name), SERVERLESS_FUNCTION) for name in (functions if isinstance(functions, dict) else {})
    }
    section = document.data.get("resources")
    section = section if isinstance(section, dict) else {}
    parameters = section.get("Parameters") if isinstance(section.get("Parameters"), dict) else {}
    resources = section.get("Resources") if isinstance(section.get("Resources"), dict) else {}
    return TemplateContext(
        kind=SERVERLESS,
        file=document.name,
        parameters=template_parameters(parameters),
        resources=declared_functions | {
            logical_id: TemplateResource(
                logical_id,
                str(resource.get("Type", "")),
                resource.get("Properties") if isinstance(resource.get("Properties"), dict) else {},
            )
            for logical_id, resource in resources.items()
            if isinstance(resource, dict)
        },
        document=document,
    )
