"""The linter's stand-ins for values it does not know, written and read here only.

They stand in ARNs and condition values where lint compares a role with the states' requests: a
name any policy pattern `*` matches but no other name does, an unknown region or account, a
template's deploy-time reference (`Ref Name`) or a value no text can express. Each has no `*` or
`?`, so a policy matches it only through a wildcard. Messages show them as <region>, <Ref Name>…;
--fix writes a reference back as the template would ({"Ref": Name} or Fn::Sub).
"""

from __future__ import annotations

import re
from typing import Any

# A name the request carries but the policy need not know (a job id, a revision, or a name the
# state only learns at run time): a policy allowing `job-queue/*` matches it, one allowing only
# `job-queue/other` does not.
ANY_NAME = "policygen-any"
# A region or account the linter was not told: those ARN parts are left open in the policy it
# checks, and it says that they were not checked.
UNKNOWN_REGION = "policygen-region"
UNKNOWN_ACCOUNT = "policygen-account"
# The revision a job definition's Ref names, picked at deploy time: one stand-in on both sides,
# so `!Ref JobDefinition` in the state and in the policy match each other.
REVISION = "policygen-revision"
# A template value no text can express (a resource attribute, an Fn::If).
DEPLOY_TIME_VALUE = "policygen-deploy-time-value"
# Names no real rule or queue has: probes for "this grant covers any rule / another queue".
ANY_RULE = "policygen-any-rule"
UNUSED_QUEUE = "policygen-unused-queue"
_REF = "policygen-ref-"

_SHOWN_REF = re.compile(r"policygen-ref-([\w.:]+?)(?=$|:policygen-revision)")
_ANY_REF = re.compile(r"policygen-ref-([\w.:]+)")
_REF_ARN = re.compile(
    r"arn:[^:]+:batch:[^:]+:[^:]+:(?:job-queue|job-definition|consumable-resource)/policygen-ref-(?P<name>[A-Za-z0-9]+)(?::policygen-revision)?"
)
_REF_NAME = re.compile(r"policygen-ref-(?P<name>[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)?)")


def reference(name: str) -> str:
    """The stand-in for a template's `Ref name` (or `name.Attribute`)."""
    return f"{_REF}{name}"


def has_reference(text: str) -> bool:
    return _REF in text


def shown(pattern: str) -> str:
    """A resource pattern as messages show it: unknown region/account as <region>/<account>, a
    template's deploy-time reference as <Ref Name>."""
    text = pattern.replace(UNKNOWN_REGION, "<region>").replace(UNKNOWN_ACCOUNT, "<account>")
    return _SHOWN_REF.sub(r"<Ref \1>", text).replace(f":{REVISION}", "")


def shown_value(value: str) -> str:
    """A condition value or principal as messages show it (references and deploy-time values)."""
    return _ANY_REF.sub(r"<Ref \1>", shown(value)).replace(DEPLOY_TIME_VALUE, "<deploy-time value>")


def is_deploy_time(value: str) -> bool:
    return _REF in value or DEPLOY_TIME_VALUE in value


def template_value(pattern: str) -> Any:
    """A resource pattern with the stand-ins for template values written as the template would: a
    Batch resource's own ARN as {"Ref": ...}, a parameter inside a text as Fn::Sub."""
    whole = _REF_ARN.fullmatch(pattern)
    if whole:
        return {"Ref": whole["name"]}
    if _REF not in pattern:
        return pattern
    return {"Fn::Sub": _REF_NAME.sub(lambda m: "${" + m["name"] + "}", pattern.replace("${", "${!"))}
