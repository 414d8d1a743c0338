"""Which files make up the project: tracked plus untracked-not-ignored, without binaries or vendored trees.

Inside a git repository `git ls-files` answers in tens of milliseconds even at 100k files, so it is the fast
path. Elsewhere (no repository, or no `git` binary) a directory walk applies the `.gitignore` files itself.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Container, Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from stat import S_ISREG

from app.errors import UsageError


class TooManyFiles(UsageError):
    pass


# Called as (files listed so far, 0) while a directory walk lists files: a face shows progress with it.
WalkProgress = Callable[[int, int], None]
WALK_PROGRESS_EVERY = 2000


def refuse_broad_root(root: Path) -> None:
    """The file system's root and the user's home folder are not projects: listing them takes minutes and
    sends nothing useful. A UsageError (exit 2) with what to do instead."""
    resolved = Path(root).resolve()
    home = Path.home().resolve()
    if resolved == Path(resolved.anchor) or resolved == home:
        what = "your home folder" if resolved == home else "the root of the file system"
        raise UsageError(
            f"{resolved} is {what}, not a project: run ai inside a project or pass --project DIR"
        )


def _suffixes(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Directory names whose contents are generated or vendored: never part of what the agent should read.
SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "bower_components",
        ".venv",
        "venv",
        "dist",
        "build",
        "__pycache__",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".eggs",
        "site-packages",
        ".next",
        ".nuxt",
        ".gradle",
        ".terraform",
    }
)
SKIPPED_DIR_SUFFIXES = (".egg-info",)

# Extensions that are binary (or generated blobs) for certain: skipped without opening the file.
BINARY_SUFFIXES = _suffixes(
    """
    .png .jpg .jpeg .gif .bmp .ico .icns .webp .tif .tiff .psd .xcf .heic .mo .pyc .pyo .pyd .so .dylib
    .dll .exe .o .a .lib .obj .class .jar .war .ear .wasm .bin .dat .db .sqlite .sqlite3 .dbf .shp .shx
    .prj .sbn .sbx .gpkg .mdb .zip .gz .tgz .bz2 .xz .zst .lz4 .7z .rar .tar .whl .egg .deb .rpm .dmg
    .iso .apk .pdf .doc .docx .xls .xlsx .ppt .pptx .odt .ods .odp .epub .mp3 .mp4 .wav .ogg .flac .avi
    .mov .mkv .webm .m4a .aac .ttf .otf .woff .woff2 .eot .pkl .pickle .npy .npz .parquet .feather .h5
    .hdf5 .onnx .pt .pth .ckpt .safetensors
    """
)
# Generated text that only drowns the real code.
GENERATED_SUFFIXES = (".min.js", ".min.css", ".map")

# Extensions known to be text: no need to sniff their first bytes.
TEXT_SUFFIXES = _suffixes(
    """
    .py .pyi .pyw .js .mjs .cjs .jsx .ts .mts .cts .tsx .go .rs .java .kt .kts .scala .c .h .cc .cpp
    .cxx .hpp .hh .hxx .ipp .inl .cs .rb .php .swift .m .mm .lua .pl .pm .r .jl .ex .exs .erl .hrl .hs
    .ml .mli .clj .cljs .dart .zig .nim .sh .bash .zsh .fish .ps1 .bat .cmd .sql .graphql .proto .thrift
    .html .htm .css .scss .sass .less .vue .svelte .xml .svg .json .yaml .yml .toml .ini .cfg .conf .env
    .md .rst .txt .po .pot .csv .tsv .tex .in .tpl .j2 .jinja .mk .cmake .gradle .lock .properties
    """
)
SNIFF_BYTES = 1024
# A walk (no git) that finds more than this is not a project but a home directory or a disk.
MAX_WALKED_FILES = 500_000


def list_project_files(root: Path) -> list[str]:
    """Sorted relative POSIX paths of the project's files, as `git ls-files -co --exclude-standard` would
    list them, less binaries, generated files, symlinks and vendored trees."""
    return [path for path, _size, _mtime in scan_project(root)]


def scan_project(
    root: Path, known: Container[str] = (), progress: WalkProgress | None = None
) -> list[tuple[str, int, int]]:
    """`list_project_files` with each file's size and mtime (ns), from the one stat it needed anyway.

    Paths in `known` passed the filters before (they depend on the path alone, or on the file's first bytes,
    which a refresh re-reads anyway when the stat moved): they are only stat'ed. At 100k files the filters
    cost more than the stats.
    """
    root_text = str(root)
    listed = _git_listing(Path(root))
    candidates: Iterable[str] = _walk_listing(Path(root), progress) if listed is None else listed
    result: list[tuple[str, int, int]] = []
    lstat = os.lstat
    for relpath in candidates:
        is_known = relpath in known
        if not is_known and not is_indexable_path(relpath):
            continue
        full = f"{root_text}/{relpath}"
        try:
            # lstat: git lists deleted tracked files, submodules and symlinks; only regular files count.
            st = lstat(full)
        except OSError:
            continue
        if S_ISREG(st.st_mode) and (is_known or _is_text(full, relpath)):
            result.append((relpath, st.st_size, st.st_mtime_ns))
    result.sort()
    return result


def is_indexable_path(relpath: str) -> bool:
    """Whether a path (relative, POSIX) is of a kind the agent reads: no vendored tree, no known binary.
    Secrets files are listed (a goal may name them); the index records them unread (app/context/extract.py)."""
    parts = relpath.split("/")
    for part in parts[:-1]:
        if part in SKIPPED_DIRS or part.endswith(SKIPPED_DIR_SUFFIXES):
            return False
    name = parts[-1].lower()
    if name.endswith(GENERATED_SUFFIXES):
        return False
    dot = name.rfind(".")
    return not (dot > 0 and name[dot:] in BINARY_SUFFIXES)


def looks_binary(head: bytes) -> bool:
    """A NUL byte in the first kilobyte is how git decides too."""
    return b"\0" in head[:SNIFF_BYTES]


def _is_text(full: str, relpath: str) -> bool:
    name = relpath.rsplit("/", 1)[-1].lower()
    dot = name.rfind(".")
    if dot > 0 and name[dot:] in TEXT_SUFFIXES:
        return True
    try:
        with open(full, "rb") as handle:
            return not looks_binary(handle.read(SNIFF_BYTES))
    except OSError:
        return False


# -- git -------------------------------------------------------------------------------------------------


def _git_listing(root: Path) -> Iterator[str] | None:
    """Tracked plus untracked-not-ignored files, or None when this is not a work tree git can read.

    Two `git ls-files` run side by side: the tracked list comes from git's index in a fraction of a second,
    while the untracked one walks every directory (seconds at 100k files), so the caller stats the tracked
    files while git is still walking.
    """
    git = shutil.which("git")
    if git is None or not _inside_git(root):
        return None
    base = [git, "-c", "core.quotepath=off", "ls-files", "-z"]
    try:
        untracked = subprocess.Popen(
            [*base, "-o", "--exclude-standard"], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
    except OSError:
        return None
    try:
        tracked = subprocess.run([*base, "-c"], cwd=root, capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        untracked.kill()
        untracked.wait()
        return None
    if tracked.returncode != 0:
        untracked.kill()
        untracked.wait()
        return None
    return _git_paths(tracked.stdout, untracked)


def _git_paths(tracked: bytes, untracked: subprocess.Popen[bytes]) -> Iterator[str]:
    seen: set[bytes] = set()
    for raw in tracked.split(b"\0"):
        # Unmerged paths are listed once per stage: yield each path once.
        if raw and raw not in seen:
            seen.add(raw)
            path = _utf8_path(raw)
            if path is not None:
                yield path
    out, _ = untracked.communicate()
    if untracked.returncode == 0:
        for raw in out.split(b"\0"):
            if raw and raw not in seen:
                path = _utf8_path(raw)
                if path is not None:
                    yield path


def _utf8_path(raw: bytes) -> str | None:
    """A path that is not UTF-8 cannot be stored or shown as text: such rare files are left out."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _inside_git(root: Path) -> bool:
    return any((candidate / ".git").exists() for candidate in (root, *root.resolve().parents))


# -- walk with .gitignore ----------------------------------------------------------------------------------


class _IgnoreRules:
    """The patterns of one .gitignore file, compiled; `match` answers None when no pattern decides."""

    def __init__(self, base: str, lines: Iterable[str]) -> None:
        self.base = base  # the directory of the .gitignore, relative to the root ("" for the root)
        self.rules: list[tuple[re.Pattern[str], bool, bool]] = []  # (regex, negated, directory only)
        for line in lines:
            compiled = _compile_ignore_line(line)
            if compiled is not None:
                self.rules.append(compiled)

    def match(self, relpath: str, is_dir: bool) -> bool | None:
        if self.base:
            if not relpath.startswith(self.base + "/"):
                return None
            relpath = relpath[len(self.base) + 1 :]
        decision: bool | None = None
        for regex, negated, dir_only in self.rules:
            if dir_only and not is_dir:
                continue
            if regex.match(relpath):
                decision = not negated
        return decision


def _compile_ignore_line(line: str) -> tuple[re.Pattern[str], bool, bool] | None:
    line = line.rstrip("\n").rstrip("\r")
    if not line or line.startswith("#"):
        return None
    # Trailing spaces are ignored unless escaped.
    while line.endswith(" ") and not line.endswith("\\ "):
        line = line[:-1]
    negated = line.startswith("!")
    if negated:
        line = line[1:]
    if line.startswith("\\"):
        line = line[1:]
    dir_only = line.endswith("/")
    line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    line = line.lstrip("/")
    body = _glob_to_regex(line)
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(f"^{prefix}{body}$", re.DOTALL), negated, dir_only


def _glob_to_regex(glob: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(glob):
        ch = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("/**", i) and i + 3 == len(glob):
            out.append("/.*")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif ch == "*":
            out.append("[^/]*")
            i += 1
        elif ch == "?":
            out.append("[^/]")
            i += 1
        elif ch == "[":
            end = glob.find("]", i + 1)
            if end == -1:
                out.append(re.escape(ch))
                i += 1
            else:
                inner = glob[i + 1 : end]
                if inner.startswith("!"):
                    inner = "^" + inner[1:]
                out.append(f"[{inner}]")
                i = end + 1
        elif ch == "\\" and i + 1 < len(glob):
            out.append(re.escape(glob[i + 1]))
            i += 2
        else:
            out.append(re.escape(ch))
            i += 1
    return "".join(out)


def _read_ignore(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.readlines()
    except OSError:
        return []


def _is_ignored(stack: list[_IgnoreRules], relpath: str, is_dir: bool) -> bool:
    # The deepest .gitignore that has an opinion wins, as in git.
    for rules in reversed(stack):
        decision = rules.match(relpath, is_dir)
        if decision is not None:
            return decision
    return False


def _walk_listing(root: Path, progress: WalkProgress | None = None) -> list[str]:
    found: list[str] = []
    base_rules = _IgnoreRules("", [".git/", *_global_excludes()])
    _walk_dir(str(root), "", [base_rules], found, progress)
    return found


@lru_cache(maxsize=1)
def _global_excludes() -> tuple[str, ...]:
    # Users keep editor and OS litter in their global excludes file; honour the default location.
    config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return tuple(_read_ignore(os.path.join(config_home, "git", "ignore")))


def _walk_dir(
    root: str, rel: str, stack: list[_IgnoreRules], found: list[str], progress: WalkProgress | None = None
) -> None:
    directory = os.path.join(root, rel) if rel else root
    ignore_file = os.path.join(directory, ".gitignore")
    if os.path.isfile(ignore_file):
        stack = [*stack, _IgnoreRules(rel, _read_ignore(ignore_file))]
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        relpath = f"{rel}/{entry.name}" if rel else entry.name
        if entry.is_symlink() or _utf8_path(os.fsencode(entry.name)) is None:
            continue
        if entry.is_dir(follow_symlinks=False):
            if entry.name in SKIPPED_DIRS or entry.name.endswith(SKIPPED_DIR_SUFFIXES):
                continue
            if not _is_ignored(stack, relpath, True):
                _walk_dir(root, relpath, stack, found, progress)
        elif entry.is_file(follow_symlinks=False) and not _is_ignored(stack, relpath, False):
            found.append(relpath)
            if progress is not None and len(found) % WALK_PROGRESS_EVERY == 0:
                progress(len(found), 0)
            if len(found) > MAX_WALKED_FILES:
                raise TooManyFiles(
                    f"{root} holds more than {MAX_WALKED_FILES:,} files outside any git repository: run `ai` "
                    "inside a project (or `git init` it so .gitignore can leave out what is not code)"
                )
