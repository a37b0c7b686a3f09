"""Bodies for moving content-addressed objects over the API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class StoredObject(BaseModel):
    hash: str
    size: int


class HashList(BaseModel):
    hashes: list[str] = Field(max_length=100_000)


class GcRequest(BaseModel):
    """What `POST /objects/gc` should do. The default changes nothing: it only reports."""

    model_config = ConfigDict(extra="forbid")

    dry_run: bool = True
    # Objects newer than this are kept even if nothing references them yet: a client may have
    # stored them a moment ago and not yet recorded the version or artifact naming them.
    grace_s: int = Field(default=3600, ge=0, le=10 * 365 * 86400)


class GcResult(BaseModel):
    """What gc removed (or, in a dry run, would remove); bytes are stored bytes."""

    dry_run: bool
    grace_s: int
    live: int = Field(description="objects the store holds that something references")
    missing: int = Field(description="referenced objects this store lacks")
    objects: int = Field(description="objects removed in all")
    bytes: int = Field(description="bytes freed in all")
    loose: int
    loose_bytes: int
    packs: int
    pack_objects: int
    pack_bytes: int
    repacked: int
    repacked_objects: int
    repacked_bytes: int
    new_packs: int
    orphans: int
    orphan_bytes: int
    temporaries: int
    temporary_bytes: int
    recent: int = Field(description="unreferenced objects kept: newer than the grace period")
