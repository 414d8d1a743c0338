"""Fixtures of the pipeline tests: a project with code, the scripted model server, and `ai` pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import git, run_ai
from tests.model_server import ScriptedModelServer
from tests.support.user_config import write_user_config

OPS = "def add(a, b):\n    return a + b\n\n\ndef subtract(a, b):\n    return a + b\n"

FIX_SUBTRACT = (
    "Plan: subtract should subtract.\n\n"
    "<<<<<<< REPLACE calc/ops.py\n"
    "def subtract(a, b):\n"
    "    return a + b\n"
    "=======\n"
    "def subtract(a, b):\n"
    "    return a - b\n"
    ">>>>>>> END\n"
)


@pytest.fixture(autouse=True)
def fast_retries(agent_home: Path) -> Path:
    write_user_config(agent_home)
    return agent_home


@pytest.fixture
def calc_project(git_project: Path) -> Path:
    """A git repository with a small calculator package, committed."""
    (git_project / "calc").mkdir()
    (git_project / "calc" / "__init__.py").write_text("")
    (git_project / "calc" / "ops.py").write_text(OPS)
    git(git_project, "add", ".")
    git(git_project, "commit", "-q", "-m", "calc")
    return git_project


@pytest.fixture
def model_server() -> Iterator[Callable[..., ScriptedModelServer]]:
    servers: list[ScriptedModelServer] = []

    def start(script: dict[str, Any] | list[dict[str, Any]]) -> ScriptedModelServer:
        server = ScriptedModelServer(script).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def ai_build(root: Path, server_url: str, *args: str, env: dict[str, str] | None = None):
    """The installed `ai` against a model endpoint (stdout captured: not a terminal, so headless)."""
    return run_ai(*args, cwd=root, env={"OPENAI_BASE_URL": server_url, **(env or {})})


def first_user_message(request: dict[str, Any]) -> str:
    users = [m["content"] for m in request["body"]["messages"] if m["role"] == "user"]
    return users[-1] if users else ""


def all_text(request: dict[str, Any]) -> str:
    return "\n".join(str(m["content"]) for m in request["body"]["messages"])


async def build_in_process(
    root: Path, server: ScriptedModelServer, goal: str, mode: str = "dry-run", **config: Any
) -> tuple[int, str, str]:
    """The same headless run as `ai --build`, in this process: (exit status, stdout, stderr)."""
    import io
    from dataclasses import replace

    from app.commands.build import Mode, run_headless
    from app.config import load_config
    from app.session.store import ProjectStore
    from app.workspace import Workspace

    settings = replace(load_config(root, {"base_url": server.base_url}), **config)
    session = ProjectStore(root).session("main", activate=True)
    workspace = Workspace(root, settings, session)
    out, err = io.StringIO(), io.StringIO()
    code = await run_headless(workspace, goal, Mode(mode), out=out, err=err)
    return code, out.getvalue(), err.getvalue()
