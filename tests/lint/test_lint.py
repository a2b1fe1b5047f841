"""The lint engine on small policies: which rule each situation gets, per REFERENCE.md."""

from __future__ import annotations

import json

import pytest

from policygen import pipeline
from policygen.errors import Location
from policygen.lint.engine import lint_role
from policygen.lint.findings import Role, TrustPolicy, policy_source
from policygen.load.asl import state_machine_from_asl
from policygen.load.json_source import parse_json
from policygen.requirements.requests import requests_of
from policygen.requirements.target import Target

TARGET = Target("aws", "us-east-1", "123456789012")
RULE = "arn:aws:events:us-east-1:123456789012:rule/StepFunctionsGetEventsForBatchJobsRule"
BATCH_RUN = {"Effect": "Allow", "Action": ["batch:SubmitJob", "batch:DescribeJobs", "batch:TerminateJob"], "Resource": "*"}
EVENTS = ["events:PutTargets", "events:PutRule", "events:DescribeRule"]


def tasks_of(resource: str = "arn:aws:states:::batch:submitJob.sync", **parameters):
    state = {"Type": "Task", "Resource": resource, "Parameters": {"JobName": "j", **parameters}, "End": True}
    definition = {"StartAt": "Run", "States": {"Run": state}}
    return pipeline.scan_state_machines([state_machine_from_asl(parse_json(json.dumps(definition), "m.asl.json"))])


def lint(statements, tasks=None, target=TARGET, trust=None):
    tasks = tasks if tasks is not None else tasks_of(JobQueue="q", **{"JobDefinition.$": "$.d"})
    locate = lambda pointer: Location("policy.json", pointer=pointer)  # noqa: E731
    policy = policy_source({"Version": "2012-10-17", "Statement": statements}, "policy.json", locate)
    trust_policy = None if trust is None else TrustPolicy(trust, "trust.json", lambda p: Location("trust.json", pointer=p))
    role = Role("role", (policy,), trust_policy)
    return lint_role(tasks, role, target, lambda task: Location(task.file, pointer=task.pointer))


def ids(findings) -> list[str]:
    return sorted(finding.rule.id for finding in findings)


def events_on(resource):
    return {"Effect": "Allow", "Action": EVENTS, "Resource": resource}


def test_documented_run_job_policy_is_clean():
    """REFERENCE.md §2, Run a Job (.sync)."""
    assert ids(lint([BATCH_RUN, events_on(RULE)])) == []


@pytest.mark.parametrize(
    "resource, difference",
    [
        ("arn:aws:events:us-east-1:123456789012:rule/StepFunctionsGetEventsForECSTaskRule", "rule 'StepFunctionsGetEventsForECSTaskRule'"),
        ("arn:aws:events:eu-west-1:123456789012:rule/StepFunctionsGetEventsForBatchJobsRule", "region 'eu-west-1'"),
        ("arn:aws-us-gov:events:us-east-1:123456789012:rule/StepFunctionsGetEventsForBatchJobsRule", "partition 'aws-us-gov'"),
        ("arn:aws:events:us-east-1:111111111111:rule/StepFunctionsGetEventsForBatchJobsRule", "account '111111111111'"),
    ],
)
def test_managed_rule_on_the_wrong_arn_is_pg103(resource, difference):
    """REFERENCE.md §2: the rule name is fixed, in the state machine's partition, region, account."""
    findings = lint([BATCH_RUN, events_on(resource)])
    assert ids(findings) == ["PG103"]
    assert difference in findings[0].message


def test_region_left_open_does_not_judge_the_rule_region():
    findings = lint([BATCH_RUN, events_on(RULE.replace("us-east-1", "eu-west-1"))], target=Target("aws", None, None))
    assert ids(findings) == []


def test_put_rule_on_every_rule_is_over_broad():
    findings = lint([BATCH_RUN, events_on("*")])
    assert ids(findings) == ["PG201"] and "events:PutRule on any EventBridge rule" in findings[0].message


def test_not_action_is_over_broad():
    assert "PG201" in ids(lint([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]))


@pytest.mark.parametrize("action, broad", [("*", True), ("*:*", True), ("", False), (":*", False)])
def test_every_action_is_only_a_star_service(action, broad):
    """"" and ":*" name no service: IAM matches them to no action, so they are not "every action
    of every service" (the evaluator, rightly, finds the states' requests not allowed: PG101)."""
    found = ids(lint([BATCH_RUN, events_on(RULE), {"Effect": "Allow", "Action": action, "Resource": "*"}]))
    assert found == (["PG201"] if broad else [])


def test_service_wildcards_are_over_broad_but_other_services_are_not_judged():
    findings = lint([BATCH_RUN, events_on(RULE), {"Effect": "Allow", "Action": ["s3:*", "logs:*"], "Resource": "*"}])
    assert ids(findings) == []
    assert ids(lint([{"Effect": "Allow", "Action": ["Batch:*", "events:*"], "Resource": "*"}])) == ["PG201"]


def test_events_statements_for_other_integrations_are_not_unneeded():
    """An ECS .sync state has its own managed rule; EventBridge tasks need events:PutEvents."""
    ecs_rule = "arn:aws:events:us-east-1:123456789012:rule/StepFunctionsGetEventsForECSTaskRule"
    statements = [BATCH_RUN, events_on(RULE), events_on(ecs_rule), {"Effect": "Allow", "Action": "events:PutEvents", "Resource": "*"}]
    assert ids(lint(statements)) == []


def test_managed_rule_permissions_without_sync_are_unneeded():
    tasks = tasks_of("arn:aws:states:::batch:submitJob", JobQueue="q", **{"JobDefinition.$": "$.d"})
    findings = lint([{"Effect": "Allow", "Action": "batch:SubmitJob", "Resource": "*"}, events_on(RULE)], tasks)
    assert ids(findings) == ["PG202"] and "no state uses the .sync integration" in findings[0].message


def test_condition_on_a_run_time_key_cannot_be_verified():
    conditioned = dict(BATCH_RUN, Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
    findings = lint([conditioned, events_on(RULE)])
    assert set(ids(findings)) == {"PG203"}


def test_tag_conditions_hold_for_the_tags_the_state_sends():
    """REFERENCE.md §4: SubmitJob under aws:RequestTag, TerminateJob under aws:ResourceTag."""
    tasks = tasks_of(JobQueue="q", JobDefinition="d:1", Tags={"team": "genomics"})
    submit = {"Effect": "Allow", "Action": ["batch:SubmitJob", "batch:TagResource"], "Resource": "*",
              "Condition": {"StringEquals": {"aws:RequestTag/team": "genomics"}}}
    terminate = {"Effect": "Allow", "Action": "batch:TerminateJob", "Resource": "*",
                 "Condition": {"StringEquals": {"aws:ResourceTag/team": "genomics"}}}
    describe = {"Effect": "Allow", "Action": "batch:DescribeJobs", "Resource": "*"}
    assert ids(lint([submit, terminate, describe, events_on(RULE)], tasks)) == []  # tag conditions: not "any queue"
    wrong = dict(submit, Condition={"StringEquals": {"aws:RequestTag/team": "finance"}})
    assert ids(lint([wrong, terminate, describe, events_on(RULE)], tasks)).count("PG101") == 2  # SubmitJob, TagResource


def test_consumable_resources_are_not_required_unless_named():
    """The fine-grained policy allows consumable-resource/* defensively; a role without it is not wrong."""
    tasks = tasks_of("arn:aws:states:::batch:submitJob", JobQueue="q", JobDefinition="d:1")
    arns = [f"arn:aws:batch:us-east-1:123456789012:{name}" for name in ("job-queue/q", "job-definition/d:1", "job/*")]
    assert ids(lint([{"Effect": "Allow", "Action": "batch:SubmitJob", "Resource": arns}], tasks)) == []
    named = tasks_of("arn:aws:states:::batch:submitJob", JobQueue="q", JobDefinition="d:1",
                     ConsumableResourcePropertiesOverride={"ConsumableResourceList": [{"ConsumableResource": "licences", "Quantity": 1}]})
    assert ids(lint([{"Effect": "Allow", "Action": "batch:SubmitJob", "Resource": arns}], named)) == ["PG101"]


def test_requests_use_the_latest_revision_of_an_unrevisioned_job_definition():
    """REFERENCE.md §3: `name` asks for the latest revision, matched by job-definition/name:*."""
    (task,) = tasks_of("arn:aws:states:::batch:submitJob", JobQueue="q", JobDefinition="report")
    resources = [access.resources for access in requests_of(task, TARGET)]
    assert ("arn:aws:batch:us-east-1:123456789012:job-definition/report:policygen-any",) in resources


def test_sdk_call_needs_any_one_of_its_resource_types():
    tasks = tasks_of("arn:aws:states:::aws-sdk:batch:tagResource")
    statement = {"Effect": "Allow", "Action": "batch:TagResource", "Resource": "arn:aws:batch:*:*:job/*"}
    assert ids(lint([statement], tasks)) == []
    assert ids(lint([{"Effect": "Allow", "Action": "batch:ListJobs", "Resource": "*"}], tasks)) == ["PG101", "PG202"]


def test_unknown_action_suggests_the_closest():
    findings = lint([BATCH_RUN, events_on(RULE), {"Effect": "Allow", "Action": "events:PutRules", "Resource": RULE}])
    assert ids(findings) == ["PG104"] and "did you mean events:PutRule?" in findings[0].message


def test_unknown_wildcard_and_uncatalogued_services():
    statements = [BATCH_RUN, events_on(RULE), {"Effect": "Allow", "Action": ["batch:Frobnicate*", "nosuchservice:GetObjects"], "Resource": "*"}]
    findings = lint(statements)
    # A service the catalogue does not ship is not judged (its actions are unknown, not wrong).
    assert ids(findings) == ["PG104"] and "batch:Frobnicate*" in findings[0].message


def test_unknown_action_of_any_service():
    """The catalogue ships every IAM service: a typo in an SQS or S3 action is PG104 too."""
    statements = [BATCH_RUN, events_on(RULE), {"Effect": "Allow", "Action": ["sqs:SendMesage", "s3:GetObject", "s3:Get*Tagz"], "Resource": "*"}]
    findings = lint(statements)
    assert ids(findings) == ["PG104", "PG104"]
    assert "sqs:SendMesage, which matches no sqs action; did you mean sqs:SendMessage?" in findings[0].message
    assert "s3:Get*Tagz" in findings[1].message


TRUST = {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}


@pytest.mark.parametrize(
    "statements, expected",
    [
        ([TRUST], ["PG302"]),
        ([dict(TRUST, Condition={"StringEquals": {"aws:SourceAccount": "123456789012"}})], []),
        ([dict(TRUST, Principal={"Service": ["lambda.amazonaws.com", "states.us-east-1.amazonaws.com"]},
               Condition={"ArnLike": {"aws:SourceArn": "arn:aws:states:*:123456789012:stateMachine:*"}})], []),
        ([dict(TRUST, Principal={"Service": "lambda.amazonaws.com"})], ["PG105"]),
        ([dict(TRUST, Action="sts:TagSession")], ["PG105"]),
        ([dict(TRUST, Condition={"StringEquals": {"aws:SourceAccount": "999999999999"}})], ["PG105"]),
        ([TRUST, dict(TRUST, Effect="Deny")], ["PG105", "PG302"]),
        # Everyone may assume the role: PG106 (and, as it also lets Step Functions in, PG302).
        ([dict(TRUST, Principal={"AWS": "*"})], ["PG106", "PG302"]),
        ([dict(TRUST, Principal={"AWS": ["arn:aws:iam::123456789012:root", "*"]})], ["PG106", "PG302"]),
        # Whether aws:PrincipalOrgID is in Step Functions' request is not documented: it cannot be
        # verified (PG203), where it used to be silence.
        ([dict(TRUST, Principal="*", Action="sts:*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc"}})], ["PG203", "PG302"]),
        ([TRUST, dict(TRUST, Effect="Deny", Principal={"AWS": ["*"]})], ["PG105", "PG302"]),
    ],
)
def test_trust_policy(statements, expected):
    """REFERENCE.md §5: trust states.amazonaws.com, with aws:SourceAccount / aws:SourceArn."""
    findings = lint([BATCH_RUN, events_on(RULE)], trust={"Version": "2012-10-17", "Statement": statements})
    assert ids(findings) == expected


def test_deny_in_a_region_is_not_certain_while_the_region_is_unknown():
    deny = {"Effect": "Deny", "Action": "batch:TerminateJob", "Resource": "arn:aws:batch:eu-west-1:*:job/*"}
    statements = [BATCH_RUN, events_on(RULE), deny]
    assert ids(lint(statements)) == []  # us-east-1: the Deny is elsewhere
    findings = lint(statements, target=Target("aws", None, "123456789012"))
    assert ids(findings) == ["PG203"] and "denies it in some regions" in findings[0].message
    assert "PG102" in ids(lint(statements, target=Target("aws", "eu-west-1", "123456789012")))


def test_an_action_with_surrounding_whitespace_is_unknown():
    # IAM compares the action text as written: " batch:TerminateJob" grants nothing.
    statements = [BATCH_RUN, events_on(RULE), {"Effect": "Allow", "Action": " batch:TerminateJob", "Resource": "*"}]
    findings = lint(statements)
    assert "PG104" in ids(findings)
    assert "did you mean batch:TerminateJob?" in next(f for f in findings if f.rule.id == "PG104").message
