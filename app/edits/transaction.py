"""Writing a set of files as one journaled transaction: back up, write each atomically, and on failure put
back what was already written.

Backups live under ``$AI_AGENT_HOME/backups/<project>/<session>/<change id>/``: the old bytes of every file
(``old-content.bin``), the new bytes (``new-content.bin``, kept only while the transaction is open) and the
journal (``manifest.json``). The journal is written before the first project file is touched and says how far
the transaction got: ``writing`` (some files may be new already), ``written`` (all are); the caller then records
the change in the session, commits it and closes the journal with :func:`finish_files` (``done``). A marker in
``backups/<project>/in-flight/`` points the next ``ai`` at a journal that was never closed, so it can finish or
roll back the transaction without reading every manifest (``app.edits.recovery``). Each file is replaced by
rename, so it is always its old or its new content.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.errors import TaskFailed
from app.project.atomic import fsync_folder, link_atomic, write_atomic
from app.text.textfile import content_hash

MANIFEST = "manifest.json"
BACKUP_DATA = "old-content.bin"
NEW_DATA = "new-content.bin"
IN_FLIGHT = "in-flight"
JOURNAL_VERSION = 2
# States after which nothing is left to finish.
CLOSED_STATES = ("done", "rolled back", "restored", "recovered after an interruption")


@dataclass(frozen=True)
class FileWrite:
    path: str  # relative to the project root
    real: Path  # where it is written
    old: bytes | None  # the bytes on disk before (None: absent)
    new: bytes | None  # None: remove the file
    mode: int  # permission bits the written file gets
    # A symbolic link: ``old``/``new`` are its target (as bytes), and it is removed or made as a link, so
    # the file it points to is never read or written.
    link: bool = False


def _temp_name(real: Path, tag: str) -> Path:
    return real.with_name(f".{real.name}.ai-{tag}.tmp")


def on_disk(real: Path, link: bool = False) -> bytes | None:
    """What ``real`` holds now (None: nothing there). For a link entry: its target; a file that took the
    link's place reads as something no link target can be, so it never passes for the link."""
    if link:
        try:
            return os.fsencode(os.readlink(real))
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError:
            return b"\0not a link" if os.path.lexists(real) else None
    try:
        return real.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None


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
        # unlink never follows a link: removing a link leaves the file it points to alone.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(write.real)
        _prune_empty_folders(write)
        return
    if write.link:
        link_atomic(write.real, os.fsdecode(data), _temp_name(write.real, tag))
        return
    # The folder is synced by the caller, once for all the files of a transaction.
    write_atomic(write.real, data, mode=write.mode, temp=_temp_name(write.real, tag), sync_folder=False)


def _save_backup(backup_dir: Path, writes: list[FileWrite], tag: str, info: dict[str, Any]) -> None:
    """Every old content in one file and every new one in another (one fsync each, not one per file), then
    the journal that indexes them, then the in-flight marker."""
    backup_dir.mkdir(parents=True, exist_ok=True)
    entries: list[dict[str, Any]] = []
    for write in writes:
        entry: dict[str, Any] = {"path": write.path, "real": str(write.real), "mode": write.mode, "tag": tag}
        entry["new_hash"] = None if write.new is None else content_hash(write.new)
        if write.link:
            entry["link"] = True
        entries.append(entry)
    for name, side in ((BACKUP_DATA, "old"), (NEW_DATA, "new")):
        offset = 0
        with open(backup_dir / name, "wb") as handle:
            for write, entry in zip(writes, entries, strict=True):
                data = write.old if side == "old" else write.new
                key = "" if side == "old" else "new_"
                entry[key + "offset"], entry[key + "size"] = (
                    (offset, len(data)) if data is not None else (None, None)
                )
                if data is not None:
                    handle.write(data)
                    offset += len(data)
            handle.flush()
            os.fsync(handle.fileno())
    journal = {"version": JOURNAL_VERSION, **info, "state": "writing", "tag": tag, "files": entries}
    _write_manifest(backup_dir, journal)
    marker = _in_flight_dir(backup_dir) / f"{tag}.json"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"backup": str(backup_dir)}), encoding="utf-8")
    fsync_folder(marker.parent)


def _in_flight_dir(backup_dir: Path) -> Path:
    return backup_dir.parent.parent / IN_FLIGHT  # backups/<project>/<session>/<change> -> backups/<project>


def _write_manifest(backup_dir: Path, manifest: dict[str, Any]) -> None:
    data = json.dumps(manifest, indent=1).encode("utf-8")
    write_atomic(backup_dir / MANIFEST, data, temp=backup_dir / (MANIFEST + ".tmp"))


def mark(backup_dir: Path, state: str) -> None:
    """Move the journal on to ``state``."""
    manifest = read_manifest(backup_dir)
    if manifest is not None:
        manifest["state"] = state
        _write_manifest(backup_dir, manifest)


def read_manifest(backup_dir: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads((backup_dir / MANIFEST).read_text(encoding="utf-8")))
    except (FileNotFoundError, NotADirectoryError, ValueError):
        return None


def _saved(backup_dir: Path, entry: dict[str, Any], side: str = "old") -> bytes | None:
    key, name = ("", BACKUP_DATA) if side == "old" else ("new_", NEW_DATA)
    if entry.get(key + "offset") is None:
        return None
    with open(backup_dir / name, "rb") as handle:
        handle.seek(int(entry[key + "offset"]))
        data = handle.read(int(entry[key + "size"]))
    return data if len(data) == int(entry[key + "size"]) else None


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


def journal_writes(backup_dir: Path) -> list[FileWrite]:
    """The writes an open journal stands for: each file's old and new bytes. A journal of an older ai kept no
    new bytes: the file as it is now stands in for them."""
    manifest = read_manifest(backup_dir) or {}
    writes = []
    for entry in manifest.get("files", []):
        real, link = Path(entry["real"]), bool(entry.get("link"))
        old = _saved(backup_dir, entry)
        if entry.get("new_hash") is None:
            new = None
        elif "new_offset" in entry:
            new = _saved(backup_dir, entry, "new")
        else:
            new = on_disk(real, link)
        writes.append(FileWrite(entry["path"], real, old, new, int(entry["mode"]), link))
    return writes


def write_files(
    writes: list[FileWrite], backup_dir: Path, *, tag: str, info: dict[str, Any] | None = None
) -> None:
    """Open the journal (``info`` tells a later recovery what the transaction is), then write every file
    atomically. If a write fails, the files already written get their old content back and TaskFailed names
    the file that could not be written. On success the caller records the change, commits it and calls
    :func:`finish_files`; until then an interruption is finished or rolled back by the next ``ai``."""
    try:
        _save_backup(backup_dir, writes, tag, info or {})
    except OSError as exc:
        _clear_marker(backup_dir, tag)
        shutil.rmtree(backup_dir, ignore_errors=True)
        raise TaskFailed(
            f"could not back up the files before changing them ({exc.strerror or exc}, in {backup_dir.parent}); "
            "nothing was changed: make room there and try again"
        ) from None
    done: list[FileWrite] = []
    for write in writes:
        try:
            _put(write, write.new, tag)
        except OSError as exc:
            problems = _roll_back(done, tag)
            if not problems:
                finish_files(backup_dir, tag, "rolled back")
            where = f"; could not restore {', '.join(problems)}: see {backup_dir}" if problems else ""
            raise TaskFailed(
                f"could not write {write.path}: {exc.strerror or exc}; the files already written were "
                f"restored{where}"
            ) from None
        done.append(write)
    # The renames are made durable together: one fsync per folder rather than one per file.
    for folder in sorted({w.real.parent for w in writes}):
        fsync_folder(folder)
    with contextlib.suppress(OSError):  # the state informs; what a recovery does follows the session record
        mark(backup_dir, "written")


def finish_files(backup_dir: Path, tag: str, state: str = "done") -> None:
    """Close the journal: the change is recorded (and committed, or rolled back): an interruption from here on
    needs no recovery. The new bytes were only kept for that recovery. The transaction is over whatever
    happens here: a journal that cannot be closed now is closed by the next ``ai``, which finds it done."""
    with contextlib.suppress(OSError):
        mark(backup_dir, state)
    with contextlib.suppress(OSError):
        _clear_marker(backup_dir, tag)
    with contextlib.suppress(OSError):
        os.unlink(backup_dir / NEW_DATA)


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


def put_back(backup_dir: Path) -> tuple[list[str], list[str], list[str]]:
    """Undo the writes of the journal in ``backup_dir``: each file that holds its new content gets its old one
    back; a file changed since by someone else is left alone. Returns (put back, left as they are, could not
    be put back); raises nothing for a single file."""
    manifest = read_manifest(backup_dir) or {}
    restored: list[str] = []
    left: list[str] = []
    failed: list[str] = []
    for entry in manifest.get("files", []):
        real, link = Path(entry["real"]), bool(entry.get("link"))
        with contextlib.suppress(OSError):
            os.unlink(_temp_name(real, entry.get("tag", manifest.get("tag", ""))))
        current = on_disk(real, link)
        old = _saved(backup_dir, entry)
        if current == old:
            continue  # not written (yet)
        written = (current is None and entry.get("new_hash") is None) or (
            current is not None and content_hash(current) == entry.get("new_hash")
        )
        if not written:
            left.append(entry["path"])
            continue
        write = FileWrite(entry["path"], real, current, old, int(entry["mode"]), link)
        try:
            _put(write, old, "recover")
        except OSError:
            failed.append(entry["path"])
            continue
        restored.append(entry["path"])
    return restored, left, failed


def complete(writes: list[FileWrite]) -> list[str]:
    """Finish writing a recorded change: each file still holding its old content gets its new one (after a
    put-back that stopped half-way). Returns the paths that could not be written."""
    failed = []
    for write in writes:
        if write.old != write.new and on_disk(write.real, write.link) == write.old:
            try:
                _put(write, write.new, "recover")
            except OSError:
                failed.append(write.path)
    return failed


def restore_backup(backup_dir: Path) -> list[str]:
    """Put every file of an interrupted (or any) change back as it was before; returns their paths.
    Without a manifest nothing had been written, so there is nothing to restore."""
    manifest = read_manifest(backup_dir)
    if manifest is None:
        return []
    restored = []
    for entry in manifest["files"]:
        real, link = Path(entry["real"]), bool(entry.get("link"))
        with contextlib.suppress(OSError):
            os.unlink(_temp_name(real, entry.get("tag", manifest.get("tag", ""))))
        data = _saved(backup_dir, entry)
        write = FileWrite(entry["path"], real, None, data, int(entry["mode"]), link)
        _put(write, data, "restore")
        if data is not None:
            fsync_folder(real.parent)
        restored.append(entry["path"])
    mark(backup_dir, "restored")
    return restored


@dataclass(frozen=True)
class OpenJournal:
    """A transaction that a killed ``ai`` left open."""

    marker: Path
    backup_dir: Path
    journal: dict[str, Any]

    def close(self, state: str) -> None:
        mark(self.backup_dir, state)
        self.forget()

    def forget(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.marker.unlink()
        with contextlib.suppress(OSError):
            os.unlink(self.backup_dir / NEW_DATA)


def open_journals(project_backups: Path) -> list[OpenJournal]:
    """Every transaction of the project that was never closed, oldest first. Markers that point at nothing
    to finish (no journal: nothing was written; or a closed one) are dropped on the way."""
    try:
        markers = sorted((project_backups / IN_FLIGHT).iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = []
    for marker in markers:
        try:
            backup_dir = Path(json.loads(marker.read_text(encoding="utf-8"))["backup"])
        except (OSError, ValueError, KeyError, TypeError):
            backup_dir = None
        journal = None if backup_dir is None else read_manifest(backup_dir)
        if backup_dir is None or journal is None or _closed(journal):
            with contextlib.suppress(FileNotFoundError):
                marker.unlink()
            continue
        found.append(OpenJournal(marker, backup_dir, journal))
    return found


def _closed(journal: dict[str, Any]) -> bool:
    # An older ai (journal version 1) said "done" once the files were written, before the record.
    if journal.get("state") == "done" and int(journal.get("version", 1)) < JOURNAL_VERSION:
        return False
    return journal.get("state") in CLOSED_STATES


def has_open_journals(project_backups: Path) -> bool:
    """Cheap (one directory listing): whether any transaction of the project may need finishing."""
    try:
        return any((project_backups / IN_FLIGHT).iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return False


_deferring = threading.local()


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Ctrl-C waits until the block is done: a change is written, recorded and committed whole, never left
    half-way by a KeyboardInterrupt between two of its steps. The interrupt is then delivered as it would
    have been. Nested blocks deliver it once, at the outermost end; outside the main thread (where Python
    never raises KeyboardInterrupt) this does nothing."""
    if threading.current_thread() is not threading.main_thread() or getattr(_deferring, "on", False):
        yield
        return
    pending: list[Any] = []
    previous = signal.getsignal(signal.SIGINT)

    def hold(signum: int, frame: Any) -> None:
        pending.append(frame)

    signal.signal(signal.SIGINT, hold)
    _deferring.on = True
    try:
        yield
    finally:
        _deferring.on = False
        signal.signal(signal.SIGINT, previous)
        if pending and callable(previous):
            previous(signal.SIGINT, pending[0])
        elif pending and previous == signal.SIG_DFL:
            raise KeyboardInterrupt
