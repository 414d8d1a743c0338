"""The one way ai replaces a file so that a crash leaves the old or the new content, never a torn one.

A temp file in the same folder (a rename never crosses a file system), written, fsynced and renamed over the
target; on any failure the temp file is removed and the target is as it was. The folder is fsynced after the
rename unless the caller makes a batch of renames durable together (:func:`fsync_folder` once per folder).
:func:`atomic_write_bytes` is the same write for ai's own data files, its failure one line for the user.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from app.errors import AgentError, StorageError, write_failure
from app.paths import agent_home


def fsync_folder(folder: Path) -> None:
    """Make the renames in ``folder`` durable. A folder that cannot be opened is skipped (nothing to sync)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(
    path: Path, data: bytes, *, mode: int | None = None, temp: Path | None = None, sync_folder: bool = True
) -> None:
    """Replace ``path`` with ``data``. ``mode``: the permission bits the new file gets (else the temp file's
    0o600 from ``mkstemp``). ``temp``: a fixed temp name beside ``path``, for callers that must find a
    leftover one after a crash (else a unique ``.<name>.<random>.tmp``). Raises OSError, ``path`` untouched."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if temp is None:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        temp = Path(name)
    else:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    if sync_folder:
        fsync_folder(path.parent)


def link_atomic(path: Path, target: str, temp: Path) -> None:
    """Make ``path`` a symbolic link to ``target`` by renaming a fresh link over it (the file it pointed to,
    if it was a link, is never touched)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temp)
    os.symlink(target, temp)
    try:
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _data_root_of(path: Path) -> Path | None:
    """The data root when ``path`` lies under it (a failed write there can go to another AI_AGENT_HOME)."""
    try:
        home = agent_home()
    except AgentError:
        return None
    return home if path.absolute().is_relative_to(home.absolute()) else None


def write_error(path: Path, exc: OSError) -> StorageError:
    """A failed write as the one line the user sees: what failed, where, and what to do."""
    return StorageError(write_failure(path, exc, _data_root_of(path)))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: write a temp file beside it, fsync, rename, fsync the folder.
    A failure (device full, read-only, a file where a folder should be) leaves ``path`` as it was and is
    raised as :class:`StorageError`."""
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise write_error(path, exc) from None
