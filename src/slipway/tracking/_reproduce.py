"""Turn a run's captured tags and package list into the steps that reproduce it."""

from __future__ import annotations

import json
import platform
import posixpath
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, replace

from slipway.tracking._capture import normalize_name

# Past this many pins, one `pip install` line stops being readable: point at a file instead.
MAX_INLINE_PINS = 12


@dataclass(frozen=True)
class PackageChange:
    """One package that differs: `then` is None when added since, `now` when missing now."""

    name: str
    then: str | None
    now: str | None


@dataclass(frozen=True)
class ReproducePlan:
    commit: str | None
    branch: str | None
    dirty: bool | None
    remote: str | None
    working_dir: str | None  # relative to the repo root, "." for the root itself
    entry_point: str | None
    command: str | None  # None when the run cannot be restarted from a command line
    python_then: str | None
    python_now: str
    packages_known: bool  # False when the run's package list was not recorded
    added: tuple[PackageChange, ...] = ()  # installed now, absent from the run
    removed: tuple[PackageChange, ...] = ()  # in the run, missing now
    changed: tuple[PackageChange, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def pins(self) -> tuple[str, ...]:
        """`name==version` for every package to install to match the run."""
        return tuple(f"{c.name}=={c.then}" for c in (*self.removed, *self.changed))

    def render(self) -> str:
        """The plan as plain text: numbered steps a user can follow."""
        steps = [self._code_step(), self._python_step(), self._packages_step()]
        steps.append(self._command_step())
        lines = ["To reproduce this run:", ""]
        for number, step in enumerate(steps, start=1):
            lines.append(f"{number}. {step[0]}")
            lines.extend(f"   {line}" if line else "" for line in step[1:])
            lines.append("")
        if self.warnings:
            lines.append("Warnings:")
            lines.extend(f"  - {w}" for w in self.warnings)
        return "\n".join(lines).rstrip() + "\n"

    def _code_step(self) -> list[str]:
        if self.commit is None:
            return [
                "Get the code: the run was not made in a git work tree (or git was unavailable),",
                "so its code version is unknown; use the sources from where it ran.",
            ]
        step = ["Get the code:"]
        if self.remote:
            clone = _clone_dir(self.remote)
            step += [f"  git clone {shlex.quote(self.remote)}", f"  cd {shlex.quote(clone)}"]
        else:
            step.append("  (no `origin` remote was recorded; use a clone that has this commit)")
        step.append(f"  git checkout {self.commit}")
        if self.branch:
            step.append(f"(the run was on branch {self.branch})")
        return step

    def _python_step(self) -> list[str]:
        if self.python_then is None:
            return [f"Use Python: the run's version was not recorded (this is {self.python_now})."]
        same = self.python_then == self.python_now
        note = "as this interpreter is" if same else f"this interpreter is {self.python_now}"
        return [f"Use Python {self.python_then} ({note})."]

    def _packages_step(self) -> list[str]:
        if not self.packages_known:
            return ["Install packages: the run's package list was not recorded; cannot compare."]
        pins = self.pins
        step = ["Install packages:"]
        if not pins and not self.added:
            return ["Install packages: nothing to do, this environment matches the run."]
        if len(pins) > MAX_INLINE_PINS:
            step += [
                f"  {len(pins)} packages differ; save the run's package list as",
                "  requirements.txt, then: pip install -r requirements.txt",
            ]
        elif pins:
            step.append("  pip install " + " ".join(shlex.quote(p) for p in pins))
        if self.added:
            names = " ".join(c.name for c in self.added)
            step.append(f"  installed here but not in the run (remove if they matter): {names}")
        return step

    def _command_step(self) -> list[str]:
        step = ["Run:"]
        if self.working_dir and self.working_dir != ".":
            step.append(f"  cd {shlex.quote(self.working_dir)}")
        if self.command is not None:
            return [*step, f"  {self.command}"]
        return [f"Run: {_no_command_reason(self.entry_point)}"]


def plan_reproduction(
    tags: Mapping[str, str], packages_then: str | None, packages_now: str
) -> ReproducePlan:
    """Build the plan from a run's `slipway.*` tags and `name==version` lists; never raises."""
    dirty = _flag(tags.get("slipway.git.dirty"))
    working_dir = tags.get("slipway.source.working_dir")
    entry = tags.get("slipway.source.entry_point")
    args = _args(tags.get("slipway.source.argv"))
    command = _command(entry, args, working_dir)
    then = parse_packages(packages_then) if packages_then is not None else None
    added, removed, changed = diff_packages(then or {}, parse_packages(packages_now))
    plan = ReproducePlan(
        commit=tags.get("slipway.git.commit"),
        branch=tags.get("slipway.git.branch"),
        dirty=dirty,
        remote=tags.get("slipway.git.remote"),
        working_dir=working_dir,
        entry_point=entry,
        command=command,
        python_then=tags.get("slipway.python.version"),
        python_now=platform.python_version(),
        packages_known=then is not None,
        added=added if then is not None else (),
        removed=removed,
        changed=changed,
    )
    return _with_warnings(plan, argv_unreadable=args is None and entry is not None)


def _with_warnings(plan: ReproducePlan, argv_unreadable: bool) -> ReproducePlan:
    warnings = []
    if plan.dirty:
        warnings.append(
            "the run had uncommitted changes; only their digest was recorded, so the checkout "
            "will not contain them (commit before running to make runs reproducible)"
        )
    if plan.python_then and _minor(plan.python_then) != _minor(plan.python_now):
        warnings.append(
            f"the run used Python {plan.python_then} but this is {plan.python_now}; "
            "results and installable package versions may differ"
        )
    if argv_unreadable:
        warnings.append("the run's arguments were not recorded (or were too long to store)")
    return replace(plan, warnings=tuple(warnings))


# -- command line ----------------------------------------------------------------------------


def _args(raw: str | None) -> list[str] | None:
    """argv[1:] from the JSON tag; None when absent or truncated past parsing."""
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    return value[1:]


def _command(entry: str | None, args: list[str] | None, working_dir: str | None) -> str | None:
    if entry is None or args is None:
        return None
    if entry.startswith("-m "):
        return shlex.join(["python", "-m", entry.removeprefix("-m "), *args])
    if entry.startswith(("-", "<")) or entry.endswith(".ipynb"):
        return None  # code given inline, on stdin or in a notebook is not in argv
    script = entry
    if working_dir and not posixpath.isabs(entry) and not posixpath.isabs(working_dir):
        script = posixpath.relpath(entry, working_dir)  # the command runs from working_dir
    return shlex.join(["python", script, *args])


def _no_command_reason(entry: str | None) -> str:
    if entry is None:
        return "the run's entry point was not recorded; start it the way it was started before."
    if entry == "-c":
        return "the run was started with `python -c`; its code was not recorded."
    if entry == "<stdin>":
        return "the run's code came from standard input or the REPL; it was not recorded."
    if entry.endswith(".ipynb"):
        return f"open and run the notebook {entry} (e.g. jupyter nbconvert --execute)."
    if entry in ("<notebook>", "<ipython>"):
        return f"the run was started from an interactive session ({entry}); rerun its cells."
    return "the run's arguments were not recorded; start it the way it was started before."


# -- packages --------------------------------------------------------------------------------


def parse_packages(text: str) -> dict[str, str]:
    """`name==version` lines to {normalised name: version}; other lines are skipped."""
    pins: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, version = line.strip().partition("==")
        if sep and name and version and not name.startswith("#"):
            pins.setdefault(normalize_name(name.strip()), version.strip())
    return pins


def diff_packages(
    then: Mapping[str, str], now: Mapping[str, str]
) -> tuple[tuple[PackageChange, ...], tuple[PackageChange, ...], tuple[PackageChange, ...]]:
    """(added, removed, changed) going from the run's environment to this one, by name."""
    added = tuple(PackageChange(n, None, now[n]) for n in sorted(now.keys() - then.keys()))
    removed = tuple(PackageChange(n, then[n], None) for n in sorted(then.keys() - now.keys()))
    changed = tuple(
        PackageChange(n, then[n], now[n])
        for n in sorted(then.keys() & now.keys())
        if then[n] != now[n]
    )
    return added, removed, changed


def _clone_dir(remote: str) -> str:
    """The folder `git clone <remote>` creates: the last path part without `.git`."""
    name = re.split(r"[/:]", remote.rstrip("/"))[-1].removesuffix(".git")
    return name or "<the clone>"


def _flag(value: str | None) -> bool | None:
    return {"true": True, "false": False}.get(value or "")


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])
