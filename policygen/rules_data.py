"""Where the shipped rules/ data lives (lint rules, integration tables, action catalogue), and the
one reader of its YAML files, through their compiled JSON twins."""

from __future__ import annotations

import json
from functools import cache
from importlib.util import find_spec
from pathlib import Path, PurePosixPath
from typing import Any

# rules/compile.py writes rules/<path>.yaml as rules/compiled/<path>.json: reading JSON spares a
# command whose inputs are JSON the import of PyYAML (about 15 ms, nearly a bare interpreter's
# start). tests/test_rules_data.py fails when a twin differs from its YAML.
COMPILED = "compiled"


@cache
def rules_directory() -> Path:
    """The shipped `rules/` data: the installed `policygen._rules` package, else the source tree's."""
    # find_spec locates the package's directory (an installed or an editable install) without
    # importing importlib.resources and its zip readers, a few milliseconds of every start; the
    # package is a plain directory either way (policygen is not installed zipped).
    spec = find_spec("policygen._rules")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parent.parent / "rules"


def compiled_path(relative_path: str) -> PurePosixPath:
    """Where, under rules/, the JSON twin of rules/<relative_path> (a .yaml file) lies."""
    path = PurePosixPath(relative_path)
    if path.is_absolute() or ".." in path.parts or path.suffix != ".yaml":
        raise ValueError(f"rules data: {relative_path!r} is not a .yaml path inside rules/")
    return PurePosixPath(COMPILED, *path.parts).with_suffix(".json")


@cache
def load_rules(relative_path: str) -> Any:
    """The data of rules/<relative_path> (e.g. "integrations/batch.yaml"), as yaml.safe_load would
    return it, read from its compiled JSON twin. Cached: callers share the result and must not
    change it."""
    path = rules_directory() / compiled_path(relative_path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"rules/{relative_path} has no compiled twin rules/{compiled_path(relative_path)}: run python rules/compile.py"
        ) from None
    return json.loads(text)


def rules_files(directory: str, suffix: str) -> tuple[str, ...]:
    """The names (without suffix) of the shipped files in one directory under rules/, sorted."""
    return tuple(sorted(path.name[: -len(suffix)] for path in (rules_directory() / directory).glob(f"*{suffix}")))
