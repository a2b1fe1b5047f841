"""PG101/PG102/PG103/PG203/PG205: what the states request, and how the role answers each request."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from policygen.iam.arns import arn_parts
from policygen.iam.policy import StatementRef
from policygen.iam.policy_set import PolicySet
from policygen.iam.request import Decision
from policygen.lint.checks.common import (
    Answer,
    Asked,
    CheckerBase,
    Outcome,
    _consequence,
    _open_parts,
    _shown,
    _unchecked,
    arn_differences,
    event_actions,
    integration,
    unnamed_reason,
    wildcard_match,
    works_by_some_source,
)
from policygen.lint.findings import (
    Finding,
    StatementFix,
    describe_statements,
    make_finding,
)
from policygen.requirements.requests import Access
from policygen.scan import BatchTask


class RequestChecks(CheckerBase):
    """PG101, PG102, PG103, PG203, PG205."""

    def outcome(self, access: Access) -> Outcome:
        """How the role answers the access: worked out once for all the states that ask the same,
        with an Outcome of its own for each, which classifying fills in."""
        asked = Asked.of(access)
        answer = self.answers.get(asked)
        if answer is None:
            answer = self.answers[asked] = self.answer(asked)
        return Outcome(access, answer.decision, answer.evaluations, {"reason": answer.reason} if answer.reason else None)

    def answer(self, asked: Asked) -> Answer:
        parts = _open_parts(asked)
        answer = self.decide(asked, self.opened_policies if parts else self.role_policies)
        if parts and answer.decision is not Decision.EXPLICIT_DENY:
            widened = self.decide(asked, self.opened_deny_policies)
            if widened.decision is Decision.EXPLICIT_DENY:
                denials = {ref for evaluation in widened.evaluations for ref in evaluation.denied_by}
                reason = f"{describe_statements(sorted(denials, key=lambda r: (r.source, r.index)))} denies it in some " + " and ".join(sorted(parts)) + "s"
                return Answer(Decision.UNKNOWN, widened.evaluations, reason)
        return answer

    @staticmethod
    def decide(asked: Asked, policies: PolicySet) -> Answer:
        evaluations = tuple(policies.evaluate(request) for request in asked.requests())
        decisions = {evaluation.decision for evaluation in evaluations}
        for decision in (Decision.ALLOWED, Decision.UNKNOWN, Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY):
            if decision in decisions:
                return Answer(decision, evaluations)
        raise AssertionError("an access has at least one resource")

    def requests(self) -> Iterable[Finding]:
        grouped: dict[tuple[int, str, str], list[Outcome]] = {}
        order: list[tuple[int, str, str]] = []
        task_index = {id(task): index for index, task in enumerate((*self.tasks, *self.services))}
        for access in self.accesses:
            outcome = self.outcome(access)
            if outcome.decision is Decision.ALLOWED:
                continue
            rule_id, outcome.detail = self.classify(outcome)
            # One finding per state and action; the managed rule's actions go together in PG103.
            # A need of the state machine itself (a feature, not a Task state) comes after the states.
            key = (task_index.setdefault(id(access.task), len(task_index)), "events" if rule_id == "PG103" else access.action, rule_id)
            if key not in grouped:
                order.append(key)
            grouped.setdefault(key, []).append(outcome)
        for (index, action), outcomes in self.disputed_failures(grouped).items():
            key = (index, action, "PG205")
            order.append(key)
            grouped[key] = outcomes
        for key in order:
            if grouped[key]:
                yield self.request_finding(key[2], grouped[key])

    @staticmethod
    def disputed_failures(grouped: dict[tuple[int, str, str], list[Outcome]]) -> dict[tuple[int, str], list[Outcome]]:
        """Take out of PG101/PG102 the refused resources that AWS's documents disagree about, unless
        together they make the call fail by every document that speaks about them: those become
        PG205, a warning citing both sides (rules/integrations/batch.yaml, `disputed`)."""
        disputed: dict[tuple[int, str], list[Outcome]] = {}
        for (index, action, rule_id), outcomes in grouped.items():
            if rule_id in ("PG101", "PG102"):
                disputed.setdefault((index, action), []).extend(o for o in outcomes if o.access.dispute is not None)
        found: dict[tuple[int, str], list[Outcome]] = {}
        for (index, action), outcomes in disputed.items():
            if not outcomes or not works_by_some_source(outcomes):
                continue
            for rule_id in ("PG101", "PG102"):
                kept = grouped.get((index, action, rule_id))
                if kept is not None:
                    taken = {id(outcome) for outcome in outcomes}
                    kept[:] = [outcome for outcome in kept if id(outcome) not in taken]
            found[(index, action)] = outcomes
        return found

    def classify(self, outcome: Outcome) -> tuple[str, dict | None]:
        access = outcome.access
        if outcome.detail is not None:
            return "PG203", outcome.detail
        credentials = getattr(access.task, "credentials", None)
        if credentials is not None:
            # Step Functions makes this call as the role in Credentials, not as the execution role.
            return "PG203", {
                "reason": f"the state calls {_called(access)} with the credentials of another role ({credentials.text}), "
                "which makes this request; policygen does not read that role"
            }
        if outcome.decision is Decision.EXPLICIT_DENY:
            return "PG102", None
        if outcome.decision is Decision.UNKNOWN:
            reasons = [reason for evaluation in outcome.evaluations for _, reason in evaluation.uncertain]
            return "PG203", {"reason": "; ".join(dict.fromkeys(reasons)) or "the evaluator cannot decide"}
        unread = self.role.unread_for(access.action)
        if unread:
            return "PG203", {"reason": f"the role also has {', '.join(unread)}, which policygen cannot read offline"}
        if access.action.startswith("events:"):
            misplaced = self.misplaced_rule_grants(access)
            if misplaced:
                return "PG103", misplaced
        if not access.exact and self.role_policies.allowing(access.action):
            return "PG203", {"reason": unnamed_reason(access)}
        return "PG101", None

    def misplaced_rule_grants(self, access: Access) -> dict | None:
        """The Allow statements that give this EventBridge action on another rule ARN, and how it differs."""
        wanted = arn_parts(access.resources[0])
        statements: list[StatementRef] = []
        granted: list[str] = []
        differences: list[str] = []
        # A grant on another state's managed rule (ECS's beside Batch's) is that state's, not misplaced.
        others = {resource for other in self.accesses if other.action == access.action for resource in other.resources} - set(access.resources)
        for statement in self.role_policies.allowing(access.action):
            if statement.resources_negated:
                continue
            for pattern in statement.resources:
                parts = arn_parts(pattern)
                if len(parts) != 6 or parts[0] != "arn" or not wildcard_match(parts[2], "events"):
                    continue
                found = arn_differences(parts, wanted, self.open_parts)
                if found and not any(wildcard_match(pattern, other) for other in others):
                    statements.append(statement.ref)
                    granted.append(_shown(pattern))
                    differences.extend(found)
        if not statements:
            return None
        return {
            "statements": tuple(dict.fromkeys(statements)),
            "granted": ", ".join(dict.fromkeys(granted)),
            "difference": ", ".join(dict.fromkeys(differences)),
        }

    def refused_by_conditions(self, outcomes: list[Outcome]) -> str:
        """Why a state's own queue, definition or tags are refused when a statement seems to grant
        them: a tag or share-identifier condition the request does not meet (issue 4's lint side)."""
        # States asking the same get the same text, worked out once; a request asked twice adds
        # nothing to it (first occurrences are kept).
        asked = tuple(dict.fromkeys(Asked.of(outcome.access) for outcome in outcomes))
        found = self.refusals.get(asked)
        if found is None:
            found = self.refusals[asked] = self.describe_refusal_by_conditions(asked)
        return found

    def describe_refusal_by_conditions(self, asked: tuple[Asked, ...]) -> str:
        refs: list[StatementRef] = []
        keys: list[str] = []
        for request in dict.fromkeys(request for each in asked for request in each.requests()):
            for statement in self.role_policies.allowing_but_for_conditions(request):
                refs.append(statement.ref)
                keys.extend(test.key for test in statement.conditions)
        if not refs:
            return ""
        return (
            f" ({describe_statements(dict.fromkeys(refs))} would allow it but for its conditions on "
            f"{', '.join(dict.fromkeys(keys))}, which the state's request does not meet)"
        )

    def resource_level_refusal(self, access: Access) -> str:
        """Why Allow statements for an action without resource-level permissions do not allow it:
        they name resources other than "*", which IAM never matches for such an action."""
        if not access.resourceless:
            return ""
        refs = [statement.ref for statement in self.role_policies.allowing(access.action)]
        if not refs:
            return ""
        name = access.action.partition(":")[2]
        return (
            f" ({describe_statements(dict.fromkeys(refs))} names other resources; {name} supports no "
            'resource-level permissions: IAM matches it only with Resource "*")'
        )

    def request_finding(self, rule_id: str, outcomes: list[Outcome]) -> Finding:
        access = outcomes[0].access
        task = access.task
        resources = ", ".join(dict.fromkeys(_shown(p) for outcome in outcomes for p in outcome.access.patterns))
        parts = {part for outcome in outcomes for part in _open_parts(outcome.access)}
        fields: dict[str, Any] = {
            "state": task.path,
            "integration": integration(task),
            "action": ", ".join(dict.fromkeys(outcome.access.action for outcome in outcomes)),
            "resources": resources,
            "unchecked": _unchecked(parts),
            "subject": f"state {task.path!r} ({integration(task)})",
            "policy": "the role",
        }
        statements: tuple[StatementRef, ...] = ()
        fixes: tuple[StatementFix, ...] = ()
        if rule_id == "PG101":
            fields["consequence"] = _consequence(access.action)
            fields["detail"] = self.refused_by_conditions(outcomes) or self.resource_level_refusal(access)
            if all(outcome.access.dispute is not None for outcome in outcomes):
                fields["detail"] += (
                    " (AWS's documents disagree which of these resources the call checks, but each of them "
                    "requires one that the role does not allow)"
                )
        elif rule_id == "PG205":
            disputes = list(dict.fromkeys(outcome.access.dispute for outcome in outcomes))
            fails = [url for dispute in disputes for url in dispute.required_by]
            works = [url for dispute in disputes for url in dispute.not_required_by if url not in fails]
            fields["why"] = "; ".join(dispute.why for dispute in disputes)
            fields["fails_per"] = ", ".join(dict.fromkeys(fails))
            fields["works_per"] = ", ".join(dict.fromkeys(works))
        elif rule_id == "PG102":
            statements = tuple(
                dict.fromkeys(ref for outcome in outcomes for evaluation in outcome.evaluations for ref in evaluation.denied_by)
            )
            fields["statements"] = describe_statements(statements)
            fixes = tuple(StatementFix(ref) for ref in statements)
        else:
            detail = outcomes[0].detail or {}
            if rule_id == "PG103":
                statements = detail["statements"]
                fields.update(detail, statements=describe_statements(statements))
                fixes = tuple(StatementFix(ref, tuple(a for a in event_actions(ref, self.documents))) for ref in statements)
            else:
                fields["reason"] = "; ".join(dict.fromkeys((outcome.detail or {})["reason"] for outcome in outcomes))
        related = tuple(dict.fromkeys(ref.location for ref in statements))
        if not related and self.role.location is not None:
            related = (self.role.location,)
        return make_finding(
            rule_id, self.locate_task(task), fields, task=task, refs=statements, related=related, fixes=fixes
        )


def _called(access: Access) -> str:
    """What a state with Credentials calls as another role: "Batch", or its integration."""
    task = access.task
    return "Batch" if isinstance(task, BatchTask) else integration(task)

