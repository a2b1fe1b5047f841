"""The `policygen` command: parses arguments, calls the library, maps errors to exit codes."""

from __future__ import annotations

import os
import sys
from enum import Enum
from typing import List, Optional

import typer

from policygen import __version__
from policygen.errors import PolicygenError

try:  # newer typer carries its own copy of click, whose argument errors derive from TyperException
    from typer import TyperException as _ArgumentError
except ImportError:  # older typer uses click itself
    from click import ClickException as _ArgumentError

EXIT_INPUT_ERROR = 2
EXIT_INTERNAL_ERROR = 3

app = typer.Typer(
    name="policygen",
    help="Least-privilege IAM policies for Step Functions state machines that call AWS Batch.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class ScanFormat(str, Enum):
    table = "table"
    json = "json"


class Mode(str, Enum):
    documented = "documented"
    fine_grained = "fine-grained"


class PolicyFormat(str, Enum):
    json = "json"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"policygen {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    debug: bool = typer.Option(False, "--debug", help="Show Python tracebacks for errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """Least-privilege IAM policies for Step Functions state machines that call AWS Batch."""


PATHS = typer.Argument(..., help="State machine definitions (ASL JSON or YAML); - reads stdin.", show_default=False)


def _warn(notices) -> None:
    for notice in notices:
        typer.echo(f"policygen: warning: {notice}", err=True)


@app.command()
def scan(
    paths: List[str] = PATHS,
    output_format: ScanFormat = typer.Option(ScanFormat.table, "--format", "-f", help="table or json."),
) -> None:
    """List the AWS Batch Task states in the definitions and what each one sends."""
    from policygen import api
    from policygen.output import write_output
    from policygen.render import scan_report

    tasks = api.scan_state_machines(api.load_state_machines(paths))
    if output_format is ScanFormat.json:
        write_output(scan_report.render_scan_json(tasks), None)
    elif tasks:
        write_output(scan_report.render_scan_table(tasks), None)
    else:
        typer.echo("policygen: no AWS Batch Task state found", err=True)


@app.command()
def generate(
    paths: List[str] = PATHS,
    region: Optional[str] = typer.Option(None, "--region", help="AWS region of the state machine (else AWS_REGION, AWS_DEFAULT_REGION, or the definition's ARNs)."),
    account: Optional[str] = typer.Option(None, "--account", help="12-digit AWS account id (else the definition's ARNs)."),
    output_format: PolicyFormat = typer.Option(PolicyFormat.json, "--format", "-f", help="json: one IAM policy document."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write to this file (whole or not at all) instead of stdout."),
    mode: Mode = typer.Option(Mode.documented, "--mode", help="documented: AWS's documented policy; fine-grained: only the queues, job definitions and tags the states use."),
    tags: List[str] = typer.Option([], "--tag", help="KEY=VALUE (repeatable, fine-grained mode): SubmitJob requires this request tag, TerminateJob this resource tag."),
    allow_untagged: bool = typer.Option(False, "--allow-untagged", help="Warn, instead of failing, when a state does not send a --tag."),
    explain: bool = typer.Option(False, "--explain", help="Print to stderr, per statement, which states need it and why."),
) -> None:
    """Write the least-privilege IAM policy the definitions' Batch states need."""
    from policygen import api
    from policygen.output import write_output
    from policygen.render.policy_json import render_policy_json
    from policygen.requirements import Options

    options = Options(mode=mode.value, required_tags=_parse_tags(tags, mode))
    tasks = api.scan_state_machines(api.load_state_machines(paths))
    generated = api.generate_policy(
        tasks, region, account, os.environ, source_names=paths, options=options, allow_untagged=allow_untagged
    )
    _warn(generated.warnings)
    if explain:
        from policygen.render.explain import render_explanation

        typer.echo(render_explanation(generated.policy), err=True, nl=False)
    write_output(render_policy_json(generated.policy), output)


def _parse_tags(tags: List[str], mode: "Mode") -> tuple[tuple[str, str], ...]:
    from policygen.errors import UsageError

    if tags and mode is not Mode.fine_grained:
        raise UsageError("--tag needs --mode fine-grained")
    pairs: dict[str, str] = {}
    for tag in tags:
        key, separator, value = tag.partition("=")
        if not separator or not key:
            raise UsageError(f"--tag {tag!r}: expected KEY=VALUE")
        if key in pairs and pairs[key] != value:
            raise UsageError(f"--tag {key}: given twice with different values ({pairs[key]!r}, {value!r})")
        pairs[key] = value
    return tuple(sorted(pairs.items()))


def main() -> None:
    """Console entry point: one line and exit code 2 for bad input, never a traceback unless --debug."""
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
