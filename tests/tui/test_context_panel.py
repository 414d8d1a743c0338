"""The context panel (ctrl+t) against a real build on the scripted model server: the files of the goal's
context with why they are there and what they cost, the history's share and the window's fill, growing as a
READ round adds a file; ctrl+t hides it again. At 80x24 it takes the diff pane's place, at 160x48 it sits
beside it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from app.config import Config
from app.tui import make_app, texts
from app.tui.context_pane import ContextPane
from tests.conftest import git
from tests.model_server import ScriptedModelServer
from tests.tui.builds import model_config, submit_goal, wait_for_approval
from tests.tui.conftest import FROZEN_TIME, SIZE, wait_for_session, wait_until

OPS = "def add(a, b):\n    return a + b\n\n\ndef subtract(a, b):\n    return a + b\n"
TEXTS = "def shout(text):\n    return text.upper()\n"
EDIT = (
    "Plan: make `subtract` subtract.\n\n"
    "<<<<<<< REPLACE calc/ops.py\ndef subtract(a, b):\n    return a + b\n=======\n"
    "def subtract(a, b):\n    return a - b\n>>>>>>> END\n"
)


@pytest.fixture
def calc(git_project: Path) -> Path:
    (git_project / "calc").mkdir()
    (git_project / "calc" / "__init__.py").write_text("")
    (git_project / "calc" / "ops.py").write_text(OPS)
    (git_project / "calc" / "texts.py").write_text(TEXTS)
    git(git_project, "add", ".")
    git(git_project, "commit", "-q", "-m", "calc")
    return git_project


def panel_text(panel: ContextPane) -> str:
    """What the panel shows, as text (at a width where no row wraps: the panel may be hidden by a proposal
    that waits when this is read)."""
    console = Console(width=80, file=io.StringIO(), record=True)
    console.print(panel.render_view())
    return console.export_text()


def row_of(text: str, path: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(path))


async def test_ctrl_t_shows_the_goals_files_with_why_and_the_fill_then_hides(
    calc: Path, tmp_path: Path
) -> None:
    cue = tmp_path / "go-on"
    script = {
        "rules": [
            # The first answer waits for the test's cue, then asks to READ a file the goal did not name.
            {
                "when": {"request": 1},
                "hold_until": str(cue),
                "reply": "<<<<<<< READ calc/texts.py\n>>>>>>> END\n",
            }
        ],
        "default": {"reply": EDIT},
    }
    with ScriptedModelServer(script) as server:
        app = make_app(
            calc, "main", config=model_config(server.base_url, model="gpt-4o"), clock=lambda: FROZEN_TIME
        )
        async with app.run_test(size=SIZE) as pilot:
            await wait_for_session(pilot, "main")
            screen = app.main_screen
            panel = screen.query_one(ContextPane)
            assert not panel.display
            await pilot.press("ctrl+t")
            await wait_until(pilot, lambda: panel.display and panel.region.width > 0, what="the panel shown")
            assert texts.CONTEXT_EMPTY in panel_text(panel)
            assert not screen.diff.display  # at 120 columns the panel takes the diff pane's place

            await submit_goal(pilot, "make subtract subtract in calc/ops.py")
            await wait_until(pilot, lambda: "calc/ops.py" in panel_text(panel), what="the goal's context")
            shown = panel_text(panel)
            assert "named" in row_of(shown, "calc/ops.py")
            assert "of 128k tokens" in shown  # gpt-4o's window
            assert "calc/texts.py" not in shown
            assert "history: none sent" in shown

            cue.write_text("")
            await wait_until(
                pilot, lambda: "calc/texts.py" in panel_text(panel), what="the READ file joining"
            )
            assert "READ" in row_of(panel_text(panel), "calc/texts.py")
            assert "always" in row_of(panel_text(panel), "system prompt")
            await wait_for_approval(pilot)
            await pilot.press("escape")
            # The waiting proposal takes its pane back, with its keys under it; after the decision the panel
            # is there again.
            await wait_until(pilot, lambda: screen.diff.display and not panel.display, what="the diff back")
            await pilot.press("n")
            await wait_until(pilot, lambda: not screen.busy, what="the build to end")
            await wait_until(pilot, lambda: panel.display and not screen.diff.display, what="the panel back")

            screen.query_one("#goal").focus()
            await pilot.press("ctrl+t")
            await wait_until(pilot, lambda: not panel.display, what="the panel hidden")
            assert screen.diff.display


@pytest.mark.parametrize(("size", "diff_shown"), [((80, 24), False), ((120, 36), False), ((160, 48), True)])
async def test_the_panel_covers_the_diff_below_140_columns_and_sits_beside_it_above(
    project: Path, size: tuple[int, int], diff_shown: bool
) -> None:
    app = make_app(project, "main", config=Config(), background=False, clock=lambda: FROZEN_TIME)
    async with app.run_test(size=size) as pilot:
        await wait_for_session(pilot, "main")
        screen = app.main_screen
        panel = screen.query_one(ContextPane)
        before = screen.diff.display  # at 80 columns an empty diff pane folds away anyway
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: panel.region.width > 0, what="the panel shown")
        assert screen.diff.display is diff_shown
        assert panel.region.right <= size[0] and panel.region.width >= 30  # whole, and wide enough to read
        assert texts.CONTEXT_EMPTY in panel_text(panel)
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: not panel.display, what="the panel hidden")
        assert screen.diff.display is before


def test_the_view_merges_a_files_parts_sorts_largest_first_and_says_the_limit() -> None:
    from app.events import ContextEntry, ContextReady, Why
    from app.tui.context_pane import context_view, short_tokens

    entries = (
        ContextEntry("a.py", Why.NAMED, 300),
        ContextEntry("b.py", Why.SYMBOL, 900),
        ContextEntry("a.py", Why.SEARCH, 20),
    )
    ready = ContextReady(1_220, 0, dropped=("Search hits for x",), entries=entries)
    view = context_view(ready)
    assert view.summary == "1.2k tokens · limit unknown (set context_window)" and view.share is None
    assert list(view.rows) == [("b.py", "symbol", "900"), ("a.py", "named, search hit", "320")]
    assert "the budget (context_tokens) dropped: Search hits for x" in view.notes
    over = context_view(ContextReady(40_000, 0, entries=entries, window=32_768, window_source="config"))
    assert over.summary == "40k of 32.8k tokens (context_window), 122% · over the model's window"
    assert over.share is not None and over.share > 1
    assert [short_tokens(n) for n in (850, 23_400, 128_000, 1_047_576)] == ["850", "23.4k", "128k", "1.05M"]
