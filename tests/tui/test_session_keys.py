"""Pilot tests of the session list's keys: the cursor after a rename, a refused name kept in its dialog."""

from __future__ import annotations

from textual.widgets import Input, Label
from textual.worker import WorkerState

from app.session.store import ProjectStore
from tests.tui.conftest import SIZE, Posted, history_document, wait_for_session, wait_until
from widgets.dialogs import ConfirmScreen, PromptScreen
from widgets.session_list import SessionList


async def test_the_cursor_stays_on_the_renamed_session_and_delete_targets_it(
    workspace, store: ProjectStore
) -> None:
    store.import_session(history_document("other", 3))
    app = workspace()
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await wait_for_session(pilot, "main")
        sessions = app.main_screen.query_one(SessionList)
        sessions.focus()
        sessions.highlighted = [o.id for o in sessions.options].index("other")
        await pilot.press("f2")
        assert isinstance(app.screen, PromptScreen)
        app.screen.query_one(Input).value = ""
        await pilot.press(*"renamed", "enter")
        await wait_until(
            pilot, lambda: "renamed" in [o.id for o in sessions.options], what="the list to show the new name"
        )
        assert app.main_screen.session_name == "main"
        assert sessions.highlighted_name == "renamed"
        # The next Delete asks about the renamed session, not the open one.
        await pilot.press("delete")
        assert isinstance(app.screen, ConfirmScreen)
        assert "renamed" in str(app.screen.query_one("#question", Label).render())
        await pilot.press("y")
        await wait_until(
            pilot, lambda: posted.worker_states("session-edit").count(WorkerState.SUCCESS) == 2, what="delete"
        )
        assert [m.name for m in posted.of(SessionList.DeleteWanted)] == ["renamed"]
    assert store.exists("main") and not store.exists("renamed")


async def test_an_invalid_new_session_name_keeps_the_dialog_and_its_text(
    workspace, store: ProjectStore
) -> None:
    app = workspace()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        await pilot.press("ctrl+n", *".hidden", "enter")
        await pilot.pause()
        prompt = app.screen
        assert isinstance(prompt, PromptScreen), "the dialog closed on an invalid name"
        assert prompt.query_one(Input).value == ".hidden"
        error = str(prompt.query_one("#prompt-error", Label).render())
        assert "invalid session name" in error and "\n" not in error
        # Corrected in place, it creates the session.
        prompt.query_one(Input).value = "hidden"
        await pilot.press("enter")
        await wait_for_session(pilot, "hidden")
    assert sorted(m.name for m in store.list_sessions()) == ["hidden", "main"]
