"""Progress bars for long data work (`data add`, `checkout`, `push`, `pull`) on a terminal.

Shown on stderr, only when it is a terminal and the task is big enough to take a moment;
redirected output and small tasks stay free of it. Bars disappear when their task ends.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from slipway.objects import Advance, no_progress

if TYPE_CHECKING:
    from rich.console import Console

MIN_FILES = 500  # below these, the work is over before a bar would help
MIN_BYTES = 64 * 1024 * 1024
MIN_OBJECTS = 200  # for push and pull


class TerminalProgress:
    def __init__(self, console: Console | None = None) -> None:
        self._console = console

    @contextlib.contextmanager
    def task(self, label: str, files: int, nbytes: int) -> Iterator[Advance]:
        console = self._console
        if console is None and not sys.stderr.isatty():
            yield no_progress
            return
        if files < MIN_FILES and nbytes < MIN_BYTES:
            yield no_progress
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TextColumn("{task.fields[files]:,}/{task.fields[total_files]:,} files"),
            TimeRemainingColumn(),
            console=console or Console(stderr=True),
            transient=True,
        )
        done = [0]
        lock = threading.Lock()
        with bar:
            task = bar.add_task(label, total=max(nbytes, 1), files=0, total_files=files)

            def advance(files_done: int, bytes_done: int) -> None:
                with lock:  # called from worker threads
                    done[0] += files_done
                    count = done[0]
                bar.update(task, advance=bytes_done, files=count)

            yield advance


class TransferProgress:
    """A rich progress line on stderr for large transfers, when stderr is a terminal."""

    def __init__(self, verb: str) -> None:
        self.verb = verb
        self.total = 0
        self.nbytes = 0
        self._bar: object = None
        self._task: object = None

    def start(self, objects: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.total += objects
        if self._bar is None:
            stderr = Console(stderr=True)
            if self.total < MIN_OBJECTS or not stderr.is_terminal:
                return
            bar = Progress(
                TextColumn(f"{self.verb}ing"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("objects, {task.fields[mib]:.1f} MiB"),
                console=stderr,
                transient=True,
            )
            self._task = bar.add_task(self.verb, total=self.total, mib=0.0)
            bar.start()
            self._bar = bar
        else:
            self._bar.update(self._task, total=self.total)  # type: ignore[attr-defined]

    def advance(self, objects: int, nbytes: int) -> None:
        self.nbytes += nbytes
        if self._bar is not None:
            self._bar.update(  # type: ignore[attr-defined]
                self._task, advance=objects, mib=self.nbytes / 2**20
            )

    def __enter__(self) -> TransferProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()  # type: ignore[attr-defined]
