"""Bedrock InvokeModel with an inference profile (rules/integrations/bedrock.yaml, `forms` of
ModelId): the profile AND the foundation model it routes to, in every Region.

https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-prereq.html: "When you
specify an inference profile in the Resource field ..., you must also specify the foundation model
in each Region associated with it." https://docs.aws.amazon.com/bedrock/latest/userguide/geographic-cross-region-inference.html:
the profile, the model in the source Region and in every destination Region. Before the forms, a
profile id became foundation-model/<profile id>, which names nothing, and a profile ARN was granted
alone: both denied at run time with no word from policygen.
"""

from __future__ import annotations

import copy
import json

import pytest

from policygen import pipeline
from policygen.load.asl import state_machine_from_asl
from policygen.load.json_source import parse_json
from policygen.render.policy_json import render_policy_json
from policygen.requirements import integrations
from policygen.rules_data import load_rules

TARGET = ("--region", "us-east-1", "--account", "123456789012")
PROFILE = "us.anthropic.claude-3-5-sonnet-20241022-v2:0"
MODEL = "anthropic.claude-3-5-sonnet-20241022-v2:0"


def _definition(model_id: object) -> dict:
    parameters = {"ModelId.$": "$.model"} if model_id is None else {"ModelId": model_id}
    state = {"Type": "Task", "Resource": "arn:aws:states:::bedrock:invokeModel", "Parameters": {**parameters, "Body": {}}, "End": True}
    return {"StartAt": "Ask", "States": {"Ask": state}}


def _generate(model_id: object, region: str = "us-east-1", partition_arn: str = "arn:aws:states") -> tuple[set[str], list[str]]:
    definition = _definition(model_id)
    definition["States"]["Ask"]["Resource"] = f"{partition_arn}:::bedrock:invokeModel"
    machines = [state_machine_from_asl(parse_json(json.dumps(definition), "ask.asl.json"))]
    batch, services = pipeline.scan_whole_role(machines)
    result = pipeline.generate_policy(batch, region, "123456789012", {}, services=services)
    (statement,) = json.loads(render_policy_json(result.policy))["Statement"]
    assert statement["Action"] == ["bedrock:InvokeModel"]
    return set(statement["Resource"]), [notice.message for notice in result.warnings]


@pytest.mark.parametrize(
    ("model_id", "resources", "said"),
    [
        # a system-defined cross-Region profile id, each geography AWS lists
        (PROFILE, {f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/{PROFILE}", f"arn:aws:bedrock:*::foundation-model/{MODEL}"}, "system inference profile"),
        ("eu.amazon.nova-pro-v1:0", {"arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.amazon.nova-pro-v1:0", "arn:aws:bedrock:*::foundation-model/amazon.nova-pro-v1:0"}, "every Region"),
        ("apac.amazon.nova-lite-v1:0", {"arn:aws:bedrock:us-east-1:123456789012:inference-profile/apac.amazon.nova-lite-v1:0", "arn:aws:bedrock:*::foundation-model/amazon.nova-lite-v1:0"}, "every Region"),
        ("us-gov.anthropic.claude-3-haiku-20240307-v1:0", {"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us-gov.anthropic.claude-3-haiku-20240307-v1:0", "arn:aws:bedrock:*::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"}, "every Region"),
        ("jp.anthropic.claude-sonnet-4-5-20250929-v1:0", {"arn:aws:bedrock:us-east-1:123456789012:inference-profile/jp.anthropic.claude-sonnet-4-5-20250929-v1:0", "arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0"}, "every Region"),
        ("au.anthropic.claude-sonnet-4-5-20250929-v1:0", {"arn:aws:bedrock:us-east-1:123456789012:inference-profile/au.anthropic.claude-sonnet-4-5-20250929-v1:0", "arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0"}, "every Region"),
        # a global profile also routes through the Region-less foundation-model ARN, which the `*` Region matches
        ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", {"arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0", "arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0"}, "every Region"),
        # a geography the table does not know: both readings, never the model id alone
        ("ca.amazon.nova-lite-v1:0", {"arn:aws:bedrock:us-east-1::foundation-model/ca.amazon.nova-lite-v1:0", "arn:aws:bedrock:us-east-1:123456789012:inference-profile/ca.amazon.nova-lite-v1:0", "arn:aws:bedrock:*::foundation-model/amazon.nova-lite-v1:0"}, "which this table does not know"),
        # a profile's ARN, as written, and its model
        (f"arn:aws:bedrock:us-east-1:111122223333:inference-profile/{PROFILE}", {f"arn:aws:bedrock:us-east-1:111122223333:inference-profile/{PROFILE}", f"arn:aws:bedrock:*::foundation-model/{MODEL}"}, "inference profile arn:"),
        ("arn:aws:bedrock:us-east-1:111122223333:inference-profile/team-profile", {"arn:aws:bedrock:us-east-1:111122223333:inference-profile/team-profile", "arn:aws:bedrock:*::foundation-model/*"}, "does not name its foundation model"),
        ("arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123", {"arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123", "arn:aws:bedrock:*::foundation-model/*"}, "fixed when it was created"),
    ],
)
def test_a_profile_is_granted_with_its_foundation_model_in_every_region_and_said(model_id, resources, said):
    granted, warnings = _generate(model_id)
    assert granted == resources
    (warning,) = warnings
    assert warning.startswith("state 'Ask' (bedrock:invokeModel): ModelId ") and said in warning and model_id in warning


@pytest.mark.parametrize(
    ("model_id", "resource"),
    [
        ("amazon.titan-text-express-v1", "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1"),
        (MODEL, f"arn:aws:bedrock:us-east-1::foundation-model/{MODEL}"),
        ("arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1", "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1"),
        ("arn:aws:bedrock:us-east-1:123456789012:provisioned-model/c2oi931ulksx", "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/c2oi931ulksx"),
        ("arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.titan-text-express-v1:0:8k/abcdef012345", "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.titan-text-express-v1:0:8k/abcdef012345"),
    ],
)
def test_a_foundation_model_id_and_other_model_arns_are_unchanged(model_id, resource):
    assert _generate(model_id) == ({resource}, [])


def test_a_dynamic_model_id_still_falls_back_to_the_documented_pair():
    granted, warnings = _generate(None)
    assert granted == {"arn:aws:bedrock:us-east-1::foundation-model/*", "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/*"}
    assert len(warnings) == 2 and all("known only at run time" in warning for warning in warnings)


def test_the_profile_names_the_state_machines_partition_and_region():
    granted, _ = _generate("us-gov.anthropic.claude-3-haiku-20240307-v1:0", region="us-gov-west-1", partition_arn="arn:aws-us-gov:states")
    assert granted == {
        "arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:inference-profile/us-gov.anthropic.claude-3-haiku-20240307-v1:0",
        "arn:aws-us-gov:bedrock:*::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
    }


def test_two_states_with_the_same_profile_are_each_told(tmp_path, run_cli):
    definition = _definition(PROFILE)
    definition["States"] = {"First": {**definition["States"]["Ask"], "End": None, "Next": "Second"}, "Second": definition["States"]["Ask"]}
    del definition["States"]["First"]["End"]
    definition["StartAt"] = "First"
    path = tmp_path / "two.asl.json"
    path.write_text(json.dumps(definition), encoding="utf-8")
    result = run_cli("generate", str(path), *TARGET)
    assert result.code == 0, result.err
    assert [line.split("state ", 1)[1].split(" ", 1)[0] for line in result.err.splitlines()] == ["'First'", "'Second'"]


# -- lint: the same forms, read back -----------------------------------------------------------


def _lint(tmp_path, run_cli, model_id: str, statements: list[dict]):
    definition = tmp_path / "ask.asl.json"
    definition.write_text(json.dumps(_definition(model_id)), encoding="utf-8")
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"Version": "2012-10-17", "Statement": statements}), encoding="utf-8")
    return run_cli("lint", str(definition), "--policy", str(policy), *TARGET, "--format", "json")


def _findings(result) -> list[tuple[str, str]]:
    return sorted((finding["ruleId"], finding["message"]) for finding in json.loads(result.out)["findings"])


@pytest.mark.parametrize(
    "model_id",
    [PROFILE, "global.anthropic.claude-sonnet-4-5-20250929-v1:0", f"arn:aws:bedrock:us-east-1:111122223333:inference-profile/{PROFILE}",
     "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/abc123", "ca.amazon.nova-lite-v1:0"],
)
def test_lint_finds_nothing_in_the_policy_generate_writes(tmp_path, run_cli, model_id):
    definition = tmp_path / "ask.asl.json"
    definition.write_text(json.dumps(_definition(model_id)), encoding="utf-8")
    generated = run_cli("generate", str(definition), *TARGET)
    assert generated.code == 0, generated.err
    result = _lint(tmp_path, run_cli, model_id, json.loads(generated.out)["Statement"])
    assert _findings(result) == [], result.out


def test_lint_refuses_the_role_policygen_used_to_write_for_a_profile(tmp_path, run_cli):
    old = {"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": f"arn:aws:bedrock:us-east-1::foundation-model/{PROFILE}"}
    result = _lint(tmp_path, run_cli, PROFILE, [old])
    assert result.code == 1
    found = _findings(result)
    (error,) = [message for rule, message in found if rule == "PG101"]
    assert f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/{PROFILE}" in error
    # the foundation model is a documented broad form (every Region): a role naming other models cannot be judged wrong
    assert [rule for rule, message in found if f"foundation-model/{MODEL}" in message] == ["PG203"]


def test_lint_does_not_pass_a_role_with_the_profile_but_no_foundation_model_for_it(tmp_path, run_cli):
    profile_only = {"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/{PROFILE}"}
    found = _findings(_lint(tmp_path, run_cli, PROFILE, [profile_only]))
    # The role allows InvokeModel on something, so the every-Region form is reported as unjudged
    # (PG203), not passed: lint does not yet tell a grant that cannot overlap it (a PG101).
    assert [rule for rule, message in found if f"foundation-model/{MODEL}" in message] == ["PG203"]
    assert all(f"inference-profile/{PROFILE}" not in message for _, message in found)


def test_lint_takes_the_profile_with_the_model_in_named_regions_as_unjudged_not_wrong(tmp_path, run_cli):
    # AWS's own example lists the destination Regions (geographic-cross-region-inference.html):
    # policygen cannot read that list, so it cannot call such a role wrong.
    statements = [
        {"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/{PROFILE}"},
        {"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": [f"arn:aws:bedrock:{region}::foundation-model/{MODEL}" for region in ("us-east-1", "us-east-2", "us-west-2")]},
    ]
    found = _findings(_lint(tmp_path, run_cli, PROFILE, statements))
    assert [rule for rule, _ in found] == ["PG203"]


# -- the table is checked when it is loaded -----------------------------------------------------


def _load_with(monkeypatch, change) -> None:
    data = copy.deepcopy(load_rules("integrations/bedrock.yaml"))
    change(data["apis"]["invokeModel"]["grants"]["request-response"][0]["resources"][0]["forms"][0])
    monkeypatch.setattr(integrations, "load_rules", lambda path: data)
    integrations.integration_table.__wrapped__("bedrock")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda form: form.update(match="(?P<geography>us|eu"), "is not a regular expression"),
        (lambda form: form["names"].append("arn:{partition}:bedrock:*::foundation-model/{modle}"), "uses {modle}, which is neither a placeholder nor a group"),
        (lambda form: form.update(note="is {profile}"), "uses {profile}"),
        (lambda form: form.update(match=r"(?P<region>us)\.(?P<model>.+)"), "may not be named region"),
        (lambda form: form.update(names=[]), "names is empty"),
    ],
)
def test_a_bad_form_is_an_error_when_the_table_is_loaded(monkeypatch, change, expected):
    with pytest.raises(ValueError, match="rules/integrations/bedrock.yaml apis.invokeModel BedrockInvokeModel ModelId form 'system-profile'") as error:
        _load_with(monkeypatch, change)
    assert expected in str(error.value)


def test_the_shipped_forms_load():
    table = integrations.integration_table("bedrock")
    forms = table.apis["invokeModel"].grants["request-response"][0].resources[0].forms
    assert [form.id for form in forms] == ["system-profile", "unknown-geography", "profile-arn", "other-profile-arn", "application-profile"]
    assert not table.apis["createModelCustomizationJob"].grants["request-response"][0].resources[0].forms


# -- a template reference ----------------------------------------------------------------------


def _template(tmp_path) -> str:
    definition = _definition("${Model}")
    template = {
        "Parameters": {"ModelParam": {"Type": "String", "Default": PROFILE}},
        "Resources": {"Ask": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "RoleArn": "arn:aws:iam::123456789012:role/ask", "Definition": definition,
            "DefinitionSubstitutions": {"Model": {"Ref": "ModelParam"}},
        }}},
    }
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template), encoding="utf-8")
    return str(path)


def test_a_parameter_default_resolved_to_text_takes_its_form(tmp_path, run_cli):
    result = run_cli("generate", _template(tmp_path), *TARGET)
    assert result.code == 0, result.err
    (statement,) = json.loads(result.out)["Statement"]
    assert set(statement["Resource"]) == {f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/{PROFILE}", f"arn:aws:bedrock:*::foundation-model/{MODEL}"}


def test_a_reference_kept_as_written_falls_back_because_its_form_is_not_known(tmp_path, run_cli):
    # CloudFormation output keeps ${ModelParam}: foundation-model/${ModelParam} would name nothing
    # when the stack is deployed with a profile, so the documented pair stands in, with a warning.
    result = run_cli("generate", _template(tmp_path), *TARGET, "--format", "cloudformation")
    assert result.code == 0, result.err
    assert "foundation-model/${ModelParam}" not in result.out
    assert '!Sub "arn:${AWS::Partition}:bedrock:us-east-1::foundation-model/*"' in result.out
    assert "ModelId holds the template reference '${ModelParam}', so which form of value it takes is known only at deploy time" in result.err
