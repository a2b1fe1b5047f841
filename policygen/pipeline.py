"""The one place the flow is wired: load -> scan -> requirements -> generate | lint -> render, for the CLI and
library users (load_state_machines, scan_state_machines, generate_policy, generate_outputs, lint)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from policygen.errors import Notice, UsageError
from policygen.generate.build import Generated, generate_policy
from policygen.iam import aws_names, catalog
from policygen.load.asl import StateMachine, substitute_placeholders
from policygen.load.inputs import each_input
from policygen.load.template import PSEUDO_PARAMETERS
from policygen.per_machine import MachineStream, nothing_to_attach_error, several_into_terraform_error
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
from policygen.render.progress import Progress
from policygen.requirements.deploy_time import DeployTimeValues
from policygen.requirements.needs import Options
from policygen.requirements.target import (
    Target,
    validate_account,
    validate_partition,
    validate_region,
)
from policygen.scan import BatchTask, ServiceTask, scan
from policygen.scan.features import MachineScan, scan_machine
from policygen.scan.machine_properties import NO_OPTIONS, MachineOptions, MachineProperties
from policygen.write.directory import DirectoryWriter, file_names

__all__ = ["Generated", "LoadResult", "MachineOptions", "Options", "Outputs", "Settings", "generate_outputs", "generate_policy",
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
    paths: Iterable[str], input_type: str | None = None, substitutions: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    each_file: Callable[[Iterable[StateMachine]], None] | None = None,
) -> LoadResult:
    """Every state machine in `paths`: ASL files, CloudFormation/SAM templates, Terraform plan JSON
    and serverless.yml, each detected from its content unless `input_type` (one of
    policygen.load.sources.INPUT_TYPES) says which. `substitutions` (--substitute) fill the
    `${NAME}` placeholders of loose ASL files (policygen.load.asl.substitute_placeholders). With
    several inputs, one that cannot be read or is no input of ours is skipped with a warning.
    `progress(done, total)` is called as each input file is done with (the CLI's bar on a terminal).
    With `each_file`, each input's machines go to it as the input is read and are not kept (the
    result has no machines): a caller that is done with them holds one input at a time."""
    skipped: list[Notice] = []
    read_warnings: list[Notice] = []
    machines: list[StateMachine] = []
    used: set[str] = set()
    for found, notices in each_input(list(paths), input_type, skipped, progress):
        # Taken one at a time: with each_file, no machine outlives its turn (a plan's are made as taken).
        substituted = (substitute_placeholders(machine, substitutions or {}, used) for machine in found)
        del found
        if each_file is None:
            machines.extend(substituted)
        else:
            each_file(substituted)
        del substituted
        read_warnings.extend(notices)  # complete once the machines are taken
    warnings = [Notice(f"skipped: {notice.message}", notice.location) for notice in skipped]
    warnings.extend(read_warnings)
    for name in sorted(set(substitutions or {}) - used):
        # A misspelt NAME would leave its placeholder open: say so rather than pass quietly.
        warnings.append(Notice(
            f"--substitute {name}: no ASL definition file has the placeholder ${{{name}}} "
            "(a template's definition is filled by its own substitutions, never by --substitute)"
        ))
    return LoadResult(tuple(machines), tuple(warnings), tuple(skipped))


def select_state_machines(machines: Iterable[StateMachine], names: Iterable[str]) -> tuple[StateMachine, ...]:
    """The machines with these names (all of them when `names` is empty), in input order; a name
    that matches none is a UsageError listing the names there are."""
    machines = tuple(machines)
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return machines
    _check_names_known(wanted, [machine.name for machine in machines])
    return tuple(machine for machine in machines if machine.name in wanted)


def _check_names_known(wanted: Iterable[str], names: Iterable[str]) -> None:
    available = list(dict.fromkeys(names))
    unknown = [name for name in dict.fromkeys(wanted) if name not in available]
    if unknown:
        raise UsageError(
            f"no state machine named {', '.join(map(repr, unknown))}; "
            f"the input has: {', '.join(available) if available else 'none'}"
        )


@lru_cache(maxsize=1)
def _known_batch_actions() -> frozenset[str]:
    return catalog.action_names("batch")


def scan_state_machines(machines: Iterable[StateMachine]) -> list[BatchTask]:
    known = _known_batch_actions()
    return [task for machine in machines for task in scan(machine, known)]


def scan_whole_role(machines: Iterable[StateMachine]) -> tuple[list[BatchTask], list[ServiceTask]]:
    """Every Task state of `machines`: the Batch ones, and those of every other integration (an
    InputError for a Task whose call policygen does not know)."""
    scanned = scan_machines(machines)
    return scanned.batch, scanned.services


def scan_machines(machines: Iterable[StateMachine], options: MachineOptions = NO_OPTIONS,
                  deployed: Mapping[str, MachineProperties] | None = None) -> MachineScan:
    """scan_whole_role's Task states, and the machines' own features (Map states, the machine
    resource's logging, tracing and key; for plain ASL files, those `options` give; for machines
    read from AWS, the properties `deployed` holds by machine name)."""
    from policygen.requirements.integrations import TableCatalogue

    known = _known_batch_actions()
    catalogue = TableCatalogue(sdk_problem=_sdk_call_problem)
    scanned = MachineScan([], [], [])
    for machine in machines:
        one = scan_machine(machine, known, catalogue, options, (deployed or {}).get(machine.name))
        scanned.batch.extend(one.batch)
        scanned.services.extend(one.services)
        scanned.features.extend(one.features)
    return scanned


def _sdk_call_problem(api: str) -> str | None:
    # The SDK tables are read only by a run with an aws-sdk state (most definitions have none).
    from policygen.requirements.sdk import call_problem

    return call_problem(api)


def check_machine_options(machines: Sequence[StateMachine], options: MachineOptions, plain: Sequence[str] | None = None) -> None:
    """The flags that describe a machine resource are for plain ASL files (a template says it
    itself), and a name is one machine's. `plain`: the plain ASL machines, when `machines` are
    only some of them (-o DIR, one at a time)."""
    plain = [machine.name for machine in machines if machine.template is None] if plain is None else plain
    if options.describes_machine and not plain:
        raise UsageError(
            "--state-machine-name, --logging, --tracing and --kms-key describe a plain ASL definition's state machine; "
            "a template, plan or serverless.yml sets them on the state machine resource itself"
        )
    if options.name is not None and len(plain) > 1:
        raise UsageError(f"--state-machine-name names one state machine, and {len(plain)} ASL definitions are given ({', '.join(plain)})")
    if options.name is not None and not _STATE_MACHINE_NAME.fullmatch(options.name):
        # CreateStateMachine's name rules: 1-80 characters, none of these (a `*` would widen the grants).
        raise UsageError(f"--state-machine-name {options.name!r}: a state machine name has 1 to 80 characters, "
                         "without whitespace, brackets, wildcards or any of \" # % \\ ^ | ~ ` $ & , ; : /")
    if options.kms_key is not None and (not options.kms_key or any(char.isspace() for char in options.kms_key)):
        raise UsageError(f"--kms-key {options.kms_key!r}: expected a KMS key ARN or key id")


_STATE_MACHINE_NAME = re.compile(r"[^\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]{1,80}")


# --- generate: state machines -> policies -> the text of each output file ----------------------
# Everything is built before anything is written, so a failure leaves no file half-done. The CLI
# prints the warnings and explanations and writes the files.



def generate_outputs(machines: Sequence[StateMachine], source_names: Sequence[str], settings: Settings, per_machine_files: bool) -> Outputs:
    """The policies for `machines` in the requested format: with `per_machine_files` (and no
    --merge) a file per machine, in every format; else one text. JSON is one document, so several
    machines need --merge or a file each; CloudFormation and Terraform hold every machine's role or
    policy document in one snippet."""
    _check_settings(settings)
    several = len(machines) > 1
    if settings.output_format == JSON and several and not settings.merge and not per_machine_files:
        raise UsageError(
            f"{len(machines)} state machines ({', '.join(m.name for m in machines)}): pass -o DIR "
            "for a policy file per machine, --merge for one policy covering all, or --state-machine NAME"
        )
    groups = [list(machines)] if settings.merge or not several else [[m] for m in machines]
    target = _fixed_target(settings)
    options = _with_deploy_time(settings, machines)
    check_machine_options(machines, settings.machine)
    units = []
    references = []  # per unit, what a `${...}` in its CloudFormation output may refer to (only CloudFormation reads them)
    cloudformation = settings.output_format in (CLOUDFORMATION, CLOUDFORMATION_JSON)
    for group in groups:
        units.append(_generate_unit(group, several, source_names, settings, options, target))
        references.append(_template_names(group) if cloudformation else frozenset())
    per_machine = per_machine_files and not settings.merge
    if per_machine and settings.output_format == TERRAFORM and len(units) > 1:
        raise several_into_terraform_error(len(units))
    if settings.attach_to is not None:
        empty = [unit.name for unit in units if not unit.generated.policy.statements]
        if empty:
            raise nothing_to_attach_error(empty, settings.attach_to)
    if per_machine:
        names = file_names([unit.name for unit in units], FILE_SUFFIXES[settings.output_format])
        files = tuple(
            (names[unit.name], render_outputs((unit,), settings, target, (references[index],)).text)
            for index, unit in enumerate(units)
        )
        return Outputs(tuple(units), None, files)
    return render_outputs(tuple(units), settings, target, tuple(references))


def _generate_unit(
    group: Sequence[StateMachine], several: bool, source_names: Sequence[str], settings: Settings, options: Options, target: Target | None
) -> Unit:
    """The policy of one group of machines (one machine, or all of them merged), of a run of `several`."""
    names = [m.name for m in group]
    scanned = scan_machines(group, settings.machine)
    generated = generate_policy(
        scanned.batch,
        settings.region,
        settings.account,
        settings.environment,
        source_names=[f"state machine {n!r}" for n in names] if several and not settings.merge else source_names,
        options=options,
        allow_untagged=settings.allow_untagged,
        partition=settings.partition,
        target=target,
        services=scanned.services,
        only_services=settings.services,
        features=scanned.features,
        redrive=settings.machine.redrive,
    )
    unit_name = names[0] if len(names) == 1 else "merged"
    sources = tuple(dict.fromkeys(m.file for m in group)) or tuple(source_names)
    return Unit(unit_name, sources, generated)


def _check_settings(settings: Settings) -> None:
    if settings.output_format not in FORMATS:
        raise UsageError(f"unknown format {settings.output_format!r}; expected one of {', '.join(FORMATS)}")
    if settings.attach_to is not None or settings.managed:
        _check_attach(settings)


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


def scan_files(
    paths: Sequence[str], input_type: str | None, substitutions: Mapping[str, str], warn: Warn, progress: Progress | None = None
) -> list[BatchTask]:
    """`policygen scan`: the Batch Task states of every state machine in `paths`. Every other Task
    state is read too, so a Resource `generate` would refuse is refused here as well."""
    loaded = load_state_machines(paths, input_type, substitutions, progress)
    warn(loaded.warnings)
    return scan_whole_role(loaded)[0]


def generate_files(
    paths: Sequence[str],
    settings: Settings,
    warn: Warn,
    input_type: str | None = None,
    substitutions: Mapping[str, str] | None = None,
    state_machines: Sequence[str] = (),
    output: str | None = None,
    progress: Progress | None = None,
    directory: DirectoryWriter | None = None,
    explain: bool = False,
) -> Outputs:
    """`policygen generate`: the text of each output (one text, or a file per machine for -o DIR).
    With `directory` (-o DIR's writer), a file per machine goes into it instead, made one input file
    at a time (policygen.per_machine), and the outputs hold only what to report of each (with
    `explain`, the explanation too); the caller commits the directory after reporting."""
    if directory is not None and output is not None and not settings.merge and (
        os.path.isdir(output) or settings.output_format == JSON
    ):
        return _generate_per_machine(paths, settings, warn, input_type, substitutions, state_machines, output, directory, explain, progress)
    loaded = load_state_machines(paths, input_type, substitutions, progress)
    warn(loaded.warnings)
    machines = select_state_machines(loaded.machines, state_machines)
    # -o DIR: a file per machine into an existing directory in every format; a new directory
    # only for JSON, one document per file (CloudFormation and Terraform take every machine in one).
    per_machine_files = output is not None and (
        os.path.isdir(output) or (len(machines) > 1 and settings.output_format == JSON)
    )
    return generate_outputs(machines, paths, settings, per_machine_files)


def _generate_per_machine(paths: Sequence[str], settings: Settings, warn: Warn, input_type: str | None, substitutions: Mapping[str, str] | None,
                          state_machines: Sequence[str], output: str, directory: DirectoryWriter, explain: bool,
                          progress: Progress | None = None) -> Outputs:
    """generate_files when the machines may each get a file: with several, each is generated and
    written as its input is read; one (or none) goes through generate_outputs like any run."""
    try:
        _check_settings(settings)
        target, problem = _fixed_target(settings), None
    except UsageError as error:  # raised by MachineStream.finish, after what the input may say
        target, problem = None, error

    plain: list[str] = []  # the plain ASL machines so far: --state-machine-name names one

    def make_unit(machine: StateMachine) -> Unit:
        if machine.template is None:
            plain.append(machine.name)
        check_machine_options((machine,), settings.machine, plain)
        return _generate_unit((machine,), True, paths, settings, _with_deploy_time(settings, (machine,)), target)

    def render_file(machine: StateMachine, unit: Unit) -> str:
        # Only CloudFormation reads the references (and a plan's template names every resource).
        cloudformation = settings.output_format in (CLOUDFORMATION, CLOUDFORMATION_JSON)
        return render_outputs((unit,), settings, target, ((_template_names((machine,)),) if cloudformation else None)).text

    stream = MachineStream(settings, directory, make_unit, render_file, state_machines, explain, problem)
    loaded = load_state_machines(paths, input_type, substitutions, progress, stream.add_file)
    warn(loaded.warnings)
    if state_machines:
        _check_names_known(state_machines, stream.names)
    if stream.count > 1:
        return stream.finish()
    outputs = generate_outputs(tuple(m for m in (stream.held,) if m is not None), paths, settings, os.path.isdir(output))
    for name, text in outputs.files:
        directory.add(name, text)
    return outputs


def parse_services(text: str | None) -> frozenset[str] | None:
    """--services batch,lambda,s3: the integrations whose statements the policy keeps (None: all)."""
    if text is None:
        return None
    from policygen.requirements.integrations import known_services

    names = [name.strip() for name in text.split(",")]
    known = known_services()
    unknown = [name for name in names if name not in known]
    if unknown or not any(names):
        raise UsageError(
            f"--services: unknown integration {', '.join(map(repr, unknown)) or repr(text)}",
            hint="name them as Task Resources do: batch, lambda, ecs, sns, ..., or an AWS SDK service such as s3",
        )
    return frozenset(names)


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
