"""Where the shipped rules/ data lives: lint rules, the integration table, the action catalogue."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def rules_directory() -> Path:
    """The shipped `rules/` data: the installed `policygen._rules` package, else the source tree's."""
    try:
        return Path(str(resources.files("policygen._rules")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "rules"
