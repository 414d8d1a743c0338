"""The build the workspace tests drive: a real git project with a calculator whose two functions are far
enough apart to be two hunks, the scripted model's replies about it, the fixtures that start the model server
and build the App on that project, and the steps a test takes (send a goal, wait for the approval, wait until
the build has ended). Used by tests/tui/test_build.py, test_build_stops.py and the other workspace tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.config import Config
from app.tui import WorkspaceApp, make_app
from tests.conftest import git
from tests.model_server import ScriptedModelServer
from tests.tui.conftest import BOUND, FROZEN_TIME, wait_for_session, wait_for_workers, wait_until
from widgets.approval import ApprovalScreen
from widgets.diff_preview import DiffPreview

# Two functions far enough apart that a change to each is its own hunk.
OPS = (
    "def add(a, b):\n    return a + b\n\n\n"
    + "".join(f"def helper_{i}():\n    return {i}\n\n\n" for i in range(4))
    + "def subtract(a, b):\n    return a + b\n"
)

PLAN = "Plan: make `subtract` subtract and document `add`.\n\n"
TWO_HUNKS = (
    PLAN
    + "<<<<<<< REPLACE calc/ops.py\ndef add(a, b):\n    return a + b\n=======\n"
    + 'def add(a, b):\n    """Sum."""\n    return a + b\n>>>>>>> END\n\n'
    + "<<<<<<< REPLACE calc/ops.py\ndef subtract(a, b):\n    return a + b\n=======\n"
    + "def subtract(a, b):\n    return a - b\n>>>>>>> END\n"
)
REVISED = (
    "Revised: only subtract.\n\n"
    "<<<<<<< REPLACE calc/ops.py\ndef subtract(a, b):\n    return a + b\n=======\n"
    "def subtract(a, b):\n    return -(b - a)\n>>>>>>> END\n"
)
ALTERNATIVES = (
    "1. Use operator.sub. 2. Negate and add. I recommend 1.\n\n"
    "<<<<<<< REPLACE calc/ops.py\ndef subtract(a, b):\n    return a + b\n=======\n"
    "def subtract(a, b):\n    import operator\n    return operator.sub(a, b)\n>>>>>>> END\n"
)
SCRIPT: dict[str, Any] = {
    "rules": [
        {"when": {"last_user_contains": "revision"}, "reply": REVISED},
        {"when": {"last_user_contains": "alternatives"}, "reply": ALTERNATIVES},
    ],
    "default": {"reply": TWO_HUNKS, "chunk_size": 24},
}


@pytest.fixture
def calc(git_project: Path) -> Path:
    (git_project / "calc").mkdir()
    (git_project / "calc" / "__init__.py").write_text("")
    (git_project / "calc" / "ops.py").write_text(OPS)
    git(git_project, "add", ".")
    git(git_project, "commit", "-q", "-m", "calc")
    return git_project


@pytest.fixture
def server() -> Iterator[Callable[[dict[str, Any]], ScriptedModelServer]]:
    started: list[ScriptedModelServer] = []

    def start(script: dict[str, Any]) -> ScriptedModelServer:
        started.append(ScriptedModelServer(script).start())
        return started[-1]

    yield start
    for one in started:
        one.stop()


def model_config(url: str, **extra: Any) -> Config:
    settings: dict[str, Any] = {
        "base_url": url,
        "api_key": "test-key",
        "model": "scripted-model",
        "max_retries": 1,
        "retry_base_delay": 0.01,
        "request_timeout": BOUND,
        "lsp": False,
        "watch_tests": False,
    }
    settings.update(extra)
    return Config(**settings)


@pytest.fixture
def build_app(calc: Path, server) -> Callable[..., tuple[WorkspaceApp, ScriptedModelServer]]:
    def make(script: dict[str, Any] = SCRIPT, goal: str | None = None, **extra: Any):
        model = server(script)
        app = make_app(
            calc,
            "main",
            config=model_config(model.base_url, **extra),
            initial_goal=goal,
            clock=lambda: FROZEN_TIME,
        )
        return app, model

    return make


async def submit_goal(pilot, goal: str) -> None:
    await wait_for_session(pilot, "main")
    pilot.app.main_screen.query_one("#goal").focus()
    pilot.app.main_screen.query_one("#goal").value = goal
    await pilot.press("enter")


async def submit_goal_while_busy(pilot, goal: str) -> None:
    box = pilot.app.main_screen.query_one("#goal")
    box.focus()
    box.value = goal
    await pilot.press("enter")
    assert box.value == goal  # kept for later, not sent


async def wait_for_approval(pilot) -> ApprovalScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ApprovalScreen), what="the approval")
    screen = pilot.app.screen
    assert isinstance(screen, ApprovalScreen)
    await wait_until(pilot, lambda: bool(screen.query_one(DiffPreview).hunk_views), what="the diff")
    return screen


async def wait_idle(pilot) -> None:
    await wait_for_workers(pilot, "build")  # the pipeline's thread
    await wait_until(pilot, lambda: not pilot.app.main_screen.busy, what="the build to end")


def ops(calc: Path) -> str:
    return (calc / "calc" / "ops.py").read_text()


def commits(calc: Path) -> list[str]:
    return git(calc, "log", "--format=%s").splitlines()


def diff_note(app: WorkspaceApp) -> str:
    """What the diff pane says when it shows no diff."""
    return " ".join(str(note.render()) for note in app.main_screen.diff.query(".empty"))
