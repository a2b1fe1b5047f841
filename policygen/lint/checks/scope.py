"""What PG202 may judge beyond Batch: which actions of a role no state's needs can speak for, and
the resources to probe a grant with for "more than the states name"."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache

from policygen.iam import catalog, wildcard
from policygen.iam.arns import arn_parts
from policygen.requirements.markers import ANY_NAME, UNKNOWN_ACCOUNT, UNKNOWN_REGION
from policygen.requirements.requests import Access, _fill
from policygen.requirements.target import Target
from policygen.rules_data import load_rules
from policygen.scan import ServiceTask

# Actions an integration may need beyond what its state shows: ECS passes the roles its task
# definition names, which the state does not show (rules/integrations/ecs.yaml, `notice`).
_HIDDEN_NEEDS = {"ecs": ("iam:PassRole",)}


@cache
def _unseen_feature_actions() -> frozenset[str]:
    """Actions of the state machine's own features that the definition cannot show (logging,
    tracing and a KMS key are set on the state machine resource; redrive is optional):
    rules/integrations/state-machine.yaml. A role may hold them whatever the states need."""
    features = load_rules("integrations/state-machine.yaml")["features"]
    return frozenset(
        action.lower()
        for feature in features.values()
        if "machine-field" in feature["when"] or feature.get("optional")
        for grant in feature["grants"]
        for action in grant["actions"]
    )


@cache
def _sdk_prefixes() -> dict[str, str]:
    """SDK service name -> IAM prefix where they differ (rules/integrations/aws-sdk.yaml)."""
    return {entry["sdk"]: entry["prefix"] for entry in load_rules("integrations/aws-sdk.yaml")["iam-prefixes"]}


class Unjudged:
    """Actions PG202 leaves alone: those the states may need without policygen knowing it."""

    def __init__(self, services: Sequence[ServiceTask], accesses: Sequence[Access], whole_role: bool):
        self.whole_role = whole_role  # False: only the Batch states are known, nothing else is judged
        with_needs = {id(access.task) for access in accesses}
        self.actions = set(_unseen_feature_actions())
        self.prefixes: set[str] = set()
        for task in services:
            self.actions.update(action.lower() for action in _HIDDEN_NEEDS.get(task.service, ()))
            if task.service == "aws-sdk" and id(task) not in with_needs:
                # An SDK call whose IAM actions are not known (yet): its service's are not judged.
                sdk = task.api.partition(":")[0]
                self.prefixes.add(_sdk_prefixes().get(sdk, sdk).lower())

    def covers(self, pattern: str) -> bool:
        """Whether an action pattern of the role touches what is not judged (or cannot be told
        apart from it: a wildcard in the service prefix)."""
        prefix = pattern.partition(":")[0].lower()
        if not self.whole_role or not prefix or any(char in prefix for char in "*?") or prefix in self.prefixes:
            return True
        return any(wildcard.matches_ignoring_case(pattern, action) for action in self.actions)


def matching(pattern: str, actions: Iterable[str]) -> list[str]:
    """The actions (as the states need them) an action pattern of the role matches, sorted."""
    return sorted(action for action in set(actions) if wildcard.matches_ignoring_case(pattern, action))


def every_action_of_service(pattern: str) -> bool:
    """`sns:*`: every action of one service, whether or not policygen has its catalogue."""
    prefix, _, name = pattern.partition(":")
    return bool(prefix) and not any(char in prefix for char in "*?") and bool(name) and not name.strip("*")


def catalogued_actions(pattern: str) -> frozenset[str] | None:
    """The actions a pattern expands to, None when policygen has no catalogue of its service."""
    return catalog.expand_action_pattern(pattern)


def resource_probes(action: str, needed: Sequence[str], own: Sequence[str], target: Target) -> list[str]:
    """Resources of `action` that the states do not need (`needed`: their resource patterns, the
    unknown region/account open): another resource of the kind each needed one is
    (`function:policygen-any` beside `function:prepare`), one of each catalogued resource type,
    and the statement's own resources (`own`, written with `*` as any name)."""
    open_needed = [pattern.replace(UNKNOWN_REGION, "*").replace(UNKNOWN_ACCOUNT, "*") for pattern in needed]
    probes = [_another_of_kind(pattern) for pattern in needed]
    try:
        probes += [_fill(pattern, target).replace("*", ANY_NAME) for pattern in catalog.resource_patterns(action)]
    except KeyError:
        pass
    probes += [resource.replace("*", ANY_NAME).replace("?", "x") for resource in own]
    unique = dict.fromkeys(probe for probe in probes if probe and probe != "*")
    return [probe for probe in unique if not any(wildcard.matches(pattern, probe) for pattern in open_needed)]


def _another_of_kind(pattern: str) -> str:
    parts = arn_parts(pattern)
    if len(parts) != 6 or parts[0] != "arn":
        return ""
    resource = parts[5]
    cut = min((index for index in (resource.find("/"), resource.find(":")) if index >= 0), default=-1)
    parts[5] = (resource[: cut + 1] if cut >= 0 else "") + ANY_NAME
    return ":".join(parts)

