"""CloudFormation intrinsic functions -> Fn::Sub-syntax values (see policygen/load/template.py).

`Ref`, `Fn::GetAtt`, `Fn::Sub` and `Fn::Join` of deploy-time values become references; literal
`Fn::Sub` variables are inlined; every other intrinsic is opaque (unknown until deploy), never
evaluated. Serverless Framework variables (`${self:...}`, `${opt:...}`, ...) are opaque too, except
`${aws:region}` and `${aws:accountId}`, which are the pseudo parameters under another name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from policygen.errors import InputError
from policygen.load.document import Document, escape_pointer_token
from policygen.load.json_source import (
    DuplicateKeyError,
    LoneSurrogateError,
    loads_unique,
)
from policygen.load.template import (
    PSEUDO_PARAMETERS,
    Opaque,
    OpaqueValue,
    Ref,
    Segment,
    Segments,
    describe_intrinsic,
    join_segments,
    parse_sub,
    render,
    substitute,
)

# `${source:...}` or `${file(...)}`: a Serverless Framework variable (not `${AWS::Region}`).
_SERVERLESS_VARIABLE = re.compile(r"^(?:[A-Za-z][\w-]*:(?!:)|[A-Za-z]\w*\()")
_SERVERLESS_PSEUDO = {"aws:region": "AWS::Region", "aws:accountId": "AWS::AccountId"}
# Pseudo parameters that are no string: no property at all, a list.
_NOT_A_STRING = ("AWS::NoValue", "AWS::NotificationARNs")
# serverless-step-functions' pseudo parameter syntax, `#{AWS::Region}`, which it turns into `${AWS::Region}`.
_PLUGIN_PSEUDO = re.compile(r"#\{([^}]+)\}")
_OPAQUE_MARK = "\ue000"  # a private-use character marks opaque parts in a DefinitionString text


@lru_cache(maxsize=1)
def cloudformation_functions() -> frozenset[str]:
    """Every intrinsic function name CloudFormation knows, in the long form (`Fn::Sub`, `Ref`)."""
    from policygen.load.yaml_source import CLOUDFORMATION_TAGS

    return frozenset("Ref" if tag == "Ref" else tag if tag == "Condition" else f"Fn::{tag}" for tag in CLOUDFORMATION_TAGS)


def intrinsic_name(value: Any) -> str | None:
    """The function name if `value` is an intrinsic function call (a one-key `Ref` / `Fn::*` object)."""
    if isinstance(value, dict) and len(value) == 1:
        (key,) = value
        if key == "Ref" or (isinstance(key, str) and key.startswith("Fn::")):
            return key
    return None


@dataclass
class Resolver:
    """Resolves the values of one state machine's definition in its template.

    `known_name` says whether a `Ref`/`GetAtt`/`${Name}` target exists in the template; a name it
    rejects is an InputError. `serverless` makes `${source:...}` strings Serverless variables."""

    document: Document
    machine: str
    known_name: Callable[[str], bool]
    serverless: bool = False
    # serverless-step-functions writes a definition that holds an intrinsic function or a `#{...}`
    # pseudo parameter as one Fn::Sub: its plain strings are then Fn::Sub text too.
    plain_strings_are_sub: bool = False

    def error(self, message: str, pointer: str) -> InputError:
        return InputError(f"state machine {self.machine!r}: {message}", self.document.location(pointer))

    # -- one value -> segments -------------------------------------------------------------------

    def segments(self, value: Any, pointer: str) -> Segments:
        """A value as segments: literal text, references and opaque parts."""
        name = intrinsic_name(value)
        if name is not None:
            return self.intrinsic(name, value[name], value, f"{pointer}/{escape_pointer_token(name)}")
        if isinstance(value, str):
            return self.plain_string(value)
        if isinstance(value, bool):
            return ("true" if value else "false",)
        if isinstance(value, (int, float)):
            return (str(value),)
        if value is None:
            return ("",)
        raise self.error(f"expected a string value, found {type(value).__name__}", pointer)

    def plain_string(self, text: str) -> Segments:
        if self.plain_strings_are_sub:
            text = _PLUGIN_PSEUDO.sub(r"${\1}", text)
            return self.serverless_string(text, sub=True) if "${" in text else (text,)
        if not self.serverless or "${" not in text:
            return (text,)
        return self.serverless_string(text, sub=False)

    def intrinsic(self, name: str, argument: Any, whole: Any, pointer: str) -> Segments:
        if name == "Ref":
            if argument in _NOT_A_STRING:
                return (Opaque(describe_intrinsic(whole), f"Ref {argument}"),)
            return (self.reference(argument, pointer, "Ref"),)
        if name == "Fn::GetAtt":
            return self.get_att(argument, whole, pointer)
        if name == "Fn::Sub":
            return self.sub(argument, pointer)
        if name == "Fn::Join":
            return self.join(argument, whole, pointer)
        if name not in cloudformation_functions():
            raise self.error(
                f"unknown intrinsic function {name!r}: expected one CloudFormation knows "
                "(Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::If, ...)",
                pointer,
            )
        return (Opaque(describe_intrinsic(whole), name),)

    def reference(self, name: Any, pointer: str, function: str) -> Ref:
        if not isinstance(name, str):
            raise self.error(f"{function} takes the name of a parameter or resource", pointer)
        self.check_name(name, pointer, function)
        return Ref(name)

    def check_name(self, name: str, pointer: str, function: str) -> None:
        if name.startswith("AWS::"):
            if name not in PSEUDO_PARAMETERS:
                raise self.error(f"{function} refers to {name!r}, which is not a CloudFormation pseudo parameter", pointer)
            return
        target = name.split(".", 1)[0] if function == "Fn::Sub" else name
        if not self.known_name(target):
            what = "a parameter, a resource, a pseudo parameter nor a variable of this Fn::Sub" if function == "Fn::Sub" else "a parameter, a resource nor a pseudo parameter"
            raise self.error(f"{function} refers to {name!r}, which is neither {what}", pointer)

    def get_att(self, argument: Any, whole: Any, pointer: str) -> Segments:
        if isinstance(argument, str):
            argument = argument.split(".", 1)
        if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)):
            raise self.error("Fn::GetAtt takes [LogicalId, Attribute] or \"LogicalId.Attribute\"", pointer)
        logical_id, attribute = argument
        if not isinstance(attribute, str):
            return (Opaque(describe_intrinsic(whole), "Fn::GetAtt"),)
        if not self.known_name(logical_id):
            raise self.error(f"Fn::GetAtt refers to {logical_id!r}, which is not a resource of the template", pointer)
        return (Ref(f"{logical_id}.{attribute}"),)

    def sub(self, argument: Any, pointer: str) -> Segments:
        variables: Mapping[str, Any] = {}
        text = argument
        if isinstance(argument, list):
            if len(argument) != 2 or not isinstance(argument[1], dict):
                raise self.error("Fn::Sub takes a string or [string, {variables}]", pointer)
            text, variables = argument
        if not isinstance(text, str):
            raise self.error("Fn::Sub takes a string or [string, {variables}]", pointer)
        resolved_variables = {
            name: self.segments(value, f"{pointer}/1/{escape_pointer_token(name)}") for name, value in variables.items()
        }
        text_pointer = f"{pointer}/0" if isinstance(argument, list) else pointer
        parts = self.serverless_string(text, sub=True) if self.serverless else parse_sub(text)
        result: list[Segment] = []
        for part in parts:
            if isinstance(part, Ref):
                if part.name in resolved_variables:
                    result.extend(resolved_variables[part.name])
                    continue
                self.check_name(part.name, text_pointer, "Fn::Sub")
            result.append(part)
        return join_segments(result)

    def join(self, argument: Any, whole: Any, pointer: str) -> Segments:
        if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)):
            raise self.error("Fn::Join takes [delimiter, [values]]", pointer)
        delimiter, values = argument
        if intrinsic_name(values) is not None:  # a list made at deploy time (Fn::Split, Fn::GetAZs, ...)
            self.segments(values, f"{pointer}/1")  # still reports unknown functions and names
            return (Opaque(describe_intrinsic(whole), "Fn::Join"),)
        if not isinstance(values, list):
            raise self.error("Fn::Join takes [delimiter, [values]]", pointer)
        result: list[Segment] = []
        for index, value in enumerate(values):
            if index:
                result.append(delimiter)
            result.extend(self.segments(value, f"{pointer}/1/{index}"))
        return join_segments(result)

    def serverless_string(self, text: str, sub: bool) -> Segments:
        """A serverless.yml string: `${source:...}` variables (nested braces allowed) are opaque
        except the pseudo parameters; in a Fn::Sub other `${...}` are CloudFormation's."""
        result: list[Segment] = []
        position = 0
        literal_start = 0
        opaque = False
        while True:
            start = text.find("${", position)
            if start < 0:
                break
            end = _matching_brace(text, start + 2)
            if end < 0:
                break
            inner = text[start + 2 : end]
            if _SERVERLESS_VARIABLE.match(inner):
                result.append(text[literal_start:start])
                if inner in _SERVERLESS_PSEUDO:
                    result.append(Ref(_SERVERLESS_PSEUDO[inner]))
                else:
                    opaque = True
                    result.append(Opaque(text[start : end + 1], _serverless_source(inner)))
                literal_start = end + 1
            position = end + 1
        result.append(text[literal_start:])
        if sub:
            expanded: list[Segment] = []
            for part in result:
                expanded.extend(parse_sub(part) if isinstance(part, str) else (part,))
            result = expanded
        if opaque:
            # A string with a Serverless variable in it is unknown as a whole: show it as written.
            names = tuple(dict.fromkeys(p.intrinsic for p in result if isinstance(p, Opaque)))
            return (Opaque(text, names[0]),) if len(names) == 1 else (Opaque(text, ", ".join(names)),)
        return join_segments(result)

    # -- a whole definition ------------------------------------------------------------------------

    def definition_object(self, value: Any, pointer: str, substitutions: Mapping[str, Segments]) -> Any:
        """A Definition object with every string value in Fn::Sub syntax (intrinsics converted,
        DefinitionSubstitutions applied); keys stay plain text."""
        if intrinsic_name(value) is not None:
            return render(substitute(self.segments(value, pointer), substitutions))
        if isinstance(value, dict):
            return {
                _plain_key(key, substitutions): self.definition_object(item, f"{pointer}/{escape_pointer_token(key)}", substitutions)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self.definition_object(item, f"{pointer}/{index}", substitutions) for index, item in enumerate(value)]
        if isinstance(value, str):
            return render(substitute(self.plain_string(value), substitutions))
        return value

    def definition_text(self, segments: Segments, pointer: str, substitutions: Mapping[str, Segments]) -> Any:
        """A DefinitionString (as segments) -> the definition: substitutions applied to the text,
        then parsed as JSON; its string values come out in Fn::Sub syntax."""
        segments = substitute(segments, substitutions)
        opaque: list[Opaque] = []
        text_parts = []
        in_string = False  # whether the text so far ends inside a JSON string
        for segment in segments:
            if isinstance(segment, str):
                piece = render((segment,))
                in_string = _ends_in_string(piece, in_string)
                text_parts.append(piece)
            elif isinstance(segment, Opaque) or not in_string:
                # Outside a JSON string a deploy-time value is a number, a boolean or an object
                # (`"TimeoutSeconds": ${Timeout}` in a Fn::Sub): written as a quoted mark, the text
                # stays JSON, and the value comes back opaque (never guessed).
                mark = "${" + _OPAQUE_MARK + str(len(opaque)) + "}"
                text_parts.append(mark if in_string else f'"{mark}"')
                opaque.append(segment if isinstance(segment, Opaque) else Opaque(render((segment,)), f"Ref {segment.name}"))
            else:
                text_parts.append(render((segment,)))
        text = "".join(text_parts)
        try:
            data = loads_unique(text)
        except DuplicateKeyError as error:
            raise self.error(
                f"duplicate key {_restore_key(error.key, opaque)!r} in the definition: the second one would "
                "silently replace the first",
                pointer + error.pointer,
            ) from None
        except LoneSurrogateError as error:
            raise self.error(str(error), pointer + error.pointer) from None
        except json.JSONDecodeError as error:
            lines = text.splitlines()
            line = lines[error.lineno - 1].strip() if error.lineno <= len(lines) else ""
            raise self.error(
                f"the definition is not valid JSON once its values are substituted: {error.msg} "
                f"(line {error.lineno}, column {error.colno} of the substituted text"
                + (f": {line[:80]!r})" if line else ")"),
                pointer,
            ) from None
        except RecursionError:
            raise self.error("the definition is nested too deeply", pointer) from None
        return _restore(data, opaque)


def literal_definition(value: Any, substitutions: Mapping[str, Segments] | None = None) -> Any:
    """A definition without intrinsics (an ASL file, a Terraform plan's JSON) for a template
    machine: DefinitionSubstitutions placeholders applied, string values in Fn::Sub syntax."""
    substitutions = substitutions or {}
    if isinstance(value, dict):
        return {_plain_key(key, substitutions): literal_definition(item, substitutions) for key, item in value.items()}
    if isinstance(value, list):
        return [literal_definition(item, substitutions) for item in value]
    if isinstance(value, str):
        return render(substitute((value,), substitutions))
    return value


def _plain_key(key: Any, substitutions: Mapping[str, Segments]) -> Any:
    """An object key with literal substitutions applied; a deploy-time one stays `${Name}`."""
    if not isinstance(key, str) or not substitutions:
        return key
    literal = {name: value for name, value in substitutions.items() if all(isinstance(s, str) for s in value)}
    return "".join(str(segment) for segment in substitute((key,), literal))


def _ends_in_string(text: str, in_string: bool) -> bool:
    """Whether JSON text that starts inside a string (or not) ends inside one."""
    position = 0
    while True:
        position = text.find('"', position) if not in_string else _closing_quote(text, position)
        if position < 0:
            return in_string
        in_string = not in_string
        position += 1


def _closing_quote(text: str, position: int) -> int:
    while True:
        quote = text.find('"', position)
        if quote < 0:
            return -1
        backslashes = len(text[position:quote]) - len(text[position:quote].rstrip("\\"))
        if backslashes % 2 == 0:
            return quote
        position = quote + 1


def _serverless_source(inner: str) -> str:
    """`self:custom.x` -> `${self:...}`, `file(./a.json):b` -> `${file(...)}`: the variable's source."""
    name = re.match(r"[\w-]*", inner).group(0)
    return "${" + name + ("(...)}" if inner[len(name) :].startswith("(") else ":...}")


def _matching_brace(text: str, position: int) -> int:
    depth = 1
    while position < len(text):
        if text.startswith("${", position):
            depth += 1
            position += 2
            continue
        if text[position] == "}":
            depth -= 1
            if depth == 0:
                return position
        position += 1
    return -1


_MARKED = re.compile(r"\$\{" + _OPAQUE_MARK + r"(\d+)\}")


def _restore(value: Any, opaque: list[Opaque]) -> Any:
    """Parsed DefinitionString data with the opaque marks turned back into OpaqueValues."""
    if isinstance(value, dict):
        return {_restore_key(key, opaque): _restore(item, opaque) for key, item in value.items()}
    if isinstance(value, list):
        return [_restore(item, opaque) for item in value]
    if isinstance(value, str):
        if _OPAQUE_MARK not in value:
            return value
        parts: list[Segment] = []
        position = 0
        for match in _MARKED.finditer(value):
            parts.append(value[position : match.start()])
            parts.append(opaque[int(match.group(1))])
            position = match.end()
        parts.append(value[position:])
        # Literal text here is already in Fn::Sub syntax: keep it as it is.
        text = "".join(p if isinstance(p, str) else p.text for p in parts)
        names = tuple(dict.fromkeys(p.intrinsic for p in parts if isinstance(p, Opaque)))
        return OpaqueValue(text, names)
    return value


def _restore_key(key: str, opaque: list[Opaque]) -> str:
    """Keys are plain text: Fn::Sub escapes undone, opaque parts shown as written."""
    key = _MARKED.sub(lambda match: opaque[int(match.group(1))].text, key)
    return key.replace("${!", "${")
