"""Pilot tests of the workspace without a model: panes, sessions, paging, keys, palette, narrow terminals."""

from __future__ import annotations

from pathlib import Path

from textual.binding import Binding
from textual.dom import DOMNode
from textual.widgets import Input
from textual.worker import WorkerState

from app.config import Config
from app.events import FileChanged
from app.session.store import ProjectStore
from app.tui import WorkspaceApp
from app.tui.main_screen import MainScreen
from app.tui.messages import BackgroundNotice, SessionShown
from app.tui.sessions import PAGE
from tests.tui.conftest import (
    SIZE,
    Posted,
    feed_messages,
    history_document,
    run_command,
    wait_for_session,
    wait_until,
    wait_until_watching,
)
from widgets.chat_view import ChatView
from widgets.dialogs import ConfirmScreen, PromptScreen
from widgets.goal_input import GoalInput
from widgets.session_list import SessionList
from widgets.status_line import StatusLine


def chat_text(app: WorkspaceApp) -> str:
    return app.main_screen.chat.transcript()


async def test_opens_without_a_model_and_says_how_to_configure_one(workspace, store: ProjectStore) -> None:
    app = workspace()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        text = chat_text(app)
        for needle in ("No model is configured", "OPENAI_BASE_URL", "OPENAI_API_KEY", "AI_AGENT_MODEL"):
            assert needle in text
        status = str(app.main_screen.query_one(StatusLine).render())
        assert "session main" in status and "no model" in status
        # Typing a goal without a model keeps the goal and answers, never crashes (tests/tui/test_no_model.py).
        await pilot.click("#goal")
        await pilot.press(*"add a test", "enter")
        await wait_until(pilot, lambda: "no model endpoint configured" in chat_text(app), what="the answer")
        assert "add a test" in chat_text(app)
        await wait_until(pilot, lambda: app.main_screen.busy is False, what="the run to end")
    assert store.exists("main") and store.active_name() == "main"


async def test_every_binding_has_an_id_and_a_description(workspace) -> None:
    app = workspace()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        classes: list[type[DOMNode]] = [type(app), MainScreen, SessionList, ConfirmScreen, PromptScreen]
        from widgets.approval import ApprovalScreen
        from widgets.diff_preview import DiffPreview

        classes += [ApprovalScreen, DiffPreview]
        for cls in classes:
            for binding in cls.BINDINGS:
                assert isinstance(binding, Binding), f"{cls.__name__} has a binding given as a tuple"
                assert binding.id, f"{cls.__name__} {binding.key} has no id"
                assert binding.description, f"{cls.__name__} {binding.key} has no description"


async def test_approve_and_reject_are_greyed_out_when_nothing_is_pending(workspace) -> None:
    app = workspace()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        screen = app.main_screen
        for action in ("apply", "reject", "review", "stop"):
            assert screen.check_action(action, ()) is None
        assert screen.check_action("undo", ()) is True
        # Pressed anyway (focus outside the input): nothing happens, nothing is asked.
        screen.query_one("#diff").focus()
        await pilot.press("y", "n", "a")
        assert app.screen is screen


async def test_new_session_from_the_keyboard(workspace, store: ProjectStore) -> None:
    app = workspace()
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await wait_for_session(pilot, "main")
        await pilot.press("ctrl+n")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"dark-mode", "enter")
        await wait_for_session(pilot, "dark-mode")
        names = [o.id for o in app.main_screen.query_one(SessionList).options]
        assert set(names) == {"main", "dark-mode"}
        # An invalid name is refused in the dialog (tests/tui/test_session_keys.py); escape creates nothing.
        await pilot.press("ctrl+n", *".hidden", "enter")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert app.main_screen.session_name == "dark-mode"
        assert [m.name for m in posted.of(SessionShown)] == ["main", "dark-mode"]
    assert store.active_name() == "dark-mode"
    assert sorted(m.name for m in store.list_sessions()) == ["dark-mode", "main"]


async def test_switch_rename_and_delete_from_the_sidebar(workspace, store: ProjectStore) -> None:
    store.import_session(history_document("other", 3))
    app = workspace()
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await wait_for_session(pilot, "main")
        sessions = app.main_screen.query_one(SessionList)
        sessions.focus()
        sessions.highlighted = [o.id for o in sessions.options].index("other")
        await pilot.press("enter")
        await wait_for_session(pilot, "other")
        assert [m.name for m in posted.of(SessionList.Open)] == ["other"]
        assert [m.name for m in posted.of(SessionShown)] == ["main", "other"]
        assert "message number 2" in chat_text(app)
        assert store.active_name() == "other"

        # Rename (F2) the highlighted session.
        sessions.focus()
        sessions.highlighted = [o.id for o in sessions.options].index("other")
        await pilot.press("f2")
        assert isinstance(app.screen, PromptScreen)
        app.screen.query_one(Input).value = ""
        await pilot.press(*"renamed", "enter")
        await wait_until(
            pilot, lambda: WorkerState.SUCCESS in posted.worker_states("session-edit"), what="rename"
        )
        assert [m.name for m in posted.of(SessionList.RenameWanted)] == ["other"]
        assert store.exists("renamed") and not store.exists("other")
        await wait_until(pilot, lambda: app.main_screen.session_name == "renamed", what="renamed in status")

        # Delete asks first: n keeps it, y removes it.
        sessions.focus()
        await wait_until(pilot, lambda: "main" in [o.id for o in sessions.options])
        sessions.highlighted = [o.id for o in sessions.options].index("main")
        await pilot.press("delete")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert store.exists("main")
        sessions.highlighted = [o.id for o in sessions.options].index("main")
        await pilot.press("delete")
        await pilot.press("y")
        await wait_until(
            pilot, lambda: posted.worker_states("session-edit").count(WorkerState.SUCCESS) == 2, what="delete"
        )
        assert [m.name for m in posted.of(SessionList.DeleteWanted)] == ["main", "main"]
        assert not store.exists("main")
        await wait_until(pilot, lambda: [o.id for o in sessions.options] == ["renamed"], what="list refresh")


async def test_long_history_shows_its_tail_first_and_older_pages_on_scroll(workspace, store) -> None:
    store.import_session(history_document("long", 2000))
    app = workspace("long")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "long")
        chat = app.main_screen.query_one(ChatView)
        assert chat.first_index == 2000 - PAGE
        text = chat_text(app)
        assert "message number 1999" in text and f"message number {2000 - PAGE - 1}" not in text
        assert f"{2000 - PAGE} earlier messages" in text
        chat.scroll_home(animate=False, immediate=True)
        await wait_until(pilot, lambda: chat.first_index == 2000 - 2 * PAGE, what="the page before")
        assert f"message number {2000 - 2 * PAGE}" in chat_text(app)
        # The keyboard way (ctrl+o) loads the next older page.
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: chat.first_index == 2000 - 3 * PAGE, what="another page")


async def test_narrow_terminal_stays_usable(workspace) -> None:
    app = workspace()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        screen = app.main_screen
        assert screen.has_class("-narrow")
        sessions = screen.query_one(SessionList)
        assert sessions.display is False or sessions.region.width == 0
        # With nothing to review the diff pane folds away too and the conversation takes the width.
        assert screen.query_one("#chat").region.width >= 70
        for selector in ("#chat", "#goal", "#status", "#stages"):
            region = screen.query_one(selector).region
            assert region.width > 0 and region.height > 0, selector
            assert region.right <= 80 and region.bottom <= 24, selector
        assert screen.query_one("#chat").region.width >= 35
        # ctrl+b brings the session list back over the narrow layout; typing still reaches the input.
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert sessions.region.width > 0
        await pilot.press("escape")
        await pilot.press(*"hello")
        assert screen.query_one("#goal", GoalInput).value == "hello"


async def test_palette_offers_the_workspace_commands(workspace, store, agent_home: Path) -> None:
    store.import_session(history_document("other", 2))
    app = workspace()
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await wait_for_session(pilot, "main")
        await run_command(pilot, "Switch session: other")
        await wait_for_session(pilot, "other")
        assert [m.name for m in posted.of(SessionShown)] == ["main", "other"]

        await run_command(pilot, "Export session")
        await wait_until(pilot, lambda: WorkerState.SUCCESS in posted.worker_states("export"), what="export")
        assert list((agent_home / "exports").glob("other-*.json"))

        await run_command(pilot, "New session")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptScreen), what="prompt")


async def test_rerun_tests_reports_in_the_event_log(workspace, project: Path) -> None:
    (project / "check.sh").write_text("echo '3 passed'\n")
    app = workspace(config=Config(test_cmd="sh check.sh"), trust=True)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await wait_for_session(pilot, "main")
        await run_command(pilot, "Rerun tests")
        await wait_until(pilot, lambda: WorkerState.SUCCESS in posted.worker_states("tests"), what="test run")
        assert ("ok", "tests passed · 3 passed") in app.main_screen.events.entries


async def test_background_file_changes_reach_the_event_log(workspace, project: Path) -> None:
    app = workspace(config=Config(lsp=False, watch_tests=False), background=True)
    posted = Posted()

    def changed() -> list[FileChanged]:
        notices = [m.event for m in posted.of(BackgroundNotice) if isinstance(m.event, FileChanged)]
        return [e for e in notices if "notes.md" in e.paths]

    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await wait_for_session(pilot, "main")
        await wait_until_watching(pilot)
        (project / "notes.md").write_text("draft\n")
        await wait_until(pilot, changed, what="the watcher's notice of the saved file")
        await wait_until(
            pilot, lambda: "notes.md changed" in feed_messages(pilot), what="the saved file in the event log"
        )


TWO_FILE_DIFFS = {
    "a.py": "--- a/a.py\n+++ b/a.py\n@@ -1,1 +1,1 @@\n-x = 1\n+x = 2\n@@ -9,1 +9,1 @@\n-y = 1\n+y = 2\n",
    "b.py": "--- a/b.py\n+++ b/b.py\n@@ -1,1 +1,1 @@\n-z = 1\n+z = 2\n",
}


async def test_diff_pane_moves_between_hunks_and_files(workspace) -> None:
    app = workspace()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        diff = app.main_screen.diff
        await diff.show_diffs(TWO_FILE_DIFFS)
        assert diff.border_title == "Diff (2 files, 3 hunks)"
        diff.focus()
        await pilot.press("right_square_bracket")
        assert diff.cursor == 2  # the first hunk of b.py
        await pilot.press("left_square_bracket")
        assert diff.cursor == 0
        await pilot.press("j", "space")
        assert diff.selection() == {"a.py": [0], "b.py": [0]}
        current = [v for v in diff.hunk_views if v.has_class("-current")]
        assert [(v.path, v.index) for v in current] == [("a.py", 1)] and current[0].has_class("-rejected")
        await pilot.press("k", "space")
        assert diff.selection() == {"a.py": [], "b.py": [0]}  # every hunk of a.py skipped: it is left out


async def test_goal_input_recalls_earlier_goals(workspace) -> None:
    app = workspace()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        goal = app.main_screen.query_one("#goal", GoalInput)
        goal.focus()
        for text in ("first goal", "second goal"):
            await pilot.press(*text, "enter")
        assert goal.value == ""
        await pilot.press("up")
        assert goal.value == "second goal"
        await pilot.press("up")
        assert goal.value == "first goal"
        await pilot.press("down", "down")
        assert goal.value == ""


async def test_renaming_the_open_session_moves_its_background_services(workspace, store) -> None:
    app = workspace(config=Config(lsp=False, watch_tests=False), background=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        screen = app.main_screen
        await wait_until(pilot, lambda: screen.services is not None, what="services")
        sessions = screen.query_one(SessionList)
        sessions.focus()
        await pilot.press("f2")
        app.screen.query_one(Input).value = ""
        await pilot.press(*"renamed", "enter")
        await wait_until(pilot, lambda: screen.session_name == "renamed", what="rename")
        await wait_until(
            pilot,
            lambda: screen.services is not None and screen.services.session.name == "renamed",
            what="services on the new name",
        )
        assert not [m for level, m in screen.events.entries if level == "error"]
    assert store.exists("renamed") and not store.exists("main")


STORED_REPLY = (
    "Plan: make subtract subtract.\n\n```\n<<<<<<< REPLACE calc/ops.py\ndef subtract(a, b):\n    return a + b\n"
    "=======\ndef subtract(a, b):\n    return a - b\n>>>>>>> END\n```\n\n"
    "<<<<<<< CREATE calc/__init__.py\nfrom .ops import subtract\n>>>>>>> END\n"
)


async def test_stored_replies_show_edit_blocks_as_one_line_each(workspace, store) -> None:
    """Markdown reads `<<<<<<<` as nested blockquotes (▌ ▌ ▌): history shows "✎ REPLACE path" instead."""
    from rich.console import Console

    document = history_document("edits", 2)
    document["messages"][1]["content"] = STORED_REPLY
    store.import_session(document)
    app = workspace("edits")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "edits")
        reply = app.main_screen.chat.query(".message.assistant").first()
        console = Console(width=80, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
        console.print(reply.content)
        shown = console.export_text()
    assert "✎ REPLACE calc/ops.py" in shown and "✎ CREATE calc/__init__.py" in shown
    assert "Plan: make subtract subtract." in shown
    for garble in ("▌", "<<<<<<<", "=======", ">>>>>>>", "return a + b"):
        assert garble not in shown


async def test_status_line_counts_the_sessions_stored_token_usage(workspace, store) -> None:
    document = history_document("used", 6)
    for message in document["messages"][1::2]:  # three stored replies of 500 tokens each
        message["usage"] = {"prompt_tokens": 400, "completion_tokens": 100, "total_tokens": 500}
    store.import_session(document)
    store.import_session(history_document("fresh", 2))
    app = workspace("used")
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await wait_for_session(pilot, "used")
        status = app.main_screen.query_one(StatusLine)
        await wait_until(pilot, lambda: "1.5k tok" in str(status.render()), what="stored usage")
        app.main_screen.open_session("fresh")
        await wait_for_session(pilot, "fresh")
        assert [m.name for m in posted.of(SessionShown)] == ["used", "fresh"]
        await wait_until(pilot, lambda: "0 tok" in str(status.render()), what="the other session's usage")
