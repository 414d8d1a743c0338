"""The scratch copy: what it holds, that writing in it never reaches the user's tree, and the per-attempt reset."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.edits import build_proposal
from app.fix.parsers import ParsedError
from app.fix.scratch import ScratchCopy, copy_files, list_project_files
from app.fix.testrun import run_tests, targeted_command
from app.llm.blocks import edit_blocks, parse_blocks
from tests.conftest import git
from tests.support.fix_project import RIGHT, snapshot


def test_copy_holds_tracked_and_untracked_files_with_uncommitted_edits(broken: Path) -> None:
    (broken / "build").mkdir()
    (broken / "build/out.bin").write_bytes(b"\0" * 10)
    (broken / ".gitignore").write_text("__pycache__/\n.pytest_cache/\nbuild/\n")
    (broken / "calc/ops.py").unlink()  # deleted in the working tree, still tracked
    (broken / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(broken / "run.sh", 0o755)
    with ScratchCopy.create(broken) as scratch:
        assert scratch.root != broken and not scratch.root.is_relative_to(broken)
        names = (
            set(list_project_files(scratch.root)) if (scratch.root / ".git").exists() else set(scratch.files)
        )
        assert {"README.md", "notes.txt", "tests/test_ops.py", ".ai-agent.toml", "run.sh"} <= names
        assert "build/out.bin" not in names and "calc/ops.py" not in names
        assert not (scratch.root / "build").exists() and not (scratch.root / ".git").exists()
        assert (scratch.root / "README.md").read_text() == "hello\nwork in progress\n"  # the uncommitted edit
        assert os.stat(scratch.root / "run.sh").st_mode & 0o777 == 0o755
        subprocess.run([str(scratch.root / "run.sh")], check=True)  # scripts run from the copy
        # Not hard links: a write in the copy is never a write in the user's file.
        assert os.stat(scratch.root / "README.md").st_ino != os.stat(broken / "README.md").st_ino
    assert not scratch.root.exists()


@pytest.mark.parametrize("method", ["tar", "threads"])
def test_both_copy_methods_give_the_same_tree(broken: Path, tmp_path: Path, method: str) -> None:
    (broken / "link.txt").symlink_to("notes.txt")
    (broken / "--remove-files").write_text("a file, not an option\n")
    (broken / "with space\nand newline.txt").write_text("odd name\n")
    files = list_project_files(broken)
    dest = tmp_path / method
    dest.mkdir()
    assert copy_files(broken, dest, files, method) == method
    assert snapshot(dest) == {k: v for k, v in snapshot(broken).items() if k in files}
    assert os.readlink(dest / "link.txt") == "notes.txt"
    assert (broken / "--remove-files").is_file() and (dest / "with space\nand newline.txt").is_file()


def test_absolute_links_into_the_project_point_into_the_copy(broken: Path) -> None:
    (broken / "abs-link.txt").symlink_to(broken / "notes.txt")
    with ScratchCopy.create(broken) as scratch:
        assert os.readlink(scratch.root / "abs-link.txt") == str(scratch.root / "notes.txt")
        (scratch.root / "abs-link.txt").write_text("changed through the link\n")
        assert (broken / "notes.txt").read_text() == "untracked notes\n"


def test_outside_git_the_walk_skips_caches_and_ignored_files(project: Path) -> None:
    (project / "app.py").write_text("x = 1\n")
    (project / "__pycache__").mkdir()
    (project / "__pycache__/app.cpython-311.pyc").write_bytes(b"pyc")
    (project / "logs").mkdir()
    (project / "logs/today.log").write_text("log\n")
    (project / ".gitignore").write_text("logs/\n")
    assert list_project_files(project) == [".gitignore", "app.py"]


def test_apply_then_reset_restores_only_what_the_attempt_touched(broken: Path) -> None:
    before = snapshot(broken)
    with ScratchCopy.create(broken) as scratch:
        proposal = build_proposal(scratch.root, edit_blocks(parse_blocks(RIGHT)))
        assert scratch.apply(proposal) == ["calc/ops.py"]
        scratch.write("calc/new.py", b"NEW = 1\n")
        (scratch.root / "tests/output.txt").write_text("written by a test run\n")
        assert "return 0" in (scratch.root / "calc/ops.py").read_text()
        assert snapshot(broken) == before  # the user's tree never sees it
        assert sorted(scratch.reset()) == ["calc/new.py", "calc/ops.py"]
        assert (scratch.root / "calc/ops.py").read_bytes() == before["calc/ops.py"]
        assert not (scratch.root / "calc/new.py").exists()
        assert (scratch.root / "tests/output.txt").exists()  # not the attempt's: left for the test runner


def test_tests_run_in_the_copy_import_the_copy_not_the_users_tree(broken: Path) -> None:
    """A src layout with the user's src/ on PYTHONPATH (as an editable install puts it on sys.path): the tests
    in the copy still import the copy's code."""
    from tests.support.fix_project import MEAN, TEST_CMD, replace_block

    (broken / "src").mkdir()
    git(broken, "mv", "calc", "src/calc")
    fixed = "def mean(values):\n    return sum(values) / len(values) if values else 0\n"
    users_env = {**os.environ, "PYTHONPATH": str(broken / "src")}
    with ScratchCopy.create(broken) as scratch:
        proposal = build_proposal(
            scratch.root, edit_blocks(parse_blocks(replace_block(MEAN, fixed, "src/calc/ops.py")))
        )
        scratch.apply(proposal)
        outcome = asyncio.run(run_tests(TEST_CMD, scratch.root, env=scratch.env(users_env)))
        assert outcome.ok, outcome.output
        unfixed = asyncio.run(run_tests(TEST_CMD, broken, env=users_env))
        assert {e.test_id for e in unfixed.errors} == {"tests/test_ops.py::test_mean_empty"}


def test_failing_tests_narrow_the_command() -> None:
    def failure(test_id: str, tool: str) -> ParsedError:
        return ParsedError("", 0, 0, "", "", (), tool, "", test_id)

    python = sys.executable
    assert targeted_command(f"{python} -m pytest -q tests", [failure("tests/t.py::test_a", "pytest")]) == (
        f"{python} -m pytest -q tests/t.py::test_a"
    )
    assert (
        targeted_command("cargo test", [failure("tests::a", "cargo-test")])
        == "cargo test -- --exact tests::a"
    )
    assert targeted_command("go test ./...", [failure("TestA", "go-test"), failure("TestB", "go-test")]) == (
        "go test ./... -run '^(TestA|TestB)$'"
    )
    assert targeted_command("npm test", [failure("x", "tests")]) is None
    jest = [failure("test/a.test.js::sum adds", "jest"), failure("test/a.test.js::other", "jest")]
    assert targeted_command("npm test --silent", jest) == "npm test --silent -- test/a.test.js"
    assert targeted_command("npx jest --ci", jest) == "npx jest --ci test/a.test.js"
    assert targeted_command("pytest", [ParsedError("a.py", 1, 0, "", "E", (), "generic")]) is None
