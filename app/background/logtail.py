"""The log tailer: follows log files (paths and globs from ``Config.log_paths``) and reports error entries.

Each file is followed by inode and offset, polled twice a second (a stat per file: cheap, and it works for logs
outside the project and for ignored files, which the watcher skips). A rename-and-recreate rotation is noticed
by the inode: the rest of the old file is read, then the new one from its start. A file shorter than the offset
was truncated: reading starts over. Multi-line entries (Python tracebacks, Java and Go stack traces, indented
continuation lines) are grouped into one entry before they are classified.
"""

from __future__ import annotations

import asyncio
import glob
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from app.background.bus import EventBus
from app.events import LogError

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.5
GLOB_EVERY = 4  # polls between re-expanding the globs (new files appear)
READ_LIMIT = 1_000_000  # bytes per file per poll: a flood is read over several polls
MAX_ENTRY_LINES = 300

_NEW_RECORD = re.compile(
    r"^(?:\d{4}-\d\d-\d\d|\[?\d\d:\d\d:\d\d|\[\d{4}-|(?:TRACE|DEBUG|INFO|WARN|WARNING|ERROR|CRITICAL|FATAL)\b)"
)
_CHAIN = ("During handling of the above exception", "The above exception was the direct cause", "Caused by:")
_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("traceback", re.compile(r"^Traceback \(most recent call last\):", re.M)),
    ("panic", re.compile(r"^panic: |panicked at ", re.M)),
    ("fatal", re.compile(r"\b(?:FATAL|CRITICAL)\b|\bfatal error\b|\bFatal:")),
    ("error", re.compile(r"\bERROR\b|\b[Ee]rror(?::|\])|\blevel=error\b|\[error\]")),
    ("exception", re.compile(r"\b[\w.]*(?:Exception|Error)\b(?::|\s*$)|^Exception in thread", re.M)),
)


def classify_entry(entry: str) -> str | None:
    """The kind of error an entry reports, or None for an ordinary line."""
    for kind, pattern in _KINDS:
        if pattern.search(entry):
            return kind
    return None


class EntryGrouper:
    """Turns lines into entries: a line that starts a new record ends the entry before it."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._expect_exception_line = (
            False  # inside a traceback: its closing "XError: ..." line belongs to it
        )
        self._absorbing = False  # inside a Go panic: everything up to the next record belongs to it

    def feed(self, line: str) -> str | None:
        """Add one line; returns an entry that is now complete, if any."""
        if self._continues(line):
            if len(self.lines) < MAX_ENTRY_LINES:
                self.lines.append(line)
            return None
        finished = self.flush()
        self.lines = [line]
        self._note(line)
        return finished

    def _continues(self, line: str) -> bool:
        if not self.lines:
            return False
        stripped = line.strip()
        if line.startswith("Traceback (most recent call last):"):
            self._expect_exception_line = True
            return True
        if not stripped:
            return self._expect_exception_line or self._absorbing or self._in_traceback()
        if line[0] in " \t" or stripped.startswith(_CHAIN):
            return True
        if self._expect_exception_line:
            self._expect_exception_line = False
            return True
        if self._absorbing:
            return not _NEW_RECORD.match(line)
        return False

    def _in_traceback(self) -> bool:
        return any(line.startswith("Traceback (most recent call last):") for line in self.lines[-200:])

    def _note(self, line: str) -> None:
        self._expect_exception_line = line.startswith("Traceback (most recent call last):")
        self._absorbing = line.startswith("panic: ")

    def flush(self) -> str | None:
        lines = self.lines
        while lines and not lines[-1].strip():
            lines.pop()
        self.lines = []
        self._expect_exception_line = self._absorbing = False
        return "\n".join(lines) if lines else None


@dataclass
class _Followed:
    path: str
    handle: BinaryIO | None = None
    inode: int = -1
    offset: int = 0
    partial: bytes = b""
    idle_polls: int = 0
    grouper: EntryGrouper = field(default_factory=EntryGrouper)

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


class LogTailer:
    def __init__(
        self,
        root: Path,
        bus: EventBus,
        patterns: Sequence[str],
        *,
        poll_interval: float = POLL_INTERVAL,
        from_start: bool = False,
    ) -> None:
        self.root = root.resolve()
        self.bus = bus
        self.patterns = list(patterns)
        self.poll_interval = poll_interval
        self.from_start = from_start
        self._files: dict[str, _Followed] = {}
        self._polls = 0
        self._started = False

    def follows(self, relpath: str) -> bool:
        """Whether this project file is one of the followed logs."""
        return str(self.root / relpath) in self._files

    def expand(self) -> list[str]:
        found: set[str] = set()
        for pattern in self.patterns:
            full = pattern if os.path.isabs(pattern) else str(self.root / pattern)
            found.update(p for p in glob.glob(os.path.expanduser(full), recursive=True) if os.path.isfile(p))
        return sorted(found)

    async def run(self) -> None:
        try:
            while True:
                self.poll_once()
                await asyncio.sleep(self.poll_interval)
        finally:
            self.close()

    def close(self) -> None:
        """Close every followed file (the service loop does it when it ends)."""
        for followed in self._files.values():
            followed.close()
        self._files.clear()
        self._started = False

    def poll_once(self) -> list[LogError]:
        """Read what was appended since the last poll; publish and return the error entries found."""
        if not self._started or self._polls % GLOB_EVERY == 0:
            for path in self.expand():
                if path not in self._files:
                    # Files there when we start are followed from their end; later ones from their start.
                    self._files[path] = self._open(path, at_end=not self._started and not self.from_start)
        self._started = True
        self._polls += 1
        errors: list[LogError] = []
        for followed in self._files.values():
            errors.extend(self._report(followed, self._read(followed)))
        return errors

    def _open(self, path: str, *, at_end: bool) -> _Followed:
        followed = _Followed(path)
        try:
            handle = open(path, "rb")  # noqa: SIM115 - kept open across polls to survive a rename
        except OSError:
            return followed
        stat = os.fstat(handle.fileno())
        followed.handle, followed.inode = handle, stat.st_ino
        followed.offset = stat.st_size if at_end else 0
        handle.seek(followed.offset)
        return followed

    def _read(self, followed: _Followed) -> Iterable[str]:
        chunks: list[bytes] = []
        try:
            stat = os.stat(followed.path)
        except OSError:
            stat = None
        if followed.handle is None:
            if stat is None:
                return []
            fresh = self._open(followed.path, at_end=False)
            followed.handle, followed.inode, followed.offset = fresh.handle, fresh.inode, 0
        assert followed.handle is not None
        if stat is not None and stat.st_ino != followed.inode:
            # Rotated: finish the old file (still open), then start the new one from its beginning.
            chunks.append(followed.handle.read(READ_LIMIT))
            followed.close()
            fresh = self._open(followed.path, at_end=False)
            followed.handle, followed.inode, followed.offset = fresh.handle, fresh.inode, 0
        elif stat is not None and stat.st_size < followed.offset:
            # Truncated in place: start over, and forget a half line from before.
            followed.handle.seek(0)
            followed.offset = 0
            followed.partial = b""
        if followed.handle is not None:
            data = followed.handle.read(READ_LIMIT)
            followed.offset += len(data)
            chunks.append(data)
        data = followed.partial + b"".join(chunks)
        if not data:
            followed.idle_polls += 1
            return []
        followed.idle_polls = 0
        *complete, followed.partial = data.split(b"\n")
        return [line.decode("utf-8", errors="replace").rstrip("\r") for line in complete]

    def _report(self, followed: _Followed, lines: Iterable[str]) -> list[LogError]:
        entries = [entry for line in lines if (entry := followed.grouper.feed(line)) is not None]
        # An entry is complete once its file has been quiet for a poll (a traceback arrives in pieces).
        if followed.idle_polls >= 1 and (entry := followed.grouper.flush()) is not None:
            entries.append(entry)
        errors = []
        for entry in entries:
            kind = classify_entry(entry)
            if kind is None:
                continue
            event = LogError(self._display(followed.path), entry, kind)
            self.bus.publish(event)
            errors.append(event)
        return errors

    def _display(self, path: str) -> str:
        try:
            return Path(path).resolve().relative_to(self.root).as_posix()
        except ValueError:
            return path
