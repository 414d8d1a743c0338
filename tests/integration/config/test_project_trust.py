"""Trust of the project itself (app/trust.py): a cloned repository's own code (its conftest.py, the
.venv/bin/python it ships) never runs in the background before its user trusted it; what the user typed
(`ai --fix`, `ai --suggest`) may run it and says which command. A build runs none of it either."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.background.lsp_launch import pyright_binary
from app.trust import PROJECT_TRUSTED, project_answer, trust_file
from tests.conftest import REPO, default_sigint, run_ai
from tests.model_server import ScriptedModelServer
from tests.support.project_code import cloned_repository

DETECTED = ".venv/bin/python -m pytest -q -rfE --tb=short"
RUNNING_LINE = f"running tests: {DETECTED} (detected) in a scratch copy"


@pytest.fixture
def clone(tmp_path: Path) -> tuple[Path, Path]:
    return cloned_repository(tmp_path)


class _Watch:
    """``python -m app.background DIR --json`` as the user runs it; its events read by a thread."""

    def __init__(self, root: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.background", str(root), "--json"],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=default_sigint,
        )
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        stdout = self.process.stdout
        assert stdout is not None

        def pump() -> None:
            for line in stdout:
                self.events.put(json.loads(line))

        threading.Thread(target=pump, daemon=True).start()
        self.seen: list[dict[str, Any]] = []

    def until(self, match: Callable[[dict[str, Any]], bool], timeout: float, what: str) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            self.seen.append(event)
            if match(event):
                return event
        raise AssertionError(f"no {what} within {timeout} s; events: {self.seen}")

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.stderr.read() if self.process.stderr else ""


def _status(name: str, state: str) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e["event"] == "service_status" and e["name"] == name and e["state"] == state


@pytest.mark.skipif(pyright_binary() is None, reason="basedpyright is not installed (pip install -e .)")
def test_the_headless_background_runs_no_project_code_until_ai_trust(clone: tuple[Path, Path]) -> None:
    root, marker = clone
    watch = _Watch(root)
    try:
        waiting = watch.until(_status("tests", "skipped"), 60, "the tests' status")
        assert "until you trust this project" in waiting["message"]
        assert f"`{DETECTED}`" in waiting["message"] and "`ai --trust`" in waiting["message"]
        # basedpyright runs (it only reads files), and has resolved the project's imports once it diagnoses
        # a file: by then it would have run the interpreter it was given.
        watch.until(_status("lsp:python", "running"), 60, "basedpyright running")
        (root / "calc.py").write_text("def add(a, b):\n    return a + b + missing_name\n")
        report = watch.until(
            lambda e: e["event"] == "diagnostics_updated" and e["path"] == "calc.py" and e["diagnostics"],
            60,
            "calc.py's diagnostics",
        )
        assert any("missing_name" in d["message"] for d in report["diagnostics"])
        assert not marker.exists(), f"the untrusted project's code ran: {marker.read_text()}"
        assert not any(e["event"] == "test_run_started" for e in watch.seen)
    finally:
        assert "Traceback" not in watch.stop()
    (root / "calc.py").write_text("def add(a, b):\n    return a + b\n")

    trusted = run_ai("--trust", cwd=root)
    assert trusted.returncode == 0, trusted.stderr
    assert trusted.stdout.startswith(f"trusted project {root}: its tests"), trusted.stdout
    assert project_answer(root) == PROJECT_TRUSTED
    watch = _Watch(root)
    try:
        finished = watch.until(lambda e: e["event"] == "test_run_finished", 90, "a test run")
        assert (finished["passed"], finished["failed"]) == (1, 0), finished
    finally:
        assert "Traceback" not in watch.stop()
    ran = marker.read_text()
    assert "conftest.py ran" in ran and ".venv/bin/python ran: -m pytest" in ran


def _swap(old: str, new: str) -> str:
    return f"Swap the operands.\n\n<<<<<<< REPLACE calc.py\n{old}=======\n{new}>>>>>>> END\n"


@pytest.fixture
def model() -> Iterator[ScriptedModelServer]:
    script = {
        "rules": [
            {
                "when": {"last_user_contains": "back"},
                "reply": _swap("    return b + a\n", "    return a + b\n"),
            }
        ],
        "default": {"reply": _swap("    return a + b\n", "    return b + a\n")},
    }
    with ScriptedModelServer(script) as server:
        yield server


def test_a_build_in_an_untrusted_clone_runs_none_of_its_code(
    clone: tuple[Path, Path], model: ScriptedModelServer
) -> None:
    root, marker = clone
    env = {"OPENAI_BASE_URL": model.base_url, "OPENAI_API_KEY": "k", "AI_AGENT_MODEL": "m"}
    built = run_ai("--build", "swap the operands of add in calc.py", "--yes", cwd=root, env=env)
    assert built.returncode == 0, built.stdout + built.stderr
    assert "return b + a" in (root / "calc.py").read_text()
    # Stage 7 asked basedpyright about the proposal: it must not have been handed the clone's interpreter.
    assert not marker.exists(), f"the build ran the untrusted project's code: {marker.read_text()}"
    assert "running the tests after" not in built.stdout

    # Trusted, and with no test_cmd configured, a build still runs no tests (only a configured command does).
    assert run_ai("--trust", cwd=root).returncode == 0
    again = run_ai("--build", "swap them back in calc.py", "--yes", cwd=root, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert (root / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    assert "running the tests after" not in again.stdout
    assert "conftest.py ran" not in (marker.read_text() if marker.exists() else "")


def test_fix_and_suggest_say_which_test_command_they_run_and_where(clone: tuple[Path, Path]) -> None:
    root, marker = clone
    fixed = run_ai("--fix", "--dry-run", cwd=root)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    lines = fixed.stdout.splitlines()
    assert f"note: {RUNNING_LINE}" in lines, fixed.stdout
    assert "conftest.py ran" in marker.read_text(), "ai --fix, typed by the user, runs the tests"
    assert project_answer(root) is None, "running what the user typed trusts nothing"

    as_json = run_ai("--fix", "--dry-run", "--json", cwd=root)
    events = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert {"event": "info", "message": RUNNING_LINE}.items() <= next(
        e for e in events if e.get("message", "").startswith("running tests:")
    ).items()

    marker.unlink()
    suggested = run_ai("--suggest", cwd=root)
    assert suggested.returncode == 0, suggested.stderr
    assert suggested.stdout.splitlines()[0] == f"note: {RUNNING_LINE}", suggested.stdout
    assert "conftest.py ran" in marker.read_text()
    as_json = run_ai("--suggest", "--json", cwd=root)
    events = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert {"event": "info", "message": RUNNING_LINE} in events
    assert events[-1]["event"] == "suggestions" and as_json.stderr == ""


def test_suggest_json_says_the_untrusted_config_as_an_info_event(clone: tuple[Path, Path]) -> None:
    root, _marker = clone
    (root / ".ai-agent.toml").write_text('log_paths = ["app.log"]\n')
    result = run_ai("--suggest", "--json", cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", "stderr is for a failure's one line"
    events = [json.loads(line) for line in result.stdout.splitlines()]  # JSON Lines, every line an event
    note = "ignored log_paths from .ai-agent.toml (not trusted)"
    assert events[0]["event"] == "info" and events[0]["message"].startswith(note), events[0]
    assert [e["event"] for e in events[1:]] == ["info", "suggestions"]  # the test run's note, the list
    assert events[-1]["ranked_by"] == "heuristic" and isinstance(events[-1]["suggestions"], list)


def test_ai_trust_trusts_a_project_without_a_config_and_nothing_on_a_broken_one(project: Path) -> None:
    trusted = run_ai("--trust", cwd=project)
    assert trusted.returncode == 0, trusted.stderr
    assert trusted.stdout.splitlines() == [
        f"trusted project {project}: its tests (the test watcher) and its language servers may now run its "
        "code in the background",
        "  it has no .ai-agent.toml",
    ]
    assert project_answer(project) == PROJECT_TRUSTED

    other = project.parent / "other"
    other.mkdir()
    (other / ".ai-agent.toml").write_text('test_cmd = "unclosed\n')
    broken = run_ai("--trust", cwd=other)
    assert broken.returncode == 2 and broken.stderr.count("\n") == 1, broken.stderr
    assert project_answer(other) is None
    assert str(other) not in trust_file().read_text()
