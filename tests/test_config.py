"""Settings: defaults, slipway.toml, SLIPWAY_* variables, flags — in that order."""

from __future__ import annotations

from pathlib import Path

import pytest

from slipway.config import find_workspace, load_settings, mask_options, mask_url
from slipway.errors import ConfigError


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
