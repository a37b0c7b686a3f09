"""The structure DESIGN.md describes holds in the code, beyond what import-linter checks."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import grimp

import slipway
from slipway.services import catalog

SRC = Path(slipway.__file__).parent


def _modules() -> list[str]:
    found = ["slipway"]
    for info in pkgutil.walk_packages([str(SRC)], prefix="slipway."):
        if ".migrations." not in info.name:
            found.append(info.name)
    return found


def test_every_module_declaring_operations_is_in_the_catalog() -> None:
    declaring = set()
    for name in _modules():
        path = SRC.parent / Path(*name.split("."))
        source = (path / "__init__.py" if path.is_dir() else path.with_suffix(".py")).read_text()
        if "@operation(" in source and name != "slipway.operations":
            declaring.add(name)
    # Anywhere in the package, not only under services/: an operation is a service's.
    assert declaring == {f"slipway.services.{module}" for module in catalog.OPERATIONS}


def test_private_modules_are_imported_only_inside_their_package() -> None:
    graph = grimp.build_graph("slipway")
    crossings = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            parts = imported.split(".")
            private = [i for i, part in enumerate(parts) if part.startswith("_")]
            if not private or parts[private[0]].startswith("__"):
                continue
            owner = ".".join(parts[: private[0]])
            if importer != owner and not importer.startswith(f"{owner}."):
                crossings.append(f"{importer} -> {imported}")
    assert crossings == []


_MODULE_NAME = re.compile(r"^(slipway(?:\.\w+)+)(?::\w+)?$")


def _imported(tree: ast.AST) -> set[str]:
    """Every module an import statement of the file names (TYPE_CHECKING blocks count)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _names_module(text: str) -> bool:
    """A "module:Name" reference or a private module's name: not a logger, tag or file name."""
    module = text.partition(":")[0]
    path = SRC.parent / Path(*module.split("."))
    exists = path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()
    return exists and (":" in text or "._" in module)


def test_slipway_modules_named_in_strings_are_imported_where_import_linter_sees_them() -> None:
    # Lazy exports and registries name modules in strings ("slipway.client._client",
    # "slipway.models.flavors._sklearn:SklearnFlavor"); import-linter reads only import
    # statements, so each such file must also import the module, e.g. under TYPE_CHECKING.
    unseen = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text())
        imported = _imported(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr) and isinstance(
                first := (node.values[0] if node.values else None), ast.Constant
            ):
                if str(first.value).startswith("slipway."):
                    unseen.append(f"{path.relative_to(SRC.parent)}:{node.lineno} (f-string)")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                match = _MODULE_NAME.match(node.value)
                if match and _names_module(node.value) and match[1] not in imported:
                    unseen.append(f"{path.relative_to(SRC.parent)}:{node.lineno} {node.value}")
    assert unseen == []


def test_every_module_imports() -> None:
    for name in _modules():
        importlib.import_module(name)
