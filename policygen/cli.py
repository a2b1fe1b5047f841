"""The `policygen` command: parses arguments, calls the library, maps errors to exit codes."""

from __future__ import annotations

import contextvars
import gc
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


class InputType(str, Enum):
    asl = "asl"
    cloudformation = "cloudformation"
    terraform_plan = "terraform-plan"
    serverless = "serverless"


class PolicyFormat(str, Enum):
    json = "json"
    cloudformation = "cloudformation"
    cloudformation_json = "cloudformation-json"
    terraform = "terraform"


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


PATHS = typer.Argument(
    ...,
    metavar="DEFINITION",
    help="State machine definitions: ASL (JSON or YAML), CloudFormation or SAM templates, "
    "`terraform show -json` plans, serverless.yml; - reads stdin.",
    show_default=False,
)
INPUT_TYPE = typer.Option(
    None,
    "--input-type",
    help="asl, cloudformation (also SAM), terraform-plan or serverless: what the files are; by default detected from each one's content.",
)
SUBSTITUTE = typer.Option(
    [],
    "--substitute",
    metavar="NAME=VALUE",
    help="(repeatable) Fill the placeholder ${NAME} in ASL definition files (DefinitionSubstitutions, "
    "Terraform templatefile variables) with VALUE before scanning; templates keep their own substitutions.",
)


def _substitutions(values: List[str]) -> dict:
    from policygen.load.asl import parse_substitutions

    return parse_substitutions(values)


MAX_INPUT_SIZE = typer.Option(
    "100M",
    "--max-input-size",
    metavar="BYTES",
    help="The most one input file (or stdin) may hold, in bytes or with K, M or G (powers of 1024); a larger one is an error.",
)


def _limit_input_size(text: str) -> None:
    from policygen.load.document import parse_size, set_input_size_limit

    set_input_size_limit(parse_size(text))


def _input_type(value: "InputType | None") -> str | None:
    return None if value is None else value.value


def _warn(notices) -> None:
    for notice in notices:
        typer.echo(f"policygen: warning: {notice}", err=True)


@app.command()
def scan(
    paths: List[str] = PATHS,
    output_format: ScanFormat = typer.Option(ScanFormat.table, "--format", "-f", help="table or json."),
    input_type: Optional[InputType] = INPUT_TYPE,
    max_input_size: str = MAX_INPUT_SIZE,
    substitute: List[str] = SUBSTITUTE,
) -> None:
    """List the AWS Batch Task states in the definitions and what each one sends."""
    from policygen import pipeline
    from policygen.render import scan_report
    from policygen.write.atomic import write_output

    _limit_input_size(max_input_size)
    loaded = pipeline.load_state_machines(paths, _input_type(input_type), _substitutions(substitute))
    _warn(loaded.warnings)
    tasks = pipeline.scan_state_machines(loaded)
    if output_format is ScanFormat.json:
        write_output(scan_report.render_scan_json(tasks), None)
    elif tasks:
        write_output(scan_report.render_scan_table(tasks), None)
    else:
        typer.echo("policygen: no AWS Batch Task state found", err=True)


@app.command()
def generate(
    paths: List[str] = PATHS,
    region: Optional[str] = typer.Option(None, "--region", metavar="REGION", help="AWS region of the state machine (else AWS_REGION, AWS_DEFAULT_REGION, or the definition's ARNs)."),
    account: Optional[str] = typer.Option(None, "--account", metavar="ACCOUNT", help="12-digit AWS account id (else the definition's ARNs)."),
    output_format: PolicyFormat = typer.Option(PolicyFormat.json, "--format", "-f", help="json: one IAM policy document; cloudformation (YAML) or cloudformation-json: an execution role (or, with --attach-to, a policy) per state machine; terraform: an aws_iam_policy_document per state machine."),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE|DIR", help="Write to this file (whole or not at all; a FIFO or device is written through) instead of stdout; into an existing directory, or a new one for several state machines in json, a file per machine (<name>.json, .yaml, .tf), all or none."),
    mode: Mode = typer.Option(Mode.documented, "--mode", help="documented: AWS's documented policy; fine-grained: only the queues, job definitions and tags the states use."),
    tags: List[str] = typer.Option([], "--tag", metavar="KEY=VALUE", help="(repeatable, fine-grained mode) SubmitJob requires this request tag, TerminateJob this resource tag."),
    allow_untagged: bool = typer.Option(False, "--allow-untagged", help="Warn, instead of failing, when a state does not send a --tag."),
    explain: bool = typer.Option(False, "--explain", help="Print to stderr, per statement, which states need it and why."),
    input_type: Optional[InputType] = INPUT_TYPE,
    max_input_size: str = MAX_INPUT_SIZE,
    partition: Optional[str] = typer.Option(None, "--partition", metavar="PARTITION", help="aws, aws-cn or aws-us-gov (else the Task states' Resource ARNs, else the region's)."),
    state_machines: List[str] = typer.Option([], "--state-machine", metavar="NAME", help="(repeatable) Only this state machine (its logical id, Terraform address or serverless name); by default each one."),
    merge: bool = typer.Option(False, "--merge", help="One policy covering all the state machines."),
    attach_to: Optional[str] = typer.Option(None, "--attach-to", metavar="ROLE_LOGICAL_ID", help="(CloudFormation) An AWS::IAM::Policy attached to this existing role instead of a new role."),
    managed: bool = typer.Option(False, "--managed", help="With --attach-to: an AWS::IAM::ManagedPolicy instead of an AWS::IAM::Policy."),
    substitute: List[str] = SUBSTITUTE,
) -> None:
    """Write the least-privilege IAM policy the definitions' Batch states need."""
    from policygen import pipeline
    from policygen.pipeline import Settings, generate_outputs
    from policygen.requirements.needs import Options
    from policygen.write.atomic import write_output

    _limit_input_size(max_input_size)
    settings = Settings(
        output_format=output_format.value,
        options=Options(mode=mode.value, required_tags=_parse_tags(tags, mode)),
        region=region,
        account=account,
        partition=partition,
        allow_untagged=allow_untagged,
        merge=merge,
        attach_to=attach_to,
        managed=managed,
        environment=os.environ,
    )
    loaded = pipeline.load_state_machines(paths, _input_type(input_type), _substitutions(substitute))
    _warn(loaded.warnings)
    machines = pipeline.select_state_machines(loaded.machines, state_machines)
    # -o DIR: a file per machine into an existing directory in every format; a new directory
    # only for JSON, one document per file (CloudFormation and Terraform take every machine in one).
    per_machine_files = output is not None and (
        os.path.isdir(output) or (len(machines) > 1 and output_format is PolicyFormat.json)
    )
    outputs = generate_outputs(machines, paths, settings, per_machine_files)
    for index, unit in enumerate(outputs.units):
        _warn(unit.generated.warnings)
        header = (("\n" if index else "") + f"# {unit.name}\n") if len(outputs.units) > 1 else ""
        _explain(unit.generated, explain, header)
    if outputs.text is not None:
        write_output(outputs.text, output)
        return
    from policygen.write.directory import write_directory

    write_directory(output, outputs.files)


def _explain(generated, explain: bool, header: str = "") -> None:
    if explain:
        from policygen.render.explain import render_explanation

        typer.echo(header + render_explanation(generated.policy), err=True, nl=False)


def _parse_tags(tags: List[str], mode: "Mode") -> tuple[tuple[str, str], ...]:
    from policygen.errors import UsageError
    from policygen.iam import aws_names

    if tags and mode is not Mode.fine_grained:
        raise UsageError("--tag needs --mode fine-grained")
    pairs: dict[str, str] = {}
    for tag in tags:
        key, separator, value = tag.partition("=")
        if not separator or not key:
            raise UsageError(f"--tag {tag!r}: expected KEY=VALUE")
        problem = aws_names.tag_problem(key, value)
        if problem is not None:
            raise UsageError(f"--tag {tag!r}: {problem}")
        if key in pairs and pairs[key] != value:
            raise UsageError(f"--tag {key}: given twice with different values ({pairs[key]!r}, {value!r})")
        pairs[key] = value
    return tuple(sorted(pairs.items()))


def main() -> None:
    """Console entry point: one line and exit code 2 for bad input, never a traceback unless --debug."""
    # One run, then exit: the parsed definitions live until the end and hold no reference cycles,
    # so the collector's full passes over a large template are pure cost (bench/run.py, CLI line).
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


# --- policygen lint ------------------------------------------------------------------------------


class LintFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"


class FailOn(str, Enum):
    error = "error"
    warning = "warning"
    suggestion = "suggestion"


@app.command()
def lint(
    paths: List[str] = PATHS,
    policies: List[str] = typer.Option([], "--policy", metavar="FILE", help="(repeatable) An IAM policy document of the execution role; several are one role's policies. Without it, a CloudFormation/SAM template's own roles are linted."),
    trust_policy: Optional[str] = typer.Option(None, "--trust-policy", metavar="FILE", help="The role's trust policy (AssumeRolePolicyDocument), checked for states.amazonaws.com."),
    live_role: Optional[str] = typer.Option(None, "--role", metavar="ROLE_NAME_OR_ARN", help="Read the role from AWS IAM with boto3 (trust policy, inline and attached managed policies) instead of --policy files; uses the standard AWS environment (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL...). Needs pip install 'policygen[live]'."),
    region: Optional[str] = typer.Option(None, "--region", metavar="REGION", help="AWS region of the state machine (else AWS_REGION, AWS_DEFAULT_REGION, or the definition's ARNs); unknown: ARNs are matched with the region left open."),
    account: Optional[str] = typer.Option(None, "--account", metavar="ACCOUNT", help="12-digit AWS account id (else the definition's ARNs); unknown: ARNs are matched with the account left open."),
    partition: Optional[str] = typer.Option(None, "--partition", metavar="PARTITION", help="aws, aws-cn or aws-us-gov (else the Task states' Resource ARNs, else the region's)."),
    output_format: LintFormat = typer.Option(LintFormat.text, "--format", "-f", help="text (file:line: PG101 error message), json (docs/lint-output.md) or sarif (SARIF 2.1.0 for GitHub code scanning)."),
    output: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE", help="Write the report (with --fix: the corrected policy) to this file instead of stdout."),
    fail_on: Optional[FailOn] = typer.Option(None, "--fail-on", help="Exit 1 when a finding is at least this severe: error (default), warning or suggestion."),
    ignore: List[str] = typer.Option([], "--ignore", metavar="RULE", help="(repeatable) Do not report this rule, e.g. --ignore PG301."),
    config: Optional[str] = typer.Option(None, "--config", metavar="FILE", help="The configuration ([tool.policygen.lint] in pyproject.toml, [lint] in .policygen.toml); by default the nearest one."),
    fix: bool = typer.Option(False, "--fix", help="Write the corrected policy (the role's statements with flagged Batch/EventBridge grants removed, Deny statements narrowed by exactly what the states need, and narrow statements for what they lack: nothing the role did not allow, besides what the states need) to stdout, the report then going to stderr; or, with -o, to that file, the report to stdout."),
    input_type: Optional[InputType] = INPUT_TYPE,
    max_input_size: str = MAX_INPUT_SIZE,
    state_machines: List[str] = typer.Option([], "--state-machine", metavar="NAME", help="(repeatable) Only this state machine; by default each one."),
    substitute: List[str] = SUBSTITUTE,
) -> None:
    """Check an execution role against what the definitions' Batch states need.

    Exit codes: 0 no finding at or above --fail-on, 1 at least one, 2 usage or input error.

    \b
    Rules: docs/rules.md
    Formats and configuration: docs/lint-output.md
    """
    from policygen import pipeline
    from policygen.errors import UsageError
    from policygen.lint.config import check_rule_id, load_config
    from policygen.lint.roles.files import load_role_files
    from policygen.lint.rules import Severity, all_rules
    from policygen.lint.run import run_lint
    from policygen.write.atomic import check_output, write_output

    check_output(output)  # before the report goes to stdout (with --fix) or any work is done
    _limit_input_size(max_input_size)
    known = frozenset(all_rules())
    ignored = {check_rule_id(rule_id, known, "--ignore: ") for rule_id in ignore}
    settings = load_config(config, known)
    if live_role is not None and (policies or trust_policy is not None):
        raise UsageError("--role reads the role's policies and trust policy from AWS: give either --role or --policy/--trust-policy, not both")
    if trust_policy is not None and not policies:
        raise UsageError("--trust-policy goes with --policy (a template's roles bring their own trust policy)")
    if [*paths, *policies, trust_policy].count("-") > 1:
        raise UsageError("- (stdin) is given more than once: only one of the definitions, --policy and --trust-policy can be read from stdin")
    loaded = pipeline.load_state_machines(paths, _input_type(input_type), _substitutions(substitute))
    _warn(loaded.warnings)
    machines = pipeline.select_state_machines(loaded.machines, state_machines)
    tasks = pipeline.scan_state_machines(machines)
    role = load_role_files(policies, trust_policy) if policies else None
    if live_role is not None:
        from policygen.lint.roles.live import read_live_role

        live = read_live_role(live_role, region)
        _warn(live.notices)
        role = live.role
    report = run_lint(machines, tasks, role, region, account, partition, os.environ)
    _warn(report.notices)
    findings = [
        finding
        for finding in report.findings
        if finding.rule.id not in ignored
        and not settings.ignores(
            finding.rule.id,
            [finding.location.file] * (finding.location is not None) + [ref.source for ref in finding.refs],
        )
    ]
    rendered = _render_lint(findings, output_format)
    if fix:
        import json

        from policygen.lint.fix import fixed_policy

        if len(report.units) != 1:
            raise UsageError(
                f"--fix writes one policy, and the input has {len(report.units)} roles to lint: pass --state-machine NAME"
            )
        policy, notes = fixed_policy(report.units[0], findings)
        _warn(notes)
        typer.echo(rendered, err=output is None, nl=False)
        write_output(json.dumps(policy, indent=2, ensure_ascii=False) + "\n", output)
    else:
        write_output(rendered, output)
    threshold = Severity((fail_on.value if fail_on is not None else None) or settings.fail_on or "error")
    if any(finding.severity.rank >= threshold.rank for finding in findings):
        raise typer.Exit(1)


def _render_lint(findings, output_format: "LintFormat") -> str:
    if output_format is LintFormat.json:
        from policygen.render.lint_json import render_lint_json

        return render_lint_json(findings)
    if output_format is LintFormat.sarif:
        from policygen.render.lint_sarif import render_lint_sarif

        return render_lint_sarif(findings)
    from policygen.render.lint_text import render_lint_text

    return render_lint_text(findings)
