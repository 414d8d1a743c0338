"""`ai --continue --build` on a very long session: the history sent is the newest turns within its budget, and
building it costs what is sent, not the session's length (a 100,000-message session answers in seconds)."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

from app.llm.prompts import estimate_tokens
from app.paths import agent_home
from app.session.store import ProjectStore, now_iso
from tests.conftest import run_ai
from tests.model_server import ScriptedModelServer

MESSAGES = 100_000
CONTEXT_TOKENS = 24_000  # the default: the history gets a quarter of it
NEW_FILE = "Adding a module.\n<<<<<<< CREATE notes.py\nX = 1\n>>>>>>> END\n"


def _import_session(project: Path, messages: list[dict[str, Any]]) -> None:
    stamp = now_iso()
    # No language server: stage 7 would start basedpyright for the proposed Python file, beside the point here.
    (agent_home() / "config.toml").write_text("lsp = false\n", encoding="utf-8")
    ProjectStore(project).import_session(
        {
            "format": "ai-agent-session",
            "version": 1,
            "metadata": {"name": "main", "created_at": stamp, "last_used": stamp},
            "messages": messages,
            "changes": [],
            "undo": [],
        }
    )


def test_continue_on_100k_messages_of_one_role_sends_the_newest_within_budget(project: Path) -> None:
    stamp = now_iso()
    # One role throughout (e.g. goals that never got an answer): every message joins the same user turn.
    _import_session(
        project,
        [{"role": "user", "content": f"note {i:06d} about the parser", "ts": stamp} for i in range(MESSAGES)],
    )
    with ScriptedModelServer([{"reply": NEW_FILE}]) as server:
        result = run_ai(
            "--continue",
            "--build",
            "add notes.py",
            "--dry-run",
            cwd=project,
            env={"OPENAI_BASE_URL": server.base_url},
        )
        assert result.returncode == 0, result.stderr
        requests = server.chat_requests()
    assert len(requests) == 1
    messages = requests[0]["body"]["messages"]
    assert [m["role"] for m in messages] == [
        "system",
        "user",
    ]  # one user turn: the history joined to the goal
    sent = messages[-1]["content"]
    history, _, goal_part = sent.partition("# Goal\n")
    assert "add notes.py" in goal_part
    # The newest turns, in order, up to the oldest that fits; nothing older.
    assert f"note {MESSAGES - 1:06d}" in history
    kept = [line for line in history.split("\n\n") if line.startswith("note ")]
    numbers = [int(line.split()[1]) for line in kept]
    assert numbers == list(range(MESSAGES - len(numbers), MESSAGES))
    assert len(numbers) > 100
    assert estimate_tokens(history) <= CONTEXT_TOKENS // 4


def test_an_alternating_100k_session_keeps_its_newest_turns_alternating(project: Path) -> None:
    stamp = now_iso()
    _import_session(
        project,
        [
            {"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i:06d}", "ts": stamp}
            for i in range(MESSAGES)
        ],
    )
    with ScriptedModelServer([{"reply": NEW_FILE}]) as server:
        result = run_ai(
            "--continue",
            "--build",
            "add notes.py",
            "--dry-run",
            cwd=project,
            env={"OPENAI_BASE_URL": server.base_url},
        )
        assert result.returncode == 0, result.stderr
        messages = server.chat_requests()[0]["body"]["messages"]
    roles = [m["role"] for m in messages]
    assert roles[0] == "system" and roles[1] == "user" and roles[-1] == "user"
    assert all(a != b for a, b in pairwise(roles[1:]))
    numbers = [int(m["content"].split()[1]) for m in messages[1:-1]]
    assert numbers == list(range(MESSAGES - len(numbers), MESSAGES))  # the newest turns, none skipped
    assert len(numbers) > 100
    assert sum(estimate_tokens(m["content"]) for m in messages[1:-1]) <= CONTEXT_TOKENS // 4
