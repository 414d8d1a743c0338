"""The symbol index on disk: one SQLite file per project under `$AI_AGENT_HOME/index/<project-hash>/`.

Why SQLite, measured on a 100k-file corpus (django sources copied): a row per (identifier, file) took 58 s to
insert and 340 MB; one row per identifier holding the sorted file ids as a packed uint32 array is written in a
few seconds, answers an identifier in well under a millisecond, and an incremental update rewrites only the
identifiers whose presence in the file changed. The files table holds only what a refresh compares (path, size,
mtime, content hash), so a warm start scans a few megabytes; symbols and identifier lists of a file live in a
separate table, read only when that file changes.

A build writes a new database file and then points `CURRENT` at it, so a reader never sees a half-built index,
and a damaged or stale file is replaced, never repaired in place.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
import zlib
from array import array
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import orjson

from app.context.extract import FileRecord, SymbolRow
from app.context.languages import REFERENCE
from app.project.atomic import write_atomic

# Bump on any change of the schema, of what a file's record holds (queries, tokenizer) or of the inventory's
# filters (a refresh trusts that stored paths passed them): an index of another version is rebuilt.
SCHEMA_VERSION = "8"

SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE files(
    id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, hash TEXT NOT NULL,
    size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, lang TEXT NOT NULL);
CREATE TABLE filedata(file_id INTEGER PRIMARY KEY, symbols BLOB NOT NULL, tokens BLOB NOT NULL);
CREATE TABLE defs(name TEXT NOT NULL, file_id INTEGER NOT NULL, kind TEXT NOT NULL,
    line INTEGER NOT NULL, end_line INTEGER NOT NULL);
CREATE TABLE refs(name TEXT NOT NULL, file_id INTEGER NOT NULL, uses INTEGER NOT NULL);
-- Per name: how many files refer to it and their uses counted up to 3 a file (what the repo map ranks by),
-- kept up to date with every change so the map never aggregates millions of rows.
CREATE TABLE refstats(name TEXT PRIMARY KEY, files INTEGER NOT NULL, weight INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE postings(token TEXT PRIMARY KEY, ids BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE repomap_cache(key TEXT PRIMARY KEY, text TEXT NOT NULL) WITHOUT ROWID;
"""
# Made after a build's bulk insert: sorting once is far cheaper than keeping them up to date row by row.
INDEXES = """
CREATE INDEX defs_by_name ON defs(name);
CREATE INDEX defs_by_file ON defs(file_id);
CREATE INDEX refs_by_name ON refs(name, file_id);
CREATE INDEX refs_by_file ON refs(file_id);
"""


class IndexCorrupt(Exception):
    """The stored index cannot be trusted: the caller rebuilds it."""


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def current_db_path(index_dir: Path) -> Path | None:
    try:
        name = (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if not name or "/" in name or not name.endswith(".sqlite"):
        return None
    path = index_dir / name
    return path if path.is_file() else None


def open_existing(index_dir: Path, root: str) -> sqlite3.Connection | None:
    """The current database when it is whole, of this schema and of this root; None when there is none.
    Raises IndexCorrupt when there is one that cannot be trusted."""
    path = current_db_path(index_dir)
    if path is None:
        if (index_dir / "CURRENT").exists():
            raise IndexCorrupt("CURRENT names no index file")
        return None
    try:
        conn = connect(path)
        conn.execute("PRAGMA journal_mode=WAL")
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.DatabaseError as exc:
        raise IndexCorrupt(str(exc)) from None
    if meta.get("schema") != SCHEMA_VERSION or meta.get("root") != root or meta.get("complete") != "1":
        conn.close()
        raise IndexCorrupt("index of another schema or project, or never finished")
    return conn


def create_new(index_dir: Path, root: str) -> tuple[sqlite3.Connection, Path]:
    """A fresh, empty database (not yet current), tuned for one bulk write."""
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / f"index-{uuid.uuid4().hex[:12]}.sqlite"
    conn = connect(path)
    # A build that dies leaves an orphan file, never a half-built current index: no journal needed.
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-131072")
    conn.executescript(SCHEMA)
    conn.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        [("schema", SCHEMA_VERSION), ("root", root), ("complete", "0"), ("generation", "0")],
    )
    return conn, path


def make_current(index_dir: Path, conn: sqlite3.Connection, path: Path) -> sqlite3.Connection:
    """Mark the new database whole, point CURRENT at it and drop the files it replaces."""
    conn.executescript(INDEXES)
    conn.execute("UPDATE meta SET value='1' WHERE key='complete'")
    conn.close()
    pointer = index_dir / f"CURRENT.tmp-{os.getpid()}"
    write_atomic(index_dir / "CURRENT", (path.name + "\n").encode("utf-8"), temp=pointer, sync_folder=False)
    for entry in index_dir.iterdir():
        if entry.name.startswith("index-") and not entry.name.startswith(path.name):
            try:
                entry.unlink()
            except OSError:
                pass
    conn = connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


# -- encoding ----------------------------------------------------------------------------------------------


def pack_ids(ids: Iterable[int]) -> bytes:
    return array("I", sorted(ids)).tobytes()


def unpack_ids(blob: bytes) -> array[int]:
    if len(blob) % 4:
        raise IndexCorrupt("a posting list has a torn length")
    ids = array("I")
    ids.frombytes(blob)
    return ids


def unpack_symbols(blob: bytes) -> list[SymbolRow]:
    try:
        rows = orjson.loads(zlib.decompress(blob))
    except (zlib.error, orjson.JSONDecodeError) as exc:
        raise IndexCorrupt(f"a symbol list does not decode: {exc}") from None
    return [(str(name), str(kind), int(line), int(end)) for name, kind, line, end in rows]


def unpack_tokens(blob: bytes) -> list[str]:
    try:
        text = zlib.decompress(blob).decode("utf-8")
    except (zlib.error, UnicodeDecodeError) as exc:
        raise IndexCorrupt(f"an identifier list does not decode: {exc}") from None
    return text.split("\n") if text else []


# -- writing -----------------------------------------------------------------------------------------------


class Writer:
    """Applies file records and removals; identifier postings are gathered and written once at `finish`.

    `fresh` says the database started empty, so no stored posting list needs reading before it is written.
    """

    def __init__(self, conn: sqlite3.Connection, *, fresh: bool) -> None:
        self.conn = conn
        self.fresh = fresh
        self.added: defaultdict[str, list[int]] = defaultdict(list)
        self.dropped: defaultdict[str, list[int]] = defaultdict(list)
        self.changed = 0
        self.refstats_delta: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])

    def apply(self, record: FileRecord) -> None:
        conn = self.conn
        row = conn.execute("SELECT id FROM files WHERE path=?", (record.path,)).fetchone()
        if record.symbols is None or record.tokens is None:
            # Same content as stored: only the stat moves on.
            conn.execute(
                "UPDATE files SET size=?, mtime_ns=? WHERE path=?",
                (record.size, record.mtime_ns, record.path),
            )
            return
        self.changed += 1
        old_tokens: list[str] = []
        if row is None:
            cursor = conn.execute(
                "INSERT INTO files(path, hash, size, mtime_ns, lang) VALUES (?, ?, ?, ?, ?)",
                (record.path, record.hash, record.size, record.mtime_ns, record.lang),
            )
            file_id = int(cursor.lastrowid or 0)
        else:
            file_id = int(row[0])
            old_tokens = self._stored_tokens(file_id)
            conn.execute(
                "UPDATE files SET hash=?, size=?, mtime_ns=?, lang=? WHERE id=?",
                (record.hash, record.size, record.mtime_ns, record.lang, file_id),
            )
            conn.execute("DELETE FROM defs WHERE file_id=?", (file_id,))
            self._drop_refs(file_id)
        conn.execute(
            "INSERT OR REPLACE INTO filedata VALUES (?, ?, ?)",
            (file_id, record.symbols_blob, record.tokens_blob),
        )
        conn.executemany(
            "INSERT INTO defs VALUES (?, ?, ?, ?, ?)",
            [
                (name, file_id, kind, line, end_line)
                for name, kind, line, end_line in record.symbols
                if kind != REFERENCE
            ],
        )
        uses: dict[str, int] = {}
        for name, kind, _line, _end in record.symbols:
            if kind == REFERENCE:
                uses[name] = uses.get(name, 0) + 1
        conn.executemany(
            "INSERT INTO refs VALUES (?, ?, ?)", [(name, file_id, count) for name, count in uses.items()]
        )
        if not self.fresh:
            for name, count in uses.items():
                delta = self.refstats_delta[name]
                delta[0] += 1
                delta[1] += min(count, 3)
        self._delta(file_id, old_tokens, record.tokens)

    def remove(self, relpath: str) -> bool:
        conn = self.conn
        row = conn.execute("SELECT id FROM files WHERE path=?", (relpath,)).fetchone()
        if row is None:
            return False
        file_id = int(row[0])
        old_tokens = self._stored_tokens(file_id)
        conn.execute("DELETE FROM defs WHERE file_id=?", (file_id,))
        self._drop_refs(file_id)
        conn.execute("DELETE FROM filedata WHERE file_id=?", (file_id,))
        conn.execute("DELETE FROM files WHERE id=?", (file_id,))
        self._delta(file_id, old_tokens, [])
        self.changed += 1
        return True

    def _drop_refs(self, file_id: int) -> None:
        for name, count in self.conn.execute("SELECT name, uses FROM refs WHERE file_id=?", (file_id,)):
            delta = self.refstats_delta[name]
            delta[0] -= 1
            delta[1] -= min(count, 3)
        self.conn.execute("DELETE FROM refs WHERE file_id=?", (file_id,))

    def _stored_tokens(self, file_id: int) -> list[str]:
        row = self.conn.execute("SELECT tokens FROM filedata WHERE file_id=?", (file_id,)).fetchone()
        return unpack_tokens(row[0]) if row else []

    def _delta(self, file_id: int, old: list[str], new: list[str]) -> None:
        added, dropped = self.added, self.dropped
        if not old:
            for token in new:
                added[token].append(file_id)
            return
        old_set, new_set = set(old), set(new)
        for token in new:
            if token not in old_set:
                added[token].append(file_id)
        for token in old:
            if token not in new_set:
                dropped[token].append(file_id)

    def finish(self) -> int:
        """Write the gathered posting changes and bump the generation when anything changed."""
        conn = self.conn
        tokens = sorted(set(self.added) | set(self.dropped))
        if self.fresh:
            conn.executemany(
                "INSERT INTO postings VALUES (?, ?)",
                ((token, pack_ids(self.added[token])) for token in tokens),
            )
        else:
            for token in tokens:
                row = conn.execute("SELECT ids FROM postings WHERE token=?", (token,)).fetchone()
                ids = set(unpack_ids(row[0])) if row else set()
                ids.update(self.added.get(token, ()))
                ids.difference_update(self.dropped.get(token, ()))
                if ids:
                    conn.execute("INSERT OR REPLACE INTO postings VALUES (?, ?)", (token, pack_ids(ids)))
                elif row:
                    conn.execute("DELETE FROM postings WHERE token=?", (token,))
        self.added.clear()
        self.dropped.clear()
        if self.fresh:
            conn.execute(
                "INSERT INTO refstats SELECT name, COUNT(*), SUM(MIN(uses, 3)) FROM refs GROUP BY name"
            )
        else:
            conn.executemany(
                "INSERT INTO refstats VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
                "files = files + excluded.files, weight = weight + excluded.weight",
                [
                    (name, files, weight)
                    for name, (files, weight) in sorted(self.refstats_delta.items())
                    if files or weight  # a file edited without touching its references changes nothing here
                ],
            )
            conn.execute("DELETE FROM refstats WHERE files <= 0")
        self.refstats_delta.clear()
        if self.changed:
            conn.execute("UPDATE meta SET value=CAST(value AS INTEGER) + 1 WHERE key='generation'")
            conn.execute("DELETE FROM repomap_cache")
        return self.changed
