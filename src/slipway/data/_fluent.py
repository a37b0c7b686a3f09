"""`sw.data`: version datasets in the workspace and read them back, through the current
client (`slipway.client.current_client`).

Reading a version inside a run the client holds open (`get_path`, `load_table`) records it
as an input of that run, so lineage can answer "what was this model trained on".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from slipway.data._data import Data

if TYPE_CHECKING:
    import pyarrow

    from slipway.client import Client
    from slipway.data._sync import SyncResult
    from slipway.services.datasets.diff import DatasetDiff
    from slipway.services.datasets.schemas import DatasetList, DatasetProfile, DatasetVersion
    from slipway.workspace import CheckoutResult, PathStatus


def _client() -> Client:
    # Imported here: `import slipway.data` stays light, the client loads on first use.
    from slipway.client import current_client

    return current_client()


def add(
    path: str | Path, *, name: str | None = None, message: str = "", project: str | None = None
) -> DatasetVersion:
    """Version a file or folder (see `slipway data add`); returns the version, e.g. train@v3."""
    with Data(_client()) as data:
        return data.add(path, name=name, message=message, project=project).version


def status(paths: Sequence[str | Path] = ()) -> list[PathStatus]:
    """Which tracked paths differ from their pointer, and how."""
    with Data(_client()) as data:
        return data.status(paths)


def checkout(
    ref: str | None = None, *, paths: Sequence[str | Path] = (), force: bool = False
) -> list[CheckoutResult]:
    """Restore tracked paths from their pointers, or move one dataset to `ref` (NAME@vN)."""
    with Data(_client()) as data:
        return data.checkout(ref, paths=paths, force=force)


def get(ref: str, *, project: str | None = None) -> DatasetVersion:
    """Resolve NAME@vN, NAME@latest or NAME."""
    return _client().datasets.get(ref, project=project)


def log(name: str, *, project: str | None = None) -> list[DatasetVersion]:
    """The versions of a dataset, newest first."""
    return _client().datasets.list_versions(name, project=project)


def list_datasets(*, project: str | None = None) -> DatasetList:
    """The datasets of a project, with their number of versions."""
    return _client().datasets.list_datasets(project=project)


def diff(base: str, target: str, *, project: str | None = None) -> DatasetDiff:
    """What changed from `base` to `target`: files, and rows, columns and statistics of
    the tables (NAME@vN each, or NAME@vN and vM)."""
    return _client().datasets.diff(base, target, project=project)


def profile(ref: str, *, project: str | None = None) -> DatasetProfile:
    """The profiles of a version's tables, by path inside it."""
    return _client().datasets.profile(ref, project=project)


def get_path(ref: str, *, project: str | None = None) -> Path:
    """A local read-only copy of a version, materialized once and cached; a run input."""
    with Data(_client()) as data:
        return data.get_path(ref, project=project)


def load_table(ref: str, *, table: str | None = None, project: str | None = None) -> pyarrow.Table:
    """A version's CSV or Parquet table as a pyarrow Table (`.to_pandas()` is up to you); a
    run input."""
    with Data(_client()) as data:
        return data.load_table(ref, table=table, project=project)


def push(
    targets: Sequence[str | Path] = (), *, remote: str | None = None, project: str | None = None
) -> SyncResult:
    """Copy what versions need to a data remote (see `slipway data push`)."""
    with Data(_client()) as data:
        return data.push(targets, remote=remote, project=project)


def pull(
    targets: Sequence[str | Path] = (),
    *,
    remote: str | None = None,
    project: str | None = None,
    force: bool = False,
) -> SyncResult:
    """Fetch what versions need from a data remote, then check out their pointers (see
    `slipway data pull`)."""
    with Data(_client()) as data:
        return data.pull(targets, remote=remote, project=project, force=force)
