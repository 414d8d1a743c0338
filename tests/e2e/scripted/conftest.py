"""Fixtures of the end-to-end tests: the installed `ai` against the scripted model server as a subprocess.

One server serves the whole package (its rules key on each test's goal, tests/e2e/scripted/script.py); every test has
its own git project in tmp_path and its own AI_AGENT_HOME (the autouse fixture of tests/conftest.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, git, run_ai
from tests.e2e.scripted import script
from tests.waiting import BOUND, wait_for

IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


@dataclass
class Model:
    base_url: str
    log: Path

    def env(self) -> dict[str, str]:
        return {"OPENAI_BASE_URL": self.base_url, "OPENAI_API_KEY": "sk-e2e-secret", "AI_AGENT_MODEL": "m"}

    def requests_for(self, goal: str) -> list[dict[str, Any]]:
        """The chat requests whose messages carry GOAL, in order."""
        return [entry["body"] for entry in self.log_entries_for(goal)]

    def log_entries_for(self, goal: str) -> list[dict[str, Any]]:
        """The logged requests (body, headers, "auth": whether a key came) whose messages carry GOAL."""
        found = []
        for line in self.log.read_text().splitlines():
            entry = json.loads(line)
            body = entry.get("body")
            if isinstance(body, dict) and any(
                goal in str(m.get("content")) for m in body.get("messages", [])
            ):
                found.append(entry)
        return found


@pytest.fixture(scope="session")
def model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Model]:
    folder = tmp_path_factory.mktemp("model")
    script_file = folder / "script.json"
    script_file.write_text(json.dumps({"rules": script.rules()}))
    port_file, log = folder / "port.txt", folder / "requests.jsonl"
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.model_server", "--script", str(script_file), "--port-file", str(port_file),
         "--log", str(log)],
        cwd=REPO, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(
            lambda: (port_file.exists() and port_file.read_text().strip()) or server.poll() is not None,
            what="the scripted model server to start",
        )
        assert server.poll() is None, "the scripted model server exited"
        yield Model(f"http://127.0.0.1:{port_file.read_text().strip()}/v1", log)
    finally:
        server.terminate()
        server.wait(timeout=BOUND)


@pytest.fixture(autouse=True)
def no_language_server(agent_home: Path) -> None:
    """Stage 7's language-server check starts basedpyright for every Python proposal: 4-5 s a build on this
    loaded machine, which would triple the suite. These tests are about the command line and the edit
    contract; tests/integration/background covers the language servers."""
    (agent_home / "config.toml").write_text("lsp = false\n")


@pytest.fixture
def calc(git_project: Path) -> Path:
    """A git project with calc/ops.py (subtract adds: the bug every goal fixes), committed."""
    (git_project / "calc").mkdir()
    (git_project / "calc" / "ops.py").write_text(script.OPS)
    git(git_project, "add", ".")
    git(git_project, "commit", "-q", "-m", "calc")
    return git_project


class AI:
    """`ai` as a user types it in the project, with the model configured (or not)."""

    def __init__(self, model: Model) -> None:
        self.model = model

    def __call__(
        self, *args: str, cwd: Path, with_model: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        full = {**IDENTITY, **(self.model.env() if with_model else {}), **(env or {})}
        return run_ai(*args, cwd=cwd, env=full)


@pytest.fixture
def ai(model: Model) -> AI:
    return AI(model)
