"""The workspace screen: the panes, the keys, and the workers that feed them.

Widgets render and post messages; this screen owns the session store calls, the pipeline run (through
``BuildBridge`` on a worker thread) and the pending decision.
"""

from __future__ import annotations

import concurrent.futures
import time
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from app.errors import AgentError
from app.tui.messages import BackgroundNotice, BuildEnded, DecisionWanted, PipelineEvent
from app.tui.trust import TrustingScreen
from widgets.chat_view import ChatView
from widgets.diff_preview import DiffPreview
from widgets.event_log import EventLog
from widgets.goal_input import GoalInput
from widgets.session_list import SessionList
from widgets.stage_progress import StageProgress
from widgets.status_line import StatusLine

if TYPE_CHECKING:
    # The pipeline's event classes are imported where events are handled, after the first paint (their
    # module's two dozen dataclasses cost about 13 ms of start-up).
    from app.events import Decision, DecisionKind, Diagnostic, DiffReady, Event, Stage
    from app.tui.build_bridge import BuildBridge, Run
    from app.workspace import Workspace
    from widgets.approval import ApprovalScreen

NO_MODEL_HELP = """\
**No model is configured.** Sessions, history and undo work without one; to build, point `ai` at any
OpenAI-compatible chat-completions endpoint (OpenAI, Ollama, llama.cpp, vLLM, LM Studio):

- `OPENAI_BASE_URL`: the endpoint, e.g. `http://localhost:11434/v1`
- `OPENAI_API_KEY`: the key, if the server needs one (kept in the environment, never stored)
- `AI_AGENT_MODEL`: the model name

or put `base_url = "..."` and `model = "..."` in `.ai-agent.toml` at the project root, then restart `ai`.
"""

# Keyed by DecisionKind's values (a StrEnum: its members look these up).
DECISION_NOTES = {
    "apply": "you: apply",
    "reject": "you: reject",
    "edit": "you: apply my edited version",
    "revise": "you: revise",
    "suggest": "you: suggest alternatives",
}


def proposed_contents(diff: DiffReady) -> dict[str, str]:
    """The full proposed text of each changed file (what `e` opens), from the edit engine's proposal."""
    files = getattr(diff.proposal, "files", None) or []
    return {change.path: change.new_text for change in files if change.new_text is not None}


class MainScreen(TrustingScreen):
    BINDINGS = [
        Binding("y", "apply", "Apply", id="apply"),
        Binding("n", "reject", "Reject", id="reject"),
        Binding("a", "review", "Review", id="review"),
        Binding("ctrl+g", "stop", "Stop", id="stop-build"),
        Binding("ctrl+z", "undo", "Undo change", id="undo"),
        Binding("ctrl+n", "new_session", "New session", id="new-session"),
        Binding("ctrl+b", "toggle_sessions", "Sessions", id="toggle-sessions"),
        Binding("ctrl+f", "errors", "Errors", id="error-feed"),
        Binding("ctrl+o", "older", "Older msgs", id="older-messages", show=False),
        Binding("escape", "focus_goal", "Goal", id="focus-goal", show=False),
    ]

    stage: reactive[Stage | None] = reactive(None)
    pending: reactive[DiffReady | None] = reactive(None, bindings=True)
    # What the model call waits for, as the status line says it ("waiting for the model's first token (12 s)").
    waiting: reactive[str] = reactive("")

    def __init__(
        self, session_name: str, initial_goal: str | None = None, continue_session: bool = False
    ) -> None:
        super().__init__()
        # --continue, or a follow-up after a first goal here: the model sees the session's conversation.
        self.with_history = continue_session
        self.set_reactive(MainScreen.session_name, session_name)
        self.initial_goal = initial_goal
        self.bridge: BuildBridge | None = None
        self._answer: concurrent.futures.Future[Decision] | None = None
        self._approval: ApprovalScreen | None = None
        self.services: Any = None
        self.workspace: Workspace | None = None
        self._last_decision: DecisionKind | None = None
        self._outcome_shown = False
        self.fixing_run = False
        self._wait: tuple[str, float] | None = None  # the status label of a model wait and when it began
        self._wait_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        app = self.app
        status = StatusLine(id="status")
        status.project = app.project_label
        status.model = app.config.model or ("default model" if app.config.has_model else "")
        yield status.data_bind(
            session=MainScreen.session_name,
            tokens=MainScreen.tokens,
            stage=MainScreen.stage,
            busy=MainScreen.busy,
            waiting=MainScreen.waiting,
        )
        with Horizontal(id="body"):
            yield SessionList(id="sessions")
            yield ChatView(id="chat")
            yield DiffPreview(id="diff")
        yield StageProgress(id="stages")
        yield EventLog(id="events", clock=app.clock)
        yield GoalInput(id="goal")
        yield Footer()

    @property
    def diff(self) -> DiffPreview:
        return self.query_one("#diff", DiffPreview)

    @property
    def progress(self) -> StageProgress:
        return self.query_one(StageProgress)

    async def on_mount(self) -> None:
        self.events.border_title = "Events"
        await self.diff.clear("no proposal yet")
        self.query_one(GoalInput).focus()
        # After the first frame: the panes paint at once, the history (and Markdown's import) follows.
        self.call_after_refresh(self.open_session, self.session_name, self.initial_goal)

    def on_unmount(self) -> None:
        # Quitting mid-build: the pipeline's thread must end too (a pending decision becomes a rejection),
        # or the process would wait for it on exit.
        if self.bridge is not None:
            self.bridge.cancel()

    # -- background services (file watcher, language servers, tests, logs) ---------------------------------

    @work(group="background", exclusive=True, exit_on_error=False, description="background services")
    async def run_background(self, name: str) -> None:  # type: ignore[override]
        """The session's workspace with its background services, on the UI's loop (they are asyncio); replaced
        on a switch."""
        import asyncio

        from app.workspace import Workspace

        session = self.app.store.session(name, create=False)
        workspace = Workspace(self.app.root, self.app.config, session, background=True)

        def notice(event: Any) -> None:
            self.post_message(BackgroundNotice(event))

        remove = workspace.bus.add_listener(notice)
        self.workspace = workspace
        try:
            await workspace.start()
            services = self.services = workspace.services
            assert services is not None
            for event in services.restored_events():
                self.events.add(f"(last time) {event.summary()}", event.level)
            await self.offer_trust(services)
            await asyncio.Event().wait()  # until the session changes or the app ends
        finally:
            remove()
            if self.workspace is workspace:
                self.services = self.workspace = None
            try:
                await workspace.close()
            except AgentError:
                pass  # the session was deleted or renamed meanwhile: its snapshot has nowhere to go

    def on_background_notice(self, message: BackgroundNotice) -> None:
        self.feed_background_event(message.event)

    def on_resize(self) -> None:
        # Below 100 columns the sidebar folds away (ctrl+b brings it back) so chat and diff stay readable.
        self.set_class(self.size.width < 100, "-narrow")

    # -- keys ----------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("apply", "reject", "review"):
            return True if self.pending is not None else None
        if action == "stop":
            return True if self.busy else None
        if action in ("undo", "new_session"):
            return None if self.busy else True
        return True

    def action_apply(self) -> None:
        from app.events import Decision, DecisionKind

        self.answer(Decision(DecisionKind.APPLY, hunks=self.diff.selection()))

    def action_reject(self) -> None:
        from app.events import Decision, DecisionKind

        self.answer(Decision(DecisionKind.REJECT))

    def action_review(self) -> None:
        if self.pending is None or self._approval is not None:
            return
        from app.events import DecisionKind
        from widgets.approval import ApprovalScreen

        pending = self.pending
        screen = ApprovalScreen(
            pending.diffs,
            self.diff.rejected,
            lambda: proposed_contents(pending),
            after_suggest=self._last_decision is DecisionKind.SUGGEST,
            evidence=self.fix_evidence,
        )
        self._approval = screen

        async def closed(decision: Decision | None) -> None:
            self._approval = None
            if decision is None:  # hidden: keep the hunk choice made there
                if screen.rejected_hunks != self.diff.rejected:
                    await self.diff.show_diffs(pending.diffs, screen.rejected_hunks)
                self.query_one(GoalInput).focus()
                return
            self.answer(decision)

        self.app.push_screen(screen, closed)

    def action_stop(self) -> None:
        if self.bridge is not None:
            self.bridge.cancel()
            self.events.add("stopping the build…", "warning")

    def action_toggle_sessions(self) -> None:
        sessions = self.query_one(SessionList)
        if self.has_class("-narrow"):
            sessions.toggle_class("-shown")
            visible = sessions.has_class("-shown")
        else:
            sessions.toggle_class("-hidden")
            visible = not sessions.has_class("-hidden")
        if visible:
            sessions.focus()
        else:
            self.query_one(GoalInput).focus()

    def action_older(self) -> None:
        self.chat.want_older()

    def action_focus_goal(self) -> None:
        self.query_one(GoalInput).focus()

    # -- goals and the pipeline ------------------------------------------------------------------------------

    @on(GoalInput.Submitted, "#goal")
    async def goal_submitted(self, event: GoalInput.Submitted) -> None:
        goal = event.value.strip()
        if not goal:
            return
        goal_input = self.query_one(GoalInput)
        if self.busy:
            self.notify("a build is running: wait for it, or stop it with ctrl+g", severity="warning")
            return
        goal_input.remember(goal)
        goal_input.value = ""
        await self.start_build(goal)

    async def start_build(self, goal: str) -> None:
        await self.chat.add_message("user", goal)
        if not self.app.config.has_model:
            await self.chat.add_message("assistant", NO_MODEL_HELP)
            return
        workspace = self.current_workspace()
        with_history, self.with_history = self.with_history, True
        await self.begin_run(lambda decide: workspace.build(goal, decide, with_history=with_history))

    def current_workspace(self) -> Workspace:
        """The session's workspace: the running one (its index, its language servers for stage 7), else one
        without background services yet (a build then opens its own index and skips stage 7)."""
        from app.workspace import Workspace

        running = self.workspace
        if running is not None and running.session.name == self.session_name:
            return running
        session = self.app.store.session(self.session_name)
        return Workspace(self.app.root, self.app.config, session, background=True)

    async def begin_run(self, run: Run, fixing: bool = False) -> None:
        """Run a build (or, with ``fixing``, a fix) of the workspace on the pipeline's worker thread."""
        from app.tui.build_bridge import BuildBridge

        self.bridge = BuildBridge(run, self.post_message)
        self.fixing_run = fixing
        self.keep_diff = False
        self.fix_evidence = ()
        self._outcome_shown = False
        self._last_decision = None
        self.busy = True
        self.progress.reset()
        await self.diff.clear("waiting for the model…")
        self.run_pipeline(self.bridge)

    @work(thread=True, group="build", exit_on_error=False, description="build pipeline")
    def run_pipeline(self, bridge: BuildBridge) -> None:
        bridge.run()

    @on(PipelineEvent)
    async def pipeline_event(self, message: PipelineEvent) -> None:
        await self.show_event(message.event)

    async def show_event(self, event: Event) -> None:
        """Turn one pipeline event into what the panes show."""
        from app.events import (
            Applied,
            AwaitingDecision,
            BlockCompleted,
            ContextReady,
            DiffReady,
            ErrorEvent,
            FilesRead,
            Finished,
            Info,
            ProseDelta,
            Rejected,
            Retrying,
            StageFinished,
            StageStarted,
            Usage,
            Waiting,
        )

        chat, events = self.chat, self.events
        if isinstance(event, Waiting | Retrying | Finished) or (
            isinstance(event, ErrorEvent) and event.fatal
        ):
            self.show_wait(event)
        if isinstance(event, ProseDelta):
            await chat.stream_prose(event.text)
        elif await self.show_fix_event(event):
            pass
        elif isinstance(event, StageStarted):
            self.stage = event.stage
            self.progress.start(event.stage)
        elif isinstance(event, StageFinished):
            self.progress.finish(event.stage)
            if event.detail:
                events.add(f"{event.stage.label}: {event.detail}")
        elif isinstance(event, FilesRead):
            partial = f" (partly: {', '.join(event.partial)})" if event.partial else ""
            await chat.add_note(f"read {', '.join(event.paths) or 'no files'}{partial}", "files")
        elif isinstance(event, BlockCompleted):
            await self.diff.show_pending_block(event.index, event.block_kind, event.path)
        elif isinstance(event, DiffReady):
            await chat.end_reply()
            await self.diff.show_diffs(event.diffs)
            await self.show_new_diagnostics(event.diagnostics)
        elif isinstance(event, AwaitingDecision):
            pass  # the DecisionWanted message that follows opens the approval
        elif isinstance(event, Applied):
            self._outcome_shown = True
            commit = f" · commit {event.commit[:8]}" if event.commit else ""
            await chat.add_note(f"✓ applied {', '.join(event.files)}{commit}", "applied")
            events.add(f"applied change {event.change_id} to {len(event.files)} file(s){commit}", "ok")
            if not self.fixing_run:
                self.remember_applied(event.change_id)
            await self.diff.clear("applied")
            self.refresh_sessions()
        elif isinstance(event, Rejected):
            self._outcome_shown = True
            await chat.add_note(f"✗ rejected{': ' + event.reason if event.reason else ''}", "rejected")
            await self.diff.clear("rejected: nothing was changed")
        elif isinstance(event, Usage):
            await chat.end_reply()
            self.tokens += event.total_tokens or (event.prompt_tokens + event.completion_tokens)
        elif isinstance(event, Info):
            events.add(event.message)
        elif isinstance(event, ContextReady):
            dropped = f", dropped {', '.join(event.dropped)}" if event.dropped else ""
            events.add(f"context: {event.tokens} tokens, {len(event.files)} file(s){dropped}")
        elif isinstance(event, Retrying):
            # The call starts over: what streamed so far is not the answer.
            await chat.discard_reply()
            await self.diff.clear("waiting for the model…")
            events.add(
                f"model call failed ({event.reason}); attempt {event.attempt + 1}/{event.attempts} "
                f"in {event.delay:.0f}s",
                "warning",
            )
        elif isinstance(event, Waiting):
            if event.waited > 0 and not event.over:  # a wait that lasts: said once in the feed too
                events.add(
                    f"{event.label}: {event.waited:.0f} s so far, at most {event.limit:g} s "
                    f"(attempt {event.attempt}/{event.attempts})"
                )
        elif isinstance(event, ErrorEvent):
            await chat.add_note(f"error: {event.message}", "error")
            events.add(event.message, "error")
            if event.fatal:
                self.progress.fail(event.stage)
        elif isinstance(event, Finished):
            await chat.end_reply()
            self.stage = None
            # Applied / Rejected already said how it ended; otherwise the summary does.
            if event.summary and not self._outcome_shown:
                events.add(event.summary, "ok" if event.ok else "error")

    def show_wait(self, event: object) -> None:
        """The status line's account of the model call's wait: what it waits for and for how long (ticking each
        second), what failed and which attempt comes next, or nothing once the answer streams."""
        from app.events import Retrying, Waiting

        if isinstance(event, Waiting) and not event.over:
            label = "waiting for the model's first token" if event.what == "first_token" else "stream idle"
            self._wait = (label, time.monotonic() - event.waited)
            if self._wait_timer is None:
                self._wait_timer = self.set_interval(1.0, self._tick_wait)
            self._tick_wait()
            return
        self._wait = None
        if self._wait_timer is not None:
            self._wait_timer.stop()
            self._wait_timer = None
        if isinstance(event, Retrying):
            self.waiting = (
                f"{event.short or 'model call failed'}, retrying {event.attempt + 1}/{event.attempts}"
            )
        else:
            self.waiting = ""

    def _tick_wait(self) -> None:
        if self._wait is not None:
            label, since = self._wait
            self.waiting = f"{label} ({time.monotonic() - since:.0f} s)"

    async def show_new_diagnostics(self, diagnostics: dict[str, list[Diagnostic]]) -> None:
        """The language server's new errors in the proposal (stage 7): in the conversation and the feed."""
        lines = [
            f"{d.path}:{d.line}: {d.severity}: {d.message}" for found in diagnostics.values() for d in found
        ]
        if not lines:
            return
        await self.chat.add_note("⚠ the proposal adds diagnostics:\n  " + "\n  ".join(lines[:8]), "error")
        for line in lines:
            self.events.add(f"proposal: {line}", "warning")

    @on(DecisionWanted)
    async def decision_wanted(self, message: DecisionWanted) -> None:
        from app.events import Decision, DecisionKind

        if self.bridge is None or self.bridge.cancelled:
            message.answer.set_result(Decision(DecisionKind.REJECT))
            return
        await self.chat.end_reply()
        if not self.diff.files or self.pending is not message.diff:
            await self.diff.show_diffs(message.diff.diffs)
        self._answer = message.answer
        self.pending = message.diff
        self.action_review()

    def answer(self, decision: Decision) -> None:
        """Hand the user's decision to the waiting pipeline (once)."""
        answer, self._answer = self._answer, None
        if answer is None or answer.done():
            return
        self.pending = None
        note = DECISION_NOTES[decision.kind]
        if decision.kind == "apply" and decision.hunks is not None:
            kept = sum(len(v) for v in decision.hunks.values())
            note += f" ({kept} hunk{'s' * (kept != 1)} kept)"
        if decision.feedback:
            note += f": {decision.feedback}"
        self.run_worker(self.chat.add_note(note, "decision"), group="notes")
        self._last_decision = decision.kind
        if decision.kind in ("apply", "edit") and not self.fixing_run:
            self.expect_apply()  # before the pipeline's thread can write a file
        answer.set_result(decision)

    @on(BuildEnded)
    async def build_ended(self, message: BuildEnded) -> None:
        self.bridge = None
        self.busy = False
        self.show_wait(message)  # a stopped build waits for nothing
        self.pending = None
        self.stage = None
        await self.chat.end_reply()
        if message.error:
            await self.chat.add_note(f"error: {message.error}", "error")
            self.events.add(message.error, "error")
            self.progress.fail(None)
        if self.diff.files and not self.keep_diff:
            # A proposal still shown when the run ended was neither applied nor rejected (a refused apply,
            # a stop): it is dead, so it goes, and with it the y/n keys (QA.md).
            await self.diff.clear("nothing was applied")
        self.forget_unapplied()
        self.start_queued_fix()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # One place where a failed worker becomes a line the user sees, instead of a crash.
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            text = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
            self.events.add(f"{event.worker.description or event.worker.name}: {text}", "error")
            self.notify(text, severity="error")

    # -- palette commands that are not session management --------------------------------------------------

    @work(group="tests", exclusive=True, exit_on_error=False, description="test run")
    async def rerun_tests(self) -> None:
        workspace = self.current_workspace()
        command = workspace.test_command()
        if command and not await self.project_is_trusted():
            # The tests are the project's code: this run, like the watcher's, waits for the trust.
            self.ask_trust(
                [f"Rerun tests runs `{command}`, and the test watcher after each change"], self.rerun_tests
            )
            return
        watched = workspace.services is not None and workspace.services.tests is not None
        if not command and not watched:
            self.events.add(
                "no test command configured (--test-cmd or test_cmd in .ai-agent.toml)", "warning"
            )
            return
        if not watched:
            self.events.add(f"running {command}")
        # The watcher's run reports through its events; else the workspace runs the suite once (with a time
        # limit and the whole process group ended).
        outcome = await workspace.rerun_tests("from the command palette")
        if outcome is None:
            return
        lines = outcome.output.strip().splitlines()
        last = lines[-1] if lines else ""
        if outcome.ok:
            self.events.add(f"tests passed · {last}", "ok")
        else:
            self.events.add(f"tests failed (exit {outcome.exit_code}) · {last}", "error")

    def describe(self) -> dict[str, Any]:
        """A plain summary of the visible state (used by tests and the screenshot script)."""
        return {
            "session": self.session_name,
            "busy": self.busy,
            "pending": self.pending is not None,
            "messages": len(self.chat.children),
        }
