"""A policy document as IAM JSON: two-space indent, keys in IAM's usual order, a final newline."""

from __future__ import annotations

from policygen.generate.policy import Policy


def render_policy_json(policy: Policy) -> str:
    return policy.json_text + "\n"
