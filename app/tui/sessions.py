"""The workspace's sessions: open (instant, tail first), new, rename, delete, undo, export.

``SessionKeeper`` is a collaborator of the main screen, reaching it through ``Host``: every store call runs on
a worker (a thread, or an async worker where the read is cheaper than the hop), the panes update on the UI.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from app.tui import texts

if TYPE_CHECKING:
    from app.edits.records import UndoResult
    from app.llm.usage import TokenUsage
    from app.tui.host import Host

# How many of a session's last messages are mounted when it opens; older pages follow on scroll.
PAGE = 20


def name_problem(name: str) -> str | None:
    """What is wrong with ``name`` as a session name, in one line, or None: the name dialogs stay open on it."""
    from app.paths import is_valid_session_name, session_name_error

    return None if is_valid_session_name(name) else session_name_error(name)


class SessionKeeper:
    def __init__(self, host: Host) -> None:
        self.host = host
        # The session whose history is fully on screen (None while one loads).
        self.shown_session: str | None = None

    @property
    def store(self) -> Any:
        return self.host.settings.store

    # -- open / switch -------------------------------------------------------------------------------------

    def open_session(self, name: str, then_goal: str | None = None) -> None:
        host = self.host
        if host.busy and name != host.session_name:
            host.notify(texts.SWITCH_WHILE_BUSY, severity="warning")
            return
        host.start_worker(
            self.load_session(name, then_goal), group="session", exclusive=True, description="open session"
        )

    async def load_session(self, name: str, then_goal: str | None = None) -> None:
        # The store's reads take a few milliseconds even for 2,000 messages (its parse cache; measured in
        # tests/benchmarks/bench_tui.py), less than a hop to a worker thread and back costs on a loaded
        # machine: so they run here, in an async worker that a newer switch cancels.
        started = time.perf_counter()
        store = self.store
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
        from app.tui.messages import SessionShown

        host = self.host
        self.shown_session = None
        if name != host.session_name or not host.usage.total:
            from app.llm.usage import TokenUsage

            host.usage = host.turn_usage = TokenUsage()
            self.add_stored_usage(name)
        if name != host.session_name:
            # What the diff pane showed belongs to the session left (QA.md).
            await host.diff.clear(texts.NO_PROPOSAL)
        host.session_name = name
        host.session_list.show_sessions(metas, name)
        await host.chat.show_history(tail, first_index)
        if not host.settings.config.has_model:
            await host.chat.add_message("assistant", texts.NO_MODEL_HELP)
        host.settings.last_switch_seconds = time.perf_counter() - started
        self.shown_session = name
        if host.settings.background:
            host.run_background(name)
        host.app.post_message(SessionShown(name))
        if then_goal:
            await host.start_build(then_goal)

    def add_stored_usage(self, name: str) -> None:
        """Add the session's stored usage to the status line (off the first paint: it reads every message)."""

        def count() -> None:
            from app.llm.usage import stored_usage

            total = stored_usage(self.store.session(name, create=False).messages())
            if total.total:
                self.host.ui(self._add_tokens, name, total)

        self.host.start_worker(count, group="usage", exclusive=True, description="token usage", thread=True)

    def _add_tokens(self, name: str, count: TokenUsage) -> None:
        if name == self.host.session_name:
            self.host.usage = self.host.usage + count

    def load_older(self, before: int) -> None:
        name = self.host.session_name

        def load() -> None:
            page = self.store.session(name, create=False).messages(limit=PAGE, before=before)
            self.host.ui(self.host.chat.prepend, page, before - len(page))

        self.host.start_worker(load, group="older", exclusive=True, description="older messages", thread=True)

    def refresh_sessions(self, cursor: str | None = None) -> None:
        """Re-read the list; its highlight stays where the user left it (or moves to ``cursor``): a refresh
        after a rename, an undo or an apply must not move what the next F2 or Delete acts on."""

        def refresh() -> None:
            metas = [m.to_dict() for m in self.store.list_sessions()]
            self.host.ui(self._show_refreshed, metas, cursor)

        self.host.start_worker(
            refresh, group="session-list", exclusive=True, description="sessions", thread=True
        )

    def _show_refreshed(self, metas: list[dict[str, Any]], cursor: str | None) -> None:
        listing = self.host.session_list
        listing.show_sessions(metas, self.host.session_name, cursor or listing.highlighted_name)

    # -- new, rename, delete --------------------------------------------------------------------------------

    def ask_new_session(self) -> None:
        from widgets.dialogs import PromptScreen

        def named(name: str | None) -> None:
            if name:
                self.create_session(name)

        prompt = PromptScreen(
            texts.NEW_SESSION_PROMPT, placeholder=texts.NEW_SESSION_PLACEHOLDER, validate=name_problem
        )
        self.host.app.push_screen(prompt, named)

    def create_session(self, name: str) -> None:
        from app.paths import is_valid_session_name, session_name_error

        if not is_valid_session_name(name):
            self.host.notify(session_name_error(name), severity="error")
            return
        if self.store.exists(name):
            self.host.notify(texts.SESSION_EXISTS.format(name=name))
        self.open_session(name)

    def ask_rename(self, old: str) -> None:
        from widgets.dialogs import PromptScreen

        def named(new: str | None) -> None:
            if new and new != old:
                self.rename_session(old, new)

        prompt = PromptScreen(texts.RENAME_PROMPT.format(name=old), value=old, validate=name_problem)
        self.host.app.push_screen(prompt, named)

    def rename_session(self, old: str, new: str) -> None:
        host = self.host

        def rename() -> None:
            from app.errors import AgentError

            try:
                self.store.rename_session(old, new)
            except AgentError as exc:
                host.ui(host.notify, exc.message, severity="error")
                return
            if host.session_name == old:
                host.ui(setattr, host, "session_name", new)
                if host.settings.background:  # the services hold the old session: start them on the new name
                    host.ui(host.run_background, new)
            host.ui(host.events.add, texts.RENAMED.format(old=old, new=new))
            self.refresh_sessions(cursor=new)

        host.start_worker(rename, group="session-edit", description="rename session", thread=True)

    def ask_delete(self, name: str) -> None:
        from widgets.dialogs import ConfirmScreen

        if self.host.busy and name == self.host.session_name:
            self.host.notify(texts.DELETE_WHILE_BUSY, severity="warning")
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.delete_session(name)

        self.host.app.push_screen(ConfirmScreen(texts.DELETE_QUESTION.format(name=name)), confirmed)

    def delete_session(self, name: str) -> None:
        host = self.host

        def delete() -> None:
            from app.errors import AgentError

            try:
                self.store.delete_session(name)
            except AgentError as exc:
                host.ui(host.notify, exc.message, severity="error")
                return
            host.ui(host.events.add, texts.DELETED.format(name=name))
            if name == host.session_name:
                remaining = [m.name for m in self.store.list_sessions()]
                host.ui(host.open_session, remaining[0] if remaining else "main")
            else:
                self.refresh_sessions()

        host.start_worker(delete, group="session-edit", description="delete session", thread=True)

    # -- undo and export ------------------------------------------------------------------------------------

    def undo(self) -> None:
        host = self.host
        if host.busy:
            host.notify(texts.UNDO_WHILE_BUSY, severity="warning")
            return
        name = host.session_name

        def undo_last_change() -> None:
            from app.errors import AgentError
            from app.workspace import Workspace

            session = self.store.session(name, create=False)
            try:
                result = Workspace(host.settings.root, host.settings.config, session).undo_last_change()
            except AgentError as exc:
                host.ui(self.report_undo, None, exc.message)
                return
            host.ui(self.report_undo, result, None)

        host.start_worker(undo_last_change, group="undo", exclusive=True, description="undo", thread=True)

    async def report_undo(self, result: UndoResult | None, error: str | None) -> None:
        chat, events = self.host.chat, self.host.events
        if error is not None:
            await chat.add_note(texts.UNDO_REFUSED.format(error=error), "error")
            events.add(texts.UNDO_REFUSED.format(error=error), "error")
            self.host.notify(error, severity="error", title=texts.UNDO_REFUSED_TITLE)
            return
        if result is None:
            await chat.add_note(texts.NOTHING_TO_UNDO, "decision")
            self.host.notify(texts.NOTHING_TO_UNDO)
            return
        files = ", ".join(result.files)
        summary = f"{result.summary or result.undone} ({files})"
        if result.commit:
            summary += texts.COMMIT.format(short=result.commit[:8])
        await chat.add_note(texts.UNDONE_NOTE.format(summary=summary), "applied")
        if result.warning:
            events.add(result.warning, "warning")
        events.add(texts.UNDONE_LINE.format(summary=summary), "ok")
        self.refresh_sessions()

    def export_session(self) -> None:
        host = self.host
        name = host.session_name

        def export() -> None:
            from app.workspace import Workspace

            # The same document as `ai --export-session`, written by the workspace.
            session = self.store.session(name, create=False)
            target = Workspace(host.settings.root, host.settings.config, session).write_export()
            host.ui(host.events.add, texts.EXPORTED.format(name=name, path=target), "ok")
            host.ui(host.notify, str(target), title=texts.EXPORTED_TITLE)

        host.start_worker(export, group="export", description="export session", thread=True)
