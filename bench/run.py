"""Benchmark of whole `policygen` processes against a stdlib floor, paired in one run.

    python bench/run.py            # full corpora, 5 pairs per row (several minutes)
    python bench/run.py --quick    # smaller corpora, 3 pairs per row (under a minute)
    python bench/run.py --json     # the same figures as JSON, for machines
    python bench/run.py --only lint --repeat 7

Every row runs two processes with the same interpreter and environment: policygen through its CLI
(`python -m policygen ...`), and a floor, a stdlib script written by this harness that json.loads the
same files, walks their states and writes as many files and bytes as policygen wrote. Only the
cold-start row compares with `python -c pass` instead. The pairs run interleaved (the order flips
every round, so drift on a shared machine hits both sides), after one warm-up pair, with
policygen's bytecode compiled first; medians of wall time are compared. Peak memory is each child's
own maximum RSS, from GNU time (/usr/bin/time) when present, else from os.wait4 (see run_process).
The corpora are seeded, so every run measures the same bytes. policygen's CLI turns off the cyclic
garbage collector for its run, so the floor script does too.

policygen is not imported here (its modules move between releases): only its command is run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import build_corpus, build_lint_case, build_terraform_plan  # noqa: E402

REGION_ACCOUNT = ["--region", "eu-west-1", "--account", "111122223333"]

# The floor: what any tool reading these inputs must at least do, in plain Python. It finds the
# definitions the way policygen does (ASL files, or the definition strings of a Terraform plan),
# visits every state (Map and Parallel bodies included), and writes the outputs policygen wrote:
# the same file names and sizes into a directory, or the same number of bytes to stdout.
FLOOR_SCRIPT = r'''
import gc
gc.disable()
import json, os, sys

def states_of(definition):
    pending = [definition]
    while pending:
        machine = pending.pop()
        states = machine.get("States") if isinstance(machine, dict) else None
        if not isinstance(states, dict):
            continue
        for name, state in states.items():
            yield name, state
            for key in ("Iterator", "ItemProcessor"):
                if isinstance(state.get(key), dict):
                    pending.append(state[key])
            pending.extend(state.get("Branches") or ())

def modules(module):
    yield module
    for child in module.get("child_modules") or ():
        yield from modules(child)

def definitions(spec):
    for path in spec["inputs"]:
        with open(path, encoding="utf-8") as handle:
            data = json.loads(handle.read())
        if spec["kind"] == "plan":
            for module in modules(data["planned_values"]["root_module"]):
                for resource in module.get("resources") or ():
                    if resource.get("type") == "aws_sfn_state_machine":
                        yield resource["address"], json.loads(resource["values"]["definition"])
        else:
            yield os.path.basename(path), data

def summary(name, definition):
    tasks = []
    for state_name, state in states_of(definition):
        if state.get("Type") == "Task":
            parameters = state.get("Parameters") or {}
            tasks.append([state_name, state.get("Resource"), parameters.get("JobQueue") or parameters.get("JobQueue.$"),
                          parameters.get("JobDefinition"), sorted(parameters.get("Tags") or {})])
    return {"machine": name, "tasks": tasks}

def sized(text, size):
    return text[:size] if len(text) >= size else text + " " * (size - len(text))

spec = json.loads(open(sys.argv[1], encoding="utf-8").read())
summaries = [summary(name, definition) for name, definition in definitions(spec)]
for path in spec.get("extra_inputs", ()):
    json.loads(open(path, encoding="utf-8").read())
out = spec["output"]
if out["kind"] == "dir":
    os.mkdir(out["path"])
    for index, (name, size) in enumerate(out["files"]):
        text = json.dumps(summaries[index % len(summaries)], indent=2)
        with open(os.path.join(out["path"], name), "w", encoding="utf-8") as handle:
            handle.write(sized(text, size))
else:
    text = json.dumps(summaries, indent=2)
    sys.stdout.write(sized(text, out["size"]))
'''


@dataclass(frozen=True)
class Sizes:
    definitions: int
    states_each: int
    big_states: int
    plan_machines: int
    plan_states_each: int
    lint_states: int
    lint_statements: int
    repeat: int


FULL = Sizes(2_000, 50, 20_000, 3_351, 25, 5_000, 200, 5)
QUICK = Sizes(150, 50, 2_000, 250, 25, 300, 200, 3)


ROW_KEYS = ("cold-start", "dir", "merge", "big", "plan", "lint")


@dataclass(frozen=True)
class Row:
    """One line of the table: the policygen command and what its floor reads and writes."""

    key: str
    title: str
    command: list[str]  # policygen's arguments; OUT stands for a fresh output directory
    inputs: list[str]
    kind: str  # "asl" or "plan": how the floor finds the definitions
    output: str  # "dir" or "stdout"
    target: float  # the target, as a ratio of the floor's wall time
    memory_target: float | None = None
    extra_inputs: list[str] = field(default_factory=list)  # read by the floor, not walked (the lint policy)
    exit_codes: tuple[int, ...] = (0,)
    floor_command: list[str] | None = None  # instead of the floor script (the cold-start row)


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mib: float


@dataclass(frozen=True)
class Result:
    key: str
    title: str
    target: float
    memory_target: float | None
    floor: list[Run]
    policygen: list[Run]

    def median(self, side: str, what: str) -> float:
        return statistics.median(getattr(run, what) for run in getattr(self, side))

    def figures(self) -> dict:
        floor_s, ours_s = self.median("floor", "seconds"), self.median("policygen", "seconds")
        floor_m, ours_m = self.median("floor", "peak_mib"), self.median("policygen", "peak_mib")
        ratio, memory_ratio = ours_s / floor_s, ours_m / floor_m
        return {
            "row": self.key,
            "title": self.title,
            "floor_seconds": floor_s,
            "policygen_seconds": ours_s,
            "ratio": ratio,
            "target": self.target,
            "met": ratio <= self.target,
            "floor_peak_mib": floor_m,
            "policygen_peak_mib": ours_m,
            "memory_ratio": memory_ratio,
            "memory_target": self.memory_target,
            "memory_met": None if self.memory_target is None else memory_ratio <= self.memory_target,
            "runs": {"floor": [asdict(run) for run in self.floor], "policygen": [asdict(run) for run in self.policygen]},
        }


GNU_TIME = "/usr/bin/time"


def run_process(command: list[str], stdout_path: Path, env: dict[str, str]) -> tuple[Run, int]:
    """Wall time and the child's own peak RSS. Linux starts a child's ru_maxrss at its parent's RSS
    when it is spawned (vfork, then exec), so os.wait4 on a child of this harness would report at
    least the harness's size; GNU time, a small process in between, reports the command's own
    figure. Without it, os.wait4 still gives this one child's rusage, with that floor."""
    measure = stdout_path.with_name("peak")
    timed = [GNU_TIME, "-f", "%M", "-o", str(measure), *command] if os.access(GNU_TIME, os.X_OK) else command
    with open(stdout_path, "wb") as stdout:
        start = time.perf_counter()
        process = subprocess.Popen(timed, stdout=stdout, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait again
    kib = usage.ru_maxrss
    if timed is not command:
        # GNU time writes "Command exited with non-zero status N" before the figure when N != 0.
        kib = int(measure.read_text(encoding="utf-8").split()[-1])
    return Run(seconds, kib / 1024), process.returncode


def output_manifest(directory: Path) -> list[tuple[str, int]]:
    return sorted((path.name, path.stat().st_size) for path in directory.iterdir())


class Bench:
    def __init__(self, workdir: Path, python: str) -> None:
        self.workdir = workdir
        self.python = python
        self.script = workdir / "floor.py"
        self.script.write_text(FLOOR_SCRIPT, encoding="utf-8")
        # Both sides see the same environment; the source tree is the policygen measured.
        self.env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.stdout = workdir / "stdout"

    def policygen_command(self, row: Row, out: Path) -> list[str]:
        return [self.python, "-m", "policygen", *[str(out) if arg == "OUT" else arg for arg in row.command]]

    def run_policygen(self, row: Row) -> tuple[Run, object]:
        out = self.workdir / "policygen-out"
        shutil.rmtree(out, ignore_errors=True)
        run, code = run_process(self.policygen_command(row, out), self.stdout, self.env)
        if code not in row.exit_codes:
            raise SystemExit(f"bench: {row.key}: policygen exited {code}: {' '.join(self.policygen_command(row, out))}")
        produced = output_manifest(out) if row.output == "dir" else self.stdout.stat().st_size
        shutil.rmtree(out, ignore_errors=True)
        return run, produced

    def run_floor(self, row: Row, produced) -> Run:
        if row.floor_command is not None:
            command = row.floor_command
        else:
            out = self.workdir / "floor-out"
            shutil.rmtree(out, ignore_errors=True)
            spec = {
                "kind": row.kind,
                "inputs": row.inputs,
                "extra_inputs": row.extra_inputs,
                "output": {"kind": "dir", "path": str(out), "files": produced}
                if row.output == "dir"
                else {"kind": "stdout", "size": produced},
            }
            spec_path = self.workdir / "floor-spec.json"
            spec_path.write_text(json.dumps(spec), encoding="utf-8")
            command = [self.python, str(self.script), str(spec_path)]
        run, code = run_process(command, self.stdout, self.env)
        if code != 0:
            raise SystemExit(f"bench: {row.key}: the floor script exited {code}")
        if row.floor_command is None:
            written = output_manifest(self.workdir / "floor-out") if row.output == "dir" else self.stdout.stat().st_size
            if written != (sorted(map(tuple, produced)) if row.output == "dir" else produced):
                raise SystemExit(f"bench: {row.key}: the floor did not write what policygen wrote")
            shutil.rmtree(self.workdir / "floor-out", ignore_errors=True)
        return run

    def measure(self, row: Row, repeat: int, progress) -> Result:
        _, produced = self.run_policygen(row)  # warm-up; also tells the floor what to write
        self.run_floor(row, produced)
        floor, ours = [], []
        for round_ in range(repeat):
            if round_ % 2 == 0:
                floor.append(self.run_floor(row, produced))
                ours.append(self.run_policygen(row)[0])
            else:
                ours.append(self.run_policygen(row)[0])
                floor.append(self.run_floor(row, produced))
            progress(f"  {row.key} {round_ + 1}/{repeat}: floor {floor[-1].seconds:.3f} s, policygen {ours[-1].seconds:.3f} s")
        return Result(row.key, row.title, row.target, row.memory_target, floor, ours)


def build_corpora(workdir: Path, sizes: Sizes) -> dict:
    corpus = build_corpus(workdir / "asl", sizes.definitions, sizes.states_each, sizes.big_states, batch_share=1 / 3)
    plan = build_terraform_plan(workdir / "plan", sizes.plan_machines, sizes.plan_states_each)
    lint_definition, lint_policy = build_lint_case(workdir / "lint", sizes.lint_states, sizes.lint_statements)
    return {
        "machines": [str(path) for path in corpus[:-1]],
        "big": str(corpus[-1]),
        "plan": str(plan),
        "lint": [str(lint_definition), str(lint_policy)],
    }


def build_corpora_in_child(workdir: Path, sizes: Sizes, python: str) -> dict:
    """The corpora are built by another process, so that this one stays small (see run_process)."""
    built = subprocess.run(
        [python, __file__, "--build-corpora", str(workdir), json.dumps(asdict(sizes))],
        check=True,
        stdout=subprocess.PIPE,
    )
    return json.loads(built.stdout)


def build_rows(workdir: Path, sizes: Sizes, python: str, progress) -> tuple[list[Row], dict[str, float]]:
    started = time.perf_counter()
    paths = build_corpora_in_child(workdir, sizes, python)
    machines, big, plan = paths["machines"], paths["big"], paths["plan"]
    lint_definition, lint_policy = paths["lint"]
    megabytes = {
        "asl": sum(Path(path).stat().st_size for path in machines) / 1e6,
        "big": Path(big).stat().st_size / 1e6,
        "plan": Path(plan).stat().st_size / 1e6,
        "lint": (Path(lint_definition).stat().st_size + Path(lint_policy).stat().st_size) / 1e6,
    }
    progress(f"corpora built in {time.perf_counter() - started:.1f} s: " + ", ".join(f"{k} {v:.1f} MB" for k, v in megabytes.items()))
    n, s = f"{sizes.definitions:,}", sizes.states_each
    rows = [
        Row(
            "cold-start",
            "cold start, `policygen generate` on a small JSON file (floor: `python -c pass`)",
            ["generate", str(ROOT / "fixtures" / "examples" / "genomics-pipeline.asl.json")],
            [], "asl", "stdout", 12.0,
            floor_command=[python, "-c", "pass"],
        ),
        Row("dir", f"{n} definitions x {s} states, `-o DIR` (a file per machine)",
            ["generate", *machines, *REGION_ACCOUNT, "-o", "OUT"], machines, "asl", "dir", 4.0, memory_target=3.0),
        Row("merge", f"{n} definitions x {s} states, `--merge`",
            ["generate", *machines, *REGION_ACCOUNT, "--merge"], machines, "asl", "stdout", 3.0),
        Row("big", f"one {sizes.big_states:,}-state definition",
            ["generate", big, *REGION_ACCOUNT], [big], "asl", "stdout", 2.5),
        Row("plan", f"Terraform plan, {megabytes['plan']:.0f} MB, {sizes.plan_machines:,} machines, `-o DIR`",
            ["generate", plan, *REGION_ACCOUNT, "-o", "OUT"], [plan], "plan", "dir", 4.0),
        Row("lint", f"`lint` of {sizes.lint_states:,} Batch states against a {sizes.lint_statements}-statement policy",
            ["lint", lint_definition, "--policy", lint_policy, *REGION_ACCOUNT], [lint_definition], "asl", "stdout", 15.0,
            extra_inputs=[lint_policy], exit_codes=(0, 1)),
    ]
    assert tuple(row.key for row in rows) == ROW_KEYS
    return rows, megabytes


def compile_bytecode(python: str) -> None:
    """Bytecode present before any timed run, as in an installed package."""
    subprocess.run([python, "-m", "compileall", "-q", str(ROOT / "policygen")], check=True, stdout=subprocess.DEVNULL)


def markdown(results: list[dict], header: str) -> str:
    lines = [
        header,
        "",
        "| row | floor median | policygen median | ratio | target | met? | peak MiB policygen / floor | ratio | target | met? |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for r in results:
        memory_target = "—" if r["memory_target"] is None else f"≤ {r['memory_target']:g}x"
        memory_met = "—" if r["memory_met"] is None else ("yes" if r["memory_met"] else "no")
        lines.append(
            f"| {r['title']} | {r['floor_seconds']:.3f} s | {r['policygen_seconds']:.3f} s | {r['ratio']:.1f}x "
            f"| ≤ {r['target']:g}x | {'yes' if r['met'] else 'no'} "
            f"| {r['policygen_peak_mib']:.0f} / {r['floor_peak_mib']:.0f} | {r['memory_ratio']:.1f}x | {memory_target} | {memory_met} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    if sys.argv[1:2] == ["--build-corpora"]:  # the child of build_corpora_in_child
        json.dump(build_corpora(Path(sys.argv[2]), Sizes(**json.loads(sys.argv[3]))), sys.stdout)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller corpora and 3 pairs per row: under a minute")
    parser.add_argument("--repeat", type=int, help="pairs per row (default 5, --quick 3); the median is reported")
    parser.add_argument("--only", action="append", metavar="ROW", help="(repeatable) only this row: " + ", ".join(ROW_KEYS))
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a Markdown table")
    parser.add_argument("--python", default=sys.executable, help="the interpreter for both sides (default: this one)")
    options = parser.parse_args()
    sizes = QUICK if options.quick else FULL
    repeat = options.repeat or sizes.repeat
    if repeat < 1:
        parser.error("--repeat must be at least 1")

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    unknown = set(options.only or ()) - set(ROW_KEYS)
    if unknown:
        parser.error(f"--only: unknown row {', '.join(sorted(unknown))} (rows: {', '.join(ROW_KEYS)})")
    compile_bytecode(options.python)
    workdir = Path(tempfile.mkdtemp(prefix="policygen-processes-"))
    try:
        rows, megabytes = build_rows(workdir, sizes, options.python, progress)
        bench = Bench(workdir, options.python)
        results = [
            bench.measure(row, repeat, progress).figures()
            for row in rows
            if not options.only or row.key in options.only
        ]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    machine = f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}, Python {platform.python_version()}"
    if options.json:
        json.dump(
            {"date": when, "machine": machine, "quick": options.quick, "repeat": repeat, "sizes": asdict(sizes),
             "corpus_mb": megabytes, "rows": results},
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
    else:
        sys.stdout.write(markdown(results, f"{when}, {machine}; medians of {repeat} interleaved pairs{' (--quick)' if options.quick else ''}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
