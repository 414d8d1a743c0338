"""A small broken Python project in real git, and the scripted model server."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.trust import trust_current
from tests.conftest import git
from tests.model_server import ScriptedModelServer

OPS = """\
def mean(values):
    return sum(values) / len(values)


def clamp(value, low, high):
    return max(low, min(value, high))
"""

TESTS = """\
from calc.ops import clamp, mean


def test_mean():
    assert mean([1, 2, 3]) == 2


def test_mean_empty():
    assert mean([]) == 0


def test_clamp():
    assert clamp(5, 0, 3) == 3
"""

# pytest without the plugins of the shared venv: the same runner, a fifth of the start-up time.
TEST_CMD = f"PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {shlex.quote(sys.executable)} -m pytest -q -p no:cacheprovider"


def replace_block(old: str, new: str, path: str = "calc/ops.py", prose: str = "Here is the fix.") -> str:
    return f"{prose}\n\n<<<<<<< REPLACE {path}\n{old}=======\n{new}>>>>>>> END\n"


MEAN = "def mean(values):\n    return sum(values) / len(values)\n"
WRONG_NONE = replace_block(
    MEAN,
    "def mean(values):\n    if not values:\n        return None\n    return sum(values) / len(values)\n",
    prose="Empty means None.",
)
WRONG_ZERO_ALWAYS = replace_block(MEAN, "def mean(values):\n    return 0\n", prose="Always 0.")
WRONG_FLOOR = replace_block(
    MEAN, "def mean(values):\n    return sum(values) // max(len(values), 1) + 1\n", prose="Guard."
)
RIGHT = replace_block(
    MEAN,
    "def mean(values):\n    if not values:\n        return 0\n    return sum(values) / len(values)\n",
    prose="Return 0 for no values.",
)


@pytest.fixture
def broken(git_project: Path) -> Path:
    """A git project whose test_mean_empty fails (ZeroDivisionError), with an uncommitted README edit and an
    untracked notes file (the user's work in progress, which the fix must leave alone)."""
    root = git_project
    (root / "calc").mkdir()
    (root / "calc/__init__.py").write_text("")
    (root / "calc/ops.py").write_text(OPS)
    (root / "tests").mkdir()
    (root / "tests/test_ops.py").write_text(TESTS)
    (root / ".gitignore").write_text("__pycache__/\n.pytest_cache/\n")
    (root / ".ai-agent.toml").write_text(f"test_cmd = {TEST_CMD!r}\n")
    trust_current(root)  # the user's own project: its test command is trusted (app/trust.py)
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "calc")
    (root / "README.md").write_text("hello\nwork in progress\n")
    (root / "notes.txt").write_text("untracked notes\n")
    return root


@pytest.fixture
def model() -> Iterator[Callable[[list[dict[str, Any]]], ScriptedModelServer]]:
    started: list[ScriptedModelServer] = []

    def start(rules: list[dict[str, Any]]) -> ScriptedModelServer:
        started.append(ScriptedModelServer({"rules": rules}).start())
        return started[-1]

    yield start
    for server in started:
        server.stop()


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of the project (but .git) with its bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts and "__pycache__" not in p.parts
    }


def env_for(server: ScriptedModelServer) -> dict[str, str]:
    return {
        "OPENAI_BASE_URL": server.base_url,
        "OPENAI_API_KEY": "test-key",
        "AI_AGENT_MODEL": "scripted-model",
    }
