"""Benchmark: scan + generate over a synthetic corpus, as a ratio to plain json.loads of the same files.

    python bench/run.py            # full corpus: 2,000 definitions of 50 states + one of 20,000 states
    python bench/run.py --quick    # a tenth of it, for a smoke run
    python bench/run.py --profile  # cProfile of the policygen pass, top 25 functions

Both passes are timed in the same run, best of --repeat, so the ratio holds on a shared, noisy
machine where absolute seconds do not. Also times the CLI's cold start (`policygen generate` on a
small file) against `python -c pass`.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policygen import api  # noqa: E402  (after the path fix, so the source tree is measured)

RESOURCES = (
    "arn:aws:states:::batch:submitJob",
    "arn:aws:states:::batch:submitJob.sync",
    "arn:aws:states:::batch:submitJob.waitForTaskToken",
    "arn:aws:states:::aws-sdk:batch:describeJobs",
    "arn:aws:states:::lambda:invoke",
)


def batch_task(rng: random.Random, index: int) -> dict:
    state = {
        "Type": "Task",
        "Resource": rng.choice(RESOURCES),
        "Parameters": {
            "JobName": f"job-{index}",
            "JobQueue": f"arn:aws:batch:eu-west-1:111122223333:job-queue/q{rng.randrange(20)}",
            "JobDefinition": f"def{rng.randrange(50)}:{rng.randrange(1, 9)}",
            "ContainerOverrides": {"Environment": [{"Name": "SAMPLE", "Value.$": "$.sample"}], "Command": ["run", "--fast"]},
            "Tags": {"team": "genomics"},
        },
        "ResultPath": "$.result",
        "Retry": [{"ErrorEquals": ["Batch.AWSBatchException"], "MaxAttempts": 3, "BackoffRate": 2}],
        "Next": "x",
    }
    if rng.random() < 0.2:
        state["Parameters"]["JobQueue.$"] = state["Parameters"].pop("JobQueue").replace("arn", "$.arn")
    return state


def chain(states: dict) -> dict:
    names = list(states)
    for name, following in zip(names, names[1:] + [None]):
        states[name].pop("Next", None)
        states[name].pop("End", None)
        if following is None:
            states[name]["End"] = True
        else:
            states[name]["Next"] = following
    return {"StartAt": names[0], "States": states}


def definition(rng: random.Random, state_count: int) -> dict:
    """About `state_count` states: Tasks, Passes, and Maps (inline and DISTRIBUTED) nesting a few of them."""
    states: dict = {}
    made = 0
    while made < state_count:
        roll = rng.random()
        if roll < 0.15 and state_count - made > 6:
            inner = {f"Inner {made}-{i}": batch_task(rng, made + i) for i in range(4)}
            processor = chain(inner)
            if rng.random() < 0.5:
                processor["ProcessorConfig"] = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
            states[f"Map {made}"] = {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": processor, "Next": "x"}
            made += 5
        elif roll < 0.3:
            states[f"Pass {made}"] = {"Type": "Pass", "Result": {"n": made}, "Next": "x"}
            made += 1
        else:
            states[f"Task {made}"] = batch_task(rng, made)
            made += 1
    return chain(states)


def build_corpus(directory: Path, definitions: int, states_each: int, big_states: int) -> list[Path]:
    rng = random.Random(20261125)
    paths = []
    for index in range(definitions):
        path = directory / f"machine-{index:05d}.asl.json"
        path.write_text(json.dumps(definition(rng, states_each), indent=2), encoding="utf-8")
        paths.append(path)
    big = directory / "big.asl.json"
    big.write_text(json.dumps(definition(rng, big_states), indent=2), encoding="utf-8")
    paths.append(big)
    return paths


def json_loads_pass(paths: list[Path]) -> None:
    for path in paths:
        json.loads(path.read_text(encoding="utf-8"))


def policygen_pass(paths: list[Path]) -> None:
    for path in paths:
        tasks = api.scan_state_machines(api.load_state_machines([str(path)]))
        api.generate_policy(tasks, region="eu-west-1", account="111122223333")


def best_of(repeat: int, function, *args) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def command_time(command: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the corpus")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is kept")
    parser.add_argument("--profile", action="store_true", help="profile the policygen pass instead of timing it")
    options = parser.parse_args()

    definitions, big_states = (200, 2_000) if options.quick else (2_000, 20_000)
    workdir = Path(tempfile.mkdtemp(prefix="policygen-bench-"))
    try:
        paths = build_corpus(workdir, definitions, 50, big_states)
        size = sum(path.stat().st_size for path in paths)
        print(f"corpus: {definitions:,} definitions of ~50 states + one of ~{big_states:,} states, {size / 1e6:.1f} MB")
        if options.profile:
            profiler = cProfile.Profile()
            profiler.runcall(policygen_pass, paths)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
            return 0
        api.scan_state_machines([])  # warm the catalogue and integration table, as a long CI run would
        baseline = best_of(options.repeat, json_loads_pass, paths)
        ours = best_of(options.repeat, policygen_pass, paths)
        big_baseline = best_of(options.repeat, json_loads_pass, paths[-1:])
        big_ours = best_of(options.repeat, policygen_pass, paths[-1:])
        print(f"json.loads of the corpus:        {baseline:8.3f} s")
        print(f"policygen load+scan+generate:    {ours:8.3f} s   ratio {ours / baseline:5.2f}x   (target <= 3x)")
        print(f"  the {big_states:,}-state file alone: {big_ours:8.3f} s   ratio {big_ours / big_baseline:5.2f}x")

        small = ROOT / "fixtures" / "examples" / "genomics-pipeline.asl.json"
        executable = shutil.which("policygen") or ""
        command = [executable] if executable else [sys.executable, "-m", "policygen"]
        python_start = command_time([sys.executable, "-c", "pass"], options.repeat * 3)
        cli_start = command_time(command + ["generate", str(small)], options.repeat * 3)
        print(f"cold start, python -c pass:      {python_start:8.3f} s")
        print(f"cold start, policygen generate:  {cli_start:8.3f} s   ({cli_start / python_start:4.1f}x python's own; target < 0.3 s)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
