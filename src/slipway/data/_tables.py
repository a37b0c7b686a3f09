"""The table profiles of a version being added, and the columns that look like personal data.

Each table is profiled once per content: profiles are kept in the stat cache by the table's
hash, so adding a folder again profiles only the tables that changed. The version's profiles
are stored as one object (path inside the version -> profile), which its record names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slipway.client import DataObjects
    from slipway.services.datasets.schemas import PiiColumn
    from slipway.workspace import Workspace


def profile_tables(
    workspace: Workspace, objects: DataObjects, tables: list[tuple[str, str, Path]]
) -> tuple[str | None, list[PiiColumn]]:
    """Profile (path inside the version, hash, file) each; store the profiles: (their
    object's hash, or None when there are no tables; the personal data flagged)."""
    if not tables:
        return None, []
    from slipway.data._profile import profile_table
    from slipway.services.datasets.schemas import PiiColumn

    profiles: dict[str, Any] = {}
    pii: list[PiiColumn] = []
    cache = workspace.cache
    for rel, digest, path in tables:
        cached = cache.profile(digest)
        if cached is None:
            cached = profile_table(path).model_dump_json()
            cache.remember_profile(digest, cached)
        profile = json.loads(cached)
        profiles[rel] = profile
        pii += [
            PiiColumn(
                table=rel,
                column=flag["column"],
                kind=flag["kind"],
                match_rate=flag["match_rate"],
            )
            for flag in profile.get("pii", [])
        ]
    data = json.dumps(profiles, sort_keys=True, separators=(",", ":")).encode()
    return objects.store_bytes(data), pii
