"""`sw.data`: version datasets in the workspace and read them back.

Reading a version inside an active run (`get_path`, `load_table`) records it as an input of
that run, so lineage can answer "what was this model trained on".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from slipway.client import current_client

if TYPE_CHECKING:
    import pyarrow

    from slipway.client._datasets import PathStatus
    from slipway.services.datasets.schemas import DatasetVersion
    from slipway.workspace._checkout import CheckoutResult

__all__ = ["add", "checkout", "get", "get_path", "load_table", "log", "status"]


def add(
    path: str | Path, *, name: str | None = None, message: str = "", project: str | None = None
) -> DatasetVersion:
    """Version a file or folder (see `slipway data add`); returns the version, e.g. train@v3."""
    return current_client().datasets.add(path, name=name, message=message, project=project).version


def get(ref: str, *, project: str | None = None) -> DatasetVersion:
    """Resolve NAME@vN, NAME@latest or NAME."""
    return current_client().datasets.get(ref, project=project)


def get_path(ref: str, *, project: str | None = None) -> Path:
    """A local read-only copy of a version, materialized once and cached; a run input."""
    datasets = current_client().datasets
    version = datasets.get(ref, project=project)
    path = datasets.get_path(version.ref, project=version.project)
    _record_input(version)
    return path


def load_table(ref: str, *, table: str | None = None, project: str | None = None) -> pyarrow.Table:
    """A version's CSV or Parquet table as a pyarrow Table (`.to_pandas()` is up to you)."""
    datasets = current_client().datasets
    version = datasets.get(ref, project=project)
    loaded = datasets.load_table(version.ref, table=table, project=version.project)
    _record_input(version)
    return loaded


def status(paths: Sequence[str | Path] = ()) -> list[PathStatus]:
    return current_client().datasets.status(paths)


def checkout(
    ref: str | None = None, *, paths: Sequence[str | Path] = (), force: bool = False
) -> list[CheckoutResult]:
    return current_client().datasets.checkout(ref, paths=paths, force=force)


def log(name: str, *, project: str | None = None) -> list[DatasetVersion]:
    return current_client().datasets.log(name, project=project)


def _record_input(version: DatasetVersion) -> None:
    run = current_client().active_run()
    if run is None:
        return
    from slipway.services.datasets.schemas import RunInput

    current_client().call(
        "record_run_input",
        run_id=run.id,
        body=RunInput(project=version.project, dataset=version.ref),
    )
