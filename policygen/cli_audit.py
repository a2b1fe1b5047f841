"""The `policygen audit` command: typer only, its options parsed and handed to policygen.audit."""

from __future__ import annotations

import typer

from policygen.cli_options import FailOn, LintFormat


def audit(
    regions: list[str] = typer.Option([], "--region", metavar="REGION", help="(repeatable) Audit this region; by default the session's (AWS_REGION, the profile's)."),
    all_regions: bool = typer.Option(False, "--all-regions", help="Every region enabled in each account (ec2:DescribeRegions)."),
    profile: str | None = typer.Option(None, "--profile", metavar="PROFILE", help="The AWS profile to start from (else the standard AWS environment)."),
    assume_role: str | None = typer.Option(None, "--assume-role", metavar="NAME_OR_ARN_TEMPLATE", help="Read each account of --accounts or --organization through this role (a name, or an ARN with {account})."),
    accounts: str | None = typer.Option(None, "--accounts", metavar="ID,ID...", help="With --assume-role: these accounts."),
    organization: bool = typer.Option(False, "--organization", help="With --assume-role: every active account of the organization (organizations:ListAccounts)."),
    output_format: LintFormat = typer.Option(LintFormat.text, "--format", "-f", help="text, json (docs/audit.md), sarif or gitlab (Code Quality)."),
    output: str | None = typer.Option(None, "--output", "-o", metavar="FILE", help="Write the report to this file instead of stdout."),
    concurrency: int = typer.Option(8, "--concurrency", metavar="N", help="Calls in flight at once (1-64)."),
    fail_on: FailOn = typer.Option(FailOn.error, "--fail-on", help="Exit 1 when a finding is at least this severe: error (default), warning or suggestion."),
    print_required_policy: bool = typer.Option(False, "--print-required-policy", help="Print the read-only IAM policy this audit (with these options) needs, and exit."),
) -> None:
    """Lint every deployed state machine (its definition and its execution role) of the accounts and regions.

    Exit codes: 0 no finding at or above --fail-on, 1 at least one (an unreadable state machine
    is an error), 2 nothing could be listed (credentials, endpoint) or a usage error.

    \b
    Report format and required policy: docs/audit.md
    """
    from policygen.audit.command import audit_options, required_policy_text, run_audit_command

    options = audit_options(regions, all_regions, profile, assume_role, accounts, organization, concurrency)
    if print_required_policy:
        typer.echo(required_policy_text(options), nl=False)
        return
    if run_audit_command(options, output_format.value, fail_on.value, output):
        raise typer.Exit(1)
