"""The fitted estimator as the run's `model` artifact: a Slipway model package of the
scikit-learn flavor, which `slipway.models.load_package` reads back.

The flavor writes skops, never a pickle: an estimator skops cannot save is not logged (the fit's
report says why), rather than stored in a form that runs code when loaded.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from slipway.errors import InvalidInput, SlipwayError
from slipway.models import save_package
from slipway.tracking._active_run import ActiveRun

MODEL_ARTIFACT = "model"


def log_model_package(run: ActiveRun, estimator: Any) -> None:
    with tempfile.TemporaryDirectory(prefix="slipway-autolog-") as scratch:
        folder = Path(scratch) / MODEL_ARTIFACT
        try:
            save_package(estimator, folder, flavor="sklearn")
        except SlipwayError:
            raise  # says what to do already (install skops, move a class out of __main__)
        except Exception as exc:
            raise InvalidInput(
                f"skops cannot save this {type(estimator).__name__} ({exc}), and autolog never "
                "falls back to pickle"
            ) from exc
        run.log_artifact(folder, MODEL_ARTIFACT)
