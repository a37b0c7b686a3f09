"""Content-addressed object storage over local folders and fsspec filesystems.

Exports load on first use (PEP 562): `slipway data status` needs hashing and manifests, not
the store, its packs and fsspec.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slipway._lazy import lazy_exports

if TYPE_CHECKING:
    from slipway.objects._hashing import check_hash, hash_bytes, hash_file
    from slipway.objects._link import DEFAULT_LINK_MODES, LinkMode
    from slipway.objects._manifest import Entry, Manifest, walk
    from slipway.objects._store import ObjectInfo, ObjectStore

__all__ = [
    "DEFAULT_LINK_MODES",
    "Entry",
    "LinkMode",
    "Manifest",
    "ObjectInfo",
    "ObjectStore",
    "check_hash",
    "hash_bytes",
    "hash_file",
    "walk",
]
_WHERE = {
    "DEFAULT_LINK_MODES": "slipway.objects._link",
    "Entry": "slipway.objects._manifest",
    "LinkMode": "slipway.objects._link",
    "Manifest": "slipway.objects._manifest",
    "ObjectInfo": "slipway.objects._store",
    "ObjectStore": "slipway.objects._store",
    "check_hash": "slipway.objects._hashing",
    "hash_bytes": "slipway.objects._hashing",
    "hash_file": "slipway.objects._hashing",
    "walk": "slipway.objects._manifest",
}

__getattr__ = lazy_exports(__name__, _WHERE)
