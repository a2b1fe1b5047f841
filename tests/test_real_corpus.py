"""Real public roles (fixtures/real/<example>/): `policygen lint` gives the verdicts reviewed in each
example's PROVENANCE.md, and the policy `policygen generate` writes for the same states lints clean.

Each folder holds a minimal excerpt (the Task states and the role as their authors wrote
them), `expected.json` (the lint arguments, the findings as rule / state / statement / action, and
how to generate) and `PROVENANCE.md` (where it comes from, its license, why each finding is right).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "fixtures" / "real"
EXAMPLES = sorted(path.name for path in REAL.iterdir() if (path / "expected.json").is_file())

# Examples whose expected verdicts depend on changes other helpers are making at the same time
# (expected.json already holds the verdict the issue intends). The coordinator removes an entry
# once the change it names is merged and the example passes.
PENDING_OTHER_CHANGES: dict[str, str] = {  # example -> why its verdict waits for a change elsewhere
    "aws-samples-distributed-map-csv-iterator": (
        "lint: SAM policy templates are not expanded, so what they cannot grant (DescribeExecution, StopExecution) is PG203, "
        "not the PG101 SAM's table supports; the child's TableName !Ref is not matched (PG203)"
    ),
    "cdk-call-aws-service-s3": "lint: a Bucket given as `!Ref Bucket` is not matched to the role's `${Bucket.Arn}/*` (PG203 today)",
    "cdk-ecs-fargate-run-task": "lint: a policy with Fn::Select/Fn::Split is unreadable (PG203 on the RunTask states)",
    "cdk-start-execution": "lint: a policy with Fn::Select/Fn::Split is unreadable (PG203 on DescribeExecution and StopExecution)",
}

_ACTION = re.compile(r"\bneeds? ([a-z0-9-]+:[A-Za-z0-9*]+)")
_QUIET = ("error", "warning")  # a generated policy may still get suggestions (PG301, PG302)


def _expected(name: str) -> dict:
    return json.loads((REAL / name / "expected.json").read_text(encoding="utf-8"))


def _key(finding: dict) -> tuple:
    """What a verdict is about: the rule, the state or the policy statement, and the action."""
    statements = finding["statements"]
    statement = f"{statements[0]['policy']}#{statements[0]['index']}" if statements else None
    state = finding["state"]["path"] if finding["state"] else None
    match = _ACTION.search(finding["message"]) if state else None
    return (finding["ruleId"], state, statement, match[1] if match else None)


def _lint(run_cli, *args: str) -> list[dict]:
    result = run_cli("lint", *args, "--format", "json", "--fail-on", "suggestion")
    assert result.code in (0, 1), result.err
    return json.loads(result.out)["findings"]


def _marks(name: str):
    reason = PENDING_OTHER_CHANGES.get(name)
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


@pytest.fixture
def in_example(monkeypatch):
    def enter(name: str) -> dict:
        monkeypatch.chdir(REAL / name)  # findings name the files as the arguments do
        return _expected(name)

    return enter


def test_the_corpus_has_its_examples_and_each_its_provenance():
    assert len(EXAMPLES) >= 19
    for name in EXAMPLES:
        provenance = (REAL / name / "PROVENANCE.md").read_text(encoding="utf-8")
        for heading in ("Source", "License", "Excerpted", "Expected verdicts"):
            assert f"## {heading}" in provenance, (name, heading)
    assert set(PENDING_OTHER_CHANGES) <= set(EXAMPLES)


@pytest.mark.parametrize("name", [pytest.param(name, marks=_marks(name)) for name in EXAMPLES])
def test_lint_gives_the_reviewed_verdicts(run_cli, in_example, name):
    expected = in_example(name)
    found = Counter(_key(finding) for finding in _lint(run_cli, *expected["lint"]))
    wanted = Counter((item["rule"], item["state"], item["statement"], item["action"]) for item in expected["findings"])
    assert found == wanted


@pytest.mark.parametrize("mode", ["documented", "fine-grained"])
@pytest.mark.parametrize("name", EXAMPLES)
def test_the_generated_policy_lints_clean(run_cli, in_example, tmp_path, name, mode):
    expected = in_example(name)
    generate = expected["generate"]
    result = run_cli("generate", *generate["args"], "--mode", mode)
    assert result.code == 0, result.err
    policy = tmp_path / "generated.json"
    policy.write_text(result.out, encoding="utf-8")
    allowed = set(generate["allowed"].get(mode, ()))
    findings = _lint(run_cli, *generate["lint"], "--policy", str(policy))
    serious = [f"{f['ruleId']}: {f['message']}" for f in findings if f["severity"] in _QUIET and f["ruleId"] not in allowed]
    assert not serious
