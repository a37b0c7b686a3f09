"""Content-addressed object storage over local folders and fsspec filesystems.

Exports load on first use (PEP 562): `slipway data status` needs hashing and manifests, not
the store, its packs and fsspec.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slipway._lazy import lazy_exports

if TYPE_CHECKING:
    from slipway.objects._gc import GcReport, collect_garbage
    from slipway.objects._hashing import check_hash, hash_bytes, hash_file, hasher
    from slipway.objects._link import DEFAULT_LINK_MODES, LinkMode
    from slipway.objects._manifest import Entry, Manifest, assemble, fragment, safe_relpath, walk
    from slipway.objects._materialize import Destination
    from slipway.objects._progress import Advance, no_progress
    from slipway.objects._store import ObjectInfo, ObjectStore
    from slipway.objects._transfer import (
        Transfer,
        TransferProgress,
        TransferReport,
        check_remote_url,
    )

__all__ = [
    "DEFAULT_LINK_MODES",
    "Advance",
    "Destination",
    "Entry",
    "GcReport",
    "LinkMode",
    "Manifest",
    "ObjectInfo",
    "ObjectStore",
    "Transfer",
    "TransferProgress",
    "TransferReport",
    "assemble",
    "check_hash",
    "check_remote_url",
    "collect_garbage",
    "fragment",
    "hash_bytes",
    "hash_file",
    "hasher",
    "no_progress",
    "safe_relpath",
    "walk",
]
_WHERE = {
    "GcReport": "slipway.objects._gc",
    "collect_garbage": "slipway.objects._gc",
    "DEFAULT_LINK_MODES": "slipway.objects._link",
    "Advance": "slipway.objects._progress",
    "Destination": "slipway.objects._materialize",
    "Entry": "slipway.objects._manifest",
    "LinkMode": "slipway.objects._link",
    "Manifest": "slipway.objects._manifest",
    "ObjectInfo": "slipway.objects._store",
    "ObjectStore": "slipway.objects._store",
    "Transfer": "slipway.objects._transfer",
    "TransferProgress": "slipway.objects._transfer",
    "TransferReport": "slipway.objects._transfer",
    "assemble": "slipway.objects._manifest",
    "check_hash": "slipway.objects._hashing",
    "check_remote_url": "slipway.objects._transfer",
    "fragment": "slipway.objects._manifest",
    "hash_bytes": "slipway.objects._hashing",
    "hash_file": "slipway.objects._hashing",
    "hasher": "slipway.objects._hashing",
    "no_progress": "slipway.objects._progress",
    "safe_relpath": "slipway.objects._manifest",
    "walk": "slipway.objects._manifest",
}

__getattr__ = lazy_exports(__name__, _WHERE)
