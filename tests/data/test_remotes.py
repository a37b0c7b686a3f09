"""`slipway data remote add/list/remove`, and the errors push and pull give before copying."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.data.conftest import Cli, cli_runner


@pytest.fixture
def cli(workspace: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run `slipway ARGS` in this process; check its exit code; return (stdout, stderr)."""

    run = cli_runner(capsys)
    run("init")
    return run


def _toml(workspace: Path) -> dict[str, object]:
    return tomllib.loads((workspace / ".slipway" / "slipway.toml").read_text())


def test_remote_add_list_remove_round_trip(cli: Cli, workspace: Path) -> None:
    out, _ = cli(
        "data", "remote", "add", "cloud", "s3://bucket/datasets",
        "--option", "key=AKIAEXAMPLE",
        "--option", "secret=hunter2",
        "--option", "endpoint_url=http://127.0.0.1:9000",
        "--option", 'client_kwargs={"region_name": "eu-west-1"}',
    )  # fmt: skip
    assert out == "added remote cloud: s3://bucket/datasets (default)\n"  # the first: default
    out, _ = cli("data", "remote", "add", "nearby", "file://../shared-store")
    assert out == "added remote nearby: file://../shared-store\n"

    config = _toml(workspace)
    assert config["data"] == {"remote": "cloud"}
    assert config["remotes"] == {
        "cloud": {
            "url": "s3://bucket/datasets",
            "options": {
                "key": "AKIAEXAMPLE",
                "secret": "hunter2",
                "endpoint_url": "http://127.0.0.1:9000",
                "client_kwargs": {"region_name": "eu-west-1"},  # JSON values stay structured
            },
        },
        "nearby": {"url": "file://../shared-store"},  # relative: the file can be committed
    }

    out, _ = cli("data", "remote", "list")
    lines = out.splitlines()
    assert lines[0].startswith("cloud\ts3://bucket/datasets {") and lines[0].endswith("(default)")
    assert '"key": "***"' in lines[0] and '"secret": "***"' in lines[0]
    assert "AKIAEXAMPLE" not in out and "hunter2" not in out
    assert '"region_name": "eu-west-1"' in lines[0]
    # Relative to the folder holding the workspace, as objects.url is.
    assert lines[1] == f"nearby\tfile://{workspace.parent}/shared-store"

    cli("data", "remote", "add", "third", "file:///srv/store", "--default")
    assert _toml(workspace)["data"] == {"remote": "third"}
    out, _ = cli("data", "remote", "remove", "third")
    assert out == "removed remote third\n"
    assert "data" not in _toml(workspace)  # the default went with it
    out, _ = cli("data", "remote", "list")
    assert "(default)" not in out and len(out.splitlines()) == 2

    cli("data", "remote", "remove", "cloud")
    cli("data", "remote", "remove", "nearby")
    out, _ = cli("data", "remote", "list")
    assert out == "no remotes; `slipway data remote add NAME URL` adds one\n"
    assert "remotes" not in _toml(workspace)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("add", "r", "bucket/prefix"), 7, "'bucket/prefix' is not a URL"),
        (("add", "r", "ftp://host/x"), 7, "unknown object store scheme 'ftp'"),
        (("add", "r", "s3://"), 7, "is not a URL"),
        (("add", "bad name", "s3://b"), 7, "'bad name' cannot name a remote"),
        (("add", "r", "s3://b", "--option", "novalue"), 2, "must read KEY=VALUE"),
        (("add", "origin", "s3://b/other"), 4, "remote 'origin' already exists"),
        (("remove", "nope"), 7, "no data remote named 'nope'"),
    ],
)
def test_remote_errors_are_one_clear_line(
    cli: Cli, workspace: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    cli("data", "remote", "add", "origin", "s3://b/data")
    before = (workspace / ".slipway" / "slipway.toml").read_text()
    _, err = cli("data", "remote", *args, code=code)
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert (workspace / ".slipway" / "slipway.toml").read_text() == before  # nothing written


def test_push_and_pull_need_a_remote(cli: Cli) -> None:
    _, err = cli("data", "push", code=7)
    assert err == ("error: no default data remote; `slipway data remote add NAME URL` adds one\n")
    cli("data", "remote", "add", "origin", "file://../store")
    _, err = cli("data", "pull", "--remote", "elsewhere", code=7)
    assert "no data remote named 'elsewhere' (configured: origin)" in err


def test_push_and_pull_say_they_need_embedded_mode(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("data", "remote", "add", "origin", "file://../store")
    monkeypatch.setenv("SLIPWAY_SERVER", "http://127.0.0.1:9")  # never contacted
    for verb in ("push", "pull"):
        _, err = cli("data", verb, code=2)
        assert "between this workspace's own object store and a remote" in err
        assert "need embedded mode" in err and "unset SLIPWAY_SERVER" in err


def test_a_remote_that_is_the_workspace_store_is_refused(cli: Cli, workspace: Path) -> None:
    (workspace / "d").mkdir()
    (workspace / "d" / "a.txt").write_text("a")
    cli("data", "add", "d")
    cli("data", "remote", "add", "self", "file://.slipway/objects")
    _, err = cli("data", "push", code=2)
    assert "remote 'self' is this workspace's own object store" in err
