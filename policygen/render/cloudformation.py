"""Policies -> a CloudFormation snippet (YAML or JSON): an execution role per state machine, or a
policy attached to an existing role. Region, account and partition are pseudo parameters inside
!Sub; values that came from the template (queues, job definitions) stay !Ref/!GetAtt/!Sub."""

from __future__ import annotations

import json
import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from policygen.errors import UsageError
from policygen.generate.policy import Policy, Statement, condition_json
from policygen.load.template import replace_placeholders
from policygen.render.templating import (
    environment,
    escape_unsafe,
    header_lines,
    unique_names,
    yaml_quoted,
)

# Used as the Target when rendering CloudFormation: the generator fills the placeholders with these.
PSEUDO_PARTITION = "${AWS::Partition}"
PSEUDO_REGION = "${AWS::Region}"
PSEUDO_ACCOUNT = "${AWS::AccountId}"

# The pseudo parameters policygen itself writes: always references, whatever the source.
PSEUDO_REFERENCES = frozenset({"AWS::Partition", "AWS::Region", "AWS::AccountId"})

_REF = re.compile(r"^\$\{([A-Za-z0-9]+|AWS::[A-Za-z]+)\}$")
_GET_ATT = re.compile(r"^\$\{([A-Za-z0-9]+)\.([A-Za-z0-9.]+)\}$")
_LOGICAL_ID = re.compile(r"[A-Za-z0-9]+")
_DESCRIBE_ONLY_STAR = "batch:DescribeJobs supports no resource-level permissions: it stays on \"*\" (Service Authorization Reference, AWS Batch: docs.aws.amazon.com/service-authorization/latest/reference/list_awsbatch.html)"


@dataclass(frozen=True)
class Intrinsic:
    """A CloudFormation intrinsic function call: Ref, Fn::GetAtt or Fn::Sub."""

    function: str
    argument: str

    def yaml(self) -> str:
        short = {"Ref": "!Ref", "Fn::GetAtt": "!GetAtt", "Fn::Sub": "!Sub"}[self.function]
        return f"{short} {yaml_quoted(self.argument) if self.function == 'Fn::Sub' else self.argument}"

    def json(self) -> dict[str, Any]:
        if self.function == "Fn::GetAtt":
            return {"Fn::GetAtt": self.argument.split(".", 1)}
        return {self.function: self.argument}


def cfn_value(text: str, references: AbstractSet[str] | None = None) -> str | Intrinsic:
    """A string as CloudFormation writes it: plain, or !Ref / !GetAtt / !Sub when it refers to the
    template (Fn::Sub syntax, `${Name}`, `${Name.Attr}`, `${AWS::Region}`).

    With `references` (the names the source can refer to: its template's parameters and resources,
    and the pseudo parameters), any other `${...}` is literal text, e.g. a placeholder in a plain
    ASL file or a `${!Literal}` the template escaped: it is escaped as `${!...}` inside !Sub, so
    CloudFormation neither resolves nor rejects it."""
    if "${" not in text:
        return text
    if references is not None:
        literal_only = True

        def escape(match: re.Match[str]) -> str:
            nonlocal literal_only
            name = match[1]
            if name.startswith("!"):
                return match[0]
            if name in references or name.split(".", 1)[0] in references:
                literal_only = False
                return match[0]
            return "${!" + name + "}"

        escaped = replace_placeholders(text, escape)
        if literal_only:
            return text  # no reference left: a plain string is literal as it stands
        text = escaped
    if match := _REF.match(text):
        return Intrinsic("Ref", match[1])
    if match := _GET_ATT.match(text):
        return Intrinsic("Fn::GetAtt", f"{match[1]}.{match[2]}")
    return Intrinsic("Fn::Sub", text)


@dataclass(frozen=True)
class RoleSnippet:
    machine: str
    source: str
    logical_id: str
    policy: Policy
    state_machine_name: str | None = None  # for aws:SourceArn when the name is known
    # The names a `${...}` in the policy may refer to (None: every `${...}` is a reference).
    references: AbstractSet[str] | None = None
    # Where the state machine runs, for the trust policy: pseudo parameters unless the flags fix them.
    partition: str = PSEUDO_PARTITION
    region: str = PSEUDO_REGION
    account: str = PSEUDO_ACCOUNT


def logical_id(name: str, suffix: str) -> str:
    """A valid logical id (alphanumeric) from a state machine name."""
    words = re.split(r"[^A-Za-z0-9]+", name)
    base = "".join(word[:1].upper() + word[1:] for word in words if word) or "StateMachine"
    if not base[0].isalpha():
        base = "Sm" + base
    return base + suffix


def statement_body(statement: Statement, references: AbstractSet[str] | None = None) -> dict[str, Any]:
    def value(text: str) -> str | Intrinsic:
        return cfn_value(text, references)

    body: dict[str, Any] = {
        "Sid": statement.sid,
        "Effect": "Allow",
        "Action": list(statement.actions),
        "Resource": value("*") if statement.resources == ("*",) else [value(r) for r in statement.resources],
    }
    if statement.conditions:
        body["Condition"] = {
            operator: {key: (value(v) if isinstance(v, str) else [value(x) for x in v]) for key, v in keys.items()}
            for operator, keys in condition_json(statement.conditions).items()
        }
    return body


def statement_comment(statement: Statement) -> str:
    return _DESCRIBE_ONLY_STAR if "batch:DescribeJobs" in statement.actions and statement.resources == ("*",) else ""


def trust_policy(
    state_machine_name: str | None,
    partition: str = PSEUDO_PARTITION,
    region: str = PSEUDO_REGION,
    account: str = PSEUDO_ACCOUNT,
) -> dict[str, Any]:
    """states.amazonaws.com with the confused-deputy conditions (docs/aws-facts.md#confused-deputy), in the same
    partition, region and account as the policy: pseudo parameters, or what --region/--account
    fixed (the role is global, the state machine may run in another region than the stack). The
    state machine's own ARN would make a circular dependency with its role, so it is built, not
    !Ref'd."""
    name = state_machine_name or "*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "states.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": cfn_value(account, PSEUDO_REFERENCES)},
                    "ArnLike": {
                        "aws:SourceArn": cfn_value(
                            f"arn:{partition}:states:{region}:{account}:stateMachine:{name}", PSEUDO_REFERENCES
                        )
                    },
                },
            }
        ],
    }


def render_cloudformation(
    snippets: list[RoleSnippet],
    version: str,
    as_json: bool = False,
    attach_to: str | None = None,
    managed: bool = False,
) -> str:
    """One snippet with a Resources section holding a role (or policy) per state machine."""
    if attach_to is not None and not _LOGICAL_ID.fullmatch(attach_to):
        # Written bare after !Ref: anything but a logical id (ASCII letters and digits) is refused.
        raise UsageError(f"--attach-to {attach_to!r}: a CloudFormation logical id is ASCII letters and digits")
    resources = []
    logical_ids = unique_names([snippet.logical_id for snippet in snippets])
    # An inline policy's name is unique per role: several attached to one role must differ too.
    policy_names = unique_names(
        [f"{s.logical_id.removesuffix('ExecutionRole').removesuffix('BatchPolicy')}BatchAccess" for s in snippets]
    )
    for snippet, resource_id, policy_name in zip(snippets, logical_ids, policy_names, strict=False):
        document = {
            "Version": "2012-10-17",
            "Statement": [
                {"body": statement_body(s, snippet.references), "comment": statement_comment(s)}
                for s in snippet.policy.statements
            ],
        }
        resources.append(
            {
                "logical_id": resource_id,
                "policy_name": policy_name,
                "document": document,
                "trust": trust_policy(snippet.state_machine_name, snippet.partition, snippet.region, snippet.account),
                "machine": snippet.machine,
                "source": snippet.source,
            }
        )
    kind = "role" if attach_to is None else ("managed" if managed else "policy")
    if as_json:
        return _render_json(resources, kind, attach_to)
    template = environment().get_template("cloudformation.yaml.j2")
    return template.render(
        header=header_lines(version, sorted({s.source for s in snippets}), [s.machine for s in snippets]),
        resources=resources,
        kind=kind,
        attach_to=attach_to,
    )


def _render_json(resources: list[dict[str, Any]], kind: str, attach_to: str | None) -> str:
    """CloudFormation JSON has no comments; the same structure as the YAML template."""
    out: dict[str, Any] = {}
    for resource in resources:
        document = {
            "Version": resource["document"]["Version"],
            "Statement": [_to_json(s["body"]) for s in resource["document"]["Statement"]],
        }
        if kind == "role":
            properties = {"AssumeRolePolicyDocument": _to_json(resource["trust"])}
            if document["Statement"]:  # IAM refuses a policy without statements
                properties["Policies"] = [{"PolicyName": resource["policy_name"], "PolicyDocument": document}]
            out[resource["logical_id"]] = {"Type": "AWS::IAM::Role", "Properties": properties}
        else:
            properties = {"PolicyDocument": document, "Roles": [{"Ref": attach_to}]}
            if kind == "policy":
                properties = {"PolicyName": resource["policy_name"], **properties}
            resource_type = "AWS::IAM::ManagedPolicy" if kind == "managed" else "AWS::IAM::Policy"
            out[resource["logical_id"]] = {"Type": resource_type, "Properties": properties}
    return escape_unsafe(json.dumps({"Resources": out}, indent=2, ensure_ascii=False)) + "\n"


def _to_json(value: Any) -> Any:
    if isinstance(value, Intrinsic):
        return value.json()
    if isinstance(value, dict):
        return {key: _to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_to_json(item) for item in value]
    return value
