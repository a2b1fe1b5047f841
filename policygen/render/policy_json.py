"""A policy document as IAM JSON: two-space indent, keys in IAM's usual order, a final newline."""

from __future__ import annotations

import json

from policygen.generate.policy import Policy


def render_policy_json(policy: Policy) -> str:
    return json.dumps(policy.to_json(), indent=2, ensure_ascii=False) + "\n"
