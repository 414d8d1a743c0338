"""The edit-block parser (the format of app/llm/system_prompt.md), fed whole and chunk by chunk."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.llm.blocks import (
    KINDS,
    BlockParseError,
    BlockParser,
    EditBlock,
    Prose,
    parse_blocks,
    render_block,
)

ANSWER = """I will fix the subtraction.

```python
<<<<<<< REPLACE calc/ops.py
def subtract(a, b):
    return a + b
=======
def subtract(a, b):
    return a - b
>>>>>>> END
```

<<<<<<< INSERT AFTER `calc/ops.py`
import math
=======
import operator
>>>>>>> END
<<<<<<< INSERT BEFORE "calc/ops.py"
def subtract(a, b):
=======
@trace
>>>>>>> END
<<<<<<< DELETE 'calc/ops.py'
    print("debug")
>>>>>>> END
<<<<<<< CREATE calc/__init__.py
from .ops import subtract
>>>>>>> END
<<<<<<< REMOVE calc/legacy.py
>>>>>>> END
<<<<<<< READ calc/tests/test_ops.py
>>>>>>> END
That is all."""


def blocks_of(items: list[Prose | EditBlock]) -> list[EditBlock]:
    return [i for i in items if isinstance(i, EditBlock)]


def prose_of(items: list[Prose | EditBlock]) -> str:
    return "".join(i.text for i in items if isinstance(i, Prose))


def feed_in_chunks(text: str, size: int) -> list[Prose | EditBlock]:
    parser = BlockParser()
    items: list[Prose | EditBlock] = []
    for start in range(0, len(text), size):
        items.extend(parser.feed(text[start : start + size]))
    items.extend(parser.finish())
    return items


def test_every_kind_of_the_protocol_example_parses() -> None:
    blocks = blocks_of(parse_blocks(ANSWER))
    assert [b.kind for b in blocks] == list(KINDS)
    assert all(b.path.startswith("calc/") for b in blocks), "quotes and backticks around paths are dropped"
    replace = blocks[0]
    assert replace.anchor == "def subtract(a, b):\n    return a + b\n"
    assert replace.content == "def subtract(a, b):\n    return a - b\n"
    assert replace.line == 4
    assert blocks[3].anchor == '    print("debug")\n' and blocks[3].content == ""
    assert blocks[4].content == "from .ops import subtract\n" and blocks[4].anchor == ""
    assert blocks[5].anchor == blocks[5].content == ""


def test_prose_is_kept_and_fences_around_blocks_are_dropped() -> None:
    prose = prose_of(parse_blocks(ANSWER))
    assert prose.startswith("I will fix the subtraction.\n")
    assert prose.endswith("That is all.")
    assert "```" not in prose


def test_fence_that_wraps_no_block_stays_prose() -> None:
    text = "Example:\n```python\nprint(1)\n```\nend\n"
    assert prose_of(parse_blocks(text)) == text


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64])
def test_chunked_feeding_gives_the_same_result(size: int) -> None:
    whole = parse_blocks(ANSWER)
    chunked = feed_in_chunks(ANSWER, size)
    assert blocks_of(chunked) == blocks_of(whole)
    assert prose_of(chunked) == prose_of(whole)


def test_block_is_yielded_as_soon_as_its_end_line_arrives() -> None:
    parser = BlockParser()
    assert blocks_of(parser.feed("<<<<<<< DELETE a.py\nx = 1\n")) == []
    got = parser.feed(">>>>>>> END\n")
    assert got == [EditBlock("DELETE", "a.py", "x = 1\n", "", 1)]


def test_prose_streams_before_the_line_ends_unless_it_may_open_a_block() -> None:
    parser = BlockParser()
    assert parser.feed("Hello wor") == [Prose("Hello wor")]
    assert parser.feed("ld\n<<<") == [Prose("ld\n")]  # "<<<" may become a block opening: held
    assert parser.feed("<<<<") == []
    assert parser.feed(" CREATE x.py\nhi\n>>>>>>> END\n") == [EditBlock("CREATE", "x.py", "", "hi\n", 2)]


def test_missing_final_newline_and_crlf_are_tolerated() -> None:
    text = "<<<<<<< REPLACE a.py\r\nold\r\n=======\r\nnew\r\n>>>>>>> END"
    assert blocks_of(parse_blocks(text)) == [EditBlock("REPLACE", "a.py", "old\n", "new\n", 1)]
    # A CRLF split across two chunks.
    assert blocks_of(feed_in_chunks(text, 4)) == blocks_of(parse_blocks(text))


def test_a_body_with_several_separators_keeps_every_split_for_the_engine_to_choose() -> None:
    text = "intro\n<<<<<<< REPLACE doc.rst\nTitle\n=======\nTitle\n=======\n>>>>>>> END\n"
    (block,) = blocks_of(parse_blocks(text))
    assert block.separators == (1, 3)
    assert block.separator_lines() == [4, 6]  # lines of the answer, for the error that names them
    assert block.splits() == [("Title\n", "Title\n=======\n"), ("Title\n=======\nTitle\n", "")]
    assert blocks_of(parse_blocks(render_block(block))) == [dataclasses.replace(block, line=1)]
    (single,) = blocks_of(parse_blocks("<<<<<<< REPLACE a.py\nold\n=======\nnew\n>>>>>>> END\n"))
    assert single.separators == () and single.splits() == [("old\n", "new\n")]


def test_git_conflict_markers_in_prose_are_prose() -> None:
    text = "Your file has\n<<<<<<< HEAD\nin it.\n"
    assert prose_of(parse_blocks(text)) == text


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("intro\n<<<<<<< REPLACE a.py\nold\n>>>>>>> END\n", 2),  # no separator
        ("a\nb\n<<<<<<< CREATE a.py\nnew\n", 3),  # never closed
        ("<<<<<<< DELETE a.py\nx\n<<<<<<< DELETE b.py\ny\n>>>>>>> END\n", 3),  # nested opening
        ("<<<<<<< REMOVE a.py\nstuff\n>>>>>>> END\n", 1),  # REMOVE with content
        ("x\n<<<<<<< REPLACE\n", 2),  # no path
        ("<<<<<<< UPDATE a.py\n", 1),  # unknown kind that looks like one
    ],
)
def test_malformed_blocks_name_their_line(text: str, line: int) -> None:
    with pytest.raises(BlockParseError, match=rf"line {line}\b"):
        parse_blocks(text)


_line = st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"), max_size=20)
_safe_line = _line.filter(lambda s: not s.lstrip().startswith((">>>>>>>", "<<<<<<<")))
_body = st.lists(_safe_line, max_size=5).map(lambda lines: "".join(x + "\n" for x in lines))
# New lines may hold `=======` lines (a reST underline): the parse must keep every split of such a body.
_content = st.lists(st.one_of(_safe_line, st.just("=======")), max_size=5).map(
    lambda lines: "".join(x + "\n" for x in lines)
)
_path = st.from_regex(r"[a-z][a-z0-9_/.-]{0,20}", fullmatch=True)


@st.composite
def edit_blocks(draw: st.DrawFn) -> EditBlock:
    kind = draw(st.sampled_from(KINDS))
    anchor = content = ""
    if kind in ("REPLACE", "INSERT AFTER", "INSERT BEFORE"):
        anchor = draw(_body.filter(lambda b: not any(line.strip() == "=======" for line in b.split("\n"))))
        content = draw(_content)
    elif kind == "DELETE":
        anchor = draw(_body)
    elif kind == "CREATE":
        content = draw(_body)
    return EditBlock(kind, draw(_path), anchor, content, 1)


@settings(max_examples=150, deadline=None)
@given(st.lists(edit_blocks(), min_size=1, max_size=4), st.integers(min_value=1, max_value=9))
def test_parse_of_rendered_blocks_gives_the_blocks_back(blocks: list[EditBlock], size: int) -> None:
    text = "".join(render_block(b) for b in blocks)
    expected, line = [], 1
    for b in blocks:
        body = [*b.anchor.split("\n")[:-1], "=======", *b.content.split("\n")[:-1]]
        seps = tuple(i for i, text in enumerate(body) if text.strip() == "=======")
        several = b.kind in ("REPLACE", "INSERT AFTER", "INSERT BEFORE") and len(seps) > 1
        expected.append(dataclasses.replace(b, line=line, separators=seps if several else ()))
        line += render_block(b).count("\n")
    assert blocks_of(parse_blocks(text)) == expected
    assert blocks_of(feed_in_chunks(text, size)) == expected


_vocabulary = st.sampled_from(
    [
        "<<<<<<< REPLACE a.py\n",
        "<<<<<<< CREATE `b.py`\n",
        "<<<<<<< DELETE a.py\n",
        "=======\n",
        ">>>>>>> END\n",
        "```python\n",
        "```\n",
        "some prose\n",
        "  indented <<< text\n",
        "<<<<<<< HEAD\n",
        "\n",
        "x = 1\n",
        "no newline",
    ]
)


def _outcome(run: object) -> object:
    try:
        items = run()  # type: ignore[operator]
    except BlockParseError as exc:
        return ("error", str(exc))
    return (blocks_of(items), prose_of(items))


@settings(max_examples=200, deadline=None)
@given(st.lists(_vocabulary, max_size=14), st.integers(min_value=1, max_value=11))
def test_chunking_never_changes_the_outcome(lines: list[str], size: int) -> None:
    text = "".join(lines)
    assert _outcome(lambda: feed_in_chunks(text, size)) == _outcome(lambda: parse_blocks(text))
