"""Properties of `lint` against `generate` over random state machines (hypothesis).

For any definition, the policy `generate` writes (documented and fine-grained mode) lints with no
error and no warning against that definition (suggestions such as PG301 may remain: the documented
policy is SubmitJob on "*" by design, REFERENCE.md §2), and removing any one of its statements
gives at least one PG1xx finding whenever a request the states make is no longer allowed.

Two exceptions, both checked here with the evaluator directly rather than through the linter:
- the removed statement was redundant (every request it allowed is still allowed): `generate`
  sometimes writes a statement that another one already covers, e.g. TagResource on job/* with the
  sent-tag conditions beside TagResource on job/* without (a state with static Tags beside one with
  dynamic Tags); test_generator_redundancy_is_known pins one such case;
- every request it alone allowed names its resource only at run time (`JobQueue.$`) or carries a
  value known only at run time (`ShareIdentifier.$`): then the linter says PG203 "cannot verify",
  by design, instead of claiming the execution fails.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import machine, tasks_of

from policygen import pipeline
from policygen.errors import Location
from policygen.iam.evaluate import evaluate
from policygen.iam.request import Decision, Request
from policygen.lint.engine import lint_role
from policygen.lint.findings import Role, policy_source
from policygen.lint.rules import Severity
from policygen.requirements.needs import Options
from policygen.requirements.requests import requests_of
from policygen.requirements.target import resolve_target

PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REGION, ACCOUNT = "eu-west-1", "111122223333"
def _lint(tasks, policy: dict, known_target: bool = True):
    target = resolve_target(tasks, REGION if known_target else None, ACCOUNT if known_target else None, {})
    role = Role("policy.json", (policy_source(policy, "policy.json", lambda p: Location("policy.json", pointer=p)),))
    return lint_role(tasks, role, target, lambda task: Location(task.file, pointer=task.pointer))


def _generated(tasks, mode: str) -> dict:
    return pipeline.generate_policy(tasks, REGION, ACCOUNT, {}, options=Options(mode=mode)).policy.to_json()


@PROFILE
@given(machine(), st.sampled_from(["documented", "fine-grained"]))
def test_generated_policy_lints_clean(data, mode):
    tasks = tasks_of(data)
    policy = _generated(tasks, mode)
    for known_target in (True, False):  # unknown region/account: matched with those parts open
        findings = _lint(tasks, policy, known_target)
        assert [f.message for f in findings if f.severity is not Severity.SUGGESTION] == []


def _decision(access, policy: dict) -> Decision:
    document = policy_source(policy, "policy.json", lambda p: Location("policy.json", pointer=p)).document
    decisions = {
        evaluate(Request(access.action, resource, dict(access.context), access.known_keys), [document]).decision
        for resource in access.resources
    }
    for decision in (Decision.ALLOWED, Decision.UNKNOWN, Decision.EXPLICIT_DENY):
        if decision in decisions:
            return decision
    return Decision.IMPLICIT_DENY


def _without(policy: dict, index: int) -> dict:
    statements = policy["Statement"][:index] + policy["Statement"][index + 1 :]
    # A policy needs a statement: keep one that no Batch state needs.
    return {"Version": "2012-10-17", "Statement": statements or [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}


@PROFILE
@given(machine(), st.sampled_from(["documented", "fine-grained"]))
def test_removing_a_needed_statement_gives_an_error(data, mode):
    tasks = tasks_of(data)
    policy = _generated(tasks, mode)
    target = resolve_target(tasks, REGION, ACCOUNT, {})
    accesses = [access for task in tasks for access in requests_of(task, target)]
    for index, removed in enumerate(policy["Statement"]):
        rest = _without(policy, index)
        lost = [access for access in accesses if _decision(access, rest) is not Decision.ALLOWED]
        if not lost:
            continue  # a redundant statement (see the module docstring)
        rules = {finding.rule.id for finding in _lint(tasks, rest)}
        definite = [a for a in lost if a.exact and _decision(a, rest) is Decision.IMPLICIT_DENY]
        # A resource AWS's documents disagree about (job/*, the job definition) is PG205 when some
        # document says the call works without it (rules/integrations/batch.yaml, `disputed`).
        if any(a.dispute is None for a in definite):
            assert any(rule.startswith("PG1") for rule in rules), f"no PG1xx finding without {removed}"
        elif definite:
            assert "PG205" in rules or any(rule.startswith("PG1") for rule in rules), f"nothing reported without {removed}"
        else:
            assert "PG203" in rules or any(rule.startswith("PG1") for rule in rules), f"nothing reported without {removed}"


def test_generator_drops_a_statement_another_covers():
    """One state with static Tags and one with dynamic Tags: TagResource on job/* with the tag
    conditions is covered by TagResource on job/* without any, so generate writes only the latter
    and removing any statement it writes breaks some state."""
    state = {"Type": "Task", "Resource": "arn:aws:states:::batch:submitJob", "End": True}
    tagged = dict(state, Parameters={"JobName": "a", "JobQueue": "q", "JobDefinition": "d", "Tags": {"team": "x"}})
    dynamic = dict(state, Parameters={"JobName": "b", "JobQueue": "q", "JobDefinition": "d", "Tags.$": "$.tags"})
    data = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "A", "States": {"A": tagged}}, {"StartAt": "B", "States": {"B": dynamic}}]}}}
    tasks = tasks_of(data)
    policy = _generated(tasks, "documented")
    for index in range(len(policy["Statement"])):
        assert any(f.rule.id.startswith("PG1") for f in _lint(tasks, _without(policy, index)))
