"""The torch flavor: a TorchScript module, or a module's state dict plus how to rebuild it.

Two forms, chosen by what is given:

- a TorchScript module (`torch.jit.script(m)` or `torch.jit.trace(m, x)`) is saved with
  `torch.jit.save` and read back with `torch.jit.load`: the graph runs in TorchScript's own
  interpreter, without the model's Python source;
- any other `torch.nn.Module` is saved as its state dict (`torch.save(state_dict)`) plus its class
  by import path and the keyword arguments that rebuild it (its `init_args()`, JSON values, as
  for a PythonModel). Loading reads the tensors with `torch.load(weights_only=True)`, which
  refuses any pickled object but tensors and plain containers, so a tampered file runs nothing;
  the class is the author's code, so, as for pyfunc, the loader names it in `trusted_types`.

`predict` converts the checked input to a float32 tensor, runs the module under
`torch.no_grad()` in eval mode and returns a numpy array (the first output of a tuple).
"""

from __future__ import annotations

import importlib
import pickle
import sys
import warnings
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from slipway.errors import ConfigError, IntegrityError, InvalidInput
from slipway.models.flavors._common import distributions, inside, warn_on_version_change
from slipway.models.flavors._pyfunc import _class_path, _import_class, _init_args, trusted_class

_SCRIPT_FILE = "model.pt"
_WEIGHTS_FILE = "state_dict.pt"


class TorchFlavor:
    name = "torch"

    def accepts(self, model: object) -> bool:
        # A torch module means torch is imported already: no import here.
        nn = sys.modules.get("torch.nn")
        return nn is not None and isinstance(model, nn.Module)

    def requirements(self, model: object) -> list[str]:
        return [*distributions("torch"), "numpy", "pandas"]

    def save(self, model: object, model_dir: Path) -> dict[str, Any]:
        torch = importlib.import_module("torch")
        data: dict[str, Any] = {"torch_version": str(torch.__version__)}
        if isinstance(model, torch.jit.ScriptModule):
            with _quiet_torchscript():
                torch.jit.save(model, str(model_dir / _SCRIPT_FILE))
            return {"file": _SCRIPT_FILE, "format": "torchscript", **data}
        class_path = _class_path(type(model))
        init_args = _init_args(model)
        weights = {k: v.detach().cpu() for k, v in model.state_dict().items()}  # type: ignore[attr-defined]
        path = model_dir / _WEIGHTS_FILE
        torch.save(weights, path)
        # Rebuild it now as the loader will, so a package that cannot load is never written.
        try:
            _rebuild(_import_class(class_path), init_args, _read_weights(torch, path))
        except (TypeError, RuntimeError, ValueError, IntegrityError) as exc:
            raise InvalidInput(
                f"{class_path.replace(':', '.')}(**init_args()) does not take back this "
                f"module's state dict ({exc}); make init_args() return the keyword arguments "
                "that rebuild it, or save torch.jit.script(model) instead"
            ) from None
        return {
            "file": _WEIGHTS_FILE,
            "format": "state_dict",
            "class": class_path,
            "init_args": init_args,
            **data,
        }

    def load(self, model_dir: Path, data: Mapping[str, Any], trusted_types: Sequence[str]) -> Any:
        form = data.get("format")
        if form not in ("torchscript", "state_dict"):
            raise IntegrityError(
                f"{model_dir} declares format {form!r}; the torch flavor reads a TorchScript "
                "archive or a state dict (it never unpickles a module)"
            )
        path = inside(model_dir, data.get("file"))
        torch = importlib.import_module("torch")
        warn_on_version_change("torch", str(torch.__version__), data.get("torch_version"))
        if form == "torchscript":
            try:
                with _quiet_torchscript():
                    module = torch.jit.load(str(path), map_location="cpu")
            except (RuntimeError, ValueError) as exc:
                raise IntegrityError(f"{path} is not a TorchScript archive ({exc})") from None
            return TorchPredictor(module)
        class_path, init_args = trusted_class(model_dir, data, trusted_types, "torch")
        weights = _read_weights(torch, path)  # before any code of the package runs
        cls = _import_class(class_path)
        try:
            return TorchPredictor(_rebuild(cls, init_args, weights))
        except (TypeError, RuntimeError, ValueError) as exc:
            dotted = class_path.replace(":", ".")
            raise IntegrityError(f"{dotted} does not take back the saved weights: {exc}") from None


class TorchPredictor:
    """A module in eval mode behind `predict`: float32 in, numpy out, no gradients."""

    def __init__(self, module: Any) -> None:
        self.module = module.eval()

    def predict(self, data: Any) -> Any:
        torch = importlib.import_module("torch")
        np = importlib.import_module("numpy")
        try:
            if hasattr(data, "to_numpy"):
                array = data.to_numpy(dtype=np.float32, na_value=np.nan)
            else:
                array = np.asarray(data, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"a torch model takes numbers only ({exc})") from None
        with torch.no_grad():
            output = self.module(torch.from_numpy(np.ascontiguousarray(array)))
        if isinstance(output, tuple | list):
            output = output[0]
        return output.detach().cpu().numpy()

    def __repr__(self) -> str:
        return f"TorchPredictor({type(self.module).__name__})"


def _read_weights(torch: Any, path: Path) -> Any:
    try:
        # weights_only: tensors and plain containers only; any other pickled object is refused
        # before it is built, so a crafted file cannot run code here.
        return torch.load(str(path), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, zipfile.BadZipFile, EOFError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise IntegrityError(
            f"{path} holds more than tensors, or is not a torch state dict; it was refused "
            f"unread (torch.load with weights_only=True: {first}). Save the model again with "
            "Slipway from a source you trust"
        ) from None


def _rebuild(cls: type, init_args: Mapping[str, Any], weights: Any) -> Any:
    if not isinstance(weights, Mapping):
        raise IntegrityError("the weights file does not hold a state dict")
    module = cls(**init_args)
    load = getattr(module, "load_state_dict", None)
    if not callable(load):
        raise ConfigError(f"{cls.__module__}.{cls.__qualname__} is not a torch module")
    load(weights, strict=True)
    return module.eval()


@contextmanager
def _quiet_torchscript() -> Iterator[None]:
    # Recent torch releases mark TorchScript deprecated in favour of torch.export; it remains the
    # form that loads without the model's source, and the warning would fire on every load.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield
