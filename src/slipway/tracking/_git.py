"""What git says about a work tree: commit, branch, dirty, a digest of the changes, the remote.

Git is asked one question per subprocess, and all of them together get `GIT_BUDGET_S` seconds:
a command that runs out of time leaves its facts as None, so a huge repository (or a hung
network filesystem) delays a run by at most that budget and never fails it.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from slipway.objects import hash_bytes, hash_file

GIT_BUDGET_S = 2.0
# Untracked files are hashed in-process; past this total the digest is left None rather than
# spend seconds hashing a stray dataset that was never committed.
UNTRACKED_HASH_LIMIT = 256 << 20

# `git status` must not take the index lock that the user's own git commands may need.
_GIT_ENV_OVERRIDES = {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


class Git:
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
class GitFacts:
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


def git_facts(git: Git, root: Path) -> GitFacts:
    status = _status(git)
    remote = git.text("config", "--get", "remote.origin.url")
    if status is None:
        return GitFacts(remote=strip_credentials(remote) if remote else None)
    return GitFacts(
        commit=status.commit,
        branch=status.branch,
        dirty=status.tracked_changes or bool(status.untracked),
        diff_digest=_diff_digest(git, root, status),
        remote=strip_credentials(remote) if remote else None,
    )


def _status(git: Git) -> _Status | None:
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


def _diff_digest(git: Git, root: Path, status: _Status) -> str | None:
    """BLAKE3 over `git diff HEAD --binary` plus each untracked file's path and content hash."""
    diff = _tracked_diff(git, status) if status.tracked_changes else b""
    untracked = _untracked_hashes(root, status.untracked)
    if diff is None or untracked is None:
        return None
    # Length-prefixing the diff keeps the two parts from running into each other.
    return hash_bytes(len(diff).to_bytes(8, "big") + diff + untracked)


def _tracked_diff(git: Git, status: _Status) -> bytes | None:
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
