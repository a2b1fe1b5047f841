"""The role `policygen lint` checks, from policy files.

Two ways to name the role: policy files (`--policy`, several = one role; `--trust-policy`), which
apply to every state machine given; or, for a CloudFormation/SAM template without `--policy`, the
role each state machine names in the template (policygen/lint/roles/template.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from policygen.lint.findings import Role, TrustPolicy, policy_source
from policygen.load import load_document
from policygen.load.document import Document


def load_role_files(policy_paths: Sequence[str], trust_path: str | None) -> Role:
    """The role made of these policy files (and trust policy): each file is one IAM policy
    document, or the output of `aws iam get-role-policy` (`{"PolicyDocument": {...}}`)."""
    sources = []
    for path in policy_paths:
        document = load_document(path)
        data, prefix = _unwrap(document.data, "PolicyDocument")
        sources.append(policy_source(data, document.name, _locator(document, prefix)))
    trust = None
    if trust_path is not None:
        document = load_document(trust_path)
        data, prefix = _unwrap(document.data, "AssumeRolePolicyDocument")
        trust = TrustPolicy(data, document.name, _locator(document, prefix))
    return Role(name=", ".join(policy_paths), policies=tuple(sources), trust=trust)


def _unwrap(data, key: str):
    if isinstance(data, dict) and key in data and "Statement" not in data:
        return data[key], f"/{key}"
    return data, ""


def _locator(document: Document, prefix: str):
    return lambda pointer: document.location(prefix + pointer)
