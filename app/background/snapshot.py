"""The per-session background snapshot: last test results, open diagnostics and recent log errors.

It is what the agent knows about the project's health; kept in the session (``Session.save_background``) so a
resumed session shows it again before the services have run anew.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from app.events import BackgroundEvent, Diagnostic, DiagnosticsUpdated, LogError, TestFailure, TestRunFinished

SNAPSHOT_VERSION = 1
MAX_LOG_ERRORS = 50
MAX_ENTRY_CHARS = 4000


class BackgroundState:
    def __init__(self, max_log_errors: int = MAX_LOG_ERRORS) -> None:
        self.last_test: TestRunFinished | None = None
        self.diagnostics: dict[str, list[Diagnostic]] = {}
        self.log_errors: deque[LogError] = deque(maxlen=max_log_errors)
        self.changed = False

    def apply(self, event: BackgroundEvent) -> None:
        """Fold one bus event into the state (the services call this for every event)."""
        if isinstance(event, TestRunFinished):
            self.last_test = event
        elif isinstance(event, DiagnosticsUpdated):
            if event.diagnostics:
                self.diagnostics[event.path] = list(event.diagnostics)
            else:
                self.diagnostics.pop(event.path, None)
        elif isinstance(event, LogError):
            self.log_errors.append(event)
        else:
            return
        self.changed = True

    def to_dict(self) -> dict[str, Any]:
        test = self.last_test
        return {
            "version": SNAPSHOT_VERSION,
            "saved_at": time.time(),
            "tests": None
            if test is None
            else {
                "command": test.command,
                "passed": test.passed,
                "failed": test.failed,
                "errors": test.errors,
                "skipped": test.skipped,
                "exit_code": test.exit_code,
                "duration": test.duration,
                "at": test.at,
                "failures": [f.to_json() for f in test.failures],
            },
            "diagnostics": {
                path: [d.to_json() for d in diagnostics]
                for path, diagnostics in sorted(self.diagnostics.items())
            },
            "log_errors": [
                {"path": e.path, "kind": e.error_kind, "entry": e.entry[:MAX_ENTRY_CHARS], "at": e.at}
                for e in self.log_errors
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> BackgroundState:
        """The state saved by ``to_dict``; an empty or unknown snapshot gives an empty state."""
        state = cls()
        if not data or data.get("version") != SNAPSHOT_VERSION:
            return state
        tests = data.get("tests")
        if isinstance(tests, dict):
            state.last_test = TestRunFinished(
                passed=int(tests.get("passed", 0)),
                failed=int(tests.get("failed", 0)),
                failures=tuple(TestFailure.from_json(f) for f in tests.get("failures", [])),
                command=str(tests.get("command", "")),
                exit_code=tests.get("exit_code"),
                duration=float(tests.get("duration", 0.0)),
                errors=int(tests.get("errors", 0)),
                skipped=int(tests.get("skipped", 0)),
                at=float(tests.get("at", 0.0)),
            )
        for path, diagnostics in (data.get("diagnostics") or {}).items():
            state.diagnostics[path] = [Diagnostic.from_json(d) for d in diagnostics]
        for entry in data.get("log_errors") or []:
            state.log_errors.append(
                LogError(
                    str(entry["path"]), str(entry["entry"]), str(entry["kind"]), at=float(entry.get("at", 0))
                )
            )
        return state

    def events(self) -> list[BackgroundEvent]:
        """The state as events (tests, diagnostics, log errors): what a workspace replays on resume."""
        replay: list[BackgroundEvent] = []
        if self.last_test is not None:
            replay.append(self.last_test)
        for path, diagnostics in sorted(self.diagnostics.items()):
            replay.append(DiagnosticsUpdated(path, None, tuple(diagnostics)))
        replay.extend(self.log_errors)
        return replay

    def summary_lines(self) -> list[str]:
        return [event.summary() for event in self.events()]
