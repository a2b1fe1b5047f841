"""PG206: statement ids used twice in one policy."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from policygen.iam.policy import statement_items
from policygen.lint.checks.common import CheckerBase, numbered
from policygen.lint.findings import Finding, TrustPolicy, make_finding


class SidChecks(CheckerBase):
    """PG206."""

    def duplicate_sids(self) -> Iterable[Finding]:
        """"In IAM, the Sid value must be unique within a JSON policy" (IAM JSON policy elements:
        Sid). Each policy document of the role, and its trust policy, on its own."""
        for document in self.documents:
            for sid, indexes in _repeated_sids((s.ref.index, s.ref.sid) for s in document.statements).items():
                refs = tuple(document.statements[index].ref for index in indexes)
                yield make_finding(
                    "PG206",
                    refs[1].location,
                    {"sid": sid, "statements": numbered(indexes, document.source)},
                    refs=refs,
                    related=tuple(ref.location for ref in refs),
                )
        trust = self.role.trust
        if trust is not None:
            yield from _duplicate_trust_sids(trust)


def _duplicate_trust_sids(trust: TrustPolicy) -> Iterable[Finding]:
    """PG206 for the trust policy as loaded (a malformed one is reported by the trust checks)."""
    items = statement_items(trust.data.get("Statement")) if isinstance(trust.data, dict) else None
    if items is None:
        return
    sids = ((index, item.get("Sid")) for index, _, item in items if isinstance(item, dict))
    for sid, indexes in _repeated_sids(sids).items():
        yield make_finding(
            "PG206",
            trust.locate(f"/Statement/{indexes[1]}"),
            {"statements": numbered(indexes, trust.source), "sid": sid},
            related=tuple(trust.locate(f"/Statement/{index}") for index in indexes),
        )


def _repeated_sids(sids: Iterable[tuple[int, Any]]) -> dict[str, list[int]]:
    """Sid -> the positions of the statements that use it, for Sids used more than once."""
    by_sid: dict[str, list[int]] = {}
    for index, sid in sids:
        if isinstance(sid, str):
            by_sid.setdefault(sid, []).append(index)
    return {sid: indexes for sid, indexes in by_sid.items() if len(indexes) > 1}
