"""`ai --undo` (README "Commands"): per session, as a new commit, refusing with exit 3 on a conflict."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import git
from tests.e2e.scripted import script
from tests.e2e.scripted.conftest import AI
from tests.e2e.scripted.helpers import head, one_line, subjects


def test_undo_reverts_the_latest_change_as_a_new_commit_then_has_nothing_left(ai: AI, calc: Path) -> None:
    assert ai("--build", "fix-sub", "--yes", cwd=calc).returncode == 0
    applied = head(calc)
    preview = ai("--undo", "--dry-run", cwd=calc, with_model=False)
    assert preview.returncode == 0
    assert "-    return a - b" in preview.stdout and "+    return a + b" in preview.stdout
    assert head(calc) == applied and (calc / "calc" / "ops.py").read_text().endswith("a - b\n")
    result = ai("--undo", cwd=calc, with_model=False)
    assert result.returncode == 0, result.stderr
    assert (calc / "calc" / "ops.py").read_text() == script.OPS
    assert git(calc, "rev-parse", "HEAD~1").strip() == applied  # a new commit on top, history kept
    assert git(calc, "status", "--porcelain") == ""
    again = ai("--undo", cwd=calc, with_model=False)
    assert again.returncode == 0
    assert "nothing to undo" in again.stdout + again.stderr
    assert len(subjects(calc)) == 4  # initial, calc, change, undo


def test_undo_of_one_session_keeps_another_sessions_later_change(ai: AI, calc: Path) -> None:
    assert ai("--session", "A", "--build", "fix-sub", "--yes", cwd=calc).returncode == 0
    assert ai("--session", "B", "--build", "docstring-add", "--yes", cwd=calc).returncode == 0
    result = ai("--session", "A", "--undo", cwd=calc, with_model=False)
    assert result.returncode == 0, result.stderr
    text = (calc / "calc" / "ops.py").read_text()
    assert '"""Add two numbers."""' in text and text.endswith("return a + b\n")
    assert subjects(calc)[0].startswith("ai(A)")
    nothing = ai("--session", "A", "--undo", cwd=calc, with_model=False)
    assert "nothing to undo" in nothing.stdout + nothing.stderr
    assert ai("--session", "B", "--undo", cwd=calc, with_model=False).returncode == 0
    assert (calc / "calc" / "ops.py").read_text() == script.OPS


def test_undo_after_the_lines_changed_is_refused_with_exit_3_and_writes_nothing(ai: AI, calc: Path) -> None:
    assert ai("--build", "fix-sub", "--yes", cwd=calc).returncode == 0
    ops = calc / "calc" / "ops.py"
    ops.write_text(ops.read_text().replace("return a - b", "return (a - b)"))
    before_text, before_head = ops.read_text(), head(calc)
    result = ai("--undo", cwd=calc, with_model=False)
    assert result.returncode == 3
    assert "calc/ops.py" in one_line(result.stderr)
    assert ops.read_text() == before_text and head(calc) == before_head


def test_undo_without_git_works_from_the_backups(ai: AI, project: Path) -> None:
    (project / "calc").mkdir()
    (project / "calc" / "ops.py").write_text(script.OPS)
    assert ai("--build", "fix-sub", "--yes", cwd=project).returncode == 0
    assert (project / "calc" / "ops.py").read_text().endswith("a - b\n")
    assert ai("--undo", cwd=project, with_model=False).returncode == 0
    assert (project / "calc" / "ops.py").read_text() == script.OPS
    assert sorted(p.name for p in project.iterdir()) == ["calc"]


def test_no_git_flag_changes_files_without_a_commit(ai: AI, calc: Path) -> None:
    before = head(calc)
    assert ai("--build", "fix-sub", "--yes", "--no-git", cwd=calc).returncode == 0
    assert head(calc) == before
    assert git(calc, "status", "--porcelain") == " M calc/ops.py\n"
    assert ai("--undo", "--no-git", cwd=calc, with_model=False).returncode == 0
    assert git(calc, "status", "--porcelain") == "" and head(calc) == before


def test_undo_after_a_git_revert_of_the_change_says_it_is_already_undone(ai: AI, calc: Path) -> None:
    assert ai("--build", "fix-sub", "--yes", cwd=calc).returncode == 0
    git(calc, "revert", "--no-edit", "HEAD")
    result = ai("--undo", cwd=calc, with_model=False)
    assert result.returncode == 0, result.stderr
    assert (calc / "calc" / "ops.py").read_text() == script.OPS
