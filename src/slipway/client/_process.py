"""What is process-wide by nature: the default client, and ending open runs at interpreter exit.

Runs still open when the interpreter exits end as a script's would: finished, or failed after
an uncaught exception. The exit hook is registered when the first default client is made or
the first run starts, not on import.
"""

from __future__ import annotations

import atexit
import sys
import threading
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slipway.client._client import Client


class Process:
    """The process's default client and the clients whose open runs end at exit."""

    def __init__(self) -> None:
        self.default: Client | None = None
        self.lock = threading.Lock()
        self._with_runs: weakref.WeakSet[Client] = weakref.WeakSet()
        self._hooked = False

    def end_runs_at_exit(self, client: Client) -> None:
        """End `client`'s open runs at interpreter exit (the client is not kept alive for it)."""
        with self.lock:
            self._with_runs.add(client)
        self.hook()

    def hook(self) -> None:
        with self.lock:
            if not self._hooked:
                atexit.register(self._at_exit)
                self._hooked = True

    def _at_exit(self) -> None:
        status = "failed" if getattr(sys, "last_value", None) is not None else "finished"
        for client in list(self._with_runs):
            client.end_runs(status)
        if self.default is not None:
            self.default.close()


process = Process()
