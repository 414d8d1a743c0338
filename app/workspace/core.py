"""``Workspace``: one project and session opened for work, the one orchestrator both faces drive.

The headless commands and the TUI both reach the core through it (see app/workspace/__init__.py for the API).
What it owns, so that each rule is written once:

- the symbol index, opened once (with background services) and handed both to the file watcher, which keeps it
  current as files are saved, and to every build, which then does not open one of its own;
- stage 7, the language-server check of a proposal (app/workspace/proposal_check.py): the running servers of
  its background services when it has them, else (no background services) a short-lived server of its own;
- the tests after an applied change: without background services the suite runs in a scratch copy before and
  after the change (app/workspace/after_change.py); with them the test watcher's runs are compared. Either way
  the verdict is app/workspace/verdict.py's ``judge_runs``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from app.background.bus import DEFAULT_QUEUE_SIZE, EventBus, Subscription
from app.background.services import BackgroundServices
from app.config import Config
from app.events import BackgroundEvent, Decision, DiffReady, Event
from app.workspace.proposal_check import ProposalDiagnostics, RunningServersCheck, proposal_check

if TYPE_CHECKING:
    from app.context.index import SymbolIndex
    from app.edits.records import UndoResult
    from app.edits.undo import UndoPlan
    from app.fix.loop import FixRequest
    from app.fix.testrun import TestOutcome
    from app.session.store import Session
    from app.suggest import SuggestionReport

Decide = Callable[[DiffReady], Awaitable[Decision]]


class Options(TypedDict, total=False):
    """``Workspace``'s keyword options, for ``Workspace.open``."""

    background: bool
    services_options: dict[str, Any] | None


class Workspace:
    """One project root, its config and one session; with ``background`` its background services too.

    ``await Workspace.open(...)`` starts it; ``await ws.close()`` (or ``async with``) ends what it started.
    A workspace made but not started (``Workspace(...)``) still builds and fixes: without its services and
    index, as a build on its own does. ``services_options`` go to ``BackgroundServices`` (``lsp``, ``tests``,
    ``logs``, ``languages``, ...)."""

    def __init__(
        self,
        root: Path,
        config: Config,
        session: Session,
        *,
        background: bool = False,
        services_options: dict[str, Any] | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        self.config = config
        self.session = session
        self.background = background
        self.bus = EventBus()  # made now: a face adds its listener before the services start
        self.services: BackgroundServices | None = None
        self.index: SymbolIndex | None = None
        self._services_options = dict(services_options or {})
        self._check: ProposalDiagnostics | RunningServersCheck | None = None  # the short-lived one
        self._indexed: set[str] = set()
        self._index_changed = asyncio.Event()
        self._started = False

    @classmethod
    async def open(
        cls, root: Path, config: Config, session: Session, **options: Unpack[Options]
    ) -> Workspace:
        """A workspace made (``options`` as ``__init__`` takes them) and started."""
        workspace = cls(root, config, session, **options)
        await workspace.start()
        return workspace

    async def start(self) -> None:
        """With ``background``: open the symbol index (within the build's time budget) and start the services,
        the index handed to their file watcher."""
        if self._started:
            return
        self._started = True
        if not self.background:
            return
        from app.pipeline import preread

        opening = asyncio.ensure_future(asyncio.to_thread(preread.open_index, self.root))
        try:
            self.index = await asyncio.shield(opening)
        except asyncio.CancelledError:
            # Closed (a session switch in the TUI): the index still opening is closed once it is open.
            opening.add_done_callback(_close_when_open)
            raise
        self.services = BackgroundServices(
            self.root,
            self.config,
            self.session,
            bus=self.bus,
            symbol_index=self.index,
            on_indexed=self._note_indexed,
            **self._services_options,
        )
        await self.services.start()

    async def close(self) -> None:
        """Stop the services, end a short-lived language server, close the index."""
        if not self._started:
            return
        self._started = False
        try:
            if self.services is not None:
                await self.services.stop()
        finally:
            check, self._check = self._check, None
            if check is not None:
                with contextlib.suppress(Exception):
                    await check.close()
            index, self.index = self.index, None
            if index is not None:
                await asyncio.to_thread(index.close)

    async def __aenter__(self) -> Workspace:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- the background ----------------------------------------------------------------------------------

    def subscribe(
        self, maxsize: int = DEFAULT_QUEUE_SIZE, kinds: Iterable[type[BackgroundEvent]] | None = None
    ) -> Subscription:
        """The bus's merging subscription (app/background/bus.py): the background services' events."""
        return self.bus.subscribe(maxsize, kinds)

    def _note_indexed(self, changed: list[str], removed: list[str]) -> None:
        self._indexed.update(changed)
        self._indexed.update(removed)
        self._index_changed.set()

    async def index_updated(self, path: str) -> None:
        """Wait until the watcher has handed a change of ``path`` (relative to the root) to the index."""
        while path not in self._indexed:
            self._index_changed.clear()
            await self._index_changed.wait()

    # -- stage 7 -----------------------------------------------------------------------------------------

    def proposal_check(self) -> RunningServersCheck | ProposalDiagnostics | None:
        """The ``BuildRequest.diagnose`` provider of this workspace (None: no check). With background
        services, only once they run."""
        if self.background:
            return proposal_check(self.services, self.root, lsp=False) if self.services is not None else None
        if self._check is None:
            self._check = proposal_check(None, self.root, lsp=self.config.lsp)
        return self._check

    # -- builds and fixes --------------------------------------------------------------------------------

    async def build(
        self,
        goal: str,
        decide: Decide,
        *,
        with_history: bool = False,
        dry_run: bool = False,
        require_edits: bool = False,
        use_git: bool | None = None,
        auto_apply: bool | None = None,
        tests_after: bool | None = None,
    ) -> AsyncIterator[Event]:
        """One build of ``goal`` (app/pipeline/build.py's ``run_build``), its events as they come; ``decide`` answers
        each proposal. ``tests_after`` (default: when there are no background services) runs the tests after
        an applied change and the fix loop when it broke some, ``auto_apply`` deciding a verified fix."""
        from app.pipeline.build import BuildRequest, run_build

        request = BuildRequest(
            root=self.root,
            session=self.session,
            goal=goal,
            config=self.config,
            dry_run=dry_run,
            use_git=self.config.use_git if use_git is None else use_git,
            with_history=with_history,
            index=self.index,
            require_edits=require_edits,
            diagnose=self.proposal_check(),
        )
        events = run_build(request, decide)
        # Without background services no test watcher judges the change: the build runs the tests itself.
        if (not self.background) if tests_after is None else tests_after:
            from app.workspace.after_change import fix_after_build

            events = fix_after_build(events, request, auto_apply=auto_apply)
        async for event in events:
            yield event

    def fix_request(
        self, source: BackgroundEvent, trigger: str | None = None, only: Iterable[str] | None = None
    ) -> FixRequest | None:
        """The fix loop's request for a background event (a failing test run, language-server errors, a log
        error); None for any other event. ``only``: of a test run, the test ids to fix (one feed entry, or what
        a change broke); the run's other failures stay in its baseline, not new if they still fail."""
        from app.events import DiagnosticsUpdated, LogError, TestRunFinished
        from app.fix import triggers

        if isinstance(source, TestRunFinished):
            request = triggers.request_for_test_run(source, self.root, self.session, self.config, only)
        elif isinstance(source, DiagnosticsUpdated):
            request = triggers.request_for_diagnostics(source.errors, self.root, self.session, self.config)
        elif isinstance(source, LogError):
            request = triggers.request_for_log_error(source, self.root, self.session, self.config)
        else:
            return None
        return replace(request, trigger=trigger or request.trigger, use_git=self.config.use_git)

    def tests_fix_request(
        self, *, dry_run: bool = False, auto_apply: bool | None = None, show_only: str | None = None
    ) -> FixRequest:
        """The fix loop's request for the project's failing tests (``ai --fix``): the configured test command
        runs first and its failures are the target. ``auto_apply`` None: the configuration's ``auto_fix``;
        ``show_only``: a verified fix is shown with this line, neither applied nor rejected."""
        from app.fix.loop import FixRequest

        return FixRequest(
            root=self.root,
            session=self.session,
            config=self.config,
            test_cmd=self.config.test_cmd,
            dry_run=dry_run,
            auto_apply=auto_apply,
            use_git=self.config.use_git,
            show_only=show_only,
        )

    async def fix(self, source: FixRequest | BackgroundEvent, decide: Decide) -> AsyncIterator[Event]:
        """The fix loop (app/fix/loop.py's ``run_fix``) for a prepared request or a background event."""
        from app.fix.loop import FixRequest, run_fix

        request = source if isinstance(source, FixRequest) else self.fix_request(source)
        if request is None:
            return
        async for event in run_fix(request, decide):
            yield event

    # -- undo, export, tests -----------------------------------------------------------------------------

    async def undo(self) -> UndoResult | None:
        """Undo the session's last change (app/edits/undo.py); None when there is nothing to undo. Raises the
        edit engine's ``AgentError`` when the undo is refused."""
        return await asyncio.to_thread(self.undo_last_change)

    def undo_last_change(self) -> UndoResult | None:
        """``undo`` for a caller off the event loop: a worker thread, or the command line, whose Ctrl-C must
        interrupt the undo itself, so it runs on the main thread, where signals land (app/commands/ending.py
        then says what the Ctrl-C ended)."""
        from app.edits.undo import undo_change

        return undo_change(self.session, use_git=self.config.use_git)

    def applied_diffs(self) -> dict[str, str]:
        """``/diff``: this session's applied, not-undone changes, one unified diff per file."""
        from app.edits.session_diff import applied_diffs

        return applied_diffs(self.root, self.session)

    def clear_context(self) -> dict[str, Any]:
        """``/clear``: later goals of this session send the model nothing from before now (the session keeps
        every message); returns the stored event."""
        return self.session.clear_context()

    def undo_plan(self) -> UndoPlan | None:
        """What ``undo`` would write now (app/edits/undo.py's ``plan_undo``: the change, its files and reverse
        diffs); None when there is nothing to undo. Writes nothing."""
        from app.edits.undo import plan_undo

        return plan_undo(self.session)

    async def export(self, folder: Path | None = None) -> Path:
        """Write the session's export document (the one of ``ai --export-session``) into ``folder`` (default:
        the agent home's exports/), named after the session and the time; its path."""
        return await asyncio.to_thread(self.write_export, folder)

    def write_export(self, folder: Path | None = None) -> Path:
        """``export`` for a caller already on a worker thread."""
        from app.session.export import write_export

        return write_export(self.session.store, self.session.name, folder=folder)

    def test_command(self) -> str | None:
        """The test command a rerun runs: the test watcher's, else the configured one."""
        tests = self.services.tests if self.services is not None else None
        return tests.command if tests is not None else self.config.test_cmd

    async def rerun_tests(self, reason: str = "requested") -> TestOutcome | None:
        """Run the tests now: through the test watcher when it runs (its events tell the outcome; None here),
        else once in the project (app/fix/testrun.py: timeout and process-group end), its outcome. None too
        when there is no test command."""
        services = self.services
        if services is not None and services.tests is not None:
            services.run_tests(reason)
            return None
        command = self.test_command()
        if not command:
            return None
        from app.fix.testrun import run_tests

        return await run_tests(command, self.root)

    # -- suggestions -------------------------------------------------------------------------------------

    async def suggest(
        self, announce: Callable[[str], None] | None = None, *, own_snapshot: bool = True
    ) -> SuggestionReport:
        """What to improve next (app/suggest), ranked: from the session's background snapshot (with
        ``own_snapshot``; else, and when it has no test results, the project's newest), else the test command
        run once in a scratch copy, ``announce`` told its line before it runs. ``own_snapshot`` False: the
        session is not stored (``ai --suggest --session NEW``), so it is never read."""
        from app.suggest import suggest

        return await suggest(
            self.root,
            session=self.session if own_snapshot else None,
            config=self.config,
            test_cmd=self.config.test_cmd,
            announce=announce,
        )


def _close_when_open(opening: asyncio.Future[SymbolIndex | None]) -> None:
    index = None if opening.cancelled() or opening.exception() is not None else opening.result()
    if index is None:
        return
    # close() waits for the index's refresh thread: not on the event loop.
    threading.Thread(target=index.close, name="index-close", daemon=True).start()
