"""The pipeline in process, as the TUI drives it: the order of events, each decision, and cancellation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from app.config import load_config
from app.events import (
    Applied,
    AwaitingDecision,
    BlockCompleted,
    ContextReady,
    Decision,
    DecisionKind,
    DiffReady,
    Event,
    FilesRead,
    Finished,
    ProseDelta,
    Rejected,
    Retrying,
    Stage,
    StageFinished,
    StageStarted,
    Usage,
)
from app.pipeline.build import BuildRequest, run_build
from app.session.store import ProjectStore
from tests.conftest import git
from tests.integration.pipeline.conftest import FIX_SUBTRACT, OPS, first_user_message
from tests.waiting import BOUND, until

GOAL = "fix subtract in calc/ops.py"


def _request(root: Path, url: str, **config: Any) -> BuildRequest:
    settings = replace(load_config(root, {"base_url": url}), **config)
    session = ProjectStore(root).session("main", activate=True)
    return BuildRequest(root=root, session=session, goal=GOAL, config=settings)


def _decider(decisions: Iterable[Decision]):
    queue = list(decisions)
    seen: list[DiffReady] = []

    async def decide(diff: DiffReady) -> Decision:
        seen.append(diff)
        return queue.pop(0)

    decide.seen = seen  # type: ignore[attr-defined]
    return decide


async def _collect(request: BuildRequest, decide) -> list[Event]:
    return [event async for event in run_build(request, decide)]


async def test_events_come_in_pipeline_order(calc_project: Path, model_server) -> None:
    server = model_server([{"reply": FIX_SUBTRACT, "chunk_size": 7}])
    events = await _collect(_request(calc_project, server.base_url), _decider([Decision(DecisionKind.APPLY)]))
    started = [e.stage for e in events if isinstance(e, StageStarted)]
    assert started == sorted(Stage)  # one pass: 1..8 in order
    kinds = [type(e) for e in events]
    order = [FilesRead, ContextReady, ProseDelta, BlockCompleted, Usage, DiffReady, AwaitingDecision, Applied]
    positions = [kinds.index(k) for k in order]
    assert positions == sorted(positions)
    assert isinstance(events[-1], Finished) and events[-1].ok
    prose = "".join(e.text for e in events if isinstance(e, ProseDelta))
    assert "Plan: subtract should subtract." in prose and "<<<<<<<" not in prose
    assert "return a - b" in (calc_project / "calc" / "ops.py").read_text()


async def test_revise_sends_feedback_and_shows_a_new_diff(calc_project: Path, model_server) -> None:
    revised = FIX_SUBTRACT.replace("    return a - b\n>>>", "    return -(b - a)\n>>>")
    server = model_server(
        [{"when": {"last_user_contains": "use a negation"}, "reply": revised}, {"reply": FIX_SUBTRACT}]
    )
    decide = _decider(
        [Decision(DecisionKind.REVISE, feedback="use a negation instead"), Decision(DecisionKind.APPLY)]
    )
    events = await _collect(_request(calc_project, server.base_url), decide)
    diffs = [e for e in events if isinstance(e, DiffReady)]
    assert len(diffs) == 2 and "-(b - a)" in diffs[1].diffs["calc/ops.py"]
    chats = server.chat_requests()
    assert "use a negation instead" in first_user_message(chats[1])
    # The same conversation: the first answer is part of the second request.
    assert any(
        m["role"] == "assistant" and "return a - b" in m["content"] for m in chats[1]["body"]["messages"]
    )
    assert "return -(b - a)" in (calc_project / "calc" / "ops.py").read_text()


async def test_edit_applies_the_users_content(calc_project: Path, model_server) -> None:
    server = model_server([{"reply": FIX_SUBTRACT}])
    mine = OPS.replace("return a + b\n", "return a - b  # mine\n").replace(
        "def add(a, b):\n    return a - b  # mine", "def add(a, b):\n    return a + b"
    )
    decide = _decider([Decision(DecisionKind.EDIT, edited={"calc/ops.py": mine})])
    events = await _collect(_request(calc_project, server.base_url), decide)
    assert any(isinstance(e, Applied) for e in events)
    assert (calc_project / "calc" / "ops.py").read_text() == mine


async def test_apply_a_subset_of_hunks(calc_project: Path, model_server) -> None:
    long = "".join(f"X{i} = {i}\n" for i in range(30))
    (calc_project / "calc" / "consts.py").write_text(long)
    git(calc_project, "add", ".")
    git(calc_project, "commit", "-q", "-m", "consts")
    reply = (
        "Two changes.\n<<<<<<< REPLACE calc/consts.py\nX1 = 1\n=======\nX1 = 100\n>>>>>>> END\n"
        "<<<<<<< REPLACE calc/consts.py\nX28 = 28\n=======\nX28 = 2800\n>>>>>>> END\n"
    )
    server = model_server([{"reply": reply}])
    decide = _decider([Decision(DecisionKind.APPLY, hunks={"calc/consts.py": [1]})])
    request = replace(_request(calc_project, server.base_url), goal="change X1 and X28 in calc/consts.py")
    events = await _collect(request, decide)
    ready = next(e for e in events if isinstance(e, DiffReady))
    assert ready.hunk_counts == {"calc/consts.py": 2}
    text = (calc_project / "calc" / "consts.py").read_text()
    assert "X1 = 1\n" in text and "X28 = 2800\n" in text
    assert git(calc_project, "status", "--porcelain") == ""  # committed


async def test_suggest_asks_for_alternatives_then_reject_writes_nothing(
    calc_project: Path, model_server
) -> None:
    alternatives = "Option A: operator.sub. Option B: negate. I recommend A.\n" + FIX_SUBTRACT
    server = model_server(
        [
            {"when": {"last_user_contains": "wants alternatives"}, "reply": alternatives},
            {"reply": FIX_SUBTRACT},
        ]
    )
    decide = _decider([Decision(DecisionKind.SUGGEST), Decision(DecisionKind.REJECT)])
    events = await _collect(_request(calc_project, server.base_url), decide)
    prose = "".join(e.text for e in events if isinstance(e, ProseDelta))
    assert "Option A" in prose
    assert len([e for e in events if isinstance(e, DiffReady)]) == 2
    assert isinstance(next(e for e in reversed(events) if isinstance(e, Rejected | Applied)), Rejected)
    assert (calc_project / "calc" / "ops.py").read_text() == OPS


async def test_server_without_usage_still_works(calc_project: Path, model_server) -> None:
    server = model_server([{"reply": FIX_SUBTRACT, "usage": False}])
    events = await _collect(_request(calc_project, server.base_url), _decider([Decision(DecisionKind.APPLY)]))
    assert not any(isinstance(e, Usage) for e in events)
    assert any(isinstance(e, Applied) for e in events)


async def test_cancel_mid_stream_leaves_nothing_applied(calc_project: Path, model_server) -> None:
    # The answer starts, then stalls: the cancel lands mid-stream however slowly the machine runs.
    server = model_server([{"reply": FIX_SUBTRACT, "chunk_size": 3, "stall": 120, "stall_after": 12}])
    request = _request(calc_project, server.base_url)
    seen: list[Event] = []

    async def consume() -> None:
        async for event in run_build(request, _decider([Decision(DecisionKind.APPLY)])):
            seen.append(event)

    task = asyncio.create_task(consume())
    await until(lambda: any(isinstance(e, ProseDelta) for e in seen), what="the answer to start streaming")
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    assert not any(isinstance(e, Applied) for e in seen)
    assert (calc_project / "calc" / "ops.py").read_text() == OPS
    assert git(calc_project, "status", "--porcelain") == ""
    contents = [m["content"] for m in request.session.messages()]
    assert GOAL in contents and "build cancelled; nothing applied" in contents


async def test_cancel_while_awaiting_decision(calc_project: Path, model_server) -> None:
    server = model_server([{"reply": FIX_SUBTRACT}])
    asked = asyncio.Event()

    async def never(_diff: DiffReady) -> Decision:
        asked.set()
        await asyncio.sleep(3600)
        return Decision(DecisionKind.APPLY)

    task = asyncio.create_task(_collect(_request(calc_project, server.base_url), never))
    await asyncio.wait_for(asked.wait(), BOUND)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    assert (calc_project / "calc" / "ops.py").read_text() == OPS


async def test_stage_finished_for_every_stage_started(calc_project: Path, model_server) -> None:
    server = model_server([{"reply": FIX_SUBTRACT}])
    events = await _collect(
        _request(calc_project, server.base_url), _decider([Decision(DecisionKind.REJECT)])
    )
    open_stages: list[Stage] = []
    for event in events:
        if isinstance(event, StageStarted):
            open_stages.append(event.stage)
        elif isinstance(event, StageFinished):
            assert open_stages and open_stages[-1] == event.stage
            open_stages.pop()
    assert open_stages == []


async def test_answer_that_breaks_the_syntax_goes_back_once(calc_project: Path, model_server) -> None:
    broken = FIX_SUBTRACT.replace("    return a - b\n>>>", "    return (a - b\n>>>")
    server = model_server(
        [{"when": {"contains": "no longer parses"}, "reply": FIX_SUBTRACT}, {"reply": broken}]
    )
    events = await _collect(_request(calc_project, server.base_url), _decider([Decision(DecisionKind.APPLY)]))
    chats = server.chat_requests()
    assert len(chats) == 2
    assert "calc/ops.py: after the edits the file no longer parses as python" in first_user_message(chats[1])
    assert any(isinstance(e, Applied) for e in events)
    assert "    return a - b\n" in (calc_project / "calc" / "ops.py").read_text()


async def test_read_of_an_unnamed_secrets_file_is_refused(calc_project: Path, model_server) -> None:
    (calc_project / ".env").write_text("TOKEN=never-send-this\n")
    server = model_server(
        [
            {"when": {"contains": "asked to READ"}, "reply": "Fine, no changes."},
            {"reply": "<<<<<<< READ .env\n>>>>>>> END\n"},
        ]
    )
    await _collect(_request(calc_project, server.base_url), _decider([]))
    chats = server.chat_requests()
    assert len(chats) == 2
    assert "never-send-this" not in json.dumps(chats[1]["body"])
    assert ".env: a secrets file" in first_user_message(chats[1])


async def test_read_rounds_are_bounded(calc_project: Path, model_server) -> None:
    server = model_server([{"reply": "<<<<<<< READ calc/__init__.py\n>>>>>>> END\n"}])
    events = await _collect(_request(calc_project, server.base_url, read_rounds=2), _decider([]))
    assert len(server.chat_requests()) == 3  # the plan and two READ rounds, no more
    assert isinstance(events[-1], Finished) and events[-1].exit_code == 1
    assert (calc_project / "calc" / "ops.py").read_text() == OPS


async def test_outside_git_the_change_is_applied_without_a_commit(project: Path, model_server) -> None:
    (project / "calc").mkdir()
    (project / "calc" / "ops.py").write_text(OPS)
    server = model_server([{"reply": FIX_SUBTRACT}])
    events = await _collect(_request(project, server.base_url), _decider([Decision(DecisionKind.APPLY)]))
    applied = next(e for e in events if isinstance(e, Applied))
    assert applied.commit is None
    assert "return a - b" in (project / "calc" / "ops.py").read_text()
    assert not (project / ".git").exists()


async def test_server_that_refuses_stream_options_is_asked_again_without(
    calc_project: Path, model_server
) -> None:
    server = model_server(
        [
            {"when": {"stream_options": True}, "status": 400, "error": "unknown field: stream_options"},
            {"reply": FIX_SUBTRACT},
        ]
    )
    request = _request(calc_project, server.base_url, max_retries=0)  # not a retry: no attempt is spent
    events = await _collect(request, _decider([Decision(DecisionKind.APPLY)]))
    chats = server.chat_requests()
    assert len(chats) == 2 and "stream_options" not in chats[1]["body"]
    assert not any(isinstance(e, Retrying) for e in events)
    assert any(isinstance(e, Applied) for e in events)


async def test_a_failure_closes_the_running_stage(calc_project: Path, model_server) -> None:
    server = model_server([{"status": 500}])
    events = await _collect(_request(calc_project, server.base_url, max_retries=0), _decider([]))
    started = [e.stage for e in events if isinstance(e, StageStarted)]
    finished = [e.stage for e in events if isinstance(e, StageFinished)]
    assert sorted(started) == sorted(finished)
    assert [e.detail for e in events if isinstance(e, StageFinished)][-1] == "failed"
    assert isinstance(events[-1], Finished) and events[-1].exit_code == 1
