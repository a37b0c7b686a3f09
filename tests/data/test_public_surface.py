"""The data SDK's surface is deliberate: this test changes only when the API does (the lead
folds it into tests/test_public_api.py)."""

from __future__ import annotations

import subprocess
import sys

import slipway as sw
import slipway.data
import slipway.workspace


def test_the_data_sdk_is_pinned() -> None:
    assert sorted(slipway.data.__all__) == [
        "AddResult",
        "Data",
        "SyncResult",
        "add",
        "checkout",
        "diff",
        "get",
        "get_path",
        "list_datasets",
        "load_table",
        "log",
        "profile",
        "pull",
        "push",
        "status",
    ]
    assert sw.data is slipway.data
    assert dir(sw.data) == sorted(slipway.data.__all__)  # no service or helper modules
    for name in slipway.data.__all__:
        assert getattr(slipway.data, name) is not None


def test_the_working_copy_surface_is_pinned() -> None:
    assert sorted(slipway.workspace.__all__) == [
        "CheckoutResult",
        "NoProgress",
        "PathStatus",
        "Pointer",
        "Progress",
        "SUFFIX",
        "Stored",
        "Workspace",
        "data_path",
        "find_pointers",
        "ignore_in_git",
        "is_table",
        "pointer_path",
        "read_pointer",
        "write_pointer",
    ]
    for name in slipway.workspace.__all__:
        assert getattr(slipway.workspace, name) is not None


def test_import_slipway_data_is_light() -> None:
    """The SDK's data functions import the client, and with it the stores, on first use."""
    heavy = "('sqlalchemy', 'pydantic', 'httpx', 'duckdb', 'pyarrow', 'rich')"
    code = f"import sys, slipway.data; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
