"""The shipped action catalogue (rules/catalog/): every IAM service, one small file each, read on
demand, and an index of action names that wildcards are expanded from."""

from __future__ import annotations

import json
import time
from pathlib import Path

from policygen.iam import catalog

CATALOG = Path(__file__).resolve().parents[2] / "rules" / "catalog"


def test_every_service_has_a_file_and_the_index_lists_its_actions() -> None:
    files = {path.stem for path in CATALOG.glob("*.json") if path.name != "_index.json"}
    assert set(catalog.services()) == files
    assert len(files) > 400  # every IAM service, not a chosen few
    index = json.loads((CATALOG / "_index.json").read_text(encoding="utf-8"))["services"]
    assert set(index) == files
    for name in sorted(files):  # the index a wildcard reads says what each service's own file says
        data = json.loads((CATALOG / f"{name}.json").read_text(encoding="utf-8"))
        assert data["service"] == name and index[name] == list(data["actions"]), name
        assert catalog.action_names(name) == frozenset(data["actions"])


def test_services_are_read_on_demand() -> None:
    catalog._load.cache_clear()
    catalog._index.cache_clear()
    assert catalog.has_service("sqs") and not catalog.has_service("nosuchservice")
    assert not catalog.has_service("../integrations/batch") and not catalog.has_service("_index")
    assert catalog.service("nosuchservice") is None
    assert catalog.action_names("batch") >= {"SubmitJob"}
    assert catalog.expand_action_pattern("batch:SubmitJ*") == frozenset({"batch:SubmitJob"})
    # only the files of the services asked about were read: no index for one service's names
    assert catalog._load.cache_info().currsize == 1 and catalog._index.cache_info().currsize == 0
    sqs = catalog.service("sqs")
    assert sqs.resource_types == {"queue": "arn:${Partition}:sqs:${Region}:${Account}:${QueueName}"}
    assert sqs.actions["SendMessage"]["resourceTypes"] == ["queue"]
    assert catalog.resource_patterns("sqs:SendMessage") == ("arn:{partition}:sqs:{region}:{account}:*",)
    assert catalog.resource_patterns("sqs:ListQueues") == ("*",)


def test_canonical_names_and_unknown_services() -> None:
    assert catalog.canonical_action("SQS:sendmessage") == "sqs:SendMessage"
    assert catalog.canonical_action("sqs:SendMesage") is None
    assert catalog.expand_action_pattern("nosuchservice:Get*") is None


def test_wildcards_across_every_service_stay_fast() -> None:
    catalog.expand_action_pattern.cache_clear()
    started = time.perf_counter()
    everything = catalog.expand_action_pattern("*")
    some = catalog.expand_action_pattern("s*:Get*")
    describes = catalog.expand_action_pattern("*:Describe*")
    elapsed = time.perf_counter() - started
    assert len(everything) > 20000 and {"s3:GetObject", "batch:SubmitJob", "sqs:SendMessage"} <= everything
    assert {"s3:GetObject", "sqs:GetQueueUrl", "ssm:GetParameter"} <= some
    assert not any(action.startswith("batch:") for action in some)
    assert "ec2:DescribeInstances" in describes
    assert elapsed < 1.0, elapsed


def test_the_catalogue_is_small_enough_to_ship() -> None:
    size = sum(path.stat().st_size for path in CATALOG.glob("*.json"))
    assert size < 4_000_000, size


def test_refresh_writes_json_that_reads_back_as_written() -> None:
    from test_integration_tables import _refresh_module

    refresh = _refresh_module()
    catalogue = {
        "service": "x", "sourceVersion": "1", "sourceUpdated": "2026-01-01",
        "resourceTypes": {"thing": "arn:${Partition}:x:${Region}:${Account}:thing/${Name}"},
        "actions": {"Get": {"resourceTypes": ["thing"], "conditionKeys": []}, "List": {"resourceTypes": [], "conditionKeys": ["aws:TagKeys"]}},
    }
    empty = dict(catalogue, resourceTypes={}, actions={})
    for value in (catalogue, empty):
        assert json.loads(refresh.catalogue_text(value)) == value
    index = refresh.index_text({"x": catalogue, "y": empty}, "1", "2026-01-01")
    assert json.loads(index) == {"sourceVersion": "1", "sourceUpdated": "2026-01-01", "services": {"x": ["Get", "List"], "y": []}}
    assert refresh.catalogue_text(catalogue).count("\n") == 9  # one line per action and resource type: diffs stay readable


def test_every_action_s_resource_types_have_arn_templates() -> None:
    # Actions keep the Service Authorization Reference's case (autoscaling's DetachInstances acts on
    # "autoScalingGroup") while the catalogue keys types in lower case: every action of every
    # service must still find each of its types (an aws-sdk call to one of them was exit 3).
    checked = 0
    for name in catalog.services():
        service = catalog.service(name)
        for action, spec in service.actions.items():
            for resource_type in spec["resourceTypes"]:
                assert service.arn_template(resource_type).startswith("arn:"), (name, action, resource_type)
                checked += 1
            assert catalog.resource_patterns(f"{name}:{action}")
    assert checked > 20_000
    assert catalog.resource_patterns("autoscaling:DetachInstances") == (
        "arn:{partition}:autoscaling:{region}:{account}:autoScalingGroup:*:autoScalingGroupName/*",
    )
