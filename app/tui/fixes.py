"""The workspace's self-correction: the live error feed's one-key fixes, the fix proposed when tests fail after
an applied change, and the suggestions. The base class of ``MainScreen`` (one concern per file).

Every fix runs through app/fix's ``run_fix`` in the current session, on the same worker thread as a build
(``BuildBridge``); a verified fix is offered through the approval modal with its diff and test evidence, and is
applied only on approval unless ``auto_fix`` is on in the config (the fix loop decides that itself).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from textual import work

from app.tui.sessions import SessionScreen

if TYPE_CHECKING:
    from app.events import Event
    from app.tui.build_bridge import Run
    from app.workspace import Workspace

ATTEMPT_WORDS = {
    "started": "started",
    "no_edit": "no edit proposed",
    "invalid": "the edit could not be applied",
    "still_failing": "still failing",
    "new_failures": "broke other tests",
    "verified": "verified",
}


def fixable(event: Any) -> bool:
    """A background event a fix can start from: a failing test run, language-server errors, a log error."""
    from app.events import DiagnosticsUpdated, LogError, TestRunFinished

    if isinstance(event, TestRunFinished):
        return not event.ok
    if isinstance(event, DiagnosticsUpdated):
        return bool(event.errors)
    return isinstance(event, LogError)


class FixingScreen(SessionScreen):
    """Error feed, fix runs and suggestions; ``MainScreen`` supplies ``begin_run`` (the build's machinery)."""

    def __init__(self) -> None:
        super().__init__()
        # The verified fix's test evidence, shown in the approval modal (empty for a build's proposal).
        # keep_diff: the diff pane holds something to keep after the run ends (a failed fix's closest attempt).
        self.keep_diff = False
        self.fix_evidence: tuple[str, ...] = ()
        # The change a build is applying, from the user's decision on, until the test watcher's run after it is
        # judged. The pipeline writes the files before it records and commits the change and says "applied", so
        # the watcher can start that run, and even finish it, before Applied arrives: runs are matched to the
        # change by when they started, not by the order their messages come in.
        self._applying_since: float | None = None
        self._applied_change: str | None = None
        self._run_started_at: float | None = None
        self._run_before_applied: Any = None
        self._tests_ok: bool | None = None
        self._failing: set[str] = set()
        # A fix asked for while a build ran: started when it ends.
        self._queued_fix: tuple[Any, str | None] | None = None

    async def begin_run(self, run: Run, fixing: bool = False) -> None:
        raise NotImplementedError

    def current_workspace(self) -> Workspace:
        raise NotImplementedError

    # -- the feed ----------------------------------------------------------------------------------------------

    def feed_background_event(self, event: Any) -> None:
        """One background event in the feed (errors selectable), and the after-apply trigger."""
        from app.events import TestRunFinished, TestRunStarted

        self.events.add(event.summary(), event.level, event if fixable(event) else None)
        if isinstance(event, TestRunStarted):
            self._run_started_at = event.at
        elif isinstance(event, TestRunFinished):
            self._after_test_run(event)

    def expect_apply(self) -> None:
        """The user decided to apply a build's proposal: a test run that starts from now on sees its files."""
        # The same clock as the background events' ``at`` (time.time): compared with TestRunStarted.at.
        self._applying_since = time.time()
        self._applied_change = None
        self._run_before_applied = None

    def remember_applied(self, change_id: str) -> None:
        """A build applied ``change_id``: the test watcher's run after it tells whether it broke tests."""
        self._applied_change = change_id
        held, self._run_before_applied = self._run_before_applied, None
        # A run that started after the held one ended is the newer evidence: its end is judged instead.
        newer = held is not None and self._run_started_at is not None and self._run_started_at > held.at
        if held is not None and not newer:
            self._judge_test_run(held, after_apply=True)

    def forget_unapplied(self) -> None:
        """The build ended: if it applied nothing (rejected, refused, stopped), no run is waited for."""
        if self._applied_change is None:
            self._applying_since = None
            self._run_before_applied = None

    def _after_test_run(self, event: Any) -> None:
        started, since = self._run_started_at, self._applying_since
        after_apply = since is not None and started is not None and started >= since
        if after_apply and self._applied_change is None:
            self._run_before_applied = event  # judged when Applied arrives (the newest such run)
            return
        self._judge_test_run(event, after_apply)

    def _judge_test_run(self, event: Any, after_apply: bool) -> None:
        from app.workspace.verdict import judge_runs, watcher_failing_ids

        failing = watcher_failing_ids(event)
        was_ok, failing_before = self._tests_ok, self._failing
        self._tests_ok, self._failing = event.ok, failing
        change = self._applied_change
        if change is None or not after_apply:
            return
        self._applied_change = self._applying_since = None
        # Only failures the change brought: a suite that failed the same way before is not its doing
        # (app/workspace/verdict.py, the rule of both faces).
        if not judge_runs(None if was_ok is None else failing_before, failing).broke_tests:
            return
        self.events.add(
            f"tests fail after change {change}: asking the fix loop for a verified fix", "warning"
        )
        self.request_fix(event, f"after change {change}")

    def on_event_log_fix_wanted(self, message: Any) -> None:
        self.request_fix(message.payload)

    def action_errors(self) -> None:
        """Focus the error feed on its newest error (f then fixes it)."""
        if self.events.select_latest():
            self.events.focus()
        else:
            self.notify(
                "no errors in the feed: failing tests, language-server errors and log errors show there"
            )

    def fix_newest_error(self) -> None:
        lines = self.events.fixable
        if not lines:
            self.notify("no errors in the feed to fix")
            return
        self.request_fix(lines[-1].payload)

    # -- fix runs ----------------------------------------------------------------------------------------------

    def request_fix(self, error: Any, trigger: str | None = None) -> None:
        if self.busy:
            self._queued_fix = (error, trigger)
            self.events.add("the fix starts when the running build ends")
            return
        if not self.app.config.has_model:
            self.notify("no model is configured: a fix needs one (see the conversation)", severity="error")
            return
        self.run_worker(self.start_fix(error, trigger), group="fix-start", exclusive=True)

    def start_queued_fix(self) -> None:
        queued, self._queued_fix = self._queued_fix, None
        if queued is not None:
            self.request_fix(*queued)

    async def start_fix(self, error: Any, trigger: str | None = None) -> None:
        workspace = self.current_workspace()
        request = workspace.fix_request(error, trigger)
        if request is None:
            return
        first = request.errors[0].summary() if request.errors else error.summary()
        await self.chat.add_message("user", f"fix: {first}")
        await self.begin_run(lambda decide: workspace.fix(request, decide), fixing=True)

    async def show_fix_event(self, event: Event) -> bool:
        """The fix loop's own events in the feed and the conversation; False for any other event."""
        from app.events import FixAttempt, FixStarted, FixSummary, FixVerified, TestsRun

        chat, events = self.chat, self.events
        if isinstance(event, FixStarted):
            self.fix_evidence = ()
            trigger = f" ({event.trigger})" if event.trigger else ""
            events.add(f"fix loop{trigger}: {len(event.errors)} error(s), up to {event.attempts} attempts")
            await chat.add_note(f"fixing{trigger}: {'; '.join(event.errors[:3])}", "files")
        elif isinstance(event, TestsRun):
            outcome = "pass" if event.ok else f"fail ({len(event.failing)})"
            new = f", {len(event.new_failures)} new" if event.new_failures else ""
            events.add(
                f"tests ({event.scope}, attempt {event.attempt}) {outcome}{new} · {event.seconds:.1f}s",
                "ok" if event.ok else "warning",
            )
        elif isinstance(event, FixAttempt):
            word = ATTEMPT_WORDS.get(event.outcome, event.outcome)
            reason = f": {event.reason}" if event.reason else ""
            level = (
                "ok" if event.outcome == "verified" else ("info" if event.outcome == "started" else "warning")
            )
            events.add(f"fix attempt {event.number}/{event.attempts} {word}{reason}", level)
        elif isinstance(event, FixVerified):
            self.fix_evidence = event.evidence
            await chat.add_note(
                f"✓ fix verified (attempt {event.attempt}) in a scratch copy: {'; '.join(event.evidence)}",
                "applied",
            )
        elif isinstance(event, FixSummary):
            lines = "\n".join(f"  {line}" for line in event.attempts)
            await chat.add_note(f"no verified fix; your files are untouched. Attempts:\n{lines}", "error")
            if event.diff:
                from widgets.diff_preview import DiffPreview

                await self.query_one("#diff", DiffPreview).show_diffs({"closest attempt": event.diff})
                self.keep_diff = True
        else:
            return False
        return True

    # -- suggestions -------------------------------------------------------------------------------------------

    @work(group="suggest", exclusive=True, exit_on_error=False, description="suggestions")
    async def show_suggestions(self) -> None:
        from app.suggest import suggest
        from widgets.suggestions import SuggestionsScreen

        app = self.app
        self.events.add("collecting suggestions (tests, diagnostics, TODOs, complex functions, history)…")
        session = app.store.session(self.session_name)
        # The line naming the test command comes before it runs (the suggestions may run the tests once).
        report = await suggest(app.root, session=session, config=app.config, announce=self.events.add)
        for note in report.notes:
            self.events.add(f"suggestions: {note}")
        if not report.suggestions:
            self.notify("no suggestions: nothing fails, no TODOs, no long or complex functions")
            return

        def picked(suggestion: Any) -> None:
            if suggestion is not None:
                self.build_suggestion(suggestion)

        app.push_screen(SuggestionsScreen(report.suggestions, report.ranked_by), picked)

    def build_suggestion(self, suggestion: Any) -> None:
        """Start the suggestion's build in a new session (app.suggest's ``start_build`` names it)."""
        from app.suggest import start_build

        if self.busy:
            self.notify("a build is running: pick the suggestion again when it ends", severity="warning")
            return
        goal, name = start_build(self.app.root, suggestion, self.app.store)
        self.events.add(f"suggestion → new session {name!r}: {goal}")
        self.open_session(name, goal)
