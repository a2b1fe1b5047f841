"""Batch tasks -> the permissions each one needs, from the integration table (REFERENCE.md §2-§3)."""

from __future__ import annotations

from dataclasses import dataclass

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
    table = batch_table()
    templates = list(table.patterns[task.pattern.value])
    # Tag-on-create: only SubmitJob creates the job the tags go on (REFERENCE.md §3).
    if task.sends_tags and task.action == "batch:SubmitJob":
        templates.extend(table.tags_sent)
    return [_need(template, task) for template in templates]


def _need(template: GrantTemplate, task: BatchTask) -> Need:
    actions = tuple(action.replace("{action}", task.action) for action in template.actions)
    resources = []
    for resource in template.resources:
        if resource == "{action-resources}":
            from policygen import catalog

            resources.extend(catalog.resource_patterns(task.action))
        else:
            resources.append(resource)
    resources = tuple(resource.replace("{partition}", task.partition) for resource in resources)
    return Need(template.sid, actions, resources, template.why, template.source, task)
