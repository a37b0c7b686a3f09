"""Source and environment capture, against real git repositories in temporary folders."""

from __future__ import annotations

import importlib.machinery
import importlib.metadata
import json
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from slipway.client import Client
from slipway.objects import hash_bytes
from slipway.tracking import Capture, SourceInfo
from tests.conftest import settings_for

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

REMOTE = "https://user:s3cret-token@example.com/org/repo.git"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The developer's git config (signing, hooks, default branch) must not leak in, and no
    # repository above tmp_path may be found.
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    (path / "src").mkdir()
    (path / "src" / "train.py").write_text("print('train')\n")
    (path / "README.md").write_text("hello\n")
    (path / ".gitignore").write_text("*.log\n")
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "first")
    git(path, "remote", "add", "origin", REMOTE)
    return path


def capture_source(cwd: Path, argv: list[str] | None = None) -> SourceInfo:
    """What a run started in `cwd` with `argv` records (a new capture: nothing cached)."""
    return Capture().source(cwd, argv)


def fresh(repo: Path, argv: list[str] | None = None) -> SourceInfo:
    return capture_source(repo, argv or ["train.py"])


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def test_clean_repo_records_commit_branch_remote_and_script(repo: Path) -> None:
    info = capture_source(repo / "src", ["train.py", "--lr", "0.1"])

    assert info.git_commit == git(repo, "rev-parse", "HEAD")
    assert info.git_branch == "main"
    assert info.git_dirty is False
    assert info.git_remote == "https://example.com/org/repo.git"
    assert info.repo_root == str(repo.resolve())
    assert info.entry_point == "src/train.py"
    assert info.working_dir == "src"
    assert info.argv == ("train.py", "--lr", "0.1")
    assert info.python_version.startswith(f"{sys.version_info.major}.{sys.version_info.minor}.")
    assert info.python_executable == sys.executable

    tags = info.as_tags()
    assert tags["slipway.git.commit"] == info.git_commit
    assert tags["slipway.git.dirty"] == "false"
    assert tags["slipway.source.entry_point"] == "src/train.py"
    assert json.loads(tags["slipway.source.argv"]) == ["train.py", "--lr", "0.1"]
    assert {"slipway.python.version", "slipway.host", "slipway.platform"} <= tags.keys()
    assert not any("s3cret-token" in value for value in tags.values())


def test_outside_a_repository_git_fields_are_none(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()

    info = capture_source(folder, ["run.py"])

    assert (info.git_commit, info.git_branch, info.git_dirty) == (None, None, None)
    assert (info.git_diff_digest, info.git_remote, info.repo_root) == (None, None, None)
    assert info.entry_point == str(folder / "run.py")
    assert not any(key.startswith("slipway.git.") for key in info.as_tags())


def test_missing_git_executable_is_not_an_error(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))

    info = capture_source(repo, ["train.py"])

    assert info.git_commit is None and info.git_dirty is None
    assert info.python_version


def test_detached_head_has_no_branch(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")

    info = fresh(repo)

    assert info.git_branch is None
    assert info.git_commit == git(repo, "rev-parse", "HEAD")
    assert "slipway.git.branch" not in info.as_tags()


def test_repo_without_commits_has_no_commit_but_a_digest(tmp_path: Path) -> None:
    repo = tmp_path / "new"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "a.py").write_text("x = 1\n")
    git(repo, "add", "a.py")

    info = fresh(repo)

    assert info.git_commit is None
    assert info.git_dirty is True
    assert info.git_diff_digest is not None


def test_diff_digest_follows_tracked_edits_and_untracked_files(repo: Path) -> None:
    clean = fresh(repo)

    (repo / "README.md").write_text("edited\n")
    edited = fresh(repo)
    (repo / "notes.txt").write_text("untracked\n")
    with_untracked = fresh(repo)
    (repo / "notes.txt").write_text("untracked, changed\n")
    untracked_changed = fresh(repo)

    assert edited.git_dirty is True
    digests = [
        clean.git_diff_digest,
        edited.git_diff_digest,
        with_untracked.git_diff_digest,
        untracked_changed.git_diff_digest,
    ]
    assert None not in digests
    assert len(set(digests)) == 4

    (repo / "notes.txt").unlink()
    (repo / "README.md").write_text("hello\n")
    assert fresh(repo).git_diff_digest == clean.git_diff_digest


def test_untracked_file_alone_makes_the_tree_dirty(repo: Path) -> None:
    (repo / "scratch.py").write_text("print(1)\n")

    assert fresh(repo).git_dirty is True


def test_ignored_files_do_not_change_the_digest(repo: Path) -> None:
    clean = fresh(repo)
    (repo / "debug.log").write_text("noise\n")

    info = fresh(repo)

    assert info.git_dirty is False
    assert info.git_diff_digest == clean.git_diff_digest


def test_same_content_in_two_clones_gives_the_same_digest(repo: Path, tmp_path: Path) -> None:
    clones = []
    for name in ("one", "two"):
        clone = tmp_path / name
        git(tmp_path, "clone", "-q", str(repo), str(clone))
        (clone / "README.md").write_text("same edit\n")
        (clone / "src" / "extra.py").write_bytes(b"\x00binary\xff")
        clones.append(fresh(clone).git_diff_digest)
    assert clones[0] == clones[1]

    (tmp_path / "two" / "src" / "extra.py").write_bytes(b"\x00binary\xfe")
    assert fresh(tmp_path / "two").git_diff_digest != clones[0]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (REMOTE, "https://example.com/org/repo.git"),
        ("https://ghp_token@github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("https://user:pw@example.com:8443/repo.git", "https://example.com:8443/repo.git"),
        ("ssh://git:pw@example.com/repo.git", "ssh://git@example.com/repo.git"),
        ("ssh://git@example.com/repo.git", "ssh://git@example.com/repo.git"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ("/srv/git/repo.git", "/srv/git/repo.git"),
    ],
)
def test_remote_credentials_are_stripped(repo: Path, url: str, expected: str) -> None:
    git(repo, "remote", "set-url", "origin", url)

    info = fresh(repo)

    assert info.git_remote == expected
    assert info.as_tags()["slipway.git.remote"] == expected


@pytest.mark.parametrize(
    ("argv", "entry"), [(["-c"], "-c"), ([""], "<stdin>"), (["-"], "<stdin>"), ([], None)]
)
def test_entry_point_for_inline_code(tmp_path: Path, argv: list[str], entry: str | None) -> None:
    assert capture_source(tmp_path, argv).entry_point == entry


def test_python_dash_m_is_recorded_as_module(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    main = types.ModuleType("__main__")
    main.__spec__ = importlib.machinery.ModuleSpec("trainer.__main__", None)
    monkeypatch.setitem(sys.modules, "__main__", main)
    monkeypatch.setattr(sys, "argv", ["/somewhere/trainer/__main__.py", "--epochs", "3"])

    info = capture_source(repo)

    assert info.entry_point == "-m trainer"
    assert info.argv == ("/somewhere/trainer/__main__.py", "--epochs", "3")


def test_notebook_path_is_the_entry_point(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class ZMQInteractiveShell:
        user_ns: dict[str, object] = {}

    fake_ipython = types.ModuleType("IPython")
    fake_ipython.get_ipython = ZMQInteractiveShell  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", fake_ipython)
    monkeypatch.setenv("JPY_SESSION_NAME", str(repo / "src" / "explore.ipynb"))

    assert capture_source(repo / "src").entry_point == "src/explore.ipynb"


def test_long_values_are_truncated_in_tags(tmp_path: Path) -> None:
    info = capture_source(tmp_path, ["run.py", "x" * 10_000])

    tags = info.as_tags()

    assert len(tags["slipway.source.argv"]) == 5_000
    assert info.argv[1] == "x" * 10_000  # the capture itself keeps everything


def test_captures_are_cached_briefly_then_refreshed(repo: Path) -> None:
    cached = Capture()
    first = cached.source(repo, ["train.py"])
    assert cached.source(repo, ["train.py"]) is first

    expired = Capture(source_ttl_s=0.0)  # as if the time to live had passed
    (repo / "new.py").write_text("x = 2\n")
    git(repo, "add", "new.py")
    git(repo, "commit", "-q", "-m", "second")

    assert cached.source(repo, ["train.py"]) is first  # still within its time to live
    again = expired.source(repo, ["train.py"])
    assert again.git_commit == git(repo, "rev-parse", "HEAD") != first.git_commit
    cached.clear()
    assert cached.source(repo, ["train.py"]).git_commit == again.git_commit


def test_each_client_holds_one_capture(tmp_path: Path, sqlite_url: str) -> None:
    settings = settings_for(tmp_path, sqlite_url)

    with Client.from_settings(settings) as one, Client.from_settings(settings) as two:
        assert Capture.of(one) is Capture.of(one)
        assert Capture.of(one) is not Capture.of(two)


def test_installed_packages_pins_this_environment() -> None:
    text = Capture().packages()
    lines = text.splitlines()

    assert "slipway==0.1.0" in lines
    assert f"sqlalchemy=={importlib.metadata.version('sqlalchemy')}" in lines
    names = [line.split("==")[0] for line in lines]
    assert names == sorted(set(names))  # sorted by name, each once
    assert all(name == name.lower() and "_" not in name for name in names)


def test_packages_digest_identifies_the_package_list() -> None:
    capture = Capture()
    text = capture.packages()

    assert capture.packages_digest() == Capture().packages_digest() == hash_bytes(text.encode())
    assert len(capture.packages_digest()) == 64
    assert capture.packages_digest() != hash_bytes((text + "extra==1.0\n").encode())
