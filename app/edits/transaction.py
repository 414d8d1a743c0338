"""Writing a set of files as one transaction: back up, write each atomically, and on failure put back what
was already written.

Backups live under ``$AI_AGENT_HOME/backups/<project>/<session>/<change id>/``: the old bytes of every
file, then a manifest. The manifest is written last, before the first project file is touched, so a crash at
any moment leaves either no manifest (nothing was written yet) or one that brings the old state back
(:func:`restore_backup`). Each file is replaced by rename, so it is always its old or its new content.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.edits.textfile import content_hash
from app.errors import TaskFailed

MANIFEST = "manifest.json"
BACKUP_DATA = "old-content.bin"
IN_FLIGHT = "in-flight"


@dataclass(frozen=True)
class FileWrite:
    path: str  # relative to the project root
    real: Path  # where it is written
    old: bytes | None  # the bytes on disk before (None: absent)
    new: bytes | None  # None: remove the file
    mode: int  # permission bits the written file gets


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temp_name(real: Path, tag: str) -> Path:
    return real.with_name(f".{real.name}.ai-{tag}.tmp")


def _write_atomic(real: Path, data: bytes, mode: int, tag: str) -> None:
    real.parent.mkdir(parents=True, exist_ok=True)
    temp = _temp_name(real, tag)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(temp, real)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _prune_empty_folders(write: FileWrite) -> None:
    """After a file is removed, drop the folders it leaves empty, up to (not including) the project root."""
    folder = write.real.parent
    for _ in range(write.path.count("/")):
        try:
            folder.rmdir()
        except OSError:
            return  # not empty (or not ours to remove)
        folder = folder.parent


def _put(write: FileWrite, data: bytes | None, tag: str) -> None:
    if data is None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(write.real)
        _prune_empty_folders(write)
        return
    _write_atomic(write.real, data, write.mode, tag)


def _save_backup(backup_dir: Path, writes: list[FileWrite], tag: str) -> None:
    """Every old content in one file (one fsync, not one per file), then the manifest that indexes it."""
    backup_dir.mkdir(parents=True, exist_ok=True)
    entries = []
    offset = 0
    with open(backup_dir / BACKUP_DATA, "wb") as handle:
        for write in writes:
            entry = {"path": write.path, "real": str(write.real), "mode": write.mode, "tag": tag}
            entry["new_hash"] = None if write.new is None else content_hash(write.new)
            entry["offset"], entry["size"] = (
                (offset, len(write.old)) if write.old is not None else (None, None)
            )
            if write.old is not None:
                handle.write(write.old)
                offset += len(write.old)
            entries.append(entry)
        handle.flush()
        os.fsync(handle.fileno())
    _write_manifest(backup_dir, {"version": 1, "state": "writing", "tag": tag, "files": entries})
    # A marker beside all sessions' backups: if this process dies while writing, the next apply or undo
    # in the project finds it without reading every manifest (see recover_interrupted).
    marker = _in_flight_dir(backup_dir) / f"{tag}.json"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"backup": str(backup_dir)}), encoding="utf-8")


def _in_flight_dir(backup_dir: Path) -> Path:
    return backup_dir.parent.parent / IN_FLIGHT  # backups/<project>/<session>/<change> -> backups/<project>


def _write_manifest(backup_dir: Path, manifest: dict) -> None:
    temp = backup_dir / (MANIFEST + ".tmp")
    temp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    with open(temp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(temp, backup_dir / MANIFEST)
    _fsync_dir(backup_dir)


def _mark(backup_dir: Path, state: str) -> None:
    manifest = read_manifest(backup_dir)
    if manifest is not None:
        manifest["state"] = state
        _write_manifest(backup_dir, manifest)


def read_manifest(backup_dir: Path) -> dict | None:
    try:
        return dict(json.loads((backup_dir / MANIFEST).read_text(encoding="utf-8")))
    except (FileNotFoundError, ValueError):
        return None


def _saved(backup_dir: Path, entry: dict) -> bytes | None:
    if entry.get("offset") is None:
        return None
    with open(backup_dir / BACKUP_DATA, "rb") as handle:
        handle.seek(int(entry["offset"]))
        data = handle.read(int(entry["size"]))
    return data if len(data) == int(entry["size"]) else None


def backup_bytes(backup_dir: Path, path: str) -> bytes | None:
    """The bytes ``path`` had before the change backed up in ``backup_dir`` (None: absent or no backup)."""
    manifest = read_manifest(backup_dir)
    for entry in (manifest or {}).get("files", []):
        if entry["path"] == path:
            try:
                return _saved(backup_dir, entry)
            except OSError:
                return None
    return None


def write_files(writes: list[FileWrite], backup_dir: Path, *, tag: str) -> None:
    """Back up, then write every file atomically. If a write fails, the files already written get their
    old content back and TaskFailed names the file that could not be written. On success the caller records
    the change and then calls :func:`finish_files`; until then a crash is rolled back by the next apply."""
    _save_backup(backup_dir, writes, tag)
    done: list[FileWrite] = []
    for write in writes:
        try:
            _put(write, write.new, tag)
        except OSError as exc:
            problems = _roll_back(done, tag)
            _mark(backup_dir, "rolled back")
            _clear_marker(backup_dir, tag)
            where = f"; could not restore {', '.join(problems)}: see {backup_dir}" if problems else ""
            raise TaskFailed(
                f"could not write {write.path}: {exc.strerror or exc}; the files already written were "
                f"restored{where}"
            ) from None
        done.append(write)
    # The renames are made durable together: one fsync per folder rather than one per file.
    for folder in sorted({w.real.parent for w in writes}):
        _fsync_dir(folder)
    _mark(backup_dir, "done")


def finish_files(backup_dir: Path, tag: str) -> None:
    """The written files are recorded in the session: an interruption from here on needs no recovery."""
    _clear_marker(backup_dir, tag)


def _clear_marker(backup_dir: Path, tag: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(_in_flight_dir(backup_dir) / f"{tag}.json")


def _roll_back(done: list[FileWrite], tag: str) -> list[str]:
    problems = []
    for write in reversed(done):
        try:
            _put(write, write.old, tag)
        except OSError:
            problems.append(write.path)
    return problems


def restore_backup(backup_dir: Path) -> list[str]:
    """Put every file of an interrupted (or any) change back as it was before; returns their paths.
    Without a manifest nothing had been written, so there is nothing to restore."""
    manifest = read_manifest(backup_dir)
    if manifest is None:
        return []
    restored = []
    for entry in manifest["files"]:
        real = Path(entry["real"])
        with contextlib.suppress(OSError):
            os.unlink(_temp_name(real, entry.get("tag", manifest.get("tag", ""))))
        data = _saved(backup_dir, entry)
        if data is not None:
            _write_atomic(real, data, int(entry["mode"]), "restore")
            _fsync_dir(real.parent)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(real)
            _prune_empty_folders(FileWrite(entry["path"], real, None, None, 0))
        restored.append(entry["path"])
    _mark(backup_dir, "restored")
    return restored


def recover_interrupted(
    project_backups: Path, is_recorded: Callable[[Path, str], bool] = lambda folder, tag: False
) -> tuple[list[str], list[str]]:
    """Finish what a killed apply or undo left: each file it had already written goes back to its old
    content; a file changed since by someone else is left alone and named. Call it holding the edits lock
    (then no other process is writing). Returns (restored paths, paths left as they are)."""
    restored: list[str] = []
    left: list[str] = []
    folder = project_backups / IN_FLIGHT
    try:
        markers = sorted(folder.iterdir())
    except FileNotFoundError:
        return restored, left
    for marker in markers:
        try:
            backup_dir = Path(json.loads(marker.read_text(encoding="utf-8"))["backup"])
        except (OSError, ValueError, KeyError):
            continue
        manifest = read_manifest(backup_dir)
        if manifest is not None and is_recorded(backup_dir, str(manifest.get("tag", ""))):
            manifest = None  # it died after recording the change: the files are as recorded
        for entry in (manifest or {}).get("files", []):
            real = Path(entry["real"])
            with contextlib.suppress(OSError):
                os.unlink(_temp_name(real, entry.get("tag", "")))
            try:
                current = real.read_bytes()
            except (FileNotFoundError, NotADirectoryError):
                current = None
            old = _saved(backup_dir, entry)
            if current == old:
                continue  # not written yet
            written = (current is None and entry.get("new_hash") is None) or (
                current is not None and content_hash(current) == entry.get("new_hash")
            )
            if not written:
                left.append(entry["path"])
                continue
            write = FileWrite(entry["path"], real, current, old, int(entry["mode"]))
            _put(write, old, "recover")
            restored.append(entry["path"])
        if manifest is not None:
            _mark(backup_dir, "recovered after an interruption")
        with contextlib.suppress(FileNotFoundError):
            marker.unlink()
    return restored, left
