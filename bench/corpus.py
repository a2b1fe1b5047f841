"""Synthetic, seeded Step Functions corpora for the benchmarks: standard library only.

Shared by bench/run.py (which times whole `policygen` processes, every row of the README's
performance table, and must not import policygen, whose modules may move) and bench/library.py
(which times the library's stages in-process).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

RESOURCES = (
    "arn:aws:states:::batch:submitJob",
    "arn:aws:states:::batch:submitJob.sync",
    "arn:aws:states:::batch:submitJob.waitForTaskToken",
    "arn:aws:states:::aws-sdk:batch:describeJobs",
    "arn:aws:states:::lambda:invoke",
)


def batch_task(rng: random.Random, index: int) -> dict:
    state = {
        "Type": "Task",
        "Resource": rng.choice(RESOURCES),
        "Parameters": {
            "JobName": f"job-{index}",
            "JobQueue": f"arn:aws:batch:eu-west-1:111122223333:job-queue/q{rng.randrange(20)}",
            "JobDefinition": f"def{rng.randrange(50)}:{rng.randrange(1, 9)}",
            "ContainerOverrides": {"Environment": [{"Name": "SAMPLE", "Value.$": "$.sample"}], "Command": ["run", "--fast"]},
            "Tags": {"team": "genomics"},
        },
        "ResultPath": "$.result",
        "Retry": [{"ErrorEquals": ["Batch.AWSBatchException"], "MaxAttempts": 3, "BackoffRate": 2}],
        "Next": "x",
    }
    if rng.random() < 0.2:
        state["Parameters"]["JobQueue.$"] = state["Parameters"].pop("JobQueue").replace("arn", "$.arn")
    if state["Resource"].endswith("lambda:invoke"):
        # A near miss for the Batch scan, but a real Lambda call (the whole role reads it): Step
        # Functions requires its FunctionName.
        state["Parameters"]["FunctionName"] = f"arn:aws:lambda:eu-west-1:111122223333:function:near-{index}"
    return state


def chain(states: dict) -> dict:
    names = list(states)
    for name, following in zip(names, names[1:] + [None], strict=True):
        states[name].pop("Next", None)
        states[name].pop("End", None)
        if following is None:
            states[name]["End"] = True
        else:
            states[name]["Next"] = following
    return {"StartAt": names[0], "States": states}


def other_state(rng: random.Random, index: int) -> dict:
    """A state that is not a Batch call: what fills most real definitions."""
    roll = rng.random()
    if roll < 0.4:
        return {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": f"arn:aws:lambda:eu-west-1:111122223333:function:step-{index}", "Payload.$": "$"},
            "ResultSelector": {"status.$": "$.Payload.status"},
            "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "MaxAttempts": 2}],
            "Next": "x",
        }
    if roll < 0.7:
        return {"Type": "Choice", "Choices": [{"Variable": "$.status", "StringEquals": "FAILED", "Next": "x"}], "Default": "x"}
    if roll < 0.85:
        return {"Type": "Wait", "Seconds": 30, "Next": "x"}
    return {"Type": "Pass", "Result": {"n": index}, "ResultPath": "$.pass", "Next": "x"}


def definition(rng: random.Random, state_count: int, batch_share: float) -> dict:
    """About `state_count` states: Batch Tasks (a `batch_share` of them), other states, and Maps
    (inline and DISTRIBUTED) nesting a few more."""
    states: dict = {}
    made = 0
    while made < state_count:
        roll = rng.random()
        if roll < 0.15 and state_count - made > 6:
            inner = {
                f"Inner {made}-{i}": batch_task(rng, made + i) if rng.random() < batch_share else other_state(rng, made + i)
                for i in range(4)
            }
            processor = chain(inner)
            if rng.random() < 0.5:
                processor["ProcessorConfig"] = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
            states[f"Map {made}"] = {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": processor, "Next": "x"}
            made += 5
        elif rng.random() < batch_share:
            states[f"Task {made}"] = batch_task(rng, made)
            made += 1
        else:
            states[f"Step {made}"] = other_state(rng, made)
            made += 1
    return chain(states)


def build_corpus(directory: Path, definitions: int, states_each: int, big_states: int, batch_share: float) -> list[Path]:
    rng = random.Random(20261125)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(definitions):
        path = directory / f"machine-{index:05d}.asl.json"
        path.write_text(json.dumps(definition(rng, states_each, batch_share), indent=2), encoding="utf-8")
        paths.append(path)
    big = directory / "big.asl.json"
    big.write_text(json.dumps(definition(rng, big_states, batch_share), indent=2), encoding="utf-8")
    paths.append(big)
    return paths


BATCH_RESOURCES = RESOURCES[:4]


def batch_only_task(rng: random.Random, index: int) -> dict:
    """A Batch Task state (never Lambda): what `lint` checks a role against."""
    state = batch_task(rng, index)
    state["Resource"] = rng.choice(BATCH_RESOURCES)
    parameters = state["Parameters"]
    if "JobQueue.$" in parameters:  # a queue named by the input, as real pipelines pass it
        parameters["JobQueue.$"] = "$.jobQueue"
    return state


def lint_definition(rng: random.Random, batch_states: int) -> dict:
    """One definition of exactly `batch_states` Batch Task states, a tenth of them inside Maps."""
    states: dict = {}
    made = 0
    while made < batch_states:
        if made % 40 == 0 and batch_states - made >= 4:
            inner = chain({f"Inner {made}-{i}": batch_only_task(rng, made + i) for i in range(4)})
            states[f"Map {made}"] = {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": inner, "Next": "x"}
            made += 4
        else:
            states[f"Task {made}"] = batch_only_task(rng, made)
            made += 1
    return chain(states)


def lint_policy(rng: random.Random, statements: int) -> dict:
    """An execution-role policy of `statements` statements: Allow and Deny, wildcards in actions and
    resources, conditions on request tags, NotAction and NotResource, and grants for other services."""
    account = "111122223333"
    queue = f"arn:aws:batch:eu-west-1:{account}:job-queue"
    job_definition = f"arn:aws:batch:eu-west-1:{account}:job-definition"
    made = []
    for index in range(statements):
        roll = rng.random()
        if roll < 0.35:
            statement = {
                "Effect": "Allow",
                "Action": ["batch:SubmitJob", "batch:TagResource"] if rng.random() < 0.5 else "batch:SubmitJob",
                "Resource": [f"{queue}/q{rng.randrange(20)}", f"{job_definition}/def{rng.randrange(50)}:*"],
            }
            if rng.random() < 0.5:
                statement["Condition"] = {"StringEquals": {"aws:RequestTag/team": rng.choice(["genomics", "imaging"])}}
        elif roll < 0.5:
            statement = {
                "Effect": "Allow",
                "Action": rng.choice(["batch:Describe*", "batch:List*", "batch:DescribeJobs"]),
                "Resource": "*",
            }
        elif roll < 0.6:
            statement = {
                "Effect": "Deny",
                "Action": rng.choice(["batch:SubmitJob", "batch:*Job", "batch:Terminate*"]),
                "Resource": f"{queue}/q{rng.randrange(10, 20)}*",
                "Condition": {"StringNotEquals": {"aws:RequestTag/team": "genomics"}},
            }
        elif roll < 0.65:
            statement = {"Effect": "Deny", "NotAction": ["batch:*", "events:*", "lambda:InvokeFunction"], "Resource": "*"}
        elif roll < 0.72:
            statement = {
                "Effect": "Allow",
                "Action": ["batch:TerminateJob"],
                "Resource": f"arn:aws:batch:eu-west-1:{account}:job/*",
            }
        elif roll < 0.8:
            statement = {
                "Effect": "Allow",
                "Action": ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                "Resource": f"arn:aws:events:eu-west-1:{account}:rule/StepFunctionsGetEventsForBatchJobsRule",
            }
        elif roll < 0.9:
            statement = {
                "Effect": "Allow",
                "Action": rng.choice(["s3:GetObject", "s3:Get*", "lambda:InvokeFunction", "logs:*"]),
                "Resource": f"arn:aws:s3:::bucket-{rng.randrange(100)}/*",
            }
        else:
            statement = {
                "Effect": "Allow",
                "Action": "batch:SubmitJob",
                "NotResource": f"{queue}/restricted-{rng.randrange(5)}",
                "Condition": {"StringLike": {"aws:RequestTag/project": "proj-*"}},
            }
        statement["Sid"] = f"S{index}"
        made.append(statement)
    return {"Version": "2012-10-17", "Statement": made}


def build_lint_case(directory: Path, batch_states: int, statements: int) -> tuple[Path, Path]:
    rng = random.Random(20261129)
    directory.mkdir(parents=True, exist_ok=True)
    definition_path = directory / "lint.asl.json"
    definition_path.write_text(json.dumps(lint_definition(rng, batch_states), indent=2), encoding="utf-8")
    policy_path = directory / "policy.json"
    policy_path.write_text(json.dumps(lint_policy(rng, statements), indent=2), encoding="utf-8")
    return definition_path, policy_path


def _planned_machine(address: str, name: str, definition_text: str) -> dict:
    return {
        "address": address,
        "mode": "managed",
        "type": "aws_sfn_state_machine",
        "name": name,
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "schema_version": 0,
        "values": {
            "definition": definition_text,
            "logging_configuration": [],
            "name": name,
            "name_prefix": "",
            "publish": False,
            "role_arn": f"arn:aws:iam::111122223333:role/{name}-sfn",
            "tags": {"team": "genomics"},
            "timeouts": None,
            "tracing_configuration": [],
            "type": "STANDARD",
        },
        "sensitive_values": {"logging_configuration": [], "tags": {}, "tracing_configuration": []},
    }


def build_terraform_plan(directory: Path, machines: int, states_each: int) -> Path:
    """`terraform show -json` of a plan creating `machines` state machines, a third of them in child
    modules: each definition a compact JSON string (as jsonencode writes it), in planned_values and
    again in resource_changes' `after`, like a real plan."""
    rng = random.Random(20261130)
    directory.mkdir(parents=True, exist_ok=True)
    root: list = []
    children: dict[str, list] = {}
    changes = []
    for index in range(machines):
        text = json.dumps(definition(rng, states_each, 1 / 3), separators=(",", ":"))
        name = f"pipeline_{index:05d}"
        module = f"module.team_{index % 7}" if index % 3 == 0 else None
        address = f"{module}.aws_sfn_state_machine.{name}" if module else f"aws_sfn_state_machine.{name}"
        planned = _planned_machine(address, name, text)
        (children.setdefault(module, []) if module else root).append(planned)
        change = {key: planned[key] for key in ("address", "mode", "type", "name", "provider_name")}
        if module:
            change["module_address"] = module
        change["change"] = {
            "actions": ["create"],
            "before": None,
            "after": dict(planned["values"]),
            "after_unknown": {"arn": True, "id": True, "creation_date": True, "status": True, "tags_all": True},
            "before_sensitive": False,
            "after_sensitive": planned["sensitive_values"],
        }
        changes.append(change)
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.9.5",
        "variables": {"region": {"value": "eu-west-1"}},
        "planned_values": {
            "root_module": {
                "resources": root,
                "child_modules": [{"address": module, "resources": resources} for module, resources in children.items()],
            }
        },
        "resource_changes": changes,
        "configuration": {"provider_config": {"aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws"}}},
    }
    path = directory / "plan.json"
    path.write_text(json.dumps(plan, indent=2), encoding="utf-8")
    return path
