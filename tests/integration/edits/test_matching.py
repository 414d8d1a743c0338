"""Anchors as models really write them: the failure classes users of other tools hit, on real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.edits import EditError
from tests.integration.edits.helpers import blocks, new_text, propose, replace

PY = "class Shop:\n    def total(self, items):\n        s = 0\n        for i in items:\n            s += i.price\n        return s\n"


@pytest.fixture
def shop(project: Path) -> Path:
    (project / "shop.py").write_text(PY)
    return project


def test_exact_match_replaces_only_the_anchor(shop: Path) -> None:
    text = replace("shop.py", "        s = 0\n", "        s = 0.0\n")
    assert new_text(shop, text, "shop.py") == PY.replace("s = 0\n", "s = 0.0\n")


def test_missing_leading_whitespace_is_matched_and_new_lines_reindented(shop: Path) -> None:
    anchor = "for i in items:\n    s += i.price\n"
    content = "for i in items:\n    if i.price > 0:\n        s += i.price\n"
    result = new_text(shop, replace("shop.py", anchor, content), "shop.py")
    assert "        for i in items:\n            if i.price > 0:\n                s += i.price\n" in result


def test_extra_leading_whitespace_is_matched(shop: Path) -> None:
    anchor = "            return s\n"  # 12 spaces, the file has 8
    result = new_text(shop, replace("shop.py", anchor, "            return round(s, 2)\n"), "shop.py")
    assert result.endswith("        return round(s, 2)\n")


def test_trailing_spaces_in_file_or_anchor(project: Path) -> None:
    (project / "a.txt").write_text("alpha   \nbeta\n")
    assert new_text(project, replace("a.txt", "alpha\n", "ALPHA\n"), "a.txt") == "ALPHA\nbeta\n"
    assert new_text(project, replace("a.txt", "beta  \n", "BETA\n"), "a.txt") == "alpha   \nBETA\n"


def test_tabs_in_file_against_spaces_in_anchor(project: Path) -> None:
    (project / "m.go").write_text("func f() {\n\tif x {\n\t\treturn 1\n\t}\n}\n")
    anchor = "    if x {\n        return 1\n    }\n"
    content = "    if x {\n        return 2\n    }\n"
    assert new_text(project, replace("m.go", anchor, content), "m.go") == (
        "func f() {\n\tif x {\n\t\treturn 2\n\t}\n}\n"
    )


def test_mixed_indentation_in_the_file(project: Path) -> None:
    # A tab and eight spaces are the same width at tab size 8 (how Python 2 code often looks).
    (project / "old.py").write_text("def f():\n\tif x:\n\t        y = 1\n\treturn y\n")
    anchor = "    if x:\n            y = 1\n"
    result = new_text(project, replace("old.py", anchor, "    if x:\n            y = 2\n"), "old.py")
    assert result.splitlines()[2].strip() == "y = 2"
    assert result.splitlines()[3] == "\treturn y"


def test_blank_lines_inside_the_anchor(project: Path) -> None:
    (project / "b.py").write_text("a = 1\n\n\nb = 2\nc = 3\n")
    # The model wrote one blank line where the file has two, and a whitespace-only line.
    result = new_text(project, replace("b.py", "a = 1\n  \nb = 2\n", "a = 1\nb = 20\n"), "b.py")
    assert result == "a = 1\nb = 20\nc = 3\n"


def test_stray_blank_line_at_the_anchor_edges(project: Path) -> None:
    (project / "c.py").write_text("x = 1\ny = 2\n")
    assert new_text(project, replace("c.py", "\ny = 2\n\n", "y = 3\n"), "c.py") == "x = 1\ny = 3\n"


@pytest.mark.parametrize(
    ("anchor", "content"),
    [
        # Found with its blank edge lines left out: the replacement's blank edges go the same way.
        ("\ndef foo():\n    pass\n\n", "\ndef foo():\n    return 1\n\n"),
        # Also when the indentation was shifted too (a tier that matches the trimmed anchor).
        ("\n    def foo():\n        pass\n\n", "\n    def foo():\n        return 1\n\n"),
        # ... and when blank lines inside were ignored as well.
        ("\n\ndef foo():\n\n    pass\n", "\n\ndef foo():\n    return 1\n"),
    ],
)
def test_blank_edge_lines_left_out_of_the_match_are_left_out_of_the_replacement(
    project: Path, anchor: str, content: str
) -> None:
    (project / "m.py").write_text("x = 1\ndef foo():\n    pass\ny = 2\n")
    assert (
        new_text(project, replace("m.py", anchor, content), "m.py")
        == "x = 1\ndef foo():\n    return 1\ny = 2\n"
    )


def test_a_blank_line_the_model_adds_beyond_the_anchors_edges_stays(project: Path) -> None:
    (project / "m.py").write_text("x = 1\ndef foo():\n    pass\ny = 2\n")
    answer = replace("m.py", "\ndef foo():\n    pass\n", "\n\ndef foo():\n    return 1\n")
    assert new_text(project, answer, "m.py") == "x = 1\n\ndef foo():\n    return 1\ny = 2\n"


def test_crlf_file_stays_crlf(project: Path) -> None:
    (project / "w.txt").write_bytes(b"one\r\ntwo\r\nthree\r\n")
    text = replace("w.txt", "two\n", "TWO\n2\n")
    assert new_text(project, text, "w.txt") == "one\r\nTWO\r\n2\r\nthree\r\n"


def test_unicode_anchor_and_content(project: Path) -> None:
    (project / "u.txt").write_text("grüße = 'Zoë'\nπ ≈ 3.14\n", encoding="utf-8")
    result = new_text(project, replace("u.txt", "π ≈ 3.14\n", "π ≈ 3.14159 🥧\n"), "u.txt")
    assert result == "grüße = 'Zoë'\nπ ≈ 3.14159 🥧\n"


def test_empty_file_takes_an_empty_anchor(project: Path) -> None:
    (project / "empty.py").write_text("")
    assert new_text(project, replace("empty.py", "", "print('hi')\n"), "empty.py") == "print('hi')\n"


def test_empty_anchor_in_a_non_empty_file_says_the_anchor_is_empty(shop: Path) -> None:
    with pytest.raises(EditError, match=r"^block 1 has an empty anchor .*copy the lines to replace above ="):
        propose(shop, replace("shop.py", "", "x\n"))
    with pytest.raises(EditError, match=r"^block 2 has an empty anchor \(INSERT AFTER shop.py\)"):
        first = replace("shop.py", "class Shop:\n", "class Store:\n")
        propose(shop, first + replace("shop.py", "", "x\n").replace("REPLACE", "INSERT AFTER"))


def test_last_line_without_newline(project: Path) -> None:
    (project / "n.txt").write_bytes(b"a\nb")
    assert new_text(project, replace("n.txt", "b\n", "B\n"), "n.txt") == "a\nB"
    after = "<<<<<<< INSERT AFTER n.txt\nb\n=======\nc\n>>>>>>> END\n"
    assert new_text(project, after, "n.txt") == "a\nb\nc"


def test_anchor_that_occurs_twice_is_an_error_naming_both_places(project: Path) -> None:
    (project / "d.py").write_text("x = 1\ny = 0\nx = 1\n")
    with pytest.raises(EditError) as info:
        propose(project, replace("d.py", "x = 1\n", "x = 2\n"))
    message = str(info.value)
    assert "block 1 (REPLACE d.py)" in message and "2 places" in message and "lines 1, 3" in message


def test_ambiguity_in_a_tolerant_tier_is_an_error_too(project: Path) -> None:
    (project / "e.py").write_text("if a:\n    go()\nif b:\n        go()\n")
    with pytest.raises(EditError, match=r"2 places"):
        propose(project, replace("e.py", "go()\n", "stop()\n"))


def test_exact_match_wins_over_a_tolerant_one(project: Path) -> None:
    (project / "f.py").write_text("    go()\ngo()\n")
    assert new_text(project, replace("f.py", "go()\n", "stop()\n"), "f.py") == "    go()\nstop()\n"


def test_no_match_names_block_file_and_nearest_lines(shop: Path) -> None:
    answer = replace("shop.py", "        s = 0\n", "        s = 0.0\n") + replace(
        "shop.py", "        for item in items:\n", "        for item in self.items:\n"
    )
    with pytest.raises(EditError) as info:
        propose(shop, answer)
    message = str(info.value)
    assert message.startswith("block 2 (REPLACE shop.py): the anchor was not found in shop.py")
    assert "line 4: 'for i in items:'" in message


def test_anchor_that_appears_only_after_an_earlier_block(shop: Path) -> None:
    answer = replace("shop.py", "        s = 0\n", "        s = 0\n        n = 0\n") + replace(
        "shop.py", "        n = 0\n", "        n = len(items)\n"
    )
    assert "        s = 0\n        n = len(items)\n" in new_text(shop, answer, "shop.py")


def test_insert_before_and_delete(shop: Path) -> None:
    answer = (
        "<<<<<<< INSERT BEFORE shop.py\n    def total(self, items):\n=======\n    @property\n>>>>>>> END\n"
        "<<<<<<< DELETE shop.py\n        return s\n>>>>>>> END\n"
    )
    result = new_text(shop, answer, "shop.py")
    assert "    @property\n    def total" in result and "return s" not in result


def test_block_list_and_read_blocks_are_ignored(shop: Path) -> None:
    answer = "<<<<<<< READ other.py\n>>>>>>> END\n" + replace("shop.py", "        s = 0\n", "        s = 1\n")
    assert len(blocks(answer)) == 2
    assert [f.path for f in propose(shop, answer).files] == ["shop.py"]


def test_code_fence_around_anchor_and_content_is_dropped(shop: Path) -> None:
    answer = replace("shop.py", "```python\n        s = 0\n```\n", "```python\n        s = 0.0\n```\n")
    assert new_text(shop, answer, "shop.py") == PY.replace("s = 0\n", "s = 0.0\n")


def test_code_fence_around_created_code_is_dropped_but_kept_in_markdown(project: Path) -> None:
    answer = "<<<<<<< CREATE a.py\n```python\nx = 1\n```\n>>>>>>> END\n"
    assert new_text(project, answer, "a.py") == "x = 1\n"
    doc = "<<<<<<< CREATE a.md\n```python\nx = 1\n```\n>>>>>>> END\n"
    assert new_text(project, doc, "a.md") == "```python\nx = 1\n```\n"


def test_no_match_says_where_a_long_anchor_stops_fitting(project: Path) -> None:
    (project / "ops.py").write_text("def subtract(a, b):\n    c = a\n    return a * b\n")
    anchor = "def subtract(a, b):\n    c = a\n    return a + b\n"
    with pytest.raises(EditError) as info:
        propose(project, replace("ops.py", anchor, "x\n"))
    assert "line 1: 'def subtract(a, b):'" in str(info.value)
    assert "fits until line 3, which is 'return a * b' where the anchor has 'return a + b'" in str(info.value)


CONFLICTED = "x = 1\n<<<<<<< HEAD\ny = 2\n=======\ny = 3\n>>>>>>> feature\nz = 4\n"


def test_a_merge_conflict_in_the_anchor_is_split_where_the_file_says(project: Path) -> None:
    # Two `=======` lines: the first is the conflict's own, the file shows it (the longer anchor fits there).
    (project / "c.py").write_text(CONFLICTED)
    answer = replace("c.py", "<<<<<<< HEAD\ny = 2\n=======\ny = 3\n>>>>>>> feature\n", "y = 3\n")
    assert new_text(project, answer, "c.py") == "x = 1\ny = 3\nz = 4\n"


def test_a_rest_heading_in_anchor_and_content_is_split_where_the_file_says(project: Path) -> None:
    (project / "README.rst").write_text("Install\n=======\n\nRun pip install foo.\n\nUsage\n=====\n")
    answer = replace(
        "README.rst", "Install\n=======\n\nRun pip install foo.\n", "Install\n=======\n\nRun uv add foo.\n"
    )
    assert new_text(project, answer, "README.rst") == "Install\n=======\n\nRun uv add foo.\n\nUsage\n=====\n"
    # The underline only in the new lines: the first `=======` is the separator, the only split that fits.
    answer = replace("README.rst", "Usage\n=====\n", "Usage\n=======\n")
    assert new_text(project, answer, "README.rst").endswith("Usage\n=======\n")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (CONFLICTED * 2, r"fit c.py at more than one place"),  # both splits' anchors occur twice
        ("nothing alike\n", r"the anchor above none of them is found in c.py"),
    ],
)
def test_several_separators_that_do_not_settle_the_split_reject_the_block(
    project: Path, text: str, why: str
) -> None:
    (project / "c.py").write_text(text)
    answer = "intro\n" + replace("c.py", "<<<<<<< HEAD\ny = 2\n=======\ny = 3\n>>>>>>> feature\n", "y = 3\n")
    with pytest.raises(EditError, match=rf"^block 1 \(REPLACE c.py\) is malformed: .*lines 5 and 8 .*{why}"):
        propose(project, answer)
    assert (project / "c.py").read_text() == text
