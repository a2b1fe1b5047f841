"""Suppressions where the code is: a template resource's `Metadata.policygen.ignore` (CDK writes it
with `addMetadata`) suppresses findings of the listed rules located on that resource.

    Metadata:
      policygen:
        ignore:
          - {id: PG302, reason: "the role is assumed by one state machine in this account"}

Only a state machine, role or policy resource (the types below) can suppress, and only findings
whose location is inside it: its states, its statements, its trust policy. A suppressed finding is
still reported (SARIF `suppressions`, JSON `suppressed`, counted in the text summary) and never
fails the run. An entry without a reason still suppresses, with a warning; an entry that names no
known rule, or is malformed, suppresses nothing and is a warning."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from policygen.errors import Location, Notice, one_line
from policygen.lint.findings import Finding
from policygen.load.asl import StateMachine
from policygen.load.document import Document, escape_pointer_token, split_pointer
from policygen.load.template import CLOUDFORMATION, SAM

SUPPRESSIBLE_TYPES = frozenset({
    "AWS::StepFunctions::StateMachine", "AWS::Serverless::StateMachine",
    "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy",
})


@dataclass(frozen=True)
class Suppression:
    rule_id: str
    reason: str | None
    resource: str  # the logical id of the resource whose Metadata holds it
    location: Location


@dataclass(frozen=True)
class Suppressed:
    finding: Finding
    suppression: Suppression


@dataclass(frozen=True)
class Suppressions:
    by_resource: dict[tuple[str, str], dict[str, Suppression]]  # (file, logical id) -> rule id -> entry
    notices: tuple[Notice, ...]

    def split(self, findings: Iterable[Finding]) -> tuple[tuple[Finding, ...], tuple[Suppressed, ...]]:
        """The findings still reported, and those a suppression covers."""
        kept: list[Finding] = []
        suppressed: list[Suppressed] = []
        for finding in findings:
            suppression = self.covering(finding)
            if suppression is None:
                kept.append(finding)
            else:
                suppressed.append(Suppressed(finding, suppression))
        return tuple(kept), tuple(suppressed)

    def covering(self, finding: Finding) -> Suppression | None:
        location = finding.location
        if location is None or not location.pointer:
            return None
        tokens = split_pointer(location.pointer)
        if len(tokens) < 2 or tokens[0] != "Resources":
            return None
        return self.by_resource.get((location.file, tokens[1]), {}).get(finding.rule.id)


def template_suppressions(machines: Sequence[StateMachine], known_rules: Iterable[str]) -> Suppressions:
    """The suppressions in the CloudFormation/SAM templates the machines come from, each template once."""
    known = frozenset(known_rules)
    documents: dict[str, Document] = {}
    for machine in machines:
        template = machine.template
        if template is not None and template.kind in (CLOUDFORMATION, SAM) and template.document is not None:
            documents.setdefault(template.document.name, template.document)
    by_resource: dict[tuple[str, str], dict[str, Suppression]] = {}
    notices: list[Notice] = []
    for name, document in documents.items():
        resources = document.data.get("Resources") if isinstance(document.data, dict) else None
        if not isinstance(resources, dict):
            continue
        for logical_id, resource in resources.items():
            entries = _resource_suppressions(document, str(logical_id), resource, known, notices)
            if entries:
                by_resource[(name, str(logical_id))] = entries
    return Suppressions(by_resource, tuple(notices))


def _resource_suppressions(
    document: Document, logical_id: str, resource: Any, known: frozenset[str], notices: list[Notice]
) -> dict[str, Suppression]:
    metadata = resource.get("Metadata") if isinstance(resource, dict) else None
    if not isinstance(metadata, dict) or "policygen" not in metadata:
        return {}
    base = f"/Resources/{escape_pointer_token(logical_id)}/Metadata/policygen"
    if resource.get("Type") not in SUPPRESSIBLE_TYPES:
        notices.append(Notice(
            f"Metadata.policygen on {one_line(logical_id)} ({resource.get('Type')!s}) suppresses nothing: only a state "
            "machine, role or policy resource can suppress the findings located on it",
            document.location(base),
        ))
        return {}
    section = metadata["policygen"]
    ignore = section.get("ignore") if isinstance(section, dict) else None
    if not isinstance(ignore, list) or not isinstance(section, dict) or set(section) - {"ignore"}:
        notices.append(Notice(
            "Metadata.policygen suppresses nothing: expected {ignore: [{id: PGxxx, reason: ...}]}", document.location(base)
        ))
        return {}
    entries: dict[str, Suppression] = {}
    for index, entry in enumerate(ignore):
        location = document.location(f"{base}/ignore/{index}")
        suppression = _entry(entry, logical_id, location, known, notices)
        if suppression is not None:
            entries.setdefault(suppression.rule_id, suppression)
    return entries


def _entry(entry: Any, logical_id: str, location: Location, known: frozenset[str], notices: list[Notice]) -> Suppression | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or set(entry) - {"id", "reason"}:
        notices.append(Notice("suppression ignored: expected {id: PGxxx, reason: \"...\"}", location))
        return None
    rule_id = entry["id"].strip().upper()
    if rule_id not in known:
        notices.append(Notice(f"suppression of unknown rule {one_line(entry['id'])!r} suppresses nothing", location))
        return None
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        notices.append(Notice(f"suppression of {rule_id} on {one_line(logical_id)} gives no reason: say why it is safe", location))
        reason = None
    return Suppression(rule_id, reason.strip() if reason else None, logical_id, location)
