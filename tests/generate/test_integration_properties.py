"""Properties of `generate` over random mixes of integrations (hypothesis).

Random definitions call random APIs and patterns of the integration tables (rules/integrations/
<service>.yaml, all but batch, aws-sdk and state-machine), nested in Parallel branches and Map
processors, with arguments static (from a small alphabet), dynamic or left out. The expectation,
the (action, resource) pairs every state needs, is computed here straight from the YAML, read
with PyYAML and the rules of rules/integrations/README.md, never through policygen.requirements.
The policy must allow exactly the union: every pair needed, nothing else.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_properties import granted, policy_pairs

from policygen import pipeline
from policygen.load.asl import state_machine_from_asl
from policygen.load.json_source import parse_json
from policygen.render.policy_json import render_policy_json

ROOT = Path(__file__).resolve().parents[2]
OWN_SCHEMA = {"batch", "aws-sdk", "state-machine"}
TABLES = {
    path.stem: yaml.safe_load(path.read_text(encoding="utf-8"))
    for path in sorted((ROOT / "rules" / "integrations").glob("*.yaml"))
    if path.stem not in OWN_SCHEMA
}
CALLS = sorted((service, api, pattern) for service, table in TABLES.items() for api, spec in table["apis"].items() for pattern in spec["patterns"])
SERVICES = sorted(TABLES)
SUFFIX = {"request-response": "", "run-job": ".sync", "run-job-2": ".sync:2", "callback": ".waitForTaskToken"}
MANAGED_RULE_ACTIONS = ("events:PutTargets", "events:PutRule", "events:DescribeRule")  # README: "A managed rule"
NAMES = ["alpha", "beta", "gamma-1"]
TARGETS = [("us-east-1", "123456789012"), ("eu-west-2", "999988887777")]
# Values of the shapes a field's `forms` read (README "Forms"): inference profiles by id and ARN, of
# known and unknown geographies, and a plain model id beside them ({value} is one of NAMES).
FORM_VALUES = [
    "us.anthropic.{value}-v2:0",
    "global.anthropic.{value}-v1:0",
    "us-gov.meta.{value}",
    "ca.amazon.{value}-v1:0",
    "amazon.{value}-v1",
    "arn:{partition}:bedrock:{region}:{account}:inference-profile/eu.amazon.{value}-v1:0",
    "arn:{partition}:bedrock:{region}:111122223333:inference-profile/{value}",
    "arn:{partition}:bedrock:{region}:{account}:application-inference-profile/{value}",
    "s3://{value}-bucket/prompts/{value}.json",
    "{value}7.execute-api.eu-west-1.amazonaws.com",
]
PROFILE = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- the expectation, from the YAML ------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    partition: str
    region: str
    account: str

    def fill(self, text: str, value: str | None = None) -> str:
        text = text.replace("{partition}", self.partition).replace("{region}", self.region).replace("{account}", self.account)
        return text if value is None else text.replace("{value}", value)


# What one argument sends: ("static", text) / ("dynamic", None) per value; [] when left out. A
# list field (`Entries[*].EventBusName`) has one entry per item, ("absent", None) for an item
# that leaves the field out.
Sent = list[tuple[str, str | None]]


@dataclass
class State:
    """One generated Task state: its call and what each argument the table reads sends."""

    service: str
    api: str
    pattern: str
    fields: dict[str, Sent] = field(default_factory=dict)
    whole_dynamic: bool = False  # JSONata Arguments that are one expression
    function_arn: str | None = None  # a Lambda function ARN as the Resource itself


def _api(state: State) -> dict:
    return TABLES[state.service]["apis"][state.api]


def _field_resources(state: State) -> list[dict]:
    return [resource for grant in _api(state)["grants"][state.pattern] if "sid" in grant for resource in grant["resources"] if isinstance(resource, dict)]


def _condition_fields(state: State) -> list[str]:
    return [
        value["field"]
        for grant in _api(state)["grants"][state.pattern]
        for keys in grant.get("conditions", {}).values()
        for value in keys.values()
        if isinstance(value, dict)
    ]


def _url_parts(url: str, target: Target, text: str) -> dict[str, str] | None:
    pattern = re.escape(url)
    for part in ("partition", "region", "account", "value"):
        pattern = pattern.replace(re.escape("{" + part + "}"), f"(?P<{part}>[^:/]+)")
    match = re.fullmatch(pattern, text)
    return None if match is None else match.groupdict()


def _form_names(entry: dict, text: str, target: Target) -> set[str] | None:
    """README "Forms": the names of the first form whose match takes the whole value, else None."""
    for form in entry.get("forms", ()):
        match = re.fullmatch(form["match"], text)
        if match is not None:
            names = set()
            for name in form["names"]:
                for group, group_text in match.groupdict().items():
                    name = name.replace("{" + group + "}", group_text)
                names.add(target.fill(name, text))
            return names
    return None


def _resources_of(entry: dict, sent: Sent, target: Target, pass_role: bool, whole_dynamic: bool) -> set[str]:
    """README "A field resource": what one table entry makes of the values sent in its field."""
    if whole_dynamic:
        return {target.fill(entry["dynamic"])}
    if not any(kind != "absent" for kind, _ in sent):  # the field is left out everywhere
        if pass_role or entry.get("optional"):
            return set()  # no role passed there; an optional field's grant is not needed
        if "absent" in entry and "name" in entry:
            return {target.fill(entry["name"], entry["absent"])}
        return {target.fill(entry["dynamic"])}
    found = set()
    for kind, text in sent:
        if kind == "absent":
            if "absent" in entry and "name" in entry and not pass_role:
                found.add(target.fill(entry["name"], entry["absent"]))
        elif kind == "dynamic":
            found.add(target.fill(entry["dynamic"]))
        elif _form_names(entry, text, target) is not None:
            found |= _form_names(entry, text, target)
        elif "url" in entry:
            parts = _url_parts(entry["url"], target, text)
            found.add(target.fill(entry["dynamic"]) if parts is None else target.fill(entry["name"], parts["value"]))
        elif text.startswith("arn:"):
            if entry.get("arn", pass_role):  # a pass-role entry without `arn` holds a role ARN
                found.add(text)
            elif "name" not in entry:
                found.add(target.fill(entry["dynamic"]))
            # else: an entry for names only, beside the field's entry for ARNs
        elif "name" in entry:
            found.add(target.fill(entry["name"], text))
        else:
            found.add(target.fill(entry["dynamic"]))  # the field names no resource of its own
    return found


def _sends(state: State, argument: str) -> bool:
    """Whether the drawn state sends a top-level argument (a field under it counts)."""
    return any(path.split(".")[0].removesuffix("[*]") == argument and any(kind != "absent" for kind, _ in sent)
               for path, sent in state.fields.items())


def required_pairs(states: list[State], target: Target) -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for state in states:
        if state.function_arn is not None:  # lambda.yaml resource-arns: {resource} is the Resource
            pairs.add(("lambda:InvokeFunction", state.function_arn))
            continue
        api = _api(state)
        for grant in api["grants"][state.pattern]:
            if "managed-rule" in grant:
                rule = target.fill(f"arn:{{partition}}:events:{{region}}:{{account}}:rule/{grant['managed-rule']}")
                pairs |= {(action, rule) for action in MANAGED_RULE_ACTIONS}
                continue
            if "if-sent" in grant and not state.whole_dynamic and not _sends(state, grant["if-sent"]):
                continue  # README "if-sent": only a state that sends the argument needs the grant
            resources: set[str] = set()
            for resource in grant["resources"]:
                if isinstance(resource, str):
                    resources.add(target.fill(resource))
                else:
                    resources |= _resources_of(resource, state.fields.get(resource["field"], []), target, False, state.whole_dynamic)
            pairs |= {(action, resource) for action in grant["actions"] for resource in resources}
        for entry in api.get("pass-role", ()):
            sent = state.fields.get(entry["field"], [])
            pairs |= {("iam:PassRole", resource) for resource in _resources_of(entry, sent, target, True, state.whole_dynamic)}
    return pairs


# --- random definitions ------------------------------------------------------------------------


def _static_value(state: State, name: str, target: Target, pass_role: dict | None, entries: list[dict], draw) -> str:
    """A value a real state would send in the field: a name, a URL the table reads, or an ARN."""
    with_url = [entry for entry in entries if "url" in entry]
    if with_url:
        return target.fill(with_url[0]["url"], name)
    if pass_role is not None:
        if "name" in pass_role and draw(st.booleans()):
            return name
        if pass_role.get("arn", True):
            return target.fill("arn:{partition}:iam::{account}:role/{value}", name)
        # An instance profile, by name or ARN (EMR's JobFlowRole): no role name of its own.
        return name if draw(st.booleans()) else target.fill("arn:{partition}:iam::{account}:instance-profile/{value}", name)
    if not entries:  # a condition's field: emr-containers' ExecutionRoleArn
        return target.fill("arn:{partition}:iam::{account}:role/{value}", name)
    if any("forms" in entry for entry in entries) and draw(st.booleans()):
        return target.fill(draw(st.sampled_from(FORM_VALUES)), name)  # a value of another form (Bedrock: an inference profile)
    named = [entry for entry in entries if "name" in entry]
    if not named:  # a field that holds only an ARN (sns TopicArn)
        return target.fill(f"arn:{{partition}}:{state.service}:{{region}}:{{account}}:{{value}}", name)
    as_arn = target.fill(named[0]["name"], name)
    if all(entry.get("arn") for entry in entries) and "*" not in as_arn and draw(st.booleans()):
        return as_arn
    return name


def _expression(language: str, field_name: str) -> str:
    return "{% $states.input." + field_name + " %}" if language == "JSONata" else "$." + field_name


def _put(body: dict, key: str, value: str, dynamic: bool, language: str) -> None:
    if dynamic and language == "JSONPath":
        body[key + ".$"] = value
    else:
        body[key] = value


def _send(draw, body: dict, path: list[str], state: State, target: Target, language: str, pass_role, entries, sent: Sent) -> None:
    """Writes one value (or a list of items) at `path` in `body`, recording what it sends in `sent`."""
    head, rest = path[0], path[1:]
    if head.endswith("[*]"):
        items = body.setdefault(head[:-3], [])
        for _ in range(draw(st.integers(1, 3))):
            item: dict = {"Detail": "{}"} if state.service == "events" else {}
            choice = draw(st.sampled_from(["static", "dynamic", "absent"]))
            if choice == "absent":
                sent.append(("absent", None))
            else:
                _send_leaf(draw, item, rest, state, target, language, pass_role, entries, sent, choice)
            items.append(item)
        return
    if rest:
        _send(draw, body.setdefault(head, {}), rest, state, target, language, pass_role, entries, sent)
        return
    choice = draw(st.sampled_from(["static", "static", "dynamic", "absent"]))
    if choice != "absent":
        _send_leaf(draw, body, path, state, target, language, pass_role, entries, sent, choice)


def _send_leaf(draw, body, path, state, target, language, pass_role, entries, sent, choice) -> None:
    for key in path[:-1]:
        body = body.setdefault(key, {})
    key = path[-1]
    if choice == "dynamic":
        _put(body, key, _expression(language, key), True, language)
        sent.append(("dynamic", None))
    else:
        text = _static_value(state, draw(st.sampled_from(NAMES)), target, pass_role, entries, draw)
        _put(body, key, text, False, language)
        sent.append(("static", text))


@dataclass
class Context:
    target: Target
    states: list[State]
    counter: int = 0

    def name(self, kind: str) -> str:
        self.counter += 1
        return f"{kind} {self.counter}"


def _task(draw, context: Context) -> dict:
    target = context.target
    if draw(st.integers(0, 9)) == 0:
        name = draw(st.sampled_from(NAMES)) + draw(st.sampled_from(["", ":live"]))
        arn = target.fill("arn:{partition}:lambda:{region}:{account}:function:{value}", name)
        context.states.append(State("lambda", "", "request-response", function_arn=arn))
        return {"Type": "Task", "Resource": arn}
    # A service first, so that one with a single API (events, sqs) is as likely as SageMaker's many.
    service = draw(st.sampled_from(SERVICES))
    api = draw(st.sampled_from(sorted(TABLES[service]["apis"])))
    pattern = draw(st.sampled_from(TABLES[service]["apis"][api]["patterns"]))
    state = State(service, api, pattern)
    language = draw(st.sampled_from(["JSONPath", "JSONPath", "JSONata"]))
    task: dict = {"Type": "Task", "QueryLanguage": language, "Resource": f"arn:{target.partition}:states:::{service}:{api}{SUFFIX[pattern]}"}
    key = "Arguments" if language == "JSONata" else "Parameters"
    if language == "JSONata" and draw(st.integers(0, 7)) == 0:
        task[key] = "{% $states.input.request %}"
        state.whole_dynamic = True
    else:
        body: dict = {}
        by_field: dict[str, list[dict]] = {}
        for entry in _field_resources(state):
            by_field.setdefault(entry["field"], []).append(entry)
        roles = {entry["field"]: entry for entry in _api(state).get("pass-role", ())}
        for name in dict.fromkeys([*by_field, *_condition_fields(state), *roles]):
            sent: Sent = []
            _send(draw, body, name.split("."), state, target, language, roles.get(name), by_field.get(name, []), sent)
            state.fields[name] = sent
        task[key] = body
    context.states.append(state)
    return task


def _block(draw, context: Context, depth: int) -> dict:
    """An object with StartAt and States (a definition, a branch or a Map processor)."""
    states: dict = {}
    kinds = ["task", "task", "task", "pass", "parallel", "map"] if depth < 2 else ["task", "pass"]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(kinds))
        if kind == "task":
            state = _task(draw, context)
        elif kind == "pass":
            state = {"Type": "Pass"}
        elif kind == "parallel":
            state = {"Type": "Parallel", "Branches": [_block(draw, context, depth + 1) for _ in range(draw(st.integers(1, 2)))]}
        else:
            state = {"Type": "Map", "ItemProcessor": _block(draw, context, depth + 1)}
        states[context.name(state["Type"])] = state
    names = list(states)
    for name, following in zip(names, names[1:] + [None], strict=False):
        states[name]["End" if following is None else "Next"] = True if following is None else following
    return {"StartAt": names[0], "States": states}


@dataclass(frozen=True)
class Case:
    definition: dict
    states: tuple[State, ...]
    target: Target


@st.composite
def cases(draw) -> Case:
    region, account = draw(st.sampled_from(TARGETS))
    context = Context(Target("aws", region, account), [])
    definition = _block(draw, context, 0)
    return Case(definition, tuple(context.states), context.target)


def generate(case: Case) -> dict:
    document = parse_json(json.dumps(case.definition, indent=2), "random.asl.json")
    batch, services = pipeline.scan_whole_role([state_machine_from_asl(document)])
    generated = pipeline.generate_policy(batch, case.target.region, case.target.account, {}, services=services)
    return json.loads(render_policy_json(generated.policy))


# --- properties --------------------------------------------------------------------------------


@PROFILE
@given(cases())
def test_policy_allows_exactly_the_union_of_what_the_states_need(case):
    actual = policy_pairs(generate(case))
    expected = required_pairs(list(case.states), case.target)
    assert {action for action, _ in actual} == {action for action, _ in expected}
    assert granted(actual) == granted(expected)


def passed_roles(policy: dict) -> set[tuple[str, str | None]]:
    """(role, the iam:PassedToService it is limited to, or None) for every role the policy lets pass."""
    found = set()
    for statement in policy["Statement"]:
        if "iam:PassRole" not in statement["Action"]:
            continue
        condition = statement.get("Condition", {})
        assert set(condition) <= {"StringEquals"} and set(condition.get("StringEquals", {})) <= {"iam:PassedToService"}, statement
        service = condition.get("StringEquals", {}).get("iam:PassedToService")
        resources = statement["Resource"]
        found |= {(resource, service) for resource in ([resources] if isinstance(resources, str) else resources)}
    return found


def required_passed_roles(states: list[State], target: Target) -> set[tuple[str, str | None]]:
    found = set()
    for state in states:
        if state.function_arn is None:
            for entry in _api(state).get("pass-role", ()):
                resources = _resources_of(entry, state.fields.get(entry["field"], []), target, True, state.whole_dynamic)
                found |= {(resource, entry.get("passed-to")) for resource in resources}
    return found


def _granted_by_service(roles: set[tuple[str, str | None]]) -> set[tuple[str, str | None]]:
    """The roles, without those another role's wildcard already covers for the same service or
    for any service (None): two sets grant the same exactly when these are equal."""
    unlimited = {("iam:PassRole", resource) for resource, service in roles if service is None}
    found = {(resource, None) for _, resource in granted(unlimited)}
    for service in {service for _, service in roles} - {None}:
        limited = {("iam:PassRole", resource) for resource, other in roles if other == service}
        found |= {(resource, service) for _, resource in granted(limited) if granted(unlimited | {("iam:PassRole", resource)}) != granted(unlimited)}
    return found


@PROFILE
@given(cases())
def test_each_role_is_passed_only_to_the_service_the_table_names(case):
    assert _granted_by_service(passed_roles(generate(case))) == _granted_by_service(required_passed_roles(list(case.states), case.target))


def test_the_oracle_reads_every_table():
    # Every service, API and pattern can be drawn; a table the oracle cannot read fails here first.
    assert {service for service, _, _ in CALLS} == set(TABLES)
    target = Target("aws", *TARGETS[0])
    for service, api, pattern in CALLS:
        assert required_pairs([State(service, api, pattern)], target) is not None


def _form_fields() -> list[tuple[str, str, str, str]]:
    """(service, api, pattern, field) for every field resource with `forms`."""
    return sorted(
        {
            (service, api, pattern, resource["field"])
            for service, api, pattern in CALLS
            for grant in TABLES[service]["apis"][api]["grants"][pattern]
            if "sid" in grant
            for resource in grant["resources"]
            if isinstance(resource, dict) and "forms" in resource
        }
    )


@PROFILE
@given(st.sampled_from(_form_fields()), st.sampled_from(FORM_VALUES), st.sampled_from(NAMES), st.sampled_from(TARGETS), st.booleans())
def test_a_value_of_every_form_is_granted_as_the_table_reads_it(call, value, name, region_account, jsonata):
    # The mixes above draw a field with forms rarely; here each form's values meet every call that reads them.
    service, api, pattern, field_name = call
    target = Target("aws", *region_account)
    text = target.fill(value, name)
    state = State(service, api, pattern, fields={field_name: [("static", text)]})
    key = "Arguments" if jsonata else "Parameters"
    arguments: dict = {}
    *parents, leaf = field_name.split(".")  # a dotted field (Input.S3Uri) is sent nested, as a state writes it
    inner = arguments
    for parent in parents:
        inner = inner.setdefault(parent, {})
    inner[leaf] = text
    task = {"Type": "Task", "Resource": f"arn:aws:states:::{service}:{api}{SUFFIX[pattern]}", key: arguments}
    if jsonata:
        task["QueryLanguage"] = "JSONata"
    case = Case({"StartAt": "Call", "States": {"Call": {**task, "End": True}}}, (state,), target)
    actual = policy_pairs(generate(case))
    assert granted(actual) == granted(required_pairs([state], target))
