"""Pilot tests of a build in the workspace against the scripted model server: every decision path, undo,
the error feed and stopping. Real project files, real git, the real pipeline; only the model is scripted."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from textual.widgets import Footer, Markdown, TextArea
from textual.worker import WorkerState

from app.events import Applied, Rejected
from app.session.store import ProjectStore
from app.tui.messages import BuildEnded, DecisionWanted, SessionShown
from tests.conftest import git
from tests.tui.builds import (
    OPS,
    commits,
    ops,
    submit_goal,
    wait_for_approval,
    wait_idle,
)
from tests.tui.builds import build_app as build_app  # fixtures
from tests.tui.builds import calc as calc
from tests.tui.builds import server as server
from tests.tui.conftest import (
    SIZE,
    Posted,
    wait_for_posted,
    wait_for_session,
    wait_until,
)
from tests.tui.test_narrow import assert_every_key_has_its_word
from widgets.dialogs import EditorScreen, PromptScreen
from widgets.diff_preview import DiffPreview
from widgets.goal_input import GoalInput


async def test_goal_streams_then_y_applies_and_commits(build_app, calc: Path) -> None:
    from app.events import Usage

    app, model = build_app()
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await submit_goal(pilot, "fix subtract in calc/ops.py")
        approval = await wait_for_approval(pilot)
        assert [m.name for m in posted.of(SessionShown)] == ["main"]
        assert len(posted.of(DecisionWanted)) == 1 and not posted.events(Applied)
        screen = app.main_screen
        replies = [w.source for w in screen.chat.query(Markdown)]
        assert any("Plan: make `subtract` subtract" in text for text in replies)
        assert not any("<<<<<<<" in text or "=======" in text for text in replies)  # blocks go to the diff
        assert len(approval.query_one(DiffPreview).hunk_views) == 2
        assert screen.check_action("apply", ()) is True
        await pilot.press("y")
        await wait_idle(pilot)
        used = sum(u.total_tokens or u.prompt_tokens + u.completion_tokens for u in posted.events(Usage))
        assert screen.usage.total > 0 and screen.usage.total == used
        assert screen.check_action("apply", ()) is None
        [applied] = posted.events(Applied)
        assert list(applied.files) == ["calc/ops.py"]
        assert [m.error for m in posted.of(BuildEnded)] == [None]
    assert "return a - b" in ops(calc) and '"""Sum."""' in ops(calc)
    assert len(commits(calc)) == 3
    assert git(calc, "show", "--name-only", "--format=", "HEAD").split() == ["calc/ops.py"]
    session = ProjectStore(calc).session("main")
    assert session.meta().change_count == 1
    assert any("fix subtract" in m["content"] for m in session.messages() if m["role"] == "user")
    assert model.chat_requests()


@pytest.mark.parametrize("key", ["n", "enter"])
async def test_n_or_enter_rejects_and_changes_nothing(build_app, calc: Path, key: str) -> None:
    app, _ = build_app()
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await submit_goal(pilot, "fix subtract")
        await wait_for_approval(pilot)
        await pilot.press(key)
        await wait_idle(pilot)
        notes = " ".join(str(n.render()) for n in app.main_screen.chat.query(".note"))
        assert "rejected" in notes and "rejected: rejected" not in notes
        assert len(posted.of(DecisionWanted)) == 1 and len(posted.events(Rejected)) == 1
        assert not posted.events(Applied) and [m.error for m in posted.of(BuildEnded)] == [None]
    assert ops(calc) == OPS and len(commits(calc)) == 2


async def test_per_hunk_choice_applies_only_the_kept_hunk(build_app, calc: Path) -> None:
    app, _ = build_app()
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await submit_goal(pilot, "fix subtract")
        approval = await wait_for_approval(pilot)
        await pilot.press("space")  # skip hunk 1 (the docstring)
        assert approval.query_one(DiffPreview).selection() == {"calc/ops.py": [1]}
        await pilot.press("down", "space", "space", "up")  # toggling twice keeps hunk 2
        await pilot.press("y")
        await wait_idle(pilot)
        [applied] = posted.events(Applied)
        assert list(applied.files) == ["calc/ops.py"]
    assert "return a - b" in ops(calc) and '"""Sum."""' not in ops(calc)


async def test_escape_hides_the_approval_and_y_on_the_workspace_applies(build_app, calc: Path) -> None:
    app, _ = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await submit_goal(pilot, "fix subtract")
        approval = await wait_for_approval(pilot)
        await pilot.press("space", "escape")
        screen = app.main_screen
        assert app.screen is screen and screen.pending is not None
        # The hunk choice made in the modal carried over to the workspace's diff.
        await wait_until(pilot, lambda: screen.diff.rejected == {("calc/ops.py", 0)}, what="kept choice")
        assert approval.rejected_hunks == {("calc/ops.py", 0)}
        screen.diff.focus()
        await pilot.press("a")  # review reopens it
        await wait_for_approval(pilot)
        await pilot.press("escape")
        screen.diff.focus()
        await pilot.press("y")
        await wait_idle(pilot)
    assert "return a - b" in ops(calc) and '"""Sum."""' not in ops(calc)


async def test_e_comes_back_to_the_approval_with_the_edited_diff_and_y_applies_it(
    build_app, calc: Path, tmp_path: Path, monkeypatch
) -> None:
    """issue 13: the editor's exit does not apply; the approval shows the edited diff, and y applies it."""
    editor = tmp_path / "fake-editor.sh"
    editor.write_text('#!/bin/sh\nsed -i "s/return a - b/return a - b  # checked/" "$@"\n')
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(editor))
    app, _ = build_app()
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await submit_goal(pilot, "fix subtract")
        approval = await wait_for_approval(pilot)
        await pilot.press("e")
        await wait_until(pilot, lambda: "# checked" in approval.diffs["calc/ops.py"], what="the edited diff")
        assert app.screen is approval and not posted.events(Applied) and "# checked" not in ops(calc)
        await pilot.press("y")
        await wait_idle(pilot)
        assert len(posted.events(Applied)) == 1
    assert "return a - b  # checked" in ops(calc) and '"""Sum."""' in ops(calc)


async def test_an_edit_survives_escape_and_y_on_the_workspace_applies_it(
    build_app, calc: Path, tmp_path: Path, monkeypatch
) -> None:
    editor = tmp_path / "fake-editor.sh"
    editor.write_text('#!/bin/sh\nsed -i "s/return a - b/return a - b  # checked/" "$@"\n')
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(editor))
    app, _ = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await submit_goal(pilot, "fix subtract")
        approval = await wait_for_approval(pilot)
        await pilot.press("e")
        await wait_until(pilot, lambda: "# checked" in approval.diffs["calc/ops.py"], what="the edited diff")
        await pilot.press("escape")
        screen = app.main_screen
        await wait_until(pilot, lambda: app.screen is screen, what="the workspace")
        assert "# checked" in "".join(hunk for file in screen.diff.files for hunk in file.hunks)
        await pilot.press("y")
        await wait_idle(pilot)
    assert "return a - b  # checked" in ops(calc)


async def test_an_editor_that_changes_nothing_applies_nothing(build_app, calc: Path, monkeypatch) -> None:
    """issue 13: quitting the editor unchanged (exit 0) is not an approval."""
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", "true")
    app, _ = build_app()
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await submit_goal(pilot, "fix subtract")
        approval = await wait_for_approval(pilot)
        await pilot.press("e")
        await pilot.pause()
        assert app.screen is approval and app.main_screen.pending is not None
        await pilot.press("n")
        await wait_idle(pilot)
        assert not posted.events(Applied) and len(posted.events(Rejected)) == 1
    assert ops(calc) == OPS


async def test_e_without_editor_uses_the_in_app_editor(build_app, calc: Path, monkeypatch) -> None:
    """ctrl+s in the built-in editor comes back to the approval with the edit; y applies it, the file's
    final newline kept."""
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    app, _ = build_app()
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await submit_goal(pilot, "fix subtract")
        approval = await wait_for_approval(pilot)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen), what="the editor")
        area = app.screen.query_one(TextArea)
        assert "return a - b" in area.text
        # Ending on the last line's text, as the text area shows it: the file's final newline stays.
        area.text = area.text.replace("return a - b", "return a - b  # by hand").rstrip("\n")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is approval, what="the approval again")
        await wait_until(pilot, lambda: "# by hand" in approval.diffs["calc/ops.py"], what="the edited diff")
        assert not posted.events(Applied) and "# by hand" not in ops(calc)
        await pilot.press("y")
        await wait_idle(pilot)
        assert len(posted.events(Applied)) == 1
    assert "return a - b  # by hand\n" in ops(calc) and ops(calc).endswith("  # by hand\n")


async def test_r_revises_with_feedback_in_the_same_turn(build_app, calc: Path) -> None:
    app, model = build_app()
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await submit_goal(pilot, "fix subtract")
        await wait_for_approval(pilot)
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptScreen), what="feedback prompt")
        await pilot.press(*"leave add alone", "enter")
        first, revised = await wait_for_posted(pilot, posted, DecisionWanted, 2, "the revised proposal")
        assert len(model.chat_requests()) == 2 and revised.diff is not first.diff
        approval = await wait_for_approval(pilot)
        assert len(approval.query_one(DiffPreview).hunk_views) == 1
        await pilot.press("y")
        await wait_idle(pilot)
    last = model.chat_requests()[-1]["body"]["messages"][-1]["content"]
    assert "leave add alone" in last
    assert "return -(b - a)" in ops(calc)


async def test_s_asks_for_alternatives_and_offers_the_recommended_one(build_app, calc: Path) -> None:
    app, model = build_app()
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await submit_goal(pilot, "fix subtract")
        await wait_for_approval(pilot)
        await pilot.press("s")
        await wait_for_posted(pilot, posted, DecisionWanted, 2, "the recommended alternative")
        assert len(model.chat_requests()) == 2
        approval = await wait_for_approval(pilot)
        assert "press r and name it" in str(approval.query_one("#approval-title").render())
        replies = " ".join(w.source for w in app.main_screen.chat.query(Markdown))
        assert "Use operator.sub" in replies
        await pilot.press("y")
        await wait_idle(pilot)
    assert "operator.sub(a, b)" in ops(calc)


async def test_undo_takes_the_change_back_and_refuses_on_conflict(build_app, calc: Path) -> None:
    app, _ = build_app()
    posted = Posted()

    async def undo() -> None:
        """ctrl+z, until its worker has ended: by then it has reported on the screen (on the UI thread)."""
        before = len(posted.worker_states("undo"))
        await pilot.press("ctrl+z")
        await wait_until(
            pilot, lambda: WorkerState.SUCCESS in posted.worker_states("undo")[before:], what="undo"
        )

    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await submit_goal(pilot, "fix subtract")
        await wait_for_approval(pilot)
        await pilot.press("y")
        await wait_idle(pilot)
        await undo()
        notes = app.main_screen.chat
        assert ops(calc) == OPS
        await wait_until(pilot, lambda: any("undone" in str(n.render()) for n in notes.query(".note")))
        assert len(commits(calc)) == 4
        # Nothing left to undo: said so, nothing changes.
        await undo()
        await wait_until(
            pilot, lambda: any("nothing to undo" in str(n.render()) for n in notes.query(".note"))
        )

        # A change whose lines were edited since is refused, with the engine's message.
        await submit_goal(pilot, "fix subtract again")
        await wait_for_approval(pilot)
        await pilot.press("y")
        await wait_idle(pilot)
        (calc / "calc" / "ops.py").write_text(ops(calc).replace("return a - b", "return b - a"))
        await undo()
        await wait_until(pilot, lambda: any("undo refused" in str(n.render()) for n in notes.query(".note")))
        assert posted.worker_states("undo").count(WorkerState.SUCCESS) == 3
    assert "return b - a" in ops(calc)


async def test_initial_goal_starts_on_open(build_app, calc: Path) -> None:
    """`ai --build GOAL` on a terminal: the workspace opens and the build starts at once."""
    app, _ = build_app(goal="fix subtract")
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await wait_for_approval(pilot)
        assert [m.name for m in posted.of(SessionShown)] == ["main"] and len(posted.of(DecisionWanted)) == 1
        await pilot.press("y")
        await wait_idle(pilot)
        assert len(posted.events(Applied)) == 1 and [m.error for m in posted.of(BuildEnded)] == [None]
    assert "return a - b" in ops(calc)


async def test_review_and_apply_in_an_80x24_terminal(build_app, calc: Path) -> None:
    app, _ = build_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await submit_goal(pilot, "fix subtract")
        approval = await wait_for_approval(pilot)
        box = approval.query_one("#approval-box").region
        assert box.right <= 80 and box.bottom <= 24
        assert_every_key_has_its_word(approval.query_one(Footer))
        assert approval.query_one(DiffPreview).hunk_views[0].region.height > 0
        await pilot.press("escape")
        screen = app.main_screen
        assert screen.diff.region.width > 0 and screen.chat.region.width > 0
        screen.diff.focus()
        await pilot.press("y")
        await wait_idle(pilot)
    assert "return a - b" in ops(calc)


async def test_a_dead_proposal_leaves_the_diff_pane_and_a_switch_clears_it(build_app, calc: Path) -> None:
    """QA.md: after a stopped run (or a refused apply) or a session switch, no stale proposal nor y/n keys."""
    app, _ = build_app()
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await submit_goal(pilot, "fix subtract")
        await wait_for_approval(pilot)
        await pilot.press("escape")
        screen = app.main_screen
        assert screen.diff.files and screen.check_action("apply", ()) is True
        changed = OPS.replace(
            "def subtract(a, b):\n    return a + b", "def subtract(a, b):\n    return a + b  # mine"
        )
        (calc / "calc" / "ops.py").write_text(changed)  # the file changes under the proposal: y is refused
        screen.diff.focus()
        await pilot.press("y")
        await wait_idle(pilot)
        assert ops(calc) == changed and not posted.events(Applied)
        assert not screen.diff.files and screen.check_action("apply", ()) is None
        await screen.diff.show_diffs({"calc/ops.py": "--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n"})
        screen.open_session("elsewhere")
        await wait_for_session(pilot, "elsewhere")
        assert not screen.diff.files
        assert [m.name for m in posted.of(SessionShown)] == ["main", "elsewhere"]


async def test_the_proposals_new_diagnostics_are_shown(build_app) -> None:
    """Stage 7's language-server findings on a proposal (DiffReady.diagnostics) reach the conversation."""
    from app.events import Diagnostic, DiffReady

    app, _ = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        screen = app.main_screen
        found = {"calc/ops.py": [Diagnostic("calc/ops.py", 12, 1, 12, 3, "error", '"bb" is not defined')]}
        await screen.show_event(
            DiffReady({"calc/ops.py": "--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n"}, diagnostics=found)
        )
        notes = " ".join(str(n.render()) for n in screen.chat.query(".note.error"))
        assert 'calc/ops.py:12: error: "bb" is not defined' in notes
        assert any("bb" in message for level, message in screen.events.entries if level == "warning")


@pytest.mark.parametrize("key", ["y", "n", "a"])
async def test_after_escape_the_pending_keys_decide_and_are_never_typed(
    build_app, calc: Path, key: str
) -> None:
    """issue 13: escape out of the approval, then y, n or a (README's key table) decide there, wherever the
    focus went (a second escape included); the goal input never takes them, and a line says how to decide."""
    app, _ = build_app()
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await submit_goal(pilot, "fix subtract")
        await wait_for_approval(pilot)
        await pilot.press("escape")
        screen = app.main_screen
        await wait_until(pilot, lambda: app.screen is screen, what="the workspace")
        assert screen.pending is not None
        assert "y apply" in str(screen.diff.border_subtitle)  # the visible line: how to decide
        await pilot.press("escape")  # the workspace's escape (to the goal input) too
        await pilot.press(key)
        goal = screen.query_one("#goal", GoalInput)
        if key == "a":
            await wait_for_approval(pilot)
            await pilot.press("n")
        await wait_idle(pilot)
        assert goal.value == ""
        assert len(posted.events(Applied)) == (key == "y")
        assert len(posted.events(Rejected)) == (key != "y")
        # Decided: the input is the user's again.
        await wait_until(pilot, lambda: screen.focused is goal, what="the goal input to have the focus back")
        assert not screen.diff.border_subtitle
    assert ("return a - b" in ops(calc)) == (key == "y")
