"""Edits as a user meets them: the installed `ai --build`, a real git repository, the scripted model server."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AI_BIN, git, run_ai
from tests.integration.edits.helpers import AREA_ANCHOR, SHIFTED_LOOK_ALIKE, in_area, replace
from tests.model_server import ScriptedModelServer
from tests.support.user_config import write_user_config
from tests.waiting import wait_for

CONFLICTED = "x = 1\n<<<<<<< HEAD\ny = 2\n=======\ny = 3\n>>>>>>> feature\nz = 4\n"
# The merge conflict twice in the file: every split of the answer's block fits at two places.
TWICE = CONFLICTED + CONFLICTED.replace("x = 1", "w = 0")
CONFLICT_BLOCK = (
    "Take theirs.\n\n<<<<<<< REPLACE conflict.py\n<<<<<<< HEAD\ny = 2\n=======\ny = 3\n>>>>>>> feature\n"
    "=======\ny = 3\n>>>>>>> END\n"
)


@pytest.fixture(autouse=True)
def fast_retries(agent_home: Path) -> Path:
    write_user_config(agent_home)
    return agent_home


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[ScriptedModelServer] = []

    def start(replies: list[str]) -> ScriptedModelServer:
        rules = [{"reply": text, "times": 1} for text in replies]
        server = ScriptedModelServer({"rules": rules}).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def build(root: Path, server: ScriptedModelServer, *args: str):
    return run_ai(*args, cwd=root, env={"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"})


def commit_file(root: Path, name: str, text: str) -> None:
    (root / name).write_text(text)
    git(root, "add", name)
    git(root, "commit", "-q", "-m", f"add {name}")


def test_a_conflict_resolved_with_two_separator_lines_is_split_where_the_file_says(
    git_project: Path, serve: Any
) -> None:
    commit_file(git_project, "conflict.py", CONFLICTED)
    server = serve([CONFLICT_BLOCK])
    result = build(git_project, server, "--build", "resolve the merge conflict in conflict.py", "--yes")
    assert result.returncode == 0, result.stderr
    assert (git_project / "conflict.py").read_text() == "x = 1\ny = 3\nz = 4\n"
    assert "-y = 2\n-=======\n y = 3\n->>>>>>> feature\n" in git(git_project, "show", "HEAD")


def test_two_separator_lines_that_fit_twice_go_back_to_the_model_once_then_exit_1(
    git_project: Path, serve: Any
) -> None:
    commit_file(git_project, "conflict.py", TWICE)
    server = serve([CONFLICT_BLOCK, CONFLICT_BLOCK])
    head = git(git_project, "rev-parse", "HEAD")
    result = build(git_project, server, "--build", "resolve the merge conflicts in conflict.py", "--yes")
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "block 1 (REPLACE conflict.py) is malformed" in line and "lines 6 and 9 of the answer" in line
    assert len(server.requests) == 2  # sent back once, with the error
    assert "is malformed" in str(server.requests[1]["body"]["messages"][-1])
    assert (git_project / "conflict.py").read_text() == TWICE
    assert git(git_project, "rev-parse", "HEAD") == head


def test_an_empty_anchor_is_named_as_such(git_project: Path, serve: Any) -> None:
    commit_file(git_project, "k.py", "a = 1\n")
    empty = "<<<<<<< REPLACE k.py\n=======\nb = 2\n>>>>>>> END\n"
    server = serve([empty, empty])
    result = build(git_project, server, "--build", "change k.py", "--yes")
    assert result.returncode == 1
    assert (
        "block 1 has an empty anchor (REPLACE k.py): copy the lines to replace above =======" in result.stderr
    )
    assert (git_project / "k.py").read_text() == "a = 1\n"


OPS = "def add(a, b):\n    return a + b\n\n\ndef subtract(a, b):\n    return a + b\n"
FIX_SUBTRACT = (
    "<<<<<<< REPLACE calc.py\ndef subtract(a, b):\n    return a + b\n=======\n"
    "def subtract(a, b):\n    return a - b\n>>>>>>> END\n"
)
FIXED = OPS.removesuffix("a + b\n") + "a - b\n"


def test_a_wip_line_right_after_the_change_stays_uncommitted(git_project: Path, serve: Any) -> None:
    commit_file(git_project, "calc.py", OPS)
    with (git_project / "calc.py").open("a") as handle:
        handle.write("# my wip\n")
    result = build(git_project, serve([FIX_SUBTRACT]), "--build", "fix subtract in calc.py", "--yes")
    assert result.returncode == 0, result.stderr
    assert "my wip" not in git(git_project, "show", "HEAD")
    assert git(git_project, "show", "HEAD:calc.py") == FIXED
    assert git(git_project, "diff").endswith(" def subtract(a, b):\n     return a - b\n+# my wip\n")
    assert "warning" not in result.stdout + result.stderr


def test_user_edits_on_the_changed_lines_go_in_with_a_warning_naming_the_file(
    git_project: Path, serve: Any
) -> None:
    commit_file(git_project, "calc.py", OPS)
    mine = OPS.removesuffix("\n") + "  # mine\n"  # the very line the model changes
    (git_project / "calc.py").write_text(mine)
    answer = FIX_SUBTRACT.replace("    return a + b\n=", "    return a + b  # mine\n=")
    result = build(git_project, serve([answer]), "--build", "fix subtract in calc.py", "--yes")
    assert result.returncode == 0, result.stderr
    assert git(git_project, "show", "HEAD:calc.py") == FIXED and git(git_project, "diff") == ""
    (warning,) = [line for line in result.stdout.splitlines() if "warning" in line]
    assert "your uncommitted edits in calc.py" in warning and "went into commit" in warning


@pytest.mark.parametrize(
    "args",
    [
        ["--fix", "--build", "x"],
        ["--search", "x", "--build", "y"],
        ["--suggest", "--fix"],
        ["--undo", "--suggest"],
        ["--undo", "--fix"],
        ["--undo", "--search", "x"],
        ["--build", "x", "--export-session", "main"],
    ],
)
def test_two_commands_at_once_are_a_usage_error(git_project: Path, args: list[str]) -> None:
    result = run_ai(*args, cwd=git_project)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "choose one of --build, --fix, --undo, --suggest, --search, " in line
    assert git(git_project, "status", "--porcelain") == ""


def test_export_to_an_existing_file_is_refused_and_writes_nothing(git_project: Path) -> None:
    assert run_ai("--session", "main", cwd=git_project).returncode == 0
    source = git_project / "README.md"
    result = run_ai("--export-session", "main", "README.md", cwd=git_project)
    assert result.returncode == 3
    assert result.stderr.strip() == "ai: README.md exists: choose another name or remove it first"
    assert source.read_text() == "hello\n" and git(git_project, "status", "--porcelain") == ""
    fresh = run_ai("--export-session", "main", "main.json", cwd=git_project)
    assert fresh.returncode == 0 and '"ai-agent-session"' in (git_project / "main.json").read_text()


def test_a_syntax_error_is_reported_at_its_own_line(git_project: Path, serve: Any) -> None:
    commit_file(git_project, "calc.py", OPS)
    broken = FIX_SUBTRACT.replace("=======\ndef subtract(a, b):\n", "=======\ndef subtract(a, b)\n")
    result = build(git_project, serve([broken, broken]), "--build", "fix subtract in calc.py", "--yes")
    assert result.returncode == 1
    assert "calc.py: after the edits the file no longer parses as python (syntax error near line 5)" in (
        result.stderr
    )
    assert (git_project / "calc.py").read_text() == OPS


def test_a_binary_file_can_be_removed_and_undo_brings_it_back_byte_for_byte(
    git_project: Path, serve: Any
) -> None:
    blob = bytes(range(256)) * 4
    (git_project / "blob.bin").write_bytes(blob)
    git(git_project, "add", "blob.bin")
    git(git_project, "commit", "-q", "-m", "blob")
    remove = "It is obsolete.\n\n<<<<<<< REMOVE blob.bin\n>>>>>>> END\n"
    result = build(git_project, serve([remove]), "--build", "remove the obsolete blob.bin", "--yes")
    assert result.returncode == 0, result.stderr
    assert "blob.bin removed whole (1024 bytes, not shown as text)" in result.stdout
    assert not (git_project / "blob.bin").exists()
    assert git(git_project, "show", "--name-status", "--format=", "HEAD").split() == ["D", "blob.bin"]
    undone = run_ai("--undo", cwd=git_project)
    assert undone.returncode == 0, undone.stderr
    assert (git_project / "blob.bin").read_bytes() == blob
    assert git(git_project, "status", "--porcelain") == ""


def test_two_builds_on_the_same_function_at_once_never_land_on_its_look_alike(
    git_project: Path, agent_home: Path, tmp_path: Path
) -> None:
    # Session b's build reads geometry.py and asks the model; while its answer is held back, session a's
    # build changes the same line of area. b's anchor then fits only volume (a method, indented deeper),
    # once indentation is ignored: b must be refused, not applied there.
    write_user_config(agent_home, request_timeout=120.0)  # b's answer waits for a's build
    commit_file(git_project, "geometry.py", SHIFTED_LOOK_ALIKE)
    release = tmp_path / "release-b"
    a_goal, b_goal = "round area to one place in geometry.py", "round area to two places in geometry.py"

    def answer(digits: int) -> str:
        rounded = AREA_ANCHOR.replace("round(size)", f"round(size, {digits})")
        return f"Round it.\n\n{replace('geometry.py', AREA_ANCHOR, rounded)}"

    rules = [
        {"when": {"contains": b_goal}, "reply": answer(2), "hold_until": str(release), "times": 1},
        {"when": {"contains": a_goal}, "reply": answer(1), "times": 1},
    ]
    server = ScriptedModelServer({"rules": rules}).start()
    env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"}
    b = subprocess.Popen(
        [str(AI_BIN), "--session", "b", "--build", b_goal, "--yes"],
        cwd=git_project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def b_asked() -> bool:
            return any(b_goal in json.dumps(r["body"]) for r in server.chat_requests())

        wait_for(lambda: b_asked() or b.poll() is not None, what="b's build to ask the model")
        assert b_asked(), "b's build never asked the model"
        a = build(git_project, server, "--session", "a", "--build", a_goal, "--yes")
        assert a.returncode == 0, a.stderr
        after_a = (git_project / "geometry.py").read_text()
        assert after_a == in_area(SHIFTED_LOOK_ALIKE, "round(size)", "round(size, 1)")
        log = git(git_project, "log", "--format=%H %s")
        release.touch()
        _out, err = b.communicate(timeout=120)
    finally:
        if b.poll() is None:
            b.kill()
            b.communicate()
        server.stop()
    assert b.returncode == 3, err
    (line,) = err.strip().splitlines()
    assert "geometry.py changed since it was read and hunk 1" in line and "nothing was written" in line
    assert (git_project / "geometry.py").read_text() == after_a
    assert git(git_project, "log", "--format=%H %s") == log
    assert git(git_project, "status", "--porcelain") == ""
