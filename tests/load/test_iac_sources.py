"""IaC sources: CloudFormation, SAM, Terraform plan JSON and serverless.yml -> state machines whose
deploy-time values stay symbols (Fn::Sub syntax), and the CLI rules for files with several machines.

The goldens under fixtures/expected/json/documented/<source>/ were checked by hand against
REFERENCE.md §2 and §3 before they were committed; nothing here regenerates them.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from policygen import pipeline
from policygen.errors import InputError, UsageError
from policygen.load.template import (
    OpaqueValue,
    Ref,
    has_references,
    parse_sub,
    references,
    unescape,
)
from policygen.requirements.target import resolve_target
from policygen.scan import ValueKind

ROOT = Path(__file__).resolve().parents[2]
INPUTS = ROOT / "fixtures" / "inputs"
EXPECTED = ROOT / "fixtures" / "expected" / "json" / "documented"
TARGET = ("--region", "us-east-1", "--account", "123456789012")

CFN = INPUTS / "cloudformation"
SAM = INPUTS / "sam" / "template.yaml"
PLAN = INPUTS / "terraform" / "plan.json"
SERVERLESS = INPUTS / "serverless" / "serverless.yml"
BAD = INPUTS / "bad"


def _load(path: Path, input_type: str | None = None) -> pipeline.LoadResult:
    return pipeline.load_state_machines([str(path)], input_type)


def _tasks(path: Path) -> dict[tuple[str, str], object]:
    """(machine, state path) -> BatchTask."""
    return {(task.machine, task.path): task for task in pipeline.scan_state_machines(_load(path))}


def _value(field) -> tuple[str, str]:
    return field.kind.value, field.text


# -- the Fn::Sub-syntax helpers ------------------------------------------------------------------


def test_sub_syntax_helpers():
    text = "arn:${AWS::Partition}:batch:${AWS::Region}:${AWS::AccountId}:job-queue/${Queue.Name}-${!literal}"
    assert references(text) == ["AWS::Partition", "AWS::Region", "AWS::AccountId", "Queue.Name"]
    assert has_references(text)
    assert not has_references("s3://bucket/${!JobId}/")
    assert unescape("s3://bucket/${!JobId}/") == "s3://bucket/${JobId}/"
    assert parse_sub("a${!b}c${D}") == ("a${b}c", Ref("D"))


# -- CloudFormation --------------------------------------------------------------------------------


TEMPLATES = sorted([*CFN.iterdir(), SAM], key=str)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: path.name)
def test_template_fixtures_pass_cfn_lint(path):
    """The good templates are templates people could deploy; bad ones live under bad/."""
    cfnlint_api = pytest.importorskip("cfnlint.api")
    assert [str(match) for match in cfnlint_api.lint_file(path)] == []



def test_definition_object_with_ref_getatt_sub():
    loaded = _load(CFN / "definition-object.yaml")
    assert [machine.name for machine in loaded] == ["RenderStateMachine"]
    assert loaded.warnings == ()
    machine = loaded[0]
    assert machine.pointer == "/Resources/RenderStateMachine/Properties/Definition"
    template = machine.template
    assert template.kind == "cloudformation"
    assert template.file == str(CFN / "definition-object.yaml")
    assert template.parameters["Environment"].type == "String"
    assert template.parameters["Environment"].default == "dev"
    assert template.resources["RenderQueue"].type == "AWS::Batch::JobQueue"
    assert template.resources["RenderQueue"].properties["Priority"] == 1

    tasks = _tasks(CFN / "definition-object.yaml")
    assert list(tasks) == [("RenderStateMachine", "Render scenes/Render"), ("RenderStateMachine", "Publish")]
    render = tasks["RenderStateMachine", "Render scenes/Render"]
    assert render.pattern.value == "run-job"
    assert render.resource == "arn:${AWS::Partition}:states:::batch:submitJob.sync"
    assert render.partition is None
    assert _value(render.job_queue) == ("deploy-time", "${RenderQueue}")
    assert not render.job_queue.is_static
    assert _value(render.job_definition) == ("deploy-time", "${RenderJobDefinition}")
    assert {tag.key: _value(tag.value) for tag in render.tags} == {
        "Environment": ("deploy-time", "${Environment}"),
        "Pipeline": ("static", "render"),
    }
    assert render.job_queue.pointer.endswith("/Render/Parameters/JobQueue")
    publish = tasks["RenderStateMachine", "Publish"]
    assert publish.pattern.value == "request-response"
    assert _value(publish.job_queue) == ("deploy-time", "${RenderQueue.JobQueueArn}")
    assert _value(publish.job_definition) == (
        "deploy-time",
        "arn:${AWS::Partition}:batch:${AWS::Region}:${AWS::AccountId}:job-definition/publish-${Environment}:1",
    )


def test_definition_strings_plain_sub_sub_list_and_join():
    loaded = _load(CFN / "definition-strings.json")
    assert [machine.name for machine in loaded] == [
        "IngestStateMachine", "TranscodeStateMachine", "ThumbnailStateMachine", "ReportStateMachine",
    ]
    by_name = {machine.name: machine for machine in loaded}
    # ${!JobId} in a Fn::Sub is the literal ${JobId}: still written in Fn::Sub syntax.
    assert by_name["TranscodeStateMachine"].definition["Comment"].endswith("s3://media-out/${!JobId}/")

    tasks = _tasks(CFN / "definition-strings.json")
    assert {key: task.pattern.value for key, task in tasks.items()} == {
        ("IngestStateMachine", "Submit ingest"): "request-response",
        ("TranscodeStateMachine", "Transcode"): "run-job",
        ("ThumbnailStateMachine", "Make thumbnails"): "callback",
        ("ReportStateMachine", "Count running jobs"): "sdk",
    }
    ingest = tasks["IngestStateMachine", "Submit ingest"]
    assert ingest.partition == "aws"
    assert _value(ingest.job_queue) == ("static", "arn:aws:batch:us-east-1:123456789012:job-queue/ingest")
    transcode = tasks["TranscodeStateMachine", "Transcode"]
    assert transcode.partition is None
    assert _value(transcode.job_queue) == ("deploy-time", "${TranscodeQueue}")
    assert _value(transcode.job_definition) == (
        "deploy-time", "arn:${AWS::Partition}:batch:${AWS::Region}:${AWS::AccountId}:job-definition/transcode",
    )
    thumbnail = tasks["ThumbnailStateMachine", "Make thumbnails"]
    assert _value(thumbnail.job_queue) == ("deploy-time", "${ThumbnailQueue.JobQueueArn}")
    assert _value(thumbnail.job_definition) == ("static", "thumbnail:4")  # a literal Fn::Sub variable, inlined
    report = tasks["ReportStateMachine", "Count running jobs"]
    assert report.action == "batch:ListJobs"
    assert report.resource == "arn:${AWS::Partition}:states:::aws-sdk:batch:listJobs"
    assert _value(report.job_queue) == ("deploy-time", "${ReportQueue}")
    assert report.job_queue.pointer == (
        "/Resources/ReportStateMachine/Properties/DefinitionString/States/Count running jobs/Parameters/JobQueue"
    )


def test_definition_substitutions_literal_and_ref_values():
    loaded = _load(CFN / "substitutions.yaml")
    assert [machine.name for machine in loaded] == ["BackfillStateMachine", "CancelStateMachine"]
    backfill = loaded[0].definition["States"]["Backfill"]["Parameters"]
    assert backfill["JobName"] == "backfill-events"
    assert backfill["RetryStrategy"] == {"Attempts": 3}  # a number substituted outside a string
    cancel = loaded[1].definition["States"]["Cancel"]["Parameters"]
    assert cancel["Reason"] == "cancelled by operator"

    tasks = _tasks(CFN / "substitutions.yaml")
    assert list(tasks) == [
        ("BackfillStateMachine", "Backfill"), ("CancelStateMachine", "Cancel"), ("CancelStateMachine", "Report"),
    ]
    assert _value(tasks["BackfillStateMachine", "Backfill"].job_queue) == ("deploy-time", "${BackfillQueue}")
    assert _value(tasks["BackfillStateMachine", "Backfill"].job_definition) == ("deploy-time", "${BackfillJobDefinition}")
    assert tasks["CancelStateMachine", "Cancel"].action == "batch:CancelJob"
    assert _value(tasks["CancelStateMachine", "Report"].job_queue) == (
        "deploy-time", "arn:${AWS::Partition}:batch:${AWS::Region}:${AWS::AccountId}:job-queue/${QueueName}",
    )
    assert _value(tasks["CancelStateMachine", "Report"].job_definition) == ("static", "backfill-report")


def test_s3_location_is_a_warning_naming_the_machine():
    loaded = _load(CFN / "s3-location.yaml")
    assert [machine.name for machine in loaded] == ["IndexStateMachine"]
    (warning,) = loaded.warnings
    assert "'ArchiveStateMachine'" in warning.message
    assert "s3://${ArtifactBucket}/statemachines/archive.asl.json" in warning.message
    assert warning.location.pointer == "/Resources/ArchiveStateMachine/Properties/DefinitionS3Location"
    assert warning.location.line == 28
    (task,) = _tasks(CFN / "s3-location.yaml").values()
    assert _value(task.job_queue) == ("deploy-time", "${IndexQueueArn}")  # a Ref to a parameter


def test_intrinsics_without_sub_form_are_dynamic_never_guessed():
    (task,) = _tasks(CFN / "deploy-choice.yaml").values()
    assert task.job_queue.kind is ValueKind.DYNAMIC
    assert task.job_queue.text == '{"Fn::If": ["SpotEnabled", {"Ref": "SpotQueueArn"}, {"Ref": "OnDemandQueueArn"}]}'
    assert task.job_definition.kind is ValueKind.DYNAMIC
    assert "Fn::ImportValue" in task.job_definition.text
    assert task.share_identifier.kind is ValueKind.DYNAMIC
    assert "Fn::Select" in task.share_identifier.text
    definition = _load(CFN / "deploy-choice.yaml")[0].definition
    queue = definition["States"]["Train"]["Parameters"]["JobQueue"]
    assert isinstance(queue, OpaqueValue) and queue.intrinsics == ("Fn::If",)


# -- SAM -------------------------------------------------------------------------------------------


def test_sam_definition_uri_inline_and_s3():
    loaded = _load(SAM)
    assert [machine.name for machine in loaded] == ["AlignmentStateMachine", "QcStateMachine", "ReportStateMachine"]
    alignment, qc, report = loaded
    assert alignment.file == str(INPUTS / "sam" / "statemachine" / "alignment.asl.json")
    assert qc.file == str(INPUTS / "sam" / "statemachine" / "qc.asl.yaml")
    assert report.file == str(SAM)
    assert {machine.template.kind for machine in loaded} == {"sam"}
    assert {machine.template.file for machine in loaded} == {str(SAM)}
    # A literal ${ in the ASL file is written ${! like every template value.
    assert "${!...}" in alignment.definition["Comment"]
    assert [w.message.split(":")[0] for w in loaded.warnings] == [
        "state machine 'ArchiveStateMachine'", "state machine 'LegacyStateMachine'",
    ]
    assert "s3://genomics-artifacts/statemachines/archive.asl.json" in loaded.warnings[0].message
    assert "s3://genomics-artifacts/statemachines/legacy.asl.json" in loaded.warnings[1].message

    tasks = _tasks(SAM)
    align = tasks["AlignmentStateMachine", "Align samples/Align"]
    assert align.pattern.value == "run-job" and align.partition == "aws"
    assert _value(align.job_queue) == ("deploy-time", "${AlignmentQueue}")
    assert _value(align.job_definition) == ("deploy-time", "${AlignmentJobDefinition}")
    assert {tag.key: _value(tag.value) for tag in align.tags} == {
        "Stage": ("deploy-time", "${Stage}"), "Team": ("static", "genomics"),
    }
    qc_task = tasks["QcStateMachine", "QC report"]
    assert _value(qc_task.job_queue) == ("deploy-time", "${QcQueue.JobQueueArn}")
    assert _value(qc_task.job_definition) == ("static", "qc-report:2")
    describe = tasks["ReportStateMachine", "Describe jobs"]
    assert describe.action == "batch:DescribeJobs" and describe.partition is None


# -- Terraform -------------------------------------------------------------------------------------


def test_terraform_plan_with_child_modules_and_unknown_definition():
    loaded = _load(PLAN)
    assert [machine.name for machine in loaded] == [
        "aws_sfn_state_machine.render",
        "module.ingest.aws_sfn_state_machine.this",
        'module.ingest.module.compaction.aws_sfn_state_machine.this["weekly"]',
    ]
    (warning,) = loaded.warnings
    assert "'aws_sfn_state_machine.reporting'" in warning.message
    assert "only known after apply" in warning.message
    template = loaded[0].template
    assert template.kind == "terraform-plan"
    assert template.resources["aws_batch_job_queue.reporting"].type == "aws_batch_job_queue"
    assert template.parameters["environment"].default == "prod"
    assert loaded[1].pointer == "/planned_values/root_module/child_modules/0/resources/0/values/definition"

    tasks = _tasks(PLAN)
    assert {key: task.pattern.value for key, task in tasks.items()} == {
        ("aws_sfn_state_machine.render", "Render"): "run-job",
        ("module.ingest.aws_sfn_state_machine.this", "Ingest"): "request-response",
        ('module.ingest.module.compaction.aws_sfn_state_machine.this["weekly"]', "Compact"): "run-job",
    }
    render = tasks["aws_sfn_state_machine.render", "Render"]
    assert render.partition == "aws"
    assert _value(render.job_queue) == ("static", "arn:aws:batch:us-east-1:123456789012:job-queue/render-prod")
    assert _value(tasks["module.ingest.aws_sfn_state_machine.this", "Ingest"].job_definition) == ("static", "ingest")


def test_terraform_definition_absent_from_plan_is_a_warning(tmp_path):
    plan = json.loads(PLAN.read_text())
    plan["resource_changes"] = []  # no after_unknown: the definition is simply not there
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    loaded = _load(path)
    assert len(loaded) == 3
    assert "is not in the plan" in loaded.warnings[0].message


# -- Serverless Framework --------------------------------------------------------------------------


def test_serverless_two_machines_with_intrinsics_and_variables():
    loaded = _load(SERVERLESS)
    # renderPipeline's name holds ${sls:stage}: named by its key; nightlyReport by its name.
    assert [machine.name for machine in loaded] == ["renderPipeline", "nightly-report"]
    assert loaded[0].template.kind == "serverless"
    assert loaded[0].template.resources["RenderQueue"].type == "AWS::Batch::JobQueue"
    stage = loaded[0].definition["States"]["Render"]["Parameters"]["ContainerOverrides"]["Environment"][0]["Value"]
    assert isinstance(stage, OpaqueValue) and stage == "${sls:stage}"
    assert loaded[0].definition["States"]["Prepare"]["Resource"] == "${prepareShot.Arn}"

    tasks = _tasks(SERVERLESS)
    assert list(tasks) == [("renderPipeline", "Render"), ("nightly-report", "Report")]
    render = tasks["renderPipeline", "Render"]
    assert _value(render.job_queue) == ("deploy-time", "${RenderQueue}")
    assert _value(render.job_definition) == ("deploy-time", "${RenderJobDefinition}")
    report = tasks["nightly-report", "Report"]
    assert report.partition is None
    assert _value(report.job_queue) == ("dynamic", "${self:custom.reportQueueArn}")
    assert _value(report.job_definition) == ("deploy-time", "${AWS::Region}-report:3")  # ${aws:region}


# -- documented policies through the CLI -----------------------------------------------------------

GOLDENS = [
    ("cloudformation/definition-object.yaml", "cloudformation/definition-object.json", ()),
    ("cloudformation/definition-strings.json", "cloudformation/definition-strings.json", ("--merge",)),
    ("cloudformation/substitutions.yaml", "cloudformation/substitutions.json", ("--merge",)),
    ("cloudformation/s3-location.yaml", "cloudformation/s3-location.json", ()),
    ("cloudformation/deploy-choice.yaml", "cloudformation/deploy-choice.json", ()),
    ("sam/template.yaml", "sam/template.json", ("--merge",)),
    ("terraform/plan.json", "terraform/plan.json", ("--merge",)),
    ("serverless/serverless.yml", "serverless/serverless.json", ("--merge",)),
]


@pytest.mark.parametrize("source, golden, flags", GOLDENS, ids=[golden for _, golden, _ in GOLDENS])
def test_documented_policy_matches_golden(run_cli, source, golden, flags):
    result = run_cli("generate", str(INPUTS / source), *TARGET, *flags)
    assert result.code == 0, result.err
    assert result.out == (EXPECTED / golden).read_text(encoding="utf-8")


def test_every_source_golden_has_a_test():
    goldens = {str(path.relative_to(EXPECTED)) for path in EXPECTED.glob("*/*.json")}
    assert goldens == {golden for _, golden, _ in GOLDENS}


def test_warnings_are_printed_and_the_policy_still_written(run_cli):
    result = run_cli("generate", str(CFN / "s3-location.yaml"), *TARGET)
    assert result.code == 0
    assert result.err.startswith("policygen: warning: ")
    assert "state machine 'ArchiveStateMachine'" in result.err and "S3" in result.err
    assert json.loads(result.out)["Statement"][0]["Action"] == ["batch:SubmitJob"]


def test_scan_shows_machines_and_deploy_time_values(run_cli):
    result = run_cli("scan", str(SAM))
    assert result.code == 0
    assert "STATE MACHINE" in result.out
    assert "AlignmentStateMachine" in result.out and "ReportStateMachine" in result.out
    assert "${AlignmentQueue} (deploy-time)" in result.out
    assert "'ArchiveStateMachine'" in result.err
    document = json.loads(run_cli("scan", "--format", "json", str(SERVERLESS)).out)
    assert [state["stateMachine"] for state in document["batchStates"]] == ["renderPipeline", "nightly-report"]
    assert document["batchStates"][1]["jobQueue"]["kind"] == "dynamic"
    assert document["batchStates"][1]["partition"] is None


# -- several machines in one file ------------------------------------------------------------------


def test_several_machines_need_a_choice(run_cli):
    result = run_cli("generate", str(CFN / "definition-strings.json"), *TARGET)
    assert result.code == 2
    assert "Traceback" not in result.err
    assert "4 state machines" in result.err
    assert "-o DIR" in result.err and "--merge" in result.err
    assert "IngestStateMachine" in result.err and "ReportStateMachine" in result.err
    assert result.out == ""


def test_output_directory_gets_a_file_per_machine(run_cli, tmp_path):
    out = tmp_path / "policies"
    result = run_cli("generate", str(CFN / "definition-strings.json"), *TARGET, "-o", str(out))
    assert result.code == 0, result.err
    assert result.out == ""
    expected_dir = EXPECTED / "cloudformation" / "definition-strings"
    assert sorted(path.name for path in out.iterdir()) == sorted(path.name for path in expected_dir.iterdir())
    for path in expected_dir.iterdir():
        assert (out / path.name).read_text() == path.read_text(), path.name


def test_output_directory_file_names_are_sanitised(run_cli, tmp_path):
    result = run_cli("generate", str(PLAN), *TARGET, "-o", str(tmp_path))
    assert result.code == 0, result.err
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "aws_sfn_state_machine.render.json",
        "module.ingest.aws_sfn_state_machine.this.json",
        "module.ingest.module.compaction.aws_sfn_state_machine.this_weekly.json",
    ]


def test_output_directory_is_written_whole_or_not_at_all(run_cli, tmp_path):
    out = tmp_path / "policies"
    # The run-job states need a region for the events rule: generation fails before any file is written.
    result = run_cli("generate", str(CFN / "definition-strings.json"), "--account", "123456789012", "-o", str(out))
    assert result.code == 2
    assert "region" in result.err
    assert not out.exists()


def test_output_must_be_a_directory_for_several_machines(run_cli, tmp_path):
    existing = tmp_path / "policy.json"
    existing.write_text("keep me")
    result = run_cli("generate", str(SAM), *TARGET, "-o", str(existing))
    assert result.code == 2
    assert "directory" in result.err and "--merge" in result.err
    assert existing.read_text() == "keep me"


def test_one_machine_into_an_existing_directory(run_cli, tmp_path):
    result = run_cli("generate", str(CFN / "definition-object.yaml"), *TARGET, "-o", str(tmp_path))
    assert result.code == 0, result.err
    assert [path.name for path in tmp_path.iterdir()] == ["RenderStateMachine.json"]
    golden = EXPECTED / "cloudformation" / "definition-object.json"
    assert (tmp_path / "RenderStateMachine.json").read_text() == golden.read_text()


def test_merge_writes_the_union_to_one_file(run_cli, tmp_path):
    out = tmp_path / "merged.json"
    result = run_cli("generate", str(CFN / "definition-strings.json"), *TARGET, "--merge", "-o", str(out))
    assert result.code == 0, result.err
    assert out.read_text() == (EXPECTED / "cloudformation" / "definition-strings.json").read_text()


def test_state_machine_picks_one(run_cli):
    result = run_cli("generate", str(CFN / "definition-strings.json"), *TARGET, "--state-machine", "TranscodeStateMachine")
    assert result.code == 0, result.err
    expected = EXPECTED / "cloudformation" / "definition-strings" / "TranscodeStateMachine.json"
    assert result.out == expected.read_text()


def test_state_machine_repeated_picks_several(run_cli, tmp_path):
    args = ["generate", str(CFN / "definition-strings.json"), *TARGET,
            "--state-machine", "IngestStateMachine", "--state-machine", "ReportStateMachine"]
    assert run_cli(*args).code == 2  # still two: -o DIR or --merge
    result = run_cli(*args, "-o", str(tmp_path))
    assert result.code == 0, result.err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["IngestStateMachine.json", "ReportStateMachine.json"]


def test_unknown_state_machine_lists_the_names(run_cli):
    result = run_cli("generate", str(SAM), *TARGET, "--state-machine", "Alignment")
    assert result.code == 2
    assert "no state machine named 'Alignment'" in result.err
    assert "AlignmentStateMachine, QcStateMachine, ReportStateMachine" in result.err


def test_select_state_machines_api():
    loaded = _load(SERVERLESS)
    assert [m.name for m in pipeline.select_state_machines(loaded, [])] == ["renderPipeline", "nightly-report"]
    assert [m.name for m in pipeline.select_state_machines(loaded, ["nightly-report"])] == ["nightly-report"]
    with pytest.raises(UsageError, match="renderPipeline, nightly-report"):
        pipeline.select_state_machines(loaded, ["nightly"])


# -- --input-type ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, input_type",
    [(CFN / "definition-object.yaml", "cloudformation"), (SAM, "cloudformation"), (PLAN, "terraform-plan"),
     (SERVERLESS, "serverless"), (INPUTS / "asl" / "run-job.asl.json", "asl")],
)
def test_forcing_the_right_type_changes_nothing(path, input_type):
    forced = pipeline.scan_state_machines(_load(path, input_type))
    assert forced == pipeline.scan_state_machines(_load(path))


@pytest.mark.parametrize(
    "path, input_type, fragment",
    [
        (CFN / "definition-object.yaml", "asl", "Amazon States Language"),
        (PLAN, "cloudformation", "Resources"),
        (CFN / "definition-object.yaml", "terraform-plan", "terraform show -json"),
        (CFN / "definition-object.yaml", "serverless", "stepFunctions.stateMachines"),
        (INPUTS / "asl" / "run-job.asl.json", "cloudformation", "Resources"),
    ],
)
def test_forcing_the_wrong_type_is_an_input_error(run_cli, path, input_type, fragment):
    result = run_cli("scan", "--input-type", input_type, str(path))
    assert result.code == 2, result.err
    assert result.err.startswith(f"policygen: error: {path}")
    assert fragment in result.err
    assert "Traceback" not in result.err


def test_unrecognised_file_asks_for_input_type(run_cli, tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"name": "not a state machine"}')
    result = run_cli("generate", str(path), *TARGET)
    assert result.code == 2
    assert str(path) in result.err and "--input-type" in result.err


def test_template_without_state_machine(run_cli):
    path = BAD / "no-state-machine.yaml"
    forced = run_cli("generate", "--input-type", "cloudformation", str(path), *TARGET)
    assert forced.code == 2
    assert f"{path}:6:1" in forced.err and "no AWS::StepFunctions::StateMachine" in forced.err
    detected = run_cli("generate", str(path), *TARGET)
    assert detected.code == 0  # detected as a template: say so, and the policy is empty
    assert "no AWS::StepFunctions::StateMachine" in detected.err
    assert json.loads(detected.out)["Statement"] == []


# -- bad templates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, fragments",
    [
        ("unknown-intrinsic.json", ["unknown-intrinsic.json:25:30", "'EtlStateMachine'", "'Fn::Lookup'",
                                    "/Resources/EtlStateMachine/Properties/Definition/States/Extract/Parameters/JobQueue"]),
        ("sub-unknown-name.yaml", ["sub-unknown-name.yaml:27:7", "'PipelineStateMachine'", "'BatchQueue'",
                                   "neither a parameter, a resource, a pseudo parameter nor a variable"]),
        ("missing-definition-uri.yaml", ["missing-definition-uri.yaml:7:7", "'NightlyStateMachine'",
                                         "statemachine/nightly.asl.json", "no such file"]),
        ("plan-wrong-shape.json", ["plan-wrong-shape.json:6:7", "terraform show -json",
                                   "/planned_values/root_module/resources", "must be a list"]),
        ("definition-string-invalid.yaml", ["definition-string-invalid.yaml:23:7", "'ReindexStateMachine'",
                                            "not valid JSON once its values are substituted",
                                            "Expecting property name", "(line 14, column 5"]),
    ],
)
def test_bad_sources_are_one_line_input_errors(run_cli, name, fragments):
    result = run_cli("generate", str(BAD / name), *TARGET)
    assert result.code == 2
    assert result.out == ""
    assert result.err.startswith("policygen: error: ")
    assert result.err.count("\n") == 1
    for fragment in fragments:
        assert fragment in result.err


def _template(tmp_path: Path, body: str, name: str = "template.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


_MACHINE_HEAD = """\
    AWSTemplateFormatVersion: "2010-09-09"
    Parameters:
      QueueArn:
        Type: String
    Resources:
      Jobs:
        Type: AWS::StepFunctions::StateMachine
        Properties:
          RoleArn: arn:aws:iam::123456789012:role/jobs
"""


@pytest.mark.parametrize(
    "properties, fragments",
    [
        ("""\
          Definition:
            StartAt: A
            States:
              A: {Type: Task, Resource: arn:aws:states:::batch:submitJob, Parameters: {JobQueue: !Ref Queue, JobDefinition: d}, End: true}
""", ["Ref refers to 'Queue'", "/Parameters/JobQueue/Ref"]),
        ("""\
          Definition:
            StartAt: A
            States:
              A: {Type: Task, Resource: arn:aws:states:::batch:submitJob, Parameters: {JobQueue: !GetAtt Queue.JobQueueArn, JobDefinition: d}, End: true}
""", ["Fn::GetAtt refers to 'Queue'"]),
        ("""\
          Definition:
            StartAt: A
            States:
              A: {Type: Task, Resource: !Sub "arn:${AWS::Partiton}:states:::batch:submitJob", End: true}
""", ["'AWS::Partiton'", "not a CloudFormation pseudo parameter"]),
        ("""\
          Definition: {StartAt: A, States: {A: {Type: Succeed}}}
          DefinitionString: '{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}'
""", ["sets both Definition and DefinitionString"]),
        ("""\
          DefinitionString: '{"StartAt": "A", "States": '
""", ["not valid JSON"]),
        ("""\
          StateMachineName: jobs
""", ["the definition is missing"]),
        # CDK writes every definition as a DefinitionString: two states with one name there must not
        # silently become one (the Batch state here would vanish and the policy come out empty).
        ("""\
          DefinitionString: '{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::batch:submitJob.sync", "End": true}, "A": {"Type": "Pass", "End": true}}}'
""", ["duplicate key 'A' in the definition", "(at /Resources/Jobs/Properties/DefinitionString/States/A)"]),
    ],
    ids=["ref-unknown", "getatt-unknown", "pseudo-unknown", "two-definitions", "truncated-string", "no-definition",
         "duplicate-state-in-string"],
)
def test_more_bad_templates(run_cli, tmp_path, properties, fragments):
    path = _template(tmp_path, _MACHINE_HEAD + properties)
    result = run_cli("scan", str(path))
    assert result.code == 2, result.err
    assert result.err.startswith(f"policygen: error: {path}:")
    assert "state machine 'Jobs'" in result.err
    for fragment in fragments:
        assert fragment in result.err
    assert "Traceback" not in result.err


def test_terraform_definition_with_a_duplicate_state_name_is_an_error(run_cli, tmp_path):
    definition = (
        '{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::batch:submitJob.sync",'
        ' "Parameters": {"JobQueue": "q", "JobDefinition": "d"}, "End": true}, "A": {"Type": "Pass", "End": true}}}'
    )
    plan = {"format_version": "1.2", "terraform_version": "1.7.0", "planned_values": {"root_module": {"resources": [
        {"address": "aws_sfn_state_machine.etl", "mode": "managed", "type": "aws_sfn_state_machine",
         "name": "etl", "values": {"definition": definition}}]}}}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan, indent=2))
    result = run_cli("generate", str(path), *TARGET)
    assert result.code == 2 and result.out == ""
    assert result.err.count("\n") == 1
    for fragment in (f"{path}:", "'aws_sfn_state_machine.etl'", "duplicate key 'A' in the definition",
                     "/values/definition/States/A"):
        assert fragment in result.err


def test_bad_definition_uri_file_names_the_template_and_machine(tmp_path):
    (tmp_path / "broken.asl.json").write_text('{"StartAt": "A", "States": {')
    path = _template(tmp_path, """\
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Nightly:
            Type: AWS::Serverless::StateMachine
            Properties:
              DefinitionUri: broken.asl.json
    """)
    with pytest.raises(InputError) as error:
        _load(path)
    assert error.value.location.file == str(tmp_path / "broken.asl.json")
    assert "'Nightly'" in str(error.value) and str(path) in str(error.value)


def test_definition_errors_in_iac_sources_name_the_state_machine(run_cli, tmp_path):
    # The scanner's errors (a bad Resource, a non-string JobQueue) carry the machine's logical id or
    # address like the loader's do; for a SAM DefinitionUri file, the template too.
    (tmp_path / "nightly.asl.json").write_text(json.dumps({"StartAt": "A", "States": {"A": {
        "Type": "Task", "Resource": "arn:aws:states:::batch:submitJob.nope", "End": True}}}))
    sam = _template(tmp_path, """\
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Nightly:
            Type: AWS::Serverless::StateMachine
            Properties:
              DefinitionUri: nightly.asl.json
    """)
    definition = {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::batch:submitJob",
                                                  "Parameters": {"JobQueue": 5}, "End": True}}}
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"format_version": "1.2", "terraform_version": "1.7.0", "planned_values": {"root_module": {
        "resources": [{"address": "module.etl.aws_sfn_state_machine.this", "type": "aws_sfn_state_machine",
                       "values": {"definition": json.dumps(definition)}}]}}}))
    cfn = _template(tmp_path, _MACHINE_HEAD + """\
          Definition:
            StartAt: A
            QueryLanguage: JSONpath
            States: {A: {Type: Succeed}}
    """, "cfn.yaml")
    cases = [
        (sam, [f"{tmp_path / 'nightly.asl.json'}:1:", f"state machine 'Nightly' in {sam}: state 'A'", "batch:submitJob.nope"]),
        (plan, [f"{plan}:1:", "state machine 'module.etl.aws_sfn_state_machine.this': state 'A'", '"JobQueue" must be a string']),
        (cfn, [f"{cfn}:", "state machine 'Jobs': QueryLanguage must be"]),
    ]
    for path, fragments in cases:
        result = run_cli("scan", str(path))
        assert result.code == 2 and result.err.count("\n") == 1, result.err
        for fragment in fragments:
            assert fragment in result.err, (fragment, result.err)


def test_a_batch_resource_chosen_at_deploy_time_is_an_error_not_a_skipped_state(run_cli, tmp_path):
    # Before, the !If made the Resource an opaque value that matched no integration: the state was
    # skipped and the policy came out empty, "no AWS Batch Task state found", exit 0.
    path = _template(tmp_path, _MACHINE_HEAD + """\
          Definition:
            StartAt: A
            States:
              A:
                Type: Task
                Resource: !If [Sync, !Sub "arn:${AWS::Partition}:states:::batch:submitJob.sync", arn:aws:states:::batch:submitJob]
                Parameters: {JobName: a, JobQueue: q, JobDefinition: d}
                End: true
    """)
    result = run_cli("generate", str(path), *TARGET)
    assert result.code == 2 and result.out == "" and result.err.count("\n") == 1, result.err
    for fragment in (f"{path}:", "(at /Resources/Jobs/Properties/Definition/States/A/Resource)",
                     "state machine 'Jobs': state 'A': its Resource is chosen at deploy time", "Fn::If"):
        assert fragment in result.err


def test_plain_asl_with_a_template_partition_says_so(run_cli, tmp_path):
    path = tmp_path / "m.asl.json"
    path.write_text(json.dumps({"StartAt": "A", "States": {"A": {
        "Type": "Task", "Resource": "arn:${AWS::Partition}:states:::batch:submitJob", "End": True}}}))
    result = run_cli("scan", str(path))
    assert result.code == 2
    assert "scan the template" in result.err


# -- Fn::Sub details -------------------------------------------------------------------------------


def test_sub_escapes_and_substitutions_interplay(tmp_path):
    """CloudFormation turns ${!Name} into the literal ${Name}; Step Functions then fills that
    placeholder from DefinitionSubstitutions (CloudFormation first, substitutions after)."""
    definition = {
        "StartAt": "A",
        "States": {"A": {
            "Type": "Task", "Resource": "arn:${AWS::Partition}:states:::batch:submitJob",
            "Parameters": {"JobQueue": "${!Queue}", "ShareIdentifier": "${!Unfilled}", "JobName": "${Prefix}-run"},
            "End": True,
        }},
    }
    template = {
        "Resources": {"Jobs": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "RoleArn": "arn:aws:iam::123456789012:role/jobs",
            "DefinitionString": {"Fn::Sub": [json.dumps(definition), {"Prefix": {"Fn::Join": ["-", ["nightly", {"Ref": "AWS::Region"}]]}}]},
            "DefinitionSubstitutions": {"Queue": {"Fn::GetAtt": ["JobQueue", "JobQueueArn"]}},
        }}, "JobQueue": {"Type": "AWS::Batch::JobQueue", "Properties": {}}},
    }
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template))
    (task,) = pipeline.scan_state_machines(_load(path))
    assert _value(task.job_queue) == ("deploy-time", "${JobQueue.JobQueueArn}")
    # a literal ${ left as it is (in a ShareIdentifier: as a JobDefinition it is no name, and refused)
    assert _value(task.share_identifier) == ("static", "${Unfilled}")
    parameters = _load(path)[0].definition["States"]["A"]["Parameters"]
    assert parameters["JobName"] == "nightly-${AWS::Region}-run"
    assert parameters["ShareIdentifier"] == "${!Unfilled}"


def test_a_deploy_time_value_outside_a_json_string_is_opaque_not_invalid_json(tmp_path):
    # Fn::Sub and DefinitionSubstitutions replace text: `"TimeoutSeconds": ${Timeout}` with a Number
    # parameter is valid once deployed. Before, the reference stayed in the text unquoted and the
    # template was rejected as invalid JSON.
    path = _template(tmp_path, """\
        Parameters:
          TimeoutSeconds: {Type: Number, Default: 3600}
          Attempts: {Type: Number, Default: 2}
        Resources:
          Jobs:
            Type: AWS::StepFunctions::StateMachine
            Properties:
              RoleArn: arn:aws:iam::123456789012:role/jobs
              DefinitionSubstitutions:
                Attempts: !Ref Attempts
              DefinitionString: !Sub |
                {"StartAt": "A", "TimeoutSeconds": ${TimeoutSeconds}, "States": {"A": {"Type": "Task",
                  "Resource": "arn:${AWS::Partition}:states:::batch:submitJob.sync",
                  "Parameters": {"JobName": "a\\\"${!x}", "JobQueue": "q-${AWS::Region}", "JobDefinition": "d",
                                 "RetryStrategy": {"Attempts": ${!Attempts}}},
                  "End": true}}}
    """)
    (machine,) = _load(path)
    assert machine.definition["TimeoutSeconds"] == "${TimeoutSeconds}"
    assert isinstance(machine.definition["TimeoutSeconds"], OpaqueValue)
    parameters = machine.definition["States"]["A"]["Parameters"]
    assert parameters["RetryStrategy"]["Attempts"] == "${Attempts}"
    (task,) = pipeline.scan_state_machines([machine])
    assert _value(task.job_queue) == ("deploy-time", "q-${AWS::Region}")  # inside a string: a reference still


def test_join_of_a_deploy_time_list_is_opaque(tmp_path):
    path = _template(tmp_path, _MACHINE_HEAD + """\
          Definition:
            StartAt: A
            States:
              A:
                Type: Task
                Resource: arn:aws:states:::batch:submitJob
                Parameters:
                  JobQueue: !Join [":", !Split [",", !Ref QueueArn]]
                  JobDefinition: d
                End: true
    """)
    (task,) = pipeline.scan_state_machines(_load(path))
    assert task.job_queue.kind is ValueKind.DYNAMIC
    assert "Fn::Split" in task.job_queue.text


def test_opaque_parameters_make_every_field_dynamic(tmp_path):
    path = _template(tmp_path, _MACHINE_HEAD + """\
          Definition:
            StartAt: A
            States:
              A:
                Type: Task
                Resource: arn:aws:states:::batch:submitJob
                Parameters: !If [Prod, {JobQueue: prod, JobDefinition: d}, {JobQueue: dev, JobDefinition: d}]
                End: true
    """)
    (task,) = pipeline.scan_state_machines(_load(path))
    assert task.job_queue.kind is ValueKind.DYNAMIC and "Fn::If" in task.job_queue.text
    assert task.dynamic_tags is not None  # which tags are sent is unknown too


def test_serverless_nested_variables_are_one_opaque_value(tmp_path):
    path = tmp_path / "serverless.yml"
    path.write_text(textwrap.dedent("""\
        service: jobs
        provider: {name: aws}
        stepFunctions:
          stateMachines:
            run:
              definition:
                StartAt: A
                States:
                  A:
                    Type: Task
                    Resource: arn:aws:states:::batch:submitJob
                    Parameters:
                      JobQueue: queue-${self:custom.queues.${opt:stage, 'dev'}}
                      JobDefinition:
                        Fn::Sub: arn:${AWS::Partition}:batch:${aws:region}:${AWS::AccountId}:job-definition/run
                    End: true
    """))
    (task,) = pipeline.scan_state_machines(_load(path))
    assert _value(task.job_queue) == ("dynamic", "queue-${self:custom.queues.${opt:stage, 'dev'}}")
    assert _value(task.job_definition) == (
        "deploy-time", "arn:${AWS::Partition}:batch:${AWS::Region}:${AWS::AccountId}:job-definition/run",
    )


# -- partition and target --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "flags, rule_arn",
    [
        (("--region", "us-east-1"), "arn:aws:events:us-east-1:123456789012:rule/StepFunctionsGetEventsForBatchJobsRule"),
        (("--region", "cn-north-1"), "arn:aws-cn:events:cn-north-1:123456789012:rule/StepFunctionsGetEventsForBatchJobsRule"),
        (("--region", "us-gov-west-1"), "arn:aws-us-gov:events:us-gov-west-1:123456789012:rule/StepFunctionsGetEventsForBatchJobsRule"),
        (("--region", "cn-northwest-1", "--partition", "aws-cn"), "arn:aws-cn:events:cn-northwest-1:123456789012:rule/StepFunctionsGetEventsForBatchJobsRule"),
    ],
)
def test_deploy_partition_comes_from_flag_or_region(run_cli, flags, rule_arn):
    result = run_cli("generate", str(CFN / "deploy-choice.yaml"), "--account", "123456789012", *flags)
    assert result.code == 0, result.err
    resources = [statement["Resource"] for statement in json.loads(result.out)["Statement"]]
    assert [rule_arn] in resources


def test_partition_flag_must_agree_with_static_resources(run_cli):
    result = run_cli("generate", str(PLAN), *TARGET, "--merge", "--partition", "aws-cn")
    assert result.code == 2
    assert "--partition aws-cn" in result.err and "aws" in result.err
    bad = run_cli("generate", str(CFN / "deploy-choice.yaml"), *TARGET, "--partition", "aws-mars")
    assert bad.code == 2 and "not an AWS partition" in bad.err


def test_deploy_time_values_never_give_region_or_account():
    tasks = pipeline.scan_state_machines(_load(CFN / "substitutions.yaml"))
    target = resolve_target(tasks, None, None, {})
    assert (target.region, target.account) == (None, None)
    assert target.partition == "aws"  # the Backfill state's static Resource


def test_static_text_with_a_literal_dollar_brace_is_not_inferred(tmp_path):
    definition = {"StartAt": "A", "States": {"A": {
        "Type": "Task", "Resource": "arn:aws:states:::batch:submitJob",
        "Parameters": {"JobQueue": "arn:aws:batch:${!Region}:123456789012:job-queue/q", "JobDefinition": "d"},
        "End": True}}}
    path = tmp_path / "template.json"
    path.write_text(json.dumps({"Resources": {"Jobs": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
        "RoleArn": "arn:aws:iam::123456789012:role/jobs", "DefinitionString": {"Fn::Sub": json.dumps(definition)}}}}}))
    # The literal `${Region}` is no region: the ARN is refused rather than read as one (or granted).
    with pytest.raises(InputError) as caught:
        pipeline.scan_state_machines(_load(path))
    assert "state 'A': JobQueue: 'arn:aws:batch:${Region}:123456789012:job-queue/q' does not name a region" in str(caught.value)


def test_load_result_still_iterates_as_machines():
    loaded = pipeline.load_state_machines([str(INPUTS / "asl" / "run-job.asl.json"), str(SERVERLESS)])
    assert len(loaded) == 3
    assert [machine.name for machine in loaded] == ["run-job", "renderPipeline", "nightly-report"]
    assert loaded[0].template is None
