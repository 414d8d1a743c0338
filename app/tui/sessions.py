"""Session management for the workspace screen: open (instant, tail first), new, rename, delete, undo, export.

The base class of ``MainScreen``, split off to keep each file to one concern.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import work
from textual.reactive import reactive
from textual.screen import Screen

from widgets.chat_view import ChatView
from widgets.event_log import EventLog
from widgets.session_list import SessionList

if TYPE_CHECKING:
    from app.edits.records import UndoResult
    from app.tui.app import WorkspaceApp

# How many of a session's last messages are mounted when it opens; older pages follow on scroll.
PAGE = 20


def stored_tokens(messages: list[dict[str, Any]]) -> int:
    """The tokens the stored messages used (each model reply carries its call's usage)."""
    total = 0
    for message in messages:
        usage = message.get("usage")
        if isinstance(usage, dict):
            total += int(usage.get("total_tokens") or 0) or (
                int(usage.get("prompt_tokens") or 0) + int(usage.get("completion_tokens") or 0)
            )
    return total


class SessionScreen(Screen[None]):
    """The base of ``MainScreen``: every store call runs on a worker thread, the widgets update on the UI."""

    session_name: reactive[str] = reactive("")
    busy: reactive[bool] = reactive(False, bindings=True)
    # The open session's token usage: what its stored messages carry, plus this run's as it comes.
    tokens: reactive[int] = reactive(0)

    app: WorkspaceApp

    def __init__(self) -> None:
        super().__init__()
        # The session whose history is fully on screen (None while one loads).
        self.shown_session: str | None = None

    @property
    def chat(self) -> ChatView:
        return self.query_one(ChatView)

    @property
    def events(self) -> EventLog:
        return self.query_one(EventLog)

    async def start_build(self, goal: str) -> None:
        raise NotImplementedError

    def run_background(self, name: str) -> None:
        raise NotImplementedError

    def ui(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run ``function`` on the UI thread from a worker thread (and wait for it)."""
        self.app.call_from_thread(function, *args, **kwargs)

    # -- open / switch -------------------------------------------------------------------------------------

    def open_session(self, name: str, then_goal: str | None = None) -> None:
        if self.busy and name != self.session_name:
            self.notify("a build is running: stop it (ctrl+g) before switching sessions", severity="warning")
            return
        self.load_session(name, then_goal)

    @work(group="session", exclusive=True, exit_on_error=False, description="open session")
    async def load_session(self, name: str, then_goal: str | None = None) -> None:
        # The store's reads take a few milliseconds even for 2,000 messages (its parse cache; measured in
        # tests/benchmarks/bench_tui.py), less than a hop to a worker thread and back costs on a loaded
        # machine: so they run here, in an async worker that a newer switch cancels.
        started = time.perf_counter()
        store = self.app.store
        if store.exists(name) and store.active_name() == name:
            # Already the active one (`ai` just made it so): only read; activating rewrites the index.
            from app.session.store import Session

            session = Session(store, name)
        else:
            session = store.session(name, activate=True)
        total = session.message_count()
        tail = session.messages(limit=PAGE) if total else []
        metas = [m.to_dict() for m in store.list_sessions()]
        await self.show_session(name, tail, total - len(tail), metas, started, then_goal)

    async def show_session(
        self,
        name: str,
        tail: list[dict[str, Any]],
        first_index: int,
        metas: list[dict[str, Any]],
        started: float,
        then_goal: str | None,
    ) -> None:
        self.shown_session = None
        if name != self.session_name or not self.tokens:
            self.tokens = 0
            self.add_stored_usage(name)
        if name != self.session_name:
            from widgets.diff_preview import DiffPreview

            # What the diff pane showed belongs to the session left (QA.md).
            await self.query_one("#diff", DiffPreview).clear("no proposal yet")
        self.session_name = name
        self.query_one(SessionList).show_sessions(metas, name)
        await self.chat.show_history(tail, first_index)
        if not self.app.config.has_model:
            from app.tui.main_screen import NO_MODEL_HELP

            await self.chat.add_message("assistant", NO_MODEL_HELP)
        self.app.last_switch_seconds = time.perf_counter() - started
        self.shown_session = name
        if self.app.background:
            self.run_background(name)
        self.app.post_message(self.app.SessionShown(name))
        if then_goal:
            await self.start_build(then_goal)

    @work(thread=True, group="usage", exclusive=True, exit_on_error=False, description="token usage")
    def add_stored_usage(self, name: str) -> None:
        """Add the session's stored usage to the status line (off the first paint: it reads every message)."""
        total = stored_tokens(self.app.store.session(name, create=False).messages())
        if total:
            self.ui(self._add_tokens, name, total)

    def _add_tokens(self, name: str, count: int) -> None:
        if name == self.session_name:
            self.tokens += count

    def on_session_list_open(self, message: SessionList.Open) -> None:
        self.open_session(message.name)

    def on_chat_view_older_wanted(self, message: ChatView.OlderWanted) -> None:
        self.load_older(self.session_name, message.before)

    @work(thread=True, group="older", exclusive=True, exit_on_error=False, description="older messages")
    def load_older(self, name: str, before: int) -> None:
        page = self.app.store.session(name, create=False).messages(limit=PAGE, before=before)
        self.ui(self.chat.prepend, page, before - len(page))

    @work(thread=True, group="session-list", exclusive=True, exit_on_error=False, description="sessions")
    def refresh_sessions(self) -> None:
        metas = [m.to_dict() for m in self.app.store.list_sessions()]
        self.ui(self.query_one(SessionList).show_sessions, metas, self.session_name)

    # -- new, rename, delete --------------------------------------------------------------------------------

    def action_new_session(self) -> None:
        from widgets.dialogs import PromptScreen

        def named(name: str | None) -> None:
            if name:
                self.create_session(name)

        self.app.push_screen(PromptScreen("Name of the new session", placeholder="e.g. dark-mode"), named)

    def create_session(self, name: str) -> None:
        from app.paths import is_valid_session_name, session_name_error

        if not is_valid_session_name(name):
            self.notify(session_name_error(name), severity="error")
            return
        if self.app.store.exists(name):
            self.notify(f"session {name!r} exists: opening it")
        self.open_session(name)

    def on_session_list_rename_wanted(self, message: SessionList.RenameWanted) -> None:
        from widgets.dialogs import PromptScreen

        old = message.name

        def named(new: str | None) -> None:
            if new and new != old:
                self.rename_session(old, new)

        self.app.push_screen(PromptScreen(f"Rename session {old!r} to", value=old), named)

    @work(thread=True, group="session-edit", exit_on_error=False, description="rename session")
    def rename_session(self, old: str, new: str) -> None:
        from app.errors import AgentError

        try:
            self.app.store.rename_session(old, new)
        except AgentError as exc:
            self.ui(self.notify, exc.message, severity="error")
            return
        if self.session_name == old:
            self.ui(setattr, self, "session_name", new)
            if self.app.background:  # the services hold the old session: start them on the new name
                self.ui(self.run_background, new)
        self.ui(self.events.add, f"renamed session {old!r} to {new!r}")
        self.refresh_sessions()

    def on_session_list_delete_wanted(self, message: SessionList.DeleteWanted) -> None:
        from widgets.dialogs import ConfirmScreen

        name = message.name
        if self.busy and name == self.session_name:
            self.notify("a build is running in this session: stop it first (ctrl+g)", severity="warning")
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.delete_session(name)

        question = f"Delete session {name!r} and its history? Its applied changes stay in the files. [y/N]"
        self.app.push_screen(ConfirmScreen(question), confirmed)

    @work(thread=True, group="session-edit", exit_on_error=False, description="delete session")
    def delete_session(self, name: str) -> None:
        from app.errors import AgentError

        store = self.app.store
        try:
            store.delete_session(name)
        except AgentError as exc:
            self.ui(self.notify, exc.message, severity="error")
            return
        self.ui(self.events.add, f"deleted session {name!r}")
        if name == self.session_name:
            remaining = [m.name for m in store.list_sessions()]
            self.ui(self.open_session, remaining[0] if remaining else "main")
        else:
            self.refresh_sessions()

    # -- undo and export ------------------------------------------------------------------------------------

    def action_undo(self) -> None:
        if self.busy:
            self.notify("a build is running: undo after it ends", severity="warning")
            return
        self.undo_last_change(self.session_name)

    @work(thread=True, group="undo", exclusive=True, exit_on_error=False, description="undo")
    def undo_last_change(self, name: str) -> None:
        from app.edits.undo import undo_change
        from app.errors import AgentError

        session = self.app.store.session(name, create=False)
        try:
            result = undo_change(session, use_git=self.app.config.use_git)
        except AgentError as exc:
            self.ui(self.report_undo, None, exc.message)
            return
        self.ui(self.report_undo, result, None)

    async def report_undo(self, result: UndoResult | None, error: str | None) -> None:
        if error is not None:
            await self.chat.add_note(f"undo refused: {error}", "error")
            self.events.add(f"undo refused: {error}", "error")
            self.notify(error, severity="error", title="Undo refused")
            return
        if result is None:
            await self.chat.add_note("nothing to undo in this session", "decision")
            self.notify("nothing to undo in this session")
            return
        files = ", ".join(result.files)
        summary = f"{result.summary or result.undone} ({files})"
        if result.commit:
            summary += f" · commit {result.commit[:8]}"
        await self.chat.add_note(f"↶ undone: {summary}", "applied")
        if result.warning:
            self.events.add(result.warning, "warning")
        self.events.add(f"undone: {summary}", "ok")
        self.refresh_sessions()

    @work(thread=True, group="export", exit_on_error=False, description="export session")
    def export_session(self) -> None:
        from app.workspace import Workspace

        name = self.session_name
        # The same document as `ai --export-session`, written by the workspace.
        session = self.app.store.session(name, create=False)
        target = Workspace(self.app.root, self.app.config, session).write_export()
        self.ui(self.events.add, f"exported session {name!r} to {target}", "ok")
        self.ui(self.notify, str(target), title="Session exported")
