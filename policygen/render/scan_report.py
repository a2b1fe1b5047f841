"""Scan results -> a table for people, or JSON for machines."""

from __future__ import annotations

import json
from typing import Any

from policygen.errors import one_line
from policygen.scan import BatchTask, FieldValue

_COLUMNS = ("FILE", "STATE MACHINE", "STATE", "PATTERN", "ACTION", "JOB QUEUE", "JOB DEFINITION", "TAGS")


def _describe(value: FieldValue | None) -> str:
    if value is None:
        return "-"
    return value.text if value.is_static else f"{value.text} ({value.kind.value})"


def _tags(task: BatchTask) -> str:
    if task.dynamic_tags is not None:
        return f"{task.dynamic_tags.text} ({task.dynamic_tags.kind.value})"
    return ",".join(f"{tag.key}={_describe(tag.value)}" for tag in task.tags) or "-"


def render_scan_table(tasks: list[BatchTask]) -> str:
    rows = [_COLUMNS] + [
        tuple(
            # A cell holds input text: a line break in a name would start a line of its own.
            one_line(cell)
            for cell in (
                task.file,
                task.machine,
                task.path,
                task.pattern.value,
                task.action,
                _describe(task.job_queue),
                _describe(task.job_definition),
                _tags(task),
            )
        )
        for task in tasks
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(_COLUMNS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip() for row in rows]
    return "\n".join(lines) + "\n"


def _value_json(value: FieldValue | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"value": value.text, "kind": value.kind.value, "field": value.field, "pointer": value.pointer}


def scan_to_json(task: BatchTask) -> dict[str, Any]:
    return {
        "file": task.file,
        "stateMachine": task.machine,
        "state": task.path,
        "pointer": task.pointer,
        "resource": task.resource,
        "partition": task.partition,
        "pattern": task.pattern.value,
        "action": task.action,
        "queryLanguage": task.query_language,
        "jobQueue": _value_json(task.job_queue),
        "jobDefinition": _value_json(task.job_definition),
        "shareIdentifier": _value_json(task.share_identifier),
        "tags": {tag.key: _value_json(tag.value) for tag in task.tags},
        "dynamicTags": _value_json(task.dynamic_tags),
        "consumableResources": [_value_json(value) for value in task.consumable_resources],
        "credentials": _value_json(task.credentials),
    }


def render_scan_json(tasks: list[BatchTask]) -> str:
    return json.dumps({"batchStates": [scan_to_json(task) for task in tasks]}, indent=2, ensure_ascii=False) + "\n"
