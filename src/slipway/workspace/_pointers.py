"""Pointer files: `PATH.slipway`, a few lines of YAML to commit to git in place of the data.

# Slipway data pointer: commit this file; PATH itself is listed in .gitignore.
project: default
name: train
version: 3
hash: 1f0c…      (the folder's manifest, or the file's content)
kind: dir
size: 123456
files: 50000
profile: 9a3e…   (the version's table profiles; null: it has none)
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from slipway.errors import InvalidInput
from slipway.objects import check_hash

SUFFIX = ".slipway"
_HEADER = "# Slipway data pointer: commit this file; {name} itself is listed in .gitignore.\n"


@dataclass(frozen=True)
class Pointer:
    project: str
    name: str
    version: int
    hash: str
    kind: str
    size: int
    files: int
    profile: str | None = None  # the version's table profiles object, if it has tables
    # Whether the file said what `profile` is (pointers written before it was added did not):
    # then `data push` needs no metadata store to know what to send.
    profile_known: bool = field(default=True, compare=False)

    @property
    def ref(self) -> str:
        return f"{self.name}@v{self.version}"


def pointer_path(data: Path) -> Path:
    return data.with_name(data.name + SUFFIX)


def data_path(pointer: Path) -> Path:
    return pointer.with_name(pointer.name[: -len(SUFFIX)])


def write_pointer(data: Path, pointer: Pointer) -> Path:
    """Write `data.slipway` atomically (a reader never sees half of it)."""
    target = pointer_path(data)
    fields = asdict(pointer)
    del fields["profile_known"]
    text = _HEADER.format(name=data.name) + yaml.safe_dump(fields, sort_keys=False)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    return target


def read_pointer(path: Path) -> Pointer:
    try:
        body: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        pointer = Pointer(
            project=str(body["project"]),
            name=str(body["name"]),
            version=int(body["version"]),
            hash=check_hash(str(body["hash"])),
            kind=str(body["kind"]),
            size=int(body["size"]),
            files=int(body["files"]),
            profile=None if body.get("profile") is None else check_hash(str(body["profile"])),
            profile_known="profile" in body,
        )
        if pointer.kind not in ("file", "dir"):
            raise ValueError(f"kind {pointer.kind!r}")
    except FileNotFoundError:
        raise InvalidInput(f"{path} does not exist") from None
    except (yaml.YAMLError, KeyError, TypeError, ValueError, InvalidInput) as exc:
        raise InvalidInput(f"{path} is not a valid Slipway pointer file: {exc}") from None
    return pointer


def ignore_in_git(data: Path) -> None:
    """List `data` in the .gitignore next to it (once), as `/name`."""
    ignore = data.parent / ".gitignore"
    line = "/" + data.name
    existing = ignore.read_text(encoding="utf-8") if ignore.exists() else ""
    if line in existing.splitlines():
        return
    prefix = "" if not existing or existing.endswith("\n") else "\n"
    with ignore.open("a", encoding="utf-8") as f:
        f.write(f"{prefix}{line}\n")


def find_pointers(root: Path) -> list[Path]:
    """Every pointer file under `root`, skipping tracked data, VCS folders and environments."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        tracked = {name[: -len(SUFFIX)] for name in files if name.endswith(SUFFIX)}
        found += [here / name for name in files if name.endswith(SUFFIX)]
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in tracked
            and not d.startswith(".")
            and d not in ("node_modules", "__pycache__")
        )
    return sorted(found)
