"""`policygen generate --mode fine-grained`: golden files for each form, warnings, --tag, --explain.

Each golden under fixtures/expected/json/fine-grained/ was checked by hand against ../shared/REFERENCE.md
§3-§4 before it was committed (target: --region us-east-1 --account 123456789012); what was checked:

- queue-forms: a queue name becomes arn:aws:batch:us-east-1:123456789012:job-queue/render, a queue
  ARN (render-gpu) is kept as written; both states send no condition, so one SubmitJob statement
  holds both queues, the pinned job-definition/blender:3 and job/* (§3: `job` is a required resource
  type of SubmitJob); consumable-resource/* because neither state overrides consumable resources
  (the job definition's own are checked by SubmitJob and cannot be read offline).
- job-definition-forms: `blender` -> job-definition/blender and job-definition/blender:* (§3: a name
  without revision asks for the latest revision); `houdini:12` -> job-definition/houdini:12 only; an
  ARN without revision (ffmpeg) -> the ARN and ARN:*; an ARN with revision (nuke:4) -> that ARN only.
- consumable-static: both ConsumableResourceList entries named (name -> consumable-resource/ ARN, an
  ARN kept), and no consumable-resource/* beside them.
- consumable-dynamic: an entry from a path and a whole override from the input -> consumable-resource/*
  in us-east-1/123456789012, with a warning per state naming the field.
- share-identifier (YAML, the shared state inside a Map): the state with ShareIdentifier "hero" gets
  its own SubmitJob statement with StringEquals batch:ShareIdentifier (the [BATCH-IAM] example puts
  the condition on the queue and definition ARNs); the state without one keeps an unconditioned
  statement for its own queue, so neither state's access changes the other's (checked with the
  evaluator below). Both are .sync: DescribeJobs on "*", TerminateJob on job/* (no --tag: no
  condition), the managed rule exactly as in §2.
- dynamic-jsonpath / dynamic-intrinsic / dynamic-jsonata: the dynamic field falls back to job-queue/*
  or job-definition/* in the account and region (§4), the static one stays named; never a name
  guessed from the expression; a warning names the state and the field (JobQueue.$, JobDefinition.$,
  JobQueue / JobDefinition in JSONata Arguments).
- tags-required (--tag team=vfx): SubmitJob with StringEquals aws:RequestTag/team = vfx; TerminateJob
  (only Render is .sync) on job/* with aws:ResourceTag/team = vfx; DescribeJobs on "*"; the events
  statement unchanged; one TagResource statement per set of sent tags with aws:RequestTag per static
  value and ForAllValues:StringEquals aws:TagKeys = the keys sent (§3 tag on create).
- tags-missing (--tag team=vfx --allow-untagged): Cleanup (no Tags) and Review (team from the input)
  would be denied: a warning each; the SubmitJob statement keeps the tag condition; Review's
  TagResource has aws:TagKeys = team and no aws:RequestTag (its value is dynamic), which also
  covers the statically tagged state's TagResource (so that statement is dropped as redundant).
- tag-on-create (no --tag): Static tags -> RequestTag shot/team and TagKeys [shot, team]; Partly
  dynamic -> RequestTag team only, TagKeys [owner, team]; Tags.$ -> TagResource on job/* with no
  condition (and a warning), which covers the other two: they are dropped as redundant, and
  --explain lists all three states under the one statement.
- run-job: SubmitJob narrowed; DescribeJobs stays on "*"; TerminateJob on job/*; the events statement
  as in documented mode.
- sdk: byte for byte the documented policy (fine-grained mode does not touch aws-sdk:batch: calls).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policygen.iam.evaluate import evaluate
from policygen.iam.policy import parse_policy
from policygen.iam.request import Decision, Request

ROOT = Path(__file__).resolve().parents[2]
INPUTS = Path("fixtures") / "inputs" / "fine-grained"  # relative to ROOT: --explain prints the path
EXPECTED = ROOT / "fixtures" / "expected" / "json" / "fine-grained"
TARGET = ("--region", "us-east-1", "--account", "123456789012")
FLAGS = {
    "tags-required": ("--tag", "team=vfx"),
    "tags-missing": ("--tag", "team=vfx", "--allow-untagged"),
}
ARN = "arn:aws:batch:us-east-1:123456789012:"
RULE = "arn:aws:events:us-east-1:123456789012:rule/StepFunctionsGetEventsForBatchJobsRule"


def _stem(path: Path) -> str:
    return path.name.split(".", 1)[0]


INPUT_FILES = sorted((ROOT / INPUTS).iterdir())


@pytest.fixture
def generate(run_cli, monkeypatch):
    monkeypatch.chdir(ROOT)

    def run(stem: str, *extra: str, mode: str = "fine-grained"):
        (path,) = [p for p in INPUT_FILES if _stem(p) == stem]
        return run_cli("generate", str(INPUTS / path.name), *TARGET, "--mode", mode, *extra)

    return run


def _golden(stem: str) -> dict:
    return json.loads((EXPECTED / f"{stem}.json").read_text(encoding="utf-8"))


def _decide(policy: dict, action: str, resource: str, context=None, known=()) -> Decision:
    document = parse_policy(policy, "policy.json")
    evaluation = evaluate(Request(action, resource, context or {}, frozenset(known)), [document])
    assert evaluation.decision is not Decision.UNKNOWN, evaluation.uncertain
    return evaluation.decision


ALLOWED, DENIED = Decision.ALLOWED, Decision.IMPLICIT_DENY
KNOWN = ("aws:RequestTag/*", "aws:TagKeys", "aws:ResourceTag/*", "batch:ShareIdentifier")


# --- goldens ---------------------------------------------------------------------------------


def test_every_input_has_a_golden_and_every_golden_an_input():
    inputs = {_stem(path) for path in INPUT_FILES}
    goldens = {path.name.split(".", 1)[0] for path in EXPECTED.glob("*.json")}
    assert inputs and inputs == goldens


@pytest.mark.parametrize("stem", [_stem(p) for p in INPUT_FILES])
def test_generate_matches_golden(stem, generate):
    result = generate(stem, *FLAGS.get(stem, ()))
    assert result.code == 0, result.err
    assert result.out.encode("utf-8") == (EXPECTED / f"{stem}.json").read_bytes()


def test_explain_golden(generate):
    result = generate("tags-required", "--tag", "team=vfx", "--explain")
    assert result.code == 0, result.err
    assert result.out.encode("utf-8") == (EXPECTED / "tags-required.json").read_bytes()  # policy unchanged
    assert result.err == (EXPECTED / "tags-required.explain.txt").read_text(encoding="utf-8")


def test_explain_names_every_statement_and_state(generate):
    result = generate("share-identifier", "--explain")
    assert result.code == 0, result.err
    for statement in _golden("share-identifier")["Statement"]:
        assert f"{statement['Sid']}: " in result.err
    assert "Per shot/Priority render (run-job)" in result.err and "Preview (run-job)" in result.err
    assert 'DescribeJobs, which supports no resource-level permissions: it stays on "*"' in result.err


# --- warnings and errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    "stem, state, field, fallback",
    [
        ("dynamic-jsonpath", "Queue from input", "JobQueue.$", "job-queue/*"),
        ("dynamic-intrinsic", "Definition from intrinsic", "JobDefinition.$", "job-definition/*"),
        ("dynamic-jsonata", "Both from JSONata", "JobQueue", "job-queue/*"),
        ("dynamic-jsonata", "Both from JSONata", "JobDefinition", "job-definition/*"),
        ("consumable-dynamic", "Entry from input", "ConsumableResource.$", "consumable-resource/*"),
        ("consumable-dynamic", "Override from input", "ConsumableResourcePropertiesOverride.$", "consumable-resource/*"),
    ],
)
def test_dynamic_value_warns_naming_state_and_field(stem, state, field, fallback, generate):
    result = generate(stem)
    assert result.code == 0, result.err
    lines = [line for line in result.err.splitlines() if f"state {state!r}" in line and f"takes {field} " in line]
    assert len(lines) == 1, result.err
    assert lines[0].startswith("policygen: warning: ") and f"allows {fallback} in the account and region" in lines[0]
    resources = {r for s in json.loads(result.out)["Statement"] for r in s["Resource"] if r != "*"}
    assert ARN + fallback in resources


def test_dynamic_values_are_never_guessed(generate):
    # Names that appear in the expressions must not turn up as resources.
    for stem in ("dynamic-jsonpath", "dynamic-intrinsic", "dynamic-jsonata", "consumable-dynamic"):
        out = generate(stem).out
        for fragment in ("queue", "revision", "licence", "consumables", "$", "{%", "States."):
            assert all(fragment not in r.rsplit("/", 1)[-1] for s in json.loads(out)["Statement"] for r in s["Resource"] if r != "*"), (stem, fragment)


def test_static_values_do_not_warn(generate):
    for stem in ("queue-forms", "job-definition-forms", "consumable-static", "share-identifier", "run-job"):
        result = generate(stem)
        assert result.code == 0 and result.err == "", (stem, result.err)


def test_an_sdk_submit_job_warns_that_it_keeps_the_documented_grant(generate):
    # Its SubmitJob on job-queue/* etc. also covers the other states' SubmitJob: said, not silent.
    result = generate("sdk")
    assert result.code == 0
    warnings = [line for line in result.err.splitlines() if line.startswith("policygen: warning: ")]
    assert len(warnings) == 1 and "through the AWS SDK integration" in warnings[0]


def test_missing_required_tag_is_an_error_naming_the_state(generate):
    result = generate("tags-missing", "--tag", "team=vfx")
    assert result.code == 2
    assert result.out == ""
    assert result.err.startswith("policygen: error: ") and "state 'Cleanup'" in result.err
    assert "team=vfx" in result.err and "--allow-untagged" in result.err


def test_allow_untagged_warns_for_each_untagged_state(generate):
    result = generate("tags-missing", "--tag", "team=vfx", "--allow-untagged")
    assert result.code == 0
    warned = [line for line in result.err.splitlines() if "does not send the tag(s) team=vfx" in line]
    assert len(warned) == 2
    assert "state 'Cleanup'" in warned[0] and "state 'Review'" in warned[1]
    assert "'Render'" not in result.err


def test_a_state_sending_another_value_of_the_tag_is_untagged(generate, tmp_path, run_cli):
    definition = json.loads((ROOT / INPUTS / "tags-required.asl.json").read_text())
    definition["States"]["Notify"]["Parameters"]["Tags"]["team"] = "fx"
    path = tmp_path / "other-value.asl.json"
    path.write_text(json.dumps(definition))
    result = run_cli("generate", str(path), *TARGET, "--mode", "fine-grained", "--tag", "team=vfx")
    assert result.code == 2 and "state 'Notify'" in result.err


# --- SDK calls -------------------------------------------------------------------------------


def test_sdk_calls_are_the_documented_policy(generate):
    documented = generate("sdk", mode="documented")
    assert documented.code == 0
    assert generate("sdk").out == documented.out == (EXPECTED / "sdk.json").read_text(encoding="utf-8")


def test_tag_option_does_not_reject_or_change_sdk_calls(generate):
    # Regression: aws-sdk:batch:submitJob gets the documented grant with no aws:RequestTag condition,
    # so an untagged SDK submitJob is not denied at run time; it used to be an exit-2 error.
    result = generate("sdk", "--tag", "team=vfx")
    assert result.code == 0, result.err
    assert "error" not in result.err and "through the AWS SDK integration" in result.err  # the one warning
    assert result.out == (EXPECTED / "sdk.json").read_text(encoding="utf-8")


# --- the goldens, evaluated ------------------------------------------------------------------


def test_queue_and_definition_forms_allow_exactly_their_own():
    policy = _golden("queue-forms")
    for queue in ("render", "render-gpu"):
        assert _decide(policy, "batch:SubmitJob", ARN + f"job-queue/{queue}") is ALLOWED
    assert _decide(policy, "batch:SubmitJob", ARN + "job-queue/render-cpu") is DENIED
    assert _decide(policy, "batch:SubmitJob", ARN + "job-definition/blender:4") is DENIED

    policy = _golden("job-definition-forms")
    allowed = ["blender", "blender:1", "blender:7", "houdini:12", "ffmpeg", "ffmpeg:9", "nuke:4"]
    denied = ["houdini:11", "houdini", "nuke:5", "nuke", "blender2:1", "other:1"]
    for name in allowed:
        assert _decide(policy, "batch:SubmitJob", ARN + f"job-definition/{name}") is ALLOWED, name
    for name in denied:
        assert _decide(policy, "batch:SubmitJob", ARN + f"job-definition/{name}") is DENIED, name


def test_consumable_resources_are_named():
    policy = _golden("consumable-static")
    for name in ("houdini-licence", "redshift-licence"):
        assert _decide(policy, "batch:SubmitJob", ARN + f"consumable-resource/{name}") is ALLOWED
    assert _decide(policy, "batch:SubmitJob", ARN + "consumable-resource/nuke-licence") is DENIED


def test_share_identifier_binds_only_the_state_that_sets_it():
    policy = _golden("share-identifier")
    hero = {"batch:ShareIdentifier": ("hero",)}
    other = {"batch:ShareIdentifier": ("crowd",)}
    fair, preview, blender = ARN + "job-queue/render-fair-share", ARN + "job-queue/preview", ARN + "job-definition/blender:3"
    # Priority render: its own request is allowed, the same request with another share or none is not.
    for resource in (fair, blender, ARN + "job/1"):
        assert _decide(policy, "batch:SubmitJob", resource, hero, KNOWN) is ALLOWED
    assert _decide(policy, "batch:SubmitJob", fair, other, KNOWN) is DENIED
    assert _decide(policy, "batch:SubmitJob", fair, {}, KNOWN) is DENIED
    # Preview sets none: the condition of the other state does not narrow it, with or without a share.
    for context in ({}, hero, other):
        for resource in (preview, blender, ARN + "job/2"):
            assert _decide(policy, "batch:SubmitJob", resource, context, KNOWN) is ALLOWED


def test_required_tag_on_submit_and_resource_tag_on_terminate():
    policy = _golden("tags-required")
    tagged = {"aws:RequestTag/team": ("vfx",), "aws:RequestTag/shot": ("sh010",), "aws:TagKeys": ("shot", "team")}
    untagged: dict = {}
    wrong = {"aws:RequestTag/team": ("fx",), "aws:TagKeys": ("team",)}
    for resource in ("job-queue/render", "job-definition/blender:3", "job-queue/utility", "job-definition/notify:2", "job/1"):
        assert _decide(policy, "batch:SubmitJob", ARN + resource, tagged, KNOWN) is ALLOWED
        assert _decide(policy, "batch:SubmitJob", ARN + resource, untagged, KNOWN) is DENIED
        assert _decide(policy, "batch:SubmitJob", ARN + resource, wrong, KNOWN) is DENIED
    assert _decide(policy, "batch:TagResource", ARN + "job/1", tagged, KNOWN) is ALLOWED
    assert _decide(policy, "batch:TagResource", ARN + "job/1", {**tagged, "aws:RequestTag/shot": ("sh020",)}, KNOWN) is DENIED
    extra = {**tagged, "aws:RequestTag/x": ("y",), "aws:TagKeys": ("shot", "team", "x")}
    assert _decide(policy, "batch:TagResource", ARN + "job/1", extra, KNOWN) is DENIED
    assert _decide(policy, "batch:TerminateJob", ARN + "job/1", {"aws:ResourceTag/team": ("vfx",)}, KNOWN) is ALLOWED
    assert _decide(policy, "batch:TerminateJob", ARN + "job/1", {"aws:ResourceTag/team": ("fx",)}, KNOWN) is DENIED
    assert _decide(policy, "batch:TerminateJob", ARN + "job/1", {}, KNOWN) is DENIED
    assert _decide(policy, "batch:DescribeJobs", "*") is ALLOWED


def test_run_job_keeps_describe_jobs_on_star_and_the_managed_rule():
    fine, documented = _golden("run-job"), json.loads((ROOT / "fixtures/expected/json/documented/run-job.json").read_text())
    (describe,) = [s for s in fine["Statement"] if "batch:DescribeJobs" in s["Action"]]
    assert describe["Resource"] == "*" and describe["Action"] == ["batch:DescribeJobs"] and "Condition" not in describe
    rule = [s for s in fine["Statement"] if s["Sid"] == "BatchRunJobManagedRule"]
    assert rule == [s for s in documented["Statement"] if s["Sid"] == "BatchRunJobManagedRule"]
    assert rule[0]["Resource"] == [RULE]
    assert _decide(fine, "batch:TerminateJob", ARN + "job/1") is ALLOWED


def test_tag_on_create_is_the_same_in_both_modes(generate):
    # REFERENCE.md §3 / issue 4: TagResource with the sent-tag conditions in either mode.
    fine = [s for s in json.loads(generate("tag-on-create").out)["Statement"] if s["Action"] == ["batch:TagResource"]]
    documented = [
        s for s in json.loads(generate("tag-on-create", mode="documented").out)["Statement"] if s["Action"] == ["batch:TagResource"]
    ]
    # The unconditioned statement the Tags.$ state needs covers the other two (dropped as redundant).
    assert fine == documented and len(fine) == 1 and "Condition" not in fine[0]


@pytest.mark.parametrize("stem", [_stem(p) for p in INPUT_FILES])
def test_fine_grained_golden_allows_nothing_the_documented_policy_does_not(stem, generate):
    fine = _golden(stem)
    documented = json.loads(generate(stem, mode="documented").out)
    contexts = [{}, {"aws:RequestTag/team": ("vfx",), "aws:TagKeys": ("team",), "aws:ResourceTag/team": ("vfx",)}]
    for statement in fine["Statement"]:
        resources = [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
        for action in statement["Action"]:
            for resource in resources:
                concrete = "*" if resource == "*" else resource.replace("*", "x7")
                for context in contexts:
                    if _decide(fine, action, concrete, context, KNOWN) is ALLOWED:
                        assert _decide(documented, action, concrete, context, KNOWN) is ALLOWED, (action, concrete)


def test_a_job_definition_named_arn_is_a_name(tmp_path, run_cli):
    # Regression: `arn:1` (revision 1 of a job definition named "arn") was kept as if it were an ARN,
    # so the policy named the resource "arn:1" and the state's SubmitJob would have been denied.
    definition = {
        "StartAt": "A",
        "States": {
            "A": {
                "Type": "Task",
                "Resource": "arn:aws:states:::batch:submitJob",
                "Parameters": {"JobName": "j", "JobQueue": "arn", "JobDefinition": "arn:1"},
                "End": True,
            }
        },
    }
    path = tmp_path / "named-arn.asl.json"
    path.write_text(json.dumps(definition))
    result = run_cli("generate", str(path), *TARGET, "--mode", "fine-grained")
    assert result.code == 0, result.err
    (statement,) = json.loads(result.out)["Statement"]
    assert ARN + "job-definition/arn:1" in statement["Resource"] and "arn:1" not in statement["Resource"]
    assert _decide(json.loads(result.out), "batch:SubmitJob", ARN + "job-definition/arn:1") is ALLOWED


def test_a_parameter_default_in_a_named_queue_is_said(tmp_path, run_cli):
    # JSON output builds the queue ARN from the parameter's Default: right only for a stack deployed
    # without another value, so it says so (CloudFormation output keeps ${QueueName} and needs no note).
    template = tmp_path / "template.yaml"
    template.write_text(
        "Parameters:\n"
        "  QueueName: {Type: String, Default: nightly}\n"
        "Resources:\n"
        "  Jobs:\n"
        "    Type: AWS::StepFunctions::StateMachine\n"
        "    Properties:\n"
        "      RoleArn: arn:aws:iam::123456789012:role/jobs\n"
        "      Definition:\n"
        "        StartAt: A\n"
        "        States:\n"
        "          A:\n"
        "            Type: Task\n"
        "            Resource: arn:aws:states:::batch:submitJob\n"
        "            Parameters:\n"
        "              JobName: a\n"
        "              JobQueue: !Sub arn:${AWS::Partition}:batch:${AWS::Region}:${AWS::AccountId}:job-queue/${QueueName}\n"
        "              JobDefinition: d:1\n"
        "            End: true\n"
    )
    result = run_cli("generate", str(template), *TARGET, "--mode", "fine-grained")
    assert result.code == 0, result.err
    (statement,) = json.loads(result.out)["Statement"]
    assert ARN + "job-queue/nightly" in statement["Resource"]
    (line,) = result.err.splitlines()
    assert "state 'A' takes JobQueue" in line and "parameter Default (QueueName='nightly')" in line
    assert "(at /Resources/Jobs/Properties/Definition/States/A/Parameters/JobQueue)" in line
    kept = run_cli("generate", str(template), *TARGET, "--mode", "fine-grained", "--format", "cloudformation")
    assert kept.code == 0 and kept.err == ""
    assert "job-queue/${QueueName}" in kept.out
