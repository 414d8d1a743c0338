"""The edit blocks (README "How changes are applied and undone", app/llm/system_prompt.md) through
`ai --build --yes`: every block kind, paths, matching, transactions, READ."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import git
from tests.e2e.scripted import script
from tests.e2e.scripted.conftest import AI, Model
from tests.e2e.scripted.helpers import head, one_line


def commit(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "setup")


def test_every_block_kind_fenced_and_quoted_is_one_commit(ai: AI, git_project: Path) -> None:
    commit(git_project, {"calc/ops.py": script.KINDS_OPS, "calc/legacy.py": "old = True\n"})
    result = ai("--build", "all-kinds", "--yes", cwd=git_project)
    assert result.returncode == 0, result.stderr
    assert (git_project / "calc" / "ops.py").read_text() == script.KINDS_OPS_AFTER
    assert (git_project / "calc" / "__init__.py").read_text() == "from .ops import subtract\n"
    assert not (git_project / "calc" / "legacy.py").exists()
    touched = git(git_project, "show", "--name-status", "--format=", "HEAD").splitlines()
    assert sorted(touched) == ["A\tcalc/__init__.py", "D\tcalc/legacy.py", "M\tcalc/ops.py"]
    assert git(git_project, "status", "--porcelain") == ""


def test_an_anchor_made_by_an_earlier_block_of_the_same_answer_matches(ai: AI, calc: Path) -> None:
    result = ai("--build", "sequential-anchor", "--yes", cwd=calc)
    assert result.returncode == 0, result.stderr
    assert (
        (calc / "calc" / "ops.py")
        .read_text()
        .endswith("def subtract(a, b):\n    return a - b\n\n\ndef negate(a):\n    return 0 - a\n")
    )


def test_shifted_indentation_and_trailing_spaces_match_and_are_reindented(ai: AI, calc: Path) -> None:
    result = ai("--build", "tolerant-ws", "--yes", cwd=calc)
    assert result.returncode == 0, result.stderr
    assert (calc / "calc" / "ops.py").read_text() == (
        "def add(a, b):\n    return a + b\n\n\ndef subtract(a, b):\n    return a - b\n"
    )


def test_an_anchor_found_twice_rejects_the_answer_naming_block_file_and_lines(ai: AI, calc: Path) -> None:
    before = head(calc)
    result = ai("--build", "ambiguous-anchor", "--yes", cwd=calc)
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert "block 1" in line and "calc/ops.py" in line
    assert "2, 6" in line or ("line 2" in line and "line 6" in line)  # both places, by line number
    assert (calc / "calc" / "ops.py").read_text() == script.OPS
    assert head(calc) == before


def test_all_blocks_are_one_transaction(ai: AI, calc: Path) -> None:
    result = ai("--build", "half-bad", "--yes", cwd=calc)
    assert result.returncode == 1
    assert "block 2" in one_line(result.stderr)
    assert (calc / "README.md").read_text() == "hello\n"  # block 1 alone would have applied
    assert git(calc, "status", "--porcelain") == ""


@pytest.mark.parametrize("goal", sorted(script.ESCAPES))
def test_paths_that_leave_the_root_refuse_the_whole_answer(
    ai: AI, calc: Path, tmp_path: Path, goal: str
) -> None:
    (tmp_path / "outside").mkdir()
    (calc / "outside").symlink_to(tmp_path / "outside")
    result = ai("--build", goal, "--yes", cwd=calc)
    assert result.returncode == 1
    one_line(result.stderr)
    assert not (tmp_path / "evil.py").exists() and not (tmp_path / "outside" / "evil.py").exists()
    assert not Path("/tmp/ai-e2e-evil.py").exists()
    assert not (calc / ".git" / "hooks" / "post-commit").exists()
    assert git(calc, "status", "--porcelain") == "?? outside\n"


def test_create_of_an_existing_file_is_refused(ai: AI, calc: Path) -> None:
    result = ai("--build", "create-existing", "--yes", cwd=calc)
    assert result.returncode == 1
    assert "README.md" in one_line(result.stderr)
    assert (calc / "README.md").read_text() == "hello\n"


def test_a_crlf_file_keeps_its_line_endings(ai: AI, git_project: Path) -> None:
    (git_project / "win.py").write_bytes(b"x = 1\r\ny = 2\r\n")
    git(git_project, "add", "win.py")
    git(git_project, "commit", "-q", "-m", "crlf")
    result = ai("--build", "crlf-edit", "--yes", cwd=git_project)
    assert result.returncode == 0, result.stderr
    assert (git_project / "win.py").read_bytes() == b"x = 1\r\ny = 3\r\n"
    assert git(git_project, "show", "--stat", "--format=", "HEAD").count("|") == 1


def test_a_read_block_is_served_and_the_model_asked_again(ai: AI, calc: Path, model: Model) -> None:
    commit(calc, {"tests/test_ops.py": script.TEST_OPS})
    result = ai("--build", "read-first", "--yes", cwd=calc)
    assert result.returncode == 0, result.stderr
    requests = model.requests_for("# Goal\nread-first")
    assert len(requests) >= 2
    assert "assert subtract(3, 1) == 2" in str(requests[-1]["messages"])
    assert (calc / "calc" / "ops.py").read_text().endswith("return a - b\n")


def test_a_block_with_two_separator_lines_is_rejected(ai: AI, git_project: Path) -> None:
    commit(git_project, {"conflict.py": script.CONFLICTED})
    result = ai("--build", "two-separators", "--yes", cwd=git_project)
    assert (git_project / "conflict.py").read_text() in (script.CONFLICTED, "x = 1\ny = 3\nz = 4\n")
    if (git_project / "conflict.py").read_text() == script.CONFLICTED:
        assert result.returncode == 1
        one_line(result.stderr)
