"""DVC's in-process side of the `pipeline_chain` case, in a fresh process; prints JSON.

    .venv-anchors/bin/python dvc_pipeline.py measure --noop N --site-cache DIR
        (cwd: a git + DVC repository whose dvc.yaml pipeline was reproduced already)

Opens the repository with DVC's Python class (`dvc.repo.Repo`, what `dvc repro` runs), calls
`repo.reproduce()` once untimed, then times N more calls, each checked to have run no stage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from _timing import check


def measure(noop: int, site_cache: str) -> dict[str, Any]:
    # As for the `dvc` commands the case runs: DVC's site cache in the work folder, no analytics.
    os.environ.update(DVC_SITE_CACHE_DIR=site_cache, DVC_NO_ANALYTICS="1")
    from dvc.repo import Repo

    times = []
    with Repo(".") as repo:
        check(repo.reproduce() == [], "the warm-up repo.reproduce() ran stages")
        for _ in range(noop):
            start = time.perf_counter()
            ran = repo.reproduce()
            times.append(time.perf_counter() - start)
            check(ran == [], f"repo.reproduce() ran {len(ran)} stages, expected none")
    return {"noop_s": times}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=["measure"])
    parser.add_argument("--noop", type=int, default=5)
    parser.add_argument("--site-cache", required=True)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.noop, args.site_cache)))


if __name__ == "__main__":
    main(sys.argv[1:])
