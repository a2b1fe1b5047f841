"""Hostile input: policygen runs in CI on files whoever opens a pull request controls, and its
outputs are code other tools run.

- Outputs are code: a state machine name (a serverless.yml key, a logical id, a file name) or a
  tag stays inside its comment line or string literal in CloudFormation YAML/JSON and Terraform;
  the output parses and holds exactly the resources and blocks it should.
- Tags AWS refuses (https://docs.aws.amazon.com/batch/latest/userguide/tag-restrictions.html) are
  refused, in a state (InputError, exit 2, the state and the tag's pointer) and as --tag.
- Names are names: a static job queue, job definition or consumable resource that is no Batch
  name or ARN (wildcards, empty, another partition) is refused, never granted as written.
"""

from __future__ import annotations

import dataclasses
import json
import unicodedata

import pytest
from conftest import FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_outputs import _cfn_lint, parse_terraform

from policygen.errors import InputError, UsageError
from policygen.load.asl import state_machine_from_asl
from policygen.load.json_source import parse_json
from policygen.load.yaml_source import parse_yaml
from policygen.pipeline import Settings, generate_outputs
from policygen.render.cloudformation import logical_id
from policygen.render.templating import comment_text, hcl_string
from policygen.render.terraform import PSEUDO_REGION, block_name, hcl_value
from policygen.requirements.needs import Options

SUBMIT_SYNC = "arn:aws:states:::batch:submitJob.sync"
# Everything that ends a line or a string, starts an interpolation or a comment, or hides text.
HOSTILE_PIECES = [
    '"', "'", "\n", "\r", "\r\n", "\u2028", "\u2029", "\u0085", "\x0b", "\x0c", "\t", "\x00", "\x7f",
    "${", "%{", "$${", "}", "#", "//", "/*", "\\", "\\n", ": ", "- ", "!Ref ", "&a", "*a", "\u202e",
    "\ufeff", "\U0001d49c", "é", "\u00a0", "aws:", "=", "@", "*", "?",
]
HOSTILE_TEXT = st.lists(
    st.sampled_from(HOSTILE_PIECES) | st.text(st.characters(blacklist_categories=("Cs",)), max_size=3),
    min_size=1,
    max_size=8,
).map("".join)
PROFILE = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DATA_SOURCES = {"aws_partition", "aws_region", "aws_caller_identity"}

pytest.importorskip("hcl2")
pytest.importorskip("cfnlint.api")


def _definition(tags: dict[str, str] | None = None, **parameters: str) -> dict:
    body = {"JobName": "j", "JobQueue": "q", "JobDefinition": "d", **parameters}
    if tags is not None:
        body["Tags"] = tags
    return {"StartAt": "Run", "States": {"Run": {"Type": "Task", "Resource": SUBMIT_SYNC, "Parameters": body, "End": True}}}


def _machine(definition: dict, name: str, file: str):
    machine = state_machine_from_asl(parse_json(json.dumps(definition, indent=2), file))
    return dataclasses.replace(machine, name=name)


def _generate(machines, output_format: str, mode: str = "fine-grained", tags=()) -> str:
    where = {"region": "us-east-1", "account": "123456789012"} if output_format == "json" else {}
    configured = Settings(output_format=output_format, options=Options(mode=mode, required_tags=tags), allow_untagged=True, **where)
    return generate_outputs(machines, [m.file for m in machines], configured, per_machine_files=False).text


def _cfn_errors(text: str) -> list[str]:
    """cfn-lint's errors for the output text itself (comments and all), rules loaded once."""
    from cfnlint.api import decode_str, run_template_by_data

    decoded, errors = decode_str(text)
    if errors:
        return [str(error) for error in errors]
    config, rules = _cfn_lint()
    template = {"AWSTemplateFormatVersion": "2010-09-09", **decoded}
    return [str(m) for m in run_template_by_data(template, config, rules) if m.rule.id.startswith("E")]


def _terraform_blocks(text: str) -> tuple[set[str], set[str]]:
    """(policy document block names, data source types) of a Terraform output that must hold
    nothing else: no resource, no provisioner, no other top-level block."""
    import hcl2

    parsed = hcl2.loads(text, serialization_options=hcl2.SerializationOptions(strip_string_quotes=True))
    assert set(parsed) - {"__comments__"} <= {"data"}, parsed.keys()
    documents: set[str] = set()
    sources: set[str] = set()
    for data in parsed.get("data", []):
        for kind, named in data.items():
            if kind == "aws_iam_policy_document":
                assert not documents & set(named)
                documents.update(named)
            else:
                assert kind in DATA_SOURCES, kind
                sources.add(kind)
    return documents, sources


# --- AWS's tag rule, written out independently of policygen.iam.aws_names ------------------------------


def _aws_accepts_tag(text: str, limit: int, empty_ok: bool) -> bool:
    return (
        (empty_ok or len(text) > 0)
        and len(text) <= limit
        and not text.lower().startswith("aws:")
        and all(c in "_.:/=+-@" or unicodedata.category(c)[0] in "LNZ" for c in text)
    )


# --- Part A: outputs are code -----------------------------------------------------------------------


@PROFILE
@given(
    names=st.lists(HOSTILE_TEXT, min_size=1, max_size=2),
    file=HOSTILE_TEXT,
    tag_key=HOSTILE_TEXT | st.sampled_from(["team", "cost center", "a/b:c=d+e@f.g_h-i"]),
    tag_value=HOSTILE_TEXT | st.sampled_from(["", "genomics", "x\u2028y"]),
)
def test_hostile_names_and_tags_never_escape_their_literal_or_comment(names, file, tag_key, tag_value):
    """A name anywhere, a tag key or value: refused (a tag AWS refuses), or written so that the
    output parses into exactly the resources and blocks it should have, with the same lines as
    for plain names and every line naming a machine a comment."""
    definition = _definition({tag_key: tag_value})
    machines = [_machine(definition, name, f"{file}{index}.asl.json") for index, name in enumerate(names)]
    placeholder_key = "${" in tag_key  # a deploy-time key: the tags are unknown, no key is written
    accepted = placeholder_key or (
        _aws_accepts_tag(tag_key, 128, empty_ok=False)
        and ("${" in tag_value or _aws_accepts_tag(tag_value, 256, empty_ok=True))
    )
    if not accepted:
        with pytest.raises(InputError) as caught:
            _generate(machines, "json" if len(machines) == 1 else "cloudformation")
        assert "/States/Run/Parameters/Tags/" in str(caught.value)
        # The names still go through every output, with a tag AWS accepts.
        tag_key, tag_value = "team", "genomics"
        definition = _definition({tag_key: tag_value})
        machines = [_machine(definition, name, f"{file}{index}.asl.json") for index, name in enumerate(names)]
    plain = [_machine(definition, f"m{index}", f"f{index}.asl.json") for index in range(len(machines))]

    # CloudFormation YAML: the project's YAML loader and cfn-lint read exactly the roles.
    yaml_text = _generate(machines, "cloudformation")
    expected_ids = _unique([logical_id(name, "ExecutionRole") for name in names])
    loaded = parse_yaml(yaml_text, "out.yaml").data
    assert list(loaded) == ["Resources"] and list(loaded["Resources"]) == expected_ids
    assert {r["Type"] for r in loaded["Resources"].values()} == {"AWS::IAM::Role"}
    assert _cfn_errors(yaml_text) == []
    _assert_names_only_in_comments(yaml_text, names, _generate(plain, "cloudformation"))

    # CloudFormation JSON: json, the same roles.
    json_text = _generate(machines, "cloudformation-json")
    assert list(json.loads(json_text)["Resources"]) == expected_ids

    # Terraform: python-hcl2 reads exactly the policy documents (and the data sources they use).
    tf_text = _generate(machines, "terraform")
    documents, _ = _terraform_blocks(tf_text)
    assert documents == set(_unique([block_name(name) for name in names], "_"))
    _assert_names_only_in_comments(tf_text, names, _generate(plain, "terraform"))

    # The tag comes back as written, or (deploy-time) not at all.
    (statements, *_) = parse_terraform(tf_text).values()
    tag_statements = [s for s in statements if "batch:TagResource" in s["Action"]]
    assert len(tag_statements) == 1, tag_statements
    condition = tag_statements[0].get("Condition", {})
    if placeholder_key:
        assert condition == {}
    elif "${" in tag_value:
        assert condition == {"ForAllValues:StringEquals": {"aws:TagKeys": [tag_key]}}
    else:
        assert condition["StringEquals"] == {f"aws:RequestTag/{tag_key}": [tag_value]}
    if len(machines) == 1:
        policy = json.loads(_generate(machines, "json"))
        assert {s["Sid"] for s in policy["Statement"]} == {s["Sid"] for s in statements}


def _unique(names: list[str], separator: str = "") -> list[str]:
    from policygen.render.templating import unique_names

    return unique_names(names, separator)


def _assert_names_only_in_comments(text: str, names: list[str], plain_text: str) -> None:
    # Hostile names add no line, and every line that shows one is a comment.
    assert len(text.splitlines()) == len(plain_text.splitlines())
    assert text.count("\n") == plain_text.count("\n")
    for name in names:
        shown = comment_text(name)
        for line in text.splitlines():
            if f"State machine {shown} (" in line:
                assert line.lstrip().startswith("# State machine "), line


def test_a_tag_key_cannot_add_a_terraform_resource(tmp_path, run_cli):
    """The fuzzing find: a tag key with `"` and newlines ended the `variable` string and added a
    null_resource with a local-exec provisioner. Such a key is no AWS tag key: refused."""
    key = 'team"\n  values = []\n}}}\nresource "null_resource" "x" {\n  provisioner "local-exec" { command = "id" }\n}\n#'
    path = tmp_path / "tagged.asl.json"
    path.write_text(json.dumps(_definition({key: "v"})), encoding="utf-8")
    result = run_cli("generate", str(path), "--format", "terraform", "--mode", "fine-grained")
    assert result.code == 2, result.out
    assert result.out == ""
    assert "state 'Run'" in result.err and "/States/Run/Parameters/Tags/team" in result.err
    assert "null_resource" not in result.out and len(result.err.splitlines()) == 1


def test_terraform_condition_keys_are_hcl_strings():
    """Whatever reaches a condition block (the test, the key) is an escaped HCL string: the
    template wrote both raw between quotes."""
    from policygen.generate.policy import Policy, Statement
    from policygen.render.terraform import PolicyBlock, render_terraform

    key = 'aws:RequestTag/a"\nresource "null_resource" "x" {}\n${b}%{c}\\'
    statement = Statement("S", ("batch:TagResource",), ("*",), (), (("StringEquals", key, ("v",)),))
    text = render_terraform([PolicyBlock("m", "f.json", Policy((statement,)))], "0")
    documents, _ = _terraform_blocks(text)
    assert documents == {"m"}
    assert f"variable = {hcl_string(key)}" in text
    (statements,) = parse_terraform(text, raw=True).values()
    # (python-hcl2 decodes the string escapes and keeps HCL's template escapes `$${`, `%%{`.)
    assert statements[0]["Condition"] == {"StringEquals": {key.replace("${", "$${").replace("%{", "%%{"): ["v"]}}


def test_a_serverless_state_machine_name_cannot_add_a_cloudformation_resource(tmp_path, run_cli):
    """The fuzzing find: a serverless.yml key with newlines broke out of the header and
    `# State machine` comments and added an AWS::IAM::User."""
    name = "evil\nResources:\n  Backdoor:\n    Type: AWS::IAM::User\n#"
    config = {
        "service": "x",
        "provider": {"name": "aws"},
        "stepFunctions": {"stateMachines": {name: {"definition": _definition()}}},
    }
    path = tmp_path / "serverless.yml"
    path.write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML
    for output_format in ("cloudformation", "terraform"):
        result = run_cli("generate", str(path), "--format", output_format)
        assert result.code == 0, result.err
        assert "\nResources:\n  Backdoor" not in result.out
        if output_format == "cloudformation":
            resources = parse_yaml(result.out, "out.yaml").data["Resources"]
            assert list(resources) == [logical_id(name, "ExecutionRole")]
            assert [r["Type"] for r in resources.values()] == ["AWS::IAM::Role"]
            assert _cfn_errors(result.out) == []
        else:
            assert _terraform_blocks(result.out)[0] == {block_name(name)}
        assert "# for state machine(s): evil\\u000aResources:\\u000a  Backdoor:" in result.out


def test_a_terraform_address_or_file_name_stays_in_its_comment(tmp_path):
    name = 'module.x["a\u2028b\u0085c\rd"]'
    machine = _machine(_definition(), name, "dir\nresource \"null_resource\" \"y\" {}\n.asl.json")
    text = _generate([machine], "terraform", mode="documented")
    assert _terraform_blocks(text)[0] == {block_name(name)}
    assert "# State machine module.x[\"a\\u2028b\\u0085c\\u000dd\"] (dir\\u000aresource" in text


def test_comment_text_is_one_line_and_leaves_plain_names_alone():
    assert comment_text("render-pipeline_2 (a.asl.json)") == "render-pipeline_2 (a.asl.json)"
    assert comment_text("é𝒜 x") == "é𝒜 x"
    escaped = comment_text("a\nb\rc\u2028d\u2029e\u0085f\x00g\u202eh\ufeffi\U000e0001j")
    assert escaped == "a\\u000ab\\u000dc\\u2028d\\u2029e\\u0085f\\u0000g\\u202eh\\ufeffi\\U000e0001j"
    assert escaped.isprintable() and escaped.isascii()


def test_a_literal_dollar_before_a_data_source_keeps_it_live():
    """`$` + `${data...}` read as the `$${` escape: the interpolation became text."""
    import hcl2

    for text in ("a$" + PSEUDO_REGION, "a$$" + PSEUDO_REGION):
        value = hcl_value(text)
        assert "$${data" not in value.replace("$$$${", "")
        parsed = hcl2.loads(f"x = {value}\n")["x"]
        assert PSEUDO_REGION in parsed
    assert hcl_value("${aws:username}") == '"$${aws:username}"'  # an IAM policy variable stays literal
    assert hcl_value("%{x}") == '"%%{x}"'


# --- Part A: tags AWS refuses are refused ------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "why"),
    [
        ('te"am', "x", "holds '\"'"),
        ("team\n", "x", "holds '\\n'"),
        ("team", "a\tb", "holds '\\t'"),
        ("team", "${x", None),  # deploy-time in a plain ASL file: not a static value, not checked
        ("team", "x}%{y", "holds '}'"),
        ("a#b", "x", "holds '#'"),
        ("a\\b", "x", "holds '\\\\'"),
        ("AWS:team", "x", "a prefix AWS reserves"),
        ("team", "aws:x", "a prefix AWS reserves"),
        ("k" * 129, "x", "129 characters"),
        ("team", "v" * 257, "257 characters"),
        ("", "x", "cannot be empty"),
    ],
)
def test_a_tag_aws_refuses_is_an_input_error_naming_the_state_and_tag(key, value, why):
    machine = _machine(_definition({key: value}), "m", "m.asl.json")
    if why is None:
        _generate([machine], "json")
        return
    with pytest.raises(InputError) as caught:
        _generate([machine], "json")
    message = str(caught.value)
    assert "state 'Run'" in message and why in message
    assert "(at /States/Run/Parameters/Tags/" in message


@pytest.mark.parametrize(
    ("key", "value"),
    [("k" * 128, "v" * 256), ("cost center", ""), ("é𝒜\u00a0\u2028", "x\u3000y"), ("a/b:c=d+e@f.g_h-i", "aws")],
)
def test_tags_aws_accepts_are_kept(key, value):
    machine = _machine(_definition({key: value}), "m", "m.asl.json")
    policy = json.loads(_generate([machine], "json"))
    tag = next(s for s in policy["Statement"] if s["Sid"] == "BatchTagJobOnCreate")
    assert tag["Condition"]["StringEquals"] == {f"aws:RequestTag/{key}": value}


def test_a_jsonpath_tag_value_is_not_checked_but_its_key_is():
    machine = _machine(_definition({"team.$": "$.team"}), "m", "m.asl.json")
    assert json.loads(_generate([machine], "json"))
    with pytest.raises(InputError, match="holds '\"'"):
        _generate([_machine(_definition({'te"am.$': "$.team"}), "m", "m.asl.json")], "json")


@pytest.mark.parametrize("tag", ['te"am=x', "team=a\nb", "aws:team=x", "team=aws:x", f"{'k' * 129}=x", "team=${x}"])
def test_a_tag_option_aws_refuses_is_a_usage_error(tag, run_cli):
    result = run_cli("generate", str(FIXTURES / "inputs" / "asl" / "run-job.asl.json"), "--mode", "fine-grained",
                     "--region", "us-east-1", "--account", "123456789012", "--tag", tag)
    assert result.code == 2 and result.out == ""
    assert result.err.startswith("policygen: error: --tag ") and len(result.err.splitlines()) == 1


# --- Part B: names are names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("JobQueue", "*", "is not a job queue name or ARN"),
        ("JobQueue", "gpu-*", "is not a job queue name or ARN"),
        ("JobQueue", "q?", "is not a job queue name or ARN"),
        ("JobQueue", "", "is not a job queue name or ARN"),
        ("JobQueue", "q" * 129, "is not a job queue name or ARN"),
        ("JobQueue", "a b", "is not a job queue name or ARN"),
        ("JobQueue", "arn:aws:batch:*:*:job-queue/q", "an ARN with a wildcard"),
        ("JobQueue", "arn:aws:batch:us-east-1:123456789012:job-queue/*", "an ARN with a wildcard"),
        ("JobQueue", "arn:aws:batch:us-east-1:123456789012:job-queue/", "is not a job queue name or ARN"),
        ("JobQueue", "arn:aws-cn:batch:cn-north-1:123456789012:job-queue/q", "but the state's Resource is in aws"),
        ("JobQueue", "arn:aws:batch:cn-north-1:123456789012:job-queue/q", "does not name a region of the partition aws"),
        ("JobQueue", "arn:aws:batch:us-east-1:12345:job-queue/q", "does not name a 12-digit account"),
        ("JobQueue", "arn:aws:batch:us-east-1:123456789012:job-definition/q", "is not a job-queue ARN"),
        ("JobQueue", "arn:aws:sqs:us-east-1:123456789012:job-queue/q", "is not an AWS Batch ARN"),
        ("JobQueue", "arn:aws-mars:batch:us-east-1:123456789012:job-queue/q", "is not in an AWS partition"),
        ("JobDefinition", "d:*", "not a job definition `name:revision`"),
        ("JobDefinition", "d:0", "not a job definition `name:revision`"),
        ("JobDefinition", "d*", "is not a job definition name or ARN"),
        ("JobDefinition", "arn:aws:batch:us-east-1:123456789012:job-definition/d:*", "an ARN with a wildcard"),
        ("JobDefinition", "arn:aws:batch:us-east-1:123456789012:job-definition/d:x", "not a job definition `name:revision`"),
        ("JobDefinition", "arn:aws-us-gov:batch:us-gov-west-1:123456789012:job-definition/d", "but the state's Resource is in aws"),
    ],
)
def test_a_static_name_that_is_no_batch_name_is_refused(field, value, why, run_cli, tmp_path):
    path = tmp_path / "names.asl.json"
    path.write_text(json.dumps(_definition(**{field: value})), encoding="utf-8")
    result = run_cli("generate", str(path), "--mode", "fine-grained", "--region", "us-east-1", "--account", "123456789012")
    assert result.code == 2, result.out
    assert result.out == ""
    assert f"(at /States/Run/Parameters/{field}): state 'Run': {field}: " in result.err
    assert why in result.err and len(result.err.splitlines()) == 1


# A lone surrogate ("a\ud800") never gets this far: the loader refuses it at its string (test_loaders).
@pytest.mark.parametrize("value", ["*", "lic?", "", "a:b", "a b", "a\u202eb", "arn:aws:batch:us-east-1:123456789012:consumable-resource/*"])
def test_a_static_consumable_resource_that_is_no_name_is_refused(value):
    definition = _definition()
    definition["States"]["Run"]["Parameters"]["ConsumableResourcePropertiesOverride"] = {
        "ConsumableResourceList": [{"ConsumableResource": value, "Quantity": 1}]
    }
    with pytest.raises(InputError) as caught:
        _generate([_machine(definition, "m", "m.asl.json")], "json")
    assert "ConsumableResourceList/0/ConsumableResource" in str(caught.value) and "state 'Run': ConsumableResource: " in str(caught.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("JobQueue", "gpu_queue-1"),
        ("JobQueue", "q" * 128),
        ("JobQueue", "arn:aws:batch:eu-west-2:111122223333:job-queue/gpu"),
        ("JobDefinition", "render:12"),
        ("JobDefinition", "arn:aws:batch:us-east-1:111122223333:job-definition/render"),
        ("JobDefinition", "arn:aws:batch:us-east-1:111122223333:job-definition/render:3"),
        ("JobQueue.$", "$.queue"),  # dynamic: unchanged, falls back with a warning
    ],
)
def test_valid_names_and_dynamic_values_are_unchanged(field, value):
    machine = _machine(_definition(**{field: value}) if "." not in field else _dynamic(field, value), "m", "m.asl.json")
    text = _generate([machine], "cloudformation")
    assert parse_yaml(text, "out.yaml").data["Resources"]


def _dynamic(field: str, value: str) -> dict:
    definition = _definition()
    del definition["States"]["Run"]["Parameters"][field[:-2]]
    definition["States"]["Run"]["Parameters"][field] = value
    return definition


def test_a_template_arn_of_another_partition_than_the_policy_is_a_usage_error(tmp_path):
    """A template's states run in the partition it is deployed to: the scanner cannot hold the
    ARN against it, the target can."""
    definition = _definition(JobQueue="arn:aws-cn:batch:cn-north-1:123456789012:job-queue/q")
    definition["States"]["Run"]["Resource"] = "arn:${AWS::Partition}:states:::batch:submitJob.sync"
    template = {"Resources": {"Jobs": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
        "RoleArn": "arn:aws:iam::123456789012:role/jobs", "DefinitionString": {"Fn::Sub": json.dumps(definition)}}}}}
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template), encoding="utf-8")
    from policygen import pipeline
    from policygen.requirements.target import resolve_target

    (task,) = pipeline.scan_state_machines(pipeline.load_state_machines([str(path)]))
    assert task.partition is None
    assert resolve_target([task], None, None, {}).partition == "aws-cn"  # from the ARN's region
    with pytest.raises(UsageError, match="ARNs in the partition aws-cn, but the policy is for aws "):
        resolve_target([task], "us-east-1", None, {})
    other = dataclasses.replace(task, job_queue=dataclasses.replace(
        task.job_queue, text="arn:aws:batch:us-east-1:123456789012:job-queue/q"))
    with pytest.raises(UsageError, match="ARNs in the partition aws-cn, but the policy is for aws "):
        resolve_target([task, other], None, None, {}, partition="aws")


# --- Text for people and CI logs: one line per line -------------------------------------------------


def test_warnings_errors_tables_and_explanations_show_input_text_on_one_line(tmp_path, run_cli):
    """A state name with a line break must not start a line of its own on stderr or in the scan
    table: a CI log reads `::error::...` lines as workflow commands."""
    state = "Run\n::error file=x::pwned\u2028"
    definition = _definition()
    definition["States"] = {state: definition["States"]["Run"]}
    definition["StartAt"] = state
    parameters = definition["States"][state]["Parameters"]
    parameters["JobQueue.$"] = parameters.pop("JobQueue")  # dynamic: a warning naming the state
    path = tmp_path / "multi\nline.asl.json"
    path.write_text(json.dumps(definition), encoding="utf-8")
    result = run_cli("generate", str(path), "--mode", "fine-grained", "--region", "us-east-1",
                     "--account", "123456789012", "--explain")
    assert result.code == 0, result.err
    assert result.err.count("policygen: warning: ") == 1
    assert not any(line.startswith("::") for line in result.err.splitlines())
    assert "/States/Run\\u000a::error file=x::pwned\\u2028/Parameters/JobQueue.$" in result.err
    scan = run_cli("scan", str(path))
    assert scan.code == 0 and len(scan.out.splitlines()) == 2  # the header and one row
    parameters["JobQueue"] = "*"
    del parameters["JobQueue.$"]
    path.write_text(json.dumps(definition), encoding="utf-8")
    refused = run_cli("generate", str(path), "--region", "us-east-1", "--account", "123456789012")
    assert refused.code == 2 and len(refused.err.splitlines()) == 1


NAME_BREAKOUT = 'x"\nResources:\n  Backdoor:\n    Type: AWS::IAM::User\nresource "null_resource" "y" {}\n#\u2028z'


def _name_sources(tmp_path):
    """The same state machine named NAME_BREAKOUT by each kind of input that names machines."""
    definition = _definition()
    template = {"Resources": {NAME_BREAKOUT: {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
        "RoleArn": "arn:aws:iam::123456789012:role/jobs", "DefinitionString": json.dumps(definition)}}}}
    plan = {"format_version": "1.2", "planned_values": {"root_module": {"resources": [{
        "address": NAME_BREAKOUT, "mode": "managed", "type": "aws_sfn_state_machine", "name": "x",
        "values": {"name": "x", "definition": json.dumps(definition)}}]}}}
    serverless = {"service": "x", "provider": {"name": "aws"},
                  "stepFunctions": {"stateMachines": {NAME_BREAKOUT: {"definition": definition}}}}
    sources = {"template.json": template, "plan.json": plan, "serverless.yml": serverless}
    for file, content in sources.items():
        (tmp_path / file).write_text(json.dumps(content), encoding="utf-8")
    return [tmp_path / file for file in sources]


@pytest.mark.parametrize("source", ["template.json", "plan.json", "serverless.yml"])
def test_a_machine_name_from_any_source_stays_in_its_comment(source, tmp_path, run_cli):
    path = next(p for p in _name_sources(tmp_path) if p.name == source)
    machines = run_cli("scan", str(path), "--format", "json")
    assert machines.code == 0, machines.err
    (state,) = json.loads(machines.out)["batchStates"]
    assert state["stateMachine"] == NAME_BREAKOUT  # the name really is the hostile one
    for output_format in ("cloudformation", "terraform"):
        result = run_cli("generate", str(path), "--format", output_format)
        assert result.code == 0, result.err
        if output_format == "cloudformation":
            resources = parse_yaml(result.out, "out.yaml").data["Resources"]
            assert list(resources) == [logical_id(NAME_BREAKOUT, "ExecutionRole")]
            assert _cfn_errors(result.out) == []
        else:
            assert _terraform_blocks(result.out)[0] == {block_name(NAME_BREAKOUT)}
        assert f"# State machine {comment_text(NAME_BREAKOUT)} (" in result.out


# python-hcl2 (8.1) refuses HCL's `$${` / `%%{` escapes without a closing brace, which Terraform's
# own scanner reads as literal text (hashicorp/hcl, hclsyntax/scan_tokens.rl: TemplateNotInterp):
# the library-level test below keeps its braces balanced so that python-hcl2 can check the rest.
BALANCED_TEXT = HOSTILE_TEXT.filter(lambda text: "${" not in text and "%{" not in text)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=BALANCED_TEXT, value=BALANCED_TEXT)
def test_required_tags_given_to_the_library_unchecked_are_still_escaped(key, value):
    """The CLI refuses a --tag AWS refuses; a library caller passing Options directly is not
    checked, and the outputs must hold anyway: the key is in a Terraform `variable` string and a
    YAML mapping key, the value in a list of strings."""
    machine = _machine(_definition(), "m", "m.asl.json")  # sends no tags: a warning (allow_untagged)
    tags = ((key, value),)
    tf_text = _generate([machine], "terraform", tags=tags)
    assert _terraform_blocks(tf_text)[0] == {"m"}
    (statements,) = parse_terraform(tf_text, raw=True).values()
    conditions = [c for s in statements for c in s.get("Condition", {}).values()]
    assert {f"aws:RequestTag/{key}": [value]} in conditions  # python-hcl2 decodes \" \n \\ ...
    assert {f"aws:ResourceTag/{key}": [value]} in conditions
    yaml_text = _generate([machine], "cloudformation", tags=tags)
    loaded = parse_yaml(yaml_text, "out.yaml").data
    assert list(loaded["Resources"]) == ["MExecutionRole"]
    assert yaml_text.count("\n") == _generate([machine], "cloudformation", tags=(("k", "v"),)).count("\n")


@pytest.mark.parametrize("region", ["us-east-1\n", "us-east-1\n# x"])
def test_a_region_with_a_line_break_is_no_region(region):
    """`$` in the old pattern matched before a final newline: AWS_REGION=$'us-east-1\\n' passed."""
    from policygen.requirements.target import validate_region

    with pytest.raises(UsageError, match="is not an AWS region name"):
        validate_region(region, "AWS_REGION")
