"""Properties of `--mode fine-grained` over random state machines (hypothesis), decided by policygen.iam.evaluate.

Generated definitions mix static queues (names, ARNs), job definitions (name, name:rev, ARN with and
without revision), consumable resources, ShareIdentifiers and tags with dynamic ones (JSONPath `.$`,
intrinsic functions, JSONata `{% %}`, a whole JSONata Arguments), in the three optimised patterns and
a few SDK calls, nested in Parallel branches and Map processors. Each state also gets the concrete
values it would send at run time. The requests a state makes are written here from REFERENCE.md
§2-§4 (never from policygen.requirements.needs):

- SubmitJob on its queue ARN, its job-definition ARN (a bare name: the unrevisioned ARN and one with
  a concrete revision), a job ARN, its consumable resources, with aws:RequestTag/K, aws:TagKeys and
  batch:ShareIdentifier in the context;
- TagResource on the job with its tags, when it has any;
- for .sync: TerminateJob on the job with aws:ResourceTag/K = the job's tags, DescribeJobs on "*",
  events:PutRule/PutTargets/DescribeRule on the managed rule.

Properties: every such request is ALLOWED; neighbours (another queue, another job definition,
another revision, another share, the required --tag missing or different, other tags) are denied
where REFERENCE.md says they can be; grouping states into statements neither widens nor narrows
(the policy allows a request exactly when one state's own policy does); and nothing the fine-grained
policy allows is denied by the documented policy. No decision may be UNKNOWN: the requests carry
every condition key the policies use, and name the keys known to be absent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
import strategies
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policygen import pipeline
from policygen.errors import UsageError
from policygen.iam.evaluate import evaluate
from policygen.iam.policy import parse_policy
from policygen.iam.request import Decision, Request
from policygen.requirements.needs import Options

REGION, ACCOUNT = "us-east-1", "123456789012"
ARN = f"arn:aws:batch:{REGION}:{ACCOUNT}:"
RULE = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/StepFunctionsGetEventsForBatchJobsRule"
# Generated names are lower case; these are not, so no state ever names them.
OTHER_QUEUE, OTHER_DEFINITION, OTHER_SHARE, OTHER_VALUE = "OTHER-QUEUE", "OTHER-DEFINITION", "OTHER_SHARE", "OTHER"
KNOWN_ABSENT = frozenset({"aws:RequestTag/*", "aws:TagKeys", "aws:ResourceTag/*", "batch:ShareIdentifier"})
PROFILE = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- the generated definitions, and what each state sends at run time --------------------------

NAME = st.one_of(
    st.sampled_from(["render", "preview", "gpu", "etl", "q_1", "blender", "nuke", "arn"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=10),
)
REVISION = st.integers(min_value=1, max_value=40)
ELSEWHERE = st.sampled_from([(REGION, ACCOUNT), (REGION, ACCOUNT), ("eu-west-1", ACCOUNT), (REGION, "210987654321")])
TAG_KEY = st.one_of(st.sampled_from(["team", "shot", "owner", "cost", "stage"]), st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_.", min_size=1, max_size=8))
TAG_VALUE = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _.:/=+-@", max_size=10).filter(
    lambda value: not value.lower().startswith("aws:")  # AWS reserves the prefix in values too (policygen.iam.aws_names)
)
SHARE = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=10)


class _Dynamic:
    """A value known only at run time (never equal to a generated string)."""

    def __repr__(self) -> str:
        return "DYNAMIC"


DYNAMIC = _Dynamic()


@dataclass
class State:
    """One generated Batch Task state and the concrete values it sends when it runs."""

    name: str
    path: str = ""
    pattern: str = "request-response"  # request-response | run-job | callback | sdk:<apiAction>
    jsonata: bool = False
    whole_dynamic: bool = False  # JSONata: Arguments is one {% %} expression
    queue: tuple = ()  # ("name", n) | ("arn", n, region, account) | ("dynamic", form)
    definition: tuple = ()  # ("name", n) | ("rev", n, r) | ("arn", n, r | None, region, account) | ("dynamic", form)
    consumables: object = None  # None | [("name", n) | ("arn", n) | ("dynamic", form)] | ("dynamic", form)
    share: tuple | None = None  # ("static", s) | ("dynamic", form)
    tags: object = None  # None | {key: value | DYNAMIC} | DYNAMIC (the whole Tags)
    # What it sends at run time.
    runtime_queue: str = ""
    runtime_definition: tuple = ()  # (name, revision)
    runtime_consumables: tuple = ()
    runtime_share: str = ""
    runtime_tags: dict = field(default_factory=dict)
    job_id: str = ""

    @property
    def submits(self) -> bool:
        return not self.pattern.startswith("sdk:")


def _dynamic_form(draw):
    return draw(st.sampled_from(["path", "intrinsic"]))


@st.composite
def states(draw, index: int):
    state = State(name=f"Job {index}")
    state.pattern = draw(
        st.sampled_from(["request-response", "run-job", "callback", "run-job", "sdk:describeJobs", "sdk:listJobs", "sdk:terminateJob", "sdk:cancelJob"])
    )
    state.jsonata = draw(st.booleans())
    state.job_id = f"{index:04d}-{draw(st.uuids()).hex[:12]}"
    if not state.submits:
        return state
    state.whole_dynamic = state.jsonata and draw(st.integers(0, 9)) == 0
    static_or_dynamic = st.integers(0, 3)  # 0: dynamic

    if state.whole_dynamic:
        state.queue = state.definition = ("dynamic", "whole")
    else:
        kind = draw(static_or_dynamic)
        n = draw(NAME)
        if kind == 0:
            state.queue = ("dynamic", _dynamic_form(draw))
        elif kind == 1:
            state.queue = ("arn", n, *draw(ELSEWHERE))
        else:
            state.queue = ("name", n)
        kind = draw(st.integers(0, 4))
        n = draw(NAME)
        if kind == 0:
            state.definition = ("dynamic", _dynamic_form(draw))
        elif kind == 1:
            state.definition = ("name", n)
        elif kind == 2:
            state.definition = ("rev", n, draw(REVISION))
        else:
            state.definition = ("arn", n, draw(st.one_of(st.none(), REVISION)), *draw(ELSEWHERE))
        kind = draw(st.integers(0, 4))
        if kind == 1:
            state.consumables = ("dynamic", _dynamic_form(draw))
        elif kind >= 2:
            state.consumables = draw(
                st.lists(
                    st.one_of(st.tuples(st.just("name"), NAME), st.tuples(st.just("arn"), NAME), st.just(("dynamic", "path"))),
                    min_size=1,
                    max_size=3,
                )
            )
        kind = draw(st.integers(0, 3))
        state.share = None if kind < 2 else ("static", draw(SHARE)) if kind == 2 else ("dynamic", _dynamic_form(draw))
        kind = draw(st.integers(0, 4))
        if kind == 1:
            state.tags = DYNAMIC
        elif kind >= 2:
            state.tags = draw(st.dictionaries(TAG_KEY, st.one_of(TAG_VALUE, st.just(DYNAMIC)), min_size=1, max_size=3))

    # Run time: a dynamic queue / definition / resource is one in the account and region (REFERENCE.md §4).
    state.runtime_queue = draw(NAME)
    state.runtime_definition = (draw(NAME), draw(REVISION))
    dynamic_consumables = draw(st.lists(NAME, max_size=2))
    state.runtime_consumables = tuple(dynamic_consumables)
    state.runtime_share = draw(SHARE)
    if state.tags == DYNAMIC or state.whole_dynamic:
        state.runtime_tags = draw(st.dictionaries(TAG_KEY, TAG_VALUE, max_size=3))
    elif isinstance(state.tags, dict):
        state.runtime_tags = {k: (draw(TAG_VALUE) if v == DYNAMIC else v) for k, v in state.tags.items()}
    return state


def _expression(state: State, field_name: str, form: str) -> tuple[str, str]:
    """(key, value) of a dynamic field in the state's query language."""
    if state.jsonata:
        return field_name, f"{{% $states.input.{field_name.lower()} %}}"
    if form == "intrinsic":
        return f"{field_name}.$", f"States.Format('{{}}', $.{field_name.lower()})"
    return f"{field_name}.$", f"$.{field_name.lower()}"


def _arguments(state: State) -> dict:
    body: dict = {"JobName": "job"}
    if state.queue[0] == "dynamic":
        body.update([_expression(state, "JobQueue", state.queue[1])])
    else:
        body["JobQueue"] = queue_value(state)
    if state.definition[0] == "dynamic":
        body.update([_expression(state, "JobDefinition", state.definition[1])])
    else:
        body["JobDefinition"] = definition_value(state)
    if isinstance(state.consumables, tuple):
        body.update([_expression(state, "ConsumableResourcePropertiesOverride", state.consumables[1])])
    elif state.consumables is not None:
        entries = []
        for kind, *rest in state.consumables:
            if kind == "dynamic":
                entries.append(dict([_expression(state, "ConsumableResource", "path")], Quantity=1))
            else:
                value = rest[0] if kind == "name" else ARN + f"consumable-resource/{rest[0]}"
                entries.append({"ConsumableResource": value, "Quantity": 1})
        body["ConsumableResourcePropertiesOverride"] = {"ConsumableResourceList": entries}
    if state.share is not None:
        if state.share[0] == "static":
            body["ShareIdentifier"] = state.share[1]
        else:
            body.update([_expression(state, "ShareIdentifier", state.share[1])])
    if state.tags == DYNAMIC:
        body.update([_expression(state, "Tags", "path")])
    elif isinstance(state.tags, dict):
        tags = {}
        for key, value in state.tags.items():
            if value != DYNAMIC:
                tags[key] = value
            elif state.jsonata:
                tags[key] = "{% $states.input.tag %}"
            else:
                tags[f"{key}.$"] = "$.tag"
        body["Tags"] = tags
    return body


def queue_value(state: State) -> str:
    if state.queue[0] == "name":
        return state.queue[1]
    _, name, region, account = state.queue
    return f"arn:aws:batch:{region}:{account}:job-queue/{name}"


def definition_value(state: State) -> str:
    kind = state.definition[0]
    if kind == "name":
        return state.definition[1]
    if kind == "rev":
        return f"{state.definition[1]}:{state.definition[2]}"
    _, name, revision, region, account = state.definition
    arn = f"arn:aws:batch:{region}:{account}:job-definition/{name}"
    return arn if revision is None else f"{arn}:{revision}"


def task_state(state: State) -> dict:
    if state.submits:
        suffix = {"request-response": "", "run-job": ".sync", "callback": ".waitForTaskToken"}[state.pattern]
        resource = f"arn:aws:states:::batch:submitJob{suffix}"
    else:
        resource = f"arn:aws:states:::aws-sdk:batch:{state.pattern[4:]}"
    task: dict = {"Type": "Task", "Resource": resource}
    if state.jsonata:
        task["QueryLanguage"] = "JSONata"
    key = "Arguments" if state.jsonata else "Parameters"
    if state.whole_dynamic:
        task[key] = "{% $states.input.request %}"
    elif state.submits:
        task[key] = _arguments(state)
    elif state.pattern in ("sdk:terminateJob", "sdk:cancelJob"):
        task[key] = {"JobId": "{% $states.input.id %}", "Reason": "stop"} if state.jsonata else {"JobId.$": "$.id", "Reason": "stop"}
    else:
        task[key] = {}
    task["End"] = True
    return task


@st.composite
def machines(draw):
    """(definition, states): the Batch states spread over the top level, Parallel branches and Map processors."""
    count = draw(st.integers(1, 5))
    generated = [draw(states(index)) for index in range(count)]

    def container(members: list[State], path: str, depth: int) -> dict:
        """States for `members`, chained; some of them inside a nested Parallel or Map."""
        names: list[str] = []
        body: dict = {}
        rest = list(members)
        while rest:
            nest = depth < 2 and len(rest) >= 1 and draw(st.integers(0, 3)) == 0
            if nest:
                take = draw(st.integers(1, len(rest)))
                group, rest = rest[:take], rest[take:]
                wrapper = f"Group {len(body)}"
                prefix = f"{path}/{wrapper}" if path else wrapper
                kind = draw(st.sampled_from(["Parallel", "Map inline", "Map distributed", "Map iterator"]))
                if kind == "Parallel":
                    cut = draw(st.integers(0, len(group)))
                    branches = [branch for branch in (group[:cut], group[cut:]) if branch]
                    state = {
                        "Type": "Parallel",
                        "Branches": [container(b, f"{prefix}/branch[{i}]", depth + 1) for i, b in enumerate(branches)],
                    }
                else:
                    inner = container(group, prefix, depth + 1)
                    if kind == "Map iterator":
                        state = {"Type": "Map", "Iterator": inner}
                    else:
                        mode = "INLINE" if kind == "Map inline" else "DISTRIBUTED"
                        state = {"Type": "Map", "ItemProcessor": {"ProcessorConfig": {"Mode": mode}, **inner}}
                body[wrapper] = state
                names.append(wrapper)
            else:
                member = rest.pop(0)
                member.path = f"{path}/{member.name}" if path else member.name
                body[member.name] = task_state(member)
                names.append(member.name)
        for first, second in zip(names, names[1:], strict=False):
            body[first].pop("End", None)
            body[first]["Next"] = second
        for last in names[-1:]:
            body[last].pop("Next", None)
            body[last]["End"] = True
        return {"StartAt": names[0], "States": body}

    definition = container(generated, "", 0)
    submitters = [s for s in generated if s.submits]
    required: tuple = ()
    if submitters and draw(st.booleans()):
        required = tuple(sorted(draw(st.dictionaries(st.sampled_from(["team", "cost"]), TAG_VALUE, min_size=1, max_size=2)).items()))
        # Most states send the required tags statically; the rest are untagged (exit 2 or a warning).
        for state in submitters:
            if state.whole_dynamic or not draw(st.integers(0, 4)):
                continue
            tags = dict(state.tags) if isinstance(state.tags, dict) else {}
            tags.update(required)
            state.tags = tags
            state.runtime_tags = {k: (state.runtime_tags.get(k, "x") if v == DYNAMIC else v) for k, v in tags.items()}
        definition = _rebuild(definition, generated)
    return definition, generated, required


def _rebuild(definition: dict, generated: list[State]) -> dict:
    """The definition with each Batch state's Task rewritten (after its tags changed)."""
    by_name = {state.name: state for state in generated}

    def walk(container: dict) -> None:
        for name, body in container["States"].items():
            if name in by_name:
                task = task_state(by_name[name])
                for key in ("Next", "End"):
                    task.pop(key, None)
                    if key in body:
                        task[key] = body[key]
                container["States"][name] = task
            for branch in body.get("Branches", []):
                walk(branch)
            for key in ("ItemProcessor", "Iterator"):
                if key in body:
                    walk(body[key])

    walk(definition)
    return definition


# --- the model: what each state sends, from REFERENCE.md ----------------------------------------


def sends_required(state: State, required: tuple) -> bool:
    """Whether the state sends every --tag statically (REFERENCE.md §4: else SubmitJob is denied)."""
    if not state.submits:
        return True
    static = state.tags if isinstance(state.tags, dict) and not state.whole_dynamic else {}
    return all(static.get(key) == value for key, value in required)


def queue_arn(state: State) -> str:
    if state.queue[0] == "dynamic":
        return ARN + f"job-queue/{state.runtime_queue}"
    return ARN + f"job-queue/{state.queue[1]}" if state.queue[0] == "name" else queue_value(state)


def definition_arns(state: State) -> list[str]:
    """The job-definition ARNs a SubmitJob may be checked against (REFERENCE.md §3)."""
    kind = state.definition[0]
    if kind == "dynamic":
        name, revision = state.runtime_definition
        return [ARN + f"job-definition/{name}:{revision}"]
    if kind == "name":  # the latest active revision, or the unrevisioned form
        return [ARN + f"job-definition/{state.definition[1]}", ARN + f"job-definition/{state.definition[1]}:7"]
    if kind == "rev":
        return [ARN + f"job-definition/{state.definition[1]}:{state.definition[2]}"]
    value = definition_value(state)
    return [value] if state.definition[2] is not None else [value, f"{value}:7"]


def consumable_arns(state: State) -> list[str]:
    if state.consumables is None or isinstance(state.consumables, tuple):  # the definition's own, or from the input
        return [ARN + f"consumable-resource/{name}" for name in state.runtime_consumables]
    return [
        ARN + f"consumable-resource/{rest[0] if kind != 'dynamic' else f'runtime-{position}'}"
        for position, (kind, *rest) in enumerate(state.consumables)
    ]


def job_arn(state: State) -> str:
    return ARN + f"job/{state.job_id}"


def submit_context(state: State, tags: dict | None = None, share: object = "own") -> dict:
    tags = state.runtime_tags if tags is None else tags
    context = {f"aws:RequestTag/{k}": (v,) for k, v in tags.items()}
    if tags:
        context["aws:TagKeys"] = tuple(sorted(tags))
    if share == "own":
        share = None if state.share is None else state.share[1] if state.share[0] == "static" else state.runtime_share
        if state.whole_dynamic:
            share = state.runtime_share
    if share is not None:
        context["batch:ShareIdentifier"] = (share,)
    return context


def request(action: str, resource: str, context: dict | None = None) -> Request:
    return Request(action, resource, context or {}, KNOWN_ABSENT)


def submit_requests(state: State, **context) -> list[Request]:
    resources = [queue_arn(state), *definition_arns(state), job_arn(state), *consumable_arns(state)]
    return [request("batch:SubmitJob", resource, submit_context(state, **context)) for resource in resources]


def own_requests(state: State) -> list[Request]:
    """Every request the state makes at run time (REFERENCE.md §2-§3)."""
    if not state.submits:
        action = state.pattern[4:]
        iam = "batch:" + action[0].upper() + action[1:]
        return [request(iam, "*" if iam in ("batch:DescribeJobs", "batch:ListJobs") else job_arn(state))]
    found = submit_requests(state)
    if state.runtime_tags:
        found.append(request("batch:TagResource", job_arn(state), submit_context(state, share=None)))
    if state.pattern == "run-job":
        found.append(request("batch:TerminateJob", job_arn(state), {f"aws:ResourceTag/{k}": (v,) for k, v in state.runtime_tags.items()}))
        found.append(request("batch:DescribeJobs", "*"))
        found.extend(request(action, RULE) for action in ("events:PutRule", "events:PutTargets", "events:DescribeRule"))
    return found


def neighbour_requests(state: State, required: tuple) -> list[Request]:
    """Requests close to the state's own that it does not make."""
    found = [request("batch:CancelJob", job_arn(state)), request("events:PutRule", RULE.replace("StepFunctions", "Other"))]
    if not state.submits:
        return found
    context = submit_context(state)
    found += [
        request("batch:SubmitJob", ARN + f"job-queue/{OTHER_QUEUE}", context),
        request("batch:SubmitJob", f"arn:aws:batch:{REGION}:999999999999:job-queue/{OTHER_QUEUE}", context),
        request("batch:SubmitJob", ARN + f"job-definition/{OTHER_DEFINITION}", context),
        request("batch:SubmitJob", ARN + f"job-definition/{OTHER_DEFINITION}:7", context),
        request("batch:SubmitJob", ARN + "consumable-resource/OTHER-LICENCE", context),
    ]
    if state.definition[0] == "rev":
        found.append(request("batch:SubmitJob", ARN + f"job-definition/{state.definition[1]}:{state.definition[2] + 100}", context))
    found += submit_requests(state, share=OTHER_SHARE) + submit_requests(state, share=None)
    found += submit_requests(state, tags={}) + submit_requests(state, tags={**state.runtime_tags, **{k: OTHER_VALUE for k, _ in required}})
    tagged = {**state.runtime_tags, "extra": "x"}
    found.append(request("batch:TagResource", job_arn(state), submit_context(state, tags=tagged, share=None)))
    if state.runtime_tags:
        changed = {k: OTHER_VALUE for k in state.runtime_tags}
        found.append(request("batch:TagResource", job_arn(state), submit_context(state, tags=changed, share=None)))
    found.append(request("batch:TerminateJob", job_arn(state), {}))
    found.append(request("batch:TerminateJob", job_arn(state), {f"aws:ResourceTag/{k}": (OTHER_VALUE,) for k in ("team", "cost")}))
    return found


# --- running policygen ---------------------------------------------------------------------------


def tasks_of(definition: dict):
    return strategies.tasks_of(definition, "generated.asl.json")


def policy_of(tasks, mode: str, required: tuple = (), allow_untagged: bool = True):
    generated = pipeline.generate_policy(
        tasks, REGION, ACCOUNT, {}, options=Options(mode=mode, required_tags=required), allow_untagged=allow_untagged
    )
    return generated, parse_policy(generated.policy.to_json(), f"{mode}.json")


def decide(document, req: Request) -> Decision:
    evaluation = evaluate(req, [document])
    assert evaluation.decision is not Decision.UNKNOWN, (
        f"the evaluator could not decide {req.action} on {req.resource} with {dict(req.context)}: {evaluation.uncertain}"
    )
    return evaluation.decision


def describe(definition, generated, required) -> str:
    return json.dumps({"definition": definition, "required": required, "states": [vars(s) for s in generated]}, default=str)[:4000]


# --- properties -------------------------------------------------------------------------------


@PROFILE
@given(machines())
def test_every_own_request_is_allowed_and_neighbours_denied(machine):
    definition, generated, required = machine
    tasks = tasks_of(definition)
    assert sorted(task.path for task in tasks) == sorted(s.path for s in generated)  # the scanner finds every state
    _, fine = policy_of(tasks, "fine-grained", required)
    submitters = [s for s in generated if s.submits]
    sdk_terminates = any(s.pattern == "sdk:terminateJob" for s in generated)

    for state in generated:
        # REFERENCE.md §4: SubmitJob needs the --tag pairs as request tags, TerminateJob as the job's
        # tags. A state that sends them statically always has them; one that does not (allowed here
        # with --allow-untagged) is allowed only when its run-time tags happen to carry them.
        satisfied = not state.submits or all(state.runtime_tags.get(key) == value for key, value in required)
        assert satisfied or not sends_required(state, required)
        for req in own_requests(state):
            # An aws-sdk:batch:terminateJob state gets the documented TerminateJob on job/*, no condition.
            tag_bound = req.action == "batch:SubmitJob" or (req.action == "batch:TerminateJob" and not sdk_terminates)
            expected = Decision.ALLOWED if satisfied or not tag_bound else Decision.IMPLICIT_DENY
            assert decide(fine, req) is expected, (req, describe(definition, generated, required))

    all_queues_static = all(s.queue[0] != "dynamic" for s in submitters)
    all_definitions_static = all(s.definition[0] != "dynamic" for s in submitters)
    for state in submitters:
        context = submit_context(state)
        other_account = request("batch:SubmitJob", f"arn:aws:batch:{REGION}:999999999999:job-queue/{OTHER_QUEUE}", context)
        assert decide(fine, other_account) is Decision.IMPLICIT_DENY
        if all_queues_static:
            assert decide(fine, request("batch:SubmitJob", ARN + f"job-queue/{OTHER_QUEUE}", context)) is Decision.IMPLICIT_DENY
        if all_definitions_static:
            for resource in (f"job-definition/{OTHER_DEFINITION}", f"job-definition/{OTHER_DEFINITION}:7"):
                assert decide(fine, request("batch:SubmitJob", ARN + resource, context)) is Decision.IMPLICIT_DENY
        if required:
            # The same SubmitJob without the required tag, or with another value: denied on every resource.
            for req in submit_requests(state, tags={}) + submit_requests(state, tags={**state.runtime_tags, **{k: OTHER_VALUE for k, _ in required}}):
                assert decide(fine, req) is Decision.IMPLICIT_DENY, (req, describe(definition, generated, required))


@PROFILE
@given(machines())
def test_each_state_alone_denies_its_neighbours(machine):
    """One state's own policy: another queue, definition, revision or share, or a missing tag, is denied
    whenever the state names its value statically."""
    definition, generated, required = machine
    tasks = {task.path: task for task in tasks_of(definition)}
    for state in generated:
        if not state.submits:
            continue
        _, alone = policy_of((tasks[state.path],), "fine-grained", required)
        context = submit_context(state)
        if state.queue[0] != "dynamic":
            assert decide(alone, request("batch:SubmitJob", ARN + f"job-queue/{OTHER_QUEUE}", context)) is Decision.IMPLICIT_DENY
        if state.definition[0] != "dynamic":
            for resource in (f"job-definition/{OTHER_DEFINITION}", f"job-definition/{OTHER_DEFINITION}:7"):
                assert decide(alone, request("batch:SubmitJob", ARN + resource, context)) is Decision.IMPLICIT_DENY
        if state.definition[0] == "rev" or (state.definition[0] == "arn" and state.definition[2] is not None):
            pinned = definition_arns(state)[0]
            name, _, revision = pinned.rpartition(":")
            other = request("batch:SubmitJob", f"{name}:{int(revision) + 100}", context)
            assert decide(alone, other) is Decision.IMPLICIT_DENY
            assert decide(alone, request("batch:SubmitJob", name, context)) is Decision.IMPLICIT_DENY
        if isinstance(state.consumables, list) and all(kind != "dynamic" for kind, *_ in state.consumables):
            assert decide(alone, request("batch:SubmitJob", ARN + "consumable-resource/OTHER-LICENCE", context)) is Decision.IMPLICIT_DENY
        if state.share is not None and state.share[0] == "static" and not state.whole_dynamic:
            for req in submit_requests(state, share=OTHER_SHARE) + submit_requests(state, share=None):
                assert decide(alone, req) is Decision.IMPLICIT_DENY, req
        if state.pattern == "run-job" and required and sends_required(state, required):
            assert decide(alone, request("batch:TerminateJob", job_arn(state), {})) is Decision.IMPLICIT_DENY


@PROFILE
@given(machines())
def test_grouping_neither_widens_nor_narrows(machine):
    """The policy for all states allows a request exactly when the policy of one of them alone does."""
    definition, generated, required = machine
    tasks = tasks_of(definition)
    by_path = {task.path: task for task in tasks}
    _, fine = policy_of(tasks, "fine-grained", required)
    alone = [policy_of((by_path[s.path],), "fine-grained", required)[1] for s in generated]
    requests = {req for s in generated for req in own_requests(s) + neighbour_requests(s, required)}
    for req in requests:
        together = decide(fine, req) is Decision.ALLOWED
        separately = any(decide(policy, req) is Decision.ALLOWED for policy in alone)
        assert together == separately, (req, describe(definition, generated, required))


@PROFILE
@given(machines())
def test_fine_grained_allows_nothing_the_documented_policy_does_not(machine):
    definition, generated, required = machine
    tasks = tasks_of(definition)
    _, fine = policy_of(tasks, "fine-grained", required)
    _, documented = policy_of(tasks, "documented")
    for state in generated:
        for req in own_requests(state) + neighbour_requests(state, required):
            if decide(fine, req) is Decision.ALLOWED:
                assert decide(documented, req) is Decision.ALLOWED, (req, describe(definition, generated, required))


@PROFILE
@given(machines())
def test_untagged_states_fail_or_warn_and_dynamic_values_warn(machine):
    definition, generated, required = machine
    tasks = tasks_of(definition)
    untagged = [s for s in generated if not sends_required(s, required)]
    if untagged:
        with pytest.raises(UsageError) as error:
            policy_of(tasks, "fine-grained", required, allow_untagged=False)
        assert f"state {untagged[0].path!r}" in str(error.value)
    generated_policy, _ = policy_of(tasks, "fine-grained", required)
    messages = [str(notice) for notice in generated_policy.warnings]
    for state in untagged:
        assert any(f"state {state.path!r} does not send the tag(s)" in m for m in messages), (state.path, messages)
    for state in generated:
        if not state.submits:
            continue
        for kind, value in (("job-queue", state.queue), ("job-definition", state.definition)):
            if value[0] == "dynamic":
                field_name = "Arguments" if state.whole_dynamic else ("JobQueue" if kind == "job-queue" else "JobDefinition")
                assert any(
                    f"state {state.path!r} takes {field_name}" in m and f"allows {kind}/* in the account and region" in m for m in messages
                ), (state.path, kind, messages)
    # Never a guessed name: every queue / job-definition resource is a static one or the wildcard.
    named = {queue_arn(s) for s in generated if s.submits and s.queue[0] != "dynamic"}
    named |= {arn for s in generated if s.submits and s.definition[0] != "dynamic" for arn in definition_arns(s)}
    named |= {arn.removesuffix(":7") + ":*" for arn in named if arn.endswith(":7")}
    wildcards = {ARN + "job-queue/*", ARN + "job-definition/*"}
    for statement in generated_policy.policy.statements:
        for resource in statement.resources:
            if ":job-queue/" in resource or ":job-definition/" in resource:
                assert resource in named | wildcards, (resource, describe(definition, generated, required))


@PROFILE
@given(machines())
def test_sdk_calls_are_unchanged_from_documented(machine):
    definition, generated, required = machine
    sdk = tuple(task for task in tasks_of(definition) if task.pattern.value == "sdk")
    fine, _ = policy_of(sdk, "fine-grained", required, allow_untagged=False)
    documented, _ = policy_of(sdk, "documented")
    assert fine.policy.to_json() == documented.policy.to_json()
