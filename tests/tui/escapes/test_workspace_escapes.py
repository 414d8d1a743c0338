"""The workspace's other faces, through Pilot: toasts, the goal input (a pasted goal), the suggestions
picker and the dialogs. What is checked is the screen Textual draws (its screenshot holds the text of every
cell as written to the terminal): no raw control, the text shown escaped, and no outside text read as markup.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from textual import events

from app.config import Config
from app.suggest import Suggestion
from app.tui import make_app
from tests.support.escapes import PAYLOAD, RAW, TITLE
from tests.tui.conftest import SIZE, wait_for_session, wait_until
from widgets.dialogs import ConfirmScreen, PromptScreen
from widgets.goal_input import GoalInput
from widgets.suggestions import SuggestionsScreen

SHOWN = "alpha\\x1b]52;c;"


def workspace(root: Path):
    return make_app(root, "main", config=Config(), background=False, label="~/project")


def drawn(app) -> str:
    """The text of every cell on screen, row after row (from Textual's screenshot of its segments)."""
    svg = app.export_screenshot()
    cells = "".join(re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.DOTALL))
    return html.unescape(cells).replace("\xa0", " ")


def raw_controls(screen: str) -> list[str]:
    return sorted({f"U+{ord(ch):04X}" for ch in screen if ch in RAW})


async def test_a_toast_shows_an_error_escaped_and_never_as_markup(project: Path) -> None:
    app = workspace(project)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for_session(pilot, "main")
        app.main_screen.notify(f"failed: {PAYLOAD} [b]x[/b] [@click=app.quit]quit[/]", title=f"t{TITLE}")
        await wait_until(pilot, lambda: "failed:" in drawn(app), what="the toast")
        screen = drawn(app)
        assert not raw_controls(screen)
        assert SHOWN in screen and "[b]x[/b]" in screen and "[@click=app.quit]quit[/]" in screen


async def test_a_pasted_goal_is_drawn_escaped_and_kept_as_pasted(project: Path) -> None:
    app = workspace(project)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        goal = app.main_screen.query_one("#goal", GoalInput)
        goal.focus()
        goal.post_message(events.Paste(f"fix {TITLE}"))
        await wait_until(pilot, lambda: goal.value.startswith("fix"), what="the paste")
        screen = drawn(app)
        assert not raw_controls(screen)
        assert "fix \\x1b]0;owned" in screen  # (Rich drops the BEL itself)
        assert goal.value == f"fix {TITLE}"  # the goal itself is what was pasted


async def test_suggestions_and_dialogs_show_repository_text_escaped(project: Path) -> None:
    found = Suggestion(kind="todo", title=f"TODO {PAYLOAD}", reason=f"a TODO {TITLE}", path="notes\x1b[2J.py")
    app = workspace(project)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        for screen in (
            SuggestionsScreen([found], "heuristic"),
            ConfirmScreen(f"Delete {PAYLOAD}? [y/N]"),
            PromptScreen(f"Rename {PAYLOAD} to", value=f"new{TITLE}"),
        ):
            app.push_screen(screen)
            await wait_until(pilot, lambda: SHOWN in drawn(app), what=type(screen).__name__)
            shown = drawn(app)
            assert not raw_controls(shown), type(screen).__name__
            screen.dismiss(None)
            await wait_until(pilot, lambda: app.screen is app.main_screen, what="back to the workspace")
        app.push_screen(ConfirmScreen("Delete it? [y/N]"))
        await wait_until(pilot, lambda: "[y/N]" in drawn(app), what="the question, as written")


async def test_the_workspace_export_keeps_no_control_raw(project: Path, agent_home: Path) -> None:
    from app.session.store import ProjectStore

    ProjectStore(project).session("main").append_message("assistant", PAYLOAD)
    app = workspace(project)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        app.main_screen.export_session()  # the palette's "Export session"
        exports = agent_home / "exports"
        await wait_until(pilot, lambda: exports.is_dir() and any(exports.iterdir()), what="the export")
    (exported,) = exports.iterdir()
    text = exported.read_text(encoding="utf-8")
    assert not raw_controls(text)
    assert [m["content"] for m in json.loads(text)["messages"]] == [PAYLOAD]
