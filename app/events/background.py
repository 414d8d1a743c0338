"""The background services' events (app/background: file watcher, language servers, test watcher, log
tailer): ``app.events`` events like the pipeline's, with the same JSON Lines form, and what the workspace's
event log shows of each: ``summary()`` (one line) and ``level`` ("info", "ok", "warning" or "error")."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import ClassVar

from app.events.base import Event
from app.events.records import Diagnostic, TestFailure


@dataclass(frozen=True)
class BackgroundEvent(Event):
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
