"""The Context an operation runs in: stores, acting principal, settings, clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from slipway.config import Settings
from slipway.errors import PermissionDenied
from slipway.objects import ObjectStore
from slipway.store import MetadataStore


@dataclass(frozen=True)
class Principal:
    """Who acts. `permissions=None` means every permission (the local user in embedded mode)."""

    name: str
    permissions: frozenset[str] | None = None

    def allows(self, permission: str) -> bool:
        if self.permissions is None:
            return True
        area = permission.split(":", 1)[0]
        return permission in self.permissions or f"{area}:*" in self.permissions

    def require(self, permission: str) -> None:
        if not self.allows(permission):
            raise PermissionDenied(f"{self.name} lacks the permission {permission!r}")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class Context:
    settings: Settings
    store: MetadataStore
    objects: ObjectStore
    principal: Principal
    clock: Callable[[], int] = field(default=now_ms)

    @classmethod
    def open(
        cls, settings: Settings, *, create: bool = True, objects: ObjectStore | None = None
    ) -> Context:
        """Open the stores the settings name; the caller owns the context and closes it.
        `objects`: the settings' object store, already open (the context closes it too)."""
        store = MetadataStore.open(settings.metadata_url, create=create)
        try:
            if objects is None:
                objects = ObjectStore.from_url(settings.objects_url, settings.objects_options)
        except BaseException:
            store.close()
            raise
        return cls(settings, store, objects, Principal(settings.user))

    def acting_as(self, principal: Principal) -> Context:
        return replace(self, principal=principal)

    def close(self) -> None:
        self.store.close()
        self.objects.close()


# -- the metadata schema, for `slipway db` and `slipway doctor` ----------------------------


def schema_revisions(settings: Settings) -> tuple[str | None, str]:
    """(the database's schema revision or None if empty, the revision this Slipway needs)."""
    from slipway.store import head, revision_of

    return revision_of(settings.metadata_url), head()


def upgrade_schema(settings: Settings) -> tuple[str | None, str]:
    """Upgrade the metadata database to head: (revision before, revision after)."""
    from slipway.store.migrate import upgrade

    return upgrade(settings.metadata_url)


def describe_metadata_store(settings: Settings) -> str:
    """How the metadata store answers (Unavailable or SchemaOutdated if it does not)."""
    from slipway.store import head

    store = MetadataStore.open(settings.metadata_url, create=False)
    try:
        return f"reachable ({store.dialect}), schema at revision {store.revision()} (head {head()})"
    finally:
        store.close()
