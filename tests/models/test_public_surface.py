"""`slipway.models` is the typed SDK package: its names are deliberate and load on first use.

(The lead merges this pin into tests/test_public_api.py.)
"""

from __future__ import annotations

import subprocess
import sys

import slipway as sw
import slipway.models

MODELS_API = [
    "Approval",
    "ColumnSpec",
    "Evaluation",
    "GatePolicy",
    "GateReport",
    "GatesFile",
    "ModelCard",
    "ModelVersion",
    "Models",
    "PackageMeta",
    "PackagedModel",
    "PythonModel",
    "Signature",
    "approve",
    "card",
    "card_html",
    "card_markdown",
    "check",
    "evaluate",
    "get_version",
    "infer_signature",
    "list_versions",
    "load",
    "load_package",
    "log_model",
    "promote",
    "read_package_meta",
    "save_package",
    "set_alias",
    "set_card",
    "store_package",
    "to_onnx",
]


def test_the_models_surface_is_pinned_and_every_name_resolves() -> None:
    assert sorted(slipway.models.__all__) == MODELS_API
    assert sw.models is slipway.models
    for name in MODELS_API:
        assert getattr(slipway.models, name) is not None, name


def test_dir_shows_the_sdk_not_the_implementation() -> None:
    slipway.models.load  # noqa: B018  (loads the private modules behind it)
    assert dir(sw.models) == MODELS_API
    for inner in ("service", "gates", "models", "_fluent", "_models", "annotations"):
        assert inner not in dir(sw.models)


def test_an_unknown_name_is_an_attribute_error_naming_it() -> None:
    try:
        sw.models.no_such_verb  # noqa: B018
    except AttributeError as exc:
        assert "no_such_verb" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_importing_the_package_loads_no_client_store_or_library() -> None:
    heavy = "('slipway.client', 'sqlalchemy', 'pydantic', 'pandas', 'sklearn', 'skops')"
    code = f"import sys, slipway.models; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
