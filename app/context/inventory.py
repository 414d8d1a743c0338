"""Which files make up the project: tracked plus untracked-not-ignored, without binaries or vendored trees.

The listing and its ignore rule are the project's (app/project/files.py: `git ls-files` in a work tree, tens
of milliseconds even at 100k files; elsewhere a walk that applies the `.gitignore` files itself); this module
adds what the agent reads of it: no binaries, generated files, symlinks or vendored trees.
"""

from __future__ import annotations

import os
from collections.abc import Container, Iterable
from pathlib import Path
from stat import S_ISREG

from app.errors import UsageError
from app.project.files import TooManyFiles as TooManyFiles  # raised by scan_project
from app.project.files import WalkProgress, git_listing, walk_listing


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
    listed = git_listing(Path(root))
    candidates: Iterable[str] = (
        walk_listing(Path(root), skip_dir=_skipped_dir, progress=progress, limit=MAX_WALKED_FILES)
        if listed is None
        else listed
    )
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


def _skipped_dir(name: str) -> bool:
    return name in SKIPPED_DIRS or name.endswith(SKIPPED_DIR_SUFFIXES)
