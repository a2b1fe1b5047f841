"""PG201/PG202/PG301: what the role grants beyond the states' needs."""

from __future__ import annotations

import re
from collections.abc import Iterable

from policygen.iam import catalog, wildcard
from policygen.iam.evaluate import evaluate, statement_allows_action
from policygen.iam.policy import Effect, Statement
from policygen.iam.request import Decision, Request
from policygen.lint.checks.common import (
    CheckerBase,
    _unchecked,
    allow_applies,
    named_statically,
    only_on_batch_rule,
    queue_shown,
)
from policygen.lint.checks.scope import Unjudged, catalogued_actions, every_action_of_service, matching, resource_probes
from policygen.lint.findings import MANAGED_RULE, Finding, StatementFix, make_finding
from policygen.requirements import markers
from policygen.requirements.markers import ANY_NAME, UNKNOWN_ACCOUNT, UNKNOWN_REGION
from policygen.requirements.requests import Access
from policygen.scan import Pattern

# More unneeded actions than this through one `service:*` are counted, not listed.
_LISTED = 8


class BreadthChecks(CheckerBase):
    """PG201, PG202, PG301."""

    _by_action: list[tuple[str, list[Access]]] | None = None  # service_accesses_by_action, once made

    def broad_and_unneeded(self) -> Iterable[Finding]:
        needed = {access.action.lower() for access in self.accesses}
        self.unjudged = Unjudged(self.services, self.accesses, self.whole_role)
        any_rule = self.arn("events", f"rule/{markers.ANY_RULE}")
        managed_rule = self.arn("events", f"rule/{MANAGED_RULE}")
        for statement, opened in self.opened_statements():
            if statement.effect is not Effect.ALLOW or statement.ref.source in self.role.attached:
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
            wider = self.resources_beyond_needs(statement, opened)
            if unneeded or beyond or wider:
                shown = [*unneeded, *(self.describe_wildcard(*item) for item in beyond), *(text for _, text in wider)]
                judged = [*unneeded, *(pattern for pattern, _, _ in beyond), *(p for patterns, _ in wider for p in patterns)]
                only_batch = all(p.partition(":")[0].lower() in ("batch", "events") for p in judged)
                yield make_finding(
                    "PG202",
                    statement.ref.location,
                    {
                        "actions": ", ".join(shown),
                        "reason": self.unneeded_reason([*unneeded, *(a for _, _, extra in beyond for a in extra)]),
                        "states": "Batch state" if only_batch else "state",
                    },
                    refs=(statement.ref,),
                    fixes=(StatementFix(statement.ref, tuple(dict.fromkeys(judged))),),
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
        if statement_allows_action(statement, "events:PutRule") and allow_applies(
            opened, Request("events:PutRule", any_rule)
        ) is True:
            return f"allows events:PutRule on any EventBridge rule, not only on {MANAGED_RULE}"
        return None

    def unneeded_patterns(self, opened: Statement, needed: set[str], managed_rule: str, any_rule: str) -> list[str]:
        unneeded = []
        for pattern in opened.actions:
            service = pattern.partition(":")[0].lower()
            if service not in ("batch", "events"):
                if not self.unjudged.covers(pattern) and not matching(pattern, needed) and catalog.expand_action_pattern(pattern) != frozenset():
                    unneeded.append(pattern)  # (an action that does not exist is PG104's)
                continue
            expanded = catalog.expand_action_pattern(pattern)
            if not expanded or {action.lower() for action in expanded} & needed:
                continue
            if service == "events" and not only_on_batch_rule(opened, sorted(expanded)[0], managed_rule, any_rule):
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
            if not any(c in pattern for c in "*?"):
                continue
            if service not in ("batch", "events"):
                found.extend(self.service_wildcard_beyond(opened, pattern, needed))
                continue
            expanded = catalog.expand_action_pattern(pattern) or frozenset()
            covered = sorted(action for action in expanded if action.lower() in needed)
            if not covered:
                continue  # unneeded_patterns reports the whole pattern
            if service == "events" and not only_on_batch_rule(opened, covered[0], managed_rule, any_rule):
                continue  # as in unneeded_patterns: other rules belong to other integrations
            extra = sorted(action for action in expanded if action.lower() not in needed and self.grants(opened, action))
            if extra:
                found.append((pattern, covered, extra))
        return found

    def service_wildcard_beyond(self, opened: Statement, pattern: str, needed: set[str]) -> list[tuple[str, list[str], list[str]]]:
        """A wildcard of another service that covers needed actions and others besides: those it
        expands to by the catalogue, or, for a service policygen has no catalogue of, `sns:*`'s
        "every other sns action"."""
        if self.unjudged.covers(pattern):
            return []
        wanted = {access.action.lower(): access.action for access in self.accesses}
        covered = [wanted[action] for action in matching(pattern, needed)]
        if not covered:
            return []  # unneeded_patterns reports the whole pattern
        expanded = catalogued_actions(pattern)
        if expanded is None:
            prefix = pattern.partition(":")[0].lower()
            return [(pattern, covered, [f"every other {prefix} action"])] if every_action_of_service(pattern) else []
        extra = sorted(action for action in expanded if action.lower() not in needed and self.grants(opened, action))
        if len(extra) > _LISTED and every_action_of_service(pattern):
            extra = [f"every other {pattern.partition(':')[0].lower()} action ({len(extra)})"]
        return [(pattern, covered, extra)] if extra else []

    def service_accesses_by_action(self) -> list[tuple[str, list[Access]]]:
        """The requests of other services' states by action, sorted: made once, asked per statement."""
        if self._by_action is None:
            by_action: dict[str, list[Access]] = {}
            for access in self.accesses:
                if access.action.partition(":")[0].lower() not in ("batch", "events"):
                    by_action.setdefault(access.action, []).append(access)
            self._by_action = sorted(by_action.items())
        return self._by_action

    def resources_beyond_needs(self, statement: Statement, opened: Statement) -> list[tuple[tuple[str, ...], str]]:
        """(the action patterns that grant it, how it reads) for each needed action of another
        service that the statement allows on more resources than the states name, where they
        all name theirs (`lambda:InvokeFunction` on `*` for states that name their functions).
        Nothing for a statement with a resource known only at deploy time (a CDK Fn::Select): what
        it names may be exactly what the states need."""
        if any(markers.DEPLOY_TIME_VALUE in resource for resource in statement.resources):
            return []
        found = []
        for action, accesses in self.service_accesses_by_action():
            if self.unjudged.covers(action) or any(not a.exact or a.resourceless for a in accesses):
                continue
            patterns = tuple(p for p in opened.actions if wildcard.matches_ignoring_case(p, action))
            if statement.actions_negated or not patterns:
                continue
            needed = [pattern for access in accesses for pattern in access.patterns]
            context = dict(accesses[0].context)
            own = () if statement.resources_negated else statement.resources
            probes = resource_probes(action, needed, own, self.target)
            if any(allow_applies(opened, Request(action, probe, context)) is True for probe in probes):
                shown = ", ".join(dict.fromkeys(markers.shown(pattern) for pattern in needed))
                found.append((patterns, f"{action} on other resources than {shown}"))
        return found

    def grants(self, opened: Statement, action: str) -> bool:
        """Whether an Allow statement (with the unknown region/account left open) may allow `action`
        on some resource that action has: a resource of one of its catalogued types, or "*" for an
        action without resource types (which IAM matches only with Resource "*")."""
        prefix, _, name = action.partition(":")
        service = catalog.service(prefix)
        if service is None or name not in service.actions:
            return False
        templates = [service.arn_template(t) for t in sorted(service.actions[name]["resourceTypes"])]
        if not templates:
            return allow_applies(opened, Request(action, "*", resourceless=True)) is not False
        shapes = [self.arn_shape(template) for template in templates]
        probes = [self.arn_example(template) for template in templates]
        # The statement's own resources, where they have the shape of the action's resource types
        # (a rule ARN for events:DeleteRule): a statement on one named resource grants it there.
        if not opened.resources_negated:
            own = (resource.replace("*", ANY_NAME) for resource in opened.resources)
            probes += [probe for probe in own if any(shape.fullmatch(probe) for shape in shapes)]
        return any(allow_applies(opened, Request(action, probe)) is not False for probe in probes)

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
        if self.services and not all(p.partition(":")[0].lower() in ("batch", "events") for p in unneeded):
            return ""  # the .sync reason is about Batch's own actions
        if not run_job and any(p.lower() in sync_only or p.lower().startswith("events:") for p in unneeded):
            return " (no state uses the .sync integration, which is what needs them)"
        return ""

    def prefer_fine_grained(self) -> Iterable[Finding]:
        submitting = [task for task in self.tasks if task.action == "batch:SubmitJob" and task.pattern is not Pattern.SDK]
        if not submitting or not all(named_statically(task) for task in submitting):
            return
        other_queue = self.arn("batch", f"job-queue/{markers.UNUSED_QUEUE}")
        # Judged on the whole role: a Deny (or an Allow's NotResource) that keeps SubmitJob to the
        # states' own queues leaves nothing to narrow.
        if evaluate(Request("batch:SubmitJob", other_queue), self.opened).decision is not Decision.ALLOWED:
            return
        queues = sorted({queue_shown(task.job_queue) for task in submitting if task.job_queue is not None})
        for statement, opened in self.opened_statements():
            if statement.effect is not Effect.ALLOW or statement.ref in self.broad:
                continue
            if allow_applies(opened, Request("batch:SubmitJob", other_queue)) is True:
                yield make_finding(
                    "PG301",
                    statement.ref.location,
                    {"queues": "the job queue(s) " + ", ".join(queues) + " and their job definitions"},
                    refs=(statement.ref,),
                )

    # --- PG206: Sids that are not unique within a policy
