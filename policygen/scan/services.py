"""Task states that call anything but Batch's own integrations: which table describes each call.

The walk hands every Task whose Resource is no Batch integration to `service_task`, which reads
the Resource as Step Functions does (docs/aws-facts.md#integration-patterns):

- `arn:<partition>:states:::<service>:<api>[.sync|.sync:2|.waitForTaskToken]`, an optimized integration;
- `arn:<partition>:states:::aws-sdk:<service>:<apiAction>[.waitForTaskToken]`, an AWS SDK call;
- an ARN that is itself the target (a Lambda function, an activity), as the tables' `resource-arns` list them.

Which services and APIs exist is the integration tables' knowledge (policygen/requirements): the
walk asks it through a `Catalogue`, so an unknown call is an error at the state's own line.
Anything policygen cannot read (a Resource chosen at deploy time, a placeholder) is an error too:
its permissions would otherwise be missing from the role without a word.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Protocol

from policygen.load.template import SERVERLESS_FUNCTION, OpaqueValue, Ref, has_references, parse_sub, unescape
from policygen.scan.arguments import _Arguments
from policygen.scan.model import (
    LANGUAGES,
    PATTERN_SUFFIXES,
    SDK_API_ACTION,
    STATES_RESOURCE,
    Pattern,
    ServiceTask,
)
from policygen.scan.resources import _placeholders, is_serverless_variable

if TYPE_CHECKING:
    from policygen.scan.walk import Walker

_SDK_SERVICE = re.compile(r"[a-z][a-z0-9]*")
_OPTIMIZED = re.compile(r"(?P<service>[a-z][a-z0-9-]*):(?P<api>[A-Za-z][A-Za-z0-9]*)(?P<suffix>(\.[A-Za-z0-9:]+)?)")
_CALLBACK = ".waitForTaskToken"
# Template resources whose Arn (GetAtt) may stand as a Task's Resource: a Lambda function.
# (type -> the attribute that is the function's ARN: GetAtt Arn, or the Ref of an alias or version.)
_FUNCTION_TYPES = {
    "AWS::Lambda::Function": "Arn", "AWS::Serverless::Function": "Arn", "AWS::Lambda::Alias": "", "AWS::Lambda::Version": "",
    SERVERLESS_FUNCTION: "Arn",
}
_PSEUDO_STAND_INS = {"AWS::Partition": "aws", "AWS::Region": "region", "AWS::AccountId": "account"}


class Catalogue(Protocol):
    """What the integration tables know, as the walk asks it."""

    def call_problem(self, service: str, api: str, pattern: Pattern) -> str | None:
        """Why Step Functions has no such call, or None when the tables describe it."""

    def arn_service(self, resource: str) -> str | None:
        """The table whose `resource-arns` describe a Resource that is itself an ARN, if any."""


def service_task(walker: Walker, state: dict[str, Any], pointer: str, path: str, catalogue: Catalogue) -> ServiceTask:
    resource = state.get("Resource")
    if not isinstance(resource, str):
        raise walker.error(f"state {path!r}: a Task state's \"Resource\" must be a string, not {resource!r}", pointer + "/Resource")
    # A definition repeats a few Resources many times: each is classified once per walk (a
    # deploy-time value, an OpaqueValue, is not a plain str and is classified each time).
    known = walker.service_calls.get(resource) if type(resource) is str else None
    if known is None:
        known = _classify(walker, resource, pointer, path, catalogue)
        if type(resource) is str:
            walker.service_calls[resource] = known
    service, api, pattern, partition = known
    language = state.get("QueryLanguage", walker.top_language)
    if language not in LANGUAGES:
        raise walker.error(f"QueryLanguage must be \"JSONPath\" or \"JSONata\", not {language!r}", pointer + "/QueryLanguage")
    arguments = _Arguments.of(state, language, pointer, path, walker)
    credentials = state.get("Credentials")
    return ServiceTask(
        walker.machine_name,
        walker.file,
        path,
        pointer,
        resource,
        partition,
        service,
        api,
        pattern,
        language,
        arguments,
        None if credentials is None else walker.credentials(credentials, language, pointer, path),
    )


def _classify(walker: Walker, resource: str, pointer: str, path: str, catalogue: Catalogue) -> tuple[str, str, Pattern, str | None]:
    """(table, api, pattern, partition) of a Resource, or an InputError naming the state."""
    where = pointer + "/Resource"
    if isinstance(resource, OpaqueValue) and not is_serverless_variable(resource):
        raise walker.error(
            f"state {path!r}: its Resource is chosen at deploy time ({resource}), so what it calls, and what the role "
            "needs for it, is unknown; write one Resource ARN per state",
            where,
        )
    match = STATES_RESOURCE.fullmatch(resource)
    if match is not None and "${" not in match["integration"]:
        partition = walker.partition(match["partition"], resource, pointer, path)
        service, api, pattern = _integration(walker, match["integration"], where, path)
        problem = catalogue.call_problem(service, api, pattern)
        if problem is not None:
            raise walker.error(f"state {path!r}: {problem} ({unescape(resource)})", where)
        return service, api, pattern, partition
    text = _without_references(walker, resource)
    if text is not None:
        service = catalogue.arn_service(text)
        if service is not None:
            return service, text, Pattern.REQUEST_RESPONSE, _arn_partition(walker, resource, pointer, path)
    raise walker.error(f"state {path!r}: {_unknown_reason(walker, resource)}", where)


def _integration(walker: Walker, integration: str, where: str, path: str) -> tuple[str, str, Pattern]:
    if integration.startswith("aws-sdk:"):
        sdk_service, _, api = integration[len("aws-sdk:"):].partition(":")
        if api.endswith(_CALLBACK):
            api = api[: -len(_CALLBACK)]
        if not _SDK_SERVICE.fullmatch(sdk_service) or not SDK_API_ACTION.fullmatch(api):
            raise walker.error(
                f"state {path!r}: {integration!r} is no AWS SDK integration: expected aws-sdk:<service>:<apiAction> "
                "in lower case and camelCase (e.g. aws-sdk:s3:getObject); SDK integrations do not support .sync",
                where,
            )
        return "aws-sdk", f"{sdk_service}:{api}", Pattern.SDK
    match = _OPTIMIZED.fullmatch(integration)
    pattern = PATTERN_SUFFIXES.get(match["suffix"]) if match is not None else None
    if match is None or pattern is None:
        raise walker.error(
            f"state {path!r}: {integration!r} is no Step Functions integration: expected <service>:<api> with an "
            "optional .sync, .sync:2 or .waitForTaskToken (e.g. lambda:invoke, ecs:runTask.sync)",
            where,
        )
    return match["service"], match["api"], pattern


def _without_references(walker: Walker, resource: str) -> str | None:
    """The Resource as an ARN to match against the tables' `resource-arns`: as written; in a
    template, with its pseudo parameters filled in with stand-ins, or a Lambda function's ARN for
    its GetAtt Arn (an alias's or version's Ref). None when a part of it is unknown before deploy
    (a parameter, a placeholder, another resource's value)."""
    if "${" not in resource:
        return resource
    template = walker.machine.template
    if template is None or isinstance(resource, OpaqueValue):
        # A loose file's placeholder or a serverless variable: any text, filled in at deploy time.
        return _with_stand_ins(resource)
    if not has_references(resource):
        return None
    segments = parse_sub(resource)
    if len(segments) == 1 and isinstance(segments[0], Ref):
        logical_id, _, attribute = segments[0].name.partition(".")
        declared = template.resources.get(logical_id)
        if declared is not None and declared.type in _FUNCTION_TYPES and attribute == _FUNCTION_TYPES[declared.type]:
            return "arn:aws:lambda:region:account:function:name"
        return None
    pieces = []
    for segment in segments:
        if isinstance(segment, Ref):
            if segment.name not in _PSEUDO_STAND_INS:
                return None
            pieces.append(_PSEUDO_STAND_INS[segment.name])
        elif "${" in segment:
            return None  # literal ${...} text: no ARN Step Functions accepts
        else:
            pieces.append(segment)
    return "".join(pieces)


def _with_stand_ins(resource: str) -> str:
    pieces, position = [], 0
    for start, end in _placeholders(resource):
        pieces.append(resource[position:start] + "x")
        position = end
    return "".join(pieces) + resource[position:]


def _arn_partition(walker: Walker, resource: str, pointer: str, path: str) -> str | None:
    if resource.startswith("arn:") and "${" not in resource.split(":", 2)[1]:
        return walker.partition(resource.split(":", 2)[1], resource, pointer, path)
    return None  # a template's ${AWS::Partition} or a resource's Arn: the partition it is deployed in


def _unknown_reason(walker: Walker, resource: str) -> str:
    shown = unescape(resource) if walker.machine.template is not None else resource
    if "${" not in resource:
        return (
            f"the Resource {shown!r} is no integration Step Functions knows: expected arn:<partition>:states:::<service>:<api>, "
            "arn:<partition>:states:::aws-sdk:<service>:<apiAction>, a Lambda function ARN or an activity ARN"
        )
    if walker.machine.template is None:
        placeholders = [resource[start:end] for start, end in _placeholders(resource)]
        example = placeholders[0][2:-1]
        return (
            f"the Resource {shown!r} holds the placeholder(s) {', '.join(dict.fromkeys(placeholders))}, so what it calls "
            f"(and what the role needs for it) is unknown; give its value with --substitute {example}=VALUE"
        )
    return (
        f"the Resource {shown!r} depends on a value only known at deploy time, so what it calls (and what the role "
        "needs for it) is unknown; write the integration ARN in the definition, or name a Lambda function of the "
        "template by its GetAtt Arn"
    )
