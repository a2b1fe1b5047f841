"""The integration table (rules/integrations/batch.yaml): what each Batch call pattern needs."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

DOCUMENTED = "documented"
FINE_GRAINED = "fine-grained"
MODES = (DOCUMENTED, FINE_GRAINED)


@dataclass(frozen=True)
class GrantTemplate:
    """One row of the table: actions on resources under conditions, with placeholders still in them."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: tuple[str, ...]
    why: str
    source: str


@dataclass(frozen=True)
class IntegrationTable:
    modes: dict[str, dict[str, tuple[GrantTemplate, ...]]]  # mode -> pattern -> rows
    tags_sent: tuple[GrantTemplate, ...]


def rules_directory() -> Path:
    """The shipped `rules/` data: the installed `policygen._rules` package, else the source tree's."""
    try:
        return Path(str(resources.files("policygen._rules")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "rules"


@lru_cache(maxsize=1)
def batch_table() -> IntegrationTable:
    import yaml  # the table is small; PyYAML is imported only when a policy is built

    data = yaml.safe_load((rules_directory() / "integrations" / "batch.yaml").read_text(encoding="utf-8"))
    return IntegrationTable(
        modes={
            mode: {pattern: _templates(rows) for pattern, rows in data[mode].items()} for mode in MODES
        },
        tags_sent=_templates(data["tags-sent"]),
    )


def _templates(rows: list[dict]) -> tuple[GrantTemplate, ...]:
    return tuple(
        GrantTemplate(
            sid=row["sid"],
            actions=tuple(row["actions"]),
            resources=tuple(row["resources"]),
            conditions=tuple(row.get("conditions", ())),
            why=row["why"],
            source=row["source"],
        )
        for row in rows
    )
