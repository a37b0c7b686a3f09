"""Content-addressed object storage over local folders and fsspec filesystems."""

from slipway.objects._hashing import check_hash, hash_bytes, hash_file
from slipway.objects._link import DEFAULT_LINK_MODES, LinkMode
from slipway.objects._manifest import Entry, Manifest
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
]
