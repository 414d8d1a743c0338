"""Pilot tests of the workspace with no model configured: a goal typed anyway is kept and answered."""

from __future__ import annotations

from textual.widgets import Static
from textual.worker import WorkerState

from app.session.store import ProjectStore
from tests.tui.conftest import SIZE, Posted, wait_for_session, wait_until


async def test_a_goal_without_a_model_is_stored_and_answered_with_what_to_set(
    workspace, store: ProjectStore
) -> None:
    app = workspace()
    posted = Posted()
    async with app.run_test(size=SIZE, message_hook=posted) as pilot:
        await wait_for_session(pilot, "main")
        screen = app.main_screen
        before = screen.chat.transcript()
        await pilot.click("#goal")
        await pilot.press(*"add a test", "enter")
        await wait_until(
            pilot,
            lambda: WorkerState.SUCCESS in posted.worker_states("build") and not screen.busy,
            what="the goal to be answered",
        )
        added = screen.chat.transcript()[len(before) :].strip().splitlines()
        assert added[0] == "add a test"
        (answer,) = added[1:]  # one line, saying what to set
        assert "no model endpoint configured" in answer
        for needle in ("OPENAI_BASE_URL", "AI_AGENT_MODEL", ".ai-agent.toml", "the goal is kept"):
            assert needle in answer, answer
        # Nothing waits for a model any more: the diff pane says there is no proposal.
        shown = " ".join(str(s.render()) for s in screen.diff.query(Static))
        assert "no proposal yet" in shown and "waiting" not in shown
    messages = store.session("main", create=False).messages()
    assert [m["content"] for m in messages if m.get("kind") == "goal"] == ["add a test"]
    assert {m.get("outcome") for m in messages} >= {"failed"}
    assert next(m for m in store.list_sessions() if m.name == "main").goal_summary == "add a test"
