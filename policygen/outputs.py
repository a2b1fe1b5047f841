"""`policygen generate` end to end: state machines -> policies -> the text of each output file.

Everything is built before anything is written, so a failure leaves no file half-done. The CLI
prints the warnings and explanations and writes the files."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

from policygen import __version__
from policygen import pipeline
from policygen.requirements.deploy_time import DeployTimeValues
from policygen.errors import Notice, UsageError
from policygen.load.asl import StateMachine
from policygen.requirements.needs import Options
from policygen.requirements.target import Target, validate_account, validate_partition, validate_region

JSON = "json"
CLOUDFORMATION = "cloudformation"
CLOUDFORMATION_JSON = "cloudformation-json"
TERRAFORM = "terraform"
FORMATS = (JSON, CLOUDFORMATION, CLOUDFORMATION_JSON, TERRAFORM)
# The name ending of the file per state machine -o DIR writes.
FILE_SUFFIXES = {JSON: ".json", CLOUDFORMATION: ".yaml", CLOUDFORMATION_JSON: ".json", TERRAFORM: ".tf"}
# AWS CloudFormation User Guide, "Pseudo parameters reference".
_ALL_PSEUDO_PARAMETERS = (
    "AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region",
    "AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
)


@dataclass(frozen=True)
class Settings:
    output_format: str = JSON
    options: Options = Options()
    region: str | None = None
    account: str | None = None
    partition: str | None = None
    allow_untagged: bool = False
    merge: bool = False
    attach_to: str | None = None  # CloudFormation: a policy attached to this role instead of a new role
    managed: bool = False
    environment: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Unit:
    """One policy: for one state machine, or (merged) for several."""

    name: str
    sources: tuple[str, ...]
    generated: pipeline.Generated


@dataclass(frozen=True)
class Outputs:
    units: tuple[Unit, ...]
    text: str | None  # the single output (json for one unit, CloudFormation, Terraform)
    files: tuple[tuple[str, str], ...] = ()  # (file name, text) per state machine, for -o DIR

    @property
    def warnings(self) -> tuple[Notice, ...]:
        return tuple(notice for unit in self.units for notice in unit.generated.warnings)


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
        generated = pipeline.generate_policy(
            pipeline.scan_state_machines(group),
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
    return _render(tuple(units), settings, per_machine, target, tuple(references))


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
    if settings.output_format == TERRAFORM:
        from policygen.render import terraform as pseudo
    else:
        from policygen.render import cloudformation as pseudo
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
    from policygen.render.cloudformation import PSEUDO_REFERENCES

    names = set(PSEUDO_REFERENCES)
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
    from dataclasses import replace

    return replace(settings.options, deploy_time=DeployTimeValues(templates, keep_references=keep))


def _render(
    units: tuple[Unit, ...],
    settings: Settings,
    per_machine_files: bool,
    target: Target | None = None,
    references: Sequence[frozenset[str]] | None = None,
) -> Outputs:
    fmt = settings.output_format
    if per_machine_files:
        from policygen.write.directory import file_names

        names = file_names([unit.name for unit in units], FILE_SUFFIXES[fmt])
        files = tuple(
            (names[unit.name], _render((unit,), settings, False, target, None if references is None else (references[index],)).text)
            for index, unit in enumerate(units)
        )
        return Outputs(units, None, files)
    if fmt == JSON:
        from policygen.render.policy_json import render_policy_json

        return Outputs(units, render_policy_json(units[0].generated.policy))
    if fmt == TERRAFORM:
        from policygen.render.terraform import PolicyBlock, render_terraform

        blocks = [PolicyBlock(unit.name, ", ".join(unit.sources), unit.generated.policy) for unit in units]
        return Outputs(units, render_terraform(blocks, __version__))
    from policygen.render.cloudformation import RoleSnippet, logical_id, render_cloudformation

    suffix = "ExecutionRole" if settings.attach_to is None else "BatchPolicy"
    where = {} if target is None else {"partition": target.partition, "region": target.region, "account": target.account}
    snippets = [
        RoleSnippet(
            unit.name,
            ", ".join(unit.sources),
            logical_id(unit.name, suffix),
            unit.generated.policy,
            references=None if references is None else references[index],
            **where,
        )
        for index, unit in enumerate(units)
    ]
    text = render_cloudformation(
        snippets, __version__, as_json=fmt == CLOUDFORMATION_JSON, attach_to=settings.attach_to, managed=settings.managed
    )
    return Outputs(units, text)
