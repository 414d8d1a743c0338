"""Applying: all files or none, backups first, a re-check against the disk, the change recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.edits import RefusedError, apply_proposal, content_hash, restore_backup
from app.errors import TaskFailed
from app.session.store import ProjectStore, Session
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


@pytest.fixture
def session(project: Path) -> Session:
    return ProjectStore(project).session("main")


def test_record_holds_id_goal_files_diffs_hashes_and_backup(project: Path, session: Session) -> None:
    (project / "a.py").write_bytes(b"a = 1\n")
    proposal = propose(
        project, replace("a.py", "a = 1\n", "a = 2\n") + "<<<<<<< CREATE b.py\nb\n>>>>>>> END\n"
    )
    record = apply_proposal(proposal, session=session, goal="bump a\nand more", use_git=False)
    assert record["files"] == ["a.py", "b.py"]
    assert record["goal"] == "bump a\nand more" and record["summary"] == "bump a"
    assert record["commit"] is None
    assert "+a = 2" in record["diffs"]["a.py"]
    by_path = {c["path"]: c for c in record["changes"]}
    assert by_path["a.py"]["pre_hash"] == content_hash(b"a = 1\n")
    assert by_path["a.py"]["post_hash"] == content_hash(b"a = 2\n")
    assert by_path["b.py"]["action"] == "create" and by_path["b.py"]["pre_hash"] is None
    stored = session.changes()
    assert [c["id"] for c in stored] == [record["id"]]
    assert session.meta().change_count == 1
    backup = Path(record["backup"])
    assert (backup / "manifest.json").is_file()
    assert backup.is_relative_to(session.store.home / "backups")


def test_failed_write_restores_the_files_already_written(project: Path, session: Session) -> None:
    (project / "a.py").write_text("a = 1\n")
    (project / "z.py").write_text("z = 1\n")
    answer = (
        replace("a.py", "a = 1\n", "a = 2\n")
        + "<<<<<<< CREATE sub/new.py\nn\n>>>>>>> END\n"
        + replace("z.py", "z = 1\n", "z = 2\n")
    )
    proposal = propose(project, answer)
    (project / "sub").write_text("a file where the folder should go\n")  # the second write will fail
    before = snapshot(project)
    with pytest.raises(TaskFailed, match=r"could not write sub/new.py.*files already written were restored"):
        apply_proposal(proposal, session=session, goal="x", use_git=False)
    assert snapshot(project) == before
    assert session.changes() == []


def test_file_changed_since_preview_elsewhere_is_reapplied(project: Path, session: Session) -> None:
    path = project / "f.txt"
    path.write_text("".join(f"{n}\n" for n in range(30)))
    proposal = propose(project, replace("f.txt", "3\n", "three\n"))
    path.write_text(path.read_text().replace("25\n", "twenty-five\n"))
    apply_proposal(proposal, session=session, goal="x", use_git=False)
    text = path.read_text()
    assert "three\n" in text and "twenty-five\n" in text


def test_file_changed_since_preview_under_the_hunk_is_refused(project: Path, session: Session) -> None:
    (project / "ok.txt").write_text("ok\n")
    path = project / "f.txt"
    path.write_text("a\nb\nc\n")
    proposal = propose(project, replace("ok.txt", "ok\n", "OK\n") + replace("f.txt", "b\n", "B\n"))
    path.write_text("a\nbee\nc\n")
    before = snapshot(project)
    with pytest.raises(
        RefusedError, match=r"f.txt changed since the proposal and hunk 1 \(lines 1-3\)"
    ) as info:
        apply_proposal(proposal, session=session, goal="x", use_git=False)
    assert info.value.exit_code == 3
    assert snapshot(project) == before


def test_created_file_that_appeared_since_preview_is_refused(project: Path, session: Session) -> None:
    proposal = propose(project, "<<<<<<< CREATE n.py\nmine\n>>>>>>> END\n")
    (project / "n.py").write_text("theirs\n")
    with pytest.raises(RefusedError, match=r"n.py was created since the proposal"):
        apply_proposal(proposal, session=session, goal="x", use_git=False)
    assert (project / "n.py").read_text() == "theirs\n"


def test_backup_restores_the_old_state(project: Path, session: Session) -> None:
    (project / "a.py").write_text("a\n")
    (project / "gone.py").write_text("g\n")
    before = snapshot(project)
    answer = replace("a.py", "a\n", "A\n") + "<<<<<<< REMOVE gone.py\n>>>>>>> END\n"
    answer += "<<<<<<< CREATE n.py\nn\n>>>>>>> END\n"
    record = apply_proposal(propose(project, answer), session=session, goal="x", use_git=False)
    assert snapshot(project) != before
    assert sorted(restore_backup(Path(record["backup"]))) == ["a.py", "gone.py", "n.py"]
    assert snapshot(project) == before


def test_the_next_apply_rolls_back_what_a_killed_apply_had_written(project: Path, session: Session) -> None:
    from app.edits.transaction import FileWrite, write_files

    (project / "a.py").write_text("a\n")
    (project / "b.py").write_text("b\n")
    backups = session.store.backups_dir("main")
    # What a process leaves when it dies after writing its files but before recording the change.
    writes = [
        FileWrite("a.py", project / "a.py", b"a\n", b"A\n", 0o644),
        FileWrite("b.py", project / "b.py", b"b\n", b"B\n", 0o644),
    ]
    write_files(writes, backups / "dead", tag="dead")
    (project / "b.py").write_text("edited by the user since\n")
    (project / "c.py").write_text("c\n")
    record = apply_proposal(
        propose(project, replace("c.py", "c\n", "C\n")), session=session, goal="x", use_git=False
    )
    assert (project / "a.py").read_text() == "a\n"
    assert (project / "b.py").read_text() == "edited by the user since\n"
    assert record["recovered"] == [
        "recovered: change dead (session main) was interrupted before it was recorded in the session; put back "
        "1 file(s) as they were: a.py; left b.py as it is now (changed since)"
    ]
    assert not list((backups.parent / "in-flight").iterdir())


def test_a_journal_an_older_ai_left_after_writing_is_still_rolled_back(
    project: Path, session: Session
) -> None:
    import json

    from app.edits.transaction import FileWrite, write_files

    (project / "a.py").write_text("a\n")
    backups = session.store.backups_dir("main")
    write_files([FileWrite("a.py", project / "a.py", b"a\n", b"A\n", 0o644)], backups / "old", tag="old")
    # The journal as the previous version wrote it: no version, "done" once the files were written.
    manifest = backups / "old" / "manifest.json"
    journal = json.loads(manifest.read_text())
    journal.pop("version")
    manifest.write_text(json.dumps({**journal, "state": "done"}))
    record = apply_proposal(
        propose(project, "<<<<<<< CREATE n.py\nn\n>>>>>>> END\n"), session=session, goal="x", use_git=False
    )
    assert (project / "a.py").read_text() == "a\n"
    assert "put back 1 file(s) as they were: a.py" in record["recovered"][0]


ROUND_2 = replace("geometry.py", AREA_ROUND, AREA_ROUND.replace("round(size)", "round(size, 2)"))


@pytest.fixture
def two_sessions(git_project: Path) -> tuple[Session, Session]:
    (git_project / "geometry.py").write_text(LOOK_ALIKE)
    git(git_project, "add", ".")
    git(git_project, "commit", "-q", "-m", "geometry")
    store = ProjectStore(git_project)
    return store.session("a"), store.session("b")


def test_a_change_rebased_onto_a_file_another_session_changed_at_its_lines_is_refused(
    git_project: Path, two_sessions: tuple[Session, Session]
) -> None:
    # Two builds on the same function at once: b's proposal was made on the file before a's change, which
    # rewrote the very line b changes. b's hunk with its context still fits volume: it must not go there.
    a, b = two_sessions
    theirs = propose(git_project, ROUND_2)
    apply_proposal(
        propose(git_project, ROUND_2.replace("round(size, 2)", "round(size, 1)")), session=a, goal="a"
    )
    before, log = snapshot(git_project), git(git_project, "log", "--format=%H")
    with pytest.raises(
        RefusedError, match=r"geometry.py changed since the proposal and hunk 1 \(lines 3-9\)"
    ) as info:
        apply_proposal(theirs, session=b, goal="b")
    assert info.value.exit_code == 3
    assert snapshot(git_project) == before and git(git_project, "log", "--format=%H") == log
    assert git(git_project, "status", "--porcelain") == ""
    assert b.changes() == []


def test_a_change_rebased_onto_a_file_another_session_changed_elsewhere_lands_on_its_own_function(
    git_project: Path, two_sessions: tuple[Session, Session]
) -> None:
    a, b = two_sessions
    theirs = propose(git_project, ROUND_2)
    volume = in_volume(LOOK_ALIKE, "    check(h)\n", "    check(h)\n    check(w * h)\n")
    apply_proposal(
        propose(git_project, replace("geometry.py", LOOK_ALIKE, "import math\n\n" + volume)),
        session=a,
        goal="a",
    )
    record = apply_proposal(theirs, session=b, goal="b")
    expected = "import math\n\n" + in_area(volume, "round(size)", "round(size, 2)")
    assert (git_project / "geometry.py").read_text() == expected
    assert git(git_project, "show", f"{record['commit']}:geometry.py") == expected
    assert git(git_project, "status", "--porcelain") == ""
