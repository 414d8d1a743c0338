"""Pilot tests of the help screen: F1 anywhere and ``?`` outside a text input open it; it lists every key the
bindings declare, by where it works, and the slash commands; it scrolls at 80x24; escape, F1 or q close it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.containers import VerticalScroll
from textual.widgets import Static

from app.tui.help_screen import HelpScreen
from app.tui.keys import collected_keys
from app.tui.slash import SLASH_COMMANDS
from tests.tui.conftest import SIZE, wait_for_session, wait_until
from widgets.approval import ApprovalScreen
from widgets.goal_input import GoalInput


def help_text(screen: HelpScreen) -> str:
    """What the help shows, as plain text at its width."""
    from rich.console import Console

    body = screen.query_one("#help-text", Static)
    console = Console(width=body.size.width or 100, color_system=None)
    with console.capture() as capture:
        console.print(body.content)
    return capture.get()


async def open_help(pilot: Any, key: str) -> HelpScreen:
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), what=f"{key} to open the help")
    screen = pilot.app.screen
    assert isinstance(screen, HelpScreen)
    await pilot.pause()
    return screen


async def test_f1_lists_every_key_by_place_and_the_slash_commands(workspace: Callable[..., Any]) -> None:
    app = workspace()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        screen = await open_help(pilot, "f1")
        shown = help_text(screen)
        assert "type a goal" in shown and "ctrl+z" in shown
        for key in collected_keys():
            assert key.place in shown, key.place
            assert key.shown in shown, f"{key.shown} ({key.place}) is not in the help"
        for command in SLASH_COMMANDS:
            assert command.usage in shown
        # The workspace's own keys, with what they do.
        assert "stop the running build" in shown and "search in the conversation" in shown
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen), what="escape to close it")
        assert app.main_screen.focused is app.main_screen.query_one(GoalInput)


@pytest.mark.parametrize("closing", ["f1", "q", "escape"])
async def test_the_help_closes_with_escape_f1_or_q(workspace: Callable[..., Any], closing: str) -> None:
    app = workspace()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        await open_help(pilot, "f1")
        await pilot.press(closing)
        await wait_until(pilot, lambda: app.screen is app.main_screen, what=f"{closing} to close the help")


async def test_question_mark_opens_the_help_outside_the_input_and_types_in_it(
    workspace: Callable[..., Any],
) -> None:
    app = workspace()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        goal = app.main_screen.query_one(GoalInput)
        assert app.main_screen.focused is goal
        await pilot.press("w", "h", "y", "question_mark")
        await pilot.pause()
        assert goal.value == "why?"
        assert app.screen is app.main_screen
        app.main_screen.session_list.focus()
        await open_help(pilot, "question_mark")
        await pilot.press("q")
        await wait_until(pilot, lambda: app.screen is app.main_screen, what="q to close the help")
        assert goal.value == "why?"


async def test_f1_works_over_a_modal_and_the_help_scrolls_at_80x24(workspace: Callable[..., Any]) -> None:
    app = workspace()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_session(pilot, "main")
        app.push_screen(
            ApprovalScreen({"a.py": "--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-a\n+b\n"}, set(), dict)
        )
        await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen), what="the approval")
        screen = await open_help(pilot, "f1")
        body = screen.query_one("#help-body", VerticalScroll)
        assert body.max_scroll_y > 0, "the help fits at 80x24: nothing to scroll"
        await pilot.press("end")
        await wait_until(
            pilot, lambda: body.scroll_y == body.max_scroll_y, what="the help to scroll to its end"
        )
        await pilot.press("f1")
        await wait_until(
            pilot, lambda: isinstance(app.screen, ApprovalScreen), what="F1 back to the approval"
        )
