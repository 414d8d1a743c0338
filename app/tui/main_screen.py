"""The workspace screen: one screen composed of panes, the keys, and the workers that feed them.

Each pane (app/tui/panes.py) renders the events meant for it through its own ``show_event``; this screen routes
every pipeline event to the panes and owns the keys. Sessions, fixes, trust and the build run are collaborators
it composes (``SessionKeeper``, ``FixDesk``, ``TrustKeeper``, ``RunDesk``, ``SlashDesk``), each reaching it through
app/tui/host.py's ``Host``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Unpack

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import TextArea
from textual.worker import Worker, WorkerState

from app.errors import AgentError
from app.llm.usage import TokenUsage
from app.tui import texts
from app.tui.clipboard import CopyDesk
from app.tui.completion import CompletionDesk
from app.tui.context_pane import ContextPane
from app.tui.fixes import FixDesk
from app.tui.messages import BackgroundNotice, BuildEnded, DecisionWanted, PipelineEvent
from app.tui.model_desk import ModelDesk
from app.tui.panes import ChatPane, DiffPane, FeedPane, StagesPane
from app.tui.runs import RunDesk
from app.tui.search import ConversationSearch
from app.tui.sessions import SessionKeeper
from app.tui.settings import WorkspaceSettings
from app.tui.slash import parse_slash
from app.tui.slash_desk import SlashDesk
from app.tui.trust import TrustKeeper
from app.tui.waits import WaitClock
from widgets.chat_view import ChatView
from widgets.completion import CompletionPopup
from widgets.event_log import EventLog
from widgets.footer import FittedFooter
from widgets.goal_input import PLACEHOLDER as GOAL_PLACEHOLDER
from widgets.goal_input import GoalInput
from widgets.session_list import SessionList
from widgets.status_line import StatusLine

if TYPE_CHECKING:
    # The pipeline's event classes are imported where events are handled, after the first paint (their
    # module's two dozen dataclasses cost about 13 ms of start-up).
    from app.background.services import BackgroundServices
    from app.events import DiffReady, Event, Stage
    from app.tui.build_bridge import Run
    from app.tui.host import Work, WorkerOptions
    from app.workspace import Workspace


WIDE_COLUMNS = 140  # from this width the context panel shows beside the diff pane, not in its place


class MainScreen(Screen[None]):
    BINDINGS = [
        Binding("y", "apply", texts.KEYS["apply"], id="apply"),
        Binding("n", "reject", texts.KEYS["reject"], id="reject"),
        Binding("a", "review", texts.KEYS["review"], id="review"),
        Binding("ctrl+g", "stop", texts.KEYS["stop-build"], id="stop-build"),
        Binding("ctrl+z", "undo", texts.KEYS["undo"], id="undo"),
        Binding("ctrl+n", "new_session", texts.KEYS["new-session"], id="new-session"),
        Binding("ctrl+b", "toggle_sessions", texts.KEYS["toggle-sessions"], id="toggle-sessions"),
        Binding("ctrl+f", "errors", texts.KEYS["error-feed"], id="error-feed"),
        Binding("ctrl+t", "toggle_context", texts.KEYS["toggle-context"], id="toggle-context"),
        Binding("ctrl+o", "older", texts.KEYS["older-messages"], id="older-messages", show=False),
        Binding("escape", "escape", texts.KEYS["focus-goal"], id="focus-goal", show=False),
        Binding("question_mark", "app.help", texts.KEYS["help-key"], id="help-key", show=False),
        Binding("ctrl+y", "copy_reply", texts.KEYS["copy-reply"], id="copy-reply", show=False),
        Binding("ctrl+r", "search", texts.KEYS["search"], id="search", show=False),
    ]

    session_name: reactive[str] = reactive("")
    busy: reactive[bool] = reactive(False, bindings=True)
    # The open session's token usage: what its stored messages carry, plus this run's as it comes; the last
    # run's; and how the status line says them (app/tui/model_desk.py).
    usage: reactive[TokenUsage] = reactive(TokenUsage)
    turn_usage: reactive[TokenUsage] = reactive(TokenUsage)
    usage_text: reactive[str] = reactive("")
    model_name: reactive[str] = reactive("")
    stage: reactive[Stage | None] = reactive(None)
    # While a proposal waits, its keys (y, n, a) are the screen's wherever the focus is: the goal input is
    # disabled, so it can neither take the focus back nor swallow the letters (watch_pending).
    pending: reactive[DiffReady | None] = reactive(None, bindings=True, init=False)
    # What the model call waits for, as the status line says it ("waiting for the model's first token (12 s)").
    waiting: reactive[str] = reactive("")

    def __init__(
        self,
        settings: WorkspaceSettings,
        session_name: str,
        initial_goal: str | None = None,
        continue_session: bool = False,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.set_reactive(MainScreen.session_name, session_name)
        self.initial_goal = initial_goal
        self.services: BackgroundServices | None = None
        self.workspace: Workspace | None = None
        self.sessions = SessionKeeper(self)
        self.fixes = FixDesk(self)
        self.trust = TrustKeeper(self)
        self.runs = RunDesk(self, self.fixes, with_history=continue_session)
        self.models = ModelDesk(self)
        config = settings.config
        self.set_reactive(
            MainScreen.model_name, config.model or (texts.DEFAULT_MODEL if config.has_model else "")
        )
        self.models.refresh_usage()
        self.slash = SlashDesk(self, self.sessions)
        self.wait_clock = WaitClock(self._say_wait, self.set_interval)
        self.completion = CompletionDesk(self)
        self.copies = CopyDesk(self)

    def compose(self) -> ComposeResult:
        settings = self.settings
        status = StatusLine(id="status")
        status.project = settings.project_label
        yield status.data_bind(
            session=MainScreen.session_name,
            model=MainScreen.model_name,
            usage=MainScreen.usage_text,
            stage=MainScreen.stage,
            busy=MainScreen.busy,
            waiting=MainScreen.waiting,
        )
        with Horizontal(id="body"):
            yield SessionList(id="sessions")
            yield ChatPane(id="chat")
            yield DiffPane(id="diff")
            yield ContextPane(id="context")
        yield StagesPane(id="stages")
        yield FeedPane(id="events", clock=settings.clock)
        yield ConversationSearch(lambda: self.chat, id="search")
        popup = CompletionPopup(id="completion")
        yield popup
        yield GoalInput(popup, id="goal")
        yield FittedFooter(texts.KEYS_NARROW, texts.KEYS_DROPPED_FIRST)

    # -- the panes -------------------------------------------------------------------------------------------

    @property
    def chat(self) -> ChatPane:
        return self.query_one(ChatPane)

    @property
    def events(self) -> FeedPane:
        return self.query_one(FeedPane)

    @property
    def diff(self) -> DiffPane:
        return self.query_one("#diff", DiffPane)

    @property
    def progress(self) -> StagesPane:
        return self.query_one(StagesPane)

    @property
    def session_list(self) -> SessionList:
        return self.query_one(SessionList)

    @property
    def shown_session(self) -> str | None:
        """The session whose history is fully on screen (None while one loads)."""
        return self.sessions.shown_session

    async def on_mount(self) -> None:
        self.events.border_title = texts.EVENTS_TITLE
        await self.diff.clear(texts.NO_PROPOSAL)
        self.query_one(GoalInput).focus()
        self.completion.load_files()
        self.tell_untrusted_config()
        # After the first frame: the panes paint at once, the history (and Markdown's import) follows.
        self.call_after_refresh(self.open_session, self.session_name, self.initial_goal)

    def tell_untrusted_config(self) -> None:
        """README's `config: skipped` line: what the untrusted .ai-agent.toml set that was ignored. Said here,
        once per open, from the configuration itself: it holds for builds too, and must not wait for (or
        depend on) the background services, which start after the symbol index opens, or not at all."""
        from app.events import ServiceStatus
        from app.trust import untrusted_note

        note = untrusted_note(self.settings.config)
        if note is not None:
            status = ServiceStatus("config", "skipped", note)
            self.events.add(status.summary(), status.level)

    def on_unmount(self) -> None:
        # Quitting mid-build: the pipeline's thread must end too (a pending decision becomes a rejection),
        # or the process would wait for it on exit.
        self.runs.cancel()

    def on_resize(self) -> None:
        # Below 100 columns the sidebar folds away (ctrl+b brings it back) so chat and diff stay readable.
        self.set_class(self.size.width < 100, "-narrow")
        self.set_class(self.size.width >= WIDE_COLUMNS, "-wide")  # the context panel beside the diff

    # -- what the collaborators use (app/tui/host.py) ---------------------------------------------------------

    def start_worker(self, work: Work, **options: Unpack[WorkerOptions]) -> None:
        self.run_worker(work, exit_on_error=False, **options)

    def ui(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.app.call_from_thread(function, *args, **kwargs)

    # -- background services (file watcher, language servers, tests, logs) ---------------------------------

    @work(group="background", exclusive=True, exit_on_error=False, description="background services")
    async def run_background(self, name: str) -> None:
        """The session's workspace with its background services, on the UI's loop (they are asyncio); replaced
        on a switch."""
        import asyncio

        from app.workspace import Workspace

        settings = self.settings
        session = settings.store.session(name, create=False)
        # The untrusted-config line is the screen's (on_mount), not each session's services'.
        options = {"tell_untrusted": False}
        workspace = Workspace(
            settings.root, settings.config, session, background=True, services_options=options
        )

        def notice(event: Any) -> None:
            self.post_message(BackgroundNotice(event))

        remove = workspace.bus.add_listener(notice)
        self.workspace = workspace
        try:
            await workspace.start()
            services = self.services = workspace.services
            assert services is not None
            for event in services.restored_events():
                self.events.add(texts.LAST_TIME.format(summary=event.summary()), event.level)
            await self.trust.offer_trust(services)
            await asyncio.Event().wait()  # until the session changes or the app ends
        finally:
            remove()
            if self.workspace is workspace:
                self.services = self.workspace = None
            try:
                await workspace.close()
            except AgentError:
                pass  # the session was deleted or renamed meanwhile: its snapshot has nowhere to go

    def current_workspace(self) -> Workspace:
        """The session's workspace: the running one (its index, its language servers for stage 7), else one
        without background services yet (a build then opens its own index and skips stage 7)."""
        from app.workspace import Workspace

        running = self.workspace
        if running is not None and running.session.name == self.session_name:
            return running
        session = self.settings.store.session(self.session_name)
        return Workspace(self.settings.root, self.settings.config, session, background=True)

    def on_background_notice(self, message: BackgroundNotice) -> None:
        self.fixes.feed_background_event(message.event)
        self.completion.background_event(message.event)

    # -- messages of the panes ---------------------------------------------------------------------------------

    def on_session_list_open(self, message: SessionList.Open) -> None:
        self.open_session(message.name)

    def on_session_list_rename_wanted(self, message: SessionList.RenameWanted) -> None:
        self.sessions.ask_rename(message.name)

    def on_session_list_delete_wanted(self, message: SessionList.DeleteWanted) -> None:
        self.sessions.ask_delete(message.name)

    def on_chat_view_older_wanted(self, message: ChatView.OlderWanted) -> None:
        self.sessions.load_older(message.before)

    def on_event_log_fix_wanted(self, message: EventLog.FixWanted) -> None:
        self.fixes.request_fix(message.payload)

    # -- keys and palette commands -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("apply", "reject", "review"):
            return True if self.pending is not None else None
        if action == "stop":
            return True if self.busy else None
        if action in ("undo", "new_session"):
            return None if self.busy else True
        return True

    def action_apply(self) -> None:
        self.runs.apply_pending(self.diff.selection())

    def action_reject(self) -> None:
        from app.events import Decision, DecisionKind

        self.runs.answer(Decision(DecisionKind.REJECT))

    def action_review(self) -> None:
        self.runs.review()

    def action_stop(self) -> None:
        self.runs.stop()

    def action_toggle_sessions(self) -> None:
        self.show_sessions(None)

    def show_sessions(self, visible: bool | None = True) -> None:
        """Show (True), hide (False) or toggle (None) the session list (unfolded when narrow); shown, it has
        the focus."""
        sessions = self.session_list
        narrow = self.has_class("-narrow")
        shown = sessions.has_class("-shown") if narrow else not sessions.has_class("-hidden")
        visible = not shown if visible is None else visible
        sessions.set_class(visible if narrow else not visible, "-shown" if narrow else "-hidden")
        if visible:
            sessions.focus()
        else:
            self.query_one(GoalInput).focus()

    def action_toggle_context(self) -> None:
        """ctrl+t: the context panel; below WIDE_COLUMNS it takes the diff pane's place while shown."""
        context = self.query_one(ContextPane)
        context.toggle_class("-shown")
        shown = context.has_class("-shown")
        self.set_class(shown, "-context")
        if shown and self.focused is self.diff and not self.has_class("-wide"):
            context.focus()
        elif not shown and (self.focused is context or self.focused is None):
            self.action_focus_goal()

    def action_older(self) -> None:
        self.chat.want_older()

    def watch_pending(self, pending: DiffReady | None) -> None:
        goal = self.query_one(GoalInput)
        waits = pending is not None
        goal.disabled = waits
        goal.placeholder = texts.GOAL_WAITS if waits else GOAL_PLACEHOLDER
        self.diff.border_subtitle = texts.DECIDE_PENDING if waits else ""
        self.set_class(waits, "-pending")  # a waiting proposal takes its pane back from the context panel
        if waits:
            # The input gives the focus up as it is disabled; the proposal it waits on takes it (not whatever
            # widget comes next), so that once decided the focus goes back to the input.
            self.diff.focus()
        elif self.focused is None or self.focused is self.diff:
            goal.focus()

    def action_focus_goal(self) -> None:
        # With a decision pending the input is off: the diff it is about keeps the focus.
        if self.pending is not None:
            self.diff.focus()
        else:
            self.query_one(GoalInput).focus()

    def action_escape(self) -> None:
        # A running build (or fix) stops, as with ctrl+g; a modal, the search bar or a popup took escape first.
        if not self.runs.stop_on_escape():
            self.action_focus_goal()

    def action_copy_reply(self) -> None:
        self.copies.copy_reply()

    def action_copy_diff(self) -> None:
        self.copies.copy_diff()

    def action_search(self) -> None:
        self.query_one(ConversationSearch).open()

    def action_undo(self) -> None:
        self.sessions.undo()

    def action_new_session(self) -> None:
        self.sessions.ask_new_session()

    def action_errors(self) -> None:
        self.fixes.focus_newest_error()

    async def action_trust(self) -> None:
        await self.trust.trust_from_palette()

    def open_session(self, name: str, then_goal: str | None = None) -> None:
        self.sessions.open_session(name, then_goal)

    def refresh_sessions(self) -> None:
        self.sessions.refresh_sessions()

    def export_session(self) -> None:
        self.sessions.export_session()

    def show_suggestions(self) -> None:
        self.fixes.show_suggestions()

    def fix_newest_error(self) -> None:
        self.fixes.fix_newest_error()

    async def project_is_trusted(self) -> bool:
        return await self.trust.project_is_trusted()

    @work(group="tests", exclusive=True, exit_on_error=False, description="test run")
    async def rerun_tests(self) -> None:
        workspace = self.current_workspace()
        command = workspace.test_command()
        if command and not await self.project_is_trusted():
            # The tests are the project's code: this run, like the watcher's, waits for the trust.
            self.trust.ask_trust([texts.RERUN_ASKS_TRUST.format(command=command)], self.rerun_tests)
            return
        watched = workspace.services is not None and workspace.services.tests is not None
        if not command and not watched:
            self.events.add(texts.NO_TEST_COMMAND, "warning")
            return
        if not watched:
            self.events.add(texts.RUNNING_TESTS.format(command=command))
        # The watcher's run reports through its events; else the workspace runs the suite once (with a time
        # limit and the whole process group ended).
        outcome = await workspace.rerun_tests(texts.RERUN_FROM_PALETTE)
        if outcome is None:
            return
        from app.tui.rerun import rerun_line

        self.events.add(*rerun_line(outcome))

    # -- goals and the pipeline ------------------------------------------------------------------------------

    @on(TextArea.Changed, "#goal")
    @on(TextArea.SelectionChanged, "#goal")
    def goal_edited(self) -> None:
        self.completion.update(self.query_one(GoalInput), self.query_one(CompletionPopup))

    @on(GoalInput.Submitted, "#goal")
    async def goal_submitted(self, event: GoalInput.Submitted) -> None:
        goal = event.value.strip()
        if not goal:
            return
        goal_input = self.query_one(GoalInput)
        if parse_slash(goal) is not None:  # a command: never a goal, never sent to the model
            goal_input.remember(goal)
            goal_input.value = ""
            await self.slash.run(goal)
            return
        if self.busy:
            self.notify(texts.BUILD_RUNNING, severity="warning")
            return
        goal_input.remember(goal)
        goal_input.value = ""
        await self.start_build(goal)

    async def start_build(self, goal: str) -> None:
        if parse_slash(goal) is not None:  # `ai --build "/help"` too: a command, never sent to the model
            await self.slash.run(goal)
            return
        await self.runs.start_build(goal)

    async def begin_run(self, run: Run, fixing: bool = False) -> None:
        await self.runs.begin_run(run, fixing)

    @on(PipelineEvent)
    async def pipeline_event(self, message: PipelineEvent) -> None:
        await self.show_event(message.event)

    async def show_event(self, event: Event) -> None:
        """Route one pipeline event to the panes, each showing its part, then keep the run's state."""
        from app.events import ErrorEvent, Finished, ProseDelta, Retrying, Waiting

        if isinstance(event, ProseDelta):  # the high-rate one: the conversation is the only pane it is for
            await self.chat.stream_prose(event.text)
            return
        if isinstance(event, Waiting | Retrying | Finished) or (
            isinstance(event, ErrorEvent) and event.fatal
        ):
            self.wait_clock.show(event)
        await self.chat.show_event(event)
        await self.diff.show_event(event)
        self.events.show_event(event)
        self.progress.show_event(event)
        self.query_one(ContextPane).show_event(event)
        self.runs.after_event(event)
        self.models.after_event(event)

    def watch_usage(self) -> None:
        self.models.refresh_usage()

    def watch_turn_usage(self) -> None:
        self.models.refresh_usage()

    def action_pick_model(self) -> None:
        self.models.open_picker()

    def _say_wait(self, text: str) -> None:
        self.waiting = text

    @on(DecisionWanted)
    async def decision_wanted(self, message: DecisionWanted) -> None:
        await self.runs.decision_wanted(message)

    @on(BuildEnded)
    async def build_ended(self, message: BuildEnded) -> None:
        self.wait_clock.show(message)  # a stopped build waits for nothing
        await self.runs.ended(message)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # One place where a failed worker becomes a line the user sees, instead of a crash.
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            text = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
            worker = event.worker.description or event.worker.name
            self.events.add(texts.WORKER_FAILED.format(worker=worker, error=text), "error")
            self.notify(text, severity="error")

    def describe(self) -> dict[str, Any]:
        """A plain summary of the visible state (used by tests and the screenshot script)."""
        return {
            "session": self.session_name,
            "busy": self.busy,
            "pending": self.pending is not None,
            "messages": len(self.chat.children),
        }
