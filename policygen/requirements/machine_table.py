"""The state machine's own features (rules/integrations/state-machine.yaml, schema at its top):
Distributed Map, HTTP Task, logging, X-Ray tracing, a customer-managed KMS key, read once.

The features are data: when each applies (`when`), what it grants, with placeholders for what only
the state or the machine resource knows. requirements/machine_needs.py fills them in; the walk's
Catalogue asks `task_call_problem` whether a Task Resource is one of the features' (the HTTP Task).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from policygen.rules_data import load_rules
from policygen.scan.model import PATTERN_SUFFIXES, Pattern

# `{field:ItemReader.Parameters.Bucket}` or `{field:EncryptionConfiguration.KmsKeyId|kms-key-arn}`
FIELD_PLACEHOLDER = re.compile(r"\{field:(?P<path>[^}|]+)(?:\|(?P<transform>[^}]+))?\}")


@dataclass(frozen=True)
class FeatureResource:
    """A resource of a grant: its form, and the fallbacks tried in order when a field it names is
    not known before run time (none for a form without fields)."""

    name: str
    dynamic: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeatureGrant:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[FeatureResource, ...]
    conditions: tuple[tuple[str, str, Any], ...]  # (operator, key, text or {"field": path})
    when: Mapping[str, Any] | None  # besides the feature's own
    why: str
    sources: tuple[str, ...]  # URLs
    verified: bool


@dataclass(frozen=True)
class Feature:
    id: str
    when: Mapping[str, Any]
    grants: tuple[FeatureGrant, ...]
    optional: bool  # granted only on request (redrive)


@cache
def machine_features() -> tuple[Feature, ...]:
    data = load_rules("integrations/state-machine.yaml")
    sources = data["sources"]
    return tuple(
        Feature(name, spec["when"], tuple(_grant(row, sources) for row in spec["grants"]), bool(spec.get("optional", False)))
        for name, spec in data["features"].items()
    )


def _grant(row: dict, sources: dict[str, str]) -> FeatureGrant:
    return FeatureGrant(
        sid=row["sid"],
        actions=tuple(row["actions"]),
        resources=tuple(_resource(item) for item in row["resources"]),
        conditions=tuple(
            (operator, key, value)
            for operator, keys in sorted(row.get("conditions", {}).items())
            for key, value in sorted(keys.items())
        ),
        when=row.get("when"),
        why=row["why"],
        sources=tuple(sources[source] for source in row["sources"]),
        verified="verified" in row,
    )


def _resource(item: str | dict) -> FeatureResource:
    if isinstance(item, str):
        return FeatureResource(item)
    dynamic = item["dynamic"]
    return FeatureResource(item["name"], tuple(dynamic) if isinstance(dynamic, list) else (dynamic,))


def integration_of(resource: str) -> str | None:
    """The `<service>:<api>` part of an `arn:<partition>:states:::<service>:<api>` Resource."""
    _, separator, integration = resource.partition(":states:::")
    return integration if separator and resource.startswith("arn:") else None


@cache
def task_integrations() -> dict[str, str]:
    """The Task integrations a feature names (`http:invoke`) -> the feature's id."""
    found = {}
    for feature in machine_features():
        resource = feature.when.get("task-resource")
        if resource is not None:
            found[integration_of(resource)] = feature.id
    return found


def task_call_problem(service: str, api: str, pattern: Pattern) -> str | None:
    """None when `<service>:<api>` with `pattern` is a Task integration a feature describes; why
    not otherwise, when the service is one of theirs; "" when the service is none of theirs."""
    suffix = next(text for text, known in PATTERN_SUFFIXES.items() if known is pattern)
    if not any(name.partition(":")[0] == service for name in task_integrations()):
        return ""
    if f"{service}:{api}{suffix}" in task_integrations():
        return None
    known = ", ".join(f"arn:<partition>:states:::{name}" for name in sorted(task_integrations()) if name.startswith(f"{service}:"))
    return f"Step Functions has no {service}:{api}{suffix} that policygen knows (known: {known})"
