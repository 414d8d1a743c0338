"""The scratch copy: the user's working tree as it is now, copied to a temporary folder, where proposed fixes are
applied and tests run. The user's files are never touched until a verified fix is approved.

What is copied: tracked files plus untracked files that are not ignored (``git ls-files --cached --others
--exclude-standard``; outside git, a walk that skips VCS folders, caches and what the ``.gitignore`` files
leave out, by the rule of ``app.project.files``), with the
uncommitted edits they hold right now. Dependency folders the tests need but the user did not write
(``node_modules``, ``.venv``, ``venv``) are linked, not copied: tests read them and never see the user's code
through them. Never hard links into the user's tree: a test run that writes a file in place would change the
user's file.

Where: ``/dev/shm`` (memory) when it exists, allows running programs and has room, else the system temporary
folder. Measured on the 2-core machine shared with other agents (load 4-7), 10,000 files (51-58 MB), medians of
``tests/benchmarks/bench_fix.py``: ``tar | tar`` into tmpfs 0.4-0.7 s, threads with ``copy_file_range`` into tmpfs
0.6-2.0 s, ``tar | tar`` into the ext4 ``/tmp`` 2.4-3.8 s (file creation on the virtual disk dominates), of which
listing (``git ls-files`` and one ``lstat`` a file) 0.05-0.2 s.

Attempts reuse one copy: ``apply`` remembers the bytes of every file it changes and ``reset`` puts back exactly
those, so the next attempt starts from the user's tree as it was when the copy was made.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.project.files import list_files

# Linked into the copy when present at the root and not part of the listed files.
DEPENDENCY_DIRS = ("node_modules", ".venv", "venv")
# Never copied outside git either (inside git, .gitignore decides).
SKIPPED_PARTS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".venv",
        "venv",
        "node_modules",
        "target",
        ".ai-agent",
    }
)
SHM = Path("/dev/shm")
COPY_THREADS = 8


class ScratchError(Exception):
    pass


@dataclass
class CopyStats:
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    list_seconds: float = 0.0
    method: str = ""
    location: str = ""


@dataclass
class ScratchCopy:
    """A copy of ``source`` at ``root``. Use ``ScratchCopy.create(source)``; ``close()`` removes it."""

    source: Path
    root: Path
    files: list[str]
    stats: CopyStats
    _saved: dict[str, bytes | None] = field(default_factory=dict)  # path -> original bytes (None: absent)

    @classmethod
    def create(cls, source: Path, *, parent: Path | None = None, method: str | None = None) -> ScratchCopy:
        source = source.resolve()
        stats = CopyStats()
        began = time.perf_counter()
        files, stats.bytes, links = _present_with_size(source, list_project_files(source))
        stats.list_seconds = time.perf_counter() - began
        stats.files = len(files)
        where = parent or choose_location(stats.bytes)
        stats.location = str(where)
        root = Path(tempfile.mkdtemp(prefix="ai-scratch-", dir=where))
        try:
            stats.method = copy_files(source, root, files, method)
            _link_dependencies(source, root, files)
            _retarget_symlinks(source, root, links)
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        stats.seconds = time.perf_counter() - began
        return cls(source, root, files, stats)

    # -- attempts -----------------------------------------------------------------------------------------------

    def write(self, path: str, data: bytes | None, mode: int | None = None) -> None:
        """Write (or with None remove) one file of the copy, remembering its original bytes for ``reset``."""
        target = self._inside(path)
        if path not in self._saved:
            self._saved[path] = target.read_bytes() if target.is_file() else None
        if data is None:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()  # write a file of its own, never through a link
        target.write_bytes(data)
        if mode is not None:
            with contextlib.suppress(OSError):
                os.chmod(target, mode & 0o7777)

    def apply(self, proposal: Any) -> list[str]:
        """Write an edit-engine ``Proposal`` (built against this copy) into the copy; the paths written."""
        written = []
        for change in proposal.files:
            self.write(change.path, change.new_bytes(), change.mode)
            written.append(change.path)
        return written

    def reset(self) -> list[str]:
        """Put back every file an attempt changed; the paths restored."""
        restored = list(self._saved)
        for path, data in self._saved.items():
            target = self._inside(path)
            if data is None:
                with contextlib.suppress(FileNotFoundError):
                    target.unlink()
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        self._saved.clear()
        return restored

    def touched(self) -> list[str]:
        return list(self._saved)

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """The environment for commands run in the copy: the copy's own sources first on Python's path (an
        editable install of the project would otherwise import the user's tree), Rust's build output kept in
        a cache folder of its own (not the user's ``target/``), no colours."""
        env = dict(base if base is not None else os.environ)
        python_path = (
            [str(self.root / "src"), str(self.root)] if (self.root / "src").is_dir() else [str(self.root)]
        )
        if env.get("PYTHONPATH"):
            python_path.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(python_path)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        if (self.source / "Cargo.toml").is_file() and "CARGO_TARGET_DIR" not in env:
            env["CARGO_TARGET_DIR"] = str(cargo_cache_dir(self.source))
        from app.fix.testrun import plain_output_env

        return plain_output_env(env)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ScratchCopy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _inside(self, path: str) -> Path:
        parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
        if not parts or ".." in parts or parts[0] == ".git":
            raise ScratchError(f"{path}: not a path inside the project")
        return self.root.joinpath(*parts)


# -- listing --------------------------------------------------------------------------------------------------------


def list_project_files(root: Path) -> list[str]:
    """Tracked plus untracked-not-ignored files, relative, forward slashes, sorted (tracked files deleted in the
    working tree are still listed: ``_present_with_size`` drops them). The project's one listing
    (app/project/files.py); outside git its walk also leaves out ``SKIPPED_PARTS`` and keeps symlinks."""
    return list_files(root, keep_undecodable=True, skip_dir=SKIPPED_PARTS.__contains__, links=True)


def _present_with_size(root: Path, files: Iterable[str]) -> tuple[list[str], int, list[str]]:
    """The files that exist now, their total size and which are symlinks, in one lstat each (on strings:
    Path objects cost three times as much here)."""
    base = str(root) + os.sep
    present: list[str] = []
    links: list[str] = []
    total = 0
    for name in files:
        try:
            info = os.lstat(base + name)
        except OSError:
            continue
        total += info.st_size
        present.append(name)
        if stat.S_ISLNK(info.st_mode):
            links.append(name)
    return present, total, links


def choose_location(size: int) -> Path:
    """Memory (/dev/shm) when it is writable, allows running programs (test scripts are run from the copy) and
    would stay at least three quarters free; else the temp dir."""
    try:
        if SHM.is_dir() and os.access(SHM, os.W_OK):
            info = os.statvfs(SHM)
            noexec = bool(info.f_flag & getattr(os, "ST_NOEXEC", 0))
            if not noexec and size * 4 < info.f_bavail * info.f_frsize:
                return SHM
    except OSError:
        pass
    return Path(tempfile.gettempdir())


def cargo_cache_dir(source: Path) -> Path:
    import hashlib

    from app.paths import agent_home

    key = hashlib.sha256(str(source).encode()).hexdigest()[:16]
    folder = agent_home() / "cache" / "fix-target" / key
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# -- copying --------------------------------------------------------------------------------------------------------


def copy_files(source: Path, dest: Path, files: list[str], method: str | None = None) -> str:
    """Copy ``files`` from ``source`` to ``dest`` (modes, times and symlinks kept). ``method`` is ``tar``
    (one ``tar | tar`` pipe: the fastest measured) or ``threads`` (copy_file_range in a thread pool); the
    default is tar when it is installed. Returns the method used."""
    method = method or ("tar" if shutil.which("tar") else "threads")
    if method == "tar":
        try:
            _copy_with_tar(source, dest, files)
            return "tar"
        except (OSError, ScratchError):
            method = "threads"  # fall through to the pure-Python copy
    _copy_with_threads(source, dest, files)
    return "threads"


def _copy_with_tar(source: Path, dest: Path, files: list[str]) -> None:
    listing = ("\0".join(files) + "\0").encode("utf-8", "surrogateescape") if files else b""
    pack = subprocess.Popen(
        # Names verbatim: a file called "--remove-files" must be a name, never an option.
        [
            "tar",
            "-C",
            str(source),
            "--null",
            "--verbatim-files-from",
            "--no-recursion",
            "-T",
            "-",
            "-cf",
            "-",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    unpack = subprocess.Popen(["tar", "-C", str(dest), "-xf", "-"], stdin=pack.stdout, stderr=subprocess.PIPE)
    assert pack.stdin is not None and pack.stdout is not None
    pack.stdout.close()  # the unpacker holds it now
    try:
        pack.stdin.write(listing)
        pack.stdin.close()
    except BrokenPipeError:
        pass
    _, unpack_err = unpack.communicate()
    pack_err = pack.stderr.read() if pack.stderr else b""
    pack.wait()
    if pack.returncode != 0 or unpack.returncode != 0:
        detail = (pack_err or unpack_err).decode(errors="replace").strip().splitlines()
        raise ScratchError(f"tar failed: {detail[0] if detail else 'exit status'}")


def _copy_with_threads(source: Path, dest: Path, files: list[str]) -> None:
    folders = sorted({os.path.dirname(f) for f in files} - {""})
    for folder in folders:
        os.makedirs(dest / folder, exist_ok=True)

    def one(name: str) -> None:
        src, dst = source / name, dest / name
        if os.path.islink(src):
            os.symlink(os.readlink(src), dst)
        elif os.path.isdir(src):  # a submodule or a linked folder listed as one entry
            shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
        else:
            _copy_one(src, dst)

    with ThreadPoolExecutor(COPY_THREADS) as pool:
        for _ in pool.map(one, files, chunksize=64):
            pass


def _copy_one(src: Path, dst: Path) -> None:
    with open(src, "rb") as reader, open(dst, "wb") as writer:
        info = os.fstat(reader.fileno())
        left = info.st_size
        while left > 0:
            try:
                sent = os.copy_file_range(reader.fileno(), writer.fileno(), left)
            except OSError:  # across file systems on older kernels: sendfile works there
                sent = os.sendfile(writer.fileno(), reader.fileno(), None, left)
            if sent == 0:
                break
            left -= sent
        os.fchmod(writer.fileno(), info.st_mode & 0o7777)
    os.utime(dst, ns=(info.st_atime_ns, info.st_mtime_ns))


def _link_dependencies(source: Path, dest: Path, files: list[str]) -> None:
    listed_tops = {f.split("/", 1)[0] for f in files}
    for name in DEPENDENCY_DIRS:
        origin = source / name
        if origin.is_dir() and name not in listed_tops and not (dest / name).exists():
            os.symlink(origin, dest / name)


def _retarget_symlinks(source: Path, dest: Path, links: list[str]) -> None:
    """An absolute link into the user's tree would let a test write there: point it into the copy instead."""
    prefix = str(source) + os.sep
    for name in links:
        link = dest / name
        target = os.readlink(link)
        if os.path.isabs(target) and (target + os.sep).startswith(prefix):
            link.unlink()
            os.symlink(str(dest) + target[len(str(source)) :], link)
