"""`ai --build` as a user runs it: the installed command, a real git repository, the scripted model server."""

from __future__ import annotations

import json
from pathlib import Path

from app.events import Stage
from app.session.store import ProjectStore
from tests.conftest import git
from tests.integration.pipeline.conftest import (
    FIX_SUBTRACT,
    OPS,
    ai_build,
    all_text,
    build_in_process,
    first_user_message,
)


def test_yes_applies_and_commits(calc_project: Path, model_server) -> None:
    server = model_server([{"reply": FIX_SUBTRACT}])
    result = ai_build(calc_project, server.base_url, "--build", "fix subtract in calc/ops.py", "--yes")
    assert result.returncode == 0, result.stderr
    assert "return a - b" in (calc_project / "calc" / "ops.py").read_text()
    assert "+    return a - b" in result.stdout  # the diff is part of the transcript
    log = git(calc_project, "log", "--format=%s", "-1")
    assert log.strip().startswith("ai(main): fix subtract")
    assert git(calc_project, "show", "--stat", "--format=", "HEAD").split("|")[0].strip() == "calc/ops.py"
    assert git(calc_project, "status", "--porcelain") == ""
    # Usage is stored on the assistant message; the goal is the session's summary.
    session = ProjectStore(calc_project).session("main", create=False)
    assistant = [m for m in session.messages() if m["role"] == "assistant"]
    assert assistant[-1]["usage"]["completion_tokens"] > 0
    assert assistant[-1]["prompt_version"] >= 1  # which system prompt produced it
    assert session.meta().goal_summary == "fix subtract in calc/ops.py"


def test_dry_run_changes_nothing(calc_project: Path, model_server) -> None:
    server = model_server([{"reply": FIX_SUBTRACT}])
    head = git(calc_project, "rev-parse", "HEAD")
    result = ai_build(calc_project, server.base_url, "--build", "fix subtract in calc/ops.py", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "+    return a - b" in result.stdout
    assert "dry run" in result.stdout
    assert (calc_project / "calc" / "ops.py").read_text() == OPS
    assert git(calc_project, "rev-parse", "HEAD") == head
    assert git(calc_project, "status", "--porcelain") == ""


async def test_headless_without_yes_applies_nothing_and_says_how(calc_project: Path, model_server) -> None:
    server = model_server([{"reply": FIX_SUBTRACT}])
    code, out, err = await build_in_process(calc_project, server, "fix subtract in calc/ops.py", mode="show")
    assert code == 0, err
    assert "+    return a - b" in out
    assert "--yes" in out and "nothing applied" in out
    assert (calc_project / "calc" / "ops.py").read_text() == OPS


def test_json_lines_parse_and_carry_all_eight_stages(calc_project: Path, model_server) -> None:
    server = model_server([{"reply": FIX_SUBTRACT}])
    result = ai_build(
        calc_project, server.base_url, "--build", "fix subtract in calc/ops.py", "--yes", "--json"
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    started = {e["stage"]["number"] for e in events if e["event"] == "stage_started"}
    finished = {e["stage"]["number"] for e in events if e["event"] == "stage_finished"}
    assert started == finished == {int(s) for s in Stage}
    for kind in ("files_read", "prose_delta", "block_completed", "diff_ready", "applied", "usage"):
        assert kind in kinds
    assert events[-1] == {**events[-1], "event": "finished", "ok": True, "exit_code": 0}
    diff = next(e for e in events if e["event"] == "diff_ready")
    assert "+    return a - b" in diff["diffs"]["calc/ops.py"]


def test_read_round_serves_the_file_and_asks_again(calc_project: Path, model_server) -> None:
    (calc_project / "calc" / "extra.py").write_text("def scale():\n    return 10  # EXTRA-BODY-MARKER\n")
    server = model_server(
        [
            {"when": {"contains": "asked to READ"}, "reply": FIX_SUBTRACT},
            {"reply": "I need the other module first.\n<<<<<<< READ calc/extra.py\n>>>>>>> END\n"},
        ]
    )
    result = ai_build(calc_project, server.base_url, "--build", "fix subtract in calc/ops.py", "--yes")
    assert result.returncode == 0, result.stderr
    chats = server.chat_requests()
    assert len(chats) == 2
    assert "    return 10  # EXTRA-BODY-MARKER\n" in first_user_message(chats[1])
    assert "EXTRA-BODY-MARKER" not in all_text(chats[0])
    assert "return a - b" in (calc_project / "calc" / "ops.py").read_text()


def test_malformed_answer_goes_back_once_with_the_exact_error(calc_project: Path, model_server) -> None:
    wrong = FIX_SUBTRACT.replace(
        "def subtract(a, b):\n    return a + b\n=", "def subtrakt(a, b):\n    return a + b\n="
    )
    server = model_server(
        [{"when": {"contains": "could not be applied"}, "reply": FIX_SUBTRACT}, {"reply": wrong}]
    )
    result = ai_build(calc_project, server.base_url, "--build", "fix subtract in calc/ops.py", "--yes")
    assert result.returncode == 0, result.stderr
    chats = server.chat_requests()
    assert len(chats) == 2
    feedback = first_user_message(chats[1])
    assert "calc/ops.py" in feedback and "block 1" in feedback  # the engine's exact message
    assert "return a - b" in (calc_project / "calc" / "ops.py").read_text()


def test_answer_wrong_twice_fails_with_nothing_written(calc_project: Path, model_server) -> None:
    unclosed = "Plan.\n<<<<<<< REPLACE calc/ops.py\ndef subtract(a, b):\n=======\n"
    server = model_server([{"reply": unclosed}])
    result = ai_build(calc_project, server.base_url, "--build", "fix subtract in calc/ops.py", "--yes")
    assert result.returncode == 1
    assert len(server.chat_requests()) == 2  # the first answer went back exactly once
    assert "do not apply" in result.stderr and "Traceback" not in result.stderr
    assert (calc_project / "calc" / "ops.py").read_text() == OPS
    assert git(calc_project, "status", "--porcelain") == ""


async def test_no_edits_proposed_is_not_a_failure_where_a_prose_answer_is_fine(
    calc_project: Path, model_server
) -> None:
    """The TUI (require_edits off): a question answered in prose ends well, after one request. Headless runs
    fail instead (tests/integration/pipeline/test_headless_contract.py)."""
    from app.config import load_config
    from app.events import Decision, DecisionKind, Finished
    from app.pipeline.build import BuildRequest, run_build

    server = model_server([{"reply": "subtract is already correct, nothing to change."}])
    request = BuildRequest(
        root=calc_project,
        session=ProjectStore(calc_project).session("main"),
        goal="is subtract in calc/ops.py right?",
        config=load_config(calc_project, {"base_url": server.base_url}),
    )

    async def decide(_diff: object) -> Decision:
        return Decision(DecisionKind.REJECT)

    events = [event async for event in run_build(request, decide)]
    finished = events[-1]
    assert isinstance(finished, Finished) and finished.ok and finished.exit_code == 0
    assert "proposed no changes" in finished.summary
    assert len(server.chat_requests()) == 1
    assert git(calc_project, "status", "--porcelain") == ""


def test_no_endpoint_says_how_to_configure(calc_project: Path) -> None:
    from tests.conftest import run_ai

    result = run_ai("--build", "fix subtract", "--yes", cwd=calc_project)
    assert result.returncode == 1
    assert "OPENAI_BASE_URL" in result.stderr and "Traceback" not in result.stderr
    # The goal is still recorded, so it can be taken up again.
    session = ProjectStore(calc_project).session("main", create=False)
    assert any(m["content"] == "fix subtract" for m in session.messages())


def test_continue_build_sends_the_history(calc_project: Path, model_server) -> None:
    server = model_server(
        [
            {
                "when": {"request": 1},
                "reply": "FIRST-REPLY\n<<<<<<< CREATE one.txt\n1\n>>>>>>> END\n",
            },
            {
                "when": {"request": 2},
                "reply": "SECOND-REPLY\n<<<<<<< CREATE two.txt\n2\n>>>>>>> END\n",
            },
            {"reply": "THIRD-REPLY\n<<<<<<< CREATE three.txt\n3\n>>>>>>> END\n"},
        ]
    )
    assert (
        ai_build(calc_project, server.base_url, "--build", "first goal: look at calc", "--yes").returncode
        == 0
    )
    plain = ai_build(calc_project, server.base_url, "--build", "second goal without history", "--yes")
    assert plain.returncode == 0
    cont = ai_build(
        calc_project, server.base_url, "--continue", "--build", "third goal with history", "--yes"
    )
    assert cont.returncode == 0, cont.stderr
    chats = server.chat_requests()
    assert "FIRST-REPLY" not in all_text(chats[1])  # (its goal is listed with the recent changes)
    assert "first goal: look at calc" in all_text(chats[2])
    assert "FIRST-REPLY" in all_text(chats[2]) and "SECOND-REPLY" in all_text(chats[2])
    assert chats[2]["body"]["messages"][0]["role"] == "system"


def test_continue_build_on_unknown_session_is_a_usage_error(calc_project: Path, model_server) -> None:
    server = model_server([{"reply": "x"}])
    result = ai_build(
        calc_project, server.base_url, "--session", "nope", "--continue", "--build", "g", "--yes"
    )
    assert result.returncode == 2
    assert server.chat_requests() == []


def test_api_key_never_lands_in_agent_home(calc_project: Path, model_server, agent_home: Path) -> None:
    key = "sk-test-DO-NOT-STORE-4242"
    server = model_server([{"reply": FIX_SUBTRACT}])
    result = ai_build(
        calc_project,
        server.base_url,
        "--build",
        "fix subtract in calc/ops.py",
        "--yes",
        env={"OPENAI_API_KEY": key},
    )
    assert result.returncode == 0, result.stderr
    assert server.chat_requests()[0]["auth"] is True  # the key was sent to the endpoint...
    export = ai_build(calc_project, server.base_url, "--export-session", "main", env={"OPENAI_API_KEY": key})
    assert export.returncode == 0 and key not in export.stdout
    for path in agent_home.rglob("*"):  # ...and stored nowhere
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path
    assert key not in result.stdout + result.stderr


def test_no_git_changes_the_file_without_a_commit(calc_project: Path, model_server) -> None:
    server = model_server([{"reply": FIX_SUBTRACT}])
    head = git(calc_project, "rev-parse", "HEAD")
    result = ai_build(
        calc_project, server.base_url, "--build", "fix subtract in calc/ops.py", "--yes", "--no-git"
    )
    assert result.returncode == 0, result.stderr
    assert "return a - b" in (calc_project / "calc" / "ops.py").read_text()
    assert git(calc_project, "rev-parse", "HEAD") == head
    assert git(calc_project, "status", "--porcelain").strip() == "M calc/ops.py"
