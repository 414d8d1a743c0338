"""Sessions of one project: a small index of metadata plus one TinyDB file per session.

Layout under ``$AI_AGENT_HOME/data/<project-hash>/``::

    index.json              {"version", "project", "active", "sessions": {name: metadata}}
    active                  the active session's name (also in the index; survives an index rebuild)
    sessions/<name>.json    TinyDB tables: meta, messages, changes, undo, background

The index is a cache of every session file's ``meta`` table: when it is missing, damaged or disagrees with
the files on disk it is rebuilt from them. Writes go session file first, then index, each under its lock.
"""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.table import Document

from app.errors import StoreCorruptError, UsageError
from app.paths import (
    DEFAULT_SESSION,
    agent_home,
    find_project_root,
    is_valid_session_name,
    project_hash,
    session_name_error,
)
from app.session import schema, storage
from app.session.schema import (
    CONTEXT_CLEARED,
    CONTEXT_CLEARED_NOTE,
    EXPORT_FORMAT,
    EXPORT_VERSION,
    MESSAGE_ROLES,
)

# 2: change_count counts the changes applied and not undone (an index of version 1 is rebuilt).
INDEX_VERSION = 2


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class SessionMeta:
    name: str
    created_at: str
    last_used: str
    goal_summary: str = ""
    change_count: int = 0
    is_active: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionMeta:
        return cls(
            name=str(data["name"]),
            created_at=str(data["created_at"]),
            last_used=str(data["last_used"]),
            goal_summary=str(data.get("goal_summary") or ""),
            change_count=int(data.get("change_count") or 0),
            is_active=bool(data.get("is_active", False)),
        )


def check_session_name(name: str) -> str:
    if not is_valid_session_name(name):
        raise UsageError(session_name_error(name))
    return name


class ProjectStore:
    """Every session of one project. Safe to use from several processes at once."""

    def __init__(self, root: Path, home: Path | None = None) -> None:
        self.root = root.resolve()
        self.home = home or agent_home()
        self.project_hash = project_hash(self.root)
        self.data_dir = self.home / "data" / self.project_hash
        self.sessions_dir = self.data_dir / "sessions"
        self.index_path = self.data_dir / "index.json"
        # What the last index read found damaged (each file named, kept aside): the caller says it once.
        self.index_warning: str | None = None

    @classmethod
    def for_directory(cls, directory: Path | None = None, home: Path | None = None) -> ProjectStore:
        return cls(find_project_root(directory), home)

    # -- paths -------------------------------------------------------------------------------------------

    def session_path(self, name: str) -> Path:
        return self.sessions_dir / f"{check_session_name(name)}.json"

    def backups_dir(self, name: str) -> Path:
        """Where the edit engine keeps this session's backups of project files."""
        return self.project_backups_dir / check_session_name(name)

    @property
    def project_backups_dir(self) -> Path:
        """Every session's backups of this project, and the journals of changes still in flight."""
        return self.home / "backups" / self.project_hash

    # -- the index -----------------------------------------------------------------------------------------

    def _names_on_disk(self) -> set[str]:
        try:
            entries = os.listdir(self.sessions_dir)
        except FileNotFoundError:
            return set()
        return {e[:-5] for e in entries if e.endswith(".json") and is_valid_session_name(e[:-5])}

    def _read_index(self) -> dict[str, Any]:
        """The index, rebuilt from the session files when it is absent, damaged or out of step with them.
        A damaged index is kept aside and the rebuild goes on; the error is remembered for the caller."""
        self.index_warning = None
        warnings: list[str] = []
        try:
            index = storage.read_json_file(self.index_path, what="session index", check=schema.check_index)
        except StoreCorruptError as exc:
            warnings.append(f"{exc.message}; rebuilt it from the session files")
            index = None
        if (
            index is None
            or index.get("version") != INDEX_VERSION
            or set(index["sessions"]) != self._names_on_disk()
        ):
            index = self._rebuild_index(index, warnings)
        self.index_warning = "\n".join(warnings) or None
        return index

    def _rebuild_index(self, old: dict[str, Any] | None, warnings: list[str]) -> dict[str, Any]:
        sessions: dict[str, Any] = {}
        for name in sorted(self._names_on_disk()):
            try:
                meta = self._read_meta_from_file(name)
            except StoreCorruptError as exc:
                warnings.append(exc.message)  # kept aside by the read; the other sessions go on
                continue
            if meta is not None:
                sessions[name] = meta
        active = (old or {}).get("active") or self._read_active_file()
        index = {
            "version": INDEX_VERSION,
            "project": str(self.root),
            "active": active if active in sessions else None,
            "sessions": sessions,
        }
        storage.write_json_file(self.index_path, index)
        return index

    def _set_active(self, index: dict[str, Any], name: str | None) -> None:
        index["active"] = name
        storage.atomic_write_bytes(self.data_dir / "active", (name or "").encode())

    def _read_active_file(self) -> str | None:
        """The active session's name, kept beside the index so a rebuilt index still knows it."""
        try:
            name = (self.data_dir / "active").read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return name if is_valid_session_name(name) else None

    def _read_meta_from_file(self, name: str) -> dict[str, Any] | None:
        data = storage.read_json_file(
            self.session_path(name), what="session file", check=schema.check_session_file
        )
        if data is None:
            return None
        docs = data.get("meta") or {}
        for doc in docs.values():
            return {**doc, "change_count": _applied_count((data.get("changes") or {}).values())}
        return None

    @contextmanager
    def _index_for_update(self) -> Iterator[dict[str, Any]]:
        with storage.locked(self.index_path):
            current = self._read_index()
            # A copy: the parsed index is cached, and a failed update must leave the cache true to the file.
            index = copy.deepcopy(current)
            yield index
            if index != current:  # opening an already-active session writes nothing
                storage.write_json_file(self.index_path, index)

    def list_sessions(self) -> list[SessionMeta]:
        """Every session, most recently used first, the active one marked."""
        with storage.locked(self.index_path):
            index = self._read_index()
        active = index.get("active")
        metas = [SessionMeta.from_dict({**m, "is_active": n == active}) for n, m in index["sessions"].items()]
        metas.sort(key=lambda m: (m.last_used, m.name), reverse=True)
        return metas

    def active_name(self) -> str:
        with storage.locked(self.index_path):
            active = self._read_index().get("active")
        return active or DEFAULT_SESSION

    def exists(self, name: str) -> bool:
        return self.session_path(name).exists()

    # -- sessions ------------------------------------------------------------------------------------------

    def session(self, name: str, *, create: bool = True, activate: bool = False) -> Session:
        """The session NAME: created when new (unless ``create`` is false: then a usage error), and made the
        active one when ``activate``."""
        path = self.session_path(name)
        session = Session(self, name)
        with storage.locked(path):
            meta = self._read_meta_from_file(name)
            if meta is None:
                if not create:
                    raise UsageError(f"no session named {name!r} in this project; see `ai --list-sessions`")
                stamp = now_iso()
                meta = SessionMeta(name, created_at=stamp, last_used=stamp).to_dict()
                meta.pop("is_active")
                with session._db() as db:
                    db.table("meta").insert(meta)
            with self._index_for_update() as index:
                index["sessions"][name] = meta
                if activate and index.get("active") != name:
                    self._set_active(index, name)
        return session

    def activate(self, name: str) -> None:
        self.session(name, create=False, activate=True)

    def delete_session(self, name: str) -> None:
        """Remove the session, its messages, changes, undo entries and backups. Project files stay as they are."""
        path = self.session_path(name)
        with storage.locked(path):
            if not path.exists():
                raise UsageError(f"no session named {name!r} in this project; see `ai --list-sessions`")
            # Index first: a crash before the unlink leaves a session file the next read puts back.
            with self._index_for_update() as index:
                index["sessions"].pop(name, None)
                if index.get("active") == name:
                    # The default session takes the mark back, so the listing always agrees with `ai`.
                    self._set_active(index, DEFAULT_SESSION if DEFAULT_SESSION in index["sessions"] else None)
            path.unlink()
            storage.forget(path)
        shutil.rmtree(self.backups_dir(name), ignore_errors=True)

    def rename_session(self, old: str, new: str) -> None:
        check_session_name(new)
        if self.exists(new):
            raise UsageError(f"a session named {new!r} already exists; choose another name")
        document = self.export_session(old)
        document["metadata"]["name"] = new
        was_active = self.active_name() == old
        self.import_session(document)
        old_backups = self.backups_dir(old)
        if old_backups.exists():
            self.backups_dir(new).parent.mkdir(parents=True, exist_ok=True)
            os.replace(old_backups, self.backups_dir(new))
        self.delete_session(old)
        if was_active:
            self.activate(new)

    # -- export and import ---------------------------------------------------------------------------------

    def export_session(self, name: str) -> dict[str, Any]:
        """The session as one JSON-ready document (what ``ai --export-session`` writes)."""
        session = self.session(name, create=False)
        with storage.locked(session.path):
            meta = session.meta()
            with session._db() as db:
                messages = [dict(d) for d in db.table("messages").all()]
                changes = [dict(d) for d in db.table("changes").all()]
                undo = [dict(d) for d in db.table("undo").all()]
                background = {k: v for d in db.table("background").all() for k, v in d.items()}
        return {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "metadata": meta.to_dict(),
            "messages": messages,
            "changes": changes,
            "undo": undo,
            "background": background,
        }

    def import_session(self, document: Any, name: str | None = None) -> SessionMeta:
        """Load an exported session under ``name`` (default: its own). Refuses an existing name, and a
        document of the wrong shape (its first bad field named) before anything is written."""
        problem = schema.export_problem(document)
        if problem:
            raise UsageError(f"not an ai session export: {problem}")
        target = check_session_name(name or document["metadata"]["name"])
        path = self.session_path(target)
        with storage.locked(path):
            if path.exists():
                raise UsageError(
                    f"a session named {target!r} already exists; import with --session NEWNAME or delete it first"
                )
            meta = {k: v for k, v in document["metadata"].items() if k != "is_active"}
            meta["name"] = target
            meta["change_count"] = _applied_count(document["changes"])
            data: dict[str, Any] = {
                "meta": {"1": meta},
                "messages": _as_table(document["messages"]),
                "changes": _as_table(document["changes"]),
                "undo": _as_table(document["undo"]),
                "background": {"1": dict(document.get("background") or {})},
            }
            storage.write_json_file(path, data)
            with self._index_for_update() as index:
                index["sessions"][target] = meta
        return SessionMeta.from_dict(meta)


def _as_table(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {str(i): dict(item) for i, item in enumerate(items, start=1)}


class Session:
    """One named session: its messages, applied changes, undo entries and background snapshot."""

    def __init__(self, store: ProjectStore, name: str) -> None:
        self.store = store
        self.name = check_session_name(name)
        self.path = store.session_path(name)

    @contextmanager
    def _db(self) -> Iterator[TinyDB]:
        # A fresh TinyDB per operation: its id counters and query cache would go stale when another process
        # writes the file. The storage's parse cache keeps this cheap.
        db = TinyDB(str(self.path), storage=storage.AtomicJSONStorage)
        try:
            yield db
        finally:
            db.close()

    @contextmanager
    def _write(self) -> Iterator[TinyDB]:
        """A read-modify-write under the session's lock, reaching the disk as one atomic write; then the
        index learns the new metadata (session file first, so the index never runs ahead of it)."""
        with storage.locked(self.path), self._db() as db:
            if not self.path.exists():
                raise UsageError(
                    f"session {self.name!r} was deleted; start it again with --session {self.name}"
                )
            self._meta_for_index: dict[str, Any] | None = None
            with storage.batch(self.path):
                yield db
            if self._meta_for_index is not None:
                with self.store._index_for_update() as index:
                    index["sessions"][self.name] = self._meta_for_index

    def _update_meta(self, db: TinyDB, **fields: Any) -> None:
        table = db.table("meta")
        table.update(fields)
        self._meta_for_index = dict(table.all()[0])

    def meta(self) -> SessionMeta:
        with self._db() as db:
            docs = db.table("meta").all()
            count = _applied_count(db.table("changes").all())
        if not docs:
            raise UsageError(f"no session named {self.name!r} in this project; see `ai --list-sessions`")
        active = self.store.active_name() == self.name
        return SessionMeta.from_dict({**docs[0], "change_count": count, "is_active": active})

    # -- messages ------------------------------------------------------------------------------------------

    def append_message(self, role: str, content: str, **extra: Any) -> dict[str, Any]:
        """Store one message (``extra`` may carry token usage, a change id, ...) and return it."""
        if role not in MESSAGE_ROLES:
            raise ValueError(f"unknown message role {role!r}")
        message = {"role": role, "content": content, "ts": now_iso(), **extra}
        schema.check_record(schema.MESSAGE, message, "message")
        with self._write() as db:
            db.table("messages").insert(message)
            self._update_meta(db, last_used=message["ts"])
        return message

    def clear_context(self) -> dict[str, Any]:
        """A fresh context from here on (``/clear``): an event after which a later goal's history starts. The
        messages before it stay stored and shown; only what is sent to the model changes."""
        return self.append_message("event", CONTEXT_CLEARED_NOTE, kind=CONTEXT_CLEARED)

    def messages(self, limit: int | None = None, before: int | None = None) -> list[dict[str, Any]]:
        """Messages in order. ``limit`` keeps the last N (of those before position ``before``)."""
        with self._db() as db:
            docs = db.table("messages").all()
        items = [dict(d) for d in docs[:before]]
        return items[-limit:] if limit else items

    def message_count(self) -> int:
        with self._db() as db:
            return len(db.table("messages"))

    def set_goal_summary(self, summary: str) -> None:
        with self._write() as db:
            self._update_meta(db, goal_summary=summary.strip()[:200], last_used=now_iso())

    # -- applied changes and undo --------------------------------------------------------------------------
    # ``change_count`` (what --list-sessions and the session list show) counts the changes that are applied
    # and not undone: every write of the changes table recounts it.

    def _recount(self, db: TinyDB) -> None:
        self._update_meta(db, change_count=_applied_count(db.table("changes").all()), last_used=now_iso())

    def record_change(self, change: dict[str, Any]) -> int:
        """Store an applied change (its fields are the edit engine's; ``schema.CHANGE`` is what its readers
        rely on); returns its position id."""
        schema.check_record(schema.CHANGE, change, "change record")
        with self._write() as db:
            doc_id = db.table("changes").insert(dict(change))
            self._recount(db)
        return doc_id

    def changes(self) -> list[dict[str, Any]]:
        with self._db() as db:
            return [_with_id(d) for d in db.table("changes").all()]

    def update_change(self, doc_id: int, **fields: Any) -> None:
        with self._write() as db:
            table = db.table("changes")
            current = table.get(doc_id=doc_id)
            if current is not None:
                schema.check_record(schema.CHANGE, {**current, **fields}, "change record")
            table.update(fields, doc_ids=[doc_id])
            self._recount(db)

    def remove_change(self, doc_id: int) -> None:
        """Take back the record of a change whose files were put back (its commit could not be made)."""
        with self._write() as db:
            db.table("changes").remove(doc_ids=[doc_id])
            self._recount(db)

    def record_undo(
        self,
        entry: dict[str, Any],
        *,
        change: int | None = None,
        change_fields: dict[str, Any] | None = None,
        event: dict[str, Any] | None = None,
    ) -> int:
        """Store an undo entry. With ``change`` (its position id), that change gets ``change_fields`` (undone,
        ...) and ``event`` (a message) is appended, in the same atomic write: a crash never leaves a change
        marked undone without its undo entry, or an undo the session's story does not tell."""
        schema.check_record(schema.UNDO, entry, "undo entry")
        with self._write() as db:
            doc_id = db.table("undo").insert(dict(entry))
            if change is not None:
                db.table("changes").update(dict(change_fields or {}), doc_ids=[change])
            if event is not None:
                db.table("messages").insert({"ts": now_iso(), **event})
            self._recount(db)
        return doc_id

    def unrecord_undo(self, undo_id: str) -> None:
        """Take back an undo whose files were put back (its commit could not be made): its entry, its event,
        and the change's undone mark."""
        from tinydb import where

        with self._write() as db:
            db.table("undo").remove(where("id") == undo_id)
            db.table("messages").remove(where("undo_id") == undo_id)
            db.table("changes").update(_not_undone, where("undo_id") == undo_id)
            self._recount(db)

    def update_undo(self, undo_id: str, fields: dict[str, Any]) -> None:
        """The commit (or why there is none) of an undo: on its entry, and as ``undo_commit`` on the change."""
        from tinydb import where

        with self._write() as db:
            db.table("undo").update(fields, where("id") == undo_id)
            if fields.get("commit"):
                db.table("changes").update({"undo_commit": fields["commit"]}, where("undo_id") == undo_id)
            db.table("messages").update(
                {"commit": fields.get("commit")}, (where("undo_id") == undo_id) & (where("role") == "event")
            )

    def undo_entries(self) -> list[dict[str, Any]]:
        with self._db() as db:
            return [_with_id(d) for d in db.table("undo").all()]

    # -- background snapshot -------------------------------------------------------------------------------

    def background(self) -> dict[str, Any]:
        with self._db() as db:
            docs = db.table("background").all()
        return dict(docs[0]) if docs else {}

    def save_background(self, snapshot: dict[str, Any]) -> None:
        schema.check_record(schema.BACKGROUND, snapshot, "background snapshot")
        with self._write() as db:
            table = db.table("background")
            table.truncate()
            table.insert(dict(snapshot))


def _applied_count(changes: Iterable[Mapping[str, Any]]) -> int:
    """What ``change_count`` says: the changes that are applied and not undone. Derived from the changes
    whenever metadata is read from a session file, so a count stored by an older ai is never shown."""
    return sum(1 for change in changes if not change.get("undone"))


def _not_undone(change: MutableMapping[Any, Any]) -> None:
    for key in ("undone_at", "undo_id", "undo_commit"):
        change.pop(key, None)
    change["undone"] = False


def _with_id(doc: Document) -> dict[str, Any]:
    return {**doc, "_id": doc.doc_id}
