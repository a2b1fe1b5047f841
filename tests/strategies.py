"""The hypothesis generators of random Batch states and definitions that several test files draw
from, and the helpers that turn a drawn definition into scanned tasks."""

from __future__ import annotations

import json

from hypothesis import strategies as st

from policygen import pipeline
from policygen.load.asl import state_machine_from_asl
from policygen.load.json_source import parse_json

REGION, ACCOUNT = "eu-west-1", "111122223333"
_ARN = f"arn:aws:batch:{REGION}:{ACCOUNT}"


def parallel_machine(*states: dict) -> dict:
    """A definition with each state in a Parallel branch of its own."""
    branches = [{"StartAt": f"S{i}", "States": {f"S{i}": state}} for i, state in enumerate(states)]
    return {"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": branches, "End": True}}}


def tasks_of(data: dict, name: str = "machine.asl.json"):
    """The Batch tasks policygen scans from the ASL definition `data` (as if read from `name`)."""
    document = parse_json(json.dumps(data), name)
    return pipeline.scan_state_machines([state_machine_from_asl(document)])


def submit_state(resource: str = "arn:aws:states:::batch:submitJob.sync", **parameters) -> dict:
    return {"Type": "Task", "Resource": resource, "Parameters": {"JobName": "j", **parameters}, "End": True}


SDK_ACTIONS = ("describeJobs", "listJobs", "terminateJob", "cancelJob", "submitJob", "tagResource")

names = st.sampled_from(["etl", "gpu", "render-queue", "a1"])
queue = st.one_of(
    st.none(),
    names.map(lambda n: ("JobQueue", n)),
    names.map(lambda n: ("JobQueue", f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/{n}")),
    st.just(("JobQueue.$", "$.queue")),
)
definition = st.one_of(
    names.map(lambda n: ("JobDefinition", n)),
    st.tuples(names, st.integers(1, 9)).map(lambda p: ("JobDefinition", f"{p[0]}:{p[1]}")),
    names.map(lambda n: ("JobDefinition", f"arn:aws:batch:{REGION}:{ACCOUNT}:job-definition/{n}")),
    st.just(("JobDefinition.$", "$.definition")),
)
tags = st.one_of(
    st.just(None),
    st.dictionaries(st.sampled_from(["team", "cost-center"]), st.sampled_from(["x", "y"]), min_size=1, max_size=2),
    st.just("$.tags"),
)
share = st.one_of(st.none(), st.just(("ShareIdentifier", "blue")), st.just(("ShareIdentifier.$", "$.share")))


@st.composite
def batch_state(draw) -> dict:
    """A Batch Task state: any integration pattern, queue and definition in every form, tags static or dynamic."""
    kind = draw(st.sampled_from(["submitJob", "submitJob.sync", "submitJob.waitForTaskToken", "sdk"]))
    if kind == "sdk":
        resource = f"arn:aws:states:::aws-sdk:batch:{draw(st.sampled_from(SDK_ACTIONS))}"
    else:
        resource = f"arn:aws:states:::batch:{kind}"
    parameters: dict = {"JobName": "job"}
    for field in (draw(queue), draw(definition), draw(share)):
        if field is not None:
            parameters[field[0]] = field[1]
    sent = draw(tags)
    if isinstance(sent, dict):
        parameters["Tags"] = sent
    elif sent is not None:
        parameters["Tags.$"] = sent
    return {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True}


@st.composite
def machine(draw) -> dict:
    """A definition of one to four batch_state()s, each in a Parallel branch of its own."""
    return parallel_machine(*draw(st.lists(batch_state(), min_size=1, max_size=4)))


@st.composite
def fix_batch_state(draw) -> dict:
    """A Batch Task state as --fix's properties draw it: fewer forms, the SDK calls with a JobId."""
    kind = draw(st.sampled_from(["submitJob", "submitJob.sync", "sdk"]))
    if kind == "sdk":
        sdk = draw(st.sampled_from(["describeJobs", "listJobs", "terminateJob", "cancelJob", "submitJob"]))
        return {"Type": "Task", "Resource": f"arn:aws:states:::aws-sdk:batch:{sdk}", "Parameters": {"JobId": "1"}, "End": True}
    queue = draw(st.sampled_from([("JobQueue", "etl"), ("JobQueue", "gpu"), ("JobQueue", f"{_ARN}:job-queue/etl"), ("JobQueue.$", "$.q")]))
    definition = draw(st.sampled_from([("JobDefinition", "etl"), ("JobDefinition", "etl:3"), ("JobDefinition.$", "$.d")]))
    parameters = dict([queue, definition])
    tags = draw(st.sampled_from([None, None, {"team": "genomics"}, {"team": "genomics", "cost": "x"}]))
    if tags is not None:
        parameters["Tags"] = tags
    return submit_state(f"arn:aws:states:::batch:{kind}", **parameters)
