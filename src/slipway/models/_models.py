"""`Models`: the model verbs of the user side, bound to one client.

Packaging, loading, scoring, converting and reading the gates file happen here, in the user's
process; the registry's records are reached through `client.models`. The CLI holds one of
these; the functions of `slipway.models` make one around the current client.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slipway.errors import InvalidInput

if TYPE_CHECKING:
    from slipway.client import Client, ModelsClient
    from slipway.models._gates_file import GatesFile
    from slipway.models._package import PackagedModel
    from slipway.models._signature import Signature
    from slipway.services.registry.card import ModelCard
    from slipway.services.registry.gates import Approval, GatePolicy, GateReport
    from slipway.services.registry.schemas import Evaluation, ModelVersion


class Models:
    """The model verbs (log, load, evaluate, convert, cards, gates) bound to `client`."""

    def __init__(self, client: Client) -> None:
        self.client = client

    @property
    def registry(self) -> ModelsClient:
        """The registry's operations, as `client.models`."""
        return self.client.models

    # -- packages in and out -------------------------------------------------------------------

    def log_model(
        self,
        model: Any,
        name: str,
        *,
        input_example: Any = None,
        signature: Signature | None = None,
        flavor: str | None = None,
        requirements: list[str] | None = None,
        code_paths: Sequence[str | Path] = (),
        run_id: str | None = None,
        datasets: Sequence[str] = (),
        code_commit: str | None = None,
        description: str = "",
        tags: Mapping[str, str] | None = None,
        project: str | None = None,
    ) -> ModelVersion:
        """Package `model` (flavor detected unless given), store the package and register it
        as the next version of `name`.

        Inside a run the client holds open, the version is linked to that run (and so to the
        datasets it read and the commit it ran from) unless `run_id` names another.
        """
        from slipway.models._package import save_package
        from slipway.models._packages import store_package

        run = self.client.active_run()
        if run_id is None and run is not None:
            run_id = run.id
        if project is None and run is not None:
            project = run.info.project
        with tempfile.TemporaryDirectory(prefix="slipway-model-") as scratch:
            folder = Path(scratch) / "package"
            folder.mkdir()
            meta = save_package(
                model,
                folder,
                flavor=flavor,
                input_example=input_example,
                signature=signature,
                requirements=requirements,
                code_paths=[Path(p) for p in code_paths],
            )
            package_hash = store_package(self.registry.objects, folder)
        return self.registry.create_version(
            name,
            package_hash=package_hash,
            flavor=meta.flavor,
            signature=meta.signature.to_dict() if meta.signature is not None else None,
            description=description,
            tags=tags,
            run_id=run_id,
            datasets=datasets,
            code_commit=code_commit,
            project=project,
        )

    def load(
        self, ref: str, *, project: str | None = None, trusted_types: Sequence[str] = ()
    ) -> PackagedModel:
        """The version's model, ready to `predict` (input checked against its signature).

        A registered package is trusted as its author saved it: the types its skops file
        needed when it was logged (or its pyfunc class) are trusted here, because the
        package's bytes are checked against the hash the registry recorded. Any other type
        or class still needs `trusted_types`. A folder from elsewhere goes through
        `slipway.models.load_package`, which trusts nothing by default.
        """
        return self.load_version(self.registry.get_version(ref, project=project), trusted_types)

    def load_version(
        self, version: ModelVersion, trusted_types: Sequence[str] = ()
    ) -> PackagedModel:
        """`load` for a version already resolved."""
        from slipway.models._package import load_package, read_package_meta
        from slipway.models._packages import vouched_types

        folder = self.package_path(version)
        vouched = vouched_types(read_package_meta(folder).flavor_data)
        return load_package(folder, trusted_types=[*vouched, *trusted_types])

    def package_path(self, version: ModelVersion) -> Path:
        """The version's package folder in the workspace cache, materialized on first use and
        checked against the version's hash each time."""
        from slipway.models._packages import cached_package

        workspace = self.client.settings.workspace
        return cached_package(self.registry.objects, workspace, version.package_hash)

    # -- evaluation and conversion -------------------------------------------------------------

    def evaluate(
        self,
        ref: str,
        data: Any,
        *,
        target: str,
        task: str = "classification",
        slices: Sequence[str] = (),
        project: str | None = None,
        trusted_types: Sequence[str] = (),
    ) -> Evaluation:
        """Score version `ref` on labelled `data` and keep the result with the version.

        `data`: a pandas DataFrame, a pyarrow Table, a CSV or Parquet file, or a dataset
        version (NAME@vN) holding one table.
        """
        from slipway.models._evaluation import evaluate_loaded

        version = self.registry.get_version(ref, project=project)
        loaded = self.load_version(version, trusted_types)
        return evaluate_loaded(
            self.client, version, loaded, data, target=target, task=task, slices=slices
        )

    def to_onnx(
        self, ref: str, *, name: str | None = None, project: str | None = None
    ) -> ModelVersion:
        """Convert scikit-learn version `ref` to ONNX and register it as the next version of
        `name` (default: the same model), tagged converted_from=REF, with the same signature.

        The ONNX graph is kept only if onnxruntime predicts as scikit-learn does on the
        version's input example and rows generated from it.
        """
        from slipway.models._onnx import convert

        version = self.registry.get_version(ref, project=project)
        if version.flavor != "sklearn":
            article = "an" if version.flavor[:1] in "aeiou" else "a"
            raise InvalidInput(
                f"{version.ref} is {article} {version.flavor} model; only scikit-learn models "
                "convert to ONNX"
            )
        loaded = self.load_version(version)
        converted = convert(loaded, source=version.ref)
        return self.log_model(
            converted.model,
            name or version.name,
            project=version.project,
            flavor="onnx",
            input_example=loaded.input_example(),
            signature=loaded.signature,
            # Same weights, same lineage: the converted version was trained where its source was.
            run_id=version.run_id,
            datasets=version.datasets,
            code_commit=version.code_commit,
            description=(
                f"{version.ref} converted to ONNX (computing in {converted.precision}), "
                f"checked against scikit-learn on {converted.rows_checked} rows"
            ),
            tags={"converted_from": version.ref},
        )

    # -- model cards ---------------------------------------------------------------------------

    def card(self, ref: str, *, project: str | None = None) -> ModelCard:
        """Every fact the model card of version `ref` shows; render it with `card_markdown`
        or `card_html`."""
        return self.registry.card(ref, project=project)

    def set_card(
        self,
        ref: str,
        *,
        intended_use: str | None = None,
        limitations: str | None = None,
        project: str | None = None,
    ) -> ModelVersion:
        """Write what version `ref` is for and where it falls short, as its card shows.

        Kept on the version as the tags `card.intended_use` and `card.limitations`; None
        leaves a text unchanged, "" removes it.
        """
        from slipway.services.registry.card import CARD_TAGS

        given = {
            key: text.strip()
            for key, text in (("intended_use", intended_use), ("limitations", limitations))
            if text is not None
        }
        if not given:
            raise InvalidInput("give intended_use, limitations or both (an empty text removes it)")
        version = self.registry.get_version(ref, project=project)
        return self.registry.update(
            version.name,
            version.version,
            set_tags={CARD_TAGS[key]: text for key, text in given.items() if text},
            remove_tags=[CARD_TAGS[key] for key, text in given.items() if not text],
            project=version.project,
        )

    # -- promotion gates -----------------------------------------------------------------------

    def approve(
        self, name: str, version: int, *, note: str = "", project: str | None = None
    ) -> Approval:
        """Approve a version for promotion as this client's principal (once per principal)."""
        return self.registry.approve(name, version, note=note, project=project)

    def promote(
        self,
        name: str,
        version: int,
        *,
        alias: str | None = None,
        force: bool = False,
        reason: str = "",
        gates_file: str | Path | GatesFile | None = None,
        policy: GatePolicy | None = None,
        project: str | None = None,
    ) -> GateReport:
        """Move `alias` (default: the policy's, 'champion') to the version if it passes the
        gates of `name` in slipway.gates.yaml (see `gates`), or `policy` if given.

        A refusal raises nothing: the report says `promoted` False and names the failed
        rules. `force=True` moves the alias anyway and needs a `reason`.
        """
        from slipway.services.registry.gates import FORCE_NEEDS_REASON

        if force and not reason.strip():
            raise InvalidInput(FORCE_NEEDS_REASON)  # the body says so too, less plainly
        chosen, source = self._policy(name, gates_file, policy)
        return self.registry.promote(
            name,
            version,
            chosen,
            source=source,
            alias=alias,
            force=force,
            reason=reason,
            project=project,
        )

    def check(
        self,
        ref: str,
        *,
        alias: str | None = None,
        gates_file: str | Path | GatesFile | None = None,
        policy: GatePolicy | None = None,
        project: str | None = None,
    ) -> GateReport:
        """Check version `ref` (NAME means its latest) against its gates; nothing moves."""
        version = self.registry.get_version(ref, project=project)
        chosen, source = self._policy(version.name, gates_file, policy)
        return self.registry.check_gates(
            version.name,
            version.version,
            chosen,
            source=source,
            alias=alias,
            project=version.project,
        )

    def gates(self, gates_file: str | Path | None = None) -> GatesFile:
        """The gates file: `gates_file`, else the nearest slipway.gates.yaml up from the
        current folder, else the one in the workspace's folder."""
        from slipway.models._gates_file import find_gates_file, load_gates_file

        if gates_file is not None:
            return load_gates_file(Path(gates_file))
        workspace = self.client.settings.workspace
        return load_gates_file(find_gates_file(Path.cwd(), workspace.parent))

    def _policy(
        self, name: str, gates_file: str | Path | GatesFile | None, policy: GatePolicy | None
    ) -> tuple[GatePolicy, str]:
        from slipway.models._gates_file import GatesFile

        if policy is not None:
            return policy, "given"
        found = gates_file if isinstance(gates_file, GatesFile) else self.gates(gates_file)
        return found.policy(name), found.source
