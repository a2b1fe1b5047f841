"""A role's identity policies prepared for many requests: statements indexed by action, and each
distinct request decided once.

Linting thousands of states asks the same few hundred requests again and again, each against every
statement: `evaluate` alone costs requests x statements. A PolicySet looks only at the statements
whose Action or NotAction covers the request's action, and remembers each answer, so the cost grows
with the distinct requests and the statements that can apply to them. Its answers are `evaluate`'s:
a statement left out is one whose action test fails, and such a statement never applies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from policygen.iam.evaluate import action_element_matches, allows_only_under_conditions, evaluate_statements
from policygen.iam.policy import Effect, PolicyDocument, Statement
from policygen.iam.request import Evaluation, Request
from policygen.iam.wildcard import fold_case


def _has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


class ActionIndex:
    """Which statements can cover an action, found without testing every statement.

    An Action pattern without wildcards covers one action name (compared with case folded); one
    whose service prefix (before the first colon) has none covers only actions of that service;
    the rest (`*`, `bat*:x`), and every NotAction statement, may cover any action. The buckets
    only narrow the search: each statement found is still tested with the evaluator's own
    `action_element_matches`, so an index that keeps too much costs time, never correctness."""

    def __init__(self, statements: Sequence[Statement]):
        self._statements = tuple(statements)
        self._by_name: dict[str, set[int]] = {}
        self._by_service: dict[str, set[int]] = {}
        self._anywhere: set[int] = set()
        for position, statement in enumerate(self._statements):
            self._file(position, statement)
        self._covering: dict[str, tuple[Statement, ...]] = {}

    def _file(self, position: int, statement: Statement) -> None:
        if statement.actions_negated:
            self._anywhere.add(position)
            return
        for pattern in statement.actions:
            folded = fold_case(pattern)
            service, colon, _ = folded.partition(":")
            if not _has_wildcard(folded):
                self._by_name.setdefault(folded, set()).add(position)
            elif colon and not _has_wildcard(service):
                self._by_service.setdefault(service, set()).add(position)
            else:
                self._anywhere.add(position)

    def covering(self, action: str) -> tuple[Statement, ...]:
        """The statements whose Action/NotAction covers `action`, in policy order."""
        found = self._covering.get(action)
        if found is None:
            found = tuple(
                self._statements[position]
                for position in sorted(self._candidates(action))
                if action_element_matches(self._statements[position], action)
            )
            self._covering[action] = found
        return found

    def _candidates(self, action: str) -> set[int]:
        folded = fold_case(action)
        service = folded.partition(":")[0]
        return self._anywhere | self._by_name.get(folded, set()) | self._by_service.get(service, set())


class PolicySet:
    """The policies of one role (or one variant of them, such as the linter's opened ARNs), asked
    many requests. Every answer is remembered: a PolicySet lives as long as one lint of one role."""

    def __init__(self, policies: Iterable[PolicyDocument]):
        self.policies = tuple(policies)
        self._index = ActionIndex([statement for policy in self.policies for statement in policy.statements])
        self._evaluations: dict[Request, Evaluation] = {}
        self._held_back: dict[Request, tuple[Statement, ...]] = {}

    def evaluate(self, request: Request) -> Evaluation:
        """`evaluate(request, self.policies)`, worked out once per distinct request."""
        evaluation = self._evaluations.get(request)
        if evaluation is None:
            evaluation = evaluate_statements(request, self._index.covering(request.action), actions_covered=True)
            self._evaluations[request] = evaluation
        return evaluation

    def allowing(self, action: str) -> tuple[Statement, ...]:
        """The Allow statements whose Action/NotAction covers `action` (resources and conditions
        aside), in policy order."""
        return tuple(statement for statement in self._index.covering(action) if statement.effect is Effect.ALLOW)

    def allowing_but_for_conditions(self, request: Request) -> tuple[Statement, ...]:
        """The Allow statements that cover the request's action and resource but whose Condition
        does not certainly hold (`allows_only_under_conditions`), in policy order."""
        found = self._held_back.get(request)
        if found is None:
            found = tuple(
                statement
                for statement in self._index.covering(request.action)
                if allows_only_under_conditions(statement, request)
            )
            self._held_back[request] = found
        return found
