"""Where the time goes inside policygen: load, scan and generate, in-process, as ratios to json.loads.

    python bench/library.py            # full corpora: 2,000 definitions of 50 states + one of 20,000 states
    python bench/library.py --quick    # a tenth of it, for a smoke run
    python bench/library.py --profile  # cProfile of the policygen pass over the 20,000-state file, top 30

bench/run.py measures whole processes, the figures the README's performance table gives; this one
splits the library's own work into its stages, to see which one to work on. Every pass runs in
this process with the cyclic garbage collector off (as the CLI runs), best of --repeat, against
plain json.loads of the same files measured in the same run.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pstats
import shutil
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


def load_pass(paths: list[Path]) -> None:
    for path in paths:
        pipeline.load_state_machines([str(path)])


def scan_pass(paths: list[Path]) -> None:
    for path in paths:
        pipeline.scan_machines(pipeline.load_state_machines([str(path)]))


def generate_pass(paths: list[Path]) -> None:
    for path in paths:
        scanned = pipeline.scan_machines(pipeline.load_state_machines([str(path)]))
        pipeline.generate_policy(scanned.batch, "eu-west-1", "111122223333", {}, services=scanned.services, features=scanned.features)


def best_of(repeat: int, function, *args) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the corpus")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is kept")
    parser.add_argument("--profile", action="store_true", help="profile load + scan + generate of the 20,000-state file")
    options = parser.parse_args()

    gc.disable()
    definitions, big_states = (200, 2_000) if options.quick else (2_000, 20_000)
    workdir = Path(tempfile.mkdtemp(prefix="policygen-bench-"))
    try:
        # "mixed" has a third of its states calling Batch (the rest Lambda, Choice, Wait, Pass, and
        # Maps), like the pipelines we see; "batch-only" is the Batch worst case, every Task a tagged Batch call.
        corpora = {
            "mixed": build_corpus(workdir / "mixed", definitions, 50, big_states, batch_share=1 / 3),
            "batch-only": build_corpus(workdir / "batch", definitions, 50, big_states, batch_share=1.0),
        }
        generate_pass(corpora["mixed"][:1])  # the tables read once, as in any run
        if options.profile:
            profiler = cProfile.Profile()
            profiler.runcall(generate_pass, corpora["mixed"][-1:])
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
            return 0
        print(f"{definitions:,} definitions of ~50 states (nested inline and distributed Maps) + one of ~{big_states:,} states;"
              f" best of {options.repeat}, ratios to json.loads of the same files")
        for name, paths in corpora.items():
            for label, files in ((f"{len(paths) - 1:,} definitions", paths[:-1]), (f"the {big_states:,}-state file", paths[-1:])):
                baseline = best_of(options.repeat, json_loads_pass, files)
                load = best_of(options.repeat, load_pass, files)
                scan = best_of(options.repeat, scan_pass, files)
                generate = best_of(options.repeat, generate_pass, files)
                size = sum(path.stat().st_size for path in files) / 1e6
                print(f"[{name}, {label}, {size:.1f} MB] json.loads {baseline:.3f} s; load {load / baseline:.2f}x, "
                      f"+ scan {(scan - load) / baseline:.2f}x, + generate {(generate - scan) / baseline:.2f}x = {generate / baseline:.2f}x")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
