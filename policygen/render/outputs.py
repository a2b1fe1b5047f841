"""The output formats of `policygen generate`, and the one table that picks a renderer for each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from policygen import __version__
from policygen.errors import Notice
from policygen.generate.build import Generated
from policygen.render.explain import render_named_explanation
from policygen.render.policy_json import render_policy_json
from policygen.requirements.needs import Options
from policygen.requirements.target import Target
from policygen.scan.machine_properties import MachineOptions

JSON = "json"
CLOUDFORMATION = "cloudformation"
CLOUDFORMATION_JSON = "cloudformation-json"
TERRAFORM = "terraform"
FORMATS = (JSON, CLOUDFORMATION, CLOUDFORMATION_JSON, TERRAFORM)
# The name ending of the file per state machine -o DIR writes.
FILE_SUFFIXES = {JSON: ".json", CLOUDFORMATION: ".yaml", CLOUDFORMATION_JSON: ".json", TERRAFORM: ".tf"}

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
    terraform_provider: int = 6  # the AWS provider major version Terraform output is written for
    environment: Mapping[str, str] = field(default_factory=dict)
    services: frozenset[str] | None = None  # --services: only these integrations' statements
    machine: MachineOptions = MachineOptions()  # --state-machine-name, --logging, --tracing, --kms-key, --redrive


@dataclass(frozen=True)
class Unit:
    """One policy: for one state machine, or (merged) for several."""

    name: str
    sources: tuple[str, ...]
    generated: Generated


@dataclass(frozen=True)
class Report:
    """What `generate` prints on stderr about one policy once the run is through: its warnings and,
    with --explain, why each statement is there."""

    warnings: tuple[Notice, ...]
    explanation: str = ""


def unit_report(unit: Unit, index: int, several: bool, explain: bool) -> Report:
    """The Report of the `index`th unit of a run (of `several`)."""
    explanation = render_named_explanation(unit.name, unit.generated.policy, index, several) if explain else ""
    return Report(unit.generated.warnings, explanation)


@dataclass(frozen=True)
class Outputs:
    units: tuple[Unit, ...]
    text: str | None  # the single output (json for one unit, CloudFormation, Terraform)
    files: tuple[tuple[str, str], ...] = ()  # (file name, text) per state machine, for -o DIR
    # -o DIR written as each machine was made (policygen.per_machine): the files and units are not
    # kept (both empty), only each unit's Report, with its explanation if one was asked for.
    streamed: tuple[Report, ...] | None = None

    @property
    def warnings(self) -> tuple[Notice, ...]:
        return tuple(notice for report in self.reports(explain=False) for notice in report.warnings)

    def reports(self, explain: bool) -> tuple[Report, ...]:
        """What to print of each unit, in order."""
        if self.streamed is not None:
            return self.streamed
        return tuple(unit_report(unit, index, len(self.units) > 1, explain) for index, unit in enumerate(self.units))


def render_outputs(
    units: tuple[Unit, ...],
    settings: Settings,
    target: Target | None = None,
    references: Sequence[frozenset[str]] | None = None,
) -> Outputs:
    """The one text of `units` in `settings.output_format`."""
    fmt = settings.output_format
    if fmt == JSON:
        return Outputs(units, render_policy_json(units[0].generated.policy))
    if fmt == TERRAFORM:  # each format's module is imported by the runs that write it
        from policygen.render.terraform import PolicyBlock, render_terraform

        blocks = [PolicyBlock(unit.name, ", ".join(unit.sources), unit.generated.policy) for unit in units]
        return Outputs(units, render_terraform(blocks, __version__, settings.terraform_provider))
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
