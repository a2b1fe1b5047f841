"""Lint's cost grows with the distinct requests, not with the states that ask them; every state is
still reported on its own."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import batch_state, parallel_machine, tasks_of
from test_lint import TARGET, lint

from policygen import pipeline
from policygen.errors import Location
from policygen.iam import evaluate as evaluate_module
from policygen.lint.engine import lint_role
from policygen.lint.findings import Role, policy_source
from policygen.lint.fix import fixed_policy
from policygen.lint.roles.unit import LintUnit
from policygen.load.asl import state_machine_from_asl
from policygen.load.json_source import parse_json
from policygen.requirements import requests as requests_module
from policygen.requirements.target import Target

POLICY = [
    {"Sid": "Submit", "Effect": "Allow", "Action": "batch:SubmitJob", "Resource": "arn:aws:batch:*:*:job-queue/q"},
    {"Sid": "Tagged", "Effect": "Allow", "Action": "batch:SubmitJob", "Resource": "*", "Condition": {"StringEquals": {"aws:RequestTag/team": "x"}}},
    {"Sid": "Deny", "Effect": "Deny", "Action": "batch:Terminate*", "Resource": "*"},
    *({"Sid": f"S3{n}", "Effect": "Allow", "Action": f"s3:GetObject{n}", "Resource": "*"} for n in range(20)),
]


def _states(count: int):
    """`count` Batch states that send the same request, in a Parallel state's branches."""
    state = {
        "Type": "Task",
        "Resource": "arn:aws:states:::batch:submitJob.sync",
        "Parameters": {"JobName": "j", "JobQueue": "q", "JobDefinition": "d:1"},
        "End": True,
    }
    branches = [{"StartAt": f"Run {n}", "States": {f"Run {n}": state}} for n in range(count)]
    definition = {"StartAt": "All", "States": {"All": {"Type": "Parallel", "Branches": branches, "End": True}}}
    return pipeline.scan_state_machines([state_machine_from_asl(parse_json(json.dumps(definition), "m.asl.json"))])


def _count_resource_matches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """From now on, counts the evaluator's statement-against-request resource tests (in [0])."""
    tested = [0]
    original = evaluate_module._resource_element_matches

    def counted(statement, request):
        tested[0] += 1
        return original(statement, request)

    monkeypatch.setattr(evaluate_module, "_resource_element_matches", counted)
    return tested


def _lint_counting(monkeypatch: pytest.MonkeyPatch, count: int) -> tuple[list, int]:
    tested = _count_resource_matches(monkeypatch)
    findings = lint(POLICY, tasks=_states(count), target=TARGET)
    return findings, tested[0]


def test_states_asking_the_same_requests_cost_what_one_does(monkeypatch):
    one, tested_for_one = _lint_counting(monkeypatch, 1)
    many, tested_for_many = _lint_counting(monkeypatch, 40)
    assert tested_for_one > 0
    assert tested_for_many == tested_for_one
    # Each state is reported on its own, with the same message but for its name.
    per_state = [finding for finding in many if finding.task is not None]
    assert len(per_state) == 40 * len([finding for finding in one if finding.task is not None]) > 0
    assert len({finding.task.path for finding in per_state}) == 40
    assert _unnamed(per_state) == _unnamed(one)


def _unnamed(findings: list) -> set[tuple[str, str]]:
    return {
        (finding.rule.id, finding.message.replace(repr(finding.task.path), "'STATE'"))
        for finding in findings
        if finding.task is not None
    }


def test_states_asking_with_other_tags_get_answers_of_their_own():
    """The shared answers are keyed by all a request carries: the tag one state sends and the
    other does not changes the role's answer."""
    tagged = {"Effect": "Allow", "Action": "batch:SubmitJob", "Resource": "*", "Condition": {"StringEquals": {"aws:RequestTag/team": "x"}}}
    others = {"Effect": "Allow", "Action": ["batch:TagResource", "batch:DescribeJobs", "batch:TerminateJob", "events:*"], "Resource": "*"}
    tasks = [*_tagged_states({"team": "x"}), *_tagged_states({"team": "y"}), *_tagged_states({"team": "x"})]
    findings = lint([tagged, others], tasks=tasks, target=TARGET)
    assert [(finding.rule.id, finding.task.file) for finding in findings if finding.task is not None] == [("PG101", "m-y.asl.json")]


def _tagged_states(tags: dict):
    state = {
        "Type": "Task",
        "Resource": "arn:aws:states:::batch:submitJob.sync",
        "Parameters": {"JobName": "j", "JobQueue": "q", "JobDefinition": "d:1", "Tags": tags},
        "End": True,
    }
    definition = {"StartAt": "All", "States": {"All": {"Type": "Parallel", "Branches": [{"StartAt": "Run 0", "States": {"Run 0": state}}], "End": True}}}
    return pipeline.scan_state_machines([state_machine_from_asl(parse_json(json.dumps(definition), f"m-{tags['team']}.asl.json"))])


def _fix_counting(monkeypatch: pytest.MonkeyPatch, count: int) -> tuple[dict, int]:
    tasks = _states(count)
    policy = {"Version": "2012-10-17", "Statement": FIX_POLICY}
    role = Role("role", (policy_source(policy, "p.json", lambda pointer: Location("p.json", pointer=pointer)),))
    findings = lint_role(tasks, role, TARGET, lambda task: Location(task.file, pointer=task.pointer))
    tested = _count_resource_matches(monkeypatch)  # --fix's own tests only, after linting
    fixed, _ = fixed_policy(LintUnit(role, tuple(tasks), TARGET, ("machine",)), findings)
    return fixed, tested[0]


FIX_POLICY = [
    {"Sid": "Submit", "Effect": "Allow", "Action": "batch:SubmitJob", "Resource": "arn:aws:batch:*:*:job-queue/q"},
    # A guardrail whose condition is unknown for the states' requests: --fix narrows it.
    {"Sid": "Guard", "Effect": "Deny", "Action": ["batch:SubmitJob", "batch:TerminateJob"], "Resource": "*", "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}}},
    *({"Sid": f"S3{n}", "Effect": "Allow", "Action": f"s3:GetObject{n}", "Resource": "*"} for n in range(20)),
]


def test_fix_for_states_asking_the_same_requests_costs_what_one_does(monkeypatch):
    fixed_for_one, tested_for_one = _fix_counting(monkeypatch, 1)
    fixed_for_many, tested_for_many = _fix_counting(monkeypatch, 40)
    assert tested_for_one > 0
    assert tested_for_many == tested_for_one
    assert fixed_for_many == fixed_for_one


def test_states_sending_the_same_values_have_their_requests_made_once(monkeypatch):
    made = []
    original = requests_module.requests_of

    def counted(task, target):
        made.append(task.path)
        return original(task, target)

    monkeypatch.setattr(requests_module, "requests_of", counted)
    tasks = _states(40)
    accesses = requests_module.requests_of_tasks(tasks, TARGET)
    assert made == [tasks[0].path]
    # each state still asks as itself: the copies name their own state
    assert [access.task for access in accesses] == [task for task in tasks for _ in original(task, TARGET)]
    assert accesses == [access for task in tasks for access in original(task, TARGET)]


@settings(max_examples=60, deadline=None)
@given(st.lists(batch_state(), min_size=1, max_size=6))
def test_the_requests_made_once_per_signature_are_each_state_s_own(states):
    # States drawn from few forms repeat signatures; some differ only where they stand (a path, a
    # pointer), which the signature leaves out, or only in a value's field name ("JobQueue.$").
    tasks = tasks_of(parallel_machine(*states, *states))
    for target in (TARGET, Target(partition="aws", region=None, account=None)):
        expected = [access for task in tasks for access in requests_module.requests_of(task, target)]
        assert requests_module.requests_of_tasks(tasks, target) == expected
