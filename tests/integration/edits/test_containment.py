"""Nothing the model writes lands outside the project root, in .git, or through a symlink leading out."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.edits import EditError, apply_proposal
from app.errors import AgentError
from app.session.store import ProjectStore
from tests.integration.edits.helpers import propose, replace, snapshot


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.py").write_text("x = 1\n")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n")
    (tmp_path / "outside.txt").write_text("secret\n")
    (root / "escape").symlink_to(tmp_path)
    (root / "out.txt").symlink_to(tmp_path / "outside.txt")
    return root


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/etc/passwd", "absolute path"),
        ("~/x.py", "absolute path"),
        ("C:/x.py", "absolute path"),
        ("../outside.txt", "'..'"),
        ("src/../../outside.txt", "'..'"),
        (".git/config", "inside .git"),
        ("src/../.git/hooks/pre-commit", "'..'"),
        (".GIT/config", "inside .git"),
        ("escape/outside.txt", "outside the project root through a symlink"),
        ("out.txt", "outside the project root through a symlink"),
    ],
)
def test_paths_that_leave_the_root_are_refused(tree: Path, path: str, reason: str) -> None:
    answer = f"<<<<<<< CREATE {path}\nowned\n>>>>>>> END\n"
    with pytest.raises(EditError, match=reason):
        propose(tree, answer)


def test_one_bad_path_rejects_the_whole_answer(tree: Path) -> None:
    before = snapshot(tree.parent)
    answer = replace("src/a.py", "x = 1\n", "x = 2\n") + "<<<<<<< CREATE ../evil.py\nx\n>>>>>>> END\n"
    with pytest.raises(EditError, match=r"block 2"):
        propose(tree, answer)
    assert snapshot(tree.parent) == before


def test_symlink_swapped_to_outside_after_preview_is_refused(tree: Path) -> None:
    (tree / "inner").mkdir()
    (tree / "inner" / "f.txt").write_text("v\n")
    proposal = propose(tree, replace("inner/f.txt", "v\n", "w\n"))
    # Between preview and apply the folder becomes a link to somewhere else.
    (tree / "inner" / "f.txt").unlink()
    (tree / "inner").rmdir()
    (tree / "inner").symlink_to(tree.parent)
    (tree.parent / "f.txt").write_text("v\n")
    session = ProjectStore(tree).session("main")
    with pytest.raises(AgentError):
        apply_proposal(proposal, session=session, goal="x", use_git=False)
    assert (tree.parent / "f.txt").read_text() == "v\n"


_segment = st.sampled_from(["..", ".", "", "src", "a.py", ".git", "escape", "out.txt", "new", "~", "/", "\\"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_segment, min_size=1, max_size=5), st.sampled_from(["CREATE", "REMOVE", "REPLACE"]))
def test_no_path_ever_writes_outside_the_root(tree: Path, parts: list[str], kind: str) -> None:
    path = "/".join(parts)
    if not path.strip():
        return
    outside_before = (tree.parent / "outside.txt").read_bytes()
    git_before = snapshot(tree / ".git")
    body = {"CREATE": "owned\n", "REMOVE": "", "REPLACE": "x = 1\n=======\nowned\n"}[kind]
    answer = f"<<<<<<< {kind} {path}\n{body}>>>>>>> END\n"
    try:
        proposal = propose(tree, answer)
        session = ProjectStore(tree).session("main")
        apply_proposal(proposal, session=session, goal="x", use_git=False)
    except AgentError:
        pass
    assert (tree.parent / "outside.txt").read_bytes() == outside_before
    assert sorted(p.name for p in tree.parent.iterdir()) == ["outside.txt", "proj"]
    assert snapshot(tree / ".git") == git_before
    for written in tree.rglob("*"):
        assert written.resolve().is_relative_to(tree.parent)
