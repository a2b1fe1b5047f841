"""What a state machine needs for itself, apart from its Task integrations: its Map states (a
Distributed Map reads its items, writes its results and runs child executions of the machine) and
the machine resource (logging, tracing, its KMS key), recorded for rules/integrations/state-machine.yaml.

The walk (scan/walk.py) visits every state once; `scan_machine` runs it with a hook that records
the Map states on the way, so the features cost no second walk. The HTTP Task is a Task: the walk
records it as a ServiceTask like any other integration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from policygen.errors import Location
from policygen.load.asl import StateMachine
from policygen.scan.arguments import _Arguments
from policygen.scan.machine_properties import NO_OPTIONS, MachineOptions, MachineProperties, machine_properties
from policygen.scan.model import JSONATA, JSONPATH, BatchTask, FieldValue, ServiceTask
from policygen.scan.services import Catalogue
from policygen.scan.walk import Walker, _check_language, _location

MACHINE_PATH = "(state machine)"  # where --explain and messages say a machine's own property is


class FeatureKind(str, Enum):
    """What a MachineFeature is (shown as the "pattern" of the states that need a statement)."""

    MAP_STATE = "map"
    STATE_MACHINE = "properties"


@dataclass(frozen=True)
class MachineFeature:
    """A Map state, or the state machine resource itself: what state-machine.yaml's features read.

    It stands where a Task does in a Need (file, machine, path, pointer for --explain and sorting);
    `field_values` reads the state's own fields (ItemReader.Parameters.Bucket) or the resource's
    properties (LoggingConfiguration.Level) as FieldValues."""

    machine: str
    file: str
    path: str  # the Map state's path; MACHINE_PATH for the machine
    pointer: str
    kind: FeatureKind
    properties: MachineProperties = field(repr=False, compare=False)
    # The Map state's fields (None for the machine).
    fields: Any = field(default=None, repr=False, compare=False)
    query_language: str = JSONPATH
    machine_source: StateMachine | None = field(default=None, repr=False, compare=False)  # for error locations

    service = "state-machine"  # the integration its statements are merged within
    # As a Task's, for code that takes either (target resolution, lint): no ARN of its own, no call of
    # its own made with other credentials.
    api = ""
    partition = None
    credentials = None

    @property
    def resource(self) -> str:
        return "Map" if self.kind is FeatureKind.MAP_STATE else "state machine"

    @property
    def pattern(self) -> FeatureKind:
        return self.kind

    @property
    def machine_name(self) -> FieldValue | None:
        """The deployed state machine's name, when its source says it."""
        return self.properties.name

    def detach(self) -> None:
        """Lets go of the parsed document once the features' needs are made (see _Arguments.detach):
        later locations carry the JSON pointer only."""
        if self.fields is not None:
            self.fields.detach()
        object.__setattr__(self, "machine_source", None)  # frozen for its users; only the document goes

    def location(self, pointer: str) -> Location:
        """Where `pointer` is, with its line when the document knows it."""
        if self.machine_source is None:
            return Location(self.file, pointer=pointer)
        return _location(self.machine_source, pointer)

    def field_values(self, path: str) -> tuple[FieldValue, ...]:
        """A Map state's field (`Parameters` is `Arguments` in a JSONata state) or, for the machine,
        one of its properties; () when absent."""
        if self.fields is None:
            return self.properties.field_values(path)
        if self.query_language == JSONATA:
            path = ".".join("Arguments" if part == "Parameters" else part for part in path.split("."))
        return self.fields.field_values(path)


@dataclass(frozen=True)
class MachineScan:
    """Every Task state of one machine, and its own features."""

    batch: list[BatchTask]
    services: list[ServiceTask]
    features: list[MachineFeature]


def scan_machine(machine: StateMachine, batch_actions: frozenset[str] | None, catalogue: Catalogue,
                 options: MachineOptions = NO_OPTIONS, deployed: MachineProperties | None = None) -> MachineScan:
    """scan.scan_whole's Task states of `machine`, with its Map states and its resource as features;
    `deployed`: the properties AWS holds for it, for a machine read from AWS."""
    properties = deployed if deployed is not None else machine_properties(machine, options)
    top_language = machine.definition.get("QueryLanguage", JSONPATH)
    _check_language(top_language, machine, machine.pointer + "/QueryLanguage")
    walker = _FeatureWalker(machine, top_language, batch_actions, catalogue, properties)
    found: list[BatchTask] = []
    walker.states(machine.definition, machine.pointer, "", found)
    itself = MachineFeature(machine.name, machine.file, MACHINE_PATH, properties.pointer, FeatureKind.STATE_MACHINE, properties)
    return MachineScan(found, walker.services, [*walker.features, itself])


class _FeatureWalker(Walker):
    def __init__(self, machine: StateMachine, top_language: str, batch_actions: frozenset[str] | None,
                 catalogue: Catalogue, properties: MachineProperties):
        super().__init__(machine, top_language, batch_actions, catalogue)
        self.properties = properties
        self.features: list[MachineFeature] = []

    def state(self, state: dict[str, Any], kind: str, pointer: str, path: str, found: list[BatchTask]) -> None:
        if kind == "Map":
            language = state.get("QueryLanguage", self.top_language)
            _check_language(language, self.machine, pointer + "/QueryLanguage")
            fields = _Arguments(state, language, pointer, path, self, None)
            self.features.append(
                MachineFeature(self.machine_name, self.file, path, pointer, FeatureKind.MAP_STATE, self.properties, fields, language,
                               self.machine)
            )
        super().state(state, kind, pointer, path, found)
