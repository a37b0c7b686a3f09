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

import marshal
import os
import threading
from collections.abc import Callable
from typing import Any

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


class ForkedValue:
    """A child computing one value (marshal-able: plain data); `result` waits for it."""

    def __init__(self, pid: int, read_fd: int) -> None:
        self._pid, self._read_fd = pid, read_fd

    def result(self) -> Any:
        """The child's value; None if it failed (or computed None)."""
        with os.fdopen(self._read_fd, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(self._pid, 0)
        if os.waitstatus_to_exitcode(status) != 0 or not data:
            return None
        return marshal.loads(data)  # noqa: S302 (our own child, a private pipe)


def fork_value(compute: Callable[[], Any]) -> ForkedValue | None:
    """A child that runs `compute` and sends back what it returns; None where forking is
    unsafe or impossible (`fork`)."""
    read_fd, write_fd = os.pipe()

    def run() -> None:
        os.close(read_fd)
        value = compute()
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(marshal.dumps(value))

    pid = fork(run)
    os.close(write_fd)
    if pid is None:
        os.close(read_fd)
        return None
    return ForkedValue(pid, read_fd)
