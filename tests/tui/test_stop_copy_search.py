"""Pilot tests of escape stopping a running build, copying the last reply and the diff to the clipboard, and
searching the conversation (ctrl+r), against the scripted model server on a real git project."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.session.store import ProjectStore
from app.tui import WorkspaceApp, texts
from app.tui.messages import BuildEnded
from app.tui.search import CURRENT, ConversationSearch
from tests.tui.builds import OPS, PLAN, TWO_HUNKS, diff_note, ops, submit_goal, wait_idle
from tests.tui.builds import build_app as build_app  # fixtures: the App on the project the build edits
from tests.tui.builds import calc as calc
from tests.tui.builds import server as server
from tests.tui.conftest import (
    SIZE,
    Posted,
    feed_messages,
    history_document,
    run_command,
    wait_for_posted,
    wait_for_session,
    wait_until,
)
from widgets.approval import ApprovalScreen
from widgets.goal_input import GoalInput


async def test_escape_stops_a_running_build_as_ctrl_g_does(build_app, calc: Path) -> None:
    app, _ = build_app(
        {"default": {"reply": TWO_HUNKS, "stall": 300, "stall_after": 20}}, stream_idle_timeout=600.0
    )
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await submit_goal(pilot, "fix subtract")
        screen = app.main_screen
        await wait_until(pilot, lambda: screen.chat.streaming, what="the stream to start")
        live = screen.progress.current
        assert screen.focused is screen.query_one(GoalInput)
        await pilot.press("escape")
        await wait_for_posted(pilot, posted, BuildEnded, what="escape to stop the build")
        await wait_idle(pilot)
        assert feed_messages(pilot)[-1] == texts.STOPPED
        assert any(texts.STOPPED_NOTE in str(n.render()) for n in screen.chat.query(".note"))
        assert diff_note(app) == texts.NO_PROPOSAL
        assert screen.progress.stopped == live and screen.progress.current is None
        # Nothing runs now: escape is back to focusing the goal input.
        screen.session_list.focus()
        await pilot.press("escape")
        await pilot.pause()
        assert screen.focused is screen.query_one(GoalInput)
        assert feed_messages(pilot).count(texts.STOPPING) == 1
    assert ops(calc) == OPS


async def test_escape_with_a_proposal_pending_keeps_it_waiting(build_app, calc: Path) -> None:
    app, _ = build_app({"default": {"reply": TWO_HUNKS}})
    async with app.run_test(size=SIZE) as pilot:
        await submit_goal(pilot, "fix subtract")
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen), what="the approval")
        await pilot.press("escape")  # the approval's: back to the workspace
        await wait_until(pilot, lambda: app.screen is app.main_screen, what="the approval to hide")
        await pilot.press("escape")  # the workspace's: the proposal still waits
        await pilot.pause()
        assert app.main_screen.pending is not None and texts.STOPPING not in feed_messages(pilot)
        await pilot.press("y")
        await wait_idle(pilot)
    assert "a - b" in ops(calc)


async def test_ctrl_y_copies_the_last_reply_and_c_the_diff(build_app, calc: Path) -> None:
    app, _ = build_app({"default": {"reply": TWO_HUNKS}})
    notes: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        app.notify = lambda message, **_: notes.append(message)
        await wait_for_session(pilot, "main")
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert notes[-1] == texts.NOTHING_TO_COPY and app.clipboard == ""
        await submit_goal(pilot, "fix subtract")
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen), what="the approval")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.main_screen, what="the approval to hide")
        screen = app.main_screen
        assert screen.focused is screen.diff
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard.startswith("--- ") and "-    return a + b\n+    return a - b" in app.clipboard
        assert app.clipboard.count("@@ ") == 2
        lines = len(app.clipboard.splitlines())
        assert notes[-1] == texts.COPIED_DIFF.format(files=1, files_plural="", lines=lines, plural="s")
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert app.clipboard.startswith(PLAN.strip()) and "<<<<<<<" not in app.clipboard
        assert notes[-1].startswith("copied the last reply (")
        await pilot.press("n")
        await wait_idle(pilot)
        await run_command(pilot, texts.COMMAND_COPY_DIFF[0])
        assert notes[-1] == texts.NOTHING_TO_COPY
        app.copy_to_clipboard("")
        await run_command(pilot, texts.COMMAND_COPY_REPLY[0])
        assert app.clipboard.startswith(PLAN.strip())


async def test_ctrl_r_finds_messages_steps_through_them_and_escape_gives_the_focus_back(
    project: Path, workspace: Callable[..., WorkspaceApp]
) -> None:
    document = history_document("main", 12)
    for number in (2, 5, 9):
        document["messages"][number]["content"] = f"message number {number}: the Parser is slow"
    ProjectStore(project).import_session(document)
    app = workspace()
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_for_session(pilot, "main")
        screen = app.main_screen
        goal = screen.query_one(GoalInput)
        bar = screen.query_one(ConversationSearch)
        assert not bar.display
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert bar.display and screen.focused is bar.field
        await pilot.press(*"parser")
        await pilot.pause()

        def current() -> str:
            marked = screen.chat.query(f".{CURRENT}")
            assert len(marked) == 1
            return str(getattr(marked.first(), "source", ""))

        assert bar.count_text == "1/3" and current().startswith("message number 2:")
        assert screen.chat.scroll_y > 0 or screen.chat.max_scroll_y == 0
        shown_at = screen.chat.scroll_y
        await pilot.press("enter")
        await pilot.pause()
        assert bar.count_text == "2/3" and current().startswith("message number 5:")
        await pilot.press("down")
        await pilot.pause()
        assert bar.count_text == "3/3" and current().startswith("message number 9:")
        assert screen.chat.scroll_y > shown_at
        await pilot.press("down")
        await pilot.pause()
        assert bar.count_text == "1/3"
        await pilot.press("up")
        await pilot.pause()
        assert bar.count_text == "3/3"
        await pilot.press(*"zz")
        await pilot.pause()
        assert bar.count_text == texts.SEARCH_NO_MATCH and not screen.chat.query(f".{CURRENT}")
        await pilot.press("escape")
        await pilot.pause()
        assert not bar.display and screen.focused is goal
        assert not screen.chat.query(".-search-hit")


async def test_no_match_says_how_many_older_messages_were_not_searched(
    project: Path, workspace: Callable[..., WorkspaceApp]
) -> None:
    document = history_document("main", 30)
    document["messages"][3]["content"] = "the Parser is slow"
    ProjectStore(project).import_session(document)
    app = workspace()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        screen = app.main_screen
        older = screen.chat.first_index
        assert older > 3
        await pilot.press("ctrl+r", *"parser")
        await pilot.pause()
        bar = screen.query_one(ConversationSearch)
        assert bar.count_text == texts.SEARCH_NO_MATCH + texts.SEARCH_NOT_LOADED.format(count=older)
