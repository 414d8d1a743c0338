"""`/compact` through the workspace: one model call summarises the session's history, stored as a session event;
a later goal sends that summary (one message) and not the messages before it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from app.config import Config, load_config
from app.errors import TaskFailed
from app.events import Decision, DecisionKind, DiffReady
from app.session.store import ProjectStore
from app.workspace import Workspace
from app.workspace.compact import NothingToCompact
from tests.model_server import ScriptedModelServer

NOTES = "Looked.\n<<<<<<< CREATE NOTES.md\nlooked\n>>>>>>> END\n"
SUMMARY = "SUMMARY-MARKER: the user asked about the greeting twice; nothing was applied."


async def reject(_ready: DiffReady) -> Decision:
    return Decision(DecisionKind.REJECT)


def _config(root: Path, server: ScriptedModelServer) -> Config:
    config = load_config(root, {"base_url": server.base_url, "model": "scripted-model"})
    return replace(config, lsp=False, watch_tests=False, max_retries=0)


async def test_compact_sends_one_request_and_later_goals_carry_the_summary_not_the_old_messages(
    git_project: Path,
) -> None:
    script = {
        "rules": [
            {"when": {"last_user_contains": "Summarise this coding session"}, "reply": SUMMARY},
            {"reply": NOTES},
        ]
    }
    with ScriptedModelServer(script) as server:
        workspace = Workspace(
            git_project, _config(git_project, server), ProjectStore(git_project).session("main")
        )
        async for _ in workspace.build("OLD-GOAL-ONE about the greeting", reject):
            pass
        async for _ in workspace.build("OLD-GOAL-TWO about the greeting", reject, with_history=True):
            pass
        assert "OLD-GOAL-ONE" in str(server.chat_requests()[-1]["body"]["messages"])  # history before compact

        compacted = await workspace.compact()
        assert compacted.summary == SUMMARY and compacted.messages >= 2
        request = server.chat_requests()[-1]["body"]["messages"]
        assert "OLD-GOAL-ONE" in request[-1]["content"] and "OLD-GOAL-TWO" in request[-1]["content"]
        stored = workspace.session.messages()[-1]
        assert stored["kind"] == "compact" and stored["content"] == SUMMARY

        async for _ in workspace.build("NEW-GOAL after the summary", reject, with_history=True):
            pass
        messages = server.chat_requests()[-1]["body"]["messages"]
        sent = "\n".join(m["content"] for m in messages)
        assert "SUMMARY-MARKER" in sent
        assert "OLD-GOAL-ONE" not in sent and "OLD-GOAL-TWO" not in sent
        assert [m["role"] for m in messages] == ["system", "user"]  # the summary and the goal: one user turn
        assert messages[-1]["content"].index("SUMMARY-MARKER") < messages[-1]["content"].index("NEW-GOAL")


async def test_compact_without_a_model_or_without_history_says_one_line(git_project: Path) -> None:
    session = ProjectStore(git_project).session("main")
    with pytest.raises(NothingToCompact):
        await Workspace(git_project, Config(base_url="http://127.0.0.1:9/v1"), session).compact()
    session.append_message("user", "a goal", kind="goal")
    with pytest.raises(TaskFailed, match="no model endpoint configured"):
        await Workspace(git_project, Config(), session).compact()
    assert session.messages()[-1]["content"] == "a goal"  # nothing stored
