"""What lint reads and what it reports: the role's policies and trust policy, findings and their fixes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from policygen.errors import Location
from policygen.iam.policy import PolicyDocument, StatementRef, parse_policy
from policygen.lint.rules import Rule, Severity, rule
from policygen.requirements.integrations import MANAGED_RULE_ACTIONS
from policygen.scan import BatchTask

# docs/aws-facts.md#managed-eventbridge-rule: the rule name Step Functions uses for Batch .sync is fixed.
MANAGED_RULE = "StepFunctionsGetEventsForBatchJobsRule"
STATES_PRINCIPAL = "states.amazonaws.com"

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
    policies policygen cannot read (an AWS managed policy named by ARN; SAM policy templates, which
    grant nothing of AWS Batch's or of a managed EventBridge rule, SAM having no template for them)."""

    name: str
    policies: tuple[PolicySource, ...]
    trust: TrustPolicy | None = None
    unreadable: tuple[str, ...] = ()
    location: Location | None = None
    policy_templates: tuple[str, ...] = ()
    # Policies the role gets from elsewhere (the X-Ray policy SAM attaches for Tracing): read for
    # what they allow, never judged as the author's grants (PG201, PG202).
    attached: tuple[str, ...] = ()

    def unread_for(self, action: str) -> tuple[str, ...]:
        """What the role holds that policygen does not read and that may grant `action`."""
        # No SAM policy template grants AWS Batch's actions or the managed rule's
        # (EventBridgePutEventsPolicy is events:PutEvents only).
        if action.startswith("batch:") or action in MANAGED_RULE_ACTIONS:
            return self.unreadable
        return (*self.unreadable, *self.policy_templates)


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
        fields["statements"] = describe_statements(attributes.get("refs", ()))
    return Finding(the_rule, the_rule.format(**fields), location, **attributes)


# ---------------------------------------------------------------------------------------------


def describe_statements(refs: Iterable[StatementRef]) -> str:
    names = []
    for ref in refs:
        name = f'statement "{ref.sid}"' if ref.sid else f"statement {ref.index}"
        names.append(f"{name} of {ref.source}")
    unique = list(dict.fromkeys(names))
    return unique[0] if len(unique) == 1 else ", ".join(unique[:-1]) + " and " + unique[-1]

