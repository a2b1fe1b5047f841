"""Policies -> Terraform: a `data "aws_iam_policy_document"` block per state machine.

Parts not given on the command line come from data sources: the generator is run with these
interpolations as its Target, and only the data sources the policies use are declared."""

from __future__ import annotations

import re
from dataclasses import dataclass

from policygen.generate.policy import Policy, Statement, condition_json
from policygen.render.templating import (
    environment,
    hcl_string,
    header_lines,
    unique_names,
)

PSEUDO_PARTITION = "${data.aws_partition.current.partition}"
# AWS provider v6 names the region `region` and deprecates `name`, which v5 has alone
# (registry.terraform.io/providers/hashicorp/aws/latest/docs/data-sources/region).
PSEUDO_REGION = "${data.aws_region.current.region}"
PROVIDER_VERSIONS = (6, 5)
_SPELLED_FOR = {5: {PSEUDO_REGION: "${data.aws_region.current.name}"}}
PSEUDO_ACCOUNT = "${data.aws_caller_identity.current.account_id}"
_DATA_SOURCES = {
    PSEUDO_PARTITION: 'data "aws_partition" "current" {}',
    PSEUDO_REGION: 'data "aws_region" "current" {}',
    PSEUDO_ACCOUNT: 'data "aws_caller_identity" "current" {}',
}
_OURS = re.compile("|".join(re.escape(text) for text in _DATA_SOURCES))


@dataclass(frozen=True)
class PolicyBlock:
    machine: str
    source: str
    policy: Policy


def block_name(machine: str) -> str:
    """A Terraform identifier from a state machine name."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", machine).strip("_").lower() or "state_machine"
    return name if name[0].isalpha() or name[0] == "_" else f"sm_{name}"


def hcl_value(text: str, provider: int = PROVIDER_VERSIONS[0]) -> str:
    """A string literal where policygen's own data-source interpolations stay live, spelled for AWS
    provider `provider`, and every other `${` is escaped (an IAM policy variable, or a
    CloudFormation reference, is literal text here)."""
    spelled = _SPELLED_FOR.get(provider, {})
    pieces = []
    position = 0
    for match in _OURS.finditer(text):
        literal = hcl_string(text[position:match.start()])[1:-1]
        if literal.endswith("$"):
            # `$` then `${` would read as the escape `$${`: the interpolation would become text.
            literal = literal[:-1] + "\\u0024"
        pieces.append(literal)
        pieces.append(spelled.get(match[0], match[0]))
        position = match.end()
    pieces.append(hcl_string(text[position:])[1:-1])
    return '"' + "".join(pieces) + '"'


def _statement(statement: Statement, provider: int) -> dict:
    conditions = [
        {"test": operator, "variable": key, "values": [hcl_value(v, provider) for v in ([value] if isinstance(value, str) else value)]}
        for operator, keys in condition_json(statement.conditions).items()
        for key, value in keys.items()
    ]
    comment = ""
    if "batch:DescribeJobs" in statement.actions and statement.resources == ("*",):
        comment = 'batch:DescribeJobs supports no resource-level permissions: it stays on "*" (Service Authorization Reference, AWS Batch: docs.aws.amazon.com/service-authorization/latest/reference/list_awsbatch.html)'
    return {
        "sid": hcl_value(statement.sid, provider),
        "actions": [hcl_value(a, provider) for a in statement.actions],
        "resources": [hcl_value(r, provider) for r in statement.resources],
        "conditions": conditions,
        "comment": comment,
    }


def render_terraform(blocks: list[PolicyBlock], version: str, provider: int = PROVIDER_VERSIONS[0]) -> str:
    """The blocks, with the data sources they use, for AWS provider `provider` (6, or 5)."""
    if provider not in PROVIDER_VERSIONS:
        raise ValueError(f"AWS provider {provider}: expected one of {PROVIDER_VERSIONS}")
    used = set()
    for block in blocks:
        for statement in block.policy.statements:
            for text in (*statement.resources, *(v for _, _, values in statement.conditions for v in values)):
                used.update(match[0] for match in _OURS.finditer(text))
    template = environment().get_template("terraform.tf.j2")
    return template.render(
        header=header_lines(version, sorted({b.source for b in blocks}), [b.machine for b in blocks]),
        data_sources=[declaration for text, declaration in _DATA_SOURCES.items() if text in used],
        blocks=[
            {"name": name, "machine": b.machine, "source": b.source,
             "statements": [_statement(s, provider) for s in b.policy.statements]}
            for b, name in zip(blocks, unique_names([block_name(b.machine) for b in blocks], "_"), strict=False)
        ],
    )
