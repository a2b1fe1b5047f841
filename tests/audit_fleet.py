"""A fleet of deployed state machines on moto's server, for tests/test_audit.py and bench/audit.py:
in each account and region, machines of three kinds, with shared or per-machine roles.

- good: a Batch submitJob.sync state, and a role with the policy `policygen generate` writes;
- missing: the same state, and a role whose policy lacks batch:DescribeJobs (a PG101 error);
- plain: a Pass state only (no Batch), and a role with no policy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BATCH_DEFINITION = (ROOT / "fixtures" / "lint" / "PG103" / "bad" / "definition.asl.json").read_text(encoding="utf-8")
PLAIN_DEFINITION = json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Pass", "End": True}}})


def trust(account: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "states.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        ],
    }

OWN_ACCOUNT = "123456789012"  # moto's default account
OTHER_ACCOUNT = "210987654321"
KINDS = ("good", "missing", "plain")


def generated_policy(region: str, account: str) -> dict:
    """What `policygen generate` writes for BATCH_DEFINITION in this region and account."""
    from policygen.load.asl import state_machine_from_asl
    from policygen.load.json_source import parse_json
    from policygen.pipeline import generate_policy, scan_state_machines

    machine = state_machine_from_asl(parse_json(BATCH_DEFINITION, "fleet.asl.json"))
    generated = generate_policy(scan_state_machines([machine]), region=region, account=account, environment={})
    return json.loads(json.dumps(generated.policy.to_json()))


def without_describe_jobs(policy: dict) -> dict:
    statements = []
    for statement in policy["Statement"]:
        actions = [a for a in statement["Action"] if a != "batch:DescribeJobs"]
        statements.append({**statement, "Action": actions})
    return {**policy, "Statement": statements}


@dataclass
class Fleet:
    """What was deployed: machine ARN -> kind, and role ARN -> the machines using it."""

    kinds: dict[str, str] = field(default_factory=dict)
    roles: dict[str, list[str]] = field(default_factory=dict)

    def of_kind(self, kind: str) -> set[str]:
        return {arn for arn, k in self.kinds.items() if k == kind}


def session_for(account: str):
    """A boto3 session whose calls land in `account`'s moto backend (moto maps the access key of
    an assumed role to the role's account)."""
    import boto3

    base = boto3.session.Session()
    if account == OWN_ACCOUNT:
        return base
    answer = base.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/fleet-admin", RoleSessionName="fleet")
    credentials = answer["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def deploy(fleet: Fleet, account: str, region: str, counts: dict[str, int], shared: dict[str, bool]) -> Fleet:
    """`counts[kind]` machines of each kind in this account and region; a kind's machines share
    one role when `shared[kind]`, else each has its own."""
    session = session_for(account)
    iam = session.client("iam", region_name=region)
    states = session.client("stepfunctions", region_name=region)
    policies = {
        "good": generated_policy(region, account),
        "missing": without_describe_jobs(generated_policy(region, account)),
        "plain": None,
    }
    for kind in KINDS:
        shared_arn = None
        for index in range(counts.get(kind, 0)):
            name = f"{kind}-{region}-{index:04d}"
            if shared_arn is None or not shared.get(kind, False):
                role = f"{kind}-{region}" if shared.get(kind, False) else f"role-{name}"
                shared_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust(account)))["Role"]["Arn"]
                if policies[kind] is not None:
                    iam.put_role_policy(RoleName=role, PolicyName="batch", PolicyDocument=json.dumps(policies[kind]))
            definition = PLAIN_DEFINITION if kind == "plain" else BATCH_DEFINITION
            arn = states.create_state_machine(name=name, definition=definition, roleArn=shared_arn)["stateMachineArn"]
            fleet.kinds[arn] = kind
            fleet.roles.setdefault(shared_arn, []).append(arn)
    return fleet
