"""Where the policy applies: the partition, region and account its ARNs are built for.

Region: --region, else AWS_REGION / AWS_DEFAULT_REGION, else the static Batch ARNs in the
definitions when they all agree. Account: --account, else those ARNs. Partition: --partition, else
the Task states' Resource ARNs (docs/aws-facts.md#integration-patterns: the policy uses the same partition), else (for
templates, whose Resources say ${AWS::Partition}) the partition of the region, else aws. Template
values with deploy-time references (`${...}`) never count as a region or account.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from policygen.errors import UsageError
from policygen.iam.aws_names import PARTITIONS as KNOWN_PARTITIONS
from policygen.iam.aws_names import is_account, is_region, partition_of_region
from policygen.scan import BatchTask, ValueKind

_BATCH_ARN = re.compile(r"^arn:(?P<partition>[^:]+):batch:(?P<region>[^:]*):(?P<account>[^:]*):")


@dataclass(frozen=True)
class Target:
    partition: str
    region: str | None
    account: str | None
    region_source: str = ""
    account_source: str = ""
    partition_source: str = ""


def validate_region(region: str, source: str = "--region") -> str:
    if not is_region(region):
        raise UsageError(f"{source} {region!r} is not an AWS region name (e.g. us-east-1)")
    return region


def validate_account(account: str) -> str:
    if not is_account(account):
        raise UsageError(f"--account {account!r} is not a 12-digit AWS account id")
    return account


def validate_partition(partition: str) -> str:
    if partition not in KNOWN_PARTITIONS:
        raise UsageError(f"--partition {partition!r} is not an AWS partition ({', '.join(KNOWN_PARTITIONS)})")
    return partition


def resolve_target(
    tasks: Iterable[BatchTask],
    region: str | None,
    account: str | None,
    environment: Mapping[str, str],
    partition: str | None = None,
) -> Target:
    """The target for `tasks`; raises UsageError when the tasks disagree on the partition, or
    with --partition."""
    tasks = list(tasks)
    partitions = sorted({task.partition for task in tasks if task.partition is not None})
    if len(partitions) > 1:
        examples = {}
        for task in tasks:
            if task.partition is not None:
                examples.setdefault(task.partition, f"{task.partition} in {task.file}: {task.path!r}")
        raise UsageError(
            f"the Batch states use several partitions ({'; '.join(examples[p] for p in partitions)}); "
            "one role lives in one partition: generate for each separately"
        )
    if partition is not None:
        validate_partition(partition)
        if partitions and partitions[0] != partition:
            raise UsageError(f"--partition {partition} given, but the Batch states' Resource ARNs are in {partitions[0]}")
    arn_regions, arn_accounts, arn_partitions = _from_static_arns(tasks)
    region_source = account_source = ""
    if region is not None:
        region, region_source = validate_region(region), "--region"
    elif environment.get("AWS_REGION"):
        region, region_source = validate_region(environment["AWS_REGION"], "AWS_REGION"), "AWS_REGION"
    elif environment.get("AWS_DEFAULT_REGION"):
        region, region_source = validate_region(environment["AWS_DEFAULT_REGION"], "AWS_DEFAULT_REGION"), "AWS_DEFAULT_REGION"
    elif len(arn_regions) == 1:
        region, region_source = next(iter(arn_regions)), "the definition's Batch ARNs"
    if account is not None:
        account, account_source = validate_account(account), "--account"
    elif len(arn_accounts) == 1:
        account, account_source = next(iter(arn_accounts)), "the definition's Batch ARNs"
    if partition is not None:
        partition_source = "--partition"
    elif partitions:
        partition, partition_source = partitions[0], "the Task states' Resource ARNs"
    elif region is not None:
        partition, partition_source = partition_of_region(region), f"the region ({region_source})"
    else:
        partition, partition_source = "aws", "the default"
    if region is not None and partition_of_region(region) != partition:
        # e.g. AWS_REGION=us-east-1 left over in a shell, for a GovCloud definition.
        raise UsageError(
            f"the region {region} (from {region_source}) is not in the partition {partition} "
            f"(from {partition_source})",
            hint="pass --region with a region of that partition",
        )
    foreign = sorted(arn_partitions - {partition})
    if foreign:
        # A template's states run in whatever partition it is deployed in: an ARN the scanner could
        # not hold against the state's own partition is checked against the policy's here.
        raise UsageError(
            f"the Batch states name ARNs in the partition {', '.join(foreign)}, but the policy is for "
            f"{partition} (from {partition_source}); one role lives in one partition"
        )
    return Target(partition, region, account, region_source, account_source, partition_source)


def _from_static_arns(tasks: list[BatchTask]) -> tuple[set[str], set[str], set[str]]:
    static = ValueKind.STATIC
    texts: set[str] = set()  # most states name the same few queues and job definitions
    for task in tasks:
        if not isinstance(task, BatchTask):
            continue  # other services' ARNs may name other accounts and regions (a cross-account topic)
        value = task.job_queue
        if value is not None and value.kind is static:
            texts.add(value.text)
        value = task.job_definition
        if value is not None and value.kind is static:
            texts.add(value.text)
        for value in task.consumable_resources:
            if value is not None and value.kind is static:
                texts.add(value.text)
    regions: set[str] = set()
    accounts: set[str] = set()
    partitions: set[str] = set()
    for text in texts:
        if "${" in text:
            continue
        match = _BATCH_ARN.match(text)
        if match:
            partitions.add(match["partition"])
            if match["region"]:
                regions.add(match["region"])
            if match["account"]:
                accounts.add(match["account"])
    return regions, accounts, partitions
