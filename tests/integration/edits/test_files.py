"""Files keep what they were: encoding, BOM, line endings, final newline, mode; odd files are refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.edits import MAX_FILE_BYTES, EditError, apply_proposal, undo_last
from app.session.store import ProjectStore
from tests.integration.edits.helpers import propose, replace


def apply(root: Path, answer: str) -> dict:
    session = ProjectStore(root).session("main")
    return apply_proposal(propose(root, answer), session=session, goal="test", use_git=False)


def test_crlf_bom_and_missing_final_newline_survive_an_edit(project: Path) -> None:
    path = project / "w.cs"
    path.write_bytes(b"\xef\xbb\xbfusing System;\r\nclass A {\r\n  int x = 1;\r\n}")
    apply(project, replace("w.cs", "  int x = 1;\n", "  int x = 2;\n  int y = 3;\n"))
    assert path.read_bytes() == b"\xef\xbb\xbfusing System;\r\nclass A {\r\n  int x = 2;\r\n  int y = 3;\r\n}"


def test_mixed_line_endings_are_kept_line_by_line(project: Path) -> None:
    path = project / "mixed.txt"
    path.write_bytes(b"a\r\nb\nc\r\nd\r\n")
    apply(project, replace("mixed.txt", "c\n", "C\n"))
    assert path.read_bytes() == b"a\r\nb\nC\r\nd\r\n"


def test_latin1_file_is_edited_in_its_own_encoding(project: Path) -> None:
    path = project / "legacy.py"
    path.write_bytes("# -*- coding: latin-1 -*-\nname = 'café'\nx = 1\n".encode("latin-1"))
    apply(project, replace("legacy.py", "x = 1\n", "x = 'crème'\n"))
    assert path.read_bytes() == "# -*- coding: latin-1 -*-\nname = 'café'\nx = 'crème'\n".encode("latin-1")


def test_cp1252_file_refuses_characters_it_cannot_hold(project: Path) -> None:
    path = project / "old.txt"
    original = "price: 5€\nx\n".encode("cp1252")
    path.write_bytes(original)
    with pytest.raises(EditError, match=r"cp1252.*cannot hold"):
        propose(project, replace("old.txt", "x\n", "π\n"))
    assert path.read_bytes() == original


def test_utf16_with_bom_round_trips(project: Path) -> None:
    path = project / "u16.txt"
    path.write_bytes("\ufeffone\r\ntwo\r\n".encode("utf-16-le"))
    apply(project, replace("u16.txt", "two\n", "deux\n"))
    assert path.read_bytes() == "\ufeffone\r\ndeux\r\n".encode("utf-16-le")


def test_binary_file_is_refused_clearly(project: Path) -> None:
    (project / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(EditError, match=r"block 1 \(REPLACE logo.png\): logo.png is a binary file"):
        propose(project, replace("logo.png", "PNG\n", "x\n"))


def test_a_binary_or_huge_file_may_be_removed_whole_but_not_edited_after(project: Path) -> None:
    (project / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (project / "big.log").write_bytes(b"line\n" * (MAX_FILE_BYTES // 5 + 10))
    removal = "<<<<<<< REMOVE logo.png\n>>>>>>> END\n<<<<<<< REMOVE big.log\n>>>>>>> END\n"
    proposal = propose(project, removal)
    assert [(f.path, f.action) for f in proposal.files] == [("logo.png", "remove"), ("big.log", "remove")]
    assert proposal.hunk_counts() == {"logo.png": 1, "big.log": 1}
    assert "logo.png removed whole (16 bytes, not shown as text)" in proposal.diff_text()
    recreate = removal + "<<<<<<< CREATE logo.png\nx\n>>>>>>> END\n"
    with pytest.raises(EditError, match=r"block 3 \(CREATE logo.png\): logo.png is a binary file"):
        propose(project, recreate)


def test_huge_file_is_refused_clearly(project: Path) -> None:
    (project / "big.log").write_bytes(b"line\n" * (MAX_FILE_BYTES // 5 + 10))
    with pytest.raises(EditError, match=r"big.log is .* over the .* limit"):
        propose(project, replace("big.log", "line\n", "x\n"))


def test_file_mode_is_kept_and_new_files_follow_the_umask(project: Path) -> None:
    script = project / "run.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o755)
    apply(
        project,
        replace("run.sh", "echo hi\n", "echo bye\n") + "<<<<<<< CREATE new.txt\nx\n>>>>>>> END\n",
    )
    assert script.stat().st_mode & 0o777 == 0o755
    mask = os.umask(0)
    os.umask(mask)
    assert (project / "new.txt").stat().st_mode & 0o777 == 0o666 & ~mask


def test_create_refuses_an_existing_file_and_remove_a_missing_one(project: Path) -> None:
    (project / "a.py").write_text("x\n")
    with pytest.raises(EditError, match=r"a.py already exists"):
        propose(project, "<<<<<<< CREATE a.py\ny\n>>>>>>> END\n")
    with pytest.raises(EditError, match=r"gone.py does not exist"):
        propose(project, "<<<<<<< REMOVE gone.py\n>>>>>>> END\n")


def test_create_in_new_folders_and_remove(project: Path) -> None:
    (project / "old.py").write_text("bye\n")
    apply(project, "<<<<<<< CREATE pkg/sub/mod.py\nx = 1\n>>>>>>> END\n<<<<<<< REMOVE old.py\n>>>>>>> END\n")
    assert (project / "pkg/sub/mod.py").read_text() == "x = 1\n"
    assert not (project / "old.py").exists()


def test_edit_through_an_in_project_symlink_changes_the_target(project: Path) -> None:
    (project / "real.py").write_text("a = 1\n")
    (project / "link.py").symlink_to("real.py")
    record = apply(project, replace("link.py", "a = 1\n", "a = 2\n"))
    assert (project / "link.py").is_symlink()
    assert (project / "real.py").read_text() == "a = 2\n"
    assert record["files"] == ["real.py"]


@pytest.mark.parametrize("points_outside", [False, True], ids=["to-a-project-file", "out-of-the-project"])
def test_remove_of_a_symlink_removes_the_link_and_undo_brings_the_link_back(
    tmp_path: Path, points_outside: bool
) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    target = tmp_path / "outside.txt" if points_outside else project / "real.py"
    target.write_text("keep me\n")
    (project / "link.py").symlink_to(target if points_outside else "real.py")
    record = apply(project, "<<<<<<< REMOVE link.py\n>>>>>>> END\n")
    assert not os.path.lexists(project / "link.py")
    assert target.read_text() == "keep me\n"  # the file it pointed to is never touched
    assert record["files"] == ["link.py"] and "symlink" in record["diffs"]["link.py"]
    undo_last(ProjectStore(project).session("main"), use_git=False)
    assert (project / "link.py").is_symlink()
    assert os.readlink(project / "link.py") == (str(target) if points_outside else "real.py")
    assert target.read_text() == "keep me\n"


def test_remove_through_a_linked_folder_that_leaves_the_project_is_refused(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "link.py").symlink_to(tmp_path / "elsewhere")
    (project / "out").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(EditError, match="outside the project root through a symlink"):
        propose(project, "<<<<<<< REMOVE out/link.py\n>>>>>>> END\n")
    assert (tmp_path / "elsewhere" / "link.py").is_symlink()


def test_form_feeds_and_unicode_line_separators_are_not_line_breaks(project: Path) -> None:
    path = project / "ff.py"
    original = "a = 1\n\x0c\nb = '\u2028'\nc = 3\n"
    path.write_text(original, encoding="utf-8")
    apply(project, replace("ff.py", "c = 3\n", "c = 4\n"))
    assert path.read_text(encoding="utf-8") == original.replace("c = 3", "c = 4")


def test_a_named_pipe_is_refused_without_blocking(project: Path) -> None:
    os.mkfifo(project / "pipe")
    with pytest.raises(EditError, match=r"pipe is not a regular file"):
        propose(project, replace("pipe", "x\n", "y\n"))


def test_a_symlink_loop_is_refused(project: Path) -> None:
    (project / "loop").symlink_to("loop")
    with pytest.raises(EditError):
        propose(project, replace("loop", "x\n", "y\n"))
