"""Edit-block paths with control characters (ESC, TAB, NUL, CR, DEL, C1, bidi) are refused with the whole answer:
no file with such a name is ever created, and the error shows the path escaped."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from app.edits import EditError
from app.llm.blocks import KINDS, BlockParseError, BlockParser, parse_blocks
from app.project.guard import resolve_in_root
from tests.support.escapes import TITLE, ai_bytes, assert_no_raw_controls

CONTROLS = {
    "ESC": "\x1b",
    "TAB": "\t",
    "NUL": "\x00",
    "CR": "\r",
    "DEL": "\x7f",
    "C1": "\x9b",
    "NEL": "\x85",
    "bidi": "\u202e",
    "title": TITLE,
}


def block(kind: str, path: str) -> str:
    body = {"CREATE": "x = 1\n", "DELETE": "x = 1\n", "REMOVE": "", "READ": ""}.get(
        kind, "x = 1\n=======\ny\n"
    )
    return f"Here.\n\n<<<<<<< {kind} {path}\n{body}>>>>>>> END\n"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", list(CONTROLS))
def test_a_block_whose_path_has_a_control_character_is_refused(kind: str, name: str) -> None:
    path = f"src/ev{CONTROLS[name]}il.py"
    with pytest.raises(BlockParseError) as caught:
        parse_blocks(block(kind, path))
    message = caught.value.message
    assert f"the {kind} block" in message and "control character" in message, message
    assert "ev\\x" in message or "ev\\u" in message  # the path, shown escaped
    assert_no_raw_controls(message.encode(), "error")


def test_streamed_in_pieces_the_same_path_is_refused() -> None:
    parser = BlockParser()
    answer = block("CREATE", "a\x1b]0;t\x07.py")
    with pytest.raises(BlockParseError):
        for start in range(0, len(answer), 3):
            parser.feed(answer[start : start + 3])
        parser.finish()


def test_quotes_and_spacing_around_a_plain_path_are_still_fine() -> None:
    for opening in ("CREATE `a b.py`", "CREATE\ta.py", "CREATE a.py\t", "CREATE a.py\r"):
        (created,) = [
            item for item in parse_blocks(f"<<<<<<< {opening}\nx\n>>>>>>> END\n") if hasattr(item, "path")
        ]
        assert created.path in ("a b.py", "a.py")


@pytest.mark.parametrize("name", list(CONTROLS))
def test_the_write_gate_refuses_such_paths_too(tmp_path: Path, name: str) -> None:
    # Every write (apply, undo of an imported session, the fix loop's scratch copy) resolves its path here.
    with pytest.raises(EditError, match="control character"):
        resolve_in_root(tmp_path, f"src/ev{CONTROLS[name]}il.py", what="block 1 (CREATE ...)")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["ESC", "TAB", "NUL", "CR"])
def test_a_build_refuses_the_answer_sends_it_back_once_and_creates_nothing(
    calc: Path, model, name: str
) -> None:
    bad = block("CREATE", f"ev{CONTROLS[name]}il.py")
    server = model({"default": {"reply": bad}})
    before = sorted(os.listdir(calc))
    result = ai_bytes("--build", "add evil", "--yes", cwd=calc, env={"OPENAI_BASE_URL": server.base_url})
    assert result.returncode == 1
    err = assert_no_raw_controls(result.stderr, "stderr")
    assert len(err.splitlines()) == 1 and "control character" in err and "CREATE" in err, err
    assert_no_raw_controls(result.stdout, "transcript")
    assert sorted(os.listdir(calc)) == before  # nothing created, under any name
    chats = server.chat_requests()
    assert len(chats) == 2  # the invalid answer went back to the model once, with the error
    assert "control character" in json.dumps(chats[1]["body"]["messages"][-1])


def test_a_read_block_with_such_a_path_is_refused_not_served(calc: Path, model) -> None:
    server = model({"default": {"reply": block("READ", "calc/ops.py\x00../../etc/passwd")}})
    result = ai_bytes("--build", "read it", "--yes", cwd=calc, env={"OPENAI_BASE_URL": server.base_url})
    assert result.returncode == 1
    err = assert_no_raw_controls(result.stderr, "stderr")
    assert "control character" in err and "READ" in err and "Traceback" not in err, err


def test_a_goal_or_read_naming_such_a_path_reads_nothing_and_does_not_crash(calc: Path) -> None:
    from app.context.mentions import resolve_mentions
    from app.project.reader import ReadRefused, read_for_model

    (calc / "calc" / "ops.py").write_text("x = 1\n")
    for rel in ("calc/ops\x00.py", "calc/ops.py\x1b", "calc\t/ops.py"):
        with pytest.raises(ReadRefused, match="has a control character"):
            read_for_model(calc, rel)
    found = resolve_mentions(calc, "fix calc/ops\x00.py and calc/\x1b]0;t\x07ops.py", ["calc/ops.py"])
    assert all(not any(ch in f.path for ch in "\x00\x1b\x07") for f in found.files)
    assert sorted(os.listdir(calc / "calc")) == ["ops.py"]
