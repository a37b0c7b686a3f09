"""Slipway's in-process side of the `pipeline_chain` case, in a fresh process; prints JSON.

    .venv/bin/python slipway_pipeline.py measure --noop N --local N --process N
        (cwd: a `slipway init` workspace holding chain.py, whose chain already ran once)

Imports `chain` from the workspace and runs it once untimed (every step a cache hit: imports,
client and database warm), then times N more cached runs (the in-process no-op), N forced
runs on the local executor and N forced runs on the process executor, each `chain.run(...)`
call on its own; every run is checked (finished, how many steps were cache hits), and the
last step's output once.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from _timing import check


def run_chain(stages: int, hits: int, **options: Any) -> tuple[float, Any]:
    """Time one `chain.run(**options)`; check it finished with `hits` of `stages` cached."""
    from chain import chain

    start = time.perf_counter()
    result = chain.run(**options)
    elapsed = time.perf_counter() - start
    cached = sum(1 for step in result.steps.values() if step.cached)
    check(result.status == "finished", f"chain.run({options}) ended {result.status}")
    check(
        len(result.steps) == stages and cached == hits,
        f"chain.run({options}) had {cached} of {len(result.steps)} steps cached, "
        f"expected {hits} of {stages}",
    )
    return elapsed, result


def measure(noop: int, local: int, process: int, stages: int, expected: int) -> dict[str, Any]:
    sys.path.insert(0, os.getcwd())  # chain.py lives in the workspace, as the CLI finds it
    run_chain(stages, stages)  # warm-up, untimed
    result: dict[str, Any] = {"stages": stages}
    result["noop_s"] = [run_chain(stages, stages)[0] for _ in range(noop)]
    local_runs = [run_chain(stages, 0, executor="local", cache=False) for _ in range(local)]
    last = list(local_runs[-1][1].steps)[-1]
    value = local_runs[-1][1].output(last)
    check(value == expected, f"step {last} returned {value!r}, expected {expected}")
    result["local_s"] = [seconds for seconds, _ in local_runs]
    result["process_s"] = [
        run_chain(stages, 0, executor="process", cache=False)[0] for _ in range(process)
    ]
    return result


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=["measure"])
    parser.add_argument("--noop", type=int, default=5)
    parser.add_argument("--local", type=int, default=3)
    parser.add_argument("--process", type=int, default=2)
    parser.add_argument("--stages", type=int, default=20)
    parser.add_argument("--expected", type=int, default=190)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.noop, args.local, args.process, args.stages, args.expected)))


if __name__ == "__main__":  # the process executor spawns workers that import this module
    main(sys.argv[1:])
