"""Pilot tests of a build in the workspace against the scripted model server: every decision path, undo,
the error feed and stopping. Real project files, real git, the real pipeline; only the model is scripted."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Footer, Markdown, TextArea
from textual.worker import WorkerState

from app.config import Config
from app.events import Applied, ErrorEvent, Finished, Rejected
from app.session.store import ProjectStore
from app.tui import WorkspaceApp, make_app, texts
from app.tui.messages import BuildEnded, DecisionWanted, SessionShown
from tests.conftest import git
from tests.model_server import ScriptedModelServer
from tests.tui.conftest import (
    BOUND,
    FROZEN_TIME,
    SIZE,
    Posted,
    feed_messages,
    wait_for_posted,
    wait_for_session,
    wait_for_workers,
    wait_until,
)
from tests.tui.test_narrow import assert_every_key_has_its_word
from widgets.approval import ApprovalScreen
from widgets.dialogs import EditorScreen, PromptScreen
from widgets.diff_preview import DiffPreview
from widgets.goal_input import GoalInput

# Two functions far enough apart that a change to each is its own hunk.
OPS = (
    "def add(a, b):\n    return a + b\n\n\n"
    + "".join(f"def helper_{i}():\n    return {i}\n\n\n" for i in range(4))
    + "def subtract(a, b):\n    return a + b\n"
)

PLAN = "Plan: make `subtract` subtract and document `add`.\n\n"
TWO_HUNKS = (
    PLAN
    + "<<<<<<< REPLACE calc/ops.py\ndef add(a, b):\n    return a + b\n=======\n"
    + 'def add(a, b):\n    """Sum."""\n    return a + b\n>>>>>>> END\n\n'
    + "<<<<<<< REPLACE calc/ops.py\ndef subtract(a, b):\n    return a + b\n=======\n"
    + "def subtract(a, b):\n    return a - b\n>>>>>>> END\n"
)
REVISED = (
    "Revised: only subtract.\n\n"
    "<<<<<<< REPLACE calc/ops.py\ndef subtract(a, b):\n    return a + b\n=======\n"
    "def subtract(a, b):\n    return -(b - a)\n>>>>>>> END\n"
)
ALTERNATIVES = (
    "1. Use operator.sub. 2. Negate and add. I recommend 1.\n\n"
    "<<<<<<< REPLACE calc/ops.py\ndef subtract(a, b):\n    return a + b\n=======\n"
    "def subtract(a, b):\n    import operator\n    return operator.sub(a, b)\n>>>>>>> END\n"
)
SCRIPT: dict[str, Any] = {
    "rules": [
        {"when": {"last_user_contains": "revision"}, "reply": REVISED},
        {"when": {"last_user_contains": "alternatives"}, "reply": ALTERNATIVES},
    ],
    "default": {"reply": TWO_HUNKS, "chunk_size": 24},
}


@pytest.fixture
def calc(git_project: Path) -> Path:
    (git_project / "calc").mkdir()
    (git_project / "calc" / "__init__.py").write_text("")
    (git_project / "calc" / "ops.py").write_text(OPS)
    git(git_project, "add", ".")
    git(git_project, "commit", "-q", "-m", "calc")
    return git_project


@pytest.fixture
def server() -> Iterator[Callable[[dict[str, Any]], ScriptedModelServer]]:
    started: list[ScriptedModelServer] = []

    def start(script: dict[str, Any]) -> ScriptedModelServer:
        started.append(ScriptedModelServer(script).start())
        return started[-1]

    yield start
    for one in started:
        one.stop()


def model_config(url: str, **extra: Any) -> Config:
    settings: dict[str, Any] = {
        "base_url": url,
        "api_key": "test-key",
        "model": "scripted-model",
        "max_retries": 1,
        "retry_base_delay": 0.01,
        "request_timeout": BOUND,
        "lsp": False,
        "watch_tests": False,
    }
    settings.update(extra)
    return Config(**settings)


@pytest.fixture
def build_app(calc: Path, server) -> Callable[..., tuple[WorkspaceApp, ScriptedModelServer]]:
    def make(script: dict[str, Any] = SCRIPT, goal: str | None = None, **extra: Any):
        model = server(script)
        app = make_app(
            calc,
            "main",
            config=model_config(model.base_url, **extra),
            initial_goal=goal,
            clock=lambda: FROZEN_TIME,
        )
        return app, model

    return make


async def submit_goal(pilot, goal: str) -> None:
    await wait_for_session(pilot, "main")
    pilot.app.main_screen.query_one("#goal").focus()
    pilot.app.main_screen.query_one("#goal").value = goal
    await pilot.press("enter")


async def submit_goal_while_busy(pilot, goal: str) -> None:
    box = pilot.app.main_screen.query_one("#goal")
    box.focus()
    box.value = goal
    await pilot.press("enter")
    assert box.value == goal  # kept for later, not sent


async def wait_for_approval(pilot) -> ApprovalScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ApprovalScreen), what="the approval")
    screen = pilot.app.screen
    assert isinstance(screen, ApprovalScreen)
    await wait_until(pilot, lambda: bool(screen.query_one(DiffPreview).hunk_views), what="the diff")
    return screen


async def wait_idle(pilot) -> None:
    await wait_for_workers(pilot, "build")  # the pipeline's thread
    await wait_until(pilot, lambda: not pilot.app.main_screen.busy, what="the build to end")


def ops(calc: Path) -> str:
    return (calc / "calc" / "ops.py").read_text()


def commits(calc: Path) -> list[str]:
    return git(calc, "log", "--format=%s").splitlines()


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


async def test_model_failure_shows_in_the_error_feed(build_app, calc: Path) -> None:
    app, _ = build_app({"default": {"status": 500, "error": "the server fell over"}}, max_retries=0)
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await submit_goal(pilot, "fix subtract")
        await wait_for_posted(pilot, posted, BuildEnded, what="the build to end")
        await wait_idle(pilot)
        assert posted.events(ErrorEvent) and not posted.of(DecisionWanted)
        assert [f.ok for f in posted.events(Finished)] == [False]
        screen = app.main_screen
        assert any(level == "error" for level, _ in screen.events.entries)
        assert any("error" in str(n.render()) for n in screen.chat.query(".note.error"))
        assert screen.progress.failed is not None
    assert ops(calc) == OPS


async def test_ctrl_g_stops_a_stalled_build(build_app, calc: Path) -> None:
    app, _ = build_app(
        {"default": {"reply": TWO_HUNKS, "stall": 300, "stall_after": 20}}, stream_idle_timeout=600.0
    )
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await submit_goal(pilot, "fix subtract")
        screen = app.main_screen
        await wait_until(pilot, lambda: screen.chat.streaming, what="the stream to start")
        assert screen.check_action("stop", ()) is True
        # While a build runs its session stays open, and a second goal waits.
        screen.open_session("elsewhere")
        await submit_goal_while_busy(pilot, "another goal")
        assert screen.session_name == "main" and not ProjectStore(calc).exists("elsewhere")
        await pilot.press("ctrl+g")
        await wait_for_posted(pilot, posted, BuildEnded, what="the build to stop")
        await wait_idle(pilot)
        assert not posted.of(DecisionWanted) and not posted.events(Applied)
    assert ops(calc) == OPS


def diff_note(app: WorkspaceApp) -> str:
    """What the diff pane says when it shows no diff."""
    return " ".join(str(note.render()) for note in app.main_screen.diff.query(".empty"))


async def test_a_stop_says_stopped_and_leaves_no_stale_pane(build_app, calc: Path) -> None:
    """ctrl+g mid-stream: a "stopped" line in the conversation and the feed, the diff pane back to its idle
    text, the stage bar showing where the build stopped."""
    app, _ = build_app(
        {"default": {"reply": TWO_HUNKS, "stall": 300, "stall_after": 20}}, stream_idle_timeout=600.0
    )
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await submit_goal(pilot, "fix subtract")
        screen = app.main_screen
        await wait_until(pilot, lambda: screen.chat.streaming, what="the stream to start")
        assert texts.WAITING_FOR_MODEL in diff_note(app)
        live = screen.progress.current
        assert live is not None
        await pilot.press("ctrl+g")
        await wait_for_posted(pilot, posted, BuildEnded, what="the build to stop")
        await wait_idle(pilot)
        assert feed_messages(pilot)[-1] == texts.STOPPED
        assert any(texts.STOPPED_NOTE in str(n.render()) for n in screen.chat.query(".note"))
        assert diff_note(app) == texts.NO_PROPOSAL
        assert screen.progress.stopped == live and screen.progress.current is None
        assert "stopped" in str(screen.progress.render())
    assert ops(calc) == OPS


async def test_a_failed_fix_or_build_leaves_no_waiting_diff_pane(build_app, calc: Path) -> None:
    """A fix whose attempts all fail without a closest diff, and a build the model fails: the diff pane does
    not keep saying it waits for the model."""
    from app.events import FixStarted, FixSummary

    app, _ = build_app({"default": {"status": 500, "error": "the server fell over"}}, max_retries=0)
    posted = Posted()

    async def failing_fix(decide: Any) -> AsyncIterator[Any]:
        yield FixStarted(errors=("test_x failed",))
        yield FixSummary(attempts=("1: the edit did not apply",))
        yield Finished(ok=False, exit_code=1, summary="no fix made the tests pass")

    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await wait_for_session(pilot, "main")
        screen = app.main_screen
        await screen.begin_run(failing_fix, fixing=True)
        await wait_for_posted(pilot, posted, BuildEnded, what="the fix to end")
        await wait_idle(pilot)
        assert diff_note(app) == texts.NO_PROPOSAL
        await submit_goal(pilot, "fix subtract")
        await wait_for_posted(pilot, posted, BuildEnded, count=2, what="the build to fail")
        await wait_idle(pilot)
        assert diff_note(app) == texts.NO_PROPOSAL
        assert screen.progress.failed is not None and screen.progress.stopped is None


def status_text(app: WorkspaceApp) -> str:
    return str(app.main_screen.query_one("#status").render())


async def test_the_status_line_counts_the_wait_for_the_first_token(build_app, calc: Path) -> None:
    """A model still reading the prompt: the workspace says what it waits for, and for how long."""
    app, _ = build_app(
        {"default": {"reply": TWO_HUNKS, "stall": 60, "stall_after": 0}},
        first_token_timeout=60.0,
        stream_idle_timeout=0.5,
    )
    async with app.run_test(size=SIZE) as pilot:
        await submit_goal(pilot, "fix subtract")
        screen = app.main_screen
        await wait_until(
            pilot,
            lambda: "waiting for the model's first token (3 s)" in status_text(app),
            timeout=60,
            what="the status line to count the wait",
        )
        # Past the idle gap (0.5 s): the first token has its own, longer allowance. The feed says it too.
        assert not any("retry" in text for _, text in screen.events.entries)
        await wait_until(
            pilot,
            lambda: any("first token: 3 s so far, at most 60 s" in text for _, text in screen.events.entries),
            timeout=30,
            what="the feed line",
        )
        await pilot.press("ctrl+g")
        await wait_idle(pilot)
        assert "waiting" not in status_text(app)
    assert ops(calc) == OPS


async def test_the_status_line_says_which_retry_follows_a_stalled_stream(build_app, calc: Path) -> None:
    app, model = build_app(
        {
            "rules": [{"reply": TWO_HUNKS, "stall": 60, "stall_after": 20, "times": 1}],
            "default": {"reply": TWO_HUNKS},
        },
        stream_idle_timeout=0.5,
        retry_base_delay=3.0,  # long enough for the retry's line to be seen
    )
    async with app.run_test(size=SIZE) as pilot:
        await submit_goal(pilot, "fix subtract")
        await wait_until(
            pilot,
            lambda: "stream idle 0.5 s, retrying 2/2" in status_text(app),
            timeout=60,
            what="the retry in the status line",
        )
        await wait_for_approval(pilot)
        assert "retrying" not in status_text(app) and "waiting" not in status_text(app)
        assert any("attempt 2/2" in text for _, text in app.main_screen.events.entries)
        await pilot.press("n")
        await wait_idle(pilot)
    assert len(model.chat_requests()) == 2


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
