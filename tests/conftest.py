"""Shared fixtures. No test touches the real ~/.ai-agent: AI_AGENT_HOME points into tmp for every test."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
AI_BIN = Path(sys.executable).with_name("ai")
TESTS = REPO / "tests"

# The test tiers, each a folder under tests/ and a marker (`scripts/test tests/unit`, `pytest -m unit`): unit tests
# of pure in-memory functions, integration tests of the core (real files, real git, real subprocesses and
# servers), Pilot tests of the workspace, and the installed `ai` end to end (tmux, the scripted model server).
TIERS = ("unit", "integration", "tui", "e2e")


def tier_of(path: Path) -> str | None:
    """The tier of the test file at ``path``: its top folder under tests/, if that is a tier's name."""
    top = path.resolve().relative_to(TESTS).parts[0]
    return top if top in TIERS else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        tier = tier_of(item.path)
        if tier is None:
            raise pytest.UsageError(
                f"{item.path}: a test lives in its tier's folder, tests/<{'|'.join(TIERS)}>/"
            )
        item.add_marker(tier)


def pytest_configure(config: pytest.Config) -> None:
    # Module- and session-scoped fixtures run before the per-test fixture below: give them a data root too,
    # so nothing a test does ever reaches the real ~/.ai-agent.
    os.environ["AI_AGENT_HOME"] = tempfile.mkdtemp(prefix="ai-home-session-")
    config.stash[_REAL_HOME_STATE] = _real_home_state()


_REAL_HOME = Path.home() / ".ai-agent"
_REAL_HOME_STATE = pytest.StashKey[object]()


def _real_home_state() -> object:
    if not _REAL_HOME.exists():
        return None
    return sorted((str(p), p.stat().st_mtime_ns) for p in _REAL_HOME.rglob("*"))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _real_home_state() != session.config.stash.get(_REAL_HOME_STATE, None):
        print(f"\nerror: the test run wrote to the real {_REAL_HOME}; tests must use AI_AGENT_HOME")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def agent_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("ai-home")
    monkeypatch.setenv("AI_AGENT_HOME", str(home))
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AI_AGENT_MODEL"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project folder (not a git repository)."""
    root = tmp_path / "project"
    root.mkdir()
    return root


@pytest.fixture
def git_project(tmp_path: Path) -> Path:
    """A real git repository with one commit."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "README.md").write_text("hello\n")
    git(root, "add", "README.md")
    git(root, "commit", "-q", "-m", "initial")
    return root


def trusted(root: Path) -> Path:
    """Trust ``root`` as its user would (`ai --trust`, or "Trust this project" in the workspace): its own code
    (the test watcher, language servers that run it) may then run in the background (app/trust.py). The way a
    test whose project's code should run in the background says so; there is no switch to turn the gate off."""
    from app.trust import record_project_trust

    record_project_trust(root)
    return root


@pytest.fixture
def trusted_project(project: Path) -> Path:
    """``project``, trusted (``trusted``)."""
    return trusted(project)


def git(root: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }
    result = subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, text=True, check=True)
    return result.stdout


def run_ai(
    *args: str, cwd: Path, input: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed `ai` console script as a user would."""
    return subprocess.run(
        [str(AI_BIN), *args],
        cwd=cwd,
        input=input,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,  # a bound, not a wait: `ai --fix` runs the tests several times, slow on a loaded machine
    )


def default_sigint() -> None:
    """``preexec_fn`` for a child that the test interrupts with SIGINT: a shell that ran the suite in the
    background (``cmd &``) hands its children SIGINT ignored, and Python keeps it ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


requires_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
