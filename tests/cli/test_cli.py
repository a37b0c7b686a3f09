"""The command line as a new user meets it: run as a subprocess, read what it prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from slipway.store import REVISIONS
from tests.conftest import SLIPWAY, clean_env, start_server


def slipway(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SLIPWAY, *args], cwd=cwd, env=clean_env(**env), capture_output=True, text=True, timeout=60
    )


def test_help_lists_the_commands(workspace: Path) -> None:
    result = slipway("--help", cwd=workspace)
    assert result.returncode == 0
    for command in ("init", "doctor", "server", "db", "projects"):
        assert f"  {command} " in result.stdout


def test_help_imports_no_heavy_library() -> None:
    code = (
        "import sys; from slipway.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('sqlalchemy', 'fastapi', 'pandas', 'pydantic', 'httpx', 'rich')"
        " if m in sys.modules]\nprint(heavy, file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stderr.strip() == "[]"


def test_init_doctor_and_a_project_round_trip(workspace: Path) -> None:
    init = slipway("init", cwd=workspace)
    assert init.returncode == 0, init.stderr
    assert "Initialized Slipway workspace" in init.stdout
    assert (workspace / ".slipway" / "slipway.toml").is_file()
    assert (workspace / ".slipway" / "slipway.db").is_file()
    again = slipway("init", cwd=workspace)
    assert again.returncode == 0 and "Already initialized" in again.stdout

    doctor = slipway("doctor", cwd=workspace)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "✓ metadata store: reachable (sqlite)" in doctor.stdout
    assert "✓ object store: reachable and writable" in doctor.stdout

    subdir = workspace / "notebooks"
    subdir.mkdir()  # commands find the workspace from a subfolder, as git does
    assert slipway("projects", "create", "churn", "-d", "who leaves", cwd=subdir).returncode == 0
    listing = slipway("projects", "list", cwd=workspace)
    assert "churn" in listing.stdout and "who leaves" in listing.stdout
    show = slipway("projects", "show", "churn", cwd=workspace)
    assert "description  who leaves" in show.stdout
    assert slipway("projects", "delete", "churn", "--yes", cwd=workspace).returncode == 0
    assert "churn" not in slipway("projects", "list", "--json", cwd=workspace).stdout


@pytest.mark.parametrize(
    ("env", "code", "message"),
    [
        ({"SLIPWAY_OBJECTS_URL": "ftp://host/x"}, 7, "unknown object store scheme 'ftp'"),
        ({"SLIPWAY_METADATA_URL": "mysql://h/x"}, 7, "unknown metadata backend 'mysql'"),
        (
            {"SLIPWAY_METADATA_URL": "postgresql://u:pw@127.0.0.1:1/x"},
            8,
            "cannot reach the metadata database postgresql://u:***@127.0.0.1:1/x",
        ),
        ({"SLIPWAY_SERVER_PORT": "abc"}, 7, "server.port must be an integer"),
        ({"SLIPWAY_SERVER": "http://127.0.0.1:1"}, 8, "cannot reach the Slipway server"),
    ],
)
def test_bad_settings_give_one_line_and_an_exit_code(
    workspace: Path, env: dict[str, str], code: int, message: str
) -> None:
    result = slipway("projects", "list", cwd=workspace, **env)
    assert result.returncode == code
    assert result.stderr.startswith(f"error: {message}")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_debug_shows_the_traceback(workspace: Path) -> None:
    result = slipway(
        "--debug", "projects", "show", "x", cwd=workspace, SLIPWAY_OBJECTS_URL="ftp://h/x"
    )
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_user_errors_exit_non_zero_with_their_message(workspace: Path) -> None:
    slipway("init", cwd=workspace)
    missing = slipway("projects", "show", "ghost", cwd=workspace)
    assert (missing.returncode, missing.stderr.splitlines()[0]) == (
        3,
        "error: project 'ghost' does not exist; `slipway projects list` shows them",
    )
    bad = slipway("projects", "create", "no/slash", cwd=workspace)
    assert bad.returncode == 2 and "invalid name 'no/slash'" in bad.stderr


def test_doctor_reports_an_unreachable_store_and_fails(workspace: Path) -> None:
    result = slipway(
        "doctor", cwd=workspace, SLIPWAY_METADATA_URL="postgresql://bob:hunter2@127.0.0.1:1/db"
    )
    assert result.returncode == 1
    assert "✗ metadata store: cannot reach" in result.stdout
    assert "hunter2" not in result.stdout + result.stderr


def test_db_upgrade_and_current(workspace: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgraded = slipway("db", "upgrade", cwd=workspace, SLIPWAY_METADATA_URL=url)
    assert upgraded.returncode == 0
    assert f"upgraded database from (empty) to {REVISIONS[-1]}" in upgraded.stdout
    current = slipway("db", "current", cwd=workspace, SLIPWAY_METADATA_URL=url)
    assert f"database: {REVISIONS[-1]}" in current.stdout and "up to date" in current.stdout
    again = slipway("db", "upgrade", cwd=workspace, SLIPWAY_METADATA_URL=url)
    assert f"already at revision {REVISIONS[-1]}" in again.stdout


def test_cli_works_against_a_live_server(workspace: Path, sqlite_url: str) -> None:
    server = start_server(workspace, clean_env(SLIPWAY_METADATA_URL=sqlite_url))
    try:
        created = slipway(
            "projects", "create", "remote-one", cwd=workspace, SLIPWAY_SERVER=server.url
        )
        assert created.returncode == 0, created.stderr
        doctor = slipway("doctor", cwd=workspace, SLIPWAY_SERVER=server.url)
        assert "✓ server: ok" in doctor.stdout
    finally:
        server.stop()
    # the server wrote into its own store, which an embedded client on that store sees
    listing = slipway("projects", "list", cwd=workspace, SLIPWAY_METADATA_URL=sqlite_url)
    assert "remote-one" in listing.stdout
