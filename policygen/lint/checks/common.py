"""What the families of checks share: the checker's state, opened policies, message helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from policygen.errors import Location
from policygen.iam import wildcard
from policygen.iam.arns import arn_parts, arn_resource
from policygen.iam.evaluate import evaluate
from policygen.iam.policy import Effect, PolicyDocument, Statement, StatementRef
from policygen.iam.policy_set import PolicySet
from policygen.iam.request import Decision, Evaluation, Request
from policygen.lint.findings import Role
from policygen.requirements import markers
from policygen.requirements.integrations import MANAGED_RULE_ACTIONS
from policygen.requirements.markers import UNKNOWN_ACCOUNT, UNKNOWN_REGION
from policygen.requirements.requests import Access, requests_of_tasks
from policygen.requirements.target import Target
from policygen.scan import BatchTask, FieldValue, Pattern, ServiceTask, ValueKind


def _open_policy(document: PolicyDocument, parts: frozenset[str], effects: frozenset[Effect]) -> PolicyDocument:
    """The policy with the region and/or account of the Resource ARNs of its `effects` statements
    left open (`*`): how the linter matches requests whose region or account it was not told."""
    if not parts:
        return document

    def open_arn(pattern: str) -> str:
        pieces = arn_parts(pattern)
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


_shown = markers.shown


def _open_parts(access: Access | Asked) -> frozenset[str]:
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
    **{action: 'the execution fails at run time ("not authorized to create managed-rule")' for action in MANAGED_RULE_ACTIONS},
    "batch:TerminateJob": "stopping the execution cannot stop its job, which keeps running",
    "batch:TagResource": "submitting the tagged job fails at run time (tag on create needs it beside batch:SubmitJob)",
}


def _consequence(action: str) -> str:
    return _CONSEQUENCES.get(action, "the execution fails at run time")


@dataclass
class Outcome:
    """How the role answers one access, and what classifying it found (misplaced statements, a reason)."""

    access: Access
    decision: Decision
    evaluations: tuple[Evaluation, ...]
    detail: dict | None = None


@dataclass(unsafe_hash=True, slots=True)  # not frozen: a frozen __init__ costs 2x, and one is made per access
class Asked:
    """What an access asks of the role, whichever state asks it: all that the role's answer
    depends on. States asking the same share one answer, worked out once (RequestChecks)."""

    action: str
    resources: tuple[str, ...]
    context: tuple[tuple[str, tuple[str, ...]], ...]
    known_keys: frozenset[str]
    resourceless: bool
    open_parts: frozenset[str]  # as the access has them; _open_parts adds those its resources leave open

    @staticmethod
    def of(access: Access) -> Asked:
        return Asked(access.action, access.resources, access.context, access.known_keys, access.resourceless, access.open_parts)

    def requests(self) -> tuple[Request, ...]:
        """The evaluator's requests, one per resource (any one of them allowed will do)."""
        context = dict(self.context)
        return tuple(Request(self.action, resource, context, self.known_keys, resourceless=self.resourceless) for resource in self.resources)


@dataclass(frozen=True)
class Answer:
    """How the role answers what is asked, before the checks classify it."""

    decision: Decision
    evaluations: tuple[Evaluation, ...]  # one per resource
    reason: str | None = None  # why it is UNKNOWN: a Deny that applies only once ARN parts are open



class CheckerBase:
    """The role, the states' requests and the helpers every family of checks shares."""

    def __init__(
        self,
        tasks: tuple[BatchTask, ...],
        role: Role,
        target: Target,
        locate_task: Callable[[BatchTask | ServiceTask], Location],
        services: tuple[ServiceTask, ...] = (),
        service_accesses: Sequence[Access] = (),
        whole_role: bool = False,
    ):
        self.tasks = tasks
        self.services = services
        self.whole_role = whole_role  # every Task state is known: other services' grants are judged too
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
        # Thousands of states ask the same few hundred requests: each policy set decides each once.
        self.role_policies = PolicySet(self.documents)
        self.opened_policies = PolicySet(self.opened) if self.open_parts else self.role_policies
        self.opened_deny_policies = PolicySet(self.opened_denies) if self.open_parts else self.role_policies
        self.accesses = [*requests_of_tasks(tasks, target), *service_accesses]
        self.broad: set[StatementRef] = set()
        # What RequestChecks worked out once for all the states asking the same.
        self.answers: dict[Asked, Answer] = {}
        self.refusals: dict[tuple[Asked, ...], str] = {}

    # --- helpers

    def arn(self, service: str, resource: str) -> str:
        region = self.target.region or UNKNOWN_REGION
        account = self.target.account or UNKNOWN_ACCOUNT
        return f"arn:{self.target.partition}:{service}:{region}:{account}:{resource}"

    def opened_statements(self) -> Iterable[tuple[Statement, Statement]]:
        """(statement as written, statement with the unknown region/account left open)."""
        for document, opened in zip(self.documents, self.opened_denies, strict=False):
            yield from zip(document.statements, opened.statements, strict=False)

    def statement_location(self, ref: StatementRef, suffix: str = "") -> Location:
        locate = self.locators.get(ref.source)
        return locate(ref.pointer + suffix) if locate and suffix else ref.location

    # --- PG104: actions that do not exist


def only_on_batch_rule(opened: Statement, action: str, managed_rule: str, any_rule: str) -> bool:
    """Whether an EventBridge statement is about the Batch managed rule alone: other integrations
    (ECS .sync, ...) have managed rules of their own, and EventBridge tasks need events:PutEvents."""
    on_batch_rule = allow_applies(opened, Request(action, managed_rule)) is True
    on_other_rules = allow_applies(opened, Request(action, any_rule)) is not False
    return on_batch_rule and not on_other_rules


def works_by_some_source(outcomes: Sequence[Outcome]) -> bool:
    """Whether some AWS document says the call works although these disputed resources are
    refused: one that requires none of them."""
    disputes = {outcome.access.dispute for outcome in outcomes}
    fails_by = {url for dispute in disputes for url in dispute.required_by}
    return any(url not in fails_by for dispute in disputes for url in dispute.not_required_by)


def numbered(indexes: Sequence[int], source: str) -> str:
    """"statements 0 and 2 of policy.json": statements that share a Sid, by position."""
    return f"statements {', '.join(map(str, indexes[:-1]))} and {indexes[-1]} of {source}"



def allow_applies(statement: Statement, request: Request) -> bool | None:
    """Whether an Allow statement allows `request` on its own: True, False, or None (unknown)."""
    decision = evaluate(request, [PolicyDocument(statement.ref.source, None, (statement,))]).decision
    return {Decision.ALLOWED: True, Decision.IMPLICIT_DENY: False}.get(decision)


def wildcard_match(pattern: str, text: str) -> bool:
    return wildcard.matches(pattern, text)


def arn_differences(pattern: list[str], wanted: list[str], open_parts: frozenset[str]) -> list[str]:
    """How an ARN pattern's components fail to match the wanted ARN ([] when they all match)."""
    differences = []
    checks = [(1, "partition"), (3, "region"), (4, "account"), (5, "rule")]
    for index, name in checks:
        if name in open_parts:
            continue
        if not wildcard_match(pattern[index], wanted[index]):
            value = pattern[index]
            if name == "rule":
                differences.append(f"rule {value.removeprefix('rule/')!r}, not {wanted[index].removeprefix('rule/')!r}")
            else:
                differences.append(f"{name} {value or '(empty)'!r}, not {wanted[index]!r}")
    return differences


def event_actions(ref: StatementRef, documents: Sequence[PolicyDocument]) -> Iterable[str]:
    for document in documents:
        for statement in document.statements:
            if statement.ref == ref:
                return [p for p in statement.actions if p.partition(":")[0].lower() == "events"]
    return []


def named_statically(task: BatchTask) -> bool:
    return all(value is not None and value.kind is ValueKind.STATIC for value in (task.job_queue, task.job_definition))


def queue_shown(value: FieldValue) -> str:
    """A state's queue as PG301 names it: a value built from template parameter Defaults says so,
    since a stack deployed with other values uses other queues."""
    shown = _shown(value.text)
    if not value.defaults:
        return shown
    names = ", ".join(dict.fromkeys(value.defaults))
    return f"{shown} (assuming the Default of template parameter {names})"


def integration(task: BatchTask | ServiceTask) -> str:
    """How a finding names the state's call after its name: a Batch state's call pattern (the
    action names Batch), another state's integration as its Resource says it (`ecs:runTask.sync`,
    `aws-sdk:s3:getObject`), or its service for a Resource that is an ARN (a Lambda function)."""
    if isinstance(task, BatchTask):
        return task.pattern.value
    if not isinstance(task, ServiceTask):  # a need of the state machine itself (a feature)
        return str(getattr(task, "service", "")) or "state machine"
    if ":::" in task.resource:
        return task.resource.split(":::", 1)[1]
    return f"{task.service}, Resource ARN"


def unnamed_reason(access: Access) -> str:
    if access.unnamed:
        return access.unnamed
    task = access.task
    assert isinstance(task, BatchTask)
    if task.pattern is Pattern.SDK:
        return (
            f"which resource an aws-sdk:batch call acts on depends on its arguments, and the role allows "
            f"{access.action} only on some resources"
        )
    for pattern in access.patterns:
        kind = arn_resource(pattern).partition("/")[0]
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
