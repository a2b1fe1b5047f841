"""Properties of `generate` over random state machines (hypothesis).

The expectation is computed here, from the pattern of each generated Batch state and the facts in
../shared/REFERENCE.md §2-§3 (with the Service Authorization Reference data in
rules/catalog/batch.json for SDK calls), never from policygen.requirements.
"""

from __future__ import annotations

import copy
import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policygen import pipeline
from policygen.iam import catalog
from policygen.load.asl import state_machine_from_asl
from policygen.load.json_source import parse_json
from policygen.render.policy_json import render_policy_json

ROOT = Path(__file__).resolve().parents[2]
SAR_BATCH = json.loads((ROOT / "rules" / "catalog" / "batch.json").read_text(encoding="utf-8"))
SDK_ACTIONS = sorted(catalog.action_names("batch"))
TARGETS = {  # partition -> regions that live in it
    "aws": ["us-east-1", "eu-west-2", "ap-southeast-1"],
    "aws-cn": ["cn-north-1", "cn-northwest-1"],
    "aws-us-gov": ["us-gov-west-1", "us-gov-east-1"],
}
PROFILE = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- the expectation, from REFERENCE.md ------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """What one generated Batch state is: enough to say what it needs."""

    pattern: str  # request-response | run-job | callback | sdk
    iam_action: str  # "SubmitJob" for the optimised integrations, the SDK action's IAM name otherwise
    # The tags the job is created with: () none, DYNAMIC_TAGS unknown until run time, else
    # (key, value) pairs with None for a value known only at run time.
    tags: tuple | str = ()

    @property
    def sends_tags(self) -> bool:
        return self.tags != ()


DYNAMIC_TAGS = "dynamic"


def sar_resources(iam_name: str, partition: str, region: str, account: str) -> set[str]:
    """REFERENCE.md §2 (SDK): the resource types [SAR-BATCH] lists for the action, names as `*`."""
    types = SAR_BATCH["actions"][iam_name]["resourceTypes"]
    if not types:
        return {"*"}
    arns = set()
    for type_name in types:
        arn = SAR_BATCH["resourceTypes"][type_name]
        arn = arn.replace("${Partition}", partition).replace("${Region}", region).replace("${Account}", account)
        arns.add(re.sub(r"\$\{\w+\}", "*", arn))
    return arns


def required_pairs(states: list[Expected], partition: str, region: str, account: str) -> set[tuple[str, str]]:
    rule = f"arn:{partition}:events:{region}:{account}:rule/StepFunctionsGetEventsForBatchJobsRule"
    job = f"arn:{partition}:batch:{region}:{account}:job/*"
    pairs: set[tuple[str, str]] = set()
    for state in states:
        if state.pattern in ("request-response", "callback"):  # §2 Request Response / Wait for Callback
            pairs.add(("batch:SubmitJob", "*"))
        elif state.pattern == "run-job":  # §2 Run a Job (.sync)
            pairs |= {(f"batch:{name}", "*") for name in ("SubmitJob", "DescribeJobs", "TerminateJob")}
            pairs |= {(f"events:{name}", rule) for name in ("PutTargets", "PutRule", "DescribeRule")}
        else:  # §2 AWS SDK integration
            pairs |= {(f"batch:{state.iam_action}", arn) for arn in sar_resources(state.iam_action, partition, region, account)}
        if state.sends_tags and state.iam_action == "SubmitJob":  # §3 tags on the job: tag-on-create
            pairs.add(("batch:TagResource", job))
    return pairs


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern))


def granted(pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The pairs with any resource another resource of the same action already covers removed:
    two sets of pairs grant the same exactly when these are equal."""
    by_action: dict[str, set[str]] = defaultdict(set)
    for action, resource in pairs:
        by_action[action].add(resource)
    return {
        (action, resource)
        for action, resources in by_action.items()
        for resource in resources
        if not any(other != resource and _glob(other).fullmatch(resource) for other in resources)
    }


def policy_pairs(policy: dict) -> set[tuple[str, str]]:
    pairs = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource", "Condition"}
        resources = statement["Resource"]
        resources = [resources] if isinstance(resources, str) else resources
        for action in statement["Action"]:
            for resource in resources:
                pairs.add((action, resource))
    return pairs


# --- random definitions ----------------------------------------------------------------------


@dataclass
class Context:
    top_language: str  # the language nested states without QueryLanguage inherit
    partition: str
    expected: list[Expected]
    counter: int = 0

    def name(self, kind: str) -> str:
        self.counter += 1
        # Names with "/" and "~" exercise pointer escaping; spaces are common in real definitions.
        return random.Random(self.counter).choice([f"{kind} {self.counter}", f"{kind}/{self.counter}", f"{kind}~{self.counter}"])


def _dynamic(draw, language: str) -> str:
    if language == "JSONata":
        return draw(st.sampled_from(["{% $states.input.value %}", "{% $queue & '-' & $states.context.Execution.Name %}"]))
    return draw(st.sampled_from(["$.value", "$$.Execution.Input.value", "States.Format('q-{}', $.n)", "States.ArrayGetItem($.list, 0)"]))


def _put(draw, body: dict, field: str, language: str, static_value: str, dynamic: bool) -> None:
    if not dynamic:
        body[field] = static_value
    elif language == "JSONata":
        body[field] = _dynamic(draw, language)
    else:
        body[f"{field}.$"] = _dynamic(draw, language)


def _optional_value(draw, body: dict, field: str, language: str, static_values: list[str]) -> None:
    choice = draw(st.sampled_from(["absent", "static", "dynamic"]))
    if choice != "absent":
        _put(draw, body, field, language, draw(st.sampled_from(static_values)), choice == "dynamic")


def _tags(draw, body: dict, language: str) -> tuple | str:
    """Adds Tags (maybe) to the request; the tags the state then sends (see Expected.tags)."""
    choice = draw(st.sampled_from(["absent", "absent", "empty", "static", "dynamic"]))
    if choice == "absent":
        return ()
    if choice == "empty":
        body["Tags"] = {}
        return ()
    if choice == "dynamic":
        _put(draw, body, "Tags", language, "", True)
        return DYNAMIC_TAGS
    tags: dict[str, str] = {}
    sent = []
    for key in draw(st.lists(st.sampled_from(["team", "cost-center", "owner", "env", "a/b", "x:y=z"]), min_size=1, max_size=3, unique=True)):
        value, dynamic = draw(st.sampled_from(["data", "finance", "prod"])), draw(st.booleans())
        _put(draw, tags, key, language, value, dynamic)
        sent.append((key, None if dynamic else value))
    body["Tags"] = tags
    return tuple(sorted(sent))


def _task(draw, context: Context) -> dict:
    pattern = draw(st.sampled_from(["request-response", "run-job", "callback", "sdk"]))
    state: dict = {"Type": "Task"}
    override = draw(st.sampled_from([None, None, "JSONPath", "JSONata"]))
    if override is not None:
        state["QueryLanguage"] = override
    language = override or context.top_language
    if pattern == "sdk":
        iam_action = draw(st.sampled_from(SDK_ACTIONS))
        suffix = draw(st.sampled_from(["", "", ".waitForTaskToken"]))
        integration = f"aws-sdk:batch:{iam_action[0].lower()}{iam_action[1:]}{suffix}"
    else:
        iam_action = "SubmitJob"
        integration = {"request-response": "batch:submitJob", "run-job": "batch:submitJob.sync", "callback": "batch:submitJob.waitForTaskToken"}[pattern]
    state["Resource"] = f"arn:{context.partition}:states:::{integration}"
    key = "Arguments" if language == "JSONata" else "Parameters"
    if language == "JSONata" and draw(st.integers(0, 9)) == 0:
        state[key] = "{% $states.input.request %}"  # the whole request from an expression
        tags = DYNAMIC_TAGS
    else:
        body: dict = {"JobName": "job"}
        _optional_value(draw, body, "JobQueue", language, ["etl", "gpu-queue", f"arn:{context.partition}:batch:{TARGETS[context.partition][0]}:111122223333:job-queue/q"])
        # A Batch ARN is in the state's partition and names a region of it (policygen refuses others).
        _optional_value(draw, body, "JobDefinition", language, ["render", "render:3", f"arn:{context.partition}:batch:{TARGETS[context.partition][0]}:111122223333:job-definition/d:1"])
        _optional_value(draw, body, "ShareIdentifier", language, ["blue", "red"])
        if draw(st.booleans()):
            entries = []
            for _ in range(draw(st.integers(1, 2))):
                entry = {"Quantity": 1}
                _put(draw, entry, "ConsumableResource", language, "licenses", draw(st.booleans()))
                entries.append(entry)
            body["ConsumableResourcePropertiesOverride"] = {"ConsumableResourceList": entries}
        tags = _tags(draw, body, language)
        if draw(st.booleans()):
            body["PropagateTags"] = True
        state[key] = body
    context.expected.append(Expected(pattern, iam_action, tags))
    return state


def _noise(draw) -> dict:
    return draw(
        st.sampled_from(
            [
                {"Type": "Pass"},
                {"Type": "Wait", "Seconds": 5},
                {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "f"}},
                {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:batch-helper"},
                {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject"},
            ]
        )
    )


def _block(draw, context: Context, depth: int) -> dict:
    """An object with StartAt and States (a definition, a branch or a Map processor)."""
    states: dict = {}
    kinds = ["task", "task", "task", "noise", "parallel", "map"] if depth < 3 else ["task", "noise"]
    for _ in range(draw(st.integers(1, 4 if depth == 0 else 3))):
        kind = draw(st.sampled_from(kinds))
        if kind == "task":
            state = _task(draw, context)
        elif kind == "noise":
            state = copy.deepcopy(_noise(draw))
        elif kind == "parallel":
            state = {"Type": "Parallel", "Branches": [_block(draw, context, depth + 1) for _ in range(draw(st.integers(1, 3)))]}
        else:
            state = {"Type": "Map"}
            form = draw(st.sampled_from(["Iterator", "INLINE", "DISTRIBUTED", "ItemProcessor"]))
            processor = _block(draw, context, depth + 1)
            if form == "Iterator":
                state["Iterator"] = processor
            else:
                if form != "ItemProcessor":
                    processor = {"ProcessorConfig": {"Mode": form}, **processor}
                state["ItemProcessor"] = processor
        if state["Type"] in ("Parallel", "Map") and draw(st.booleans()):
            # A container's own QueryLanguage is not inherited by the states inside it.
            state["QueryLanguage"] = draw(st.sampled_from(["JSONPath", "JSONata"]))
        states[context.name(state["Type"])] = state
    names = list(states)
    for name, following in zip(names, names[1:] + [None], strict=False):
        if following is None:
            states[name]["End"] = True
        else:
            states[name]["Next"] = following
    return {"StartAt": names[0], "States": states}


@dataclass(frozen=True)
class Case:
    definition: dict
    expected: tuple[Expected, ...]
    partition: str
    region: str
    account: str


@st.composite
def cases(draw) -> Case:
    partition = draw(st.sampled_from(sorted(TARGETS)))
    region = draw(st.sampled_from(TARGETS[partition]))
    account = draw(st.sampled_from(["123456789012", "000000000000", "999988887777"]))
    top = draw(st.sampled_from([None, "JSONPath", "JSONata"]))
    context = Context(top or "JSONPath", partition, [])
    definition = _block(draw, context, 0)
    if top is not None:
        definition = {"QueryLanguage": top, **definition}
    return Case(definition, tuple(context.expected), partition, region, account)


# --- the pipeline under test -----------------------------------------------------------------


def generate(definition: dict, region: str, account: str) -> str:
    document = parse_json(json.dumps(definition, indent=2), "random.asl.json")
    tasks = pipeline.scan_state_machines([state_machine_from_asl(document)])
    return render_policy_json(pipeline.generate_policy(tasks, region, account, {}).policy)


def shuffled(value, rng: random.Random):
    """The same definition with every object's keys (so every States) and every Branches list reordered."""
    if isinstance(value, dict):
        items = [(key, shuffled(item, rng)) for key, item in value.items()]
        rng.shuffle(items)
        if "Branches" in value:
            items = [(key, rng.sample(item, len(item)) if key == "Branches" else item) for key, item in items]
        return dict(items)
    if isinstance(value, list):
        return [shuffled(item, rng) for item in value]
    return value


# --- properties ------------------------------------------------------------------------------


@PROFILE
@given(cases())
def test_policy_grants_exactly_what_the_states_need(case):
    policy = json.loads(generate(case.definition, case.region, case.account))
    expected = required_pairs(list(case.expected), case.partition, case.region, case.account)
    actual = policy_pairs(policy)
    assert {action for action, _ in actual} == {action for action, _ in expected}
    assert granted(actual) == granted(expected)


@PROFILE
@given(cases())
def test_output_is_byte_identical_across_runs(case):
    first = generate(case.definition, case.region, case.account)
    second = generate(copy.deepcopy(case.definition), case.region, case.account)
    assert first == second


@PROFILE
@given(cases(), st.randoms(use_true_random=False))
def test_order_of_states_branches_and_keys_does_not_change_the_output(case, rng):
    original = generate(case.definition, case.region, case.account)
    reordered = shuffled(case.definition, rng)
    assert generate(reordered, case.region, case.account) == original


def _allows_tagging(statement: dict, tags: tuple | str, job_arn: str) -> bool:
    """Whether `statement` lets Batch tag a new job with `tags`, whatever the run-time values."""
    if "batch:TagResource" not in statement["Action"]:
        return False
    resources = [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
    if not any(_glob(resource).fullmatch(job_arn) for resource in resources):
        return False
    condition = statement.get("Condition", {})
    if tags == DYNAMIC_TAGS:
        return not condition
    sent = dict(tags)
    for operator, keys in condition.items():
        for key, values in keys.items():
            values = [values] if isinstance(values, str) else values
            if operator == "ForAllValues:StringEquals" and key == "aws:TagKeys":
                if not set(sent) <= set(values):
                    return False
            elif operator == "StringEquals" and key.startswith("aws:RequestTag/"):
                if sent.get(key.removeprefix("aws:RequestTag/")) not in values:  # None: not known to match
                    return False
            else:
                return False  # a condition this check does not understand: flag it
    return True


@PROFILE
@given(cases())
def test_tag_conditions_never_deny_what_a_state_sends(case):
    policy = json.loads(generate(case.definition, case.region, case.account))
    job_arn = f"arn:{case.partition}:batch:{case.region}:{case.account}:job/1234"
    for statement in policy["Statement"]:
        if "Condition" in statement:
            assert statement["Action"] == ["batch:TagResource"], statement
    for state in case.expected:
        if state.sends_tags and state.iam_action == "SubmitJob":
            assert any(_allows_tagging(s, state.tags, job_arn) for s in policy["Statement"]), state


_PLACEHOLDER = re.compile(r"\[\[|\]\]|\{|\}|\$\{|<|>")


@PROFILE
@given(cases())
def test_policy_has_no_placeholders_and_names_the_target(case):
    policy = json.loads(generate(case.definition, case.region, case.account))
    assert policy["Version"] == "2012-10-17"
    for statement in policy["Statement"]:
        resources = statement["Resource"]
        condition_texts = [
            text
            for keys in statement.get("Condition", {}).values()
            for key, values in keys.items()
            for text in [key, *([values] if isinstance(values, str) else values)]
        ]
        for text in [statement["Sid"], *statement["Action"], *([resources] if isinstance(resources, str) else resources), *condition_texts]:
            assert not _PLACEHOLDER.search(text), text
        for arn in [] if resources == "*" else resources:
            assert arn.startswith(f"arn:{case.partition}:")
            assert f":{case.region}:{case.account}:" in arn
    assert len({statement["Sid"] for statement in policy["Statement"]}) == len(policy["Statement"])


# --- the expectation itself, pinned to REFERENCE.md on fixed examples -------------------------


def test_expectation_for_sdk_calls_follows_the_service_authorization_reference():
    assert sar_resources("DescribeJobs", "aws", "r", "a") == {"*"}
    assert sar_resources("CancelJob", "aws", "us-east-1", "1") == {"arn:aws:batch:us-east-1:1:job/*"}
    submit = sar_resources("SubmitJob", "aws", "us-east-1", "1")
    assert "arn:aws:batch:us-east-1:1:job-queue/*" in submit and "arn:aws:batch:us-east-1:1:job/*" in submit


def test_granted_drops_only_covered_resources():
    pairs = {("batch:SubmitJob", "*"), ("batch:SubmitJob", "arn:aws:batch:r:a:job/*"), ("batch:TagResource", "arn:aws:batch:r:a:job-definition/*:*"), ("batch:TagResource", "arn:aws:batch:r:a:job-definition/*")}
    assert granted(pairs) == {("batch:SubmitJob", "*"), ("batch:TagResource", "arn:aws:batch:r:a:job-definition/*")}
