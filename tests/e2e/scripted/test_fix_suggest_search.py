"""`ai --fix`, `ai --suggest` and `ai --search` through the installed command (README "Commands")."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

from tests.conftest import git
from tests.e2e.scripted import script
from tests.e2e.scripted.conftest import AI
from tests.e2e.scripted.helpers import head, one_line

TEST_CMD = f"{shlex.quote(sys.executable)} -m unittest -q"


def unittest_project(root: Path, name: str) -> Path:
    """calc with a failing unittest named NAME (the scripted model answers by the test's name)."""
    (root / "calc").mkdir()
    (root / "calc" / "__init__.py").write_text("")
    (root / "calc" / "ops.py").write_text(script.OPS)
    (root / "tests").mkdir()
    (root / "tests" / "__init__.py").write_text("")
    (root / "tests" / "test_ops.py").write_text(
        "import unittest\n\nfrom calc.ops import subtract\n\n\nclass Ops(unittest.TestCase):\n"
        f"    def {name}(self):\n        self.assertEqual(subtract(3, 1), 2)\n"
    )
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "calc with a failing test")
    return root


def test_fix_yes_applies_a_verified_fix_as_a_commit(ai: AI, git_project: Path) -> None:
    root = unittest_project(git_project, "test_subtract_right")
    result = ai("--fix", "--yes", "--test-cmd", TEST_CMD, cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (root / "calc" / "ops.py").read_text().endswith("return a - b\n")
    assert git(root, "show", "--name-only", "--format=", "HEAD").split() == ["calc/ops.py"]
    assert git(root, "status", "--porcelain") == ""


def test_fix_headless_without_yes_shows_the_fix_and_applies_nothing(ai: AI, git_project: Path) -> None:
    root = unittest_project(git_project, "test_subtract_right")
    before = head(root)
    result = ai("--fix", "--test-cmd", TEST_CMD, cwd=root)
    assert result.returncode == 0, result.stderr
    assert "+    return a - b" in result.stdout and "--yes" in result.stdout
    assert head(root) == before and git(root, "status", "--porcelain") == ""


def test_fix_that_never_passes_is_exit_1_with_the_tree_untouched(ai: AI, git_project: Path) -> None:
    root = unittest_project(git_project, "test_subtract_wrong")
    before = head(root)
    result = ai("--fix", "--yes", "--test-cmd", TEST_CMD, cwd=root)
    assert result.returncode == 1
    assert "3" in one_line(result.stderr)
    assert result.stdout.count("attempt") >= 3
    assert head(root) == before and git(root, "status", "--porcelain") == ""


def test_fix_with_passing_tests_has_nothing_to_do(ai: AI, git_project: Path) -> None:
    root = unittest_project(git_project, "test_subtract_right")
    (root / "calc" / "ops.py").write_text("def subtract(a, b):\n    return a - b\n")
    git(root, "commit", "-qam", "fixed by hand")
    result = ai("--fix", "--yes", "--test-cmd", TEST_CMD, cwd=root, with_model=False)
    assert result.returncode == 0, result.stderr
    assert git(root, "status", "--porcelain") == ""


def test_detected_tests_run_with_the_activated_virtualenv(ai: AI, git_project: Path, tmp_path: Path) -> None:
    # `ai` installed in its own venv (pipx-style, without pytest); the user activated the project's venv.
    root = unittest_project(git_project, "test_subtract_right")
    shim = tmp_path / "project-venv" / "bin" / "python"
    shim.parent.mkdir(parents=True)
    marker = tmp_path / "project-python-ran"
    shim.write_text(f"#!/bin/sh\ntouch {shlex.quote(str(marker))}\n")  # "the tests pass"
    shim.chmod(0o755)
    env = {
        "VIRTUAL_ENV": str(shim.parent.parent),
        "PATH": f"{shim.parent}:{os.environ['PATH']}",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",  # keeps the wrong interpreter's pytest run short
    }
    ai("--fix", "--dry-run", cwd=root, env=env)
    assert marker.exists(), "the activated virtualenv's python never ran the tests"


def test_suggest_without_a_model_ranks_heuristically_and_names_a_build_command(ai: AI, calc: Path) -> None:
    (calc / ".ai-agent.toml").write_text('test_cmd = "true"\n')
    (calc / "calc" / "ops.py").write_text(script.OPS + "# TODO: handle overflow\n")
    plain = ai("--suggest", cwd=calc, with_model=False)
    assert plain.returncode == 0, plain.stderr
    assert "handle overflow" in plain.stdout and "ai --session" in plain.stdout and "--build" in plain.stdout
    as_json = ai("--suggest", "--json", cwd=calc, with_model=False)
    assert as_json.returncode == 0
    assert "handle overflow" in json.dumps(json.loads(as_json.stdout.splitlines()[-1]))


def test_search_finds_the_definition_first(ai: AI, calc: Path) -> None:
    (calc / "calc" / "use.py").write_text("from calc.ops import subtract\n\nprint(subtract(2, 1))\n")
    result = ai("--search", "subtract", cwd=calc, with_model=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("calc/ops.py:5:")
    rows = [json.loads(line) for line in ai("--search", "subtract", "--json", cwd=calc).stdout.splitlines()]
    assert rows[0]["path"] == "calc/ops.py" and rows[0]["line"] == 5
    assert {r["path"] for r in rows} == {"calc/ops.py", "calc/use.py"}
    bad = ai("--search", "(", cwd=calc, with_model=False)
    assert bad.returncode == 2
    one_line(bad.stderr)
