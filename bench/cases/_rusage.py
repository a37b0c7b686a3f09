"""Run one command and record its wall time and peak RSS: `_rusage.py OUT.json -- CMD...`.

Started fresh for every measurement, so RUSAGE_CHILDREN holds that command's tree only
(ru_maxrss is the largest resident set among the waited-for descendants, in KiB on Linux).
Standard library only: any Python can run it.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: _rusage.py OUT.json -- CMD [ARGS...]", file=sys.stderr)
        return 2
    out, cmd = Path(argv[0]), argv[2:]
    start = time.perf_counter()
    proc = subprocess.run(cmd, check=False)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {"wall_s": wall, "maxrss_kib": usage.ru_maxrss, "returncode": proc.returncode}
    out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
