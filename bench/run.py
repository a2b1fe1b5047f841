"""Benchmark: scan + generate over a synthetic corpus, as a ratio to plain json.loads of the same files.

    python bench/run.py            # full corpora: 2,000 definitions of 50 states + one of 20,000 states, twice
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
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from corpus import build_corpus  # noqa: E402  (bench/ is sys.path[0] when run as a script)

from policygen import pipeline  # noqa: E402  (after the path fix, so the source tree is measured)


def json_loads_pass(paths: list[Path]) -> None:
    for path in paths:
        json.loads(path.read_text(encoding="utf-8"))


def policygen_pass(paths: list[Path]) -> None:
    for path in paths:
        tasks = pipeline.scan_state_machines(pipeline.load_state_machines([str(path)]))
        pipeline.generate_policy(tasks, region="eu-west-1", account="111122223333")


def load_pass(paths: list[Path]) -> None:
    for path in paths:
        pipeline.load_state_machines([str(path)])


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
    parser.add_argument("--profile", action="store_true", help="profile the policygen pass over the batch-only corpus")
    options = parser.parse_args()

    definitions, big_states = (200, 2_000) if options.quick else (2_000, 20_000)
    workdir = Path(tempfile.mkdtemp(prefix="policygen-bench-"))
    try:
        # Two corpora: "mixed" has a third of its states calling Batch (the rest Lambda, Choice,
        # Wait, Pass), like the pipelines we see; "batch-only" is the worst case, every Task a
        # tagged Batch call.
        corpora = {
            "mixed": build_corpus(workdir / "mixed", definitions, 50, big_states, batch_share=1 / 3),
            "batch-only": build_corpus(workdir / "batch", definitions, 50, big_states, batch_share=1.0),
        }
        if options.profile:
            profiler = cProfile.Profile()
            profiler.runcall(policygen_pass, corpora["batch-only"])
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
            return 0
        policygen_pass(corpora["mixed"][:1])  # warm the catalogue and integration table, as a long CI run would
        print(f"{definitions:,} definitions of ~50 states (nested inline and distributed Maps) + one of ~{big_states:,} states")
        for name, paths in corpora.items():
            size = sum(path.stat().st_size for path in paths)
            baseline = best_of(options.repeat, json_loads_pass, paths)
            ours = best_of(options.repeat, policygen_pass, paths)
            big_baseline = best_of(options.repeat, json_loads_pass, paths[-1:])
            big_ours = best_of(options.repeat, policygen_pass, paths[-1:])
            print(f"[{name}] {size / 1e6:.1f} MB")
            print(f"  json.loads (read + parse):       {baseline:8.3f} s")
            loading = best_of(options.repeat, load_pass, paths)
            print(f"  policygen load+scan+generate:    {ours:8.3f} s   {ours / baseline:5.2f}x json.loads   (target <= 3x)")
            print(f"    load alone (parse with duplicate-key check, source detection): {loading / baseline:5.2f}x;"
                  f" scan+generate, the rest: {(ours - loading) / baseline:5.2f}x")
            print(f"  the {big_states:,}-state file alone:   {big_ours:8.3f} s   {big_ours / big_baseline:5.2f}x json.loads")

        small = ROOT / "fixtures" / "examples" / "genomics-pipeline.asl.json"
        command = [sys.executable, "-m", "policygen"]
        python_start = command_time([sys.executable, "-c", "pass"], options.repeat * 3)
        cli_start = command_time(command + ["generate", str(small)], options.repeat * 3)
        print(f"cold start, python -c pass:      {python_start:8.3f} s")
        print(f"cold start, policygen generate:  {cli_start:8.3f} s   ({cli_start / python_start:4.1f}x python's own; target < 0.3 s)")
        # The whole command on the largest file, against a process that only json.loads it.
        big = corpora["batch-only"][-1]
        load_only = command_time([sys.executable, "-c", f"import json; json.loads(open({str(big)!r}).read())"], options.repeat)
        cli_big = command_time(command + ["generate", str(big), "--region", "eu-west-1", "--account", "111122223333"], options.repeat)
        print(f"CLI on the {big_states:,}-state batch-only file: {cli_big:6.3f} s   "
              f"({(cli_big - cli_start) / (load_only - python_start):4.2f}x json.loads, start-up taken out of both)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
