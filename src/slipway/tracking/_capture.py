"""What a run needs to be reproduced: its code version, command line, interpreter and packages.

`start_run` asks the client's `Capture` (one per client, made on first use) and stores
`SourceInfo.as_tags()` as run tags and the package list as an artifact. The capture caches
both, so runs started in a loop run git once and list the packages once.
"""

from __future__ import annotations

import functools
import getpass
import importlib.metadata
import json
import os
import platform
import re
import socket
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slipway.objects import hash_bytes
from slipway.tracking._git import Git, GitFacts, git_facts

if TYPE_CHECKING:
    from slipway.client import Client

SOURCE_CACHE_TTL_S = 2.0  # short, so a notebook that commits between runs is seen
MAX_TAG_CHARS = 5_000

_NAME_RUNS = re.compile(r"[-_.]+")


@dataclass(frozen=True)
class SourceInfo:
    """Where and how a run was started. Git fields are None outside a git work tree."""

    git_commit: str | None
    git_branch: str | None  # None on a detached HEAD
    git_dirty: bool | None  # untracked (non-ignored) files count as changes
    git_diff_digest: str | None  # equal digests mean equal working-tree content at one commit
    git_remote: str | None  # origin's URL, credentials removed
    repo_root: str | None
    entry_point: str | None  # repo-relative script, "-m module", "-c", "<stdin>", notebook
    working_dir: str | None  # the cwd, relative to the repo root when inside it
    argv: tuple[str, ...]  # sys.argv as given, argv[0] included
    python_version: str
    python_executable: str
    platform: str
    host: str
    user: str | None

    def as_tags(self) -> dict[str, str]:
        """Reserved `slipway.*` run tags; facts that are unknown are left out."""
        return dict(self._tags)  # a copy: the cached one is shared by every run

    @functools.cached_property
    def _tags(self) -> dict[str, str]:
        # Built once per capture: runs started in a loop share one (cached) SourceInfo.
        values: dict[str, str | None] = {
            "slipway.git.commit": self.git_commit,
            "slipway.git.branch": self.git_branch,
            "slipway.git.dirty": None if self.git_dirty is None else str(self.git_dirty).lower(),
            "slipway.git.diff_digest": self.git_diff_digest,
            "slipway.git.remote": self.git_remote,
            "slipway.source.entry_point": self.entry_point,
            "slipway.source.working_dir": self.working_dir,
            "slipway.source.argv": json.dumps(list(self.argv)),
            "slipway.python.version": self.python_version,
            "slipway.python.executable": self.python_executable,
            "slipway.platform": self.platform,
            "slipway.host": self.host,
            "slipway.user": self.user,
        }
        return {k: v[:MAX_TAG_CHARS] for k, v in values.items() if v is not None}


# -- capture ---------------------------------------------------------------------------------

_SourceKey = tuple[str, tuple[str, ...], bool]


class Capture:
    """Source and package captures, cached for the runs one client starts.

    The source is kept `source_ttl_s` seconds per (folder, argv), so creating many runs in a
    loop runs git once; the package list is kept until `clear()` (call it after installing
    packages into a running interpreter, as in a notebook).
    """

    def __init__(self, source_ttl_s: float = SOURCE_CACHE_TTL_S) -> None:
        self.source_ttl_s = source_ttl_s
        self._lock = threading.Lock()
        self._sources: dict[_SourceKey, tuple[float, SourceInfo]] = {}
        self._packages: tuple[str, str] | None = None  # the list and its digest

    @classmethod
    def of(cls, client: Client) -> Capture:
        """The capture `client` holds, made on first use."""
        return client.held(cls)

    def source(self, cwd: Path | None = None, argv: Sequence[str] | None = None) -> SourceInfo:
        """Code version, command line and interpreter; never raises for a missing git.

        `argv` defaults to `sys.argv`, and only then are `python -m` and notebooks recognised
        (they are visible in the running interpreter, not in argv).
        """
        # The key from plain strings: a Path per call cost more than the rest of a cache hit.
        folder = os.getcwd() if cwd is None else str(cwd.absolute())  # noqa: PTH109
        args = tuple(sys.argv if argv is None else argv)
        key = (folder, args, argv is None)
        now = time.monotonic()
        with self._lock:
            hit = self._sources.get(key)
            if hit is not None and now - hit[0] < self.source_ttl_s:
                return hit[1]
        info = _capture(Path(folder), args, inspect_interpreter=argv is None)
        with self._lock:
            # Drop stale entries so a long notebook session with changing argv cannot grow this.
            for stale in [
                k for k, (at, _) in self._sources.items() if now - at >= self.source_ttl_s
            ]:
                del self._sources[stale]
            self._sources[key] = (time.monotonic(), info)
        return info

    def packages(self) -> str:
        """Installed distributions as sorted `name==version` lines (PEP 503 names).

        Where a name is installed twice, the first one on `sys.path` wins, as it does for
        imports.
        """
        return self._package_list()[0]

    def packages_digest(self) -> str:
        """BLAKE3 of `packages()`: equal digests mean identical environments."""
        return self._package_list()[1]

    def clear(self) -> None:
        """Forget what was captured: the next run looks at git and the packages again."""
        with self._lock:
            self._sources.clear()
            self._packages = None

    def _package_list(self) -> tuple[str, str]:
        found = self._packages
        if found is None:
            text = _installed_packages()
            found = (text, hash_bytes(text.encode()))
            with self._lock:
                self._packages = found
        return found


def _capture(cwd: Path, argv: tuple[str, ...], inspect_interpreter: bool) -> SourceInfo:
    git = Git(cwd)
    root = git.toplevel()
    facts = git_facts(git, root) if root is not None else GitFacts()
    return SourceInfo(
        git_commit=facts.commit,
        git_branch=facts.branch,
        git_dirty=facts.dirty,
        git_diff_digest=facts.diff_digest,
        git_remote=facts.remote,
        repo_root=str(root) if root is not None else None,
        entry_point=_entry_point(argv, cwd, root, inspect_interpreter),
        working_dir=_relative_to(cwd, root),
        argv=argv,
        python_version=platform.python_version(),
        python_executable=sys.executable,
        platform=platform.platform(),
        host=socket.gethostname(),
        user=_user(),
    )


def _user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry inside some containers
        return None


# -- entry point -----------------------------------------------------------------------------


def _entry_point(
    argv: tuple[str, ...], cwd: Path, root: Path | None, inspect_interpreter: bool
) -> str | None:
    if inspect_interpreter:
        interactive = _interactive_entry(cwd, root)
        if interactive is not None:
            return interactive
        module = _main_module()
        if module is not None:
            return f"-m {module}"
    if not argv:
        return None
    first = argv[0]
    if first == "-c":
        return "-c"
    if first in ("", "-"):
        return "<stdin>"
    return _relative_to(cwd / first, root)


def _main_module() -> str | None:
    """The module name when Python was started with `python -m name`."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    name = getattr(spec, "name", None)
    if not isinstance(name, str) or not name:
        return None
    return name.removesuffix(".__main__")


def _interactive_entry(cwd: Path, root: Path | None) -> str | None:
    """The notebook path (or `<notebook>` / `<ipython>`) when running inside IPython."""
    ipython: Any = sys.modules.get("IPython")  # only if already imported: never import it
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return None
    if type(shell).__name__ != "ZMQInteractiveShell":
        return "<ipython>"
    # Jupyter Server sets JPY_SESSION_NAME; VS Code puts the path in the user namespace.
    path = os.environ.get("JPY_SESSION_NAME") or shell.user_ns.get("__vsc_ipynb_file__")
    if not isinstance(path, str) or not path.endswith(".ipynb"):
        return "<notebook>"
    return _relative_to(cwd / path, root)


def _relative_to(path: Path, root: Path | None) -> str:
    """`path` relative to the repo root when inside it (POSIX separators), else absolute."""
    resolved = Path(os.path.normpath(path))
    if root is not None:
        for candidate in (resolved, resolved.resolve()):
            if candidate.is_relative_to(root):
                return candidate.relative_to(root).as_posix() or "."
    return str(resolved)


# -- packages --------------------------------------------------------------------------------


def normalize_name(name: str) -> str:
    """PEP 503 normalised project name."""
    return _NAME_RUNS.sub("-", name).lower()


def _installed_packages() -> str:
    seen: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name, version = _name_and_version(dist)
        if not name or not version:
            continue  # a broken install without metadata: nothing to pin
        seen.setdefault(normalize_name(name), version)
    return "".join(f"{name}=={version}\n" for name, version in sorted(seen.items()))


def _name_and_version(dist: importlib.metadata.Distribution) -> tuple[str | None, str | None]:
    """Name and Version from the metadata's header block, the files `dist.metadata` reads.

    `dist.metadata` runs the email parser over the whole file, long description included:
    0.2 s for 120 packages, paid by the first run of every process that captures.
    """
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or dist.read_text("")
    if not text:
        return None, None
    found: dict[str, str] = {}
    for line in text.split("\n\n", 1)[0].splitlines():
        key, colon, value = line.partition(":")
        field = key.strip().lower()
        if colon and field in ("name", "version") and field not in found:
            found[field] = value.strip()
    return found.get("name"), found.get("version")
