"""Settings: defaults, slipway.toml, SLIPWAY_* variables, flags — in that order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from slipway.config import (
    delete_remote,
    find_workspace,
    load_settings,
    mask_options,
    mask_url,
    write_remote,
)
from slipway.errors import AlreadyExists, ConfigError


def test_defaults_need_no_configuration(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / ".slipway", env={})
    assert settings.metadata_url == f"sqlite:///{tmp_path}/.slipway/slipway.db"
    assert settings.objects_url == f"file://{tmp_path}/.slipway/objects"
    assert not settings.remote and settings.sources == ()


def test_file_then_environment_then_flags(tmp_path: Path) -> None:
    ws = tmp_path / ".slipway"
    ws.mkdir()
    (ws / "slipway.toml").write_text(
        '[metadata]\nurl = "sqlite:///data/meta.db"\n[server]\nport = 9000\nhost = "0.0.0.0"\n'
    )
    settings = load_settings(
        ws, env={"SLIPWAY_SERVER_PORT": "9100"}, overrides={("server", "host"): "127.0.0.2"}
    )
    assert settings.metadata_url == f"sqlite:///{tmp_path}/data/meta.db"  # relative to the root
    assert settings.server_port == 9100
    assert settings.server_host == "127.0.0.2"
    assert settings.sources == (str(ws / "slipway.toml"), "environment", "flags")


def test_every_key_has_an_environment_override(tmp_path: Path) -> None:
    env = {
        "SLIPWAY_METADATA_URL": "postgresql+psycopg://u@h/db",
        "SLIPWAY_OBJECTS_URL": "s3://bucket/prefix",
        "SLIPWAY_OBJECTS_OPTIONS": '{"endpoint_url": "http://127.0.0.1:9000"}',
        "SLIPWAY_SERVER": "http://127.0.0.1:8080",
        "SLIPWAY_SERVER_HOST": "127.0.0.1",
        "SLIPWAY_SERVER_PORT": "8181",
        "SLIPWAY_USER": "alice",
    }
    s = load_settings(tmp_path / ".slipway", env=env)
    assert (s.metadata_url, s.objects_url, s.server_url, s.server_port, s.user) == (
        "postgresql+psycopg://u@h/db",
        "s3://bucket/prefix",
        "http://127.0.0.1:8080",
        8181,
        "alice",
    )
    assert s.objects_options == {"endpoint_url": "http://127.0.0.1:9000"}
    assert s.remote


@pytest.mark.parametrize(
    ("toml", "env", "message"),
    [
        ('[metdata]\nurl = "x"\n', {}, "unknown setting 'metdata.url'"),
        ("[server]\nport = 'eighty'\n", {}, "server.port must be an integer"),
        ("[server]\nport = 70000\n", {}, "between 0 and 65535"),
        ("[metadata\n", {}, "is not valid TOML"),
        ("", {"SLIPWAY_OBJECTS_OPTIONS": "{not json"}, "objects.options must be a JSON object"),
        ("", {"SLIPWAY_SERVER_PORT": "x"}, "SLIPWAY_SERVER_PORT"),
    ],
)
def test_bad_settings_are_clear_errors(
    tmp_path: Path, toml: str, env: dict[str, str], message: str
) -> None:
    ws = tmp_path / ".slipway"
    ws.mkdir()
    (ws / "slipway.toml").write_text(toml)
    with pytest.raises(ConfigError, match=message):
        load_settings(ws, env=env)


def test_workspace_is_found_from_a_subfolder(tmp_path: Path) -> None:
    (tmp_path / ".slipway").mkdir()
    (tmp_path / ".slipway" / "slipway.toml").write_text("")
    deep = tmp_path / "src" / "pkg"
    deep.mkdir(parents=True)
    assert find_workspace(deep, env={}) == tmp_path / ".slipway"
    assert find_workspace(deep, env={"SLIPWAY_WORKSPACE": "/elsewhere"}) == Path("/elsewhere")


def test_secrets_are_masked() -> None:
    assert mask_url("postgresql://bob:s3cret@db:5432/x") == "postgresql://bob:***@db:5432/x"
    assert mask_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
    masked = mask_options({"key": "AKIA", "secret": "s", "endpoint_url": "http://h", "token": "t"})
    assert masked == {"key": "***", "secret": "***", "endpoint_url": "http://h", "token": "***"}


# -- data remotes ------------------------------------------------------------------------------


def _workspace_with(tmp_path: Path, toml: str) -> Path:
    ws = tmp_path / ".slipway"
    ws.mkdir()
    (ws / "slipway.toml").write_text(toml)
    return ws


def test_remotes_are_read_with_relative_file_urls_made_absolute(tmp_path: Path) -> None:
    ws = _workspace_with(
        tmp_path,
        '[data]\nremote = "cloud"\n'
        '[remotes.cloud]\nurl = "s3://bucket/data"\n'
        '[remotes.cloud.options]\nendpoint_url = "http://127.0.0.1:9000"\nsecret = "s"\n'
        '[remotes.cloud.options.client_kwargs]\nregion_name = "eu-west-1"\ntoken = "t"\n'
        '[remotes.nearby]\nurl = "file://../shared/store"\n',
    )
    settings = load_settings(ws, env={})
    assert settings.default_remote == "cloud"
    assert settings.data_remote().url == "s3://bucket/data"
    assert settings.data_remote().options["secret"] == "s"  # the real value, for the backend
    assert settings.data_remote("nearby").url == f"file://{tmp_path.parent}/shared/store"
    shown = settings.describe()["data.remotes"]
    assert "cloud (default): s3://bucket/data" in shown
    assert '"secret": "***"' in shown and '"token": "***"' in shown and '"s"' not in shown
    assert "eu-west-1" in shown and "http://127.0.0.1:9000" in shown
    # The environment picks another default; a flag (--remote) picks by name.
    assert load_settings(ws, env={"SLIPWAY_DATA_REMOTE": "nearby"}).data_remote().name == "nearby"


def test_the_only_remote_is_the_default_and_none_is_a_clear_error(tmp_path: Path) -> None:
    ws = _workspace_with(tmp_path, '[remotes.only]\nurl = "file:///srv/store"\n')
    assert load_settings(ws, env={}).data_remote().name == "only"
    with pytest.raises(ConfigError, match=r"no data remote named 'other' \(configured: only\)"):
        load_settings(ws, env={}).data_remote("other")
    with pytest.raises(ConfigError, match="no data remote named 'gone'"):
        load_settings(ws, env={"SLIPWAY_DATA_REMOTE": "gone"}).data_remote()
    bare = load_settings(tmp_path / "elsewhere" / ".slipway", env={})
    with pytest.raises(ConfigError, match="`slipway data remote add NAME URL` adds one"):
        bare.data_remote()


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[remotes.r]\nurl = "bucket/prefix"\n', "remotes.r 'bucket/prefix' is not a URL"),
        ('[remotes.r]\nurl = "s3://"\n', "is not a URL"),
        ('[remotes.r]\nurl = "file:///"\n', "is not a URL"),
        ("[remotes.r]\noptions = {}\n", 'remotes.r must have url = "scheme://..."'),
        ('[remotes.r]\nurl = "s3://b"\nregion = "x"\n', "unknown setting remotes.r.region"),
        ('[remotes.r]\nurl = "s3://b"\noptions = "x"\n', "remotes.r.options must be a table"),
        ('[remotes."bad name"]\nurl = "s3://b"\n', "'bad name' cannot name a remote"),
        ('remotes = "s3://b"\n', "'remotes' must hold [remotes.NAME] tables"),
    ],
)
def test_bad_remotes_are_clear_errors(tmp_path: Path, toml: str, message: str) -> None:
    ws = _workspace_with(tmp_path, toml)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(ws, env={})


def test_writing_remotes_keeps_the_rest_of_the_file(tmp_path: Path) -> None:
    header = "# Slipway workspace settings; SLIPWAY_* variables override them.\n"
    ws = _workspace_with(tmp_path, header + "[server]\nport = 9000\n")
    assert write_remote(ws, "first", "file://../store") is True  # the first becomes the default
    assert write_remote(ws, "second", "s3://b/p", {"endpoint_url": "http://h"}) is False
    with pytest.raises(AlreadyExists, match="remote 'first' already exists"):
        write_remote(ws, "first", "s3://b/other")
    with pytest.raises(ConfigError, match="is not a URL"):
        write_remote(ws, "third", "nowhere")
    text = (ws / "slipway.toml").read_text()
    assert text.startswith(header) and 'url = "file://../store"' in text  # stays relative
    settings = load_settings(ws, env={})
    assert settings.server_port == 9000
    assert (settings.default_remote, sorted(settings.remotes)) == ("first", ["first", "second"])
    assert settings.remotes["second"].options == {"endpoint_url": "http://h"}

    assert write_remote(ws, "third", "s3://b/3", default=True) is True
    delete_remote(ws, "third")  # the default goes with it; the others stay
    settings = load_settings(ws, env={})
    assert settings.default_remote is None and sorted(settings.remotes) == ["first", "second"]
    with pytest.raises(ConfigError, match="no data remote named 'third'"):
        delete_remote(ws, "third")
    delete_remote(ws, "first")
    delete_remote(ws, "second")
    assert load_settings(ws, env={}).remotes == {}
    assert (ws / "slipway.toml").read_text() == header + "[server]\nport = 9000\n"


def test_writing_a_remote_needs_a_workspace(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="`slipway init` creates one"):
        write_remote(tmp_path / ".slipway", "r", "s3://b")
