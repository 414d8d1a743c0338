"""The background event bus: typed events, async subscribers with bounded queues, plain callbacks.

Publishing never blocks and never fails: a slow async subscriber has its queue coalesced (file events merge
into the pending one) and, past its bound, loses its oldest events (counted in ``Subscription.dropped``);
a callback that raises is logged and kept.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

log = logging.getLogger(__name__)

DEFAULT_QUEUE_SIZE = 512
HISTORY_SIZE = 200


class TestFailure(NamedTuple):
    """One failing test: its id (``tests/test_x.py::test_y``), the file and line where it failed, why."""

    test_id: str
    file: str
    line: int
    message: str


TestFailure.__test__ = False  # type: ignore[attr-defined]  # not a pytest test class


@dataclass(frozen=True)
class Diagnostic:
    """One language-server diagnostic; lines and columns are 1-based, ``path`` relative to the project."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    severity: str  # "error", "warning", "information" or "hint"
    message: str
    source: str = ""
    code: str = ""

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Diagnostic:
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data})

    def summary(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class BackgroundEvent:
    """Base of every background event. ``at`` is the wall-clock time it was made (``time.time()``)."""

    kind: ClassVar[str] = "background"
    at: float = field(default_factory=time.time, kw_only=True)

    def summary(self) -> str:
        """One line for the workspace's event log."""
        return self.kind

    @property
    def level(self) -> str:
        """How the event log shows it: "info", "ok", "warning" or "error"."""
        return "info"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"event": self.kind}
        for f in dataclasses.fields(self):
            data[f.name] = _jsonable(getattr(self, f.name))
        return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, Diagnostic):
        return value.to_json()
    if isinstance(value, TestFailure):
        return value._asdict()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class FileChanged(BackgroundEvent):
    """Files added or modified (``paths``) and removed (``removed``), relative to the project root, sorted."""

    kind: ClassVar[str] = "file_changed"
    paths: tuple[str, ...]
    removed: tuple[str, ...] = ()

    def summary(self) -> str:
        names = [*self.paths, *self.removed]
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        return f"{shown} changed" if not self.removed else f"{shown} changed or removed"

    def merged(self, other: FileChanged) -> FileChanged:
        removed = set(self.removed) | set(other.removed)
        paths = (set(self.paths) - set(other.removed)) | set(other.paths)
        removed -= set(other.paths)
        return FileChanged(tuple(sorted(paths)), tuple(sorted(removed)), at=other.at)


@dataclass(frozen=True)
class DiagnosticsUpdated(BackgroundEvent):
    """The current diagnostics of one document, for document ``version`` (older versions are never sent)."""

    kind: ClassVar[str] = "diagnostics_updated"
    path: str
    version: int | None
    diagnostics: tuple[Diagnostic, ...]
    server: str = ""

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")

    @property
    def level(self) -> str:
        if self.errors:
            return "error"
        return "warning" if any(d.severity == "warning" for d in self.diagnostics) else "ok"

    def summary(self) -> str:
        errors = len(self.errors)
        warnings = len(self.diagnostics) - errors
        if not self.diagnostics:
            return f"{self.server or 'lsp'}: {self.path} clean"
        first = (self.errors or self.diagnostics)[0]
        return f"{self.server or 'lsp'}: {errors} error(s), {warnings} other · {first.path}:{first.line} {first.message}"


@dataclass(frozen=True)
class TestRunStarted(BackgroundEvent):
    __test__: ClassVar[bool] = False  # not a pytest test class
    kind: ClassVar[str] = "test_run_started"
    command: str
    reason: str = ""

    def summary(self) -> str:
        return f"tests running: {self.command}" + (f" ({self.reason})" if self.reason else "")


@dataclass(frozen=True)
class TestRunFinished(BackgroundEvent):
    """A finished run. ``failures`` lists failing tests with file, line and message when the output says so."""

    __test__: ClassVar[bool] = False  # not a pytest test class

    kind: ClassVar[str] = "test_run_finished"
    passed: int
    failed: int
    failures: tuple[TestFailure, ...] = ()
    command: str = ""
    exit_code: int | None = None
    duration: float = 0.0
    errors: int = 0
    skipped: int = 0
    output_tail: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.failed == 0 and self.errors == 0

    @property
    def level(self) -> str:
        return "ok" if self.ok else "error"

    def summary(self) -> str:
        text = f"tests {self.passed} passed, {self.failed} failed"
        if self.errors:
            text += f", {self.errors} errors"
        if self.failures:
            first = self.failures[0]
            text += f" · {first.test_id} ({first.file}:{first.line}) {first.message}"
        elif not self.ok and not self.failed and self.exit_code not in (0, None):
            text += f" · exit status {self.exit_code}"
        return text


@dataclass(frozen=True)
class LogError(BackgroundEvent):
    """An error entry in a log file; ``entry`` is the whole (possibly multi-line) entry."""

    kind: ClassVar[str] = "log_error"
    path: str
    entry: str
    error_kind: str  # "traceback", "panic", "fatal", "exception" or "error"

    @property
    def level(self) -> str:
        return "error"

    def summary(self) -> str:
        lines = [line for line in self.entry.splitlines() if line.strip()]
        # For a traceback the last line says what went wrong; otherwise the first line does.
        line = lines[-1] if self.error_kind == "traceback" and lines else (lines[0] if lines else "")
        return f"{self.path}: {self.error_kind}: {line.strip()[:200]}"


@dataclass(frozen=True)
class ServiceStatus(BackgroundEvent):
    """A service's state: starting, running, restarting, failed, skipped or stopped."""

    kind: ClassVar[str] = "service_status"
    name: str
    state: str
    message: str = ""

    @property
    def level(self) -> str:
        return {"failed": "error", "crashed": "warning", "skipped": "warning", "running": "ok"}.get(
            self.state, "info"
        )

    def summary(self) -> str:
        return f"{self.name}: {self.state}" + (f" · {self.message}" if self.message else "")


Listener = Callable[[BackgroundEvent], None]


class Subscription:
    """An async iterator over the events published after it was made. ``close()`` ends it."""

    def __init__(self, bus: EventBus, maxsize: int, kinds: tuple[type[BackgroundEvent], ...] | None) -> None:
        self._bus = bus
        self._maxsize = max(1, maxsize)
        self._kinds = kinds
        self._pending: deque[BackgroundEvent] = deque()
        self._wakeup = asyncio.Event()
        self._closed = False
        self.dropped = 0

    def _offer(self, event: BackgroundEvent) -> None:
        if self._closed or (self._kinds is not None and not isinstance(event, self._kinds)):
            return
        if isinstance(event, FileChanged):
            # Merge into a pending file event: a burst of saves is one event to a slow reader.
            for index in range(len(self._pending) - 1, -1, -1):
                pending = self._pending[index]
                if isinstance(pending, FileChanged):
                    del self._pending[index]
                    self._pending.append(pending.merged(event))
                    self._wakeup.set()
                    return
        if len(self._pending) >= self._maxsize:
            self._pending.popleft()
            self.dropped += 1
        self._pending.append(event)
        self._wakeup.set()

    def pending(self) -> int:
        return len(self._pending)

    def close(self) -> None:
        self._closed = True
        self._bus._unsubscribe(self)
        self._wakeup.set()

    async def get(self) -> BackgroundEvent:
        """The next event; raises ``StopAsyncIteration`` once closed and drained."""
        while not self._pending:
            if self._closed:
                raise StopAsyncIteration
            self._wakeup.clear()
            await self._wakeup.wait()
        return self._pending.popleft()

    def __aiter__(self) -> AsyncIterator[BackgroundEvent]:
        return self

    async def __anext__(self) -> BackgroundEvent:
        return await self.get()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class EventBus:
    """One bus per set of background services. Use from the event loop's thread; other threads call
    ``publish_threadsafe``."""

    def __init__(self, history_size: int = HISTORY_SIZE) -> None:
        self._subscriptions: list[Subscription] = []
        self._listeners: list[Listener] = []
        self.history: deque[BackgroundEvent] = deque(maxlen=history_size)
        self._loop: asyncio.AbstractEventLoop | None = None

    def subscribe(
        self, maxsize: int = DEFAULT_QUEUE_SIZE, kinds: Iterable[type[BackgroundEvent]] | None = None
    ) -> Subscription:
        """An async iterator of future events (optionally only of the given classes)."""
        self._remember_loop()
        subscription = Subscription(self, maxsize, tuple(kinds) if kinds is not None else None)
        self._subscriptions.append(subscription)
        return subscription

    def add_listener(self, callback: Listener) -> Callable[[], None]:
        """Call ``callback(event)`` synchronously for each event; returns the function that removes it.
        The callback must be quick (a TUI posts a message from it)."""
        self._listeners.append(callback)

        def remove() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return remove

    def publish(self, event: BackgroundEvent) -> None:
        self._remember_loop()
        self.history.append(event)
        for subscription in list(self._subscriptions):
            subscription._offer(event)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must not stop the services
                log.exception("background event listener failed")

    def publish_threadsafe(self, event: BackgroundEvent) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            self.publish(event)
        else:
            loop.call_soon_threadsafe(self.publish, event)

    def _remember_loop(self) -> None:
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            pass

    def _unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)
