"""Where the shipped rules/ data lives: lint rules, the integration table, the action catalogue."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any


def rules_directory() -> Path:
    """The shipped `rules/` data: the installed `policygen._rules` package, else the source tree's."""
    try:
        return Path(str(resources.files("policygen._rules")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "rules"


@cache
def load_rules(relative_path: str) -> Any:
    """The parsed data of one shipped rules file, e.g. load_rules("integrations/lambda.yaml")."""
    import yaml  # only commands that read a rules table pay for PyYAML

    return yaml.safe_load((rules_directory() / relative_path).read_text(encoding="utf-8"))


def rules_files(directory: str, suffix: str = ".yaml") -> tuple[str, ...]:
    """The names (without suffix) of the shipped rules files in one directory, sorted."""
    return tuple(sorted(path.name[: -len(suffix)] for path in (rules_directory() / directory).glob(f"*{suffix}")))
