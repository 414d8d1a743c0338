"""The workspace at 80x24, 120x36 and 160x48: the stage bar's labels and the Footer's words are never cut."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from app.events import Stage
from app.tui import WorkspaceApp
from tests.tui.conftest import wait_for_session
from widgets.stage_progress import STAGE_LABELS

SIZES = [(80, 24), (120, 36), (160, 48)]


def stage_words(app: WorkspaceApp) -> list[str]:
    bar = app.main_screen.progress
    text = bar.render()
    assert text.cell_len <= bar.size.width, f"the stage bar is wider than its {bar.size.width} columns"
    return str(text).replace("✓", " ").replace("▸", " ").replace("■", " ").replace("✗", " ").split()


def assert_no_cut_label(words: list[str]) -> None:
    """Each stage shows as its number, maybe followed by its whole label, never part of one."""
    for word in words:
        if word.isdigit() or word == "stopped":
            continue
        assert word in STAGE_LABELS, f"a cut stage label: {word!r} in {words}"


def assert_every_key_has_its_word(footer: Footer) -> None:
    keys = sorted(footer.query(FooterKey), key=lambda key: key.region.x)
    assert keys, "the footer shows no key"
    right = footer.region.x
    for key in keys:
        shown = f"{key.key_display} {key.description}"
        assert key.description, f"{key.key_display} without its word"
        assert key.region.x >= right, f"{shown!r} is drawn over the key before it"
        assert key.region.right <= footer.region.right, f"{shown!r} runs past the footer's end"
        assert key.region.width >= len(shown), f"{shown!r} has {key.region.width} columns"
        right = key.region.right


@pytest.mark.parametrize("size", SIZES)
async def test_stage_labels_and_footer_words_are_whole(workspace: Callable[..., Any], size) -> None:
    app = workspace()
    async with app.run_test(size=size) as pilot:
        await wait_for_session(pilot, "main")
        screen = app.main_screen
        bar = screen.progress
        assert_no_cut_label(stage_words(app))
        assert_every_key_has_its_word(screen.query_one(Footer))

        bar.start(Stage.GOAL)
        bar.finish(Stage.GOAL)
        bar.start(Stage.LOCATE)
        await pilot.pause()
        words = stage_words(app)
        assert_no_cut_label(words)
        assert "Locate" in words  # the running stage is named

        bar.stop()
        await pilot.pause()
        words = stage_words(app)
        assert_no_cut_label(words)
        assert "Locate" in words and "stopped" in words

        # A pending proposal with the diff pane focused: the most keys the workspace offers at once.
        screen.busy = True
        screen.pending = object()  # check_action only asks whether one is pending
        screen.diff.focus()
        await pilot.pause()
        await pilot.pause()
        assert_every_key_has_its_word(screen.query_one(Footer))
        words = [key.description for key in screen.query(FooterKey)]
        assert "Apply" in words and "Quit" in words
        screen.pending = None
        screen.busy = False
