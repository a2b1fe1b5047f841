"""The command line's choices and shared arguments, declared once for cli.py's commands, and what
they write to stderr besides errors: warnings, and on a terminal the bar over many input files."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import Enum
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from policygen.errors import Notice
    from policygen.render.progress import ProgressBar


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


MAX_INPUT_SIZE = typer.Option(
    "100M",
    "--max-input-size",
    metavar="BYTES",
    help="The most one input file (or stdin) may hold, in bytes or with K, M or G (powers of 1024); a larger one is an error.",
)


# --- policygen lint ------------------------------------------------------------------------------


class LintFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    gitlab = "gitlab"


class FailOn(str, Enum):
    error = "error"
    warning = "warning"
    suggestion = "suggestion"


# --- policygen generate --------------------------------------------------------------------------

CHECK = typer.Option(
    None,
    "--check",
    metavar="FILE|DIR",
    help="Write nothing: exit 1 with a unified diff on stdout when FILE (or DIR's file per state machine) differs "
    "from what these options would generate now, 0 when it is current.",
)


class TerraformProvider(str, Enum):
    v6 = "6"
    v5 = "5"


TERRAFORM_PROVIDER = typer.Option(
    TerraformProvider.v6,
    "--terraform-provider",
    help="(--format terraform) The AWS provider's major version: 6 reads the region as data.aws_region.current.region, "
    "5 as data.aws_region.current.name (deprecated in 6).",
)
SERVICES = typer.Option(
    None,
    "--services",
    metavar="NAME,...",
    help="Only these integrations' statements (e.g. batch,lambda; an AWS SDK call by its service, e.g. s3), for a "
    "policy attached beside others; by default the whole role every state needs. Warns about what it leaves out.",
)


# --- stderr: warnings, and the progress bar over the input files ---------------------------------

# The bar of the command running now (cli.main runs each command in a context of its own).
_BAR: ContextVar[ProgressBar | None] = ContextVar("policygen_progress_bar", default=None)


@contextmanager
def input_progress() -> Iterator[ProgressBar | None]:
    """The `progress` callback the pipeline reports each input file to: a bar when stderr is a
    terminal and there are at least MIN_FILES files, else nothing drawn (None off a terminal, so
    stderr, piped or in CI, never holds a bar). Cleared when the last file is read, before any
    warning, and when the block ends, also by an error, so every other line starts clean."""
    if not sys.stderr.isatty():
        yield None
        return
    from policygen.render.progress import MIN_FILES, ProgressBar  # only on a terminal: no start-up cost in CI

    with ProgressBar(sys.stderr, "files", MIN_FILES) as bar:
        token = _BAR.set(bar)
        try:
            yield bar
        finally:
            _BAR.reset(token)


def warn(notices: Iterable[Notice]) -> None:
    """Each warning as a `policygen: warning: ...` line on stderr, the progress bar cleared first."""
    bar = _BAR.get()
    for notice in notices:
        if bar is not None:
            bar.clear()
        typer.echo(f"policygen: warning: {notice}", err=True)


# What a plain ASL file does not say about its state machine (a template sets it on the resource).
STATE_MACHINE_NAME = typer.Option(
    None,
    "--state-machine-name",
    metavar="NAME",
    help="(plain ASL) The name the state machine is deployed under, for the grants on its own ARN (Distributed Map "
    "child executions, the KMS key's encryption context); without it they name every state machine (*), with a warning.",
)
LOGGING = typer.Option(
    False,
    "--logging",
    help="(plain ASL) The state machine logs to CloudWatch Logs (a LoggingConfiguration Level other than OFF): grant the log delivery actions.",
)
TRACING = typer.Option(False, "--tracing", help="(plain ASL) X-Ray tracing is on (TracingConfiguration Enabled): grant the trace actions.")
KMS_KEY = typer.Option(
    None,
    "--kms-key",
    metavar="KEY",
    help="(plain ASL) The customer-managed KMS key (key ARN or id) the state machine is encrypted with: grant its use "
    "in the machine's encryption context.",
)
REDRIVE = typer.Option(
    False,
    "--redrive",
    help="Also grant what redriving an execution needs: a Distributed Map redrives its failed child executions.",
)
