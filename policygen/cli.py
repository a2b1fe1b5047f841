"""The `policygen` command: parses arguments, calls the library, maps errors to exit codes."""

from __future__ import annotations

import contextvars
import gc
import os
import sys

import typer

from policygen import __version__, cli_options
from policygen.cli_audit import audit
from policygen.cli_options import (
    CHECK,
    INPUT_TYPE,
    MAX_INPUT_SIZE,
    PATHS,
    SUBSTITUTE,
    TERRAFORM_PROVIDER,
    FailOn,
    InputType,
    LintFormat,
    Mode,
    PolicyFormat,
    ScanFormat,
    TerraformProvider,
    input_progress,
)
from policygen.cli_options import warn as _warn
from policygen.errors import EXIT_INPUT_ERROR, EXIT_INTERNAL_ERROR, PolicygenError

try:  # newer typer carries its own copy of click, whose argument errors derive from TyperException
    from typer import TyperException as _ArgumentError
except ImportError:  # older typer uses click itself
    from click import ClickException as _ArgumentError

app = typer.Typer(
    name="policygen",
    help="Least-privilege IAM policies for Step Functions state machines that call AWS Batch.",
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish, PowerShell
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command()(audit)  # declared in cli_audit.py, typer only like this module


def _version(value: bool) -> None:
    if value:
        typer.echo(f"policygen {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    debug: bool = typer.Option(False, "--debug", help="Show Python tracebacks for errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """Least-privilege IAM execution roles for Step Functions state machines: AWS Batch in depth, and every other integration."""


def _substitutions(values: list[str]) -> dict:
    from policygen.load.asl import parse_substitutions

    return parse_substitutions(values)


def _limit_input_size(text: str) -> None:
    from policygen.load.document import parse_size, set_input_size_limit
    set_input_size_limit(parse_size(text))


def _input_type(value: InputType | None) -> str | None:
    return None if value is None else value.value

@app.command()
def scan(
    paths: list[str] = PATHS,
    output_format: ScanFormat = typer.Option(ScanFormat.table, "--format", "-f", help="table or json."),
    input_type: InputType | None = INPUT_TYPE,
    max_input_size: str = MAX_INPUT_SIZE,
    substitute: list[str] = SUBSTITUTE,
) -> None:
    """List the AWS Batch Task states in the definitions and what each one sends."""
    from policygen import pipeline
    from policygen.render import scan_report
    from policygen.write.atomic import write_output

    _limit_input_size(max_input_size)
    with input_progress() as progress:
        tasks = pipeline.scan_files(paths, _input_type(input_type), _substitutions(substitute), _warn, progress)
    if output_format is ScanFormat.json:
        write_output(scan_report.render_scan_json(tasks), None)
    elif tasks:
        write_output(scan_report.render_scan_table(tasks), None)
    else:
        typer.echo("policygen: no AWS Batch Task state found", err=True)


@app.command()
def generate(
    paths: list[str] = PATHS,
    region: str | None = typer.Option(None, "--region", metavar="REGION", help="AWS region of the state machine (else AWS_REGION, AWS_DEFAULT_REGION, or the definition's ARNs)."),
    account: str | None = typer.Option(None, "--account", metavar="ACCOUNT", help="12-digit AWS account id (else the definition's ARNs)."),
    output_format: PolicyFormat = typer.Option(PolicyFormat.json, "--format", "-f", help="json: one IAM policy document; cloudformation (YAML) or cloudformation-json: an execution role (or, with --attach-to, a policy) per state machine; terraform: an aws_iam_policy_document per state machine."),
    output: str | None = typer.Option(None, "--output", "-o", metavar="FILE|DIR", help="Write to this file (whole or not at all; a FIFO or device is written through) instead of stdout; into an existing directory, or a new one for several state machines in json, a file per machine (<name>.json, .yaml, .tf), all or none."),
    mode: Mode = typer.Option(Mode.documented, "--mode", help="documented: AWS's documented policy; fine-grained: only the queues, job definitions and tags the states use."),
    tags: list[str] = typer.Option([], "--tag", metavar="KEY=VALUE", help="(repeatable, fine-grained mode) SubmitJob requires this request tag, TerminateJob this resource tag."),
    allow_untagged: bool = typer.Option(False, "--allow-untagged", help="Warn, instead of failing, when a state does not send a --tag."),
    explain: bool = typer.Option(False, "--explain", help="Print to stderr, per statement, which states need it and why."),
    input_type: InputType | None = INPUT_TYPE,
    max_input_size: str = MAX_INPUT_SIZE,
    partition: str | None = typer.Option(None, "--partition", metavar="PARTITION", help="aws, aws-cn or aws-us-gov (else the Task states' Resource ARNs, else the region's)."),
    state_machines: list[str] = typer.Option([], "--state-machine", metavar="NAME", help="(repeatable) Only this state machine (its logical id, Terraform address or serverless name); by default each one."),
    merge: bool = typer.Option(False, "--merge", help="One policy covering all the state machines."),
    attach_to: str | None = typer.Option(None, "--attach-to", metavar="ROLE_LOGICAL_ID", help="(CloudFormation) An AWS::IAM::Policy attached to this existing role instead of a new role."),
    managed: bool = typer.Option(False, "--managed", help="With --attach-to: an AWS::IAM::ManagedPolicy instead of an AWS::IAM::Policy."),
    substitute: list[str] = SUBSTITUTE,
    check: str | None = CHECK,
    terraform_provider: TerraformProvider = TERRAFORM_PROVIDER, services: str | None = cli_options.SERVICES,
    state_machine_name: str | None = cli_options.STATE_MACHINE_NAME, logging: bool = cli_options.LOGGING, tracing: bool = cli_options.TRACING,
    kms_key: str | None = cli_options.KMS_KEY, redrive: bool = cli_options.REDRIVE,
) -> None:
    """Write the least-privilege IAM policy (the whole execution role) the definitions' Task states need."""
    from policygen import pipeline
    from policygen.write.atomic import write_output
    from policygen.write.check import check_outputs
    from policygen.write.directory import DirectoryWriter

    _limit_input_size(max_input_size)
    settings = pipeline.Settings(
        options=pipeline.Options(mode=mode.value, required_tags=pipeline.parse_required_tags(tags, mode is Mode.fine_grained)),
        output_format=output_format.value, region=region, account=account, partition=partition, allow_untagged=allow_untagged,
        merge=merge, attach_to=attach_to, managed=managed, terraform_provider=int(terraform_provider.value), environment=os.environ,
        services=pipeline.parse_services(services), machine=pipeline.MachineOptions(state_machine_name, logging, tracing, kms_key, redrive))
    with DirectoryWriter(output or "") as directory, input_progress() as progress:  # -o DIR: written as made, put in place by commit()
        outputs = pipeline.generate_files(paths, settings, _warn, _input_type(input_type), _substitutions(substitute),
                                          state_machines, check or output, progress, None if check else directory, explain)
        for report in outputs.reports(explain):
            _warn(report.warnings)
            typer.echo(report.explanation, err=True, nl=False)
        if check is not None:
            write_output(difference := check_outputs(outputs, check, output_format.value, output), None)
            raise typer.Exit(1 if difference else 0)
        if outputs.text is not None:
            write_output(outputs.text, output)
        else:
            directory.commit()


def main() -> None:
    """Console entry point: one line and exit code 2 for bad input, never a traceback unless --debug."""
    # One run, then exit: the parsed definitions live until the end and hold no reference cycles,
    # so the collector's full passes over a large template are pure cost (bench/run.py, one-large-file row).
    # Re-enabled on the way out for callers that run main() in-process (the tests).
    gc.disable()
    try:
        # A context of its own: --max-input-size holds for this run only (tests run many in-process).
        contextvars.copy_context().run(_main)
    finally:
        gc.enable()


def _main() -> None:
    debug = "--debug" in sys.argv[1:]
    try:
        # Not standalone: click's own usage errors (e.g. a bad --format) come back here, to be
        # rendered as one line like every other input error.
        code = app(standalone_mode=False)
    except _ArgumentError as error:
        if type(error).__name__ == "NoArgsIsHelpError":  # `policygen` alone: the help, as before
            error.show()
        else:
            typer.echo(f"policygen: error: {' '.join(error.format_message().split())}", err=True)
        sys.exit(error.exit_code)
    except typer.Abort:
        typer.echo("policygen: aborted", err=True)
        sys.exit(1)
    except PolicygenError as error:
        if debug:
            raise
        typer.echo(f"policygen: error: {error}", err=True)
        sys.exit(EXIT_INPUT_ERROR)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:  # a bug in policygen: say so in one line
        if debug:
            raise
        typer.echo(
            f"policygen: internal error: {type(error).__name__}: {error} (run with --debug for the traceback)",
            err=True,
        )
        sys.exit(EXIT_INTERNAL_ERROR)
    sys.exit(code if isinstance(code, int) else 0)


@app.command()
def lint(
    paths: list[str] = PATHS,
    policies: list[str] = typer.Option([], "--policy", metavar="FILE", help="(repeatable) An IAM policy document of the execution role; several are one role's policies. Without it, a CloudFormation/SAM template's own roles are linted."),
    trust_policy: str | None = typer.Option(None, "--trust-policy", metavar="FILE", help="The role's trust policy (AssumeRolePolicyDocument), checked for states.amazonaws.com."),
    live_role: str | None = typer.Option(None, "--role", metavar="ROLE_NAME_OR_ARN", help="Read the role from AWS IAM with boto3 (trust policy, inline and attached managed policies) instead of --policy files; uses the standard AWS environment (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL...). Needs pip install 'policygen[live]'."),
    region: str | None = typer.Option(None, "--region", metavar="REGION", help="AWS region of the state machine (else AWS_REGION, AWS_DEFAULT_REGION, or the definition's ARNs); unknown: ARNs are matched with the region left open."),
    account: str | None = typer.Option(None, "--account", metavar="ACCOUNT", help="12-digit AWS account id (else the definition's ARNs); unknown: ARNs are matched with the account left open."),
    partition: str | None = typer.Option(None, "--partition", metavar="PARTITION", help="aws, aws-cn or aws-us-gov (else the Task states' Resource ARNs, else the region's)."),
    output_format: LintFormat = typer.Option(LintFormat.text, "--format", "-f", help="text (file:line: PG101 error message), json (docs/lint-output.md) sarif (SARIF 2.1.0 for GitHub code scanning) or gitlab (GitLab Code Quality JSON)."),
    output: str | None = typer.Option(None, "--output", "-o", metavar="FILE", help="Write the report (with --fix: the corrected policy) to this file instead of stdout."),
    fail_on: FailOn | None = typer.Option(None, "--fail-on", help="Exit 1 when a finding is at least this severe: error (default), warning or suggestion."),
    ignore: list[str] = typer.Option([], "--ignore", metavar="RULE", help="(repeatable) Do not report this rule, e.g. --ignore PG301."),
    config: str | None = typer.Option(None, "--config", metavar="FILE", help="The configuration ([tool.policygen.lint] in pyproject.toml, [lint] in .policygen.toml); by default the nearest one."),
    fix: bool = typer.Option(False, "--fix", help="Write the corrected policy (the role's statements with flagged grants removed, Deny statements narrowed by exactly what the states need, and narrow statements for what they lack: nothing the role did not allow, besides what the states need) to stdout, the report then going to stderr; or, with -o, to that file, the report to stdout."),
    input_type: InputType | None = INPUT_TYPE,
    max_input_size: str = MAX_INPUT_SIZE,
    state_machines: list[str] = typer.Option([], "--state-machine", metavar="NAME", help="(repeatable) Only this state machine; by default each one."),
    substitute: list[str] = SUBSTITUTE,
) -> None:
    """Check an execution role against what the definitions' Batch states need.

    Exit codes: 0 no finding at or above --fail-on, 1 at least one, 2 usage or input error.

    \b
    Rules: docs/rules.md
    Formats and configuration: docs/lint-output.md
    """
    import json

    from policygen import pipeline_lint as pipeline
    from policygen.render.lint_formats import render_lint
    from policygen.write.atomic import check_output, write_output

    check_output(output)  # before the report goes to stdout (with --fix) or any work is done
    _limit_input_size(max_input_size)
    request = pipeline.LintRequest(
        tuple(paths), tuple(policies), trust_policy, live_role, region, account, partition, _input_type(input_type),
        _substitutions(substitute), tuple(state_machines), tuple(ignore), fail_on and fail_on.value, config, fix, os.environ,
    )
    with input_progress() as progress:
        result = pipeline.lint_files(request, _warn, progress)
    rendered = render_lint(result.findings, output_format.value, result.skipped, result.suppressed)
    if result.fixed is not None:
        typer.echo(rendered, err=output is None, nl=False)
        write_output(json.dumps(result.fixed, indent=2, ensure_ascii=False) + "\n", output)
    else:
        write_output(rendered, output)
    if result.fails:
        raise typer.Exit(1)
