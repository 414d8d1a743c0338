"""`/clear` in the core: a session's context cleared stays cleared for `ai --continue --build` too. Later goals
send the model nothing from before the latest clear; the stored messages stay."""

from __future__ import annotations

from pathlib import Path

from app.config import load_config
from app.session.schema import CONTEXT_CLEARED
from app.session.store import ProjectStore
from app.workspace import Workspace
from tests.integration.pipeline.conftest import ai_build, all_text

ANSWER = "Nothing to change: the code already does that."


def goal(server, root: Path, text: str, *flags: str) -> str:
    """One headless goal, and all the text of its first request to the model. The scripted answer has no edit
    block, so the goal ends "nothing to apply" (status 1) after asking the model again."""
    before = len(server.chat_requests())
    result = ai_build(root, server.base_url, *flags, "--build", text, "--yes")
    assert result.returncode == 1 and "nothing to apply" in result.stderr, result.stderr
    return all_text(server.chat_requests()[before])


def test_continue_after_a_clear_sends_nothing_from_before_it(calc_project: Path, model_server) -> None:
    server = model_server([{"reply": ANSWER}])
    goal(server, calc_project, "first goal: explain alpha-marker")
    sent = goal(server, calc_project, "second goal: beta", "--continue")
    assert "alpha-marker" in sent  # before the clear: the history is sent

    session = ProjectStore(calc_project).session("main", create=False)
    config = load_config(calc_project, {"base_url": server.base_url})
    stored = Workspace(calc_project, config, session).clear_context()
    assert stored["kind"] == CONTEXT_CLEARED

    sent = goal(server, calc_project, "third goal: gamma", "--continue")
    assert "third goal: gamma" in sent
    assert "alpha-marker" not in sent and "second goal" not in sent and ANSWER not in sent

    sent = goal(server, calc_project, "fourth goal: delta", "--continue")
    assert "third goal: gamma" in sent and "alpha-marker" not in sent  # the history after the clear is sent

    contents = [m["content"] for m in ProjectStore(calc_project).session("main", create=False).messages()]
    assert any("alpha-marker" in text for text in contents)  # nothing stored was dropped


def test_a_slash_command_given_to_headless_build_is_a_usage_error(calc_project: Path, model_server) -> None:
    server = model_server([{"reply": ANSWER}])
    result = ai_build(calc_project, server.base_url, "--build", "/clear", "--yes")
    assert result.returncode == 2
    assert "/clear is a slash command of the workspace" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert server.chat_requests() == []
