"""The one rule for showing outside text on a terminal (app/text/terminal.py)."""

from __future__ import annotations

import io
import json

import pytest

from app.text.terminal import SafeStream, has_control, json_safe, json_text, safe_text

OSC52 = "\x1b]52;c;aGVsbG8=\x07"  # put "hello" on the clipboard
TITLE = "\x1b]0;owned\x07"  # set the window title
CSI = "\x1b[2J\x1b[31m"  # clear the screen, red
C1 = "\x9b2J\x9d0;owned\x9c"  # the same as one-character CSI / OSC / ST
BIDI = "\u202eevil\u202c\u2066x\u2069"


@pytest.mark.parametrize("payload", [OSC52, TITLE, CSI, C1, BIDI, "\x00\x7f\x08\x0c\x0b", "\udc9b"])
@pytest.mark.parametrize("multiline", [False, True])
def test_nothing_a_terminal_acts_on_survives(payload: str, multiline: bool) -> None:
    shown = safe_text(f"before{payload}after", multiline=multiline)
    assert shown.startswith("before") and shown.endswith("after")
    assert shown.isascii() and shown.isprintable(), shown
    assert not has_control(shown)


def test_escapes_are_visible_and_name_the_character() -> None:
    assert safe_text(OSC52) == "\\x1b]52;c;aGVsbG8=\\x07"
    assert (
        safe_text("\x9b\u202e\udc9b\ud800") == "\\x9b\\u202e\\x9b\\ud800"
    )  # an undecodable byte as the byte
    # Already safe text comes back unchanged, so showing it twice is showing it once.
    assert safe_text(safe_text(TITLE)) == safe_text(TITLE)


def test_multiline_text_keeps_its_lines_and_tabs_but_not_a_bare_carriage_return() -> None:
    assert safe_text("a\n\tb\r\nc", multiline=True) == "a\n\tb\nc"
    # A CR that would make later text hide earlier text on the same line is shown.
    assert safe_text("rm -rf ~\rls -l   ", multiline=True) == "rm -rf ~\\x0dls -l   "
    # The first half of a CRLF split between two streamed pieces is a line ending, not an overwrite.
    assert safe_text("line\r", multiline=True) + safe_text("\nnext", multiline=True) == "line\nnext"


def test_one_line_text_stays_one_line() -> None:
    assert safe_text("goal\nsecond\tline\r") == "goal\\x0asecond\\x09line\\x0d"
    assert safe_text("naïve café ✓ 数") == "naïve café ✓ 数"  # printable text is left alone


def test_a_path_with_any_control_or_line_break_has_one() -> None:
    for bad in (
        "a\tb.py",
        "a\nb.py",
        "a\rb.py",
        "a\x00b",
        "a\x1bb",
        "a\x7fb",
        "a\x85b",
        "a\u202eb",
        "\udc9b",
    ):
        assert has_control(bad), repr(bad)
    assert not has_control("src/naïve café.py")


def test_json_stays_json_with_every_control_escaped() -> None:
    value = {"content": f"{OSC52}{TITLE}{C1}{BIDI}\x7f\udc9b é", "n": [1, None]}
    for text in (json_text(value), json_text(value, indent=2)):
        assert not any(ch in text for ch in "\x1b\x07\x9b\x9d\x9c\x7f\u202e\u2066")
        assert json.loads(text) == value
        assert "é" in text  # non-ASCII text stays readable
    assert json_safe('{"a": "\x9b"}') == '{"a": "\\u009b"}'


def test_a_safe_stream_writes_only_safe_text_and_reports_what_it_took() -> None:
    out = io.StringIO()
    stream = SafeStream(out)
    assert stream.write(f"x{TITLE}\r\ny") == len(f"x{TITLE}\r\ny")
    assert out.getvalue() == "x\\x1b]0;owned\\x07\ny"
