"""A cfn-lint plugin: `cfn-lint -a policygen.cfnlint template.yaml` reports policygen's lint findings
for each template cfn-lint checks, as cfn-lint rules (docs/lint-output.md, "cfn-lint").

Each policygen rule becomes one cfn-lint rule whose id keeps the number and takes its letter from
the severity: PG1xx errors -> E91xx, PG2xx warnings -> W92xx, PG3xx suggestions -> I93xx. E9000 is a
template policygen could not read, W9000 a policygen warning (a state or role it could not check).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from dataclasses import dataclass

from cfnlint.rules import CloudFormationLintRule, RuleMatch

from policygen.errors import Location, Notice, PolicygenError, one_line
from policygen.lint.rules import Rule, Severity, all_rules

_LETTERS = {Severity.ERROR: "E", Severity.WARNING: "W", Severity.SUGGESTION: "I"}
UNREADABLE_ID = "E9000"
NOTICE_ID = "W9000"
_STATE_MACHINE_TYPES = ("AWS::StepFunctions::StateMachine", "AWS::Serverless::StateMachine")


def cfn_lint_id(rule: Rule) -> str:
    """PG101 -> E9101: cfn-lint's severity is the id's first letter."""
    return f"{_LETTERS[rule.severity]}9{rule.id.removeprefix('PG')}"


@dataclass(frozen=True)
class Reported:
    """One line of policygen's report on a template, under the cfn-lint id it is reported as."""

    rule_id: str
    message: str
    location: Location | None


@functools.lru_cache(maxsize=4)
def _report(filename: str) -> tuple[Reported, ...]:
    """policygen's lint of one template, run once however many of the rules below ask for it."""
    from policygen.pipeline_lint import LintRequest, lint_files

    notices: list[Notice] = []
    try:
        result = lint_files(LintRequest((filename,), environment=os.environ), notices.extend)
    except PolicygenError as error:
        return (*_notices(notices), Reported(UNREADABLE_ID, f"policygen could not lint the template: {error.message}", error.location))
    findings = tuple(
        Reported(cfn_lint_id(finding.rule), f"{finding.rule.id} {finding.message}", finding.location)
        for finding in result.findings
    )
    return (*_notices(notices), *findings)


def _notices(notices: Iterable[Notice]) -> tuple[Reported, ...]:
    return tuple(Reported(NOTICE_ID, f"policygen: {notice.message}", notice.location) for notice in notices)


def _match(reported: Reported, filename: str) -> RuleMatch:
    """A match at the finding's line (cfn-lint counts from 0); a finding elsewhere or without a line
    stands at the template's first line and says where it is."""
    location = reported.location
    message = one_line(reported.message)
    if location is None or location.line is None or location.file != filename:
        where = f" ({location})" if location is not None and location.file != filename else ""
        return RuleMatch([], message + one_line(where), location=(0, 0, 0, 0))
    line, column = location.line - 1, max((location.column or 1) - 1, 0)
    return RuleMatch([], message, location=(line, column, line, column))


class _PolicygenRule:
    """What every rule below shares: it reports the lines of policygen's report under its own id.
    Not a CloudFormationLintRule itself, so that cfn-lint does not load it as a rule."""

    id: str
    tags = ["policygen", "iam", "stepfunctions", "batch"]

    def match(self, cfn) -> list[RuleMatch]:
        filename = cfn.filename
        if not filename or not os.path.isfile(filename):
            # policygen reads files: a template on stdin is said to go unchecked, once.
            if self.id == NOTICE_ID:
                return [RuleMatch([], "policygen: the template is not a file, so it was not checked", location=(0, 0, 0, 0))]
            return []
        if not _has_state_machine(cfn.template):
            return []  # policygen has nothing to check, and would only say so
        return [_match(reported, filename) for reported in _report(filename) if reported.rule_id == self.id]


def _has_state_machine(template) -> bool:
    resources = template.get("Resources") if isinstance(template, dict) else None
    if not isinstance(resources, dict):
        return False
    return any(isinstance(resource, dict) and resource.get("Type") in _STATE_MACHINE_TYPES for resource in resources.values())


def _rule_class(rule_id: str, shortdesc: str, description: str) -> type:
    # No source_url: the project has no public home yet, and a link to a page that does not exist
    # is worse than none (as in the SARIF report).
    attributes = {"id": rule_id, "shortdesc": shortdesc, "description": description}
    return type(f"Policygen{rule_id}", (_PolicygenRule, CloudFormationLintRule), attributes)


def _rule_classes() -> dict[str, type]:
    classes = {
        f"Policygen{UNREADABLE_ID}": _rule_class(UNREADABLE_ID, "policygen could not lint the template", "The template could not be read or is not one policygen can check."),
        f"Policygen{NOTICE_ID}": _rule_class(NOTICE_ID, "policygen warning", "A state or role policygen could not check in full, or input it skipped."),
    }
    for rule in all_rules().values():
        the_class = _rule_class(cfn_lint_id(rule), f"{rule.id} {rule.name}", one_line(rule.summary))
        classes[the_class.__name__] = the_class
    return classes


# cfn-lint loads every CloudFormationLintRule subclass it finds among a module's names.
globals().update(_rule_classes())
