"""-o DIR one state machine at a time: each machine's policy is generated, rendered and written into
the directory (write.directory.DirectoryWriter, put in place whole or not at all) while its input
file is read, and dropped before the next file, so memory stays flat with the number of files;
pipeline.generate_outputs, the whole-input flow, holds everything to the end.

What a user sees stays what that flow shows: the same files, the same warnings in the same order,
and of several problems the same one. A problem found while the input is still being read (a state
without its required tags, two machines for one file name) is held back, since an input error in a
later file or an unknown --state-machine comes first, and one the whole-input flow checks earlier
(generation before file names) takes the place of one it checks later."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from policygen.errors import PolicygenError, UsageError
from policygen.load.asl import StateMachine
from policygen.render.outputs import FILE_SUFFIXES, TERRAFORM, Outputs, Report, Settings, Unit, unit_report
from policygen.write.directory import DirectoryWriter, FileNamer

# Problems held back, by what found them; finish() raises them in the whole-input flow's order
# (settings, generation, terraform into a directory, --attach-to without statements, file names, rendering).
_SETTINGS, _GENERATION, _NAMES, _RENDER = "settings", "generation", "names", "render"

MakeUnit = Callable[[StateMachine], Unit]  # a machine's policy, for a run of several
RenderFile = Callable[[StateMachine, Unit], str]  # the text of its file


def several_into_terraform_error(count: int) -> UsageError:
    # A directory of .tf files is one module: a file per machine would declare the same
    # aws_partition/aws_region/aws_caller_identity data sources in each, which Terraform refuses.
    return UsageError(
        f"{count} state machines into a directory: --format terraform writes them all to one "
        "file (-o FILE.tf), or pick one with --state-machine"
    )


def nothing_to_attach_error(empty: Sequence[str], attach_to: str) -> UsageError:
    # IAM refuses a policy without statements: there is nothing to attach.
    return UsageError(f"no AWS Batch Task state in {', '.join(empty)}: no policy to attach to {attach_to}")


class MachineStream:
    """Takes each input file's machines as it is read (add_file) and, once the input is read, gives
    the run's outcome (finish). The first selected machine waits for a second one: a policy for a
    run of one reads differently (its empty-policy warning names the input files), and a run of one
    is the whole-input flow's to make (`held`)."""

    def __init__(
        self,
        settings: Settings,
        directory: DirectoryWriter,
        make_unit: MakeUnit,
        render_file: RenderFile,
        wanted: Iterable[str] = (),
        explain: bool = False,
        settings_problem: PolicygenError | None = None,
    ) -> None:
        self.settings = settings
        self.directory = directory
        self.make_unit = make_unit
        self.render_file = render_file
        self.wanted = frozenset(wanted)
        self.explain = explain
        self.names: list[str] = []  # every machine's name in input order (for an unknown --state-machine)
        self.count = 0  # machines selected
        self.held: StateMachine | None = None
        self._problems: dict[str, PolicygenError] = {}  # the first of each kind
        if settings_problem is not None:
            self._problems[_SETTINGS] = settings_problem
        self._empty: list[str] = []
        self._namer = FileNamer(FILE_SUFFIXES.get(settings.output_format, ""))
        self._reports: list[Report] = []

    def add_file(self, machines: Iterable[StateMachine]) -> None:
        for machine in machines:
            self.names.append(machine.name)
            if self.wanted and machine.name not in self.wanted:
                continue
            self.count += 1
            if self.count == 1:
                self.held = machine
                continue
            if self.held is not None:
                first, self.held = self.held, None
                self._add(first)
            self._add(machine)

    def finish(self) -> Outputs:
        """The reports of a run of several machines, or the problem the whole-input flow would raise."""
        if self.count < 2:
            raise ValueError("a run of at most one machine is the whole-input flow's")
        for rank in (_SETTINGS, _GENERATION):
            if rank in self._problems:
                raise self._problems[rank]
        if self.settings.output_format == TERRAFORM:
            raise several_into_terraform_error(self.count)
        if self._empty:
            assert self.settings.attach_to is not None
            raise nothing_to_attach_error(self._empty, self.settings.attach_to)
        for rank in (_NAMES, _RENDER):
            if rank in self._problems:
                raise self._problems[rank]
        return Outputs((), None, streamed=tuple(self._reports))

    def _add(self, machine: StateMachine) -> None:
        if _SETTINGS in self._problems or _GENERATION in self._problems:
            return  # nothing after this can change the outcome but the input still to read
        try:
            unit = self.make_unit(machine)
        except PolicygenError as error:
            self._problems[_GENERATION] = error
            return
        if self.settings.attach_to is not None and not unit.generated.policy.statements:
            self._empty.append(unit.name)
        if _NAMES not in self._problems:
            try:
                file_name = self._namer.add(unit.name)
            except UsageError as error:
                self._problems[_NAMES] = error
        if self._failing():
            return
        try:
            text = self.render_file(machine, unit)
        except PolicygenError as error:
            self._problems[_RENDER] = error
            return
        self.directory.add(file_name, text)
        self._reports.append(unit_report(unit, len(self._reports), True, self.explain))

    def _failing(self) -> bool:
        """Whether the run will end in an error (but for the generation errors still to come)."""
        return bool(self._problems or self._empty) or self.settings.output_format == TERRAFORM
