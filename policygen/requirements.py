"""Batch tasks -> the permissions each one needs, from the integration table (REFERENCE.md §2-§3)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from policygen.integrations import GrantTemplate, batch_table
from policygen.scan import BatchTask


@dataclass(frozen=True)
class Need:
    """Actions on resources that one Batch state needs; resources may hold {region}/{account}."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    why: str
    source: str
    task: BatchTask

    @property
    def placeholders(self) -> frozenset[str]:
        return frozenset(name for name in ("region", "account") if any(f"{{{name}}}" in r for r in self.resources))


def needs_of(task: BatchTask) -> list[Need]:
    """What `task` needs from the role, in the documented form."""
    # Tag-on-create: only SubmitJob creates the job the tags go on (REFERENCE.md §3).
    tags_on_create = task.sends_tags and task.action == "batch:SubmitJob"
    grants = _grants(task.pattern.value, task.action, task.partition, tags_on_create)
    return [Need(sid, actions, resources, why, source, task) for sid, actions, resources, why, source in grants]


@lru_cache(maxsize=1024)
def _grants(
    pattern: str, action: str, partition: str, tags_on_create: bool
) -> tuple[tuple[str, tuple[str, ...], tuple[str, ...], str, str], ...]:
    """The table rows for one kind of call with their placeholders filled in; cached because a
    large definition repeats a handful of kinds thousands of times."""
    table = batch_table()
    templates = table.patterns[pattern] + (table.tags_sent if tags_on_create else ())
    return tuple(_grant(template, action, partition) for template in templates)


def _grant(template: GrantTemplate, action: str, partition: str):
    actions = tuple(name.replace("{action}", action) for name in template.actions)
    resources: list[str] = []
    for resource in template.resources:
        if resource == "{action-resources}":
            from policygen import catalog

            resources.extend(catalog.resource_patterns(action))
        else:
            resources.append(resource)
    resources_filled = tuple(resource.replace("{partition}", partition) for resource in resources)
    return template.sid, actions, resources_filled, template.why, template.source
