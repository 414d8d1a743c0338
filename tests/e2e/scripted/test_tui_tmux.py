"""The workspace in a real terminal (tmux): reject with n, undo with ctrl+z, and a resize to 80x24.

Applying with y is covered by tests/e2e/tui/test_tmux.py; this is the rest of a user's first minute. One test,
a few seconds: a real process start and two pipeline runs.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.conftest import AI_BIN, git, requires_tmux
from tests.e2e.scripted import script
from tests.e2e.scripted.conftest import IDENTITY, Model
from tests.e2e.scripted.helpers import head, subjects
from tests.waiting import BOUND, wait_for

pytestmark = requires_tmux


class Tmux:
    def __init__(self, socket: Path) -> None:
        self.socket = str(socket)

    def __call__(self, *args: str) -> str:
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TMUX")}
        done = subprocess.run(
            ["tmux", "-S", self.socket, *args], capture_output=True, text=True, env=env, timeout=BOUND
        )
        return done.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "ai")

    def wait_for(self, text: str, timeout: float = BOUND) -> str:
        """Until ``text`` is on the terminal; returns what it shows."""

        def showing() -> str | None:
            screen = self.screen()
            return screen if text in screen else None

        return wait_for(
            showing,
            timeout,
            f"{text!r} on the terminal",
            detail=lambda: f"the terminal shows:\n{self.screen()}",
        )


def send_goal(tmux: Tmux, goal: str) -> None:
    """Type GOAL, wait until the input shows it, press enter, wait until the input took it (it empties) and
    for the proposal."""
    in_input = f"▊  {goal}"
    tmux("send-keys", "-t", "ai", "-l", goal)
    tmux.wait_for(in_input)
    tmux("send-keys", "-t", "ai", "Enter")
    wait_for(
        lambda: in_input not in tmux.screen(),
        what="the goal to leave the input (enter sends it)",
        detail=lambda: f"the terminal shows:\n{tmux.screen()}",
    )
    tmux.wait_for("Apply? [y/N/e/r/s]")


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
