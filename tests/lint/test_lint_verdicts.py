"""Lint verdicts a security engineer can trust: an error only where every AWS source agrees the call
fails, a warning that cites both sides where they disagree, a certain answer where IAM's rules
decide it, and rules that report what they say they report.

Sources checked for these tests:
- Service Authorization Reference, AWS Batch
  (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsbatch.html): SubmitJob
  lists job-queue* and job* (required), job-definition optional; DescribeJobs/ListJobs list no
  resource type: "If there is no value for this column, you must specify all resources ("*")".
- AWS Batch User Guide, "Resource: Restrict to a job queue"
  (https://docs.aws.amazon.com/batch/latest/userguide/iam-example-restrict-job-queue.html): "When
  scoping resource-level access for job submission, you must provide both job queue and job
  definition resource types", and the example grants no job/*.
- IAM User Guide, "Condition operators" (reference_policies_elements_condition_operators.html): a
  key missing from the request context does not match, a negated operator then matches, ...IfExists
  matches, Null "true" matches; "Single-valued vs. multivalued context keys": ForAllValues "also
  returns true if there are no context keys in the request".
"""

from __future__ import annotations

import pytest
from test_lint import ids, lint, tasks_of

from policygen.requirements.table import batch_table

ACCOUNT_ARN = "arn:aws:batch:us-east-1:123456789012"
QUEUE = f"{ACCOUNT_ARN}:job-queue/etl"
DEFINITION_ANY_REVISION = f"{ACCOUNT_ARN}:job-definition/report:*"
JOBS = f"{ACCOUNT_ARN}:job/*"
SAR = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsbatch.html"
BATCH_GUIDE = "https://docs.aws.amazon.com/batch/latest/userguide/iam-example-restrict-job-queue.html"


def submit_tasks():
    return tasks_of("arn:aws:states:::batch:submitJob", JobQueue="etl", JobDefinition="report")


def submit_on(*resources):
    return {"Effect": "Allow", "Action": "batch:SubmitJob", "Resource": list(resources)}


def only(findings, rule_id):
    found = [finding for finding in findings if finding.rule.id == rule_id]
    assert len(found) == 1, [f.message for f in findings]
    return found[0]


# --- Disputed requirements: SubmitJob without job/*, or without a job definition


def test_cdk_style_role_without_job_arn_is_a_warning_citing_both_sources():
    # CDK v2's BatchSubmitJob: the queue and job-definition/<name>:*, no job/*.
    findings = lint([submit_on(QUEUE, DEFINITION_ANY_REVISION)], tasks=submit_tasks())
    assert ids(findings) == ["PG205"]
    message = only(findings, "PG205").message
    assert "job/*" in message and f"fails according to {SAR}" in message and BATCH_GUIDE in message


def test_role_without_any_job_definition_is_a_warning_the_other_way_round():
    findings = lint([submit_on(QUEUE, JOBS)], tasks=submit_tasks())
    assert ids(findings) == ["PG205"]
    message = only(findings, "PG205").message
    assert "job-definition/report:*" in message
    assert message.index(BATCH_GUIDE) < message.index("works according to") < message.index(SAR)


def test_role_with_the_queue_only_fails_by_every_source():
    # The SAR's reading needs job/*, the Batch guide's needs a job definition: both fail.
    findings = lint([submit_on(QUEUE)], tasks=submit_tasks())
    assert ids(findings) == ["PG101"]
    message = only(findings, "PG101").message
    assert "job-definition/report:*" in message and "job/*" in message and "disagree" in message


def test_missing_queue_stays_an_error_whatever_the_sources_say_about_job_arns():
    other_queue = f"{ACCOUNT_ARN}:job-queue/other"
    findings = lint([submit_on(other_queue, DEFINITION_ANY_REVISION)], tasks=submit_tasks())
    assert ids(findings) == ["PG101", "PG205"]
    assert "job-queue/etl" in only(findings, "PG101").message


def test_generate_still_writes_what_satisfies_every_reading():
    rows = batch_table().modes["fine-grained"]["request-response"]
    (submit,) = [row for row in rows if row.sid == "BatchSubmitJob"]
    assert "{job-definitions}" in submit.resources and "arn:{partition}:batch:{region}:{account}:job/*" in submit.resources
    assert {dispute.resource_type for dispute in submit.disputes} == {"job", "job-definition"}


def test_disputed_resources_are_resource_types_of_the_rows_action():
    from policygen.iam import catalog

    batch = catalog.service("batch")
    table = batch_table()
    rows = [row for patterns in table.modes.values() for grants in patterns.values() for row in grants]
    disputed = [row for row in rows if row.disputes]
    assert disputed
    for row in disputed:
        for action in row.actions:
            types = batch.actions[action.partition(":")[2]]["resourceTypes"]
            for dispute in row.disputes:
                assert dispute.resource_type in types, (row.sid, dispute.resource_type)
                assert set(dispute.required_by).isdisjoint(dispute.not_required_by)


def test_every_grant_names_aws_documents_as_sources():
    table = batch_table()
    rows = [row for patterns in table.modes.values() for grants in patterns.values() for row in grants]
    for row in rows + list(table.tags_sent):
        assert row.sources, row.sid
        for url in row.sources + tuple(u for d in row.disputes for u in d.required_by + d.not_required_by):
            assert url.startswith("https://docs.aws.amazon.com/"), (row.sid, url)


# --- Actions without resource-level permissions


@pytest.mark.parametrize("resource", [f"{ACCOUNT_ARN}:*", "arn:aws:batch:*", f"{ACCOUNT_ARN}:job/*"])
def test_describe_jobs_on_anything_but_star_is_certainly_refused(resource):
    statements = [submit_on("*"), {"Effect": "Allow", "Action": ["batch:DescribeJobs", "batch:TerminateJob"], "Resource": resource},
                  {"Effect": "Allow", "Action": ["events:PutTargets", "events:PutRule", "events:DescribeRule"], "Resource": "*"}]
    findings = lint(statements, tasks=tasks_of(JobQueue="etl", JobDefinition="report"))
    describe = [f for f in findings if "batch:DescribeJobs" in f.message]
    assert [f.rule.id for f in describe] == ["PG101"]
    assert 'DescribeJobs supports no resource-level permissions: IAM matches it only with Resource "*"' in describe[0].message


# --- Request context per action: DescribeJobs and TerminateJob send no request tags


def run_job_role(condition):
    return [
        submit_on("*"),
        {"Effect": "Allow", "Action": ["batch:DescribeJobs", "batch:TerminateJob"], "Resource": "*", "Condition": condition},
        {"Effect": "Allow", "Action": ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
         "Resource": "arn:aws:events:us-east-1:123456789012:rule/StepFunctionsGetEventsForBatchJobsRule"},
    ]


@pytest.mark.parametrize(
    "condition, refused",
    [
        ({"StringEquals": {"aws:RequestTag/team": "vfx"}}, True),  # a missing key does not match
        ({"StringLike": {"aws:RequestTag/team": "*"}}, True),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": "team"}}, True),
        ({"StringNotEquals": {"aws:RequestTag/team": "vfx"}}, False),  # negated: matches when missing
        ({"StringEqualsIfExists": {"aws:RequestTag/team": "vfx"}}, False),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": "team"}}, False),
        ({"Null": {"aws:RequestTag/team": "true"}}, False),
        ({"Null": {"aws:TagKeys": "false"}}, True),
    ],
)
def test_absent_request_tags_decide_describe_and_terminate(condition, refused):
    findings = lint(run_job_role(condition), tasks=tasks_of(JobQueue="etl", JobDefinition="report"))
    verdicts = {action: [f.rule.id for f in findings if action in f.message] for action in ("batch:DescribeJobs", "batch:TerminateJob")}
    expected = ["PG101"] if refused else []
    assert verdicts == {"batch:DescribeJobs": expected, "batch:TerminateJob": expected}, [f.message for f in findings]


def test_a_run_time_value_still_cannot_be_verified():
    condition = {"StringEquals": {"aws:PrincipalTag/team": "vfx"}}
    findings = lint(run_job_role(condition), tasks=tasks_of(JobQueue="etl", JobDefinition="report"))
    assert {f.rule.id for f in findings if "batch:DescribeJobs" in f.message} == {"PG203"}


# --- PG202: a wildcard that covers needed actions and others besides


def pg202(findings):
    return [f.message for f in findings if f.rule.id == "PG202"]


def test_wildcard_covering_a_needed_action_names_the_unneeded_ones_it_grants():
    findings = lint([{"Effect": "Allow", "Action": "batch:*Job*", "Resource": "*"}], tasks=submit_tasks())
    (message,) = pg202(findings)
    assert "batch:CancelJob" in message and "batch:DeleteJobQueue" in message
    assert "through batch:*Job*, which also covers the needed batch:SubmitJob" in message
    assert "batch:SubmitJob," not in message.split("(through")[0]  # the needed action is not called unneeded
    fixes = [fix for f in findings if f.rule.id == "PG202" for fix in f.fixes]
    assert [fix.actions for fix in fixes] == [("batch:*Job*",)]


def test_wildcard_counts_only_what_its_resources_can_grant():
    # On the queue, job definitions and jobs: no resourceless action (ListJobs needs Resource "*"),
    # nothing on compute environments, but CancelJob (job/*) and DeleteJobQueue (the queue) yes.
    statement = submit_on(QUEUE, DEFINITION_ANY_REVISION, JOBS)
    statement["Action"] = "batch:*Job*"
    (message,) = pg202(lint([statement], tasks=submit_tasks()))
    assert "batch:CancelJob" in message and "batch:DeleteJobQueue" in message
    assert "batch:ListJobs" not in message and "batch:DescribeJobQueues" not in message


def test_events_wildcard_on_the_managed_rule_names_what_else_it_allows_there():
    rule = "arn:aws:events:us-east-1:123456789012:rule/StepFunctionsGetEventsForBatchJobsRule"
    statements = [{"Effect": "Allow", "Action": ["batch:SubmitJob", "batch:DescribeJobs", "batch:TerminateJob"], "Resource": "*"},
                  {"Effect": "Allow", "Action": ["events:*Rule*", "events:PutTargets"], "Resource": rule}]
    (message,) = pg202(lint(statements, tasks=tasks_of(JobQueue="etl", JobDefinition="report")))
    assert "events:DeleteRule" in message and "events:DisableRule" in message
    assert "events:ListRules" not in message  # no resource types: never granted on a rule ARN


def test_events_wildcard_on_another_integrations_rule_is_not_judged():
    rule = "arn:aws:events:us-east-1:123456789012:rule/StepFunctionsGetEventsForBatchJobsRule"
    ecs_rule = rule.replace("BatchJobsRule", "ECSTaskRule")
    statements = [{"Effect": "Allow", "Action": ["batch:SubmitJob", "batch:DescribeJobs", "batch:TerminateJob"], "Resource": "*"},
                  {"Effect": "Allow", "Action": ["events:PutTargets", "events:PutRule", "events:DescribeRule"], "Resource": rule},
                  {"Effect": "Allow", "Action": "events:*Rule*", "Resource": ecs_rule}]
    assert pg202(lint(statements, tasks=tasks_of(JobQueue="etl", JobDefinition="report"))) == []


def test_exact_needed_actions_are_not_pg202():
    assert pg202(lint([submit_on("*")], tasks=submit_tasks())) == []


# --- PG301: judged on the whole role


def test_a_deny_that_keeps_submit_job_to_the_states_queue_is_not_over_broad():
    deny = {"Effect": "Deny", "Action": "batch:SubmitJob", "NotResource": [QUEUE, f"{ACCOUNT_ARN}:job-definition/*", JOBS]}
    findings = lint([submit_on("*"), deny], tasks=submit_tasks())
    assert "PG301" not in ids(findings)
    assert "PG301" in ids(lint([submit_on("*")], tasks=submit_tasks()))


def test_pg301_never_shows_a_parameter_default_as_a_static_name(run_cli, tmp_path):
    from pathlib import Path

    template = (Path(__file__).resolve().parents[2] / "fixtures/lint/PG204/good/template.yaml").read_text()
    template = template.replace("Resources:\n", "Parameters:\n  QueueName:\n    Type: String\n    Default: etl\nResources:\n", 1)
    template = template.replace("JobQueue: !Ref Queue", "JobQueue: !Ref QueueName")
    template = template.replace("                  - !Ref Queue\n", "                  - \"*\"\n")
    (tmp_path / "template.yaml").write_text(template)
    result = run_cli("lint", str(tmp_path / "template.yaml"), "--region", "us-east-1", "--account", "123456789012")
    (line,) = [line for line in result.out.splitlines() if "PG301" in line]
    assert "etl (assuming the Default of template parameter QueueName)" in line


# --- PG206: duplicate Sids


def test_duplicate_sids_within_one_policy_are_reported_once_with_both_statements():
    statements = [dict(submit_on("*"), Sid="Batch"), {"Sid": "Batch", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
                  {"Sid": "Other", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]
    (finding,) = [f for f in lint(statements, tasks=submit_tasks()) if f.rule.id == "PG206"]
    assert finding.message.startswith("statements 0 and 1 of policy.json share the Sid 'Batch'")
    assert [ref.index for ref in finding.refs] == [0, 1]


def test_duplicate_sids_in_the_trust_policy_are_reported():
    allow = {"Sid": "States", "Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole",
             "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}
    trust = {"Version": "2012-10-17", "Statement": [allow, dict(allow)]}
    findings = lint([submit_on("*")], tasks=submit_tasks(), trust=trust)
    assert any(f.rule.id == "PG206" and "of trust.json" in f.message for f in findings)
    trust["Statement"][1] = dict(allow, Sid="States2")
    assert "PG206" not in ids(lint([submit_on("*")], tasks=submit_tasks(), trust=trust))


def test_for_all_values_if_exists_on_a_missing_key_holds():
    # ForAllValues is true without the key, and so is ...IfExists: the combination is decided.
    findings = lint(run_job_role({"ForAllValues:StringEqualsIfExists": {"aws:TagKeys": "team"}}),
                    tasks=tasks_of(JobQueue="etl", JobDefinition="report"))
    assert [f.rule.id for f in findings if "batch:DescribeJobs" in f.message] == []
    # ForAnyValue is false without the key, ...IfExists true: still not decided.
    findings = lint(run_job_role({"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": "team"}}),
                    tasks=tasks_of(JobQueue="etl", JobDefinition="report"))
    assert [f.rule.id for f in findings if "batch:DescribeJobs" in f.message] == ["PG203"]
