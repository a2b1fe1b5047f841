"""Compile the rules' YAML (rules/integrations/*.yaml, rules/lint/*.yaml) into JSON twins under rules/compiled/.

    python rules/compile.py           # write rules/compiled/<folder>/<name>.json for every YAML file
    python rules/compile.py --check   # exit 1, naming them, if a twin is missing, stale or orphaned

policygen reads the twins (policygen.rules_data.load_rules), never the YAML: importing PyYAML
takes about 15 ms, nearly what a bare interpreter takes to start, and most runs read and write
only JSON. The YAML stays the source people edit and review; tests/test_rules_data.py fails when a
twin differs from it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
FOLDERS = ("integrations", "lint")
COMPILED = HERE / "compiled"


def sources() -> list[Path]:
    """Every YAML file the code reads, in a stable order."""
    return [path for folder in FOLDERS for path in sorted((HERE / folder).glob("*.yaml"))]


def twin_of(source: Path) -> Path:
    return COMPILED / source.relative_to(HERE).with_suffix(".json")


def compile_text(source: Path) -> str:
    """The twin's text: the YAML's data as JSON, keys in the YAML's order, one fixed layout."""
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    # allow_nan=False and the round trip refuse what JSON cannot hold the same way (a date, a
    # number as a mapping key, .nan), instead of writing a twin that reads back differently.
    text = json.dumps(data, ensure_ascii=False, indent=1, allow_nan=False) + "\n"
    if json.loads(text) != data:
        raise ValueError(f"{source.relative_to(HERE)}: holds data JSON cannot represent (a date? a non-string key?)")
    return text


def expected_twins() -> dict[Path, str]:
    return {twin_of(source): compile_text(source) for source in sources()}


def differences(expected: dict[Path, str]) -> list[str]:
    """What is wrong with rules/compiled/ now, one line each; empty when it is up to date."""
    found = []
    for path, text in expected.items():
        if not path.is_file():
            found.append(f"missing: {path.relative_to(HERE)}")
        elif path.read_text(encoding="utf-8") != text:
            found.append(f"stale: {path.relative_to(HERE)}")
    for path in sorted(COMPILED.rglob("*.json")):
        if path not in expected:
            found.append(f"orphaned (its YAML is gone): {path.relative_to(HERE)}")
    return found


def write(expected: dict[Path, str]) -> None:
    for path, text in expected.items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    for path in sorted(COMPILED.rglob("*.json")):
        if path not in expected:
            path.unlink()


def main(argv: list[str]) -> int:
    expected = expected_twins()
    if argv == ["--check"]:
        problems = differences(expected)
        for line in problems:
            print(line, file=sys.stderr)
        if problems:
            print("run: python rules/compile.py", file=sys.stderr)
        return 1 if problems else 0
    if argv:
        print("usage: python rules/compile.py [--check]", file=sys.stderr)
        return 2
    write(expected)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
