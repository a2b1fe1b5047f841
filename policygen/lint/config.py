"""Lint configuration: `[tool.policygen.lint]` in pyproject.toml, or `[lint]` in .policygen.toml.

    [tool.policygen.lint]
    ignore = ["PG301"]                        # rules never reported
    fail-on = "warning"                       # error (default), warning or suggestion
    [tool.policygen.lint.per-path-ignores]
    "legacy/*.json" = ["PG201", "PG202"]      # rules not reported for findings in these files

The nearest directory (from the current one upwards) with a .policygen.toml, or a pyproject.toml
that has a [tool.policygen] table, holds the configuration; .policygen.toml wins in the same
directory (as ruff's .ruff.toml does). Per-path patterns are relative to that directory, with
`*` matching across `/`. `--config FILE` names the file instead.
"""

from __future__ import annotations

import fnmatch
import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policygen.errors import Location, UsageError

FAIL_ON = ("error", "warning", "suggestion")
_KEYS = frozenset({"ignore", "fail-on", "per-path-ignores"})


@dataclass(frozen=True)
class LintConfig:
    ignore: frozenset[str] = frozenset()
    per_path_ignores: tuple[tuple[str, frozenset[str]], ...] = ()
    fail_on: str | None = None
    root: Path | None = None  # the directory per-path patterns are relative to
    source: str | None = None

    def ignores(self, rule_id: str, files: Iterable[str]) -> bool:
        """Whether a finding of `rule_id` about `files` is suppressed."""
        if rule_id in self.ignore:
            return True
        if not self.per_path_ignores:
            return False
        root = self.root or Path.cwd()
        for file in files:
            relative = Path(os.path.relpath(Path(file).resolve(), root.resolve())).as_posix()
            for pattern, rule_ids in self.per_path_ignores:
                if rule_id in rule_ids and (fnmatch.fnmatchcase(relative, pattern) or fnmatch.fnmatchcase(file, pattern)):
                    return True
        return False


def find_config(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        dedicated = directory / ".policygen.toml"
        if dedicated.is_file():
            return dedicated
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and "policygen" in _read(pyproject).get("tool", {}):
            return pyproject
    return None


def load_config(path: str | None, known_rules: Iterable[str], start: Path | None = None) -> LintConfig:
    """The configuration from `path`, else from the nearest config file; an empty one if none."""
    file = Path(path) if path is not None else find_config((start or Path.cwd()).resolve())
    if file is None:
        return LintConfig()
    if path is not None and not file.is_file():
        raise UsageError("no such configuration file", Location(str(file)))
    data = _read(file)
    if file.name == "pyproject.toml" or "tool" in data:
        table, prefix = data.get("tool", {}).get("policygen", {}).get("lint", {}), "tool.policygen.lint"
    else:
        table, prefix = data.get("lint", {}), "lint"
    return _parse(table, prefix, frozenset(known_rules), file)


def _read(file: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"not valid TOML: {error}", Location(str(file))) from None
    except OSError as error:
        raise UsageError(f"cannot read: {error.strerror}", Location(str(file))) from None


def _parse(table: Any, prefix: str, known: frozenset[str], file: Path) -> LintConfig:
    where = Location(str(file))
    if not isinstance(table, dict):
        raise UsageError(f"[{prefix}] must be a table", where)
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise UsageError(f"[{prefix}]: unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})", where)
    ignore = _rule_ids(table.get("ignore", []), f"{prefix}.ignore", known, where)
    fail_on = table.get("fail-on")
    if fail_on is not None and fail_on not in FAIL_ON:
        raise UsageError(f"{prefix}.fail-on must be one of {', '.join(FAIL_ON)}, not {fail_on!r}", where)
    per_path = table.get("per-path-ignores", {})
    if not isinstance(per_path, dict):
        raise UsageError(f"{prefix}.per-path-ignores must be a table of glob = [rule ids]", where)
    return LintConfig(
        ignore=ignore,
        per_path_ignores=tuple(
            (pattern, _rule_ids(ids, f"{prefix}.per-path-ignores.{pattern!r}", known, where))
            for pattern, ids in sorted(per_path.items())
        ),
        fail_on=fail_on,
        root=file.resolve().parent,
        source=str(file),
    )


def _rule_ids(value: Any, name: str, known: frozenset[str], where: Location) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise UsageError(f"{name} must be a list of rule ids such as \"PG201\"", where)
    return frozenset(check_rule_id(item, known, f"{name}: ", where) for item in value)


def check_rule_id(rule_id: str, known: frozenset[str], context: str = "", where: Location | None = None) -> str:
    rule_id = rule_id.strip().upper()
    if rule_id not in known:
        raise UsageError(f"{context}unknown rule {rule_id!r} (rules: {', '.join(sorted(known))})", where)
    return rule_id
