"""The one place the flow is wired: load -> scan -> requirements -> generate | lint -> render, for the CLI and
library users (load_state_machines, scan_state_machines, generate_policy, generate_outputs, lint)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from policygen.errors import Notice, UsageError
from policygen.generate.build import Generated, generate_policy
from policygen.iam import aws_names, catalog
from policygen.lint.findings import Finding
from policygen.lint.suppressions import Suppressed
from policygen.load.asl import StateMachine, substitute_placeholders
from policygen.load.inputs import read_inputs
from policygen.load.template import PSEUDO_PARAMETERS
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
from policygen.scan import BatchTask, ServiceTask, scan, scan_whole
from policygen.write.directory import file_names

__all__ = ["Generated", "LoadResult", "Options", "Outputs", "Settings", "generate_outputs", "generate_policy",
           "load_state_machines", "scan_state_machines", "select_state_machines"]

@dataclass(frozen=True)
class LoadResult:
    """The state machines in the input files, in order, and warnings about the ones that could not
    be read offline (a definition in S3, one only known after apply). Iterates as the machines."""

    machines: tuple[StateMachine, ...]
    warnings: tuple[Notice, ...] = ()
    skipped: tuple[Notice, ...] = ()  # inputs left out (also among the warnings): policygen.load.inputs

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
    `${NAME}` placeholders of loose ASL files (policygen.load.asl.substitute_placeholders). With
    several inputs, one that cannot be read or is no input of ours is skipped with a warning."""
    read = read_inputs(list(paths), input_type)
    used: set[str] = set()
    machines = [substitute_placeholders(machine, substitutions or {}, used) for machine in read.machines]
    warnings = [Notice(f"skipped: {notice.message}", notice.location) for notice in read.skipped]
    warnings.extend(read.warnings)
    for name in sorted(set(substitutions or {}) - used):
        # A misspelt NAME would leave its placeholder open: say so rather than pass quietly.
        warnings.append(Notice(
            f"--substitute {name}: no ASL definition file has the placeholder ${{{name}}} "
            "(a template's definition is filled by its own substitutions, never by --substitute)"
        ))
    return LoadResult(tuple(machines), tuple(warnings), read.skipped)


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


def scan_whole_role(machines: Iterable[StateMachine]) -> tuple[list[BatchTask], list[ServiceTask]]:
    """Every Task state of `machines`: the Batch ones, and those of every other integration (an
    InputError for a Task whose call policygen does not know)."""
    from policygen.requirements.integrations import TableCatalogue

    known = _known_batch_actions()
    catalogue = TableCatalogue()
    batch: list[BatchTask] = []
    services: list[ServiceTask] = []
    for machine in machines:
        found, others = scan_whole(machine, known, catalogue)
        batch.extend(found)
        services.extend(others)
    return batch, services


# --- generate: state machines -> policies -> the text of each output file ----------------------
# Everything is built before anything is written, so a failure leaves no file half-done. The CLI
# prints the warnings and explanations and writes the files.



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
        batch_tasks, service_tasks = scan_whole_role(group)
        generated = generate_policy(
            batch_tasks,
            settings.region,
            settings.account,
            settings.environment,
            source_names=[f"state machine {n!r}" for n in names] if several and not settings.merge else source_names,
            options=options,
            allow_untagged=settings.allow_untagged,
            partition=settings.partition,
            target=target,
            services=service_tasks,
            only_services=settings.services,
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
            names.update(PSEUDO_PARAMETERS)
    return frozenset(names)


def _with_deploy_time(settings: Settings, machines: Sequence[StateMachine]) -> Options:
    templates = {(m.file, m.name): m.template for m in machines if m.template is not None}
    if not templates:
        return settings.options
    keep = settings.output_format in (CLOUDFORMATION, CLOUDFORMATION_JSON)
    return replace(settings.options, deploy_time=DeployTimeValues(templates, keep_references=keep))




# --- the commands' flows: each takes `warn`, which shows warnings as they arise ------------------
# (a later error then still comes after the warnings that preceded it).

Warn = Callable[[Iterable[Notice]], None]


def scan_files(paths: Sequence[str], input_type: str | None, substitutions: Mapping[str, str], warn: Warn) -> list[BatchTask]:
    """`policygen scan`: the Batch Task states of every state machine in `paths`."""
    loaded = load_state_machines(paths, input_type, substitutions)
    warn(loaded.warnings)
    return scan_state_machines(loaded)


def generate_files(
    paths: Sequence[str],
    settings: Settings,
    warn: Warn,
    input_type: str | None = None,
    substitutions: Mapping[str, str] | None = None,
    state_machines: Sequence[str] = (),
    output: str | None = None,
) -> Outputs:
    """`policygen generate`: the text of each output (one text, or a file per machine for -o DIR)."""
    loaded = load_state_machines(paths, input_type, substitutions)
    warn(loaded.warnings)
    machines = select_state_machines(loaded.machines, state_machines)
    # -o DIR: a file per machine into an existing directory in every format; a new directory
    # only for JSON, one document per file (CloudFormation and Terraform take every machine in one).
    per_machine_files = output is not None and (
        os.path.isdir(output) or (len(machines) > 1 and settings.output_format == JSON)
    )
    return generate_outputs(machines, paths, settings, per_machine_files)


def parse_required_tags(tags: Sequence[str], fine_grained: bool) -> tuple[tuple[str, str], ...]:
    """--tag KEY=VALUE (fine-grained mode only): sorted pairs; a malformed or repeated tag is a UsageError."""
    if tags and not fine_grained:
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


@dataclass(frozen=True)
class LintRequest:
    """What `policygen lint` was asked: the definitions, the role (policy files or a live role), the
    target and what to report."""

    paths: tuple[str, ...]
    policies: tuple[str, ...] = ()
    trust_policy: str | None = None
    live_role: str | None = None
    region: str | None = None
    account: str | None = None
    partition: str | None = None
    input_type: str | None = None
    substitutions: Mapping[str, str] = field(default_factory=dict)
    state_machines: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: str | None = None
    config: str | None = None
    fix: bool = False
    environment: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LintResult:
    findings: tuple[Finding, ...]
    fails: bool  # a finding at least as severe as --fail-on (or the configuration's fail-on)
    fixed: dict[str, Any] | None = None  # with --fix: the corrected policy
    skipped: tuple[Notice, ...] = ()  # inputs left out, for the report (they are also warned)
    suppressed: tuple[Suppressed, ...] = ()  # covered by a template's Metadata: reported, never failing


def lint_files(request: LintRequest, warn: Warn) -> LintResult:
    """`policygen lint`: the findings for the role against the definitions' Task states, those
    ignored by --ignore or the configuration left out; with --fix, the corrected policy."""
    # Imported here: `scan` and `generate` do not pay for the linter (some 50 ms at start-up).
    from policygen.lint.config import check_rule_id, load_config
    from policygen.lint.fix import fixed_policy
    from policygen.lint.roles.files import load_role_files
    from policygen.lint.rules import Severity, all_rules
    from policygen.lint.run import run_lint
    from policygen.lint.suppressions import template_suppressions

    known = frozenset(all_rules())
    ignored = {check_rule_id(rule_id, known, "--ignore: ") for rule_id in request.ignore}
    config = load_config(request.config, known)
    _check_lint_inputs(request)
    loaded = load_state_machines(request.paths, request.input_type, request.substitutions)
    warn(loaded.warnings)
    machines = select_state_machines(loaded.machines, request.state_machines)
    tasks, services = scan_whole_role(machines)
    role = load_role_files(request.policies, request.trust_policy) if request.policies else None
    if request.live_role is not None:
        from policygen.lint.roles.live import read_live_role  # boto3: only for --role

        live = read_live_role(request.live_role, request.region)
        warn(live.notices)
        role = live.role
    report = run_lint(machines, tasks, role, request.region, request.account, request.partition, request.environment, services)
    warn(report.notices)
    findings = tuple(
        finding
        for finding in report.findings
        if finding.rule.id not in ignored
        and not config.ignores(
            finding.rule.id,
            [finding.location.file] * (finding.location is not None) + [ref.source for ref in finding.refs],
        )
    )
    # In-source suppressions (a template resource's Metadata) after --ignore and the configuration:
    # what they drop is still reported as suppressed, never counted towards --fail-on or --fix.
    suppressions = template_suppressions(machines, known)
    warn(suppressions.notices)
    findings, suppressed = suppressions.split(findings)
    fixed = None
    if request.fix:
        if len(report.units) != 1:
            raise UsageError(
                f"--fix writes one policy, and the input has {len(report.units)} roles to lint: pass --state-machine NAME"
            )
        fixed, notes = fixed_policy(report.units[0], findings)
        warn(notes)
    threshold = Severity(request.fail_on or config.fail_on or "error")
    fails = any(finding.severity.rank >= threshold.rank for finding in findings)
    return LintResult(findings, fails, fixed, loaded.skipped, suppressed)


def _check_lint_inputs(request: LintRequest) -> None:
    if request.live_role is not None and (request.policies or request.trust_policy is not None):
        raise UsageError("--role reads the role's policies and trust policy from AWS: give either --role or --policy/--trust-policy, not both")
    if request.trust_policy is not None and not request.policies:
        raise UsageError("--trust-policy goes with --policy (a template's roles bring their own trust policy)")
    if [*request.paths, *request.policies, request.trust_policy].count("-") > 1:
        raise UsageError("- (stdin) is given more than once: only one of the definitions, --policy and --trust-policy can be read from stdin")
