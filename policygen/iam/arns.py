"""ARNs: the one place that knows their six colon-separated parts."""

from __future__ import annotations


def is_arn(text: str) -> bool:
    """An ARN has six colon-separated parts: `arn:1` is revision 1 of a job definition named `arn`."""
    return text.startswith("arn:") and text.count(":") >= 5


def arn_parts(text: str) -> list[str]:
    """arn, partition, service, region, account, resource: the resource keeps its own colons
    (`job-definition/name:3`). Text with fewer colons gives fewer parts; callers check the count."""
    return text.split(":", 5)


def arn_resource(text: str) -> str:
    """The resource part of an ARN (pattern): `job-queue/q` of `arn:aws:batch:r:a:job-queue/q`."""
    return arn_parts(text)[-1]
