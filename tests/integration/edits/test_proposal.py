"""Proposals: diffs and hunks per file, a subset of hunks, the user's own edit, stale reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.edits import EditError, RefusedError, build_proposal, content_hash
from tests.integration.edits.helpers import (
    AREA_ANCHOR,
    LOOK_ALIKE,
    SHIFTED_LOOK_ALIKE,
    blocks,
    in_area,
    in_volume,
    propose,
    replace,
)

LINES = "".join(f"line {n}\n" for n in range(1, 41))


@pytest.fixture
def two_hunks(project: Path) -> Path:
    (project / "f.txt").write_text(LINES)
    (project / "g.txt").write_text("g\n")
    return project


ANSWER = (
    replace("f.txt", "line 3\n", "line three\n")
    + replace("f.txt", "line 30\n", "line thirty\n")
    + replace("g.txt", "g\n", "G\n")
)


def test_diffs_and_hunk_counts_per_file(two_hunks: Path) -> None:
    proposal = propose(two_hunks, ANSWER)
    assert proposal.hunk_counts() == {"f.txt": 2, "g.txt": 1}
    diffs = proposal.diffs()
    assert diffs["f.txt"].startswith("--- a/f.txt\n+++ b/f.txt\n@@ -1,6 +1,6 @@\n line 1\n")
    assert "-line 30\n+line thirty\n" in diffs["f.txt"]
    change = proposal.file("f.txt")
    assert change.hunks[1].text.startswith("@@ -27,7 +27,7 @@")
    assert "".join(h.text for h in change.hunks) in change.diff
    assert (two_hunks / "f.txt").read_text() == LINES, "building a proposal writes nothing"


def test_select_keeps_the_chosen_hunks_only(two_hunks: Path) -> None:
    proposal = propose(two_hunks, ANSWER).select({"f.txt": [1], "g.txt": []})
    assert [f.path for f in proposal.files] == ["f.txt"]
    text = proposal.file("f.txt").new_text
    assert text is not None and "line thirty" in text and "line three" not in text
    assert proposal.hunk_counts() == {"f.txt": 1}


def test_select_of_files_not_named_keeps_them_whole(two_hunks: Path) -> None:
    proposal = propose(two_hunks, ANSWER).select({"g.txt": [0]})
    assert proposal.hunk_counts() == {"f.txt": 2, "g.txt": 1}


def test_select_rejects_unknown_hunks_and_files(two_hunks: Path) -> None:
    proposal = propose(two_hunks, ANSWER)
    with pytest.raises(EditError, match=r"no hunk 3"):
        proposal.select({"f.txt": [2]})
    with pytest.raises(EditError, match=r"nope.txt is not part"):
        proposal.select({"nope.txt": [0]})


def test_with_edited_replaces_the_result_and_keeps_crlf(project: Path) -> None:
    (project / "w.txt").write_bytes(b"a\r\nb\r\n")
    proposal = propose(project, replace("w.txt", "b\n", "B\n")).with_edited({"w.txt": "a\nbee\n"})
    change = proposal.file("w.txt")
    assert change.new_bytes() == b"a\r\nbee\r\n"
    assert "+bee" in change.diff
    with pytest.raises(EditError, match=r"other.txt is not part"):
        proposal.with_edited({"other.txt": "x"})


def test_with_edited_back_to_the_original_drops_the_file(project: Path) -> None:
    (project / "a.txt").write_text("a\n")
    assert propose(project, replace("a.txt", "a\n", "b\n")).with_edited({"a.txt": "a\n"}).files == []


def test_created_then_removed_in_one_answer_leaves_nothing(project: Path) -> None:
    answer = "<<<<<<< CREATE t.py\nx\n>>>>>>> END\n<<<<<<< REMOVE t.py\n>>>>>>> END\n"
    assert propose(project, answer).files == []


def test_file_changed_since_read_is_rematched_when_the_anchor_still_fits(project: Path) -> None:
    path = project / "a.py"
    path.write_text("a = 1\nb = 2\n")
    read = {"a.py": content_hash(path.read_bytes())}
    path.write_text("a = 1\nb = 2\nc = 3\n")  # the user added a line meanwhile
    proposal = build_proposal(project, blocks(replace("a.py", "a = 1\n", "a = 10\n")), read_hashes=read)
    assert proposal.file("a.py").new_text == "a = 10\nb = 2\nc = 3\n"


def test_file_changed_since_read_whose_anchor_no_longer_fits_is_refused(project: Path) -> None:
    path = project / "a.py"
    path.write_text("a = 1\n")
    read = {"a.py": content_hash(path.read_bytes())}
    path.write_text("a = 100\n")
    with pytest.raises(RefusedError, match=r"a.py changed since it was read") as info:
        build_proposal(project, blocks(replace("a.py", "a = 1\n", "a = 2\n")), read_hashes=read)
    assert info.value.exit_code == 3


def test_a_one_line_change_in_a_long_file_is_one_small_hunk(project: Path) -> None:
    (project / "long.txt").write_text("".join(f"{n}\n" for n in range(10_000)))
    proposal = propose(project, replace("long.txt", "5000\n", "five thousand\n"))
    (hunk,) = proposal.file("long.txt").hunks
    assert hunk.header == "@@ -4998,7 +4998,7 @@"


@pytest.mark.parametrize("known", ["bytes", "hash"])
def test_a_file_changed_since_read_never_gets_the_edit_on_a_look_alike(project: Path, known: str) -> None:
    # The model's anchor fitted area exactly in the file it was shown; then area's line was changed (another
    # session's build). Ignoring indentation, the anchor now fits volume: that is not where it was meant.
    path = project / "geometry.py"
    path.write_text(SHIFTED_LOOK_ALIKE)
    shown = path.read_bytes()
    read = (
        {"read": {"geometry.py": shown}}
        if known == "bytes"
        else {"read_hashes": {"geometry.py": content_hash(shown)}}
    )
    path.write_text(in_area(SHIFTED_LOOK_ALIKE, "round(size)", "round(size, 1)"))
    answer = replace("geometry.py", AREA_ANCHOR, AREA_ANCHOR.replace("round(size)", "round(size, 2)"))
    with pytest.raises(RefusedError, match=r"geometry.py changed since it was read") as info:
        build_proposal(project, blocks(answer), **read)
    assert info.value.exit_code == 3


def test_a_file_changed_since_read_elsewhere_gets_the_edit_where_the_model_meant(project: Path) -> None:
    path = project / "geometry.py"
    path.write_text(SHIFTED_LOOK_ALIKE)
    shown = path.read_bytes()
    now = "import math\n\n" + in_volume(SHIFTED_LOOK_ALIKE, "check(h)\n", "check(h)\n        check(w * h)\n")
    path.write_text(now)
    answer = replace("geometry.py", AREA_ANCHOR, AREA_ANCHOR.replace("round(size)", "round(size, 2)"))
    proposal = build_proposal(project, blocks(answer), read={"geometry.py": shown})
    change = proposal.file("geometry.py")
    assert change.old_text == now and change.old_hash == content_hash(path.read_bytes())
    assert change.new_text == in_area(now, "round(size)", "round(size, 2)")
    assert any("changed since it was read" in note for note in proposal.notes)


def test_an_anchor_that_fitted_twice_in_the_file_as_shown_is_rejected_though_it_fits_once_now(
    project: Path,
) -> None:
    # The model could not have meant one place: what it saw had two. The user's later edit of one of them
    # does not make the answer unambiguous.
    path = project / "geometry.py"
    path.write_text(LOOK_ALIKE)
    shown = path.read_bytes()
    path.write_text(in_area(LOOK_ALIKE, "round(size)", "round(size, 1)"))
    answer = replace("geometry.py", AREA_ANCHOR, AREA_ANCHOR.replace("round(size)", "round(size, 2)"))
    with pytest.raises(EditError, match=r"the anchor matches 2 places in geometry.py"):
        build_proposal(project, blocks(answer), read={"geometry.py": shown})
