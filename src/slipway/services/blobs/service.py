"""Blobs: upload and download content-addressed objects, so remote clients can store artifacts.

Uploads are verified against the hash they claim, so a client can never place content under
another content's name. Garbage collection removes what no dataset version, run artifact or
model version references.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import BinaryIO

from slipway.context import Context
from slipway.errors import IntegrityError, NotFound
from slipway.objects import check_hash
from slipway.objects import collect_garbage as collect_store_garbage
from slipway.operations import operation
from slipway.services.blobs.schemas import GcRequest, GcResult, HashList, StoredObject
from slipway.store import datasets as dataset_rows
from slipway.store import model_registry as model_rows
from slipway.store import pipelines as pipeline_rows
from slipway.store import runs as run_rows


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


@operation("POST /objects/gc", permission="object:admin", audit="object.gc")
def collect_garbage(ctx: Context, body: GcRequest) -> GcResult:
    """Remove objects no dataset version, run artifact, model or step output needs (a dry run
    by default)."""
    live = live_objects(ctx)
    report = collect_store_garbage(
        ctx.objects, live, grace_s=body.grace_s, dry_run=body.dry_run, now=ctx.clock() / 1000
    )
    return GcResult(objects=report.objects, bytes=report.bytes, **asdict(report))


def live_objects(ctx: Context) -> set[str]:
    """Every object the metadata store references, with the files of every folder manifest.

    A referenced manifest that is corrupt stops gc (its files cannot be told apart from
    garbage); one the store lacks has no files here to protect.
    """
    with ctx.store.read() as conn:
        versions = dataset_rows.version_objects(conn)
        artifacts = run_rows.artifact_objects(conn)
        packages = model_rows.package_hashes(conn)
        outputs = pipeline_rows.output_objects(conn)
    live: set[str] = set()
    manifests: dict[str, str] = {}  # hash -> what names it, for messages
    for digest, kind, profile in versions:
        live.add(digest)
        if profile:
            live.add(profile)
        if kind == "dir":
            manifests.setdefault(digest, "a dataset version")
    for digest, is_dir in artifacts:
        live.add(digest)
        if is_dir:
            manifests.setdefault(digest, "a run artifact")
    for digest, is_dir in outputs:  # what a cached step hands on instead of running again
        live.add(digest)
        if is_dir:
            manifests.setdefault(digest, "a pipeline step's output")
    for digest in packages:  # a model version's package is a folder manifest
        live.add(digest)
        manifests.setdefault(digest, "a model version")
    for digest, owner in sorted(manifests.items()):
        try:
            manifest = ctx.objects.read_manifest(digest)
        except NotFound:
            continue
        except IntegrityError as exc:
            raise IntegrityError(
                f"the manifest {digest} of {owner} is unreadable ({exc.detail}); gc stopped "
                "without removing anything: restore it first (slipway data pull)"
            ) from None
        live.update(entry.hash for entry in manifest.entries)
    return live
