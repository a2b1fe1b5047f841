"""The one place the flow is wired: load -> scan -> requirements -> generate | lint -> render, for the CLI and
library users (load_state_machines, scan_state_machines, generate_policy, generate_outputs, lint)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Iterable, Iterator, Mapping, Sequence

from policygen.errors import Notice, UsageError
from policygen.generate.build import Generated, generate_policy
from policygen.iam import catalog
from policygen.load import load_document
from policygen.load.asl import StateMachine, substitute_placeholders
from policygen.load.sources import state_machines_from
from policygen.render import cloudformation, terraform
from policygen.render.outputs import (
    CLOUDFORMATION,
    CLOUDFORMATION_JSON,
    FILE_SUFFIXES,
    FORMATS,
    JSON,
    TERRAFORM,
    Outputs,
    Settings,
    Unit,
    render_outputs,
)
from policygen.requirements.deploy_time import DeployTimeValues
from policygen.requirements.needs import Options
from policygen.requirements.target import (
    Target,
    validate_account,
    validate_partition,
    validate_region,
)
from policygen.scan import BatchTask, scan
from policygen.write.directory import file_names

__all__ = ["Generated", "LoadResult", "Options", "Outputs", "Settings", "generate_outputs", "generate_policy",
           "load_state_machines", "scan_state_machines", "select_state_machines"]

@dataclass(frozen=True)
class LoadResult:
    """The state machines in the input files, in order, and warnings about the ones that could not
    be read offline (a definition in S3, one only known after apply). Iterates as the machines."""

    machines: tuple[StateMachine, ...]
    warnings: tuple[Notice, ...] = ()

    def __iter__(self) -> Iterator[StateMachine]:
        return iter(self.machines)

    def __len__(self) -> int:
        return len(self.machines)

    def __getitem__(self, index: int) -> StateMachine:
        return self.machines[index]


def load_state_machines(
    paths: Iterable[str], input_type: str | None = None, substitutions: Mapping[str, str] | None = None
) -> LoadResult:
    """Every state machine in `paths`: ASL files, CloudFormation/SAM templates, Terraform plan JSON
    and serverless.yml, each detected from its content unless `input_type` (one of
    policygen.load.sources.INPUT_TYPES) says which. `substitutions` (--substitute) fill the
    `${NAME}` placeholders of loose ASL files (policygen.load.asl.substitute_placeholders)."""
    machines: list[StateMachine] = []
    warnings: list[Notice] = []
    used: set[str] = set()
    for path in paths:
        found, notices = state_machines_from(load_document(path), input_type)
        machines.extend(substitute_placeholders(machine, substitutions or {}, used) for machine in found)
        warnings.extend(notices)
    for name in sorted(set(substitutions or {}) - used):
        # A misspelt NAME would leave its placeholder open: say so rather than pass quietly.
        warnings.append(Notice(
            f"--substitute {name}: no ASL definition file has the placeholder ${{{name}}} "
            "(a template's definition is filled by its own substitutions, never by --substitute)"
        ))
    return LoadResult(tuple(machines), tuple(warnings))


def select_state_machines(machines: Iterable[StateMachine], names: Iterable[str]) -> tuple[StateMachine, ...]:
    """The machines with these names (all of them when `names` is empty), in input order; a name
    that matches none is a UsageError listing the names there are."""
    machines = tuple(machines)
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return machines
    available = list(dict.fromkeys(machine.name for machine in machines))
    unknown = [name for name in wanted if name not in available]
    if unknown:
        raise UsageError(
            f"no state machine named {', '.join(map(repr, unknown))}; "
            f"the input has: {', '.join(available) if available else 'none'}"
        )
    return tuple(machine for machine in machines if machine.name in wanted)


@lru_cache(maxsize=1)
def _known_batch_actions() -> frozenset[str]:
    return catalog.action_names("batch")


def scan_state_machines(machines: Iterable[StateMachine]) -> list[BatchTask]:
    known = _known_batch_actions()
    return [task for machine in machines for task in scan(machine, known)]


# --- generate: state machines -> policies -> the text of each output file ----------------------
# Everything is built before anything is written, so a failure leaves no file half-done. The CLI
# prints the warnings and explanations and writes the files.

# AWS CloudFormation User Guide, "Pseudo parameters reference".
_ALL_PSEUDO_PARAMETERS = (
    "AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region",
    "AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
)


def generate_outputs(machines: Sequence[StateMachine], source_names: Sequence[str], settings: Settings, per_machine_files: bool) -> Outputs:
    """The policies for `machines` in the requested format: with `per_machine_files` (and no
    --merge) a file per machine, in every format; else one text. JSON is one document, so several
    machines need --merge or a file each; CloudFormation and Terraform hold every machine's role or
    policy document in one snippet."""
    if settings.output_format not in FORMATS:
        raise UsageError(f"unknown format {settings.output_format!r}; expected one of {', '.join(FORMATS)}")
    if settings.attach_to is not None or settings.managed:
        _check_attach(settings)
    several = len(machines) > 1
    if settings.output_format == JSON and several and not settings.merge and not per_machine_files:
        raise UsageError(
            f"{len(machines)} state machines ({', '.join(m.name for m in machines)}): pass -o DIR "
            "for a policy file per machine, --merge for one policy covering all, or --state-machine NAME"
        )
    groups = [list(machines)] if settings.merge or not several else [[m] for m in machines]
    target = _fixed_target(settings)
    options = _with_deploy_time(settings, machines)
    units = []
    references = []  # per unit, what a `${...}` in its CloudFormation output may refer to
    for group in groups:
        names = [m.name for m in group]
        generated = generate_policy(
            scan_state_machines(group),
            settings.region,
            settings.account,
            settings.environment,
            source_names=[f"state machine {n!r}" for n in names] if several and not settings.merge else source_names,
            options=options,
            allow_untagged=settings.allow_untagged,
            partition=settings.partition,
            target=target,
        )
        unit_name = names[0] if len(names) == 1 else "merged"
        sources = tuple(dict.fromkeys(m.file for m in group)) or tuple(source_names)
        units.append(Unit(unit_name, sources, generated))
        references.append(_template_names(group))
    per_machine = per_machine_files and not settings.merge
    if per_machine and settings.output_format == TERRAFORM and len(units) > 1:
        # A directory of .tf files is one module: a file per machine would declare the same
        # aws_partition/aws_region/aws_caller_identity data sources in each, which Terraform refuses.
        raise UsageError(
            f"{len(units)} state machines into a directory: --format terraform writes them all to one "
            "file (-o FILE.tf), or pick one with --state-machine"
        )
    if settings.attach_to is not None:
        empty = [unit.name for unit in units if not unit.generated.policy.statements]
        if empty:
            # IAM refuses a policy without statements: there is nothing to attach.
            raise UsageError(
                f"no AWS Batch Task state in {', '.join(empty)}: no policy to attach to {settings.attach_to}"
            )
    if per_machine:
        names = file_names([unit.name for unit in units], FILE_SUFFIXES[settings.output_format])
        files = tuple(
            (names[unit.name], render_outputs((unit,), settings, target, (references[index],)).text)
            for index, unit in enumerate(units)
        )
        return Outputs(tuple(units), None, files)
    return render_outputs(tuple(units), settings, target, tuple(references))


def _check_attach(settings: Settings) -> None:
    if settings.output_format not in (CLOUDFORMATION, CLOUDFORMATION_JSON):
        raise UsageError("--attach-to and --managed need --format cloudformation or cloudformation-json")
    if settings.attach_to is None:
        raise UsageError("--managed needs --attach-to ROLE_LOGICAL_ID")
    if not settings.attach_to.isalnum():
        raise UsageError(f"--attach-to {settings.attach_to!r}: a CloudFormation logical id is alphanumeric")


def _fixed_target(settings: Settings) -> Target | None:
    """CloudFormation and Terraform name the partition, region and account of wherever they are
    deployed (pseudo parameters, data sources) unless the flags fix them; JSON resolves them."""
    if settings.output_format == JSON:
        return None
    pseudo = terraform if settings.output_format == TERRAFORM else cloudformation
    return Target(
        partition=validate_partition(settings.partition) if settings.partition else pseudo.PSEUDO_PARTITION,
        region=validate_region(settings.region) if settings.region else pseudo.PSEUDO_REGION,
        account=validate_account(settings.account) if settings.account else pseudo.PSEUDO_ACCOUNT,
        region_source="--region" if settings.region else settings.output_format,
        account_source="--account" if settings.account else settings.output_format,
    )


def _template_names(machines: Sequence[StateMachine]) -> frozenset[str]:
    """What a `${...}` in these machines' policy may refer to in CloudFormation: the pseudo
    parameters, and the parameters and resources of the templates they came from. Anything else
    (a placeholder in a plain ASL file, a template's escaped `${!Literal}`) is literal text."""
    names = set(cloudformation.PSEUDO_REFERENCES)
    for machine in machines:
        if machine.template is not None:
            names.update(machine.template.parameters)
            names.update(machine.template.resources)
            names.update(_ALL_PSEUDO_PARAMETERS)
    return frozenset(names)


def _with_deploy_time(settings: Settings, machines: Sequence[StateMachine]) -> Options:
    templates = {(m.file, m.name): m.template for m in machines if m.template is not None}
    if not templates:
        return settings.options
    keep = settings.output_format in (CLOUDFORMATION, CLOUDFORMATION_JSON)
    return replace(settings.options, deploy_time=DeployTimeValues(templates, keep_references=keep))


