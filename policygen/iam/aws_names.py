"""AWS's rules for the names policygen writes into a policy: tag keys and values, partitions,
regions and accounts, and the names and ARNs of Batch job queues, job definitions and consumable
resources. Each check returns what is wrong (None when nothing is), for the caller to raise with
its own location."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

PARTITIONS = ("aws", "aws-cn", "aws-us-gov")

_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")
_ACCOUNT = re.compile(r"\d{12}")

# --- Tags ----------------------------------------------------------------------------------------
# AWS Batch User Guide, "Tag restrictions"
# (https://docs.aws.amazon.com/batch/latest/userguide/tag-restrictions.html): a key is at most 128
# and a value at most 256 Unicode characters; the allowed characters are letters, numbers, spaces
# representable in UTF-8 and + - = . _ : / @; `aws:` in any case is reserved as a prefix of keys
# and values. As a pattern (Amazon ECS API Reference, "Tag",
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Tag.html):
# ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$, so "spaces" are the Unicode separators (U+2028 among them),
# not tabs or line feeds. A key is at least one character (same page).
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
_TAG_PUNCTUATION = frozenset("_.:/=+-@")
_TAG_ASCII = re.compile(r"[A-Za-z0-9 _.:/=+\-@]*")  # the common case, without a character walk
_RESERVED_PREFIX = "aws:"


@lru_cache(maxsize=4096)
def tag_problem(key: str, value: str | None) -> str | None:
    """Why a tag is not one AWS accepts, or None; `value` None when it is known only later."""
    return tag_key_problem(key) or (None if value is None else tag_value_problem(key, value))


def tag_key_problem(key: str) -> str | None:
    """Why `key` is not an AWS tag key, or None."""
    if not key:
        return "a tag key cannot be empty"
    return _tag_text_problem(key, "tag key", TAG_KEY_MAX)


def tag_value_problem(key: str, value: str) -> str | None:
    """Why `value` is not an AWS tag value (of the tag `key`), or None."""
    return _tag_text_problem(value, f"the value of tag {key!r}", TAG_VALUE_MAX)


def _tag_text_problem(text: str, what: str, limit: int) -> str | None:
    if len(text) > limit:
        return f"{what} {_short(text)} has {len(text)} characters; AWS allows at most {limit}"
    if text[:4].lower() == _RESERVED_PREFIX:
        return f"{what} {_short(text)} starts with {text[:4]!r}, a prefix AWS reserves for its own tags"
    if _TAG_ASCII.fullmatch(text):
        return None
    bad = next((c for c in text if not _tag_character(c)), None)
    if bad is None:
        return None
    return (
        f"{what} {_short(text)} holds {bad!r} (U+{ord(bad):04X}); AWS tags allow letters, digits, "
        "spaces and _ . : / = + - @"
    )


def _tag_character(character: str) -> bool:
    return character in _TAG_PUNCTUATION or unicodedata.category(character)[0] in "LNZ"


# --- Where: partitions, regions, accounts --------------------------------------------------------


def is_region(text: str) -> bool:
    return _REGION.fullmatch(text) is not None


def is_account(text: str) -> bool:
    return _ACCOUNT.fullmatch(text) is not None


def partition_of_region(region: str) -> str:
    """The partition a region belongs to: cn-* in aws-cn, us-gov-* in aws-us-gov, the rest in aws."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


# --- Batch names and ARNs ------------------------------------------------------------------------
# Job queue names: "It can be up to 128 letters long. It can contain uppercase and lowercase letters,
# numbers, hyphens (-), and underscores (_)" (AWS Batch API Reference, CreateJobQueue,
# jobQueueName: https://docs.aws.amazon.com/batch/latest/APIReference/API_CreateJobQueue.html);
# job definition names the same (RegisterJobDefinition, jobDefinitionName:
# https://docs.aws.amazon.com/batch/latest/APIReference/API_RegisterJobDefinition.html). SubmitJob
# takes a queue by name or ARN, a job definition as `name`, `name:revision` or its ARN with or
# without the revision (https://docs.aws.amazon.com/batch/latest/APIReference/API_SubmitJob.html).
# ARNs: arn:<partition>:batch:<region>:<account>:job-queue/<name>, …:job-definition/<name>[:<revision>],
# …:consumable-resource/<name> (Service Authorization Reference, "Actions, resources, and condition
# keys for AWS Batch": https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsbatch.html).
JOB_QUEUE = "job-queue"
JOB_DEFINITION = "job-definition"
CONSUMABLE_RESOURCE = "consumable-resource"

_BATCH_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}")
_REVISION = re.compile(r"[1-9][0-9]*")
# CreateConsumableResource documents no character set for consumableResourceName
# (https://docs.aws.amazon.com/batch/latest/APIReference/API_CreateConsumableResource.html): refuse
# only what would change the meaning of the ARN the policy names: IAM wildcards (* ?), policy
# variables (${...}), ARN separators, spaces, and what cannot be written (controls, surrogates).
_CONSUMABLE_NAME_UNSAFE = re.compile(r"[*?$:/\s]")
_ARN_PARTS = 6


@lru_cache(maxsize=4096)
def batch_reference_problem(resource_type: str, text: str, partition: str | None) -> str | None:
    """Why `text` is not a name or ARN of a Batch `resource_type` (JOB_QUEUE, JOB_DEFINITION,
    CONSUMABLE_RESOURCE) that SubmitJob accepts, or None. `partition` is the state's own (its
    Resource ARN's); None when it is only known at deploy time."""
    if text.startswith("arn:") and text.count(":") >= _ARN_PARTS - 1:
        return _arn_problem(resource_type, text, partition)
    return _name_problem(resource_type, text)


def _name_problem(resource_type: str, text: str) -> str | None:
    if resource_type == JOB_DEFINITION:
        name, colon, revision = text.partition(":")
        if colon and not _REVISION.fullmatch(revision):
            return f"{_short(text)} is not a job definition `name:revision` (the revision is a number from 1)"
    else:
        name = text
    if resource_type == CONSUMABLE_RESOURCE:
        if not name:
            return "a consumable resource name cannot be empty"
        bad = next((c for c in name if _CONSUMABLE_NAME_UNSAFE.match(c) or not c.isprintable()), None)
        if bad is not None:
            return (
                f"{_short(text)} holds {bad!r}: a consumable resource name policygen grants has no wildcard "
                "(* ?), policy variable ($), ARN separator (: /), space or unprintable character"
            )
        return None
    if not _BATCH_NAME.fullmatch(name):
        label = "job queue" if resource_type == JOB_QUEUE else "job definition"
        return (
            f"{_short(text)} is not a {label} name or ARN: a name is 1 to 128 letters, digits, hyphens and "
            "underscores"
        )
    return None


def _arn_problem(resource_type: str, text: str, partition: str | None) -> str | None:
    _, arn_partition, service, region, account, resource = text.split(":", _ARN_PARTS - 1)
    if "*" in text or "?" in text:
        return f"{_short(text)} is an ARN with a wildcard; name one {resource_type}"
    if arn_partition not in PARTITIONS:
        return f"{_short(text)} is not in an AWS partition ({', '.join(PARTITIONS)})"
    if partition is not None and arn_partition != partition:
        return f"{_short(text)} is in the partition {arn_partition}, but the state's Resource is in {partition}"
    if service != "batch":
        return f"{_short(text)} is not an AWS Batch ARN"
    if not is_region(region) or partition_of_region(region) != arn_partition:
        return f"{_short(text)} does not name a region of the partition {arn_partition}"
    if not is_account(account):
        return f"{_short(text)} does not name a 12-digit account"
    kind, slash, name = resource.partition("/")
    if kind != resource_type or not slash:
        return f"{_short(text)} is not a {resource_type} ARN"
    return _name_problem(resource_type, name)


def _short(text: str) -> str:
    """`text` quoted on one line, long ones cut (an error names the value, it need not repeat it)."""
    return repr(text if len(text) <= 80 else text[:77] + "...")
