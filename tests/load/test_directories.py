"""A directory as input: an AWS CDK cloud assembly (`cdk.out`) is every `*.template.json` in it,
nested stacks and stages included, asset directories and the assembly's own files left out; any
other directory is every JSON/YAML file in it, recursively; both in sorted order."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = ("--region", "us-east-1", "--account", "123456789012")


def cdk_template(name: str) -> dict:
    """A stack as `cdk synth` writes it: the definition a Fn::Join of strings, the role and its
    policy beside the state machine."""
    definition = {"StartAt": "Run", "States": {"Run": {
        "Type": "Task", "Resource": "arn:aws:states:::batch:submitJob.sync", "End": True,
        "Parameters": {"JobName": name, "JobQueue": f"arn:aws:batch:us-east-1:123456789012:job-queue/{name}",
                       "JobDefinition": f"arn:aws:batch:us-east-1:123456789012:job-definition/{name}"},
    }}}
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "batch:SubmitJob", "Resource": "*"}]}
    return {"Resources": {
        f"{name}Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "DefinitionString": {"Fn::Join": ["", [json.dumps(definition)]]},
            "RoleArn": {"Fn::GetAtt": [f"{name}Role", "Arn"]}}},
        f"{name}Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": trust}},
        f"{name}Policy": {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyName": "p", "Roles": [{"Ref": f"{name}Role"}], "PolicyDocument": policy}},
    }}


def write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")


def cloud_assembly(root: Path) -> Path:
    """A small cdk.out: a stack, its nested stack, a stage with a stack of its own, and an asset
    directory holding a template that is not deployed as a stack (it must not be read)."""
    out = root / "cdk.out"
    for assembly in (out, out / "assembly-Prod"):
        write_json(assembly / "cdk.out", {"version": "36.0.0"})
        write_json(assembly / "manifest.json", {"version": "36.0.0", "artifacts": {}})
    write_json(out / "tree.json", {"version": "tree-0.1", "tree": {"id": "App"}})
    write_json(out / "AppStack.template.json", cdk_template("App"))
    write_json(out / "AppStack.assets.json", {"version": "36.0.0", "files": {}})
    write_json(out / "AppStackBatchNestedStackBatchNestedStackResourceABC.nested.template.json", cdk_template("Nested"))
    write_json(out / "assembly-Prod" / "ProdAppStack.template.json", cdk_template("Prod"))
    write_json(out / "asset.0123abcd" / "bundled.template.json", cdk_template("Asset"))
    (out / "asset.0123abcd" / "index.js").write_text("exports.handler = async () => {};\n", encoding="utf-8")
    return out


def machines(out: str) -> list[tuple[str, str]]:
    return [(Path(state["file"]).name, state["stateMachine"]) for state in json.loads(out)["batchStates"]]


def test_scan_reads_every_stack_of_a_cloud_assembly_in_sorted_order(run_cli, tmp_path):
    out = cloud_assembly(tmp_path)
    result = run_cli("scan", str(out), "--format", "json")
    assert result.code == 0, result.err
    assert machines(result.out) == [
        ("AppStack.template.json", "AppMachine"),
        ("AppStackBatchNestedStackBatchNestedStackResourceABC.nested.template.json", "NestedMachine"),
        ("ProdAppStack.template.json", "ProdMachine"),
    ]
    assert result.err == ""  # manifest.json, tree.json, cdk.out, *.assets.json and asset.* are no inputs


def test_lint_of_a_cloud_assembly_is_the_lint_of_its_templates(run_cli, tmp_path):
    out = cloud_assembly(tmp_path)
    templates = [str(out / "AppStack.template.json"),
                 str(out / "AppStackBatchNestedStackBatchNestedStackResourceABC.nested.template.json"),
                 str(out / "assembly-Prod" / "ProdAppStack.template.json")]
    whole = run_cli("lint", str(out), *TARGET, "--format", "json")
    one_by_one = run_cli("lint", *templates, *TARGET, "--format", "json")
    assert whole.code == one_by_one.code == 1
    assert whole.out == one_by_one.out
    assert {Path(f["location"]["file"]).name for f in json.loads(whole.out)["findings"]} == {Path(t).name for t in templates}


def test_generate_from_a_cloud_assembly(run_cli, tmp_path):
    result = run_cli("generate", str(cloud_assembly(tmp_path)), *TARGET, "--merge", "--mode", "fine-grained")
    assert result.code == 0, result.err
    queues = {
        arn for statement in json.loads(result.out)["Statement"] for arn in statement["Resource"] if ":job-queue/" in arn
    }
    assert queues == {f"arn:aws:batch:us-east-1:123456789012:job-queue/{name}" for name in ("App", "Nested", "Prod")}


def test_a_directory_of_templates_is_read_recursively_and_the_rest_left_out(run_cli, tmp_path):
    base = tmp_path / "infra"
    write_json(base / "b" / "second.template.json", cdk_template("Second"))
    (base / "a.yaml").write_text((ROOT / "fixtures" / "lint" / "templates" / "sam.yaml").read_text(), encoding="utf-8")
    (base / "README.md").write_text("# Infra\n\nStates: none here\n", encoding="utf-8")
    (base / "deploy.sh").write_text("#!/bin/sh\naws cloudformation deploy\n", encoding="utf-8")
    write_json(base / ".hidden" / "x.template.json", cdk_template("Hidden"))
    write_json(base / "node_modules" / "pkg" / "y.template.json", cdk_template("Module"))
    write_json(base / "package.json", {"name": "infra", "version": "1.0.0"})
    result = run_cli("scan", str(base), "--format", "json")
    assert result.code == 0, result.err
    assert machines(result.out) == [("a.yaml", "Flow"), ("a.yaml", "Flow2"), ("second.template.json", "SecondMachine")]
    # A JSON file that is not ours is named; the README and the script are plainly not ours.
    assert "package.json" in result.err and "skipped" in result.err
    assert "README.md" not in result.err and "deploy.sh" not in result.err


def test_a_broken_template_in_a_directory_fails_the_run(run_cli, tmp_path):
    out = cloud_assembly(tmp_path)
    (out / "Broken.template.json").write_text('{"Resources": {"M": {"Type": "AWS::StepFunctions::StateMachine",', encoding="utf-8")
    result = run_cli("lint", str(out), *TARGET)
    assert result.code == 2 and "Broken.template.json" in result.err


def test_a_directory_without_inputs_is_an_error(run_cli, tmp_path):
    (tmp_path / "README.md").write_text("nothing\n", encoding="utf-8")
    result = run_cli("scan", str(tmp_path))
    assert result.code == 2 and str(tmp_path) in result.err and "no *.template.json" in result.err


def test_the_order_does_not_depend_on_the_file_system(run_cli, tmp_path):
    first = run_cli("scan", str(cloud_assembly(tmp_path / "one")), "--format", "json").out
    second_root = tmp_path / "two"
    out = cloud_assembly(second_root)
    # the same files, created in another order
    (out / "AppStack.template.json").unlink()
    write_json(out / "AppStack.template.json", cdk_template("App"))
    second = run_cli("scan", str(out), "--format", "json").out
    assert machines(first) == machines(second)


def test_a_web_app_manifest_does_not_make_a_cloud_assembly(run_cli, tmp_path):
    # Only *.template.json would be read in a cloud assembly: another manifest.json must not hide
    # the definitions beside it.
    write_json(tmp_path / "manifest.json", {"name": "My app", "start_url": "/"})
    asl = ROOT / "fixtures" / "lint" / "PG101" / "bad" / "definition.asl.json"
    (tmp_path / "pipeline.asl.json").write_text(asl.read_text(encoding="utf-8"), encoding="utf-8")
    result = run_cli("scan", str(tmp_path), "--format", "json")
    assert result.code == 0, result.err
    assert {name for name, _ in machines(result.out)} == {"pipeline.asl.json"}


def test_a_manifest_with_artifacts_makes_a_cloud_assembly(run_cli, tmp_path):
    write_json(tmp_path / "manifest.json", {"version": "36.0.0", "artifacts": {"App": {"type": "aws:cloudformation:stack"}}})
    write_json(tmp_path / "App.template.json", cdk_template("App"))
    write_json(tmp_path / "App.assets.json", {"version": "36.0.0", "files": {}})
    result = run_cli("scan", str(tmp_path), "--format", "json")
    assert (result.code, machines(result.out), result.err) == (0, [("App.template.json", "AppMachine")], "")
