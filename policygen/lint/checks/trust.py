"""PG105/PG106/PG302: the trust policy, who may assume the role."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from policygen.iam.evaluate import statement_allows_action
from policygen.lint.checks.common import CheckerBase
from policygen.lint.checks.trust_policy import (
    CONFUSED_DEPUTY_KEYS,
    open_trust_statements,
    read_trust,
)
from policygen.lint.checks.trust_probes import assumable
from policygen.lint.findings import Finding, make_finding


class TrustChecks(CheckerBase):
    """PG105, PG106, PG203, PG302."""

    # --- PG105/PG106/PG203/PG302: the trust policy

    def trust(self, machine_arns: Sequence[str]) -> Iterable[Finding]:
        trust = self.role.trust
        if trust is None:
            return
        statements = read_trust(trust)
        yield from open_trust_statements(trust, statements)
        yield from assumable(trust, statements, self.target, machine_arns)
        for statement in statements:
            if statement.may_admit_states(self.target.region, self.target.partition) and statement_allows_action(statement.statement, "sts:AssumeRole"):
                keys = {test.key.lower() for test in statement.statement.conditions}
                if not keys & set(CONFUSED_DEPUTY_KEYS):
                    ref = statement.statement.ref
                    yield make_finding("PG302", ref.location, refs=(ref,))
