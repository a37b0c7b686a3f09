"""Models: package a model through its flavor, register it, load it back, score it, convert it
to ONNX, write its card and take it through the promotion gates.

`import slipway as sw; sw.models.log_model(model, "churn", input_example=df)` uses the current
client (`slipway.client.current_client`); `Models(client)` binds the same verbs to a client of
your own. The registry's records live behind `client.models`; the work on packages, data and
the gates file happens here, in your process. Names load on first use, so `import slipway`
stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slipway._lazy import lazy_exports

if TYPE_CHECKING:
    from slipway.models._card_render import card_html, card_markdown
    from slipway.models._fluent import (
        approve,
        card,
        check,
        evaluate,
        get_version,
        list_versions,
        load,
        log_model,
        promote,
        set_alias,
        set_card,
        to_onnx,
    )
    from slipway.models._gates_file import GatesFile
    from slipway.models._models import Models
    from slipway.models._package import (
        PackagedModel,
        PackageMeta,
        load_package,
        read_package_meta,
        save_package,
    )
    from slipway.models._packages import store_package
    from slipway.models._signature import ColumnSpec, Signature, infer_signature
    from slipway.models.flavors import PythonModel
    from slipway.services.registry.card import ModelCard
    from slipway.services.registry.gates import Approval, GatePolicy, GateReport
    from slipway.services.registry.schemas import Evaluation, ModelVersion

__all__ = [
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

_FLUENT = (
    "approve",
    "card",
    "check",
    "evaluate",
    "get_version",
    "list_versions",
    "load",
    "log_model",
    "promote",
    "set_alias",
    "set_card",
    "to_onnx",
)
_WHERE = {
    **dict.fromkeys(_FLUENT, "slipway.models._fluent"),
    "card_html": "slipway.models._card_render",
    "card_markdown": "slipway.models._card_render",
    "GatesFile": "slipway.models._gates_file",
    "Models": "slipway.models._models",
    "PackagedModel": "slipway.models._package",
    "PackageMeta": "slipway.models._package",
    "load_package": "slipway.models._package",
    "read_package_meta": "slipway.models._package",
    "save_package": "slipway.models._package",
    "store_package": "slipway.models._packages",
    "ColumnSpec": "slipway.models._signature",
    "Signature": "slipway.models._signature",
    "infer_signature": "slipway.models._signature",
    "PythonModel": "slipway.models.flavors",
    "ModelCard": "slipway.services.registry.card",
    "Approval": "slipway.services.registry.gates",
    "GatePolicy": "slipway.services.registry.gates",
    "GateReport": "slipway.services.registry.gates",
    "Evaluation": "slipway.services.registry.schemas",
    "ModelVersion": "slipway.services.registry.schemas",
}

__getattr__ = lazy_exports(__name__, _WHERE)


def __dir__() -> list[str]:
    return sorted(__all__)
