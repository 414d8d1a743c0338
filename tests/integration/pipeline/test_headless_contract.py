"""README's "Commands" as a script sees them, through the installed `ai` and the scripted model: an answer
without any edit is a failed task (exit 1, after asking once more), a failure is exactly one stderr line, a
base URL that is not http(s) is a usage error at once, an empty goal says so, the outcome is printed once."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from app.session.store import ProjectStore
from tests.conftest import git, run_ai
from tests.integration.pipeline.conftest import FIX_SUBTRACT, OPS, ai_build, first_user_message
from tests.model_server import free_port

GOAL = "fix subtract in calc/ops.py"

NO_EDIT_REPLIES = {
    "prose only": "subtract looks wrong to me: it should use a minus sign.",
    "code in a plain fence": "Here is the fix:\n\n```python\ndef subtract(a, b):\n    return a - b\n```\n",
    "empty": "",
}


def _one_stderr_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ai: ") and "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize("reply", sorted(NO_EDIT_REPLIES))
def test_an_answer_without_edit_blocks_is_asked_again_then_exit_1(
    reply: str, calc_project: Path, model_server
) -> None:
    server = model_server([{"reply": NO_EDIT_REPLIES[reply]}])
    result = ai_build(calc_project, server.base_url, "--build", GOAL, "--yes")
    assert result.returncode == 1, result.stdout + result.stderr
    line = _one_stderr_line(result)
    assert "without an edit block" in line and "nothing was written" in line
    chats = server.chat_requests()
    assert len(chats) == 2  # asked exactly once more
    again = first_user_message(chats[1])
    assert "Edit blocks are required" in again
    assert "<<<<<<< REPLACE" in again and ">>>>>>> END" in again  # the format reminder
    assert (calc_project / "calc" / "ops.py").read_text() == OPS
    assert git(calc_project, "status", "--porcelain") == ""


@pytest.mark.parametrize("mode", ["--dry-run", "--json"])
def test_no_edit_fails_in_every_headless_mode(mode: str, calc_project: Path, model_server) -> None:
    server = model_server([{"reply": NO_EDIT_REPLIES["prose only"]}])
    result = ai_build(calc_project, server.base_url, "--build", GOAL, mode)
    assert result.returncode == 1, result.stdout + result.stderr
    _one_stderr_line(result)
    if mode == "--json":
        events = [json.loads(line) for line in result.stdout.splitlines()]
        assert events[-1]["event"] == "finished" and events[-1]["exit_code"] == 1
    assert len(server.chat_requests()) == 2
    assert git(calc_project, "status", "--porcelain") == ""


def test_the_second_answer_with_edits_is_applied(calc_project: Path, model_server) -> None:
    server = model_server(
        [
            {"when": {"last_user_contains": "Edit blocks are required"}, "reply": FIX_SUBTRACT},
            {"reply": NO_EDIT_REPLIES["code in a plain fence"]},
        ]
    )
    result = ai_build(calc_project, server.base_url, "--build", GOAL, "--yes")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "return a - b" in (calc_project / "calc" / "ops.py").read_text()


def test_retry_notes_go_to_stdout_and_stderr_has_one_line(calc_project: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    plain = ai_build(calc_project, url, "--build", GOAL, "--yes")
    assert plain.returncode == 1
    assert "cannot connect" in _one_stderr_line(plain)
    assert plain.stdout.count("retrying in") == 2  # max_retries = 2 (tests/integration/pipeline/conftest.py)
    as_json = ai_build(calc_project, url, "--build", GOAL, "--yes", "--json")
    assert as_json.returncode == 1
    _one_stderr_line(as_json)
    events = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [e["event"] for e in events].count("retrying") == 2


@pytest.mark.parametrize(
    ("name", "script", "extra", "code"),
    [
        ("http 500", [{"status": 500}], [], 1),
        ("unauthorized", [{"status": 401}], [], 1),
        (
            "malformed twice",
            [{"reply": "<<<<<<< REPLACE calc/ops.py\ndef subtract(a, b):\n=======\n"}],
            [],
            1,
        ),
        ("no endpoint", None, [], 1),
        ("unknown session to continue", [], ["--session", "nope", "--continue"], 2),
        ("path outside the project", [{"reply": "<<<<<<< CREATE ../evil.py\nx = 1\n>>>>>>> END\n"}], [], 1),
    ],
)
def test_every_build_failure_is_exactly_one_stderr_line(
    name: str, script, extra: list[str], code: int, calc_project: Path, model_server
) -> None:
    if script is None:
        result = run_ai(*extra, "--build", GOAL, "--yes", cwd=calc_project)
    else:
        server = model_server(script)
        result = ai_build(calc_project, server.base_url, *extra, "--build", GOAL, "--yes")
    assert result.returncode == code, result.stdout + result.stderr
    _one_stderr_line(result)
    assert git(calc_project, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    ("how", "url"),
    [("--base-url", "not a url"), ("--base-url", "localhost:8080/v1"), ("OPENAI_BASE_URL", "ftp://host/v1")],
)
def test_a_base_url_that_is_not_http_is_a_usage_error_at_once(
    how: str, url: str, calc_project: Path, agent_home: Path
) -> None:
    if how == "--base-url":
        result = run_ai("--build", GOAL, "--yes", "--base-url", url, cwd=calc_project)
    else:
        result = run_ai("--build", GOAL, "--yes", cwd=calc_project, env={"OPENAI_BASE_URL": url})
    assert result.returncode == 2, result.stdout + result.stderr
    line = _one_stderr_line(result)
    assert how in line and "http" in line
    assert "retrying" not in result.stdout + result.stderr
    assert not ProjectStore(calc_project).exists("main")  # nothing stored for a command that never ran


@pytest.mark.parametrize("args", [["", "--yes"], ["   ", "--dry-run"], ["", "--json"]])
def test_an_empty_goal_says_build_needs_a_goal(args: list[str], calc_project: Path) -> None:
    result = run_ai("--build", *args, cwd=calc_project)
    assert result.returncode == 2
    assert "--build needs a goal" in _one_stderr_line(result)


def test_an_empty_search_with_json_says_the_query_is_empty(calc_project: Path) -> None:
    """The same order of checks for --search (app/cli.py): given empty is given, and its own check speaks."""
    result = run_ai("--search", "", "--json", cwd=calc_project)
    assert result.returncode == 2
    assert "empty search query" in _one_stderr_line(result)


def test_modifiers_without_a_command_still_say_which_commands_take_them(calc_project: Path) -> None:
    for args in (["--yes"], ["--dry-run"], ["--list-sessions", "--yes"]):
        result = run_ai(*args, cwd=calc_project)
        assert result.returncode == 2
        assert "goes with --undo, --build, --fix, --suggest" in _one_stderr_line(result)


def test_the_applied_change_is_printed_once(calc_project: Path, model_server) -> None:
    server = model_server([{"reply": FIX_SUBTRACT}])
    result = ai_build(calc_project, server.base_url, "--build", GOAL, "--yes")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("applied change") == 1, result.stdout
