"""Pilot tests of a build that does not end in a decision: a model failure in the error feed, ctrl+g stopping a
stalled stream with no stale pane left, a failed fix or build, and the status line's account of what the model
call waits for. The scripted model server on the real git project of tests/tui/builds.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from app.events import Applied, ErrorEvent, Finished
from app.session.store import ProjectStore
from app.tui import WorkspaceApp, texts
from app.tui.messages import BuildEnded, DecisionWanted
from tests.tui.builds import (
    OPS,
    TWO_HUNKS,
    diff_note,
    ops,
    submit_goal,
    submit_goal_while_busy,
    wait_for_approval,
    wait_idle,
)
from tests.tui.builds import build_app as build_app  # fixtures
from tests.tui.builds import calc as calc
from tests.tui.builds import server as server
from tests.tui.conftest import (
    SIZE,
    Posted,
    feed_messages,
    wait_for_posted,
    wait_for_session,
    wait_until,
)


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
