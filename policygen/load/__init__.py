"""Loaders: bytes from files or stdin -> parsed documents -> the state machine definitions they hold."""

from __future__ import annotations

from policygen.load.document import STDIN_NAME, Document, read_text

_JSON_SUFFIXES = (".json",)
_YAML_SUFFIXES = (".yaml", ".yml")


def load_document(path: str) -> Document:
    """Read and parse one file (or stdin for "-"), as JSON or YAML by its name, else by its content."""
    return parse_document(read_text(path), STDIN_NAME if path == "-" else path)


def parse_document(text: str, name: str) -> Document:
    """Parse the text of the file `name`, as JSON or YAML by its name, else by its content."""
    lowered = name.lower()
    if lowered.endswith(_JSON_SUFFIXES):
        as_json = True
    elif lowered.endswith(_YAML_SUFFIXES):
        as_json = False
    else:
        as_json = text.lstrip()[:1] in ("{", "[")
    if as_json:
        from policygen.load.json_source import parse_json

        return parse_json(text, name)
    from policygen.load.yaml_source import (
        parse_yaml,  # PyYAML costs ~25 ms: only when needed
    )

    return parse_yaml(text, name)
