"""`--continue --build`: the history the next goal's model gets is the conversation as it was (ai's own turns
included), alternating user and assistant, and says which earlier goals failed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.pipeline.conftest import FIX_SUBTRACT, ai_build
from tests.model_server import free_port

MALFORMED = (
    "Plan.\n<<<<<<< REPLACE calc/ops.py\ndef subtrakt(a, b):\n    return a + b\n=======\nx\n>>>>>>> END\n"
)
NEW_FILE = "Adding a module.\n<<<<<<< CREATE calc/more.py\nX = 1\n>>>>>>> END\n"


def _roles(request: dict[str, Any]) -> list[str]:
    return [m["role"] for m in request["body"]["messages"]]


def _assert_alternating(request: dict[str, Any]) -> None:
    roles = _roles(request)
    assert roles[0] == "system"
    for i, role in enumerate(roles[1:]):
        assert role == ("user" if i % 2 == 0 else "assistant"), roles
    assert roles[-1] == "user"


def test_the_revise_turn_is_in_the_history_and_it_alternates(calc_project: Path, model_server) -> None:
    server = model_server(
        [
            {"when": {"last_user_contains": "second goal"}, "reply": NEW_FILE},
            {"when": {"last_user_contains": "could not be applied"}, "reply": FIX_SUBTRACT},
            {"reply": MALFORMED},
        ]
    )
    first = ai_build(calc_project, server.base_url, "--build", "fix subtract in calc/ops.py", "--yes")
    assert first.returncode == 0, first.stderr
    second = ai_build(calc_project, server.base_url, "--continue", "--build", "second goal", "--yes")
    assert second.returncode == 0, second.stderr
    later = server.chat_requests()[-1]
    _assert_alternating(later)
    texts = [m["content"] for m in later["body"]["messages"]]
    revise = next(i for i, t in enumerate(texts) if "could not be applied" in t)
    assert "subtrakt" in texts[revise - 1] and "return a - b" in texts[revise + 1]
    assert "was applied" in texts[-1]  # how the first goal ended, in the turn that carries the new goal


def test_a_failed_goal_is_marked_failed_for_the_next_goal(calc_project: Path, model_server) -> None:
    server = model_server(
        [{"when": {"last_user_contains": "second goal"}, "reply": NEW_FILE}, {"reply": MALFORMED}]
    )
    failed = ai_build(calc_project, server.base_url, "--build", "fix subtract in calc/ops.py", "--yes")
    assert failed.returncode == 1
    second = ai_build(calc_project, server.base_url, "--continue", "--build", "second goal", "--yes")
    assert second.returncode == 0, second.stderr
    later = server.chat_requests()[-1]
    _assert_alternating(later)
    last = later["body"]["messages"][-1]["content"]
    assert "FAILED" in last and "do not apply" in last
    assert last.index("FAILED") < last.index("second goal")


def test_a_goal_that_got_no_answer_keeps_the_conversation_alternating(
    calc_project: Path, model_server
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    assert ai_build(calc_project, dead, "--build", "first goal: unreachable", "--yes").returncode == 1
    server = model_server([{"reply": NEW_FILE}])
    result = ai_build(calc_project, server.base_url, "--continue", "--build", "second goal", "--yes")
    assert result.returncode == 0, result.stderr
    request = server.chat_requests()[-1]
    _assert_alternating(request)
    last = request["body"]["messages"][-1]["content"]
    assert "first goal: unreachable" in last and "FAILED" in last and "second goal" in last


def test_history_within_a_small_budget_still_starts_with_a_user_turn() -> None:
    from app.pipeline.preread import history_messages

    stored = [
        {"role": "user", "content": "goal one " * 200, "kind": "goal"},
        {"role": "assistant", "content": "answer one"},
        {"role": "event", "content": "the model proposed no changes", "outcome": "no_change"},
        {"role": "event", "content": "served READ: a.py"},  # older sessions: a plain event, left out
        {"role": "user", "content": "goal two", "kind": "goal"},
        {"role": "assistant", "content": "answer two"},
    ]
    history = history_messages(stored, budget=30)
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert history[0]["content"].startswith("(ai: the goal above ended with nothing applied")
    assert history[0]["content"].endswith("goal two")


async def test_a_non_ascii_history_counts_against_the_budget_as_it_is_estimated(
    calc_project: Path, model_server
) -> None:
    """The history is budgeted in estimated tokens (4 bytes each); the rest of the context must get what is
    left of the budget by the same measure, or a history in Chinese (3 bytes a character) left room for a
    third of itself only and the request went over ``context_tokens``."""
    from dataclasses import replace

    from app.config import load_config
    from app.events import Decision, DecisionKind
    from app.llm.prompts import estimate_tokens
    from app.pipeline.build import BuildRequest, run_build
    from app.session.store import ProjectStore

    budget = 4000
    big = "".join(f"def helper_{i}(a, b):\n    return a * b + {i}\n\n\n" for i in range(270))
    (calc_project / "calc" / "big.py").write_text(
        big
    )  # ~3,100 tokens: whole only if the history is under-counted
    session = ProjectStore(calc_project).session("main", activate=True)
    for i in range(8):
        session.append_message("user", f"目标 {i}: " + "解析器丢掉了最后一个记号" * 12, kind="goal")
        session.append_message("assistant", f"回答 {i}: " + "已经修好了解析器" * 12)
    server = model_server([{"reply": NEW_FILE}])
    config = replace(load_config(calc_project, {"base_url": server.base_url}), context_tokens=budget)
    request = BuildRequest(
        root=calc_project,
        session=session,
        goal="tidy calc/big.py",
        config=config,
        dry_run=True,
        with_history=True,
    )

    async def reject(_diff: object) -> Decision:
        return Decision(DecisionKind.REJECT)

    _ = [event async for event in run_build(request, reject)]
    sent = server.chat_requests()[0]["body"]["messages"][1:]  # all but the system prompt
    assert any("目标 7" in m["content"] for m in sent)  # the newest history is there
    assert sum(estimate_tokens(m["content"]) for m in sent) <= budget
