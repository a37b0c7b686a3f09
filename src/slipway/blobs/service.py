"""Blobs: upload and download content-addressed objects, so remote clients can store artifacts.

Uploads are verified against the hash they claim, so a client can never place content under
another content's name.
"""

from __future__ import annotations

from typing import BinaryIO

from slipway.blobs.models import HashList, StoredObject
from slipway.context import Context
from slipway.errors import IntegrityError
from slipway.objects import check_hash
from slipway.operations import operation


@operation("PUT /objects/{digest}", permission="object:write", audit="object.upload")
def upload_object(ctx: Context, digest: str, data: BinaryIO) -> StoredObject:
    """Store the request body as object `digest` (its BLAKE3 hash)."""
    check_hash(digest)
    info = ctx.objects.put_stream(data)
    if info.hash != digest:
        if info.created:
            ctx.objects.delete(info.hash)  # nobody asked for it under that name
        raise IntegrityError(
            f"the uploaded content hashes to {info.hash}, not {digest}; it was not stored"
        )
    return StoredObject(hash=info.hash, size=info.size)


@operation("GET /objects/{digest}", permission="object:read", audit=None)
def download_object(ctx: Context, digest: str) -> BinaryIO:
    """Stream object `digest`; the reader raises IntegrityError if the stored bytes are corrupt."""
    return ctx.objects.open(digest)  # type: ignore[return-value]


@operation("POST /objects/missing", permission="object:read", audit=None, read_only=True)
def missing_objects(ctx: Context, body: HashList) -> HashList:
    """Which of these hashes the store lacks: clients upload only those."""
    return HashList(hashes=[h for h in body.hashes if not ctx.objects.exists(check_hash(h))])
