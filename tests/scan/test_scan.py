"""The scanner: which states call Batch, how, from where in the definition, and with what values."""

from __future__ import annotations

import json

import pytest

from policygen.errors import InputError
from policygen.iam import catalog
from policygen.load.asl import state_machine_from_asl
from policygen.load.json_source import parse_json
from policygen.load.yaml_source import parse_yaml
from policygen.scan import JSONATA, JSONPATH, BatchTask, Pattern, ValueKind, scan

BATCH_ACTIONS = catalog.action_names("batch")
SUBMIT = "arn:aws:states:::batch:submitJob"


def _scan(definition: dict, name: str = "sm.asl.json") -> list[BatchTask]:
    document = parse_json(json.dumps(definition, indent=2), name)
    return scan(state_machine_from_asl(document), BATCH_ACTIONS)


def _machine(states: dict, **top) -> dict:
    return {**top, "StartAt": next(iter(states)), "States": states}


def _task(resource: str = SUBMIT, **fields) -> dict:
    return {"Type": "Task", "Resource": resource, **fields, "End": True}


def _one(definition: dict) -> BatchTask:
    tasks = _scan(definition)
    assert len(tasks) == 1, tasks
    return tasks[0]


def _scan_error(definition: dict) -> InputError:
    with pytest.raises(InputError) as caught:
        _scan(definition)
    return caught.value


# --- Resource forms --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "resource, pattern, action, partition",
    [
        ("arn:aws:states:::batch:submitJob", Pattern.REQUEST_RESPONSE, "batch:SubmitJob", "aws"),
        ("arn:aws:states:::batch:submitJob.sync", Pattern.RUN_JOB, "batch:SubmitJob", "aws"),
        ("arn:aws:states:::batch:submitJob.waitForTaskToken", Pattern.CALLBACK, "batch:SubmitJob", "aws"),
        ("arn:aws:states:::aws-sdk:batch:describeJobs", Pattern.SDK, "batch:DescribeJobs", "aws"),
        ("arn:aws:states:::aws-sdk:batch:submitJob", Pattern.SDK, "batch:SubmitJob", "aws"),
        ("arn:aws:states:::aws-sdk:batch:cancelJob.waitForTaskToken", Pattern.SDK, "batch:CancelJob", "aws"),
        ("arn:aws:states:::aws-sdk:batch:listTagsForResource", Pattern.SDK, "batch:ListTagsForResource", "aws"),
        ("arn:aws-cn:states:::batch:submitJob.sync", Pattern.RUN_JOB, "batch:SubmitJob", "aws-cn"),
        ("arn:aws-us-gov:states:::aws-sdk:batch:terminateJob", Pattern.SDK, "batch:TerminateJob", "aws-us-gov"),
    ],
)
def test_resource_form_gives_pattern_action_and_partition(resource, pattern, action, partition):
    task = _one(_machine({"Call": _task(resource)}))
    assert (task.pattern, task.action, task.partition, task.resource) == (pattern, action, partition, resource)


@pytest.mark.parametrize("iam_name", sorted(BATCH_ACTIONS))
def test_every_catalogued_batch_action_is_accepted_as_an_sdk_call(iam_name):
    api_action = iam_name[0].lower() + iam_name[1:]
    task = _one(_machine({"Call": _task(f"arn:aws:states:::aws-sdk:batch:{api_action}")}))
    assert task.action == f"batch:{iam_name}"


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:states:::lambda:invoke",
        "arn:aws:lambda:us-east-1:123456789012:function:batch:submitJob",
        "arn:aws:states:::aws-sdk:s3:getObject",
        "arn:aws:states:::ecs:runTask.sync",
        "arn:aws:states:::aws-sdk:batchx:submitJob",
        "arn:aws:states:us-east-1:123456789012:activity:batch",
    ],
)
def test_other_resources_are_not_batch_tasks(resource):
    assert _scan(_machine({"Other": _task(resource)})) == []


def test_non_task_states_are_ignored():
    states = {
        "P": {"Type": "Pass", "Resource": SUBMIT, "Next": "C"},
        "C": {"Type": "Choice", "Choices": [], "Default": "S"},
        "S": {"Type": "Succeed"},
    }
    assert _scan(_machine(states)) == []


def test_tasks_come_in_document_order_with_file_and_machine():
    states = {"Second": _task(SUBMIT + ".sync"), "First": _task(SUBMIT)}
    tasks = _scan(_machine(states), "dir/pipeline.asl.json")
    assert [task.path for task in tasks] == ["Second", "First"]
    assert {(task.file, task.machine) for task in tasks} == {("dir/pipeline.asl.json", "pipeline")}


# --- paths and pointers through nesting ------------------------------------------------------


def test_paths_through_nested_parallel():
    inner = {
        "Type": "Parallel",
        "Branches": [
            _machine({"Noop": {"Type": "Pass", "End": True}}),
            _machine({"Train": _task(SUBMIT + ".sync")}),
        ],
        "End": True,
    }
    outer = {"Type": "Parallel", "Branches": [_machine({"Inner": inner}), _machine({"Notify": _task()})], "End": True}
    tasks = _scan(_machine({"Outer": outer}))
    assert [(task.path, task.pointer) for task in tasks] == [
        ("Outer/branch[0]/Inner/branch[1]/Train", "/States/Outer/Branches/0/States/Inner/Branches/1/States/Train"),
        ("Outer/branch[1]/Notify", "/States/Outer/Branches/1/States/Notify"),
    ]


@pytest.mark.parametrize(
    "processor_key, processor_extra",
    [
        ("Iterator", {}),
        ("ItemProcessor", {}),
        ("ItemProcessor", {"ProcessorConfig": {"Mode": "INLINE"}}),
        ("ItemProcessor", {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}}),
    ],
)
def test_paths_through_map_processors(processor_key, processor_extra):
    processor = {**processor_extra, **_machine({"Convert": _task()})}
    task = _one(_machine({"Each file": {"Type": "Map", processor_key: processor, "End": True}}))
    assert task.path == "Each file/Convert"
    assert task.pointer == f"/States/Each file/{processor_key}/States/Convert"


def test_map_inside_parallel_inside_map():
    leaf = _machine({"Leaf": _task(SUBMIT + ".waitForTaskToken")})
    parallel = {"Type": "Parallel", "Branches": [_machine({"Skip": {"Type": "Pass", "End": True}}), _machine({"Inner map": {"Type": "Map", "Iterator": leaf, "End": True}})], "End": True}
    outer = {"Type": "Map", "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED"}, **_machine({"Fan": parallel})}, "End": True}
    task = _one(_machine({"Outer map": outer}))
    assert task.path == "Outer map/Fan/branch[1]/Inner map/Leaf"
    assert task.pointer == "/States/Outer map/ItemProcessor/States/Fan/Branches/1/States/Inner map/Iterator/States/Leaf"
    assert task.pattern is Pattern.CALLBACK


def test_pointer_escapes_slash_and_tilde_in_state_names():
    task = _one(_machine({"a/b~c": _task()}))
    assert task.path == "a/b~c"
    assert task.pointer == "/States/a~1b~0c"


# --- static and dynamic values ---------------------------------------------------------------


def _values(task: BatchTask) -> dict:
    return {
        name: None if value is None else (value.kind, value.text, value.field, value.pointer)
        for name, value in (("queue", task.job_queue), ("definition", task.job_definition), ("share", task.share_identifier))
    }


def test_jsonpath_static_values():
    task = _one(_machine({"S": _task(Parameters={"JobName": "n", "JobQueue": "q", "JobDefinition": "d:3", "ShareIdentifier": "blue"})}))
    assert task.query_language == JSONPATH
    assert _values(task) == {
        "queue": (ValueKind.STATIC, "q", "JobQueue", "/States/S/Parameters/JobQueue"),
        "definition": (ValueKind.STATIC, "d:3", "JobDefinition", "/States/S/Parameters/JobDefinition"),
        "share": (ValueKind.STATIC, "blue", "ShareIdentifier", "/States/S/Parameters/ShareIdentifier"),
    }


def test_jsonpath_paths_and_intrinsics_are_dynamic():
    parameters = {"JobQueue.$": "$.queue", "JobDefinition.$": "States.Format('d:{}', $.rev)", "ShareIdentifier.$": "$$.Execution.Input.share"}
    task = _one(_machine({"S": _task(Parameters=parameters)}))
    assert _values(task) == {
        "queue": (ValueKind.DYNAMIC, "$.queue", "JobQueue.$", "/States/S/Parameters/JobQueue.$"),
        "definition": (ValueKind.DYNAMIC, "States.Format('d:{}', $.rev)", "JobDefinition.$", "/States/S/Parameters/JobDefinition.$"),
        "share": (ValueKind.DYNAMIC, "$$.Execution.Input.share", "ShareIdentifier.$", "/States/S/Parameters/ShareIdentifier.$"),
    }


def test_jsonata_braces_are_literal_text_under_jsonpath():
    # (A ShareIdentifier: as a JobQueue, the literal text is no queue name and is refused.)
    task = _one(_machine({"S": _task(Parameters={"ShareIdentifier": "{% $states.input.q %}"})}))
    assert task.share_identifier.kind is ValueKind.STATIC


def test_jsonata_expressions_are_dynamic_and_plain_strings_static():
    arguments = {"JobQueue": "{% $states.input.queue %}", "JobDefinition": "blender:4", "ShareIdentifier": "{%\n $share\n%}"}
    task = _one(_machine({"S": _task(Arguments=arguments)}, QueryLanguage=JSONATA))
    assert task.query_language == JSONATA
    assert _values(task) == {
        "queue": (ValueKind.DYNAMIC, "{% $states.input.queue %}", "JobQueue", "/States/S/Arguments/JobQueue"),
        "definition": (ValueKind.STATIC, "blender:4", "JobDefinition", "/States/S/Arguments/JobDefinition"),
        "share": (ValueKind.DYNAMIC, "{%\n $share\n%}", "ShareIdentifier", "/States/S/Arguments/ShareIdentifier"),
    }


def test_jsonata_partial_braces_are_static():
    task = _one(_machine({"S": _task(Arguments={"ShareIdentifier": "prefix {% $x %}"})}, QueryLanguage=JSONATA))
    assert task.share_identifier.kind is ValueKind.STATIC


def test_jsonata_whole_arguments_expression_makes_everything_dynamic():
    task = _one(_machine({"S": _task(Arguments="{% $states.input.request %}")}, QueryLanguage=JSONATA))
    whole = (ValueKind.DYNAMIC, "{% $states.input.request %}", "Arguments", "/States/S/Arguments")
    assert _values(task) == {"queue": whole, "definition": whole, "share": whole}
    assert task.dynamic_tags is not None and task.dynamic_tags.pointer == "/States/S/Arguments"
    assert task.tags == () and task.consumable_resources == ()
    assert task.sends_tags


def test_missing_values_are_none():
    task = _one(_machine({"S": _task()}))
    assert _values(task) == {"queue": None, "definition": None, "share": None}
    assert (task.tags, task.dynamic_tags, task.consumable_resources, task.sends_tags) == ((), None, (), False)


# --- QueryLanguage ---------------------------------------------------------------------------


def test_per_state_jsonata_under_a_jsonpath_machine():
    task = _one(_machine({"S": _task(QueryLanguage=JSONATA, Arguments={"JobQueue": "{% $q %}"}, Parameters={"JobQueue": "ignored"})}))
    assert (task.query_language, task.job_queue.kind, task.job_queue.text) == (JSONATA, ValueKind.DYNAMIC, "{% $q %}")


def test_per_state_jsonpath_under_a_jsonata_machine():
    task = _one(_machine({"S": _task(QueryLanguage=JSONPATH, Parameters={"JobQueue.$": "$.q"})}, QueryLanguage=JSONATA))
    assert (task.query_language, task.job_queue.kind, task.job_queue.field) == (JSONPATH, ValueKind.DYNAMIC, "JobQueue.$")


@pytest.mark.parametrize("top", [JSONPATH, JSONATA])
@pytest.mark.parametrize("container_kind", ["Parallel", "Map"])
def test_nested_state_inherits_the_top_level_language_not_its_parents(top, container_kind):
    # Step Functions: a state without QueryLanguage uses the top-level QueryLanguage field.
    other = JSONATA if top == JSONPATH else JSONPATH
    inner = _machine({"Leaf": _task(Parameters={"JobQueue.$": "$.q"}, Arguments={"JobQueue": "{% $q %}"})})
    container = {"Type": container_kind, "QueryLanguage": other, "End": True}
    if container_kind == "Parallel":
        container["Branches"] = [inner]
    else:
        container["ItemProcessor"] = inner
    task = _one(_machine({"Box": container}, QueryLanguage=top))
    assert task.query_language == top
    expected_field = "JobQueue.$" if top == JSONPATH else "JobQueue"
    assert task.job_queue.field == expected_field


def test_absent_query_language_is_jsonpath():
    assert _one(_machine({"S": _task()})).query_language == JSONPATH


@pytest.mark.parametrize("where", ["top", "state"])
def test_invalid_query_language_is_an_error_with_pointer(where):
    if where == "top":
        definition, pointer = _machine({"S": _task()}, QueryLanguage="XPath"), "/QueryLanguage"
    else:
        definition, pointer = _machine({"S": _task(QueryLanguage="jsonata")}), "/States/S/QueryLanguage"
    error = _scan_error(definition)
    assert error.location.pointer == pointer
    assert error.location.line is not None


# --- tags ------------------------------------------------------------------------------------


def test_static_tags_with_static_and_dynamic_values_sorted_by_key():
    task = _one(_machine({"S": _task(Parameters={"Tags": {"team": "data", "owner.$": "$.owner"}})}))
    assert [(tag.key, tag.value.kind, tag.value.text, tag.value.pointer) for tag in task.tags] == [
        ("owner", ValueKind.DYNAMIC, "$.owner", "/States/S/Parameters/Tags/owner.$"),
        ("team", ValueKind.STATIC, "data", "/States/S/Parameters/Tags/team"),
    ]
    assert task.dynamic_tags is None and task.sends_tags


def test_jsonpath_dynamic_tags():
    task = _one(_machine({"S": _task(Parameters={"Tags.$": "$.tags"})}))
    assert task.tags == ()
    assert (task.dynamic_tags.kind, task.dynamic_tags.text, task.dynamic_tags.pointer) == (ValueKind.DYNAMIC, "$.tags", "/States/S/Parameters/Tags.$")
    assert task.sends_tags


def test_jsonata_tags():
    task = _one(_machine({"S": _task(Arguments={"Tags": {"env": "{% $env %}", "team": "data"}})}, QueryLanguage=JSONATA))
    assert [(tag.key, tag.value.kind) for tag in task.tags] == [("env", ValueKind.DYNAMIC), ("team", ValueKind.STATIC)]
    dynamic = _one(_machine({"S": _task(Arguments={"Tags": "{% $tags %}"})}, QueryLanguage=JSONATA))
    assert dynamic.dynamic_tags.text == "{% $tags %}" and dynamic.tags == ()


def test_empty_tags_send_none():
    task = _one(_machine({"S": _task(Parameters={"Tags": {}})}))
    assert not task.sends_tags


@pytest.mark.parametrize(
    "parameters, pointer",
    [
        ({"Tags": ["a"]}, "/States/S/Parameters/Tags"),
        ({"Tags": "a=b"}, "/States/S/Parameters/Tags"),
        ({"Tags": {"a": 1}}, "/States/S/Parameters/Tags/a"),
    ],
)
def test_malformed_tags_are_errors(parameters, pointer):
    error = _scan_error(_machine({"S": _task(Parameters=parameters)}))
    assert error.location.pointer == pointer
    assert error.message.startswith("state 'S': ")


# --- ConsumableResourcePropertiesOverride -----------------------------------------------------


def test_consumable_resources_static_and_dynamic():
    override = {"ConsumableResourceList": [
        {"ConsumableResource": "licenses", "Quantity": 1},
        {"ConsumableResource.$": "$.pool", "Quantity": 2},
        {"Quantity": 3},
    ]}
    task = _one(_machine({"S": _task(Parameters={"ConsumableResourcePropertiesOverride": override})}))
    base = "/States/S/Parameters/ConsumableResourcePropertiesOverride/ConsumableResourceList"
    assert [(v.kind, v.text, v.pointer) for v in task.consumable_resources] == [
        (ValueKind.STATIC, "licenses", f"{base}/0/ConsumableResource"),
        (ValueKind.DYNAMIC, "$.pool", f"{base}/1/ConsumableResource.$"),
    ]


@pytest.mark.parametrize(
    "parameters, text",
    [
        ({"ConsumableResourcePropertiesOverride.$": "$.crp"}, "$.crp"),
        ({"ConsumableResourcePropertiesOverride": {"ConsumableResourceList.$": "$.list"}}, "$.list"),
    ],
)
def test_consumable_resources_from_an_expression(parameters, text):
    task = _one(_machine({"S": _task(Parameters=parameters)}))
    assert [(v.kind, v.text) for v in task.consumable_resources] == [(ValueKind.DYNAMIC, text)]


def test_consumable_resources_in_jsonata():
    override = {"ConsumableResourceList": [{"ConsumableResource": "{% $pool %}", "Quantity": 1}]}
    task = _one(_machine({"S": _task(Arguments={"ConsumableResourcePropertiesOverride": override})}, QueryLanguage=JSONATA))
    assert [(v.kind, v.text) for v in task.consumable_resources] == [(ValueKind.DYNAMIC, "{% $pool %}")]


@pytest.mark.parametrize(
    "override, pointer_tail",
    [
        ([], ""),
        ({"ConsumableResourceList": {}}, "/ConsumableResourceList"),
        ({"ConsumableResourceList": ["licenses"]}, "/ConsumableResourceList/0"),
    ],
)
def test_malformed_consumable_resources_are_errors(override, pointer_tail):
    error = _scan_error(_machine({"S": _task(Parameters={"ConsumableResourcePropertiesOverride": override})}))
    assert error.location.pointer == "/States/S/Parameters/ConsumableResourcePropertiesOverride" + pointer_tail


# --- errors ----------------------------------------------------------------------------------


def _nested(state: dict) -> dict:
    """`state` as "Bad" inside a Parallel's second branch: errors must name its full path."""
    return _machine({"Fan": {"Type": "Parallel", "Branches": [_machine({"Ok": _task()}), _machine({"Bad": state})], "End": True}})


NESTED_POINTER = "/States/Fan/Branches/1/States/Bad"


@pytest.mark.parametrize(
    "state, pointer_tail, expected_texts",
    [
        (_task("arn:aws:states:::batch:submitJob.foo"), "/Resource", ["batch:submitJob.foo", "unknown Batch integration"]),
        (_task("arn:aws:states:::batch:describeJobs"), "/Resource", ["batch:describeJobs"]),
        (_task("arn:aws:states:::aws-sdk:batch:describeJobz"), "/Resource", ["describeJobz", "unknown Batch API action"]),
        (_task("arn:aws:states:::aws-sdk:batch:DescribeJobs"), "/Resource", ["aws-sdk:batch:DescribeJobs", "camelCase"]),
        (_task("arn:aws:states:::aws-sdk:batch:describeJobs.sync"), "/Resource", ["aws-sdk:batch:describeJobs.sync", ".sync"]),
        (_task("arn:aws-xx:states:::batch:submitJob"), "/Resource", ["aws-xx", "unknown partition"]),
        (_task("arn::states:::batch:submitJob.sync"), "/Resource", ["unknown partition"]),
        ({"Type": "Task", "Resource": 42, "End": True}, "/Resource", ["Resource", "42"]),
        ({"Type": "Task", "Resource": ["arn:aws:states:::batch:submitJob"], "End": True}, "/Resource", ["Resource", "arn:aws:states:::batch:submitJob"]),
        (_task(Parameters={"JobQueue": "q", "JobQueue.$": "$.q"}), "/Parameters", ["JobQueue", "JobQueue.$"]),
        (_task(Parameters={"JobDefinition": {"Ref": "Def"}}), "/Parameters/JobDefinition", ["JobDefinition", "string"]),
        (_task(Parameters={"JobQueue.$": 7}), "/Parameters/JobQueue.$", ["JobQueue.$"]),
        (_task(Parameters="not an object"), "/Parameters", ["Parameters"]),
    ],
)
def test_errors_name_the_state_and_value_and_carry_the_pointer(state, pointer_tail, expected_texts):
    error = _scan_error(_nested(state))
    message = str(error)
    assert "Fan/branch[1]/Bad" in error.message, message
    for text in expected_texts:
        assert text in error.message, message
    assert error.location.file == "sm.asl.json"
    assert error.location.pointer == NESTED_POINTER + pointer_tail
    assert error.location.line is not None and error.location.column is not None


def test_error_positions_point_at_the_offending_text():
    text = '{\n  "StartAt": "A",\n  "States": {\n    "A": {\n      "Type": "Task",\n      "Resource": "arn:aws:states:::batch:submitJob.foo",\n      "End": true\n    }\n  }\n}\n'
    with pytest.raises(InputError) as caught:
        scan(state_machine_from_asl(parse_json(text, "a.json")), BATCH_ACTIONS)
    assert (caught.value.location.line, caught.value.location.column) == (6, 7)


def test_error_positions_in_yaml():
    text = "StartAt: A\nStates:\n  A:\n    Type: Task\n    Resource: arn:aws:states:::aws-sdk:batch:describeJobz\n    End: true\n"
    with pytest.raises(InputError) as caught:
        scan(state_machine_from_asl(parse_yaml(text, "a.yaml")), BATCH_ACTIONS)
    assert (caught.value.location.file, caught.value.location.line, caught.value.location.column) == ("a.yaml", 5, 5)


def test_without_a_catalogue_unknown_sdk_actions_pass():
    document = parse_json(json.dumps(_machine({"S": _task("arn:aws:states:::aws-sdk:batch:describeJobz")})), "x.json")
    assert scan(state_machine_from_asl(document), None)[0].action == "batch:DescribeJobz"


@pytest.mark.parametrize(
    "definition, pointer",
    [
        ({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True}}}, "/States/P/Branches"),
        ({"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [{"StartAt": "x"}], "End": True}}}, "/States/P/Branches/0/States"),
        ({"StartAt": "M", "States": {"M": {"Type": "Map", "Iterator": [], "End": True}}}, "/States/M/Iterator"),
        ({"StartAt": "S", "States": {"S": "Task"}}, "/States/S"),
    ],
)
def test_malformed_structure_is_an_error_with_pointer(definition, pointer):
    assert _scan_error(definition).location.pointer == pointer
