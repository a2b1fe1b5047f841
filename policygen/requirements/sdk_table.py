"""The AWS SDK integration table (rules/integrations/aws-sdk.yaml, its schema at its top) as
records, and the one answer to "which IAM actions does aws-sdk:<service>:<apiAction> need?".

Thousands of SDK calls follow a rule rather than a table: the IAM action is the API action with its
first letter upper-cased, under the service's IAM prefix. The rule's result must exist in the
Service Authorization Reference (iam/catalog.py); a call it cannot name is an error, never a
guessed or wildcard action.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from policygen.iam import catalog
from policygen.rules_data import load_rules


@dataclass(frozen=True)
class ScopedResource:
    """One resource of a `resource-scoping` entry: `name` with {field:<path>[|transform]} parts."""

    name: str
    dynamic: tuple[str, ...]  # the fallbacks, narrowest first
    arn_field: str | None  # a static ARN there stands for the name up to that field
    when_present: str | None  # without this argument the resource is left out
    absent: str | None  # what a list item without the field means (EventBridge's "default" bus)


@dataclass(frozen=True)
class Scoping:
    actions: tuple[str, ...] | None  # None: every IAM action of the call
    resources: tuple[ScopedResource, ...]
    why: str
    sources: tuple[str, ...]  # URLs


@dataclass(frozen=True)
class ActionException:
    actions: tuple[str, ...]  # empty: the rule cannot name the call's actions at all
    why: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class RequestOption:
    """Arguments that make a call need more actions (an S3 copy's Tagging: s3:PutObjectTagging)."""

    fields: tuple[str, ...]
    actions: tuple[str, ...]
    on: str  # the call's IAM action whose resources these actions are granted on
    why: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class SdkTable:
    prefixes: dict[str, str]  # SDK service name -> IAM prefix, where they differ
    exceptions: dict[tuple[str, str], ActionException]  # (sdk, apiAction or "*") -> its actions
    scoping: dict[tuple[str, str], tuple[Scoping, ...]]  # (sdk, apiAction) -> how resources are named
    options: dict[tuple[str, str], tuple[RequestOption, ...]]  # (sdk, apiAction) -> arguments needing more actions
    unsupported: dict[str, frozenset[str]]  # sdk -> apiActions Step Functions does not support
    deprecated: frozenset[str]
    rule_sources: tuple[str, ...]
    default_sources: tuple[str, ...]


@dataclass(frozen=True)
class SdkCall:
    """What aws-sdk:<sdk>:<api> is authorized by."""

    sdk: str
    api: str
    actions: tuple[str, ...]  # as the catalogue spells them, e.g. ("s3:GetObject",)
    why: str
    sources: tuple[str, ...]


@cache
def sdk_table() -> SdkTable:
    data = load_rules("integrations/aws-sdk.yaml")
    urls = data["sources"]

    def sources(ids: list[str]) -> tuple[str, ...]:
        return tuple(urls[source] for source in ids)

    scoping: dict[tuple[str, str], list[Scoping]] = {}
    for entry in data["resource-scoping"]:
        record = Scoping(
            actions=tuple(entry["actions"]) if "actions" in entry else None,
            resources=tuple(_scoped_resource(item) for item in entry["resources"]),
            why=entry["why"],
            sources=sources(entry["sources"]),
        )
        for api in entry["apis"]:
            scoping.setdefault((entry["sdk"], api), []).append(record)
    options: dict[tuple[str, str], list[RequestOption]] = {}
    for entry in data.get("request-options", ()):
        option = RequestOption(tuple(entry["fields"]), tuple(entry["actions"]), entry["with-action"], entry["why"], sources(entry["sources"]))
        options.setdefault((entry["sdk"], entry["api"]), []).append(option)
    unsupported = data["unsupported"]
    return SdkTable(
        prefixes={entry["sdk"]: entry["prefix"] for entry in data["iam-prefixes"]},
        exceptions={
            (entry["sdk"], entry["api"]): ActionException(tuple(entry["actions"]), entry["why"], sources(entry["sources"]))
            for entry in data["action-exceptions"]
        },
        scoping={key: tuple(value) for key, value in scoping.items()},
        options={key: tuple(value) for key, value in options.items()},
        unsupported={sdk: frozenset(apis) for sdk, apis in unsupported["api-actions"].items()},
        deprecated=frozenset(unsupported["deprecated"]),
        rule_sources=sources(data["action-name"]["sources"]),
        default_sources=sources(data["default-resources"]["sources"]),
    )


def _scoped_resource(item: dict) -> ScopedResource:
    dynamic = item["dynamic"]
    return ScopedResource(
        name=item["name"],
        dynamic=tuple(dynamic) if isinstance(dynamic, list) else (dynamic,),
        arn_field=item.get("arn-field"),
        when_present=item.get("when-present"),
        absent=item.get("absent"),
    )


def resolve_call(api: str) -> SdkCall | str:
    """The IAM actions of `api` ("<sdk service>:<apiAction>", e.g. "sfn:startExecution"), or why
    there are none policygen can name (one line)."""
    table = sdk_table()
    sdk, _, action = api.partition(":")
    if sdk in table.deprecated:
        return f"the AWS SDK service {sdk!r} is deprecated: Step Functions cannot call it"
    if action in table.unsupported.get(sdk, ()):
        return f"Step Functions does not support the AWS SDK call {sdk}:{action} (the state fails)"
    exception = table.exceptions.get((sdk, action)) or table.exceptions.get((sdk, "*"))
    if exception is not None and not exception.actions:
        return f"policygen cannot name the IAM actions of aws-sdk:{sdk}:{action}: {exception.why}"
    prefix = table.prefixes.get(sdk, sdk)
    if not catalog.has_service(prefix):
        return (
            f"{sdk!r} is no AWS SDK service policygen knows: the Service Authorization Reference has no IAM "
            f"service {prefix!r} (an SDK name whose IAM prefix differs is listed in rules/integrations/aws-sdk.yaml)"
        )
    names = exception.actions if exception is not None else (f"{prefix}:{action[:1].upper()}{action[1:]}",)
    actions = []
    for name in names:
        try:
            found = catalog.canonical_action(name)
        except KeyError:
            found = None
        if found is None:
            return (
                f"aws-sdk:{sdk}:{action} is no AWS SDK call policygen knows: the Service Authorization Reference "
                f"has no IAM action {name} (check the apiAction's spelling)"
            )
        actions.append(found)
    if exception is not None:
        return SdkCall(sdk, action, tuple(actions), exception.why, exception.sources)
    return SdkCall(sdk, action, tuple(actions), "The SDK call is authorized by the IAM action of the same name.", table.rule_sources)

