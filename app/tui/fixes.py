"""The workspace's self-correction: the live error feed's one-key fixes, the fix proposed when tests fail after
an applied change, and the suggestions.

``FixDesk`` is a collaborator of the main screen, reaching it through ``Host``. Every fix runs through app/fix's
``run_fix`` in the current session (the workspace's ``fix``), on the same worker thread as a build (the
screen's ``begin_run``); a
verified fix is offered through the approval modal with its diff and test evidence, and is applied only on
approval unless ``auto_fix`` is on in the config (the fix loop decides that itself).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.tui import texts

if TYPE_CHECKING:
    from app.tui.host import Host


def fixable(event: Any) -> bool:
    """A background event a fix can start from: a failing test run, language-server errors, a log error."""
    from app.events import DiagnosticsUpdated, LogError, TestRunFinished

    if isinstance(event, TestRunFinished):
        return not event.ok
    if isinstance(event, DiagnosticsUpdated):
        return bool(event.errors)
    return isinstance(event, LogError)


@dataclass(frozen=True)
class FailureEntry:
    """The payload of one failing test's feed entry: the run it failed in (the fix's baseline, so the run's other
    failures are not "new" when they still fail) and the test the fix targets."""

    run: Any  # TestRunFinished
    test_id: str


class FixDesk:
    def __init__(self, host: Host) -> None:
        self.host = host
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
        self._queued_fix: tuple[Any, str | None, Iterable[str] | None] | None = None

    # -- the feed and the after-apply rule ---------------------------------------------------------------------

    def feed_background_event(self, event: Any) -> None:
        """One background event in the feed (errors selectable), and the after-apply trigger."""
        from app.events import TestRunFinished, TestRunStarted

        if isinstance(event, TestRunFinished) and len(event.failures) > 1:
            # One entry per failure, each fixed on its own: the run's line says how it went.
            self.host.events.add(event.summary(), event.level)
            for failure in event.failures:
                self.host.events.add(
                    texts.FEED_FAILURE.format(
                        test=failure.test_id, file=failure.file, line=failure.line, message=failure.message
                    ),
                    "error",
                    FailureEntry(event, failure.test_id),
                )
        else:
            self.host.events.add(event.summary(), event.level, event if fixable(event) else None)
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
        verdict = judge_runs(None if was_ok is None else failing_before, failing)
        if not verdict.broke_tests:
            return
        self.host.events.add(texts.FIX_AFTER_CHANGE.format(change=change), "warning")
        # What the change broke is the target; what failed before it stays in the baseline.
        self.request_fix(event, texts.FIX_TRIGGER_AFTER_CHANGE.format(change=change), verdict.new)

    def focus_newest_error(self) -> None:
        """Focus the error feed on its newest error (f then fixes it)."""
        events = self.host.events
        if events.select_latest():
            events.focus()
        else:
            self.host.notify(texts.NO_ERRORS_IN_FEED)

    def fix_newest_error(self) -> None:
        lines = self.host.events.fixable
        if not lines:
            self.host.notify(texts.NO_ERRORS_TO_FIX)
            return
        self.request_fix(lines[-1].payload)

    # -- fix runs ----------------------------------------------------------------------------------------------

    def request_fix(self, error: Any, trigger: str | None = None, only: Iterable[str] | None = None) -> None:
        """A fix of ``error`` (a feed entry's payload); ``only``: of a test run, the test ids to target."""
        host = self.host
        if isinstance(error, FailureEntry):
            error, only = error.run, (error.test_id,)
        if host.busy:
            self._queued_fix = (error, trigger, only)
            host.events.add(texts.FIX_QUEUED)
            return
        if not host.settings.config.has_model:
            host.notify(texts.FIX_NEEDS_MODEL, severity="error")
            return
        host.start_worker(
            self.start_fix(error, trigger, only), group="fix-start", exclusive=True, description="fix"
        )

    def start_queued_fix(self) -> None:
        queued, self._queued_fix = self._queued_fix, None
        if queued is not None:
            self.request_fix(*queued)

    async def start_fix(
        self, error: Any, trigger: str | None = None, only: Iterable[str] | None = None
    ) -> None:
        host = self.host
        workspace = host.current_workspace()
        request = workspace.fix_request(error, trigger, only)
        if request is None:
            return
        first = request.errors[0].summary() if request.errors else error.summary()
        await host.chat.add_message("user", texts.FIX_GOAL.format(error=first))
        await host.begin_run(lambda decide: workspace.fix(request, decide), fixing=True)

    # -- suggestions -------------------------------------------------------------------------------------------

    def show_suggestions(self) -> None:
        self.host.start_worker(
            self.collect_suggestions(), group="suggest", exclusive=True, description="suggestions"
        )

    async def collect_suggestions(self) -> None:
        from widgets.suggestions import SuggestionsScreen

        host = self.host
        events = host.events
        events.add(texts.SUGGESTIONS_COLLECTING)
        # The line naming the test command comes before it runs (the suggestions may run the tests once).
        report = await host.current_workspace().suggest(events.add)
        for note in report.notes:
            events.add(texts.SUGGESTIONS_NOTE.format(note=note))
        if not report.suggestions:
            host.notify(texts.NO_SUGGESTIONS)
            return

        def picked(suggestion: Any) -> None:
            if suggestion is not None:
                self.build_suggestion(suggestion)

        host.app.push_screen(SuggestionsScreen(report.suggestions, report.ranked_by), picked)

    def build_suggestion(self, suggestion: Any) -> None:
        """Start the suggestion's build in a new session (app.suggest's ``start_build`` names it)."""
        from app.suggest import start_build

        host = self.host
        if host.busy:
            host.notify(texts.SUGGESTION_WAIT, severity="warning")
            return
        goal, name = start_build(host.settings.root, suggestion, host.settings.store)
        host.events.add(texts.SUGGESTION_SESSION.format(name=name, goal=goal))
        host.open_session(name, goal)
