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
    def open(cls, settings: Settings, *, create: bool = True) -> Context:
        """Open the stores the settings name; the caller owns the context and closes it."""
        store = MetadataStore.open(settings.metadata_url, create=create)
        try:
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
