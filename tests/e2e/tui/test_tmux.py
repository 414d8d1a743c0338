"""End to end: the installed `ai` in a real terminal (tmux) against the scripted model server as a subprocess.

A user's path: open the workspace, type a goal, watch the proposal, press y; then the file, the git commit
(checked with the git CLI) and the session are what they should be. Each test takes a few seconds (a real
process start and a real pipeline run); nothing faster covers the terminal path.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.session.store import ProjectStore
from tests.conftest import AI_BIN, REPO, git, requires_tmux
from tests.support.tmux import Tmux
from tests.waiting import BOUND, wait_for

pytestmark = requires_tmux

OPS = "def add(a, b):\n    return a + b\n\n\ndef subtract(a, b):\n    return a + b\n"
REPLY = (
    "Plan: subtract should subtract.\n\n"
    "<<<<<<< REPLACE calc/ops.py\ndef subtract(a, b):\n    return a + b\n=======\n"
    "def subtract(a, b):\n    return a - b\n>>>>>>> END\n"
)


class Terminal(Tmux):
    """One tmux server (its own socket) with one window running a command; a tmux command that fails raises."""

    def __init__(self, socket: Path, cwd: Path, env: dict[str, str], command: list[str]) -> None:
        super().__init__(socket, check=True)
        self.start(cwd, env, " ".join(shlex.quote(c) for c in command) + "; echo EXIT=$?; sleep 30")


@pytest.fixture
def calc(git_project: Path) -> Path:
    (git_project / "calc").mkdir()
    (git_project / "calc" / "ops.py").write_text(OPS)
    git(git_project, "add", ".")
    git(git_project, "commit", "-q", "-m", "calc")
    return git_project


@pytest.fixture
def model_url(tmp_path: Path) -> Iterator[str]:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"default": {"reply": REPLY}}))
    port_file = tmp_path / "port.txt"
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.model_server", "--script", str(script), "--port-file", str(port_file)],
        cwd=REPO,
    )
    try:
        wait_for(
            lambda: (port_file.exists() and port_file.read_text().strip()) or server.poll() is not None,
            what="the model server to start",
        )
        assert server.poll() is None, "the model server exited"
        yield f"http://127.0.0.1:{port_file.read_text().strip()}/v1"
    finally:
        server.terminate()
        server.wait(timeout=BOUND)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Callable[..., Terminal]]:
    opened: list[Terminal] = []

    def open_terminal(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Terminal:
        base = {
            "AI_AGENT_HOME": os.environ["AI_AGENT_HOME"],
            "TERM": "xterm-256color",
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", str(tmp_path)),
            "EDITOR": "",
            "GIT_AUTHOR_NAME": "Test",
            "GIT_AUTHOR_EMAIL": "test@example.com",
            "GIT_COMMITTER_NAME": "Test",
            "GIT_COMMITTER_EMAIL": "test@example.com",
        }
        opened.append(
            Terminal(tmp_path / f"tmux-{len(opened)}", cwd, {**base, **(env or {})}, [str(AI_BIN), *args])
        )
        return opened[-1]

    yield open_terminal
    for one in opened:
        one.close()


def test_goal_typed_in_the_workspace_is_applied_with_y(calc: Path, model_url: str, terminal) -> None:
    term = terminal(calc, env={"OPENAI_BASE_URL": model_url, "OPENAI_API_KEY": "k", "AI_AGENT_MODEL": "m"})
    term.wait_for("session main")
    term.keys("fix subtract in calc/ops.py", literal=True)
    term.keys("Enter")
    screen = term.wait_for("Apply? [y/N/e/r/s]")
    assert "return a - b" in screen
    term.keys("y")
    term.wait_for("applied calc/ops.py")
    term.keys("C-q")
    term.wait_for("EXIT=0")
    assert "return a - b" in (calc / "calc" / "ops.py").read_text()
    log = git(calc, "log", "--format=%s", "-n", "1")
    assert log.strip(), "no commit"
    assert git(calc, "show", "--name-only", "--format=", "HEAD").split() == ["calc/ops.py"]
    assert git(calc, "status", "--porcelain") == ""
    session = ProjectStore(calc).session("main", create=False)
    assert session.meta().change_count == 1
    assert any("fix subtract" in m["content"] for m in session.messages())


def test_session_flag_opens_the_workspace_without_a_model(calc: Path, terminal) -> None:
    term = terminal(calc, "--session", "dark-mode")
    term.wait_for("No model is configured")
    term.wait_for("session dark-mode")
    term.keys("C-q")
    term.wait_for("EXIT=0")
    store = ProjectStore(calc)
    assert store.active_name() == "dark-mode"


def test_e_hands_the_terminal_to_editor_and_applies_the_edit(
    calc: Path, model_url: str, terminal, tmp_path: Path
) -> None:
    """The workspace suspends itself for $EDITOR (only a real terminal can show this), comes back to the
    approval with the edited diff, and applies it on y."""
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nsed -i "s/return a - b/return a - b  # reviewed/" "$@"\n')
    editor.chmod(0o755)
    env = {"OPENAI_BASE_URL": model_url, "OPENAI_API_KEY": "k", "EDITOR": str(editor)}
    term = terminal(calc, env=env)
    term.wait_for("session main")
    term.keys("fix subtract in calc/ops.py", literal=True)
    term.keys("Enter")
    term.wait_for("Apply? [y/N/e/r/s]")
    term.keys("e")
    term.wait_for("Your edited version")
    assert "return a - b  # reviewed" not in (calc / "calc" / "ops.py").read_text(), "applied before y"
    term.keys("y")
    term.wait_for("applied calc/ops.py")
    term.keys("C-q")
    term.wait_for("EXIT=0")
    assert "return a - b  # reviewed" in (calc / "calc" / "ops.py").read_text()
    assert git(calc, "status", "--porcelain") == ""
