"""What a run needs to be reproduced: its code version, command line, interpreter and packages.

Pure library code: the SDK calls `capture_source()` and `installed_packages()` when a run
starts and stores `SourceInfo.as_tags()` as run tags and the package list as an artifact.

Git is asked one question per subprocess, and all of them together get `GIT_BUDGET_S` seconds:
a command that runs out of time leaves its facts as None, so a huge repository (or a hung
network filesystem) delays a run by at most that budget and never fails it.
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
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from slipway.objects import hash_bytes, hash_file

GIT_BUDGET_S = 2.0
SOURCE_CACHE_TTL_S = 2.0  # short, so a notebook that commits between runs is seen
MAX_TAG_CHARS = 5_000
# Untracked files are hashed in-process; past this total the digest is left None rather than
# spend seconds hashing a stray dataset that was never committed.
UNTRACKED_HASH_LIMIT = 256 << 20

# `git status` must not take the index lock that the user's own git commands may need.
_GIT_ENV_OVERRIDES = {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
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

_source_cache: dict[tuple[str, tuple[str, ...], bool], tuple[float, SourceInfo]] = {}
_source_lock = threading.Lock()


def capture_source(cwd: Path | None = None, argv: Sequence[str] | None = None) -> SourceInfo:
    """Capture code version, command line and interpreter; never raises for a missing git.

    `argv` defaults to `sys.argv`, and only then are `python -m` and notebooks recognised
    (they are visible in the running interpreter, not in argv). Results are cached per
    (cwd, argv) for `SOURCE_CACHE_TTL_S` seconds, so creating many runs in a loop runs git once.
    """
    # The key from plain strings: a Path per call cost more than the rest of a cache hit.
    folder = os.getcwd() if cwd is None else str(cwd.absolute())  # noqa: PTH109
    args = tuple(sys.argv if argv is None else argv)
    key = (folder, args, argv is None)
    now = time.monotonic()
    with _source_lock:
        hit = _source_cache.get(key)
        if hit is not None and now - hit[0] < SOURCE_CACHE_TTL_S:
            return hit[1]
    info = _capture(Path(folder), args, inspect_interpreter=argv is None)
    with _source_lock:
        # Drop stale entries so a long notebook session with changing argv cannot grow this.
        for stale in [k for k, (at, _) in _source_cache.items() if now - at >= SOURCE_CACHE_TTL_S]:
            del _source_cache[stale]
        _source_cache[key] = (time.monotonic(), info)
    return info


def clear_caches() -> None:
    """Forget cached source and package captures (after `pip install` in a notebook, say)."""
    with _source_lock:
        _source_cache.clear()
    installed_packages.cache_clear()


def _capture(cwd: Path, argv: tuple[str, ...], inspect_interpreter: bool) -> SourceInfo:
    git = _Git(cwd)
    root = git.toplevel()
    facts = _git_facts(git, root) if root is not None else _GitFacts()
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


# -- git -------------------------------------------------------------------------------------


class _Git:
    """Runs git in one directory, sharing a single time budget across all its commands."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.deadline = time.monotonic() + GIT_BUDGET_S

    def run(self, *args: str, stdin: bytes = b"") -> bytes | None:
        """Stdout of a successful command; None on failure, timeout or a missing git."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=self.cwd,
                input=stdin,
                capture_output=True,
                timeout=left,
                env={**os.environ, **_GIT_ENV_OVERRIDES},
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout if done.returncode == 0 else None

    def text(self, *args: str) -> str | None:
        out = self.run(*args)
        value = out.decode("utf-8", "replace").strip() if out is not None else ""
        return value or None

    def toplevel(self) -> Path | None:
        top = self.text("rev-parse", "--show-toplevel")
        if top is None:
            return None
        self.cwd = Path(top)  # later commands see repo-relative paths wherever the run started
        return self.cwd


@dataclass(frozen=True)
class _GitFacts:
    commit: str | None = None
    branch: str | None = None
    dirty: bool | None = None
    diff_digest: str | None = None
    remote: str | None = None


@dataclass(frozen=True)
class _Status:
    commit: str | None
    branch: str | None
    tracked_changes: bool
    untracked: tuple[str, ...]


def _git_facts(git: _Git, root: Path) -> _GitFacts:
    status = _status(git)
    remote = git.text("config", "--get", "remote.origin.url")
    if status is None:
        return _GitFacts(remote=strip_credentials(remote) if remote else None)
    return _GitFacts(
        commit=status.commit,
        branch=status.branch,
        dirty=status.tracked_changes or bool(status.untracked),
        diff_digest=_diff_digest(git, root, status),
        remote=strip_credentials(remote) if remote else None,
    )


def _status(git: _Git) -> _Status | None:
    out = git.run(
        "status", "--porcelain=v2", "--branch", "-z", "--untracked-files=all", "--no-renames"
    )
    return None if out is None else _parse_status(out)


def _parse_status(out: bytes) -> _Status:
    """Parse `git status --porcelain=v2 --branch -z` (paths are relative to the repo root)."""
    commit = branch = None
    tracked = False
    untracked: list[str] = []
    fields = iter(out.split(b"\0"))
    for raw in fields:
        record = raw.decode("utf-8", "surrogateescape")
        if record.startswith("# branch.oid "):
            oid = record.removeprefix("# branch.oid ")
            commit = None if oid == "(initial)" else oid
        elif record.startswith("# branch.head "):
            head = record.removeprefix("# branch.head ")
            branch = None if head == "(detached)" else head
        elif record.startswith("? "):
            untracked.append(record[2:])
        elif record[:2] in ("1 ", "u "):
            tracked = True
        elif record.startswith("2 "):
            tracked = True
            next(fields, None)  # a rename record carries its original path as the next field
    return _Status(commit, branch, tracked, tuple(sorted(untracked)))


def _diff_digest(git: _Git, root: Path, status: _Status) -> str | None:
    """BLAKE3 over `git diff HEAD --binary` plus each untracked file's path and content hash."""
    diff = _tracked_diff(git, status) if status.tracked_changes else b""
    untracked = _untracked_hashes(root, status.untracked)
    if diff is None or untracked is None:
        return None
    # Length-prefixing the diff keeps the two parts from running into each other.
    return hash_bytes(len(diff).to_bytes(8, "big") + diff + untracked)


def _tracked_diff(git: _Git, status: _Status) -> bytes | None:
    base: str | None = "HEAD"
    if status.commit is None:  # no commit yet: compare against the empty tree
        out = git.run("hash-object", "-t", "tree", "--stdin")
        base = out.decode().strip() if out else None
    if base is None:
        return None
    # Options pinned so user config (external diff, textconv, renames, prefixes) cannot change
    # the bytes for the same content.
    return git.run(
        "diff",
        base,
        "--binary",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--no-renames",
        "--no-relative",
        "--src-prefix=a/",
        "--dst-prefix=b/",
    )


def _untracked_hashes(root: Path, paths: Sequence[str]) -> bytes | None:
    parts: list[bytes] = []
    total = 0
    for rel in paths:
        path = root / rel
        try:
            if path.is_symlink():  # git tracks the link itself, so hash its target text
                digest, size = hash_bytes(str(path.readlink()).encode()), 0
            else:
                digest, size = hash_file(path)
        except OSError:
            return None  # unreadable: a digest without it would claim content it never saw
        total += size
        if total > UNTRACKED_HASH_LIMIT:
            return None
        parts.append(rel.encode("utf-8", "surrogateescape") + b"\0" + digest.encode() + b"\n")
    return b"".join(parts)


def strip_credentials(url: str) -> str:
    """Drop passwords (and HTTP user names, where tokens hide) from a remote URL."""
    if "://" not in url:
        return url  # scp-like `git@host:repo` or a local path: nothing secret to strip
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at:
        return url
    user = userinfo.split(":", 1)[0]
    keep_user = user and parts.scheme not in ("http", "https", "ftp", "ftps")
    netloc = f"{user}@{hostport}" if keep_user else hostport
    return urlunsplit(parts._replace(netloc=netloc))


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


@functools.cache
def installed_packages() -> str:
    """Installed distributions as sorted `name==version` lines (PEP 503 names).

    Cached for the life of the process; call `clear_caches()` after installing packages
    into a running interpreter. Where a name is installed twice, the first one on `sys.path`
    wins, as it does for imports.
    """
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


def packages_digest(text: str) -> str:
    """BLAKE3 of a package list: equal digests mean identical environments."""
    return hash_bytes(text.encode())
