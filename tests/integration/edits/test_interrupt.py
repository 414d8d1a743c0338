"""Ctrl-C while `ai` applies or undoes a change: the change is finished (or was never started), and the one
line on stderr says which; never "nothing was left half-written" over a change that was applied."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.session.store import ProjectStore
from tests.conftest import default_sigint, git, run_ai
from tests.model_server import ScriptedModelServer
from tests.support.user_config import write_user_config

OPS = "def add(a, b):\n    return a + b\n\n\ndef subtract(a, b):\n    return a + b\n"
FIXED = OPS.removesuffix("a + b\n") + "a - b\n"
FIX_SUBTRACT = (
    "Plan: subtract should subtract.\n\n<<<<<<< REPLACE calc.py\ndef subtract(a, b):\n    return a + b\n"
    "=======\ndef subtract(a, b):\n    return a - b\n>>>>>>> END\n"
)

# `ai` itself, with a real SIGINT sent to it when the named functions are first entered (one Ctrl-C each).
INTERRUPTED_AI = r"""
import os, signal, sys
from app.cli import main

targets = sys.argv[1].split(",")


def ctrl_c_at(frame, event, arg):
    if event == "call" and targets and frame.f_code.co_name == targets[0]:
        targets.pop(0)
        os.kill(os.getpid(), signal.SIGINT)


sys.setprofile(ctrl_c_at)
main(sys.argv[2:])
"""


@pytest.fixture(autouse=True)
def fast_retries(agent_home: Path) -> Path:
    write_user_config(agent_home)
    return agent_home


@pytest.fixture
def calc(git_project: Path) -> Path:
    (git_project / "calc.py").write_text(OPS)
    git(git_project, "add", ".")
    git(git_project, "commit", "-q", "-m", "calc")
    return git_project


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer({"rules": [{"reply": FIX_SUBTRACT}]}) as running:
        yield running


def interrupted_ai(
    root: Path, at: list[str], *args: str, base_url: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENAI_BASE_URL": base_url, "OPENAI_API_KEY": "k"}
    env["PYTHONPATH"] = str(Path(__file__).parents[2])
    return subprocess.run(
        [sys.executable, "-c", INTERRUPTED_AI, ",".join(at), *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=default_sigint,
    )


@pytest.mark.parametrize(
    "at",
    [["apply_proposal"], ["apply_proposal", "record_change"]],
    ids=["ctrl-c-once", "ctrl-c-twice-mid-apply"],
)
def test_ctrl_c_during_apply_says_the_change_was_applied_and_committed(
    calc: Path, server: ScriptedModelServer, at: list[str]
) -> None:
    result = interrupted_ai(calc, at, "--build", "fix subtract in calc.py", "--yes", base_url=server.base_url)
    assert result.returncode == 130, result.stderr
    (change,) = ProjectStore(calc).session("main").changes()
    head = git(calc, "rev-parse", "HEAD").strip()
    assert change["commit"] == head and (calc / "calc.py").read_text() == FIXED
    assert git(calc, "status", "--porcelain") == ""
    (line,) = result.stderr.strip().splitlines()
    assert "nothing was left half-written" not in line
    assert f"change {change['id']}" in line and head[:12] in line and "ai --undo" in line
    # The session tells the same story: the goal ended applied.
    events = [m for m in ProjectStore(calc).session("main").messages() if m.get("outcome")]
    assert [m["outcome"] for m in events] == ["applied"]
    # Nothing is left for the next `ai` to recover.
    assert "recovered" not in run_ai("--undo", "--dry-run", cwd=calc).stdout


def test_ctrl_c_during_undo_finishes_the_undo_and_says_so(calc: Path, server: ScriptedModelServer) -> None:
    applied = run_ai(
        "--build", "fix subtract in calc.py", "--yes", cwd=calc, env={"OPENAI_BASE_URL": server.base_url}
    )
    assert applied.returncode == 0, applied.stderr
    result = interrupted_ai(calc, ["_put"], "--undo")
    assert result.returncode == 130, result.stderr
    (change,) = ProjectStore(calc).session("main").changes()
    assert change["undone"] and (calc / "calc.py").read_text() == OPS
    head = git(calc, "rev-parse", "HEAD").strip()
    assert change["undo_commit"] == head and git(calc, "status", "--porcelain") == ""
    (line,) = result.stderr.strip().splitlines()
    assert f"undo of change {change['id']}" in line and head[:12] in line
    assert "nothing was left half-written" not in line


def test_ctrl_c_before_anything_was_applied_keeps_its_message(calc: Path) -> None:
    result = interrupted_ai(calc, ["cmd_undo"], "--undo")
    assert result.returncode == 130
    assert result.stderr.strip() == "ai: interrupted; nothing was left half-written"
