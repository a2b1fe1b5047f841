"""`policygen audit` from the command line's values: the options checked, the progress bar, the
report written, the warnings shown (policygen/cli.py only parses and calls these)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from policygen.audit import AuditOptions, run_audit
from policygen.audit.aws import required_policy
from policygen.errors import UsageError
from policygen.iam.aws_names import is_account, is_region, partition_of_region
from policygen.render.progress import ProgressBar

MAX_CONCURRENCY = 64


def audit_options(
    regions: Sequence[str],
    all_regions: bool,
    profile: str | None,
    assume_role: str | None,
    accounts: str | None,
    organization: bool,
    concurrency: int,
) -> AuditOptions:
    for region in regions:
        if not is_region(region):
            raise UsageError(f"--region {region!r} is not an AWS region name (e.g. us-east-1)")
    if regions and all_regions:
        raise UsageError("give either --region or --all-regions, not both")
    ids = tuple(dict.fromkeys(item.strip() for item in (accounts or "").split(",") if item.strip()))
    for account in ids:
        if not is_account(account):
            raise UsageError(f"--accounts: {account!r} is not a 12-digit AWS account id")
    if accounts is not None and not ids:
        raise UsageError("--accounts: expected ID,ID... (12-digit AWS account ids)")
    if (ids or organization) and assume_role is None:
        raise UsageError("--accounts and --organization read each account through --assume-role ROLE: give it")
    if ids and organization:
        raise UsageError("give either --accounts or --organization, not both")
    if assume_role is not None and not (ids or organization):
        raise UsageError("--assume-role needs the accounts to read: --accounts ID,ID... or --organization")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise UsageError(f"--concurrency {concurrency}: expected 1 to {MAX_CONCURRENCY}")
    options = AuditOptions(tuple(regions), all_regions, profile, assume_role, ids, organization, concurrency)
    if assume_role is not None:
        assume_role_pattern(options)  # a malformed template fails now, not once per account
    return options


def assume_role_pattern(options: AuditOptions) -> str:
    """The ARN (with * for the account) of the roles --assume-role names."""
    from policygen.audit.collect import role_to_assume

    partition = partition_of_region(options.regions[0]) if options.regions else "aws"
    return role_to_assume(options.assume_role or "", "000000000000", partition).replace(":000000000000:", ":*:", 1)


def required_policy_text(options: AuditOptions) -> str:
    arn = assume_role_pattern(options) if options.assume_role else None
    partition = partition_of_region(options.regions[0]) if options.regions else "aws"
    return json.dumps(required_policy(arn, options.organization, options.all_regions, partition), indent=2) + "\n"


def run_audit_command(options: AuditOptions, output_format: str, fail_on: str, output: str | None) -> bool:
    """Run the audit and write its report; True when a finding reaches `fail_on`."""
    from policygen.write.atomic import check_output, write_output

    check_output(output)
    # Every state machine is a few AWS calls, so even a few are worth a bar (minimum 1).
    progress = ProgressBar(sys.stderr, "state machines") if sys.stderr.isatty() else None
    try:
        outcome = run_audit(options, output_format, fail_on, progress)
    finally:
        if progress is not None:
            progress.clear()  # also when the run stops early: the error line starts clean
    for notice in outcome.notices:
        print(f"policygen: warning: {notice}", file=sys.stderr)
    write_output(outcome.text, output)
    return outcome.failed
