"""The workspace in a real terminal (tmux): reject with n, undo with ctrl+z, and a resize to 80x24.

Applying with y is covered by tests/e2e/tui/test_tmux.py; this is the rest of a user's first minute. One test,
a few seconds: a real process start and two pipeline runs.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest

from tests.conftest import AI_BIN, git, requires_tmux
from tests.e2e.scripted import script
from tests.e2e.scripted.conftest import IDENTITY, Model
from tests.e2e.scripted.helpers import head, subjects
from tests.support.tmux import Tmux
from tests.waiting import wait_for

pytestmark = requires_tmux


def send_goal(tmux: Tmux, goal: str) -> None:
    """Type GOAL, wait until the input shows it, press enter, wait until the input took it (it empties) and
    for the proposal."""
    in_input = f"▊  {goal}"
    tmux.keys(goal, literal=True)
    tmux.wait_for(in_input)
    tmux.keys("Enter")
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
    term.close()


def test_reject_with_n_then_undo_with_ctrl_z_and_resize(tmux: Tmux, calc: Path, model: Model) -> None:
    # No language server or test watcher: this test is about the terminal path, and they cost seconds of CPU.
    (calc / ".ai-agent.toml").write_text("lsp = false\nwatch_tests = false\n")
    git(calc, "add", ".ai-agent.toml")
    git(calc, "commit", "-q", "-m", "config")
    env = {**IDENTITY, **model.env(), "AI_AGENT_HOME": os.environ["AI_AGENT_HOME"], "TERM": "xterm-256color"}
    tmux.start(calc, env, f"{shlex.quote(str(AI_BIN))}; echo EXIT=$?; sleep 30")
    tmux.wait_for("session main")
    before = head(calc)

    send_goal(tmux, "fix-sub")
    tmux.keys("n")
    tmux.wait_for("rejected")
    assert (calc / "calc" / "ops.py").read_text() == script.OPS and head(calc) == before

    send_goal(tmux, "fix-sub")
    tmux.keys("y")
    tmux.wait_for("applied calc/ops.py")
    assert (calc / "calc" / "ops.py").read_text().endswith("return a - b\n")

    tmux.keys("C-z")
    tmux.wait_for("undone")
    assert (calc / "calc" / "ops.py").read_text() == script.OPS
    assert subjects(calc)[0].startswith("ai(main): undo")

    tmux("resize-window", "-t", "ai", "-x", "80", "-y", "24")
    screen = tmux.wait_for("palette")
    assert len(screen.splitlines()[0]) <= 80 and "session main" in screen
    tmux.keys("C-q")
    tmux.wait_for("EXIT=0")
    assert git(calc, "status", "--porcelain") == ""
