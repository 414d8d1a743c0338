"""The test command as a user expects it: detected from the project's or the activated virtualenv, and a runner
that is not there is one clear line in `ai --fix` and `ai --suggest`, never a failing test for the model."""

from __future__ import annotations

import shlex
import sys
import venv
from pathlib import Path

from app.fix.testrun import NOT_FOUND, detect_test_command, pytest_command
from app.trust import trust_current
from tests.conftest import run_ai
from tests.support.fix_project import RIGHT, env_for

SYSTEM_PATH = "/usr/bin:/bin"  # git, and a python3 without pytest: what a fresh machine has


def python_project(root: Path) -> Path:
    (root / "tests").mkdir(parents=True, exist_ok=True)
    (root / "tests" / "test_one.py").write_text("def test_one():\n    assert True\n")
    return root


def script(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


def test_detection_prefers_the_projects_venv_then_the_activated_one_then_pytest_on_path(
    tmp_path: Path,
) -> None:
    root = python_project(tmp_path / "project")
    activated = script(tmp_path / "activated" / "bin" / "python", "#!/bin/sh\n")
    tools = tmp_path / "tools"
    # A console script as pip writes it: its #! names the interpreter it runs with.
    script(tools / "pytest", f"#!{sys.executable}\nimport pytest\n")

    env = {"VIRTUAL_ENV": str(activated.parent.parent), "PATH": f"{tools}:{SYSTEM_PATH}"}
    assert pytest_command(root, env) == f"{shlex.quote(str(activated))} -m pytest -q -rfE --tb=short"
    own = script(root / ".venv" / "bin" / "python", "#!/bin/sh\n")
    assert pytest_command(root, env).startswith(f"{shlex.quote(str(own))} -m pytest")
    own.unlink()

    on_path = pytest_command(root, {"PATH": f"{tools}:{SYSTEM_PATH}"})
    assert on_path == f"{shlex.quote(sys.executable)} -m pytest -q -rfE --tb=short"
    # A pytest whose #! is not a Python (a version manager's shim) is run as it is.
    script(tools / "pytest", "#!/bin/sh\nexec true\n")
    assert pytest_command(root, {"PATH": f"{tools}:{SYSTEM_PATH}"}).startswith(f"{tools / 'pytest'} -q")


def test_detection_takes_a_python3_on_path_only_when_it_has_pytest(tmp_path: Path) -> None:
    root = python_project(tmp_path / "project")
    with_pytest = script(
        tmp_path / "good" / "python3", f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n'
    )
    assert pytest_command(root, {"PATH": f"{with_pytest.parent}:{SYSTEM_PATH}"}) == (
        f"{shlex.quote(str(with_pytest))} -m pytest -q -rfE --tb=short"
    )
    # The system python3 here has no pytest: nothing is guessed, and never ai's own interpreter.
    bare = pytest_command(root, {"PATH": SYSTEM_PATH})
    assert bare == "pytest -q -rfE --tb=short"
    assert sys.executable not in (detect_test_command(root, {"PATH": SYSTEM_PATH}) or "")


def test_fix_with_a_test_command_that_is_not_installed_is_one_line_and_no_model_call(
    broken: Path, model, tmp_path: Path
) -> None:
    server = model([{"reply": RIGHT}])
    (broken / ".ai-agent.toml").unlink()
    # The user activated a virtualenv that has no pytest: `python -m pytest` says "No module named pytest".
    bare_venv = tmp_path / "bare-venv"
    venv.create(bare_venv, with_pip=False)
    env = {**env_for(server), "VIRTUAL_ENV": str(bare_venv), "PATH": f"{bare_venv}/bin:{SYSTEM_PATH}"}
    result = run_ai("--fix", "--yes", cwd=broken, env=env)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"ai: {NOT_FOUND} (")
    assert "No module named pytest" in result.stderr
    assert server.chat_requests() == []

    # Nothing found at all: plain `pytest`, not there either: the same line.
    env = {**env_for(server), "PATH": SYSTEM_PATH, "VIRTUAL_ENV": ""}
    result = run_ai("--fix", cwd=broken, env=env)
    assert result.returncode == 1
    assert result.stderr.startswith(f"ai: {NOT_FOUND} (`pytest -q"), result.stderr
    assert server.chat_requests() == []


def test_suggest_with_a_test_command_that_is_not_installed_makes_no_failing_test_suggestion(
    broken: Path,
) -> None:
    (broken / ".ai-agent.toml").write_text('test_cmd = "no-such-test-runner-xyz --quick"\n')
    trust_current(broken)
    result = run_ai("--suggest", "--json", cwd=broken)
    assert result.returncode == 0, result.stderr
    import json

    events = [json.loads(line) for line in result.stdout.splitlines()]  # JSON Lines: the notes, then the list
    report = events[-1]
    assert report["event"] == "suggestions"
    assert not [s for s in report["suggestions"] if s["kind"] == "failing_test"]
    notes = [e["message"] for e in events if e["event"] == "info"] + report.get("notes", [])
    assert any(NOT_FOUND in note for note in notes), notes
