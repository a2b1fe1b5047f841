"""The lint rules as data (rules/lint/PGxxx.yaml): id, name, severity, message template and doc."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from enum import Enum
from functools import cached_property, lru_cache
from typing import Any

from policygen.rules_data import load_rules, rules_directory

_ID = re.compile(r"^PG([123])\d\d$")
_DOC_FIELDS = ("what", "why", "bad", "good", "fix")


class Severity(str, Enum):
    """PG1xx errors (the execution fails or the role cannot be used), PG2xx warnings (risk, or
    could not be checked), PG3xx suggestions (works, could be tighter)."""

    ERROR = "error"
    WARNING = "warning"
    SUGGESTION = "suggestion"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "suggestion": 1}[self.value]


_SEVERITY_BY_DIGIT = {"1": Severity.ERROR, "2": Severity.WARNING, "3": Severity.SUGGESTION}


@dataclass(frozen=True)
class RuleDoc:
    what: str
    why: str
    bad: str
    good: str
    fix: str


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    summary: str
    message: str  # a str.format template over the finding's fields
    source: str
    doc: RuleDoc

    @cached_property  # asked for every finding made
    def fields(self) -> frozenset[str]:
        return frozenset(name for _, name, _, _ in string.Formatter().parse(self.message) if name)

    def format(self, **fields: Any) -> str:
        return self.message.format(**fields)


@lru_cache(maxsize=1)
def all_rules() -> dict[str, Rule]:
    """Every rule, by id, in id order."""
    found: dict[str, Rule] = {}
    # The YAML files name the rules; their data comes from the compiled twins (rules_data).
    for path in sorted((rules_directory() / "lint").glob("PG*.yaml")):
        rule = _rule(load_rules(f"lint/{path.name}"), path.name)
        found[rule.id] = rule
    return found


def rule(rule_id: str) -> Rule:
    return all_rules()[rule_id]


def _rule(data: Any, file_name: str) -> Rule:
    """One rule file, checked: a broken rule file is a bug in policygen, not in the user's input."""
    if not isinstance(data, dict):
        raise ValueError(f"rules/lint/{file_name}: expected a mapping")
    rule_id = data.get("id")
    match = _ID.match(str(rule_id))
    if match is None or file_name != f"{rule_id}.yaml":
        raise ValueError(f"rules/lint/{file_name}: id {rule_id!r} must be PG<digit><digit><digit> and match the file name")
    severity = Severity(data["severity"])
    if _SEVERITY_BY_DIGIT[match[1]] is not severity:
        raise ValueError(f"rules/lint/{file_name}: PG{match[1]}xx rules are {_SEVERITY_BY_DIGIT[match[1]].value}s, not {severity.value}s")
    doc = data.get("doc") or {}
    missing = [name for name in _DOC_FIELDS if not str(doc.get(name, "")).strip()]
    if missing:
        raise ValueError(f"rules/lint/{file_name}: doc lacks {', '.join(missing)}")
    return Rule(
        id=rule_id,
        name=data["name"],
        severity=severity,
        summary=data["summary"],
        message=data["message"],
        source=data["source"],
        doc=RuleDoc(**{name: str(doc[name]).strip() for name in _DOC_FIELDS}),
    )
