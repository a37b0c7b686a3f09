"""Step cache keys, computed the same way by the driver and by the service.

A key has two parts. The static part is what the driver alone knows (the step's code, its
arguments, the dataset versions and package versions it uses), sent as one digest. The inputs
part is the content hash of each upstream output the step takes. Given the static parts, the
service can follow a chain of cache hits itself, so a run with nothing changed is recorded in
one request instead of one lookup per step.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from blake3 import blake3

CACHE_FORMAT = 1  # bump when what goes into a cache key changes meaning


def static_digest(parts: Mapping[str, object]) -> str:
    return blake3(
        json.dumps({"format": CACHE_FORMAT, **parts}, sort_keys=True).encode()
    ).hexdigest()


def step_key(static: str, inputs: Mapping[str, str | None]) -> str:
    """The cache key of a step whose upstream outputs have these content hashes (None: the
    upstream step returned nothing)."""
    payload = json.dumps({"static": static, "inputs": dict(inputs)}, sort_keys=True)
    return blake3(payload.encode()).hexdigest()
