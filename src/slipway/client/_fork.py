"""Forking helper processes, safely.

A child forked from a process with other threads may find a lock held for ever, so `fork`
refuses while any thread runs. A thread `threading` does not know of (a test runner's
worker has some) slips past this check: children that import or open stores (the metadata
helper, the second storing process) are forked from the CLI only; the folder walk of
`_tree_signature` runs nothing but `scandir`, `stat` and hashing, and forks wherever
`fork` allows. A child must also not keep the parent's ends of other helpers' pipes open:
a helper leaves when its pipe closes, which a copy held elsewhere prevents; `hold`
registers such ends, and every child closes them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

_HELD: set[int] = set()


def fork(run: Callable[[], None]) -> int | None:
    """The pid of a child that runs `run` and exits (status 0 if it returned, without the
    parent's exit handlers); None where forking is unsafe or impossible."""
    if not hasattr(os, "fork") or threading.active_count() != 1:
        return None
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            for fd in _HELD:
                os.close(fd)
            _HELD.clear()
            run()
            code = 0
        finally:
            os._exit(code)
    return pid


def hold(*fds: int) -> None:
    """This process's ends of pipes to a long-lived child: no later child keeps them."""
    _HELD.update(fds)


def release(*fds: int) -> None:
    _HELD.difference_update(fds)
