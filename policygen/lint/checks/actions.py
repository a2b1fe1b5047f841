"""PG104: actions that do not exist."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from policygen.iam import catalog
from policygen.iam.policy import Statement
from policygen.lint.checks.common import CheckerBase
from policygen.lint.findings import Finding, StatementFix, make_finding


class ActionChecks(CheckerBase):
    """PG104."""

    def unknown_actions(self) -> Iterable[Finding]:
        for document in self.documents:
            for statement in document.statements:
                element = "NotAction" if statement.actions_negated else "Action"
                for index, pattern in enumerate(statement.actions):
                    # " batch:SubmitJob" is no action at all (IAM does not trim): judged by its service.
                    prefix = pattern.strip().partition(":")[0].lower()
                    if pattern == "*" or not catalog.has_service(prefix):
                        continue
                    if catalog.expand_action_pattern(pattern):
                        continue
                    suffix = f"/{element}" + (f"/{index}" if len(statement.actions) > 1 or not self._single_string(statement) else "")
                    yield make_finding(
                        "PG104",
                        self.statement_location(statement.ref, suffix),
                        {"action": pattern, "service": prefix, "suggestion": _closest_action(pattern.strip())},
                        refs=(statement.ref,),
                        fixes=(StatementFix(statement.ref, (pattern,)),),
                    )

    @staticmethod
    def _single_string(statement: Statement) -> bool:
        return len(statement.actions) == 1  # a one-entry list and a string both point at the element


def _closest_action(pattern: str) -> str:
    prefix, _, name = pattern.partition(":")
    try:
        names = sorted(catalog.action_names(prefix.lower()))
    except KeyError:
        return ""
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    if not close:
        lowered = {n.lower(): n for n in names}
        close = [lowered[m] for m in difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)]
    return f"; did you mean {prefix.lower()}:{close[0]}?" if close else ""
