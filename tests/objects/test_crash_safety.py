"""A writer killed with SIGKILL mid-object never leaves a wrong object under a final name."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from slipway.objects import ObjectStore

WRITER = """
import io, os, sys
from slipway.objects import ObjectStore

class Noise(io.RawIOBase):
    # 48 MiB of fresh random bytes, so every object is new and takes a while to write
    def __init__(self):
        self.left = 48 << 20
    def readable(self):
        return True
    def read(self, n=-1):
        n = min(self.left, 1 << 20 if n < 0 else n)
        self.left -= n
        return os.urandom(n)

store = ObjectStore.from_url(sys.argv[1])
print("ready", flush=True)
while True:
    store.put_stream(Noise())
    print("done", flush=True)
"""


def test_killed_writers_leave_only_whole_objects(tmp_path: Path) -> None:
    url = f"file://{tmp_path / 'objects'}"
    rng = random.Random(1234)
    killed_mid_write = 0
    for attempt in range(20):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, url], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        if attempt == 0:
            # However loaded the machine, let one object complete before the first kill.
            assert child.stdout.readline().strip() == "done"
        time.sleep(rng.uniform(0.02, 0.6))
        partial = [p for p in (tmp_path / "objects" / "tmp").iterdir() if p.stat().st_size > 0]
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        killed_mid_write += bool(partial)

    store = ObjectStore.from_url(url)
    hashes = list(store.iter_hashes())
    # The test means something only if kills hit writes in progress and some writes finished.
    assert killed_mid_write >= 10
    assert hashes
    for digest in hashes:
        store.verify(digest)  # raises IntegrityError on any wrong content
        assert store.size(digest) == 48 << 20
