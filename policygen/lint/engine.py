"""Requirements + evaluation + rules -> findings: does a role give the Batch states what they need,
and no more?

The requests come from `requirements.requests_of` (the one permission table); whether the role
allows each of them comes from `evaluate.py`, never from comparing strings. The rules (ids,
severities, message templates) are data in rules/lint/ (`lint_rules.py`).
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from policygen.iam import catalog
from policygen.iam import wildcard
from policygen.errors import Location
from policygen.iam.evaluate import (
    Decision,
    Effect,
    Evaluation,
    PolicyDocument,
    Request,
    Statement,
    StatementRef,
    allows_only_under_conditions,
    evaluate,
    parse_policy,
    statement_allows_action,
)
from policygen.lint.rules import Rule, Severity, rule
from policygen.requirements.needs import ANY_NAME, UNKNOWN_ACCOUNT, UNKNOWN_REGION, Access, requests_of
from policygen.scan import BatchTask, FieldValue, Pattern, ValueKind
from policygen.requirements.target import Target

# docs/aws-facts.md#managed-eventbridge-rule: the rule name Step Functions uses for Batch .sync is fixed.
MANAGED_RULE = "StepFunctionsGetEventsForBatchJobsRule"
STATES_PRINCIPAL = "states.amazonaws.com"
_CONFUSED_DEPUTY_KEYS = ("aws:sourceaccount", "aws:sourcearn")  # docs/aws-facts.md#confused-deputy

Locate = Callable[[str], Location]


# ---------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class PolicySource:
    """One policy document of the role, and how to find a JSON pointer inside it."""

    document: PolicyDocument
    locate: Locate = field(compare=False)
    data: Any = field(default=None, compare=False, repr=False)  # as loaded, for --fix


@dataclass(frozen=True)
class TrustPolicy:
    """The role's trust policy as loaded (Principal and all: evaluate.py models identity policies)."""

    data: Any
    source: str
    locate: Locate = field(compare=False)


@dataclass(frozen=True)
class Role:
    """The execution role: its permission policies, its trust policy when known, and the attached
    policies policygen cannot read (an AWS managed policy named by ARN)."""

    name: str
    policies: tuple[PolicySource, ...]
    trust: TrustPolicy | None = None
    unreadable: tuple[str, ...] = ()
    location: Location | None = None


def policy_source(data: Any, source: str, locate: Locate) -> PolicySource:
    """A loaded policy document as a PolicySource (InputError when it is malformed)."""
    return PolicySource(parse_policy(data, source, locate), locate, data)


# ---------------------------------------------------------------------------------------------
# Findings


@dataclass(frozen=True)
class StatementFix:
    """What --fix does with a flagged statement: drop it, or only some of its actions."""

    statement: StatementRef
    actions: tuple[str, ...] | None = None  # None: the whole statement


@dataclass(frozen=True)
class Finding:
    rule: Rule
    message: str
    location: Location | None
    task: BatchTask | None = field(default=None, compare=False)  # the state the finding is about
    refs: tuple[StatementRef, ...] = ()  # the policy statements it is about
    related: tuple[Location, ...] = ()
    fixes: tuple[StatementFix, ...] = ()

    @property
    def severity(self) -> Severity:
        return self.rule.severity

    def sort_key(self) -> tuple:
        location = self.location or Location("")
        return (location.file, location.line or 0, location.column or 0, location.pointer or "", self.rule.id, self.message)


def make_finding(rule_id: str, location: Location | None, fields: dict[str, Any] | None = None, **attributes: Any) -> Finding:
    """A finding of `rule_id` whose message is the rule's template filled with `fields`; the
    template's {statements} names the finding's `refs` unless given."""
    the_rule = rule(rule_id)
    fields = dict(fields or {})
    if "statements" in the_rule.fields and "statements" not in fields:
        fields["statements"] = _describe_statements(attributes.get("refs", ()))
    return Finding(the_rule, the_rule.format(**fields), location, **attributes)


# ---------------------------------------------------------------------------------------------
# Linting one role against the Batch states that use it


def lint_role(
    tasks: Sequence[BatchTask],
    role: Role,
    target: Target,
    locate_task: Callable[[BatchTask], Location],
    machine_arns: Sequence[str] = (),
) -> list[Finding]:
    """Every finding for `role`, used by the state machine(s) `tasks` come from, in a stable order.

    `machine_arns`: the state machines' ARNs as far as known, for the trust policy's
    aws:SourceArn (an unknown region or account as UNKNOWN_REGION/UNKNOWN_ACCOUNT, an unknown name
    empty); without them, one state machine of unknown name in the target's region and account."""
    checker = _Checker(tuple(tasks), role, target, locate_task)
    findings = [
        *checker.unknown_actions(),
        *checker.requests(),
        *checker.broad_and_unneeded(),
        *checker.duplicate_sids(),
        *checker.trust(machine_arns),
    ]
    return sorted(set(findings), key=Finding.sort_key)


def _open_policy(document: PolicyDocument, parts: frozenset[str], effects: frozenset[Effect]) -> PolicyDocument:
    """The policy with the region and/or account of the Resource ARNs of its `effects` statements
    left open (`*`): how the linter matches requests whose region or account it was not told."""
    if not parts:
        return document

    def open_arn(pattern: str) -> str:
        pieces = pattern.split(":", 5)
        if len(pieces) != 6 or pieces[0] != "arn":
            return pattern
        if "region" in parts:
            pieces[3] = "*"
        if "account" in parts:
            pieces[4] = "*"
        return ":".join(pieces)

    statements = tuple(
        replace(s, resources=tuple(open_arn(p) for p in s.resources)) if s.effect in effects else s
        for s in document.statements
    )
    return replace(document, statements=statements)


def _describe_statements(refs: Iterable[StatementRef]) -> str:
    names = []
    for ref in refs:
        name = f'statement "{ref.sid}"' if ref.sid else f"statement {ref.index}"
        names.append(f"{name} of {ref.source}")
    unique = list(dict.fromkeys(names))
    return unique[0] if len(unique) == 1 else ", ".join(unique[:-1]) + " and " + unique[-1]


def _shown(pattern: str) -> str:
    """A resource pattern as messages show it: unknown region/account as <region>/<account>, a
    template's deploy-time reference as <Ref Name>."""
    shown = pattern.replace(UNKNOWN_REGION, "<region>").replace(UNKNOWN_ACCOUNT, "<account>")
    return re.sub(r"policygen-ref-([\w.:]+?)(?=$|:policygen-revision)", r"<Ref \1>", shown).replace(":policygen-revision", "")


def _open_parts(access: Access) -> frozenset[str]:
    """The ARN parts of the access left open: from the target, or from a template value that
    referred to ${AWS::Region}/${AWS::AccountId} while they were unknown."""
    parts = set(access.open_parts)
    for resource in access.resources:
        if UNKNOWN_REGION in resource:
            parts.add("region")
        if UNKNOWN_ACCOUNT in resource:
            parts.add("account")
    return frozenset(parts)


def _unchecked(parts: Iterable[str]) -> str:
    parts = sorted(set(parts))
    if not parts:
        return ""
    flags = " and ".join(f"--{part}" for part in parts)
    return f" (the {' and '.join(parts)} {'was' if len(parts) == 1 else 'were'} not checked: pass {flags})"


_CONSEQUENCES = {
    "events": 'the execution fails at run time ("not authorized to create managed-rule")',
    "batch:TerminateJob": "stopping the execution cannot stop its job, which keeps running",
    "batch:TagResource": "submitting the tagged job fails at run time (tag on create needs it beside batch:SubmitJob)",
}


def _consequence(action: str) -> str:
    return _CONSEQUENCES.get(action, _CONSEQUENCES.get(action.partition(":")[0], "the execution fails at run time"))


@dataclass
class _Outcome:
    """How the role answers one access, and what classifying it found (misplaced statements, a reason)."""

    access: Access
    decision: Decision
    evaluations: tuple[Evaluation, ...]
    detail: dict | None = None


class _Checker:
    def __init__(self, tasks: tuple[BatchTask, ...], role: Role, target: Target, locate_task: Callable[[BatchTask], Location]):
        self.tasks = tasks
        self.role = role
        self.target = target
        self.locate_task = locate_task
        self.documents = tuple(source.document for source in role.policies)
        self.locators = {source.document.source: source.locate for source in role.policies}
        self.open_parts = frozenset(name for name in ("region", "account") if getattr(target, name) is None)
        # Allows are matched with the unknown parts open; a Deny that applies only once they are
        # open may or may not apply: "cannot verify" (PG203), never a certain PG102.
        self.opened = tuple(_open_policy(d, self.open_parts, frozenset({Effect.ALLOW})) for d in self.documents)
        self.opened_denies = tuple(_open_policy(d, self.open_parts, frozenset(Effect)) for d in self.documents)
        self.accesses = [access for task in tasks for access in requests_of(task, target)]
        self.broad: set[StatementRef] = set()

    # --- helpers

    def arn(self, service: str, resource: str) -> str:
        region = self.target.region or UNKNOWN_REGION
        account = self.target.account or UNKNOWN_ACCOUNT
        return f"arn:{self.target.partition}:{service}:{region}:{account}:{resource}"

    def opened_statements(self) -> Iterable[tuple[Statement, Statement]]:
        """(statement as written, statement with the unknown region/account left open)."""
        for document, opened in zip(self.documents, self.opened_denies):
            yield from zip(document.statements, opened.statements)

    def statement_location(self, ref: StatementRef, suffix: str = "") -> Location:
        locate = self.locators.get(ref.source)
        return locate(ref.pointer + suffix) if locate and suffix else ref.location

    # --- PG104: actions that do not exist

    def unknown_actions(self) -> Iterable[Finding]:
        for document in self.documents:
            for statement in document.statements:
                element = "NotAction" if statement.actions_negated else "Action"
                for index, pattern in enumerate(statement.actions):
                    # " batch:SubmitJob" is no action at all (IAM does not trim): judged by its service.
                    prefix = pattern.strip().partition(":")[0].lower()
                    if pattern == "*" or prefix not in catalog.JUDGED_SERVICES:
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

    # --- PG101/PG102/PG103/PG203: what the states request

    def outcome(self, access: Access) -> _Outcome:
        parts = _open_parts(access)
        outcome = self.decide(access, self.opened if parts else self.documents)
        if parts and outcome.decision is not Decision.EXPLICIT_DENY:
            widened = self.decide(access, self.opened_denies)
            if widened.decision is Decision.EXPLICIT_DENY:
                denials = {ref for evaluation in widened.evaluations for ref in evaluation.denied_by}
                reason = f"{_describe_statements(sorted(denials, key=lambda r: (r.source, r.index)))} denies it in some " + " and ".join(sorted(parts)) + "s"
                return _Outcome(access, Decision.UNKNOWN, widened.evaluations, {"reason": reason})
        return outcome

    def decide(self, access: Access, policies: Sequence[PolicyDocument]) -> _Outcome:
        context = dict(access.context)
        evaluations = tuple(
            evaluate(_request(access, resource, context), policies) for resource in access.resources
        )
        decisions = {evaluation.decision for evaluation in evaluations}
        for decision in (Decision.ALLOWED, Decision.UNKNOWN, Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY):
            if decision in decisions:
                return _Outcome(access, decision, evaluations)
        raise AssertionError("an access has at least one resource")

    def requests(self) -> Iterable[Finding]:
        grouped: dict[tuple[int, str, str], list[_Outcome]] = {}
        order: list[tuple[int, str, str]] = []
        task_index = {id(task): index for index, task in enumerate(self.tasks)}
        for access in self.accesses:
            outcome = self.outcome(access)
            if outcome.decision is Decision.ALLOWED:
                continue
            rule_id, outcome.detail = self.classify(outcome)
            # One finding per state and action; the managed rule's actions go together in PG103.
            key = (task_index[id(access.task)], "events" if rule_id == "PG103" else access.action, rule_id)
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
    def disputed_failures(grouped: dict[tuple[int, str, str], list[_Outcome]]) -> dict[tuple[int, str], list[_Outcome]]:
        """Take out of PG101/PG102 the refused resources that AWS's documents disagree about, unless
        together they make the call fail by every document that speaks about them: those become
        PG205, a warning citing both sides (rules/integrations/batch.yaml, `disputed`)."""
        disputed: dict[tuple[int, str], list[_Outcome]] = {}
        for (index, action, rule_id), outcomes in grouped.items():
            if rule_id in ("PG101", "PG102"):
                disputed.setdefault((index, action), []).extend(o for o in outcomes if o.access.dispute is not None)
        found: dict[tuple[int, str], list[_Outcome]] = {}
        for (index, action), outcomes in disputed.items():
            if not outcomes or not _works_by_some_source(outcomes):
                continue
            for rule_id in ("PG101", "PG102"):
                kept = grouped.get((index, action, rule_id))
                if kept is not None:
                    taken = {id(outcome) for outcome in outcomes}
                    kept[:] = [outcome for outcome in kept if id(outcome) not in taken]
            found[(index, action)] = outcomes
        return found

    def classify(self, outcome: _Outcome) -> tuple[str, dict | None]:
        access = outcome.access
        if outcome.detail is not None:
            return "PG203", outcome.detail
        credentials = access.task.credentials
        if credentials is not None:
            # Step Functions makes this call as the role in Credentials, not as the execution role.
            return "PG203", {
                "reason": f"the state calls Batch with the credentials of another role ({credentials.text}), "
                "which makes this request; policygen does not read that role"
            }
        if outcome.decision is Decision.EXPLICIT_DENY:
            return "PG102", None
        if outcome.decision is Decision.UNKNOWN:
            reasons = [reason for evaluation in outcome.evaluations for _, reason in evaluation.uncertain]
            return "PG203", {"reason": "; ".join(dict.fromkeys(reasons)) or "the evaluator cannot decide"}
        if self.role.unreadable:
            return "PG203", {
                "reason": f"the role also has {', '.join(self.role.unreadable)}, which policygen cannot read offline"
            }
        if access.action.startswith("events:"):
            misplaced = self.misplaced_rule_grants(access)
            if misplaced:
                return "PG103", misplaced
        if not access.exact and any(
            statement_allows_action(statement, access.action) for document in self.documents for statement in document.statements
        ):
            return "PG203", {"reason": _unnamed_reason(access)}
        return "PG101", None

    def misplaced_rule_grants(self, access: Access) -> dict | None:
        """The Allow statements that give this EventBridge action on another rule ARN, and how it differs."""
        wanted = access.resources[0].split(":", 5)
        statements: list[StatementRef] = []
        granted: list[str] = []
        differences: list[str] = []
        for statement in (s for d in self.documents for s in d.statements):
            if statement.resources_negated or not statement_allows_action(statement, access.action):
                continue
            for pattern in statement.resources:
                parts = pattern.split(":", 5)
                if len(parts) != 6 or parts[0] != "arn" or not _wildcard_match(parts[2], "events"):
                    continue
                found = _arn_differences(parts, wanted, self.open_parts)
                if found:
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

    def refused_by_conditions(self, outcomes: list[_Outcome]) -> str:
        """Why a state's own queue, definition or tags are refused when a statement seems to grant
        them: a tag or share-identifier condition the request does not meet (issue 4's lint side)."""
        refs: list[StatementRef] = []
        keys: list[str] = []
        for outcome in outcomes:
            access = outcome.access
            for resource in access.resources:
                request = _request(access, resource, dict(access.context))
                for statement in (s for document in self.documents for s in document.statements):
                    if allows_only_under_conditions(statement, request):
                        refs.append(statement.ref)
                        keys.extend(test.key for test in statement.conditions)
        if not refs:
            return ""
        return (
            f" ({_describe_statements(dict.fromkeys(refs))} would allow it but for its conditions on "
            f"{', '.join(dict.fromkeys(keys))}, which the state's request does not meet)"
        )

    def resource_level_refusal(self, access: Access) -> str:
        """Why Allow statements for an action without resource-level permissions do not allow it:
        they name resources other than "*", which IAM never matches for such an action."""
        if not access.resourceless:
            return ""
        refs = [
            statement.ref
            for document in self.documents
            for statement in document.statements
            if statement_allows_action(statement, access.action)
        ]
        if not refs:
            return ""
        name = access.action.partition(":")[2]
        return (
            f" ({_describe_statements(dict.fromkeys(refs))} names other resources; {name} supports no "
            'resource-level permissions: IAM matches it only with Resource "*")'
        )

    def request_finding(self, rule_id: str, outcomes: list[_Outcome]) -> Finding:
        access = outcomes[0].access
        task = access.task
        resources = ", ".join(dict.fromkeys(_shown(p) for outcome in outcomes for p in outcome.access.patterns))
        parts = {part for outcome in outcomes for part in _open_parts(outcome.access)}
        fields: dict[str, Any] = {
            "state": task.path,
            "pattern": task.pattern.value,
            "action": ", ".join(dict.fromkeys(outcome.access.action for outcome in outcomes)),
            "resources": resources,
            "unchecked": _unchecked(parts),
            "subject": f"state {task.path!r} ({task.pattern.value})",
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
            fields["statements"] = _describe_statements(statements)
            fixes = tuple(StatementFix(ref) for ref in statements)
        else:
            detail = outcomes[0].detail or {}
            if rule_id == "PG103":
                statements = detail["statements"]
                fields.update(detail, statements=_describe_statements(statements))
                fixes = tuple(StatementFix(ref, tuple(a for a in _event_actions(ref, self.documents))) for ref in statements)
            else:
                fields["reason"] = "; ".join(dict.fromkeys((outcome.detail or {})["reason"] for outcome in outcomes))
        related = tuple(dict.fromkeys(ref.location for ref in statements))
        if not related and self.role.location is not None:
            related = (self.role.location,)
        return make_finding(
            rule_id, self.locate_task(task), fields, task=task, refs=statements, related=related, fixes=fixes
        )

    # --- PG201/PG202/PG301: what the role grants beyond the needs

    def broad_and_unneeded(self) -> Iterable[Finding]:
        needed = {access.action.lower() for access in self.accesses}
        any_rule = self.arn("events", "rule/policygen-any-rule")
        managed_rule = self.arn("events", f"rule/{MANAGED_RULE}")
        for statement, opened in self.opened_statements():
            if statement.effect is not Effect.ALLOW:
                continue
            grant = self.over_broad(statement, opened, any_rule)
            if grant is not None:
                self.broad.add(statement.ref)
                yield make_finding(
                    "PG201",
                    statement.ref.location,
                    {"grant": grant, "unchecked": _unchecked(self.open_parts) if "PutRule" in grant else ""},
                    refs=(statement.ref,),
                    fixes=(StatementFix(statement.ref),),
                )
                continue
            unneeded = self.unneeded_patterns(opened, needed, managed_rule, any_rule)
            beyond = self.wildcards_beyond_needs(opened, needed, managed_rule, any_rule)
            if unneeded or beyond:
                shown = [*unneeded, *(self.describe_wildcard(*item) for item in beyond)]
                yield make_finding(
                    "PG202",
                    statement.ref.location,
                    {"actions": ", ".join(shown), "reason": self.unneeded_reason([*unneeded, *(a for _, _, extra in beyond for a in extra)])},
                    refs=(statement.ref,),
                    fixes=(StatementFix(statement.ref, (*unneeded, *(pattern for pattern, _, _ in beyond))),),
                )
        yield from self.prefer_fine_grained()

    def over_broad(self, statement: Statement, opened: Statement, any_rule: str) -> str | None:
        """What makes an Allow statement over-broad, or None."""
        if statement.actions_negated:
            return f"allows every action but {', '.join(statement.actions)} (NotAction)"
        grants: list[str] = []
        for pattern in statement.actions:
            service, _, name = pattern.partition(":")
            if service and not service.strip("*") and not name.strip("*"):  # "*", "*:*"; not "" or ":*"
                grants.append(f'"{pattern}" (every action of every service)')
                continue
            expanded = catalog.expand_action_pattern(pattern)
            if not expanded:
                continue
            for service, label in (("batch", "Batch"), ("events", "EventBridge")):
                if {f"{service}:{name}" for name in catalog.action_names(service)} <= expanded:
                    grants.append(f"{pattern} (every {label} action)")
                    break
        if grants:
            return "allows " + ", ".join(grants)
        if statement_allows_action(statement, "events:PutRule") and _allow_applies(
            opened, Request("events:PutRule", any_rule)
        ) is True:
            return f"allows events:PutRule on any EventBridge rule, not only on {MANAGED_RULE}"
        return None

    def unneeded_patterns(self, opened: Statement, needed: set[str], managed_rule: str, any_rule: str) -> list[str]:
        unneeded = []
        for pattern in opened.actions:
            service = pattern.partition(":")[0].lower()
            if service not in ("batch", "events"):
                continue  # permissions for other services are not judged
            expanded = catalog.expand_action_pattern(pattern)
            if not expanded or {action.lower() for action in expanded} & needed:
                continue
            if service == "events" and not _only_on_batch_rule(opened, sorted(expanded)[0], managed_rule, any_rule):
                continue
            unneeded.append(pattern)
        return unneeded

    def wildcards_beyond_needs(
        self, opened: Statement, needed: set[str], managed_rule: str, any_rule: str
    ) -> list[tuple[str, list[str], list[str]]]:
        """(pattern, needed actions it covers, unneeded actions it also grants) for each Batch or
        EventBridge wildcard of an Allow statement that covers a needed action and others besides:
        `batch:*Job*` grants batch:CancelJob and batch:DeleteJobQueue beside batch:SubmitJob."""
        found = []
        for pattern in opened.actions:
            service = pattern.partition(":")[0].lower()
            if service not in ("batch", "events") or not any(c in pattern for c in "*?"):
                continue
            expanded = catalog.expand_action_pattern(pattern) or frozenset()
            covered = sorted(action for action in expanded if action.lower() in needed)
            if not covered:
                continue  # unneeded_patterns reports the whole pattern
            if service == "events" and not _only_on_batch_rule(opened, covered[0], managed_rule, any_rule):
                continue  # as in unneeded_patterns: other rules belong to other integrations
            extra = sorted(action for action in expanded if action.lower() not in needed and self.grants(opened, action))
            if extra:
                found.append((pattern, covered, extra))
        return found

    def grants(self, opened: Statement, action: str) -> bool:
        """Whether an Allow statement (with the unknown region/account left open) may allow `action`
        on some resource that action has: a resource of one of its catalogued types, or "*" for an
        action without resource types (which IAM matches only with Resource "*")."""
        prefix, _, name = action.partition(":")
        service = catalog.service(prefix)
        if service is None or name not in service.actions:
            return False
        templates = [service.resource_types[t] for t in sorted(service.actions[name]["resourceTypes"])]
        if not templates:
            return _allow_applies(opened, Request(action, "*", resourceless=True)) is not False
        shapes = [self.arn_shape(template) for template in templates]
        probes = [self.arn_example(template) for template in templates]
        # The statement's own resources, where they have the shape of the action's resource types
        # (a rule ARN for events:DeleteRule): a statement on one named resource grants it there.
        if not opened.resources_negated:
            own = (resource.replace("*", ANY_NAME) for resource in opened.resources)
            probes += [probe for probe in own if any(shape.fullmatch(probe) for shape in shapes)]
        return any(_allow_applies(opened, Request(action, probe)) is not False for probe in probes)

    def arn_shape(self, template: str) -> re.Pattern[str]:
        """A catalogue ARN template as a regex: the target's partition (region, account where known);
        a resource name is one or more characters other than ':' and '/'."""
        target = {"Partition": self.target.partition, "Region": self.target.region, "Account": self.target.account}
        pieces = []
        for literal, variable in re.findall(r"([^$]*)(?:\$\{(\w+)\})?", template):
            pieces.append(re.escape(literal))
            if variable in ("Region", "Account") and target[variable] is None:
                pieces.append("[^:]*")  # left open, as the statement's own region/account are
            elif variable in target:
                pieces.append(re.escape(target[variable]))
            elif variable:
                pieces.append("[^:/]+")
        return re.compile("".join(pieces))

    def arn_example(self, template: str) -> str:
        """One ARN of the template's type in the target's partition, region and account."""
        values = {
            "Partition": self.target.partition,
            "Region": self.target.region or UNKNOWN_REGION,
            "Account": self.target.account or UNKNOWN_ACCOUNT,
        }
        return re.sub(r"\$\{(\w+)\}", lambda m: values.get(m[1], ANY_NAME), template)

    @staticmethod
    def describe_wildcard(pattern: str, covered: list[str], extra: list[str]) -> str:
        return f"{', '.join(extra)} (through {pattern}, which also covers the needed {', '.join(covered)})"

    def unneeded_reason(self, unneeded: list[str]) -> str:
        run_job = any(task.pattern is Pattern.RUN_JOB for task in self.tasks)
        sync_only = {"batch:describejobs", "batch:terminatejob"}
        if not run_job and any(p.lower() in sync_only or p.lower().startswith("events:") for p in unneeded):
            return " (no state uses the .sync integration, which is what needs them)"
        return ""

    def prefer_fine_grained(self) -> Iterable[Finding]:
        submitting = [task for task in self.tasks if task.action == "batch:SubmitJob" and task.pattern is not Pattern.SDK]
        if not submitting or not all(_named_statically(task) for task in submitting):
            return
        other_queue = self.arn("batch", "job-queue/policygen-unused-queue")
        # Judged on the whole role: a Deny (or an Allow's NotResource) that keeps SubmitJob to the
        # states' own queues leaves nothing to narrow.
        if evaluate(Request("batch:SubmitJob", other_queue), self.opened).decision is not Decision.ALLOWED:
            return
        queues = sorted({_queue_shown(task.job_queue) for task in submitting if task.job_queue is not None})
        for statement, opened in self.opened_statements():
            if statement.effect is not Effect.ALLOW or statement.ref in self.broad:
                continue
            if _allow_applies(opened, Request("batch:SubmitJob", other_queue)) is True:
                yield make_finding(
                    "PG301",
                    statement.ref.location,
                    {"queues": "the job queue(s) " + ", ".join(queues) + " and their job definitions"},
                    refs=(statement.ref,),
                )

    # --- PG206: Sids that are not unique within a policy

    def duplicate_sids(self) -> Iterable[Finding]:
        """"In IAM, the Sid value must be unique within a JSON policy" (IAM JSON policy elements:
        Sid). Each policy document of the role, and its trust policy, on its own."""
        for document in self.documents:
            for sid, indexes in _repeated_sids((s.ref.index, s.ref.sid) for s in document.statements).items():
                refs = tuple(document.statements[index].ref for index in indexes)
                yield make_finding(
                    "PG206",
                    refs[1].location,
                    {"sid": sid, "statements": _numbered(indexes, document.source)},
                    refs=refs,
                    related=tuple(ref.location for ref in refs),
                )
        trust = self.role.trust
        if trust is not None:
            yield from _duplicate_trust_sids(trust)

    # --- PG105/PG106/PG203/PG302: the trust policy

    def trust(self, machine_arns: Sequence[str]) -> Iterable[Finding]:
        trust = self.role.trust
        if trust is None:
            return
        statements = _read_trust(trust)
        yield from _open_trust_statements(trust, statements)
        yield from _assumable(trust, statements, self.target, machine_arns)
        for statement in statements:
            if statement.may_admit_states(self.target.region, self.target.partition) and statement_allows_action(statement.statement, "sts:AssumeRole"):
                keys = {test.key.lower() for test in statement.statement.conditions}
                if not keys & set(_CONFUSED_DEPUTY_KEYS):
                    ref = statement.statement.ref
                    yield make_finding("PG302", ref.location, refs=(ref,))


def _only_on_batch_rule(opened: Statement, action: str, managed_rule: str, any_rule: str) -> bool:
    """Whether an EventBridge statement is about the Batch managed rule alone: other integrations
    (ECS .sync, ...) have managed rules of their own, and EventBridge tasks need events:PutEvents."""
    on_batch_rule = _allow_applies(opened, Request(action, managed_rule)) is True
    on_other_rules = _allow_applies(opened, Request(action, any_rule)) is not False
    return on_batch_rule and not on_other_rules


def _request(access: Access, resource: str, context: dict[str, tuple[str, ...]]) -> Request:
    return Request(access.action, resource, context, access.known_keys, resourceless=access.resourceless)


def _works_by_some_source(outcomes: Sequence[_Outcome]) -> bool:
    """Whether some AWS document says the call works although these disputed resources are
    refused: one that requires none of them."""
    disputes = {outcome.access.dispute for outcome in outcomes}
    fails_by = {url for dispute in disputes for url in dispute.required_by}
    return any(url not in fails_by for dispute in disputes for url in dispute.not_required_by)


def _numbered(indexes: Sequence[int], source: str) -> str:
    """"statements 0 and 2 of policy.json": statements that share a Sid, by position."""
    return f"statements {', '.join(map(str, indexes[:-1]))} and {indexes[-1]} of {source}"


def _duplicate_trust_sids(trust: TrustPolicy) -> Iterable[Finding]:
    """PG206 for the trust policy as loaded (a malformed one is reported by the trust checks)."""
    items = trust.data.get("Statement") if isinstance(trust.data, dict) else None
    if not isinstance(items, list):
        return
    sids = ((index, item.get("Sid")) for index, item in enumerate(items) if isinstance(item, dict))
    for sid, indexes in _repeated_sids(sids).items():
        yield make_finding(
            "PG206",
            trust.locate(f"/Statement/{indexes[1]}"),
            {"statements": _numbered(indexes, trust.source), "sid": sid},
            related=tuple(trust.locate(f"/Statement/{index}") for index in indexes),
        )


def _repeated_sids(sids: Iterable[tuple[int, Any]]) -> dict[str, list[int]]:
    """Sid -> the positions of the statements that use it, for Sids used more than once."""
    by_sid: dict[str, list[int]] = {}
    for index, sid in sids:
        if isinstance(sid, str):
            by_sid.setdefault(sid, []).append(index)
    return {sid: indexes for sid, indexes in by_sid.items() if len(indexes) > 1}


def _allow_applies(statement: Statement, request: Request) -> bool | None:
    """Whether an Allow statement allows `request` on its own: True, False, or None (unknown)."""
    decision = evaluate(request, [PolicyDocument(statement.ref.source, None, (statement,))]).decision
    return {Decision.ALLOWED: True, Decision.IMPLICIT_DENY: False}.get(decision)


def _wildcard_match(pattern: str, text: str) -> bool:
    return wildcard.matches(pattern, text)


def _arn_differences(pattern: list[str], wanted: list[str], open_parts: frozenset[str]) -> list[str]:
    """How an ARN pattern's components fail to match the wanted ARN ([] when they all match)."""
    differences = []
    checks = [(1, "partition"), (3, "region"), (4, "account"), (5, "rule")]
    for index, name in checks:
        if name in open_parts:
            continue
        if not _wildcard_match(pattern[index], wanted[index]):
            value = pattern[index]
            if name == "rule":
                differences.append(f"rule {value.removeprefix('rule/')!r}, not {MANAGED_RULE!r}")
            else:
                differences.append(f"{name} {value or '(empty)'!r}, not {wanted[index]!r}")
    return differences


def _event_actions(ref: StatementRef, documents: Sequence[PolicyDocument]) -> Iterable[str]:
    for document in documents:
        for statement in document.statements:
            if statement.ref == ref:
                return [p for p in statement.actions if p.partition(":")[0].lower() == "events"]
    return []


def _named_statically(task: BatchTask) -> bool:
    return all(value is not None and value.kind is ValueKind.STATIC for value in (task.job_queue, task.job_definition))


def _queue_shown(value: FieldValue) -> str:
    """A state's queue as PG301 names it: a value built from template parameter Defaults says so,
    since a stack deployed with other values uses other queues."""
    shown = _shown(value.text)
    if not value.defaults:
        return shown
    names = ", ".join(dict.fromkeys(value.defaults))
    return f"{shown} (assuming the Default of template parameter {names})"


def _unnamed_reason(access: Access) -> str:
    task = access.task
    if task.pattern is Pattern.SDK:
        return (
            f"which resource an aws-sdk:batch call acts on depends on its arguments, and the role allows "
            f"{access.action} only on some resources"
        )
    for pattern in access.patterns:
        kind = pattern.split(":", 5)[-1].partition("/")[0]
        value = {"job-queue": task.job_queue, "job-definition": task.job_definition}.get(kind)
        field_name = {"job-queue": "JobQueue", "job-definition": "JobDefinition"}.get(kind, kind)
        if value is None and kind in ("job-queue", "job-definition"):
            return f"the state sets no {field_name}, and the role allows {access.action} only on named {kind}s"
        if value is not None and value.kind is not ValueKind.STATIC:
            when = "deploy" if value.kind is ValueKind.DEPLOY_TIME else "run"
            return (
                f"the state takes its {field_name} from {value.text} (known at {when} time), and the role "
                f"allows {access.action} only on named {kind}s: check that every value it can take is among them"
            )
    return f"the state does not name the resource, and the role allows {access.action} only on named ones"


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


# ---------------------------------------------------------------------------------------------
# The trust policy: who may assume the role, read as IAM reads it


# Step Functions assumes the role as states.amazonaws.com; IAM User Guide, "AWS service principals
# in opt-in Regions"
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-services-in-opt-in-regions):
# within its own Region a service presents its non-regional name, and only a cross-Region request
# from an opt-in Region presents service.<region>.amazonaws.com. A machine in region R therefore
# never presents another Region's name. The regional name of R itself is accepted: the Step
# Functions guide once told users to write states.<region>.amazonaws.com, and such roles work.
_REGIONAL_STATES_PRINCIPAL = re.compile(r"^states\.([a-z0-9-]+)\.amazonaws\.com$")
# What the China partition's principals for Step Functions are is not documented as plainly.
_CHINA_STATES_PRINCIPAL = re.compile(r"^states(\.[a-z0-9-]+)?\.amazonaws\.com\.cn$")
_PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")
# Probe values for a part of the state machine's ARN that is not known: a one-character value
# and a longer one sharing no character with it or with the known parts of the ARN. A pattern
# that matches both matches every value; one that matches neither may still match the value the
# policy itself names, which is probed too (_harvest).
_PROBES = ("q", "policygen-unknown")
# Condition values one trust policy may have evaluated, over all probes (some 30 microseconds
# each): beyond that, "cannot verify" rather than seconds of work on a crafted policy.
_MAX_WORK = 20_000
# What lint_template.py writes for a deploy-time value it cannot express.
_DEPLOY_TIME_VALUE = "policygen-deploy-time-value"


@dataclass(frozen=True)
class _Principals:
    """A Principal or NotPrincipal element: everyone ("*", {"AWS": "*"}), and the service names."""

    everyone: bool
    services: tuple[str, ...]


@dataclass(frozen=True)
class _TrustStatement:
    """A trust policy statement: whom it names, and the rest as an identity-policy statement
    (Resource "*") that evaluate.py judges."""

    statement: Statement
    principals: _Principals
    negated: bool  # NotPrincipal: every principal except those named

    def admits_states(self, region: str, partition: str) -> bool | str:
        """Whether the statement applies to Step Functions running in `region`; a reason when
        that cannot be known."""
        named = _names_states(self.principals, region, partition)
        if isinstance(named, str):
            return named
        return named != self.negated

    def may_admit_states(self, region: str | None, partition: str) -> bool:
        """Whether it may let Step Functions in: in `region`, or in some region when that is None."""
        if self.statement.effect is not Effect.ALLOW:
            return False
        if region is not None:
            return self.admits_states(region, partition) is not False
        if self.negated:
            return not self.principals.everyone and STATES_PRINCIPAL not in self.principals.services
        return self.principals.everyone or any(
            name == STATES_PRINCIPAL or _REGIONAL_STATES_PRINCIPAL.match(name) or _CHINA_STATES_PRINCIPAL.match(name)
            for name in self.principals.services
        )

    def lets_anyone_in(self) -> bool:
        """An Allow for every principal (or every one but a few: NotPrincipal) without a condition."""
        if self.statement.effect is not Effect.ALLOW or self.statement.conditions:
            return False
        if self.negated:
            return not self.principals.everyone
        return self.principals.everyone


def _names_states(principals: _Principals, region: str, partition: str) -> bool | str:
    if principals.everyone:
        return True
    unsure = ""
    for name in principals.services:
        if name == STATES_PRINCIPAL:
            return True
        regional = _REGIONAL_STATES_PRINCIPAL.match(name)
        if regional and regional[1] == region:
            return True
        if partition == "aws-cn" and _CHINA_STATES_PRINCIPAL.match(name):
            unsure = f"whether {name} is the principal Step Functions uses in the aws-cn partition is not documented"
    return unsure or False


def _read_trust(trust: TrustPolicy) -> list[_TrustStatement]:
    """Every statement of the trust policy, checked as IAM checks it: a malformed one is an
    InputError with its JSON pointer. A policy without Version is "2008-10-17", in which `${...}`
    is literal text (IAM User Guide, "IAM JSON policy elements: Version",
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html)."""
    from policygen.errors import InputError

    data = trust.data
    items = _trust_statement_items(trust)
    principals: list[tuple[_Principals, bool]] = []
    kept: list[tuple[str, dict]] = []
    for _, pointer, item in items:
        element = [name for name in ("Principal", "NotPrincipal") if name in item]
        if len(element) != 1:
            message = "a trust policy statement takes Principal or NotPrincipal, not both" if element else (
                "a trust policy statement needs a Principal"
            )
            raise InputError(message, trust.locate(pointer + (f"/{element[1]}" if len(element) > 1 else "")))
        for resource in ("Resource", "NotResource"):
            if resource in item:
                # IAM refuses the role: "MalformedPolicyDocument: Has prohibited field Resource".
                raise InputError(f"a role trust policy has no {resource}: the role itself is the resource", trust.locate(f"{pointer}/{resource}"))
        name = element[0]
        principals.append((_parse_principals(item[name], f"{pointer}/{name}", trust), name == "NotPrincipal"))
        statement = {key: value for key, value in item.items() if key != name}
        condition = statement.get("Condition")
        if isinstance(condition, dict):
            # An operator with no keys tests nothing: {} and {"StringEquals": {}} are no condition.
            condition = {operator: keys for operator, keys in condition.items() if keys != {}}
            if condition:
                statement["Condition"] = condition
            else:
                del statement["Condition"]
        statement["Resource"] = "*"
        kept.append((pointer, statement))
    document: dict[str, Any] = {"Statement": [statement for _, statement in kept]}
    if "Version" in data:
        document["Version"] = data["Version"]
    parsed = parse_policy(document, trust.source, lambda pointer: trust.locate(_map_pointer(pointer, kept)))
    return [
        _TrustStatement(statement, found, negated)
        for statement, (found, negated) in zip(parsed.statements, principals)
    ]


def _parse_principals(value: Any, pointer: str, trust: TrustPolicy) -> _Principals:
    """"*", or {type: name or [names]} with the types IAM knows (IAM JSON reference, Principal)."""
    from policygen.errors import InputError
    from policygen.load.document import escape_pointer_token

    if value == "*":
        return _Principals(True, ())
    if not isinstance(value, dict) or not value:
        raise InputError('a principal must be "*" or an object of principal type -> names', trust.locate(pointer))
    names: dict[str, tuple[str, ...]] = {}
    for kind, listed in value.items():
        kind_pointer = f"{pointer}/{escape_pointer_token(kind)}"
        if kind not in _PRINCIPAL_TYPES:
            raise InputError(f"unknown principal type {kind!r} (one of {', '.join(_PRINCIPAL_TYPES)})", trust.locate(kind_pointer))
        entries = [listed] if isinstance(listed, str) else listed
        if not isinstance(entries, list) or not entries:
            raise InputError(f"{kind} must be a string or a non-empty list of strings", trust.locate(kind_pointer))
        for index, entry in enumerate(entries):
            if not isinstance(entry, str):
                where = kind_pointer if isinstance(listed, str) else f"{kind_pointer}/{index}"
                raise InputError(f"{kind} entries must be strings", trust.locate(where))
        names[kind] = tuple(entries)
    return _Principals("*" in names.get("AWS", ()), names.get("Service", ()))


def _trust_statement_items(trust: TrustPolicy) -> list[tuple[int, str, dict]]:
    """(index, JSON pointer, statement) for each statement of the trust policy; a malformed trust
    policy is an InputError."""
    from policygen.errors import InputError

    data = trust.data
    if not isinstance(data, dict) or "Statement" not in data:
        raise InputError("a trust policy must be an object with a Statement", trust.locate(""))
    items = data["Statement"]
    if isinstance(items, dict):
        numbered = [(0, "/Statement", items)]
    elif isinstance(items, list):
        numbered = [(i, f"/Statement/{i}", item) for i, item in enumerate(items)]
    else:
        raise InputError("Statement must be an object or a list of objects", trust.locate("/Statement"))
    for _, pointer, item in numbered:
        if not isinstance(item, dict):
            raise InputError("a statement must be an object", trust.locate(pointer))
    return numbered


def _open_trust_statements(trust: TrustPolicy, statements: Sequence[_TrustStatement]) -> Iterable[Finding]:
    """PG106: Allow statements that let everyone ("*", {"AWS": "*"}, or NotPrincipal: all but
    some) assume the role, with no condition (an empty Condition is none)."""
    for statement in statements:
        if statement.lets_anyone_in() and statement_allows_action(statement.statement, "sts:AssumeRole"):
            ref = statement.statement.ref
            yield make_finding("PG106", ref.location, {"statements": _describe_statements((ref,))}, refs=(ref,))


def _map_pointer(pointer: str, kept: list[tuple[str, dict]]) -> str:
    match = re.match(r"^/Statement/(\d+)(.*)$", pointer)
    if not match:
        return pointer
    return kept[int(match[1])][0] + match[2]


@dataclass(frozen=True)
class _Probe:
    """One state machine that may assume the role: its region, account and ARN, and the values
    that stand in for the parts policygen does not know ({"name": "q", ...})."""

    region: str
    account: str
    arn: str
    unknown: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class _ProbeOutcome:
    probe: _Probe
    decision: Decision
    evaluation: Evaluation
    admitted: tuple[_TrustStatement, ...]
    reasons: tuple[str, ...] = ()


def _assumable(trust: TrustPolicy, statements: Sequence[_TrustStatement], target: Target, machine_arns: Sequence[str]) -> Iterable[Finding]:
    """PG105 when Step Functions certainly cannot assume the role for a state machine, PG203 when
    policygen cannot tell: the trust policy is evaluated for sts:AssumeRole with the state
    machine's aws:SourceAccount and aws:SourceArn (Step Functions guide, "Prevent cross-service
    confused deputy issue",
    https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html), every
    part of its ARN that is not known probed."""
    machines = _probes(statements, target, machine_arns)
    if machines is None:
        yield _trust_unknown(trust, "its source conditions name too many regions, accounts and state machines to check each")
        return
    unknown: list[_ProbeOutcome] = []
    for probes in machines:
        outcomes = [_probe_outcome(statements, probe, target.partition) for probe in probes]
        decisions = {outcome.decision for outcome in outcomes}
        if decisions <= {Decision.IMPLICIT_DENY, Decision.EXPLICIT_DENY}:
            unresolved = _deploy_time_values(statements)
            if unresolved:
                # What such a value turns out to be may let the machine in: not a certain error.
                yield _trust_unknown(trust, f"it holds values known only at deploy time ({', '.join(unresolved)})")
                return
            denied_by = tuple(dict.fromkeys(ref for outcome in outcomes for ref in outcome.evaluation.denied_by))
            reason = _refusal(statements, outcomes, denied_by, target)
            yield make_finding("PG105", trust.locate(""), {"reason": reason}, refs=denied_by)
            return
        if decisions != {Decision.ALLOWED}:
            unknown.extend(outcomes)
    if not unknown:
        return
    reasons = [reason for outcome in unknown for reason in outcome.reasons]
    reasons += [reason for outcome in unknown if outcome.decision is Decision.UNKNOWN for _, reason in outcome.evaluation.uncertain]
    parts = _deciding_parts(unknown)
    if parts:
        named = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        reasons.append(f"the answer depends on the state machine's {named}, which policygen does not know")
    yield _trust_unknown(trust, "; ".join(dict.fromkeys(reasons)) or "the evaluator cannot decide", [p for p in parts if p != "name"])


def _deploy_time_values(statements: Sequence[_TrustStatement]) -> list[str]:
    """Service principals and condition values a template leaves to deploy time (a parameter
    without default, a resource attribute, an Fn::If), as messages show them."""
    def shown(value: str) -> str:
        value = re.sub(r"policygen-ref-([\w.:]+)", r"<Ref \1>", _shown(value))
        return value.replace(_DEPLOY_TIME_VALUE, "<deploy-time value>")

    values = [
        *(name for statement in statements for name in statement.principals.services),
        *(value for statement in statements for test in statement.statement.conditions for value in test.values),
    ]
    return list(dict.fromkeys(shown(value) for value in values if "policygen-ref-" in value or _DEPLOY_TIME_VALUE in value))


def _probes(statements: Sequence[_TrustStatement], target: Target, machine_arns: Sequence[str]) -> list[list[_Probe]] | None:
    """For each state machine (one of unknown name when no ARN is given), the probes that stand
    for it: every combination of values for the parts of its ARN that are not known. None when
    evaluating them all would take too long."""
    regions, accounts, names = _harvest(statements)
    cost = sum(1 + sum(len(test.values) for test in statement.statement.conditions) for statement in statements)
    machines = []
    for region, account, name in _machine_parts(target, machine_arns):
        choices = (
            ("region", region, (*_PROBES, *regions)),
            ("account", account, (*_PROBES, *accounts)),
            ("name", name, (*_PROBES, *names)),
        )
        probes = []
        for values in itertools.product(*(((known,) if known is not None else tried) for _, known, tried in choices)):
            region_value, account_value, name_value = values
            unknown = tuple((part, value) for (part, known, _), value in zip(choices, values) if known is None)
            arn = f"arn:{target.partition}:states:{region_value}:{account_value}:stateMachine:{name_value}"
            probes.append(_Probe(region_value, account_value, arn, unknown))
            if (sum(len(p) for p in machines) + len(probes)) * cost > _MAX_WORK:
                return None
        machines.append(probes)
    return machines


def _machine_parts(target: Target, machine_arns: Sequence[str]) -> list[tuple[str | None, str | None, str | None]]:
    """(region, account, name) of each state machine, None where not known."""
    if not machine_arns:
        return [(target.region, target.account, None)]
    parts = []
    for arn in machine_arns:
        pieces = arn.split(":", 6)
        if len(pieces) != 7 or pieces[5] != "stateMachine":
            parts.append((target.region, target.account, None))
            continue
        region = pieces[3] if pieces[3] and pieces[3] != UNKNOWN_REGION else target.region
        account = pieces[4] if pieces[4] and pieces[4] != UNKNOWN_ACCOUNT else target.account
        parts.append((region, account, pieces[6] or None))
    return parts


def _harvest(statements: Sequence[_TrustStatement]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The regions, accounts and state machine names the trust policy itself names (in regional
    principals, aws:SourceAccount and aws:SourceArn), as probe values: the one a condition asks for
    is among them."""
    regions: list[str] = []
    accounts: list[str] = []
    names: list[str] = []
    for statement in statements:
        for service in statement.principals.services:
            regional = _REGIONAL_STATES_PRINCIPAL.match(service)
            if regional:
                regions.append(regional[1])
        for test in statement.statement.conditions:
            key = test.key.lower()
            for value in test.values:
                if key == "aws:sourceaccount":
                    accounts.append(value)
                elif key == "aws:sourcearn":
                    parts = value.split(":", 5)
                    if len(parts) == 6:
                        regions.append(parts[3])
                        accounts.append(parts[4])
                        names.extend((parts[5].removeprefix("stateMachine:"), parts[5].rpartition(":")[2]))

    def unique(values: list[str]) -> tuple[str, ...]:
        # A template's ${AWS::Region} and ${AWS::AccountId} are the machine's own: not other values.
        return tuple(sorted(set(values) - {UNKNOWN_REGION, UNKNOWN_ACCOUNT, *_PROBES}))

    return unique(regions), unique(accounts), unique(names)


def _probe_outcome(statements: Sequence[_TrustStatement], probe: _Probe, partition: str) -> _ProbeOutcome:
    admitted: list[_TrustStatement] = []
    unsure: list[tuple[_TrustStatement, str]] = []
    for statement in _in_place_of_deploy_time_values(statements, probe):
        admits = statement.admits_states(probe.region, partition)
        if isinstance(admits, str):
            unsure.append((statement, admits))
        elif admits:
            admitted.append(statement)
    request = Request("sts:AssumeRole", "*", {"aws:SourceAccount": (probe.account,), "aws:SourceArn": (probe.arn,)})
    result = evaluate(request, [_as_document(admitted)])
    if unsure:
        widened = evaluate(request, [_as_document(admitted + [statement for statement, _ in unsure])])
        if widened.decision is not result.decision:
            reasons = tuple(reason for _, reason in unsure)
            return _ProbeOutcome(probe, Decision.UNKNOWN, result, tuple(admitted), reasons)
    return _ProbeOutcome(probe, result.decision, result, tuple(admitted))


def _in_place_of_deploy_time_values(statements: Sequence[_TrustStatement], probe: _Probe) -> list[_TrustStatement]:
    """A template's trust policy names the machine's own region and account as ${AWS::Region} and
    ${AWS::AccountId}, which stand for what the probe says they are."""
    values = {UNKNOWN_REGION: dict(probe.unknown).get("region"), UNKNOWN_ACCOUNT: dict(probe.unknown).get("account")}
    values = {placeholder: value for placeholder, value in values.items() if value is not None}
    if not values:
        return list(statements)

    def substituted(text: str) -> str:
        for placeholder, value in values.items():
            text = text.replace(placeholder, value)
        return text

    result = []
    for statement in statements:
        conditions = tuple(
            replace(test, values=tuple(substituted(value) for value in test.values)) for test in statement.statement.conditions
        )
        services = tuple(substituted(name) for name in statement.principals.services)
        result.append(
            replace(
                statement,
                statement=replace(statement.statement, conditions=conditions),
                principals=replace(statement.principals, services=services),
            )
        )
    return result


def _as_document(statements: Sequence[_TrustStatement]) -> PolicyDocument:
    source = statements[0].statement.ref.source if statements else ""
    return PolicyDocument(source=source, version=None, statements=tuple(s.statement for s in statements))


def _deciding_parts(outcomes: Sequence[_ProbeOutcome]) -> list[str]:
    """The unknown parts of the state machine's ARN on which the decision turns."""
    parts = []
    for part in ("name", "region", "account"):
        groups: dict[tuple, set[Decision]] = {}
        for outcome in outcomes:
            others = tuple(item for item in outcome.probe.unknown if item[0] != part)
            if any(name == part for name, _ in outcome.probe.unknown):
                groups.setdefault(others, set()).add(outcome.decision)
        if any(len(decisions) > 1 for decisions in groups.values()):
            parts.append(part)
    return parts


def _refusal(statements: Sequence[_TrustStatement], outcomes: Sequence[_ProbeOutcome], denied_by: tuple[StatementRef, ...], target: Target) -> str:
    """Why Step Functions cannot assume the role, whatever the unknown parts of its ARN are."""
    if denied_by:
        return f"{_describe_statements(denied_by)} denies it"
    allowing = [
        statement.statement.ref
        for outcome in outcomes
        for statement in outcome.admitted
        if statement_allows_action(statement.statement, "sts:AssumeRole")
    ]
    if not allowing:
        reason = f"no Allow statement for sts:AssumeRole names the service principal {STATES_PRINCIPAL}"
        others = sorted({
            name
            for statement in statements
            if statement.statement.effect is Effect.ALLOW and not statement.negated
            for name in statement.principals.services
            if _REGIONAL_STATES_PRINCIPAL.match(name) and name != f"states.{target.region}.amazonaws.com"
        })
        if others and target.region:
            reason += f" (it names {', '.join(others)}, which Step Functions in {target.region} does not use)"
        return reason
    probe = outcomes[0].probe
    shown = dict(probe.unknown)
    region = "<region>" if "region" in shown else probe.region
    account = "<account>" if "account" in shown else probe.account
    arn = probe.arn if not probe.unknown else f"arn:{target.partition}:states:{region}:{account}:stateMachine:<any name>"
    return (
        f"the conditions of {_describe_statements(dict.fromkeys(allowing))} do not hold for "
        f"aws:SourceAccount = {account}, aws:SourceArn = {arn}"
    )


def _trust_unknown(trust: TrustPolicy, reason: str, parts: Sequence[str] = ()) -> Finding:
    fields = {
        "subject": "Step Functions",
        "action": "sts:AssumeRole",
        "resources": "the role",
        "policy": "its trust policy",
        "reason": reason,
        "unchecked": _unchecked(parts),
    }
    return make_finding("PG203", trust.locate(""), fields)
