"""The integration table (rules/integrations/batch.yaml): what each Batch call pattern needs."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from policygen.iam.arns import arn_resource
from policygen.rules_data import load_rules

DOCUMENTED = "documented"
FINE_GRAINED = "fine-grained"
MODES = (DOCUMENTED, FINE_GRAINED)


@dataclass(frozen=True)
class Dispute:
    """A resource of a request that AWS's own documents disagree about: by `required_by` the call
    fails without it, by `not_required_by` it works without it (URLs of the documents)."""

    resource_type: str  # the ARN's resource type, e.g. "job" for arn:aws:batch:r:a:job/*
    required_by: tuple[str, ...]
    not_required_by: tuple[str, ...]
    why: str

    def covers(self, arn_pattern: str) -> bool:
        """Whether a resource ARN (pattern) is of the disputed type."""
        resource = arn_resource(arn_pattern)
        return resource.partition("/")[0] == self.resource_type


@dataclass(frozen=True)
class GrantTemplate:
    """One row of the table: actions on resources under conditions, with placeholders still in them."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: tuple[str, ...]
    why: str
    sources: tuple[str, ...]  # URLs of the AWS documents the row rests on
    disputes: tuple[Dispute, ...] = ()

    @property
    def source(self) -> str:
        return ", ".join(self.sources)


@dataclass(frozen=True)
class IntegrationTable:
    modes: dict[str, dict[str, tuple[GrantTemplate, ...]]]  # mode -> pattern -> rows
    tags_sent: tuple[GrantTemplate, ...]


@lru_cache(maxsize=1)
def batch_table() -> IntegrationTable:
    data = load_rules("integrations/batch.yaml")
    sources = data["sources"]
    return IntegrationTable(
        modes={
            mode: {pattern: _templates(rows, sources) for pattern, rows in data[mode].items()} for mode in MODES
        },
        tags_sent=_templates(data["tags-sent"], sources),
    )


def _templates(rows: list[dict], sources: dict[str, str]) -> tuple[GrantTemplate, ...]:
    return tuple(
        GrantTemplate(
            sid=row["sid"],
            actions=tuple(row["actions"]),
            resources=tuple(row["resources"]),
            conditions=tuple(row.get("conditions", ())),
            why=row["why"],
            sources=_urls(row["sources"], sources),
            disputes=tuple(
                Dispute(
                    resource_type=item["resource-type"],
                    required_by=_urls(item["required-by"], sources),
                    not_required_by=_urls(item["not-required-by"], sources),
                    why=item["why"],
                )
                for item in row.get("disputed", ())
            ),
        )
        for row in rows
    )


def _urls(ids: list[str], sources: dict[str, str]) -> tuple[str, ...]:
    """The URLs of source ids; an id missing from the table's `sources` map is a bug in the table."""
    missing = [source_id for source_id in ids if source_id not in sources]
    if missing:
        raise ValueError(f"rules/integrations/batch.yaml: unknown source id(s) {', '.join(missing)}")
    return tuple(sources[source_id] for source_id in ids)
