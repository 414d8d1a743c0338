"""Reading the symbol index: the queries every search, the repo map and the pipeline ask of it.

:class:`IndexReader` answers from its own connection on the store ``CURRENT`` names, so in WAL mode it reads
the last committed state while a refresh or a build writes in another thread (app/context/index.py, the
writing side, is a :class:`IndexReader` too). A store found damaged while reading is thrown away with one
line for the user; the next refresh builds it again.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from app.context import indexdb
from app.context.indexdb import IndexCorrupt
from app.context.languages import REFERENCE
from app.errors import AgentError


@dataclass(frozen=True)
class Symbol:
    """A definition or reference. Lines are 1-based; a reference spans one line."""

    name: str
    kind: str  # "function", "class", "method", "constant", "variable", "type", ..., or "reference"
    path: str
    line: int
    end_line: int


class SymbolIndexError(AgentError):
    """The index could not be read or written (disk full, permissions): one line for the user."""


class IndexReader:
    """The read side of one project's symbol index in ``index_dir``."""

    def __init__(self, root: Path, index_dir: Path) -> None:
        self.root = root
        self.index_dir = index_dir
        self._reader: sqlite3.Connection | None = None
        self._reader_path: Path | None = None
        self._read_lock = threading.Lock()

    def _relative(self, relpath: str) -> str:
        path = Path(relpath)
        if path.is_absolute():
            try:
                path = path.resolve().relative_to(self.root)
            except ValueError:
                raise SymbolIndexError(f"{relpath} is outside the project {self.root}") from None
        return PurePosixPath(*path.parts).as_posix()

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._read_lock:
            reader = self._current_reader()
            if reader is None:
                return []
            try:
                return reader.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                if not is_damage(exc):
                    raise SymbolIndexError(
                        f"cannot read the symbol index in {self.index_dir}: {exc}"
                    ) from None
                discard(self.index_dir)
                raise SymbolIndexError(
                    f"the symbol index in {self.index_dir} was damaged ({exc}) and is thrown away; the next "
                    "search builds it again"
                ) from None

    def _current_reader(self) -> sqlite3.Connection | None:
        """The reading connection on the store CURRENT names (a build may have replaced it since)."""
        path = indexdb.current_db_path(self.index_dir)
        if path != self._reader_path or path is None:
            if self._reader is not None:
                self._reader.close()
            self._reader, self._reader_path = None, None
            if path is None:
                return None
            try:
                reader = indexdb.connect(path)
                reader.execute("PRAGMA query_only=1")
            except sqlite3.DatabaseError:
                return None
            self._reader, self._reader_path = reader, path
        return self._reader

    def paths(self) -> list[str]:
        """The relative paths of the files the last refresh indexed, sorted (the pipeline's inventory, so it
        need not walk the tree a second time)."""
        return [str(row[0]) for row in self._query("SELECT path FROM files ORDER BY path")]

    def file_count(self) -> int:
        rows = self._query("SELECT COUNT(*) FROM files")
        return int(rows[0][0]) if rows else 0

    def generation(self) -> int:
        rows = self._query("SELECT value FROM meta WHERE key='generation'")
        return int(rows[0][0]) if rows else 0

    def definitions(self, name: str) -> list[Symbol]:
        rows = self._query(
            "SELECT d.name, d.kind, f.path, d.line, d.end_line FROM defs d JOIN files f ON f.id = d.file_id "
            "WHERE d.name = ? ORDER BY f.path, d.line, d.kind",
            (name,),
        )
        return [Symbol(*row) for row in rows]

    def references(self, name: str) -> list[Symbol]:
        """Where `name` is used (calls, type uses, base classes), by path and line."""
        found: list[Symbol] = []
        for path, blob in self._query(
            "SELECT f.path, d.symbols FROM refs r JOIN files f ON f.id = r.file_id "
            "JOIN filedata d ON d.file_id = r.file_id WHERE r.name = ? ORDER BY f.path",
            (name,),
        ):
            for sym_name, kind, line, end_line in indexdb.unpack_symbols(blob):
                if kind == REFERENCE and sym_name == name:
                    found.append(Symbol(sym_name, kind, path, line, end_line))
        return found

    def outline(self, relpath: str) -> list[Symbol]:
        """The definitions of one file in line order."""
        rows = self._query(
            "SELECT d.name, d.kind, f.path, d.line, d.end_line FROM defs d JOIN files f ON f.id = d.file_id "
            "WHERE f.path = ? ORDER BY d.line, d.end_line DESC, d.name",
            (self._relative(relpath),),
        )
        return [Symbol(*row) for row in rows]

    def fuzzy(self, query: str, limit: int = 20) -> list[Symbol]:
        """Definitions whose name contains the query's characters in order, best first: exact, then
        prefix, then substring, then scattered; shorter names and paths break ties."""
        query = query.strip()
        if not query:
            return []
        needle = query.lower()
        pattern = "%" + "%".join(_like_escape(ch) for ch in needle) + "%"
        names = [
            row[0]
            for row in self._query("SELECT DISTINCT name FROM defs WHERE name LIKE ? ESCAPE '\\'", (pattern,))
        ]
        scored = sorted(
            ((fuzzy_score(needle, name), name) for name in names),
            key=lambda item: (-item[0], len(item[1]), item[1]),
        )
        result: list[Symbol] = []
        for _score, name in scored:
            result.extend(self.definitions(name))
            if len(result) >= limit:
                break
        return result[:limit]

    def files_with_identifier(self, ident: str) -> list[str]:
        """Sorted paths of the files containing the identifier."""
        return self._paths_of(self._ids_with_token(ident))

    def files_with_all(self, idents: Sequence[str]) -> list[str]:
        """Sorted paths of the files containing every one of the identifiers."""
        common: set[int] | None = None
        for ident in idents:
            ids = set(self._ids_with_token(ident))
            common = ids if common is None else common & ids
            if not common:
                return []
        return self._paths_of(sorted(common or ()))

    def files_defining(self, name: str) -> list[str]:
        rows = self._query(
            "SELECT DISTINCT f.path FROM defs d JOIN files f ON f.id = d.file_id WHERE d.name = ? ORDER BY f.path",
            (name,),
        )
        return [row[0] for row in rows]

    def _ids_with_token(self, token: str) -> list[int]:
        rows = self._query("SELECT ids FROM postings WHERE token = ?", (token,))
        return list(indexdb.unpack_ids(rows[0][0])) if rows else []

    def _paths_of(self, ids: Sequence[int]) -> list[str]:
        if not ids:
            return []
        rows = self._query(
            "SELECT path FROM files WHERE id IN (SELECT value FROM json_each(?)) ORDER BY path",
            (_json_ids(ids),),
        )
        return [row[0] for row in rows]

    # -- for the repo map ------------------------------------------------------------------------------------
    # Each answer is one SQL aggregate or one lookup by name, so the map never loads the whole index: at 100k
    # files that is hundreds of thousands of definitions and millions of references.

    def definition_count(self, kinds: Sequence[str]) -> int:
        rows = self._query(
            "SELECT COUNT(*) FROM defs WHERE kind IN (SELECT value FROM json_each(?))", (_json(kinds),)
        )
        return int(rows[0][0]) if rows else 0

    def reference_stats(self) -> dict[str, tuple[int, int]]:
        """name -> (how many files refer to it, their uses counted up to 3 a file)."""
        rows = self._query("SELECT name, files, weight FROM refstats ORDER BY name")
        return {name: (int(files), int(weight)) for name, files, weight in rows}

    def definitions_for_map(
        self, kinds: Sequence[str], names: Sequence[str] | None, paths: Sequence[str], dirs: Sequence[str]
    ) -> list[Symbol]:
        """Definitions of these kinds: all of them (`names` None), or those named, in the files named, or in
        files directly inside the directories named. Sorted by path, line, name, kind."""
        select = (
            "SELECT d.name, d.kind, f.path, d.line, d.end_line FROM defs d JOIN files f ON f.id = d.file_id "
            "WHERE d.kind IN (SELECT value FROM json_each(?1)) AND "
        )
        kinds_json = _json(kinds)
        if names is None:
            rows = self._query(select + "1", (kinds_json,))
        else:
            rows = self._query(
                select + "d.name IN (SELECT value FROM json_each(?2))", (kinds_json, _json(names))
            )
            rows += self._query(
                select + "f.path IN (SELECT value FROM json_each(?2))", (kinds_json, _json(paths))
            )
            neighbours: list[str] = []
            for directory in dirs:
                # A range on the path index ('/' + 1 is '0'), then only the files directly inside.
                if directory:
                    low, high = f"{directory}/", f"{directory}0"
                    found = self._query("SELECT path FROM files WHERE path >= ? AND path < ?", (low, high))
                else:
                    low, found = "", self._query("SELECT path FROM files WHERE instr(path, '/') = 0")
                neighbours.extend(path for (path,) in found if "/" not in path[len(low) :])
            if neighbours:
                rows += self._query(
                    select + "f.path IN (SELECT value FROM json_each(?2))", (kinds_json, _json(neighbours))
                )
        unique = sorted(set(rows), key=lambda row: (row[2], row[3], row[0], row[1], row[4]))
        return [Symbol(*row) for row in unique]

    def definer_counts(self, kinds: Sequence[str], names: Sequence[str]) -> dict[str, int]:
        """name -> how many files define it (with one of these kinds)."""
        rows = self._query(
            "SELECT name, COUNT(DISTINCT file_id) FROM defs WHERE kind IN (SELECT value FROM json_each(?)) "
            "AND name IN (SELECT value FROM json_each(?)) GROUP BY name",
            (_json(kinds), _json(names)),
        )
        return {name: int(count) for name, count in rows}

    def self_reference_weights(self, names: Sequence[str]) -> dict[tuple[str, str], int]:
        """(name, path) -> uses up to 3, where the file defining the name also refers to it."""
        rows = self._query(
            "SELECT DISTINCT d.name, f.path, MIN(r.uses, 3) FROM defs d "
            "JOIN refs r ON r.name = d.name AND r.file_id = d.file_id JOIN files f ON f.id = d.file_id "
            "WHERE d.name IN (SELECT value FROM json_each(?))",
            (_json(names),),
        )
        return {(name, path): int(weight) for name, path, weight in rows}

    def names_used_by(self, paths: Sequence[str]) -> dict[str, frozenset[str]]:
        """path -> the names that file refers to."""
        found: dict[str, set[str]] = {path: set() for path in paths}
        for path, name in self._query(
            "SELECT f.path, r.name FROM refs r JOIN files f ON f.id = r.file_id "
            "WHERE f.path IN (SELECT value FROM json_each(?))",
            (_json(paths),),
        ):
            found[path].add(name)
        return {path: frozenset(names) for path, names in found.items()}

    def cached_map(self, key: str) -> str | None:
        rows = self._query("SELECT text FROM repomap_cache WHERE key = ?", (key,))
        return rows[0][0] if rows else None


def fuzzy_score(needle: str, name: str) -> float:
    lowered = name.lower()
    if lowered == needle:
        return 4.0 if name == needle else 3.5
    if lowered.startswith(needle):
        return 3.0 - len(name) / 1000
    position = lowered.find(needle)
    if position >= 0:
        # At a word boundary (snake_case or CamelCase) beats the middle of a word.
        boundary = position == 0 or name[position - 1] == "_" or name[position].isupper()
        return (2.5 if boundary else 2.0) - len(name) / 1000
    return 1.0 - len(name) / 1000


def _like_escape(ch: str) -> str:
    return "\\" + ch if ch in "%_\\" else ch


def _json(values: Sequence[str]) -> str:
    return orjson.dumps(list(values)).decode()


def _json_ids(ids: Sequence[int]) -> str:
    return "[" + ",".join(str(i) for i in ids) + "]"


def is_damage(exc: Exception) -> bool:
    """Damage (rebuild) as opposed to a full disk or a permission problem (tell the user)."""
    if isinstance(exc, IndexCorrupt):
        return True
    text = str(exc).lower()
    return any(sign in text for sign in ("malformed", "not a database", "no such table", "no such column"))


def discard(index_dir: Path) -> None:
    """Throw away the current store, which cannot be trusted; the next refresh builds a new one. Only the
    file CURRENT names: another process may be building its replacement beside it."""
    current = index_dir / "CURRENT"
    try:
        name = current.read_text(encoding="utf-8").strip()
    except OSError:
        name = ""
    current.unlink(missing_ok=True)
    if name.startswith("index-") and "/" not in name:
        for suffix in ("", "-wal", "-shm"):
            (index_dir / f"{name}{suffix}").unlink(missing_ok=True)
