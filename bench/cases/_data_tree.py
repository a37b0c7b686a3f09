"""The data-versioning sequence behind the `data_*` cases: `slipway data` vs DVC on a tree of
50,000 small files (5,000 with --quick), in one run.

One sequence measures every step, since each needs the ones before it: generate the tree;
copy it (`cp -a`, timed: a reference) into a `slipway init` workspace and into a `git init` +
`dvc init` repository; then, step by step for both tools, `add` (timed), a no-op `status`
(timed, 3 rounds), append to 10 files and `add` again (timed), `push` to an empty local
folder (timed, 2 rounds, a new remote each), move the data folder out of the repository and
`checkout` (timed, 2 rounds), with `cp -a` of the tree into a new folder (timed, before, between and
after the checkouts) as the reference for checkout, each followed by a bare Python loop creating
the same files (the floor of a checkout written in Python). Then the re-add again on a smaller tree
(20,000 files; 2,000 with --quick), where DVC's fixed cost weighs more: both tools add it
(untimed), 10 files change, both add again (timed); last, Python importing click, pydantic
and SQLAlchemy (timed, 3 rounds: the floor reference for a command that records a version).
Every step is checked (what was stored, what was restored) before the next one. The first
`data_*` case of a run executes the sequence and the others report from its results, so
`--cases data_status` alone still runs the whole sequence (3-8 minutes at full size on the
2-CPU VM used, depending on its load).
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cases._common import (
    ANCHORS_BIN,
    GIB,
    MIB,
    SLIPWAY_BIN,
    Anchor,
    BenchError,
    Options,
    Row,
    Skip,
    Target,
    fmt,
    median,
    shell_line,
    spread,
    sync_disks,
    tail,
)

FULL_FILES = 50_000
QUICK_FILES = 5_000
SMALL_FILES = 20_000  # the smaller tree of the second re-add
QUICK_SMALL_FILES = 2_000
FOLDERS = 50
MIN_SIZE, MAX_SIZE = 1024, 8192  # bytes per file, both included
SEED = 20_261_126
# Every generated file gets this mtime (2026-01-01 UTC): data that has existed for a while.
# A file written within 2 s of being hashed is hashed again next time by both tools' stat
# caches ("racy clean"), which would make the measurements depend on how fast setup ran.
MTIME_NS = 1_767_225_600 * 1_000_000_000
CHANGED = 10  # files appended to before the second add
APPENDED = 256  # bytes appended to each of them
STATUS_ROUNDS = 3
PUSH_ROUNDS = 2  # a push to an empty remote each, the order alternating
CP_ROUNDS = 5  # cp -a of the tree into a new folder: before, between, after the checkouts
SAMPLE = 200  # files compared byte for byte after checkout (the changed ones among them)
DATA = "data"  # the tracked folder, in both tools' repositories

SLIPWAY = SLIPWAY_BIN / "slipway"
DVC = ANCHORS_BIN / "dvc"
PUSH_MISSING = "slipway data push is not available"
GIT_IDENTITY = ("-c", "user.name=bench", "-c", "user.email=bench@localhost")


def files_for(options: Options) -> int:
    return QUICK_FILES if options.quick else FULL_FILES


def small_files_for(options: Options) -> int:
    return QUICK_SMALL_FILES if options.quick else SMALL_FILES


def min_free_bytes(options: Options) -> int:
    # The tree takes ~6.5 KiB a file on disk (4 KiB blocks); there are up to 10 copies of it
    # at once: original, each tool's data, store and remote, and 3 cp -a references; then
    # the smaller tree of the second re-add, 2/5 of it, in 5 copies.
    return 1 * GIB if options.quick else 5 * GIB


# -- the tree --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tree:
    root: Path
    files: list[str]  # POSIX paths relative to root, in generation order
    total_bytes: int

    @property
    def count(self) -> int:
        return len(self.files)

    def label(self) -> str:
        return (
            f"{self.count:,} files of 1-8 KiB in {FOLDERS} folders "
            f"({fmt(self.total_bytes / MIB, 'MiB')})"
        )


def generate(root: Path, count: int) -> Tree:
    """`count` files of 1-8 KiB of seeded random bytes in FOLDERS subfolders, all dated
    MTIME_NS. The same seed gives the same tree, byte for byte."""
    rng = random.Random(SEED)
    files, total = [], 0
    for folder in range(FOLDERS):
        (root / f"part-{folder:02d}").mkdir(parents=True)
    for i in range(count):
        rel = f"part-{i % FOLDERS:02d}/sample-{i:05d}.bin"
        size = rng.randint(MIN_SIZE, MAX_SIZE)
        path = root / rel
        path.write_bytes(rng.randbytes(size))
        os.utime(path, ns=(MTIME_NS, MTIME_NS))
        files.append(rel)
        total += size
    return Tree(root, files, total)


def changed_files(tree: Tree) -> list[str]:
    """The CHANGED files appended to, spread over the tree."""
    step = tree.count // CHANGED
    return [tree.files[k * step + step // 2] for k in range(CHANGED)]


def appended(rel: str) -> bytes:
    return hashlib.shake_128(f"appended to {rel}".encode()).digest(APPENDED)


def change(data: Path, tree: Tree) -> None:
    for rel in changed_files(tree):
        with (data / rel).open("ab") as f:
            f.write(appended(rel))


def verify_restored(data: Path, tree: Tree, who: str) -> None:
    """After checkout: the same files as the tree plus the appended bytes; a sample compared
    byte for byte (all the changed files among it), every size checked."""
    changed = set(changed_files(tree))
    found = sorted(p.relative_to(data).as_posix() for p in data.rglob("*") if p.is_file())
    if found != sorted(tree.files):
        extra, missing = set(found) - set(tree.files), set(tree.files) - set(found)
        raise BenchError(
            f"{who} restored {len(found):,} files, expected {tree.count:,} "
            f"({len(missing):,} missing, e.g. {sorted(missing)[:3]}; {len(extra):,} unexpected)"
        )
    size = sum((data / rel).stat().st_size for rel in found)
    expected_size = tree.total_bytes + len(changed) * APPENDED
    if size != expected_size:
        raise BenchError(f"{who} restored {size:,} bytes, expected {expected_size:,}")
    sample = sorted(changed | set(random.Random(SEED + 1).sample(tree.files, SAMPLE)))
    for rel in sample:
        expected = (tree.root / rel).read_bytes() + (appended(rel) if rel in changed else b"")
        if (data / rel).read_bytes() != expected:
            raise BenchError(f"{who} restored {rel} with different content")


def set_aside(data: Path) -> None:
    """Take the data folder away before a checkout, as a fresh clone lacks it: moved out of
    the repository (kept to the end), not deleted. Right after 50,000 files are deleted, ext4
    creates files in the same block groups several times slower (`perf` shows
    __ext4_new_inode skipping the recently deleted inodes, `recently_deleted()`, for most of
    a checkout's time): a checkout timed then measures the allocator's state, as the `cp -a`
    after `rm -rf` that swung from 20 s to 47 s did."""
    repository = data.parent
    data.rename(repository.with_name(f"{repository.name}-{data.name}-{time.monotonic_ns()}"))


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# -- running the tools ------------------------------------------------------------------------


@dataclass(frozen=True)
class Timed:
    seconds: float
    returncode: int
    stdout: str
    stderr: str


def timed(
    cmd: Sequence[str | Path],
    cwd: Path,
    env: Mapping[str, str],
    ok: tuple[int, ...] = (0,),
) -> Timed:
    """Wall time from spawn to exit of a fresh `cmd`, after a `sync`; an exit code outside
    `ok` is an error."""
    sync_disks()
    start = time.perf_counter()
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=dict(env), capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok:
        raise BenchError(
            f"`{shell_line(cmd)}` failed ({proc.returncode}) in {cwd}: "
            f"{tail(proc.stderr or proc.stdout)}"
        )
    return Timed(elapsed, proc.returncode, proc.stdout, proc.stderr)


def helper(cmd: Sequence[str | Path], cwd: Path, env: Mapping[str, str]) -> str:
    """An untimed set-up command; failing is an error."""
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=dict(env), capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise BenchError(
            f"`{shell_line(cmd)}` failed ({proc.returncode}) in {cwd}: "
            f"{tail(proc.stderr or proc.stdout)}"
        )
    return proc.stdout


FLOOR_CODE = "import click, pydantic, sqlalchemy"
FLOOR_ROUNDS = 3


def import_floor(cwd: Path) -> list[float]:
    """`python -c "import click, pydantic, sqlalchemy"` in Slipway's venv, timed like the
    tools: what any command that records something in the database pays before its work
    (the interpreter, the CLI's, the schemas' and the store's libraries)."""
    python = SLIPWAY_BIN / "python"
    return [timed([python, "-c", FLOOR_CODE], cwd, os.environ).seconds for _ in range(FLOOR_ROUNDS)]


# The same, then an lstat of every file under a folder, as a re-add's scan must do at least.
STAT_CODE = f"""{FLOOR_CODE}, os, sys
def walk(folder):
    for entry in os.scandir(folder):
        if entry.is_dir(follow_symlinks=False):
            walk(entry.path)
        else:
            entry.stat(follow_symlinks=False)
walk(sys.argv[1])"""


def stat_floor(folder: Path) -> list[float]:
    """STAT_CODE over `folder`, timed like the tools: the floor of adding it again."""
    python = SLIPWAY_BIN / "python"
    return [
        timed([python, "-c", STAT_CODE, folder], folder.parent, os.environ).seconds
        for _ in range(FLOOR_ROUNDS)
    ]


def floor_anchor(values: Sequence[float]) -> Anchor:
    return Anchor(
        "floor: python + imports (reference)",
        median(values),
        f'`.venv/bin/python -c "{FLOOR_CODE}"`: {HOW}; median of {len(values)}; '
        f"{spread(values, 's')}",
    )


def stat_anchor(values: Sequence[float]) -> Anchor:
    return Anchor(
        "floor: python + imports + lstat of every file (reference)",
        median(values),
        f"`.venv/bin/python -c CODE data`, CODE importing click, pydantic and sqlalchemy and "
        f"then walking the folder with os.scandir, one lstat per file, right after the "
        f"re-add: {HOW}; median of {len(values)}; {spread(values, 's')}",
    )


def slipway_env() -> dict[str, str]:
    """No SLIPWAY_* settings from the caller's shell: the workspace alone decides."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SLIPWAY_")}


def dvc_env(workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DVC_NO_ANALYTICS": "1",
        "DVC_SITE_CACHE_DIR": str(workdir / ".dvc-site-cache"),
    }


def push_available() -> str | None:
    """None when `slipway data push` exists, else why it cannot be measured."""
    proc = subprocess.run(
        [str(SLIPWAY), "data", "push", "--help"],
        env=slipway_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode == 0:
        return None
    return f"{PUSH_MISSING} (`slipway data push --help` failed: {tail(proc.stderr, 1)})"


def reflink_note(work: Path) -> str:
    """Whether the work folder's filesystem clones files (reflinks), tried with cp."""
    src, dst = work / ".reflink-probe", work / ".reflink-probe-copy"
    src.write_bytes(b"probe")
    proc = subprocess.run(
        ["cp", "--reflink=always", str(src), str(dst)], capture_output=True, check=False
    )
    src.unlink()
    dst.unlink(missing_ok=True)
    if proc.returncode == 0:
        return (
            "the filesystem supports reflinks: copies by cp (coreutils 9 clones by default), "
            "DVC (cache.type reflink,copy) and Slipway (reflink, then copy) share extents"
        )
    return (
        "the filesystem has no reflinks (`cp --reflink=always` fails): cp, DVC and Slipway "
        "all copy bytes"
    )


def load_note(when: str) -> str:
    one, five, _ = os.getloadavg()
    return f"load average {when} {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


class Slipway:
    def __init__(self, root: Path) -> None:
        self.root, self.env = root, slipway_env()
        self.data = root / DATA

    def setup(self, tree: Tree) -> float:
        """A fresh workspace holding a copy of the tree; returns how long `cp -a` took."""
        self.root.mkdir(parents=True)
        helper([SLIPWAY, "init"], self.root, self.env)
        return copy_tree(tree, self.data)

    def run(self, *args: str, ok: tuple[int, ...] = (0,)) -> Timed:
        return timed([SLIPWAY, *args], self.root, self.env, ok)

    def pointer(self) -> dict[str, str]:
        path = self.root / f"{DATA}.slipway"
        if not path.is_file():
            raise BenchError(f"`slipway data add {DATA}` wrote no {path.name}")
        fields = (line.split(": ", 1) for line in path.read_text().splitlines() if ": " in line)
        return {k: v for k, v in fields if not k.startswith("#")}

    def add(self, tree: Tree, version: int, size: int) -> tuple[Timed, int]:
        """`slipway data add data`; returns the run and how many files it hashed."""
        result = self.run("data", "add", DATA)
        if not re.fullmatch(rf"{DATA}@v{version} [0-9a-f]{{64}}\s*", result.stdout):
            raise BenchError(
                f"`slipway data add {DATA}` printed {result.stdout.strip()!r}, "
                f"expected '{DATA}@v{version} <hash>'"
            )
        pointer = self.pointer()
        want = {"version": str(version), "files": str(tree.count), "size": str(size)}
        got = {k: pointer.get(k) for k in want}
        if got != want:
            raise BenchError(f"{DATA}.slipway says {got}, expected {want}")
        hashed = re.search(r"hashed (\d+)", result.stderr)
        return result, int(hashed.group(1)) if hashed else -1

    def status(self) -> Timed:
        result = self.run("data", "status")
        if "up to date" not in result.stdout:
            raise BenchError(f"`slipway data status` printed {result.stdout.strip()!r}")
        return result

    def push(self, remote: Path, tree: Tree) -> Timed:
        helper(
            [SLIPWAY, "data", "remote", "add", remote.name, f"file://{remote}", "--default"],
            self.root,
            self.env,
        )
        result = self.run("data", "push")
        if folder_bytes(remote) < tree.total_bytes:
            raise BenchError(
                f"after `slipway data push` the remote holds {folder_bytes(remote):,} bytes, "
                f"less than the {tree.total_bytes:,} of the data"
            )
        return result

    def checkout(self, tree: Tree) -> Timed:
        set_aside(self.data)
        result = self.run("data", "checkout")
        verify_restored(self.data, tree, "`slipway data checkout`")
        self.run("data", "status")  # and it agrees: exits 0 (untimed check)
        return result


class Dvc:
    def __init__(self, root: Path) -> None:
        self.root, self.env = root, dvc_env(root.parent)
        self.data = root / DATA

    def setup(self, tree: Tree) -> float:
        """A fresh repository holding a copy of the tree; returns how long `cp -a` took."""
        self.root.mkdir(parents=True)
        helper(["git", "init", "-q"], self.root, self.env)
        helper([DVC, "init", "-q"], self.root, self.env)
        self.commit("dvc init", ".dvc", ".dvcignore")
        return copy_tree(tree, self.data)

    def commit(self, message: str, *paths: str) -> None:
        """Commit what DVC asks to (`dvc init`, `dvc add` print which files), as a user would."""
        if not (self.root / ".git").is_dir():  # never reach the repository around bench/.work
            raise BenchError(f"{self.root} is not a git repository")
        git = ["git", "-C", str(self.root)]
        helper([*git, "add", "--", *paths], self.root, self.env)
        helper([*git, *GIT_IDENTITY, "commit", "-q", "-m", message], self.root, self.env)

    def run(self, *args: str) -> Timed:
        return timed([DVC, *args], self.root, self.env)

    def pointer(self) -> dict[str, str]:
        path = self.root / f"{DATA}.dvc"
        if not path.is_file():
            raise BenchError(f"`dvc add {DATA}` wrote no {path.name}")
        fields = (line.strip("- ").split(": ", 1) for line in path.read_text().splitlines())
        return {f[0]: f[1] for f in fields if len(f) == 2}

    def add(self, tree: Tree, size: int, previous: str | None) -> Timed:
        result = self.run("add", DATA)
        pointer = self.pointer()
        want = {"nfiles": str(tree.count), "size": str(size)}
        got = {k: pointer.get(k) for k in want}
        if got != want or pointer.get("md5") == previous:
            raise BenchError(f"{DATA}.dvc says {pointer}, expected {want} and a new md5")
        self.commit(f"dvc add {DATA}", f"{DATA}.dvc", ".gitignore")
        return result

    def status(self) -> Timed:
        result = self.run("status")
        if "up to date" not in result.stdout:
            raise BenchError(f"`dvc status` printed {result.stdout.strip()!r}")
        return result

    def push(self, remote: Path, tree: Tree) -> Timed:
        helper([DVC, "remote", "add", "-d", remote.name, str(remote)], self.root, self.env)
        result = self.run("push")
        if folder_bytes(remote) < tree.total_bytes:
            raise BenchError(
                f"after `dvc push` the remote holds {folder_bytes(remote):,} bytes, "
                f"less than the {tree.total_bytes:,} of the data"
            )
        return result

    def checkout(self, tree: Tree) -> Timed:
        set_aside(self.data)
        result = self.run("checkout")
        verify_restored(self.data, tree, "`dvc checkout`")
        return result


# -- the sequence -----------------------------------------------------------------------------


@dataclass
class Step:
    slipway: list[float] = field(default_factory=list)
    dvc: list[float] = field(default_factory=list)
    first: list[str] = field(default_factory=list)  # which tool went first, per round


@dataclass
class Results:
    tree_label: str
    count: int
    steps: dict[str, Step] = field(default_factory=dict)
    small_label: str = ""  # the smaller tree of the second re-add
    small_count: int = 0
    cp_fresh: list[float] = field(default_factory=list)  # cp -a into each tool's folder
    cp_new: list[float] = field(default_factory=list)  # cp -a into a new folder, by checkout
    write_floor: list[float] = field(default_factory=list)  # write_floor(), after each cp_new
    hashed: dict[str, int] = field(default_factory=dict)  # Slipway's "hashed N" per add
    push_skipped: str | None = None
    floor: list[float] = field(default_factory=list)  # import_floor(), after the sequence
    # stat_floor() of the data folder right after each re-add, by step ("readd", ...)
    stat_floor: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # about the machine and the run


def both(
    step: Step, slipway: Callable[[], Timed], dvc: Callable[[], Timed], slipway_first: bool
) -> None:
    if slipway_first:
        step.slipway.append(slipway().seconds)
        step.dvc.append(dvc().seconds)
    else:
        step.dvc.append(dvc().seconds)
        step.slipway.append(slipway().seconds)
    step.first.append("slipway" if slipway_first else "dvc")


def copy_tree(tree: Tree, dest: Path) -> float:
    """`cp -a` of the tree to `dest` (which must not exist), timed like the tools."""
    seconds = timed(["cp", "-a", tree.root, dest], dest.parent, os.environ).seconds
    if sum(1 for p in dest.rglob("*") if p.is_file()) != tree.count:
        raise BenchError(f"`cp -a` copied a different number of files than {tree.count:,}")
    return seconds


def cp_into_new(tree: Tree, dest: Path) -> float:
    """The reference for checkout: `cp -a` of the tree into a folder that does not exist yet,
    timed like the tools. The copies stay until the end: deleting one would slow the next
    (on the VM used, writing 50,000 files right after as many were deleted ran several times
    slower than into a disk that saw no deletes)."""
    return copy_tree(tree, dest)


# A Python process creating every file of the tree from bytes already in memory, one thread,
# nothing imported: what any checkout written in Python pays for its creates and writes.
WRITE_CODE = """import os, sys
plan = [(rel, int(size)) for rel, size in (line.rsplit(" ", 1) for line in open(sys.argv[1]))]
blob = memoryview(os.urandom(max(size for _, size in plan)))
for folder in sorted({rel.rpartition("/")[0] for rel, _ in plan}):
    os.makedirs(os.path.join(sys.argv[2], folder))
for rel, size in plan:
    with open(os.path.join(sys.argv[2], rel), "wb") as f:
        f.write(blob[:size])"""


def write_floor(tree: Tree, dest: Path) -> float:
    """WRITE_CODE creating the tree's files in `dest` (a new folder, kept to the end, as the
    cp -a copies are), timed like the tools."""
    plan = dest.with_name(f"{dest.name}.plan")
    plan.write_text("".join(f"{rel} {(tree.root / rel).stat().st_size}\n" for rel in tree.files))
    seconds = timed([SLIPWAY_BIN / "python", "-c", WRITE_CODE, plan, dest], dest.parent, os.environ)
    if sum(1 for p in dest.rglob("*") if p.is_file()) != tree.count:
        raise BenchError(f"the write floor created a different number of files than {tree.count:,}")
    return seconds.seconds


def readd_again(work: Path, count: int, results: Results) -> None:
    """The re-add on a tree of `count` files: both tools add it (untimed), 10 files change,
    both add again (timed, DVC first)."""
    tree = generate(work / "small-tree", count)
    results.small_label, results.small_count = tree.label(), tree.count
    slipway, dvc = Slipway(work / "small-slipway"), Dvc(work / "small-dvc")
    slipway.setup(tree)
    dvc.setup(tree)
    slipway.add(tree, 1, tree.total_bytes)
    dvc.add(tree, tree.total_bytes, None)
    change(slipway.data, tree)
    change(dvc.data, tree)
    size = tree.total_bytes + CHANGED * APPENDED
    results.steps["readd_small"] = step = Step()
    previous = dvc.pointer().get("md5")
    step.dvc.append(dvc.add(tree, size, previous).seconds)
    s_readd, results.hashed["readd_small"] = slipway.add(tree, 2, size)
    step.slipway.append(s_readd.seconds)
    step.first.append("dvc")
    results.stat_floor["readd_small"] = stat_floor(slipway.data)


def sequence(work: Path, count: int, small_count: int) -> Results:
    """Everything, measured once; each step alternates which tool goes first."""
    if shutil.which("git") is None:
        raise Skip("git is not installed; DVC is measured in a git repository")
    start, reflink = load_note("at the start"), reflink_note(work)
    tree = generate(work / "tree", count)
    results = Results(tree.label(), tree.count)
    slipway, dvc = Slipway(work / "slipway"), Dvc(work / "dvc")
    results.cp_fresh += [slipway.setup(tree), dvc.setup(tree)]
    steps = results.steps

    # add: Slipway first
    steps["add"] = add = Step()
    s_add, results.hashed["add"] = slipway.add(tree, 1, tree.total_bytes)
    add.slipway.append(s_add.seconds)
    add.dvc.append(dvc.add(tree, tree.total_bytes, None).seconds)
    add.first.append("slipway")

    # no-op status: rounds alternate, DVC first in the first one
    steps["status"] = status = Step()
    for i in range(STATUS_ROUNDS):
        both(status, slipway.status, dvc.status, slipway_first=i % 2 == 1)

    # append to 10 files, add again: DVC first
    change(slipway.data, tree)
    change(dvc.data, tree)
    size = tree.total_bytes + CHANGED * APPENDED
    steps["readd"] = readd = Step()
    previous = dvc.pointer().get("md5")
    readd.dvc.append(dvc.add(tree, size, previous).seconds)
    s_readd, results.hashed["readd"] = slipway.add(tree, 2, size)
    readd.slipway.append(s_readd.seconds)
    readd.first.append("dvc")
    results.stat_floor["readd"] = stat_floor(slipway.data)

    # push to a local folder: Slipway first (or neither, when Slipway cannot push yet)
    results.push_skipped = push_available()
    if results.push_skipped is None:
        steps["push"] = push = Step()
        for i in range(PUSH_ROUNDS):  # each to a new, empty remote (the default from then on)
            both(
                push,
                lambda i=i: slipway.push(work / f"slipway-remote-{i + 1}", tree),
                lambda i=i: dvc.push(work / f"dvc-remote-{i + 1}", tree),
                slipway_first=i % 2 == 0,
            )

    # delete the data folder, checkout; interleaved with cp -a into a new folder
    steps["checkout"] = checkout = Step()

    def references() -> None:  # cp -a, then the Python write floor, each into a new folder
        results.cp_new.append(cp_into_new(tree, work / f"cp-new-{len(results.cp_new) + 1}"))
        results.write_floor.append(write_floor(tree, work / f"py-new-{len(results.cp_new)}"))

    references()
    for i, tools in enumerate(((dvc, slipway), (slipway, dvc))):  # DVC first, then Slipway
        for tool in tools:
            (checkout.slipway if tool is slipway else checkout.dvc).append(
                tool.checkout(tree).seconds
            )
            references()
        checkout.first.append("dvc" if i == 0 else "slipway")

    readd_again(work, small_count, results)
    results.floor = import_floor(work)
    results.notes = [f"machine: {start}; {load_note('at the end')}; {reflink}"]
    return results


_DONE: dict[bool, Results | BenchError | Skip] = {}


def results_for(options: Options) -> Results:
    """The sequence's results for this run: measured by the first `data_*` case, reused by
    the others (a failure too, so it is reported once per case, not run again)."""
    if options.quick not in _DONE:
        try:
            _DONE[options.quick] = sequence(
                options.work, files_for(options), small_files_for(options)
            )
        except (BenchError, Skip) as exc:
            _DONE[options.quick] = exc
    done = _DONE[options.quick]
    if isinstance(done, Exception):
        raise type(done)(str(done))
    return done


# -- rows ---------------------------------------------------------------------------------------

HOW = "wall time of a fresh subprocess (spawn to exit), `sync` before it"
SLIPWAY_WHERE = "in a `slipway init` workspace (embedded: SQLite + local object store)"
DVC_WHERE = "in a `git init` + `dvc init` repository (cache in .dvc/cache, same disk)"


def at_least(factor: float, anchor_value: float, anchor: str) -> Target:
    """Slipway must be `factor` times faster than the anchor."""
    return Target(anchor_value / factor, "s", inclusive=True, label=f">= {factor:g}x {anchor}")


def runs(values: Sequence[float], first: Sequence[str] = ()) -> str:
    text = "one run" if len(values) == 1 else f"median of {len(values)}"
    text += f"; {spread(values, 's')}"
    if len(first) > 1:
        text += f" (first to run, by round: {', '.join(first)})"
    return text


def cp_fresh(results: Results) -> Anchor:
    values = results.cp_fresh
    return Anchor(
        "cp -a into a new folder",
        median(values),
        f"`cp -a tree DEST` of the generated tree into a new folder: {HOW}; median of "
        f"{len(values)} (the copies that set up each tool's folder); {spread(values, 's')}",
    )


def cp_new(results: Results) -> Anchor:
    values = results.cp_new
    return Anchor(
        "cp -a into a new folder (reference)",
        median(values),
        f"`cp -a tree DEST` into a folder that does not exist yet (kept to the end): {HOW}; "
        f"median of {len(values)} (before, between and after the checkouts); "
        f"{spread(values, 's')}",
    )


def write_anchor(results: Results) -> Anchor:
    values = results.write_floor
    return Anchor(
        "floor: python creates every file (reference)",
        median(values),
        "`.venv/bin/python -c CODE PLAN DEST`, CODE reading the tree's paths and sizes from "
        "PLAN and creating each file in a new folder from bytes already in memory (one "
        f"thread, nothing imported, nothing read): {HOW}; median of {len(values)}, each right "
        f"after a cp -a reference; {spread(values, 's')}",
    )


def row(
    results: Results,
    case: str,
    key: str,
    metric: str,
    slipway_cmd: str,
    dvc_cmd: str,
    target: Target,
    notes: Sequence[str] = (),
    cp: Sequence[Anchor] = (),
) -> list[Row]:
    step = results.steps[key]
    s_value, d_value = median(step.slipway), median(step.dvc)
    dvc_name = dvc_cmd.split("`")[1].removesuffix(" data")  # "dvc add"
    anchors = [
        Anchor(dvc_name, d_value, f"{dvc_cmd} {DVC_WHERE}: {HOW}; {runs(step.dvc, step.first)}")
    ]
    anchors += cp
    return [
        Row(
            case=case,
            metric=metric,
            unit="s",
            slipway=s_value,
            source=f"{slipway_cmd} {SLIPWAY_WHERE}: {HOW}; {runs(step.slipway, step.first)}",
            anchors=tuple(anchors),
            target=target,
            notes=(*notes, *results.notes),
        )
    ]


def rows_for(options: Options, key: str) -> list[Row]:
    results = results_for(options)
    label, n = results.tree_label, f"{results.count:,}"
    if key == "add":
        d_add = median(results.steps["add"].dvc)
        return row(
            results,
            "data_add",
            "add",
            f"add {label}: wall time",
            "`slipway data add data`",
            "`dvc add data`",
            at_least(5, d_add, "dvc add"),
            notes=(
                f"slipway hashed {results.hashed['add']:,} files; both tools hash every file "
                "and copy it into their store (DVC: one file per object; Slipway: small files "
                "into pack files)",
                "the tree is generated once (seeded random bytes, every file dated "
                "2026-01-01) and copied with `cp -a` into each tool's folder; those copies "
                "are the cp -a reference",
            ),
            cp=[cp_fresh(results)],
        )
    if key == "status":
        return row(
            results,
            "data_status",
            "status",
            f"no-op status over {n} tracked files: wall time (median of {STATUS_ROUNDS})",
            "`slipway data status`",
            "`dvc status`",
            Target(0.5, "s"),
            notes=("right after the first add, nothing changed; both exit 0 saying up to date",),
        )
    if key == "readd":
        rows = []
        for step, tree, files in (
            ("readd", label, n),
            ("readd_small", results.small_label, f"{results.small_count:,}"),
        ):
            d_readd = median(results.steps[step].dvc)
            rows += row(
                results,
                "data_readd",
                step,
                f"add again after appending {APPENDED} bytes to {CHANGED} of {files} files: "
                "wall time",
                "`slipway data add data` (makes data@v2)",
                "`dvc add data`",
                at_least(10, d_readd, "dvc add"),
                notes=(
                    f"slipway hashed {results.hashed[step]:,} files (the stat cache vouched "
                    "for the rest)",
                    f"10x dvc add means slipway <= {fmt(d_readd / 10, 's')}; Python starting "
                    f"and importing click, pydantic and SQLAlchemy alone takes "
                    f"{fmt(median(results.floor), 's')} here, and then an lstat of every file "
                    f"{fmt(median(results.stat_floor[step]), 's')} (the floor references): a "
                    "target below them is out of reach for any re-add that checks each file "
                    "and records a version",
                    f"the tree: {tree}"
                    + (
                        ", generated and added by both tools (untimed) after the main sequence"
                        if step == "readd_small"
                        else ""
                    ),
                ),
                cp=[floor_anchor(results.floor), stat_anchor(results.stat_floor[step])],
            )
        return rows
    if key == "push":
        if results.push_skipped is not None:
            raise Skip(results.push_skipped)
        d_push = median(results.steps["push"].dvc)
        return row(
            results,
            "data_push",
            "push",
            f"push v2 ({n} files) to an empty local folder: wall time (median of {PUSH_ROUNDS})",
            "`slipway data push` (remote `file:///…/slipway-remote-N`, a new one each round, "
            "added with `slipway data remote add slipway-remote-N URL --default`, untimed)",
            "`dvc push` (remote `…/dvc-remote-N`, a new one each round, added with "
            "`dvc remote add -d`, untimed)",
            at_least(10, d_push, "dvc push"),
            notes=(
                "DVC pushes the objects of the current version only; after the step, each "
                "remote is checked to hold at least the data's bytes",
            ),
            cp=[cp_fresh(results)],
        )
    if key == "checkout":
        cp = median(results.cp_new)
        return row(
            results,
            "data_checkout",
            "checkout",
            f"checkout of {n} files into a missing data folder: wall time "
            f"(median of {len(results.steps['checkout'].slipway)})",
            "`slipway data checkout`",
            "`dvc checkout`",
            Target(1.2 * cp, "s", inclusive=True, label=f"<= 1.2x cp -a ({fmt(1.2 * cp, 's')})"),
            notes=(
                "2 rounds per tool, DVC first in the first and Slipway in the second, with "
                "`cp -a` into a new folder before, between and after them",
                "the data folder moved out of the repository before each (untimed; deleting "
                "50,000 files made the next creates several times slower: `set_aside` says "
                "why); afterwards every file's path and size "
                f"and {SAMPLE} files' bytes (the {CHANGED} changed ones among them) are "
                "checked against the tree as of v2",
                "the target's reference is `cp -a` of the tree into a new folder, timed "
                "next to the checkouts; the reference used before (cp -a replacing a deleted "
                "copy) swung from 20 s to 47 s within one run on the VM used",
                f"the floor reference, a bare Python loop creating the same files, took "
                f"{median(results.write_floor) / cp:.2f}x cp -a in this run: a checkout "
                "written in Python cannot be faster than it, whatever it does besides (read "
                "the packs, record every file's stat for the next status)",
            ),
            cp=[cp_new(results), write_anchor(results), cp_fresh(results)],
        )
    raise ValueError(key)
