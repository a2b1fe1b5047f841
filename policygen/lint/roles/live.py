"""The role `policygen lint --role` reads from AWS IAM with boto3: its trust policy, its inline
policies and the default version of each attached managed policy, as a lint Role.

boto3 is imported here, and only when --role is given (the `live` extra): the other commands
start without it. The client follows the standard AWS environment (AWS_PROFILE, AWS_REGION,
AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_IAM, ...), as the AWS CLI does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from policygen.errors import InputError, Location, Notice, UsageError
from policygen.lint.findings import Role, TrustPolicy, policy_source

# arn:PARTITION:iam::ACCOUNT:role/PATH/NAME; get_role takes the NAME alone.
_ROLE_ARN = re.compile(r"^arn:[a-z-]+:iam::\d{12}:role/(?:[^/]+/)*([^/]+)$")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")  # IAM's RoleName pattern
INSTALL_HINT = "pip install 'policygen[live]'"


@dataclass(frozen=True)
class LiveRole:
    """The role as read from IAM, and what the user should know about what was not read."""

    role: Role
    notices: tuple[Notice, ...]


def role_name(role: str) -> str:
    """The role name of a role name or role ARN (UsageError for anything else)."""
    match = _ROLE_ARN.match(role)
    if match:
        return match.group(1)
    if _ROLE_NAME.match(role):
        return role
    raise UsageError(f"--role {role}: expected a role name or a role ARN (arn:aws:iam::123456789012:role/NAME)")


def read_live_role(role: str, region: str | None = None) -> LiveRole:
    """Read `role` (a name or ARN) with boto3's IAM client; every AWS or botocore error becomes
    one InputError naming the role."""
    name = role_name(role)
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        raise UsageError("--role reads the role from AWS with boto3, which is not installed", hint=INSTALL_HINT) from None
    where = Location(f"iam:role/{name}")
    try:
        # A new session reads the environment now (boto3's default one caches credentials); IAM
        # is global, but --region picks the partition's endpoint (aws-cn, aws-us-gov).
        client = boto3.session.Session(region_name=region).client("iam")
        return read_role(client, name)
    except ClientError as error:
        code, message = client_error_parts(error)
        if code == "NoSuchEntity":
            raise InputError(f"cannot read the role: it does not exist ({message})", where) from None
        raise InputError(f"cannot read the role: {code}: {message}", where) from None
    except BotoCoreError as error:  # no credentials, no endpoint, unknown profile, ...
        raise InputError(f"cannot read the role: {_one_line(str(error))}", where) from None


def client_error_parts(error: Any) -> tuple[str, str]:
    """The error code and one-line message of a botocore ClientError."""
    details = error.response.get("Error", {})
    return details.get("Code", "error"), _one_line(details.get("Message") or str(error))


def read_role(client: Any, name: str) -> LiveRole:
    """The role `name` read with an IAM client (boto3's, or one that makes the same calls):
    GetRole, ListRolePolicies + GetRolePolicy, ListAttachedRolePolicies + GetPolicy +
    GetPolicyVersion of each default version. botocore's errors pass through to the caller,
    which knows what one means for it (`lint --role`: exit 2; `audit`: a finding)."""
    where = Location(f"iam:role/{name}")
    details = client.get_role(RoleName=name)["Role"]
    trust_source = f"iam:role/{name}/trust"
    trust = TrustPolicy(_document(details["AssumeRolePolicyDocument"], trust_source), trust_source, _locator(trust_source))
    sources = []
    for policy in sorted(_paginate(client, "list_role_policies", "PolicyNames", RoleName=name)):
        source = f"iam:role/{name}/inline/{policy}"
        data = client.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
        sources.append(policy_source(_document(data, source), source, _locator(source)))
    attached = _paginate(client, "list_attached_role_policies", "AttachedPolicies", RoleName=name)
    for arn in sorted({policy["PolicyArn"] for policy in attached}):
        source = f"iam:policy/{arn}"
        version = client.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        data = client.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
        sources.append(policy_source(_document(data, source), source, _locator(source)))
    notices = []
    if details.get("PermissionsBoundary"):
        boundary = details["PermissionsBoundary"].get("PermissionsBoundaryArn", "?")
        notices.append(Notice(f"the role's permissions boundary {boundary} is not checked: it can only take permissions away", where))
    role = Role(name=details.get("Arn", name), policies=tuple(sources), trust=trust, location=where)
    return LiveRole(role, tuple(notices))


def _paginate(client: Any, operation: str, key: str, **arguments: str) -> list:
    return [item for page in client.get_paginator(operation).paginate(**arguments) for item in page.get(key, [])]


def _document(data: Any, source: str) -> Any:
    """A policy document as plain JSON values. botocore URL-decodes and parses IAM's policy
    documents already; a string (an older botocore, a proxy) is decoded here the same way."""
    if isinstance(data, str):
        try:
            data = json.loads(unquote(data))
        except ValueError as error:
            raise InputError(f"the policy document is not JSON: {error}", Location(source)) from None
    return json.loads(json.dumps(data))  # OrderedDicts and all as plain dicts, order kept


def _locator(source: str):
    return lambda pointer: Location(source, pointer=pointer)


def _one_line(text: str) -> str:
    return " ".join(text.split())
