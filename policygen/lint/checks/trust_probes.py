"""PG105/PG203: whether the state machines that use the role may assume it: probes of their ARNs."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from policygen.iam.arns import arn_parts
from policygen.iam.evaluate import evaluate, statement_allows_action
from policygen.iam.policy import Effect, PolicyDocument, StatementRef
from policygen.iam.request import Decision, Evaluation, Request
from policygen.lint.checks.common import _unchecked
from policygen.lint.checks.trust_policy import (
    MAX_WORK,
    PROBES,
    REGIONAL_STATES_PRINCIPAL,
    TrustStatement,
)
from policygen.lint.findings import (
    STATES_PRINCIPAL,
    Finding,
    TrustPolicy,
    describe_statements,
    make_finding,
)
from policygen.requirements import markers
from policygen.requirements.markers import UNKNOWN_ACCOUNT, UNKNOWN_REGION
from policygen.requirements.target import Target


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
    admitted: tuple[TrustStatement, ...]
    reasons: tuple[str, ...] = ()


def assumable(trust: TrustPolicy, statements: Sequence[TrustStatement], target: Target, machine_arns: Sequence[str]) -> Iterable[Finding]:
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


def _deploy_time_values(statements: Sequence[TrustStatement]) -> list[str]:
    """Service principals and condition values a template leaves to deploy time (a parameter
    without default, a resource attribute, an Fn::If), as messages show them."""
    values = [
        *(name for statement in statements for name in statement.principals.services),
        *(value for statement in statements for test in statement.statement.conditions for value in test.values),
    ]
    return list(dict.fromkeys(markers.shown_value(value) for value in values if markers.is_deploy_time(value)))


def _probes(statements: Sequence[TrustStatement], target: Target, machine_arns: Sequence[str]) -> list[list[_Probe]] | None:
    """For each state machine (one of unknown name when no ARN is given), the probes that stand
    for it: every combination of values for the parts of its ARN that are not known. None when
    evaluating them all would take too long."""
    regions, accounts, names = _harvest(statements)
    cost = sum(1 + sum(len(test.values) for test in statement.statement.conditions) for statement in statements)
    machines = []
    for region, account, name in _machine_parts(target, machine_arns):
        choices = (
            ("region", region, (*PROBES, *regions)),
            ("account", account, (*PROBES, *accounts)),
            ("name", name, (*PROBES, *names)),
        )
        probes = []
        for values in itertools.product(*(((known,) if known is not None else tried) for _, known, tried in choices)):
            region_value, account_value, name_value = values
            unknown = tuple((part, value) for (part, known, _), value in zip(choices, values, strict=False) if known is None)
            arn = f"arn:{target.partition}:states:{region_value}:{account_value}:stateMachine:{name_value}"
            probes.append(_Probe(region_value, account_value, arn, unknown))
            if (sum(len(p) for p in machines) + len(probes)) * cost > MAX_WORK:
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


def _harvest(statements: Sequence[TrustStatement]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The regions, accounts and state machine names the trust policy itself names (in regional
    principals, aws:SourceAccount and aws:SourceArn), as probe values: the one a condition asks for
    is among them."""
    regions: list[str] = []
    accounts: list[str] = []
    names: list[str] = []
    for statement in statements:
        for service in statement.principals.services:
            regional = REGIONAL_STATES_PRINCIPAL.match(service)
            if regional:
                regions.append(regional[1])
        for test in statement.statement.conditions:
            key = test.key.lower()
            for value in test.values:
                if key == "aws:sourceaccount":
                    accounts.append(value)
                elif key == "aws:sourcearn":
                    parts = arn_parts(value)
                    if len(parts) == 6:
                        regions.append(parts[3])
                        accounts.append(parts[4])
                        names.extend((parts[5].removeprefix("stateMachine:"), parts[5].rpartition(":")[2]))

    def unique(values: list[str]) -> tuple[str, ...]:
        # A template's ${AWS::Region} and ${AWS::AccountId} are the machine's own: not other values.
        return tuple(sorted(set(values) - {UNKNOWN_REGION, UNKNOWN_ACCOUNT, *PROBES}))

    return unique(regions), unique(accounts), unique(names)


def _probe_outcome(statements: Sequence[TrustStatement], probe: _Probe, partition: str) -> _ProbeOutcome:
    admitted: list[TrustStatement] = []
    unsure: list[tuple[TrustStatement, str]] = []
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


def _in_place_of_deploy_time_values(statements: Sequence[TrustStatement], probe: _Probe) -> list[TrustStatement]:
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


def _as_document(statements: Sequence[TrustStatement]) -> PolicyDocument:
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


def _refusal(statements: Sequence[TrustStatement], outcomes: Sequence[_ProbeOutcome], denied_by: tuple[StatementRef, ...], target: Target) -> str:
    """Why Step Functions cannot assume the role, whatever the unknown parts of its ARN are."""
    if denied_by:
        return f"{describe_statements(denied_by)} denies it"
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
            if REGIONAL_STATES_PRINCIPAL.match(name) and name != f"states.{target.region}.amazonaws.com"
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
        f"the conditions of {describe_statements(dict.fromkeys(allowing))} do not hold for "
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
