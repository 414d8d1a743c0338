"""Undo per session: a new commit reversing one change, correct when sessions interleave."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.edits import RefusedError, apply_proposal, plan_undo, undo_last
from app.session.store import ProjectStore
from tests.conftest import git
from tests.integration.edits.helpers import (
    AREA_ROUND,
    LOOK_ALIKE,
    in_area,
    in_volume,
    propose,
    replace,
    snapshot,
)

BODY = "".join(f"line {n}\n" for n in range(1, 41))


def apply(root: Path, answer: str, session: str = "main", use_git: bool = True) -> dict:
    store = ProjectStore(root)
    return apply_proposal(
        propose(root, answer), session=store.session(session), goal=f"{session} goal", use_git=use_git
    )


def undo(root: Path, session: str = "main", use_git: bool = True) -> dict | None:
    return undo_last(ProjectStore(root).session(session), use_git=use_git)


@pytest.fixture
def repo(git_project: Path) -> Path:
    (git_project / "f.py").write_text(BODY)
    git(git_project, "add", ".")
    git(git_project, "commit", "-q", "-m", "f")
    return git_project


def test_undo_restores_the_files_as_a_new_commit(repo: Path) -> None:
    before = snapshot(repo)
    change = apply(repo, replace("f.py", "line 5\n", "five\n") + "<<<<<<< CREATE n.py\nn\n>>>>>>> END\n")
    entry = undo(repo)
    assert entry is not None and entry["undone"] == change["id"]
    assert sorted(entry["files"]) == ["f.py", "n.py"]
    assert snapshot(repo) == before
    log = git(repo, "log", "--format=%s").splitlines()
    assert log[:2] == ["ai(main): undo main goal", "ai(main): main goal"]
    assert f"AI-Undo: {change['id']}" in git(repo, "log", "-1", "--format=%B")
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "diff", "HEAD~2", "HEAD") == ""
    session = ProjectStore(repo).session("main")
    assert session.changes()[0]["undone"] is True
    assert [u["undone"] for u in session.undo_entries()] == [change["id"]]


def test_nothing_to_undo_is_none(repo: Path) -> None:
    assert undo(repo) is None


def test_repeated_undo_walks_back(repo: Path) -> None:
    states = [snapshot(repo)]
    for n in (3, 13, 33):
        apply(repo, replace("f.py", f"line {n}\n", f"changed {n}\n"))
        states.append(snapshot(repo))
    for expected in reversed(states[:-1]):
        assert undo(repo) is not None
        assert snapshot(repo) == expected
    assert undo(repo) is None


def test_interleaved_sessions_undoing_a_keeps_b(repo: Path) -> None:
    change_a = apply(repo, replace("f.py", "line 2\n", "A was here\n"), session="a")
    apply(repo, replace("f.py", "line 30\n", "B was here\n"), session="b")
    entry = undo(repo, session="a")
    assert entry is not None and entry["undone"] == change_a["id"]
    text = (repo / "f.py").read_text()
    assert "A was here" not in text and "line 2\n" in text and "B was here\n" in text
    assert git(repo, "show", "HEAD:f.py") == text
    assert undo(repo, session="a") is None


def test_undo_refuses_when_the_lines_were_changed_since(repo: Path) -> None:
    apply(repo, replace("f.py", "line 3\n", "mine\n"), session="a")
    apply(repo, replace("f.py", "mine\n", "theirs\n"), session="b")
    before = snapshot(repo)
    head = git(repo, "rev-parse", "HEAD")
    with pytest.raises(
        RefusedError, match=r"f.py hunk 1 \(lines 1-6\) was changed since; nothing was written"
    ) as info:
        undo(repo, session="a")
    assert info.value.exit_code == 3
    assert snapshot(repo) == before and git(repo, "rev-parse", "HEAD") == head
    # b can still undo its own change, and then a can.
    assert undo(repo, session="b") is not None
    assert undo(repo, session="a") is not None
    assert (repo / "f.py").read_text() == BODY


def test_undo_without_git_works_from_the_backups(project: Path) -> None:
    (project / "f.py").write_bytes(b"a\r\nb\r\nc")
    (project / "old.py").write_text("old\n")
    before = snapshot(project)
    apply(project, replace("f.py", "b\n", "B\n") + "<<<<<<< REMOVE old.py\n>>>>>>> END\n", use_git=False)
    entry = undo(project, use_git=False)
    assert entry is not None and entry["commit"] is None
    assert snapshot(project) == before


def test_dry_run_plan_shows_the_reverse_diff_and_writes_nothing(repo: Path) -> None:
    apply(repo, replace("f.py", "line 7\n", "seven\n"))
    after = snapshot(repo)
    plan = plan_undo(ProjectStore(repo).session("main"))
    assert plan is not None and plan.files == ["f.py"]
    assert "-seven\n+line 7\n" in plan.diffs["f.py"]
    assert snapshot(repo) == after


_line = st.sampled_from(["x\n", "y = 1\n", "    z\n", "\n", "é\n", "w\r\n"])
_file = st.lists(_line, min_size=1, max_size=8).map("".join)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_apply_then_undo_restores_every_byte(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    root = tmp_path_factory.mktemp("prop")
    names = data.draw(
        st.lists(st.sampled_from(["a.txt", "b/c.txt", "d.txt"]), min_size=1, max_size=3, unique=True)
    )
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        text = data.draw(_file)
        if data.draw(st.booleans()):
            text = text.rstrip("\n")  # no final newline
        bom = b"\xef\xbb\xbf" if data.draw(st.booleans()) else b""
        (root / name).write_bytes(bom + text.encode())
    before = snapshot(root)
    answer = ""
    for name in names:
        lines = (root / name).read_text(encoding="utf-8-sig").replace("\r\n", "\n").split("\n")
        unique = [line + "\n" for line in lines if lines.count(line) == 1 and line.strip()]
        if unique:
            anchor = data.draw(st.sampled_from(unique))
            answer += replace(name, anchor, data.draw(_file).replace("\r\n", "\n"))
        else:
            answer += f"<<<<<<< REMOVE {name}\n>>>>>>> END\n"
    answer += "<<<<<<< CREATE fresh/new.txt\nnew\n>>>>>>> END\n"
    proposal = propose(root, answer)
    session = ProjectStore(root).session("main")
    apply_proposal(proposal, session=session, goal="prop", use_git=False)
    assert undo_last(session, use_git=False) is not None
    assert snapshot(root) == before


def test_another_sessions_edit_right_next_to_the_change_does_not_block_undo(repo: Path) -> None:
    apply(repo, replace("f.py", "line 10\n", "ten\n"), session="a")
    apply(repo, replace("f.py", "line 11\n", "eleven (b)\n"), session="b")  # inside a's hunk context
    assert undo(repo, session="a") is not None
    assert (repo / "f.py").read_text() == BODY.replace("line 11\n", "eleven (b)\n")


def test_undo_of_a_created_file_removes_the_folders_it_made(repo: Path) -> None:
    apply(repo, "<<<<<<< CREATE deep/er/x.py\nx\n>>>>>>> END\n")
    assert undo(repo) is not None
    assert not (repo / "deep").exists()


def test_undo_after_the_session_was_renamed_still_finds_its_backups(project: Path) -> None:
    (project / "gone.py").write_text("bye\n")
    apply(project, "<<<<<<< REMOVE gone.py\n>>>>>>> END\n", session="old", use_git=False)
    ProjectStore(project).rename_session("old", "new")
    assert undo(project, session="new", use_git=False) is not None
    assert (project / "gone.py").read_text() == "bye\n"


@pytest.fixture
def look_alike(git_project: Path) -> Path:
    (git_project / "geometry.py").write_text(LOOK_ALIKE)
    git(git_project, "add", ".")
    git(git_project, "commit", "-q", "-m", "geometry")
    return git_project


ROUNDED = "    size = round(size, 2)\n"


@pytest.mark.parametrize(
    "where",
    [
        # The user rewrote ai's line and added, in volume, a line like it: alone it occurs once.
        lambda text: in_volume(text, "    size = round(size)\n", "    size = round(size)\n" + ROUNDED),
        # ... or made volume's line like it: then ai's line and all its context occur once, in volume.
        lambda text: in_volume(text, "    size = round(size)\n", ROUNDED),
    ],
)
def test_undo_never_takes_back_a_look_alike_of_the_changed_lines(look_alike: Path, where) -> None:
    apply(look_alike, replace("geometry.py", AREA_ROUND, AREA_ROUND.replace("round(size)", "round(size, 2)")))
    text = (look_alike / "geometry.py").read_text()
    (look_alike / "geometry.py").write_text(where(in_area(text, ROUNDED, "    size = round(size, 3)\n")))
    before, head = snapshot(look_alike), git(look_alike, "rev-parse", "HEAD")
    with pytest.raises(RefusedError, match=r"geometry.py hunk 1 \(lines \d+-\d+\) was changed since") as info:
        undo(look_alike)
    assert info.value.exit_code == 3
    assert snapshot(look_alike) == before and git(look_alike, "rev-parse", "HEAD") == head


def test_undo_of_a_change_in_one_of_two_look_alike_functions_keeps_the_other_and_later_edits(
    look_alike: Path,
) -> None:
    # The hunk fits both functions; undo goes by where it was made, also after lines were added above it.
    apply(look_alike, replace("geometry.py", AREA_ROUND, AREA_ROUND.replace("round(size)", "round(size, 2)")))
    text = (look_alike / "geometry.py").read_text()
    edited = "import math\n\n" + in_volume(text, "    check(w)\n", "    check(w)  # mine\n")
    (look_alike / "geometry.py").write_text(edited)
    assert undo(look_alike) is not None
    assert (look_alike / "geometry.py").read_text() == edited.replace(ROUNDED, "    size = round(size)\n")


def test_without_its_backup_undo_still_works_on_an_untouched_file_and_refuses_a_look_alike(
    look_alike: Path,
) -> None:
    # An imported session on another machine has no backups: the hunks alone must do, and then only where
    # they were made. Here ai makes area like volume: its hunk, context and all, fits both functions.
    volume_rounded = in_volume(LOOK_ALIKE, "    size = round(size)\n", ROUNDED)
    (look_alike / "geometry.py").write_text(volume_rounded)
    git(look_alike, "commit", "-q", "-am", "volume rounds")
    make_area_like_volume = replace(
        "geometry.py", AREA_ROUND, AREA_ROUND.replace("round(size)", "round(size, 2)")
    )
    shutil.rmtree(apply(look_alike, make_area_like_volume)["backup"])
    assert undo(look_alike) is not None
    assert (look_alike / "geometry.py").read_text() == volume_rounded
    shutil.rmtree(apply(look_alike, make_area_like_volume)["backup"])
    rewritten = in_area((look_alike / "geometry.py").read_text(), ROUNDED, "    size = round(size, 3)\n")
    (look_alike / "geometry.py").write_text(rewritten)
    with pytest.raises(RefusedError, match=r"geometry.py hunk 1 \(lines 3-9\) was changed since"):
        undo(look_alike)
    assert (look_alike / "geometry.py").read_text() == rewritten
