"""Crash-safe JSON files: atomic replace, cross-process locks, a parse cache, and corrupt files kept aside.

TinyDB rewrites its whole file on every write; ours does it as temp file, fsync, rename, so a crash leaves the
old or the new file and never a torn one. Every read-modify-write runs under a file lock held by the caller, so
two ``ai`` processes never lose each other's writes.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

from app.errors import StorageError, StoreCorruptError

# The writer every store uses, with its one-line error (also what cli and the workspace import from here).
from app.project.atomic import atomic_write_bytes, write_error

# Parsed content of files this process read or wrote, keyed by path, valid while the file's identity holds.
_Signature = tuple[int, int, int]
_cache: dict[str, tuple[_Signature, dict[str, Any]]] = {}
_locks: dict[str, Any] = {}


def _signature(st: os.stat_result) -> _Signature:
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def quarantine(path: Path) -> Path:
    """Move a damaged file aside (never overwrite it) and return where it went."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    os.replace(path, target)
    return target


def read_json_file(
    path: Path, *, what: str, check: Callable[[Any], None] | None = None
) -> dict[str, Any] | None:
    """The parsed object in ``path`` (None when absent). A file that does not parse, or whose content
    ``check`` refuses (a ValueError: the wrong shape), is moved aside and reported with
    :class:`StoreCorruptError`, so every reader gets well-formed data or that one clear error; the cache
    spares a re-parse (and a re-check) when the file has not changed."""
    key = str(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        _cache.pop(key, None)
        return None
    cached = _cache.get(key)
    if cached is not None and cached[0] == _signature(st):
        return cached[1]
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise StorageError(
            f"cannot read {what} {path}: {exc.strerror or exc}; move it away or fix its permissions"
        ) from None
    try:
        data = orjson.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("top level is not an object")
        if check is not None:
            check(data)
    except (orjson.JSONDecodeError, ValueError) as exc:
        _cache.pop(key, None)
        try:
            kept = quarantine(path)
        except OSError as move:
            raise StoreCorruptError(
                f"{what} {path} is damaged ({exc}) and could not be moved aside ({move.strerror}); "
                "move it away by hand",
                path=str(path),
                kept_at=None,
            ) from None
        raise StoreCorruptError(
            f"{what} {path} is damaged ({exc}); it was kept aside as {kept.name}",
            path=str(path),
            kept_at=str(kept),
        ) from None
    _cache[key] = (_signature(st), data)
    return data


def write_json_file(path: Path, data: dict[str, Any]) -> None:
    """Atomically write ``data``; remember it as the parsed content of the new file."""
    key = str(path)
    try:
        atomic_write_bytes(path, orjson.dumps(data))
    except BaseException:
        _cache.pop(key, None)
        raise
    _cache[key] = (_signature(path.stat()), data)


def forget(path: Path) -> None:
    _cache.pop(str(path), None)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the cross-process lock that guards ``path`` (re-entrant within this process)."""
    from filelock import FileLock, Timeout

    lock_path = str(path) + ".lock"
    lock = _locks.get(lock_path)
    try:
        if lock is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            lock = _locks[lock_path] = FileLock(lock_path, timeout=30)
        lock.acquire()
    except Timeout:
        raise StorageError(
            f"another ai process has held {lock_path} for 30 s; nothing was written: try again when it "
            "is done"
        ) from None
    except OSError as exc:
        raise write_error(Path(lock_path), exc) from None
    try:
        yield
    finally:
        lock.release()


# Paths inside a batch: TinyDB's writes are held here and reach the disk once, when the batch ends.
_pending: dict[str, dict[str, Any] | None] = {}


@contextlib.contextmanager
def batch(path: Path) -> Iterator[None]:
    """Group several TinyDB operations on ``path`` into one atomic write (or none, if the block fails).
    The caller holds :func:`locked`."""
    key = str(path)
    _pending[key] = None
    try:
        yield
        data = _pending.pop(key)
        if data is not None:
            write_json_file(path, data)
    except BaseException:
        _pending.pop(key, None)
        _cache.pop(key, None)  # TinyDB mutated the cached object in place: it no longer matches the file
        raise


class AtomicJSONStorage(Storage):
    """TinyDB storage over :func:`read_json_file` / :func:`write_json_file`. Callers hold :func:`locked`."""

    def __init__(self, path: str, what: str = "session file") -> None:
        self.path = Path(path)
        self.what = what

    def read(self) -> dict[str, dict[str, Any]] | None:
        from app.session.schema import check_session_file

        pending = _pending.get(str(self.path))
        if pending is not None:
            return pending
        return read_json_file(self.path, what=self.what, check=check_session_file)

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        key = str(self.path)
        if key in _pending:
            _pending[key] = data
        else:
            write_json_file(self.path, data)

    def close(self) -> None:
        pass
