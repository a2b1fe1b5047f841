"""YAML text -> data, read safely: CloudFormation short-form tags, duplicate keys and alias bombs.

PyYAML's SafeLoader constructs aliases as shared references, so an alias bomb costs little to load
but explodes when anything walks the data. The expanded size of the node graph is therefore
counted (memoised, so the count itself is linear) before anything is constructed.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from policygen.errors import InputError, Location
from policygen.load.document import (
    LONE_SURROGATE,
    Document,
    lone_surrogate,
    split_pointer,
)

# Far above any real template (a 20,000-state definition is ~10^6 nodes), far below what hurts.
MAX_EXPANDED_NODES = 5_000_000

# CloudFormation's short forms; every other `!Name` is `Fn::Name`.
_SHORT_FORM_KEYS = {"Ref": "Ref", "Condition": "Condition"}
CLOUDFORMATION_TAGS = (
    "Ref", "Condition", "GetAtt", "Sub", "Join", "If", "Select", "Split", "FindInMap", "Base64",
    "Cidr", "GetAZs", "ImportValue", "Equals", "And", "Or", "Not", "Transform", "ToJsonString",
    "Length", "ForEach",
)


class _Loader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys and knows CloudFormation's short-form tags."""

    def __init__(self, stream: str):
        super().__init__(stream)
        # How many pairs `<<` merge keys put in front of each mapping's own: a mapping may be
        # flattened (as another's merge source) before it is constructed itself.
        self._merged_counts: dict[int, int] = {}

    def flatten_mapping(self, node: MappingNode) -> None:
        if id(node) in self._merged_counts:
            return
        own = sum(1 for key_node, _ in node.value if key_node.tag != "tag:yaml.org,2002:merge")
        super().flatten_mapping(node)
        self._merged_counts[id(node)] = len(node.value) - own

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        merged = self._merged_counts[id(node)]
        mapping: dict[Any, Any] = {}
        own_keys: set[Any] = set()
        for index, (key_node, value_node) in enumerate(node.value):
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                raise _located(key_node, "a mapping key must be a plain value") from None
            # Merged pairs may repeat a key (the mapping's own value, or an earlier source, wins);
            # only the mapping's own keys must be unique.
            if index >= merged:
                if key in own_keys:
                    raise _located(key_node, f"duplicate key {key!r}: the second one would silently replace the first")
                own_keys.add(key)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


class _LocatedYamlError(Exception):
    def __init__(self, message: str, line: int, column: int):
        self.message, self.line, self.column = message, line, column


def _located(node: Node, message: str) -> _LocatedYamlError:
    return _LocatedYamlError(message, node.start_mark.line + 1, node.start_mark.column + 1)


def _construct_short_form(loader: _Loader, tag_suffix: str, node: Node) -> dict[str, Any]:
    name = tag_suffix
    if name not in CLOUDFORMATION_TAGS:
        raise _located(node, f"unknown tag !{name}: expected a CloudFormation intrinsic function such as !Ref or !Sub")
    if isinstance(node, ScalarNode):
        value: Any = loader.construct_scalar(node)
        if name == "GetAtt":
            # `!GetAtt Queue.Arn` is `Fn::GetAtt: [Queue, Arn]`; the attribute may itself hold dots.
            value = value.split(".", 1)
    elif isinstance(node, SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {_SHORT_FORM_KEYS.get(name, f"Fn::{name}"): value}


_Loader.add_multi_constructor("!", _construct_short_form)
# `Version: 2012-10-17` must stay the string IAM and CloudFormation read, not a date.
_Loader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_scalar)


def _expanded_size(root: Node, name: str) -> int:
    """How many nodes the graph has once every alias is expanded; rejects cycles."""
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()

    def size(node: Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in in_progress:
            raise _located(node, "recursive alias: an anchor refers to itself")
        in_progress.add(key)
        if isinstance(node, SequenceNode):
            total = 1 + sum(size(child) for child in node.value)
        elif isinstance(node, MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in node.value)
        else:
            total = 1
        if total > MAX_EXPANDED_NODES:
            raise _located(
                node,
                f"aliases expand to more than {MAX_EXPANDED_NODES:,} nodes (an alias bomb?); refusing to read further",
            )
        in_progress.discard(key)
        sizes[key] = total
        return total

    return size(root)


def parse_yaml(text: str, name: str) -> Document:
    """Parse one YAML document; every problem is an InputError with line and column."""
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as error:  # the reader refuses control characters up front
        raise InputError(
            f"invalid YAML: character #x{error.character:04x} is not allowed in YAML", _offset_location(text, error.position, name)
        ) from None
    try:
        root = loader.get_single_node()
        if root is None:
            raise InputError("empty YAML document", Location(name))
        _expanded_size(root, name)
        data = loader.construct_document(root)
    except _LocatedYamlError as error:
        raise InputError(error.message, Location(name, error.line, error.column)) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "invalid YAML"
        location = Location(name, mark.line + 1, mark.column + 1) if mark else Location(name)
        raise InputError(f"invalid YAML: {problem}", location) from None
    except yaml.YAMLError as error:
        raise InputError(f"invalid YAML: {error}", Location(name)) from None
    except RecursionError:
        raise InputError("YAML nested too deeply", Location(name)) from None
    finally:
        loader.dispose()

    def locate(pointer: str) -> tuple[int, int] | None:
        node = _node_at(root, pointer)
        return None if node is None else (node.start_mark.line + 1, node.start_mark.column + 1)

    document = Document(name=name, format="yaml", data=data, locator=locate)
    surrogate = lone_surrogate(text, data)
    if surrogate is not None:
        raise InputError(LONE_SURROGATE, document.location(surrogate))
    return document


def _offset_location(text: str, offset: int, name: str) -> Location:
    line_start = text.rfind("\n", 0, offset) + 1
    return Location(name, text.count("\n", 0, offset) + 1, offset - line_start + 1)


def _node_at(root: Node, pointer: str) -> Node | None:
    """The node a JSON pointer names (the key node for a mapping member), or None."""
    node: Node = root
    tokens = split_pointer(pointer)
    for position, token in enumerate(tokens):
        last = position == len(tokens) - 1
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, ScalarNode) and key_node.value == token:
                    node = key_node if last else value_node
                    break
            else:
                return None
        elif isinstance(node, SequenceNode) and token.isdigit() and int(token) < len(node.value):
            node = node.value[int(token)]
        else:
            return None
    return node
