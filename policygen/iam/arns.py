"""ARN helpers shared by the generator and the deploy-time resolver."""

from __future__ import annotations


def is_arn(text: str) -> bool:
    """An ARN has six colon-separated parts: `arn:1` is revision 1 of a job definition named `arn`."""
    return text.startswith("arn:") and text.count(":") >= 5
