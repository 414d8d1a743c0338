"""The workspace in a real terminal (tmux): reject with n, undo with ctrl+z, and a resize to 80x24.

Applying with y is covered by tests/tui/test_tmux.py; this is the rest of a user's first minute. One test,
a few seconds: a real process start and two pipeline runs.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import AI_BIN, git, requires_tmux
from tests.e2e import script
from tests.e2e.conftest import IDENTITY, Model
from tests.e2e.helpers import head, subjects

pytestmark = requires_tmux


class Tmux:
    def __init__(self, socket: Path) -> None:
        self.socket = str(socket)

    def __call__(self, *args: str) -> str:
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TMUX")}
        done = subprocess.run(
            ["tmux", "-S", self.socket, *args], capture_output=True, text=True, env=env, timeout=10
        )
        return done.stdout

    def wait_for(self, text: str, timeout: float = 25.0) -> str:
        deadline, screen = time.monotonic() + timeout, ""
        while time.monotonic() < deadline:
            screen = self("capture-pane", "-p", "-t", "ai")
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the terminal shows:\n{screen}")


def send_goal(tmux: Tmux, goal: str) -> None:
    """Type GOAL, wait until the input shows it, press enter until the proposal is on screen. On a loaded
    machine the first enter can arrive before the input takes keys; it is pressed again only while the goal is
    still sitting in the input (an extra enter on the proposal would reject it)."""
    in_input = f"▊  {goal}"
    tmux("send-keys", "-t", "ai", "-l", goal)
    tmux.wait_for(in_input)
    for _ in range(3):
        tmux("send-keys", "-t", "ai", "Enter")
        try:
            tmux.wait_for("Apply? [y/N/e/r/s]", timeout=15)
            return
        except AssertionError:
            if in_input not in tmux("capture-pane", "-p", "-t", "ai"):
                break  # submitted and still working: only wait
    tmux.wait_for("Apply? [y/N/e/r/s]", timeout=30)


@pytest.fixture
def tmux(tmp_path: Path):
    term = Tmux(tmp_path / "tmux.sock")
    yield term
    term("kill-server")


def test_reject_with_n_then_undo_with_ctrl_z_and_resize(tmux: Tmux, calc: Path, model: Model) -> None:
    # No language server or test watcher: this test is about the terminal path, and they cost seconds of CPU.
    (calc / ".ai-agent.toml").write_text("lsp = false\nwatch_tests = false\n")
    git(calc, "add", ".ai-agent.toml")
    git(calc, "commit", "-q", "-m", "config")
    env = {**IDENTITY, **model.env(), "AI_AGENT_HOME": os.environ["AI_AGENT_HOME"], "TERM": "xterm-256color"}
    exports = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
    command = f"{shlex.quote(str(AI_BIN))}; echo EXIT=$?; sleep 30"
    tmux(
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-s",
        "ai",
        "-x",
        "120",
        "-y",
        "36",
        "-c",
        str(calc),
        *exports,
        command,
    )
    tmux.wait_for("session main")
    before = head(calc)

    send_goal(tmux, "fix-sub")
    tmux("send-keys", "-t", "ai", "n")
    tmux.wait_for("rejected")
    assert (calc / "calc" / "ops.py").read_text() == script.OPS and head(calc) == before

    send_goal(tmux, "fix-sub")
    tmux("send-keys", "-t", "ai", "y")
    tmux.wait_for("applied calc/ops.py")
    assert (calc / "calc" / "ops.py").read_text().endswith("return a - b\n")

    tmux("send-keys", "-t", "ai", "C-z")
    tmux.wait_for("undone")
    assert (calc / "calc" / "ops.py").read_text() == script.OPS
    assert subjects(calc)[0].startswith("ai(main): undo")

    tmux("resize-window", "-t", "ai", "-x", "80", "-y", "24")
    screen = tmux.wait_for("palette")
    assert len(screen.splitlines()[0]) <= 80 and "session main" in screen
    tmux("send-keys", "-t", "ai", "C-q")
    tmux.wait_for("EXIT=0")
    assert git(calc, "status", "--porcelain") == ""
