"""The persistent symbol index of a project: definitions, references and identifiers of every file, built
and kept up to date here and read through app/context/indexquery.py.

`SymbolIndex.open(root)` loads what is stored, refreshes the files whose size or mtime moved (their content
hash decides whether they are parsed again), indexes new files and forgets deleted ones. The file watcher
calls `update_file` and `remove_file` one path at a time. A cold build parses in two worker processes.
"""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.context import indexdb
from app.context.extract import FileRecord, extract_batch, extract_file
from app.context.indexdb import IndexCorrupt, Writer
from app.context.indexquery import IndexReader, SymbolIndexError, discard, is_damage
from app.context.inventory import is_indexable_path, scan_project
from app.paths import agent_home, project_hash

Progress = Callable[[int, int], None]

# Below this many files to parse, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 400
WORKERS = 2
BATCH = 64


def index_dir_for(root: Path) -> Path:
    return agent_home() / "index" / project_hash(root)


class SymbolIndex(IndexReader):
    """The index as built and kept up to date; its queries are the reader's (app/context/indexquery.py)."""

    def __init__(self, root: Path, index_dir: Path, conn: sqlite3.Connection | None) -> None:
        super().__init__(root, index_dir)
        # Writes go through `_conn` under `_lock` (and the cross-process file lock); queries use their own
        # connection, so in WAL mode they answer from the last committed state while a refresh or a build
        # runs in another thread.
        self._conn = conn
        self._lock = threading.RLock()
        # False when the last refresh stopped at its deadline: what it did not reach is not indexed yet (the
        # next refresh goes on from there), so a caller falls back to rg for it.
        self.complete = True
        self._deadline: float | None = None
        self.remaining = 0  # files the last refresh left for the next one (with `complete` False)
        self._background: threading.Thread | None = None

    # -- opening -------------------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        root: Path,
        *,
        build: bool = True,
        progress: Progress | None = None,
        deadline: float | None = None,
    ) -> SymbolIndex:
        """Load the stored index; with `build`, refresh what changed and build what is missing.
        A damaged or stale store is rebuilt from the files, never trusted.

        Loading alone (`build=False`) takes about a millisecond at any size and answers from what is stored;
        the refresh stats every file and asks git for untracked ones (about a second at 100k files), so an
        interactive caller loads first and runs `refresh()` in a background worker. `deadline` (a
        `time.monotonic()` value) bounds the refresh: see `refresh`."""
        root = Path(root).resolve()
        index_dir = index_dir_for(root)
        try:
            conn = indexdb.open_existing(index_dir, str(root))
        except IndexCorrupt:
            conn = None
            discard(index_dir)
        index = cls(root, index_dir, conn)
        if build:
            index.refresh(progress, deadline=deadline)
        return index

    @classmethod
    def exists(cls, root: Path) -> bool:
        """Whether a store of this project's index is on disk (it may still be damaged or stale)."""
        return indexdb.current_db_path(index_dir_for(Path(root).resolve())) is not None

    def refresh_in_background(self, wait: float = 0.0, deadline: float | None = None) -> None:
        """`refresh()` in a thread of its own, waited for at most `wait` seconds: queries answer from the
        stored state meanwhile; `close` waits for it. A failure leaves `complete` False."""

        def work() -> None:
            try:
                self.refresh(deadline=deadline)
            except Exception:  # the stored state still answers; the next open tries again
                self.complete = False

        self._background = threading.Thread(target=work, name="index-refresh", daemon=True)
        self._background.start()
        self._background.join(wait)

    def close(self) -> None:
        if self._background is not None and self._background is not threading.current_thread():
            self._background.join()
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        with self._read_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

    def __enter__(self) -> SymbolIndex:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def refresh(self, progress: Progress | None = None, *, deadline: float | None = None) -> int:
        """Bring the index in line with the project's files; returns how many files changed.

        With `deadline` (a `time.monotonic()` value) the parsing stops at the first batch boundary past it and
        commits what it did (`complete` is then False): a cold build of a huge project is spread over several
        calls instead of blocking one for minutes."""
        from filelock import FileLock

        self._deadline = deadline
        self.complete = True
        self.remaining = 0

        self.index_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.index_dir / "lock")), self._lock:
            try:
                return self._refresh_locked(progress)
            except IndexCorrupt:
                # Found damage while reading the old store: start again from nothing.
                self.close()
                discard(self.index_dir)
                return self._refresh_locked(progress)
            except sqlite3.DatabaseError as exc:
                if not is_damage(exc):
                    raise SymbolIndexError(
                        f"cannot write the symbol index in {self.index_dir}: {exc}"
                    ) from None
                self.close()
                discard(self.index_dir)
                return self._refresh_locked(progress)

    def _refresh_locked(self, progress: Progress | None) -> int:
        if self._conn is None:
            # Another process may have built it while we waited for the lock.
            try:
                self._conn = indexdb.open_existing(self.index_dir, str(self.root))
            except IndexCorrupt:
                discard(self.index_dir)
        if self._conn is None:
            files = scan_project(self.root, progress=progress)
            conn, path = indexdb.create_new(self.index_dir, str(self.root))
            work: list[tuple[str, str | None]] = [(p, None) for p, _size, _mtime in files]
            try:
                # One transaction: committing after every statement costs more than the parsing.
                conn.execute("BEGIN")
                changed = self._apply(conn, work, [], progress, fresh=True)
                conn.execute("COMMIT")
            except BaseException:
                # Interrupted or failed: leave no half-built file behind.
                conn.close()
                path.unlink(missing_ok=True)
                raise
            self._conn = indexdb.make_current(self.index_dir, conn, path)
            return changed
        stored: dict[str, tuple[str, int, int]] = {
            stored_path: (digest, size, mtime_ns)
            for stored_path, digest, size, mtime_ns in self._conn.execute(
                "SELECT path, hash, size, mtime_ns FROM files"
            )
        }
        # Stored paths passed the inventory's filters before: they are only stat'ed.
        files = scan_project(self.root, known=stored, progress=progress)
        work_items: list[tuple[str, str | None]] = []
        for relpath, size, mtime_ns in files:
            known = stored.pop(relpath, None)
            if known is None:
                work_items.append((relpath, None))
            elif known[1] != size or known[2] != mtime_ns or known[2] == 0:
                work_items.append((relpath, known[0]))
        gone = sorted(stored)
        if not work_items and not gone:
            return 0
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            changed = self._apply(self._conn, work_items, gone, progress, fresh=False)
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")
        return changed

    def _apply(
        self,
        conn: sqlite3.Connection,
        work: list[tuple[str, str | None]],
        gone: Sequence[str],
        progress: Progress | None,
        *,
        fresh: bool,
    ) -> int:
        writer = Writer(conn, fresh=fresh)
        for path in gone:
            writer.remove(path)
        total = len(work)
        done = 0
        if progress is not None:
            progress(0, total)
        deadline = self._deadline
        batches = _extract_all(str(self.root), work)
        try:
            for batch in batches:
                for item in batch:
                    if isinstance(item, FileRecord):
                        writer.apply(item)
                    else:
                        writer.remove(item[0])
                done += len(batch)
                if progress is not None:
                    progress(done, total)
                if deadline is not None and done < total and time.monotonic() > deadline:
                    self.complete = False
                    self.remaining = total - done
                    break
        finally:
            batches.close()  # ends the worker processes now, with the batches they did not start cancelled
        return writer.finish()

    # -- incremental updates (the file watcher) --------------------------------------------------------------

    def update_file(self, relpath: str) -> None:
        """Index one file again after it changed (or appeared); a file that is gone or not indexable is
        removed."""
        relpath = self._relative(relpath)
        if not is_indexable_path(relpath) or not self._plain_file(relpath):
            self.remove_file(relpath)
            return
        try:
            with self._write() as conn:
                if conn is None:
                    return
                row = conn.execute("SELECT hash FROM files WHERE path=?", (relpath,)).fetchone()
                record = extract_file(str(self.root), relpath, row[0] if row else None)
                writer = Writer(conn, fresh=False)
                if record is None:
                    writer.remove(relpath)
                else:
                    writer.apply(record)
                writer.finish()
        except (IndexCorrupt, sqlite3.DatabaseError) as exc:
            self._rebuild_after_damage(exc)

    def _plain_file(self, relpath: str) -> bool:
        """A regular file reached without following a link, as the scan lists them: a path through a linked
        folder may lead out of the project (the guard the edits and the reader use: app/project/guard.py)."""
        from app.project.guard import OutsideProject, real_root, resolve_in_root

        try:
            relative, real = resolve_in_root(real_root(self.root), relpath)
        except OutsideProject:
            return False
        return relative == relpath and real.is_file()

    def remove_file(self, relpath: str) -> None:
        relpath = self._relative(relpath)
        try:
            with self._write() as conn:
                if conn is None:
                    return
                writer = Writer(conn, fresh=False)
                if writer.remove(relpath):
                    writer.finish()
        except (IndexCorrupt, sqlite3.DatabaseError) as exc:
            self._rebuild_after_damage(exc)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection | None]:
        """The connection inside one write transaction, under the cross-process lock; None when nothing is
        stored yet (the next `open(build=True)` indexes everything anyway)."""
        from filelock import FileLock

        self.index_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.index_dir / "lock")), self._lock:
            if self._conn is None:
                try:
                    self._conn = indexdb.open_existing(self.index_dir, str(self.root))
                except IndexCorrupt:
                    discard(self.index_dir)
            conn = self._conn
            if conn is None:
                yield None
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _rebuild_after_damage(self, exc: Exception) -> None:
        if not is_damage(exc):
            raise SymbolIndexError(f"cannot update the symbol index in {self.index_dir}: {exc}") from None
        self.close()
        discard(self.index_dir)
        self.refresh()

    def store_map(self, key: str, text: str) -> None:
        # Never wait for a refresh or build to finish just to cache: a map not cached is only slower.
        if not self._lock.acquire(blocking=False):
            return
        try:
            if self._conn is not None:
                self._conn.execute("INSERT OR REPLACE INTO repomap_cache VALUES (?, ?)", (key, text))
        except sqlite3.DatabaseError:
            pass
        finally:
            self._lock.release()


def _extract_all(root: str, work: list[tuple[str, str | None]]) -> Generator[list[Any], None, None]:
    """Records for the work items, in batches, in order; in two worker processes when there are many."""
    batches = [work[i : i + BATCH] for i in range(0, len(work), BATCH)]
    if len(work) < PARALLEL_THRESHOLD:
        for batch in batches:
            yield extract_batch(root, batch)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: the TUI runs threads, and a forked child of a threaded process can deadlock.
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=WORKERS, mp_context=context)
    # SIGTERM (`timeout`, a service manager) ends a Python process without unwinding: the workers and their
    # semaphores would be left behind. In the main thread it unwinds like Ctrl-C for as long as they run.
    # While a worker is being spawned the signal waits: ending then would close the pipe the new process reads
    # its start-up data from, and it would print a traceback of its own (EOFError) on the user's terminal.
    in_main = threading.current_thread() is threading.main_thread()
    deferred: list[int] = []
    previous = (
        signal.signal(signal.SIGTERM, lambda signum, _frame: deferred.append(signum)) if in_main else None
    )
    try:
        # The workers start (inside map) with SIGINT ignored, which they inherit: Ctrl-C reaches the whole
        # process group, and only this process should act on it (cancel, then let them finish a batch), not
        # each worker with a traceback of its own.
        before = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main else None
        try:
            results = pool.map(extract_batch, [root] * len(batches), batches)
        finally:
            if in_main:
                signal.signal(signal.SIGINT, before if before is not None else signal.SIG_DFL)
                signal.signal(signal.SIGTERM, _exit_on_sigterm)
        if deferred:
            _exit_on_sigterm(deferred[0], None)
        yield from results
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if in_main:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _exit_on_sigterm(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)
