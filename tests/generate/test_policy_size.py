"""The policy-size warning (IAM counts a policy's characters without whitespace) and the one
encoding of each policy that the size check and the JSON output share."""

from __future__ import annotations

import json

import policygen.generate.policy
from policygen.generate.build import INLINE_POLICIES_LIMIT, MANAGED_POLICY_LIMIT

TARGET = ("--region", "us-east-1", "--account", "123456789012")


def _machine(queues: int) -> dict:
    states = {}
    for index in range(queues):
        states[f"Job {index}"] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::batch:submitJob.sync",
            "Parameters": {"JobName": f"j{index}", "JobQueue": f"queue-with-a-long-name-{index:04}",
                           "JobDefinition": "def:1", "Tags": {"team": "data science"}},
            "Next": f"Job {index + 1}",
        }
    states[f"Job {queues}"] = {"Type": "Succeed"}
    return {"StartAt": "Job 0", "States": states}


def _generate(run_cli, tmp_path, queues: int):
    path = tmp_path / "sm.asl.json"
    path.write_text(json.dumps(_machine(queues)))
    return run_cli("generate", str(path), *TARGET, "--mode", "fine-grained", "--tag", "team=data science")


def _iam_size(text: str) -> int:
    """Counted the way the check counted before it shared the output's encoding: compact JSON,
    whose only whitespace is the spaces inside strings."""
    compact = json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
    return len(compact) - compact.count(" ")


def test_a_policy_over_the_managed_limit_warns_with_its_size_without_whitespace(run_cli, tmp_path):
    result = _generate(run_cli, tmp_path, 80)
    assert result.code == 0, result.err
    size = _iam_size(result.out)
    assert MANAGED_POLICY_LIMIT < size <= INLINE_POLICIES_LIMIT
    assert f"the policy has {size:,} characters (whitespace not counted): more than the 6,144 of a managed policy\n" in result.err
    assert "inline" not in result.err


def test_a_policy_over_both_limits_says_both(run_cli, tmp_path):
    result = _generate(run_cli, tmp_path, 220)
    size = _iam_size(result.out)
    assert size > INLINE_POLICIES_LIMIT
    assert f"{size:,} characters (whitespace not counted): more than the 6,144 of a managed policy and the 10,240 of a role's inline policies" in result.err


def test_a_policy_under_the_limit_does_not_warn(run_cli, tmp_path):
    result = _generate(run_cli, tmp_path, 20)
    assert _iam_size(result.out) <= MANAGED_POLICY_LIMIT
    assert "characters" not in result.err


def test_each_policy_is_encoded_once_for_the_size_check_and_the_output(run_cli, tmp_path, monkeypatch):
    encoded: list[object] = []
    dumps, dumps_indented = json.dumps, getattr(policygen.generate.policy, "dumps_indented", None)

    def is_policy(value) -> bool:
        return isinstance(value, dict) and "Statement" in value

    def counting_dumps(value, *args, **kwargs):
        if is_policy(value):
            encoded.append(value)
        return dumps(value, *args, **kwargs)

    def counting_dumps_indented(value):
        if is_policy(value):
            encoded.append(value)
        return dumps_indented(value)

    monkeypatch.setattr(json, "dumps", counting_dumps)
    monkeypatch.setattr(policygen.generate.policy, "dumps_indented", counting_dumps_indented, raising=False)
    result = _generate(run_cli, tmp_path, 120)
    assert result.code == 0 and "characters" in result.err
    assert len(encoded) == 1
