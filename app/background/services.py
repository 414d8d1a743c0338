"""``BackgroundServices``: the supervised set of background services of one project and session.

What each service runs, and whether it may run before the user trusted the project (app/trust.py): a cloned
repository must not run its code just by being opened.

- file watcher: ``watchfiles`` in-process, and ``git check-ignore`` (git itself, not the project's code): always.
- symbol index: tree-sitter in-process, reading files: always.
- log tailer: reads the files of ``log_paths`` (a setting that itself needs the config's trust): always.
- language servers: those that only read files (basedpyright, without the project's interpreter; clangd)
  always; those that run the project's code wait for the trust (app/background/lsp_launch.py, ``needs_trust``).
- test watcher: every test command runs the project's code (pytest its conftest.py and its .venv's Python,
  npm test its package.json scripts, cargo test its build scripts, go test its tests): it starts only once the
  project is trusted, and says so in one line until then. ``project_trusted()`` starts it without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from app.background.bus import EventBus
from app.background.logtail import LogTailer
from app.background.lsp_launch import main_languages
from app.background.lsp_servers import LanguageServers
from app.background.snapshot import BackgroundState
from app.background.supervisor import Supervisor
from app.background.testwatch import TestWatcher
from app.background.watcher import ChangeSink, FileWatcher
from app.config import Config
from app.events import BackgroundEvent, Diagnostic, ServiceStatus, TestRunFinished
from app.fix.testrun import shown_command

log = logging.getLogger(__name__)

SAVE_INTERVAL = 5.0  # seconds between snapshot writes while things change


class SymbolIndexLike(Protocol):
    def update_file(self, relpath: str) -> Any: ...
    def remove_file(self, relpath: str) -> Any: ...


class SessionLike(Protocol):
    def background(self) -> dict[str, Any]: ...
    def save_background(self, snapshot: dict[str, Any]) -> None: ...


class BackgroundServices:
    """File watcher, language servers, test watcher and log tailer, each supervised, all on one bus.

    ``lsp``, ``tests`` and ``logs`` override the configuration (``Config.lsp``, ``Config.watch_tests``,
    ``Config.log_paths``); ``languages`` names the language servers to start at once (default: the project's
    main languages; any other starts when a file of its language changes or is diagnosed).
    ``symbol_index`` is kept current by the file watcher; ``on_indexed(changed, removed)`` is called on the
    services' loop after each batch reached it.
    """

    def __init__(
        self,
        root: Path,
        config: Config | None = None,
        session: SessionLike | None = None,
        *,
        bus: EventBus | None = None,
        symbol_index: SymbolIndexLike | None = None,
        lsp: bool | None = None,
        tests: bool | None = None,
        logs: bool | None = None,
        run_tests_on_start: bool = True,
        languages: list[str] | None = None,
        extra_sinks: list[ChangeSink] | None = None,
        on_indexed: Callable[[list[str], list[str]], None] | None = None,
        tell_untrusted: bool = True,
    ) -> None:
        self.root = root.resolve()
        # False: the face says the untrusted-config note itself (the workspace, once per open, services or not).
        self._tell_untrusted_on = tell_untrusted
        self.config = config or Config()
        self.session = session
        self.bus = bus or EventBus()
        self.supervisor = Supervisor(self.bus)
        self.state = BackgroundState()
        self.previous_snapshot: dict[str, Any] = {}
        self._languages = languages
        self._lsp_on = self.config.lsp if lsp is None else lsp
        self._tests_on = self.config.watch_tests if tests is None else tests
        self._logs_on = bool(self.config.log_paths) if logs is None else logs
        from app.trust import project_trusted

        # What the user said about running this project's code, read once: trusting later goes through
        # project_trusted() (the workspace's question, its palette command).
        self.trusted = project_trusted(self.root)
        self.lsp = (
            LanguageServers(self.root, self.bus, self._add_language_server, trusted=self.trusted)
            if self._lsp_on
            else None
        )
        self.tests = (
            TestWatcher(
                self.root,
                self.bus,
                self.config.test_cmd,
                debounce=self.config.test_debounce_ms / 1000,
                run_on_start=run_tests_on_start,
            )
            if self._tests_on
            else None
        )
        self.logs = LogTailer(self.root, self.bus, self.config.log_paths) if self._logs_on else None
        # The quick consumers first; the index parses in a thread and goes last.
        sinks: list[ChangeSink] = []
        if self.lsp is not None:
            sinks.append(self.lsp.on_files_changed)
        if self.tests is not None:
            sinks.append(self.tests.on_files_changed)
        if symbol_index is not None:
            sinks.append(index_sink(symbol_index, on_indexed))
        sinks.extend(extra_sinks or [])
        self.watcher = FileWatcher(
            self.root,
            self.bus,
            sinks,
            step_ms=self.config.watch_step_ms,
            exclude=self.logs.follows if self.logs is not None else None,
        )
        self._remove_listener: Callable[[], None] | None = None
        self._saver: asyncio.Task[None] | None = None
        self._started = False
        self._tests_added = False
        self.loop: asyncio.AbstractEventLoop | None = None

    def _add_language_server(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        self.supervisor.add(name, run, reports_running=True)

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.loop = asyncio.get_running_loop()
        if self.session is not None:
            self.previous_snapshot = await asyncio.to_thread(self.session.background)
            self.state = BackgroundState.from_dict(self.previous_snapshot)
        self._remove_listener = self.bus.add_listener(self.state.apply)
        self.supervisor.add("watcher", self.watcher.run, on_stop=self.watcher.request_stop)
        if self.tests is not None:
            if self.trusted or not self.tests.command:
                self._add_tests()  # nothing to run is said by the watcher itself, trusted or not
            else:
                self.bus.publish(ServiceStatus("tests", "skipped", self._tests_wait_for_trust()))
        if self.logs is not None:
            self.supervisor.add("logs", self.logs.run)
        if self.lsp is not None:
            languages = self._languages
            if languages is None:
                languages = await asyncio.to_thread(main_languages, self.root)
            self.lsp.start_detected(languages)
        else:
            self.bus.publish(ServiceStatus("lsp", "skipped", "language servers are off (lsp = false)"))
        if self._tell_untrusted_on:
            self._tell_untrusted()
        await self.supervisor.start()
        if self.session is not None:
            self._saver = asyncio.create_task(self._save_periodically(), name="bg:snapshot")

    def _add_tests(self) -> None:
        if self.tests is not None and not self._tests_added:
            self._tests_added = True
            self.supervisor.add("tests", self.tests.run)

    def _tests_wait_for_trust(self) -> str:
        from app.trust import HOW_TO_TRUST_PROJECT

        return (
            f"tests don't run in the background until you trust this project (they would run "
            f"`{shown_command((self.tests.command if self.tests else None) or '', self.root)}`): "
            f"{HOW_TO_TRUST_PROJECT}"
        )

    def waiting_for_trust(self) -> list[str]:
        """What of the project's code would run in the background once it is trusted, one line each (the
        workspace's question shows them); [] when trusted or when nothing would run."""
        if self.trusted:
            return []
        waiting = []
        if self.tests is not None and self.tests.command:
            waiting.append(
                f"the test watcher runs `{shown_command(self.tests.command, self.root)}` when files change"
            )
        if self.lsp is not None:
            waiting.extend(self.lsp.waiting_for_trust())
        return waiting

    def project_trusted(self) -> None:
        """The user trusted the project (the caller recorded it): the test watcher and the language servers
        that waited start now, in this run."""
        if self.trusted:
            return
        self.trusted = True
        if self.lsp is not None:
            self.lsp.project_trusted()
        if self._started:
            self._add_tests()
        self.bus.publish(
            ServiceStatus("trust", "running", "project trusted: its tests and language servers run")
        )

    def _tell_untrusted(self) -> None:
        """An untrusted project config's test_cmd (log_paths, ...) was left out by load_config: the test
        watcher runs the detected command instead. Say so, once, in the event log."""
        from app.trust import untrusted_note

        note = untrusted_note(self.config)
        if note is not None:
            self.bus.publish(ServiceStatus("config", "skipped", note))

    async def stop(self) -> None:
        """Stop every service (child processes ended, files closed) and save the snapshot."""
        if not self._started:
            return
        self._started = False
        if self._saver is not None:
            self._saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._saver
            self._saver = None
        await self.supervisor.stop()
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None
        await self.save_snapshot()

    async def __aenter__(self) -> BackgroundServices:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- what the workspace and the pipeline use ---------------------------------------------------------

    async def diagnose_text(self, path: str, text: str, timeout: float = 20.0) -> list[Diagnostic]:
        """Diagnostics of ``text`` as the would-be content of ``path`` (relative to the root or absolute),
        before it touches the disk; [] when no language server handles the file."""
        if self.lsp is None:
            return []
        return await self.lsp.diagnose_text(self._relative(path), text, timeout)

    def diagnose_text_from_thread(
        self, path: str, text: str, timeout: float = 20.0, *, only_new: bool = False
    ) -> list[Diagnostic]:
        """``diagnose_text`` (or ``new_diagnostics`` with ``only_new``) for code running in another thread
        than the services' event loop, such as a pipeline worker thread; blocks until the answer."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return []
        if _running_loop() is loop:
            raise RuntimeError(
                "diagnose_text_from_thread called on the services' own loop: await diagnose_text"
            )
        work = (
            self.new_diagnostics(path, text, timeout) if only_new else self.diagnose_text(path, text, timeout)
        )
        future = asyncio.run_coroutine_threadsafe(work, loop)
        try:
            return future.result(timeout + 5)
        except TimeoutError:
            future.cancel()
            return []

    async def new_diagnostics(self, path: str, text: str, timeout: float = 20.0) -> list[Diagnostic]:
        """The diagnostics ``text`` would add to ``path`` compared with its current content: what the diff
        preview shows as new errors."""
        if self.lsp is None:
            return []
        return await self.lsp.new_diagnostics(self._relative(path), text, timeout)

    def run_tests(self, reason: str = "requested") -> None:
        """Run the tests now (cancelling a run in progress)."""
        if self.tests is not None:
            self.tests.request_run(reason)

    @property
    def last_test_result(self) -> TestRunFinished | None:
        return self.state.last_test

    def open_diagnostics(self) -> dict[str, list[Diagnostic]]:
        return dict(self.state.diagnostics)

    def snapshot(self) -> dict[str, Any]:
        return self.state.to_dict()

    def restored_events(self) -> list[BackgroundEvent]:
        """What the session's saved snapshot held at start, as events for the event log."""
        return BackgroundState.from_dict(self.previous_snapshot).events()

    async def save_snapshot(self) -> None:
        if self.session is None:
            return
        snapshot = self.state.to_dict()
        self.state.changed = False
        try:
            await asyncio.to_thread(self.session.save_background, snapshot)
        except Exception as exc:  # a store problem must not stop the services; say it once in the feed
            self.bus.publish(
                ServiceStatus("snapshot", "failed", f"could not save the background state: {exc}")
            )

    async def _save_periodically(self) -> None:
        while True:
            await asyncio.sleep(SAVE_INTERVAL)
            if self.state.changed:
                await self.save_snapshot()

    def _relative(self, path: str) -> str:
        candidate = Path(path)
        if candidate.is_absolute():
            with contextlib.suppress(ValueError):
                return candidate.resolve().relative_to(self.root).as_posix()
        return candidate.as_posix()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def index_sink(
    index: SymbolIndexLike, then: Callable[[list[str], list[str]], None] | None = None
) -> Callable[[list[str], list[str]], Awaitable[None]]:
    """A watcher sink that keeps the symbol index current (parsing runs in a worker thread); ``then`` is told
    of each batch once the index has it."""

    async def update(changed: list[str], removed: list[str]) -> None:
        def work() -> None:
            for relpath in changed:
                index.update_file(relpath)
            for relpath in removed:
                index.remove_file(relpath)

        await asyncio.to_thread(work)
        if then is not None:
            then(changed, removed)

    return update
