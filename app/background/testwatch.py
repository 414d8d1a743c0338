"""The test and build watcher: runs the project's test command when files change.

The command is ``Config.test_cmd`` or detected (pytest, npm test, cargo test, go test). Changes are debounced;
a change during a run cancels it (its whole process group is ended) and a new run starts. Running and reading a
run is ``app.fix.testrun`` and ``app.fix.parsers`` (the same code the fix loop uses): counts and failing tests,
published as ``TestRunFinished``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path
from typing import ClassVar

from app.background.bus import EventBus
from app.background.supervisor import ServiceFailed, ServiceUnavailable
from app.events import TestRunFinished, TestRunStarted
from app.fix.parsers import parse_test_output
from app.fix.testrun import detect_test_command, plain_output_env, run_command, runner_missing

__all__ = ["TestWatcher", "detect_test_command", "triggers_tests"]

DEFAULT_DEBOUNCE = 0.8
# Only source and build files start a run: a test suite that writes logs, databases or reports into the tree
# would otherwise start itself again for ever.
TRIGGER_NAMES = frozenset(
    {"Makefile", "Dockerfile", "package.json", "go.mod", "go.sum", "Cargo.toml", "Cargo.lock"}
)
TRIGGER_SUFFIXES = frozenset(
    {
        ".toml",
        ".cfg",
        ".ini",
        ".json",
        ".yaml",
        ".yml",
        ".lock",
        ".mod",
        ".sql",
        ".html",
        ".css",
        ".scss",
        ".vue",
    }
)


def triggers_tests(relpath: str) -> bool:
    """Whether a change to this file should run the tests (source code and build configuration do)."""
    from app.project.languages import server_of

    name = relpath.rsplit("/", 1)[-1]
    suffix = os.path.splitext(name)[1].lower()
    return name in TRIGGER_NAMES or suffix in TRIGGER_SUFFIXES or server_of(name) is not None


class TestWatcher:
    __test__: ClassVar[bool] = False  # not a pytest test class

    def __init__(
        self,
        root: Path,
        bus: EventBus,
        command: str | None = None,
        *,
        debounce: float = DEFAULT_DEBOUNCE,
        run_on_start: bool = True,
        timeout: float = 900.0,
    ) -> None:
        self.root = root.resolve()
        self.bus = bus
        self.command = command or detect_test_command(self.root)
        self.debounce = debounce
        self.run_on_start = run_on_start
        self.timeout = timeout
        self.last_result: TestRunFinished | None = None
        self.runs_started = 0
        self._trigger = asyncio.Event()
        self._reason = ""
        self._last_change = 0.0
        self._current: asyncio.Task[TestRunFinished | None] | None = None

    async def on_files_changed(self, changed: list[str], removed: list[str]) -> None:
        """A watcher sink: schedule a run after the quiet period, cancelling one in progress."""
        names = [name for name in (*changed, *removed) if triggers_tests(name)]
        if not names:
            return
        self._reason = f"{names[0]} changed" if len(names) == 1 else f"{len(names)} files changed"
        self.request_run(self._reason)

    def request_run(self, reason: str = "requested") -> None:
        self._reason = reason
        self._last_change = time.monotonic()
        self._trigger.set()
        if self._current is not None and not self._current.done():
            self._current.cancel()

    async def run(self) -> None:
        """The service loop (run by the supervisor)."""
        if not self.command:
            raise ServiceUnavailable("no test command configured or detected (set test_cmd)")
        if self.run_on_start:
            self.request_run("start")
        try:
            while True:
                await self._trigger.wait()
                # Debounce: wait until no change came for `debounce` seconds.
                while (quiet := time.monotonic() - self._last_change) < self.debounce:
                    await asyncio.sleep(self.debounce - quiet)
                self._trigger.clear()
                self._current = asyncio.create_task(self.run_once(self._reason))
                try:
                    await self._current
                except asyncio.CancelledError:
                    # A run cancelled by a newer change is replaced by the next one (the trigger is set
                    # again); a cancel of this service itself goes on up.
                    me = asyncio.current_task()
                    if me is not None and me.cancelling():
                        raise
        finally:
            if self._current is not None and not self._current.done():
                self._current.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._current

    async def run_once(self, reason: str = "") -> TestRunFinished | None:
        """Run the command once; publish and return its results. Cancelling ends the process group. A runner
        that is not there raises ``ServiceFailed`` (one error status, not a failing run)."""
        assert self.command is not None
        self.runs_started += 1
        self.bus.publish(TestRunStarted(self.command, reason))
        run = await run_command(self.command, self.root, env=plain_output_env(), timeout=self.timeout)
        text = run.output
        if run.timed_out:
            text += f"\nai: the test command was stopped after {self.timeout:.0f} s\n"
        missing = runner_missing(run.exit_code, text, self.command)
        if missing:
            # Not a failing run: the runner is not there. One error status; no run again until it is set up.
            raise ServiceFailed(missing)
        results = parse_test_output(text, self.root)
        failed = results.failed
        if (not results.recognised and run.exit_code != 0) or run.exit_code is None:
            failed = max(failed, 1)  # unparsed output or a run that never ended: one failure
        event = TestRunFinished(
            passed=results.passed,
            failed=failed,
            failures=tuple(results.failures),
            command=self.command,
            exit_code=run.exit_code,
            duration=run.seconds,
            errors=results.errors,
            skipped=results.skipped,
            output_tail="\n".join(text.splitlines()[-40:]),
        )
        self.last_result = event
        self.bus.publish(event)
        return event
