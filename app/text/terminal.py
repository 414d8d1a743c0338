"""Text from outside (the model, a repository, a goal, a stored session) made safe to show on a terminal.

A terminal acts on some characters instead of showing them: ESC starts CSI and OSC sequences (colours, cursor
moves, the window title with OSC 0, the clipboard with OSC 52), BEL ends an OSC, CR returns to the start of
the line so later text hides earlier text, and the C1 controls U+0080-U+009F include one-character CSI
(U+009B) and OSC (U+009D). The bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) make
text show in another order than it reads ("Trojan Source"). A lone surrogate is a byte that did not decode
(``surrogateescape``): written out it becomes that raw byte again, or an encoding error.

One rule for every face (the headless transcript, ``--list-sessions``, ``--continue``, error lines, the
workspace): each such character is shown as a visible escape, never written raw: ``\\x1b`` for a code point
below U+0100 (and for an undecodable byte), ``\\u202e`` above. A newline stays a newline, and a TAB a TAB, in
multi-line text (prose, code, diffs); a CRLF line ending there is a plain newline. In one-line text (a name,
a path, a goal summary, an error line) they are escaped too, so the line stays one line.

JSON keeps JSON's own escapes (``\\u001b``): :func:`json_text`. This module is the standard library only, so
the ``--list-sessions`` fast path can use it.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
from collections.abc import Iterator
from typing import Any, TextIO, cast

# C0 but TAB and LF, DEL, C1, the bidi controls, lone surrogates.
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE_MULTILINE = re.compile(f"[{_CONTROLS}]")
_UNSAFE_LINE = re.compile(f"[\t\n{_CONTROLS}]")
# What JSON serializers leave raw (they must escape C0 themselves): DEL, C1, bidi controls, surrogates.
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte (surrogateescape): shown as the byte it was
        code -= 0xDC00
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(text: str, *, multiline: bool = False) -> str:
    """``text`` with every character a terminal would act on shown as ``\\xNN`` / ``\\uNNNN``.

    ``multiline`` keeps newlines and TABs and turns CRLF into a newline; a CR at the very end is dropped
    too, as the first half of a CRLF that a stream split (the next piece starts with the newline)."""
    if multiline:
        if "\r" in text:
            text = text.replace("\r\n", "\n")
            if text.endswith("\r"):
                text = text[:-1]
        pattern = _UNSAFE_MULTILINE
    else:
        pattern = _UNSAFE_LINE
    if pattern.search(text) is None:
        return text
    return pattern.sub(_visible, text)


def has_control(text: str) -> bool:
    """Whether ``text`` holds a character :func:`safe_text` would escape on one line (TAB and newline
    included): a path with one cannot be shown as it is, nor safely made into a file name."""
    return _UNSAFE_LINE.search(text) is not None


def json_text(value: Any, *, indent: int | None = None) -> str:
    """``value`` as JSON (non-ASCII text kept readable) with no character left raw that a terminal acts on:
    ``json.dumps`` escapes C0 itself; DEL, C1, the bidi controls and lone surrogates get ``\\uNNNN`` here.
    Outside strings JSON has only ASCII, so escaping in the whole text is escaping inside strings."""
    return json_safe(json.dumps(value, ensure_ascii=False, indent=indent))


def json_safe(encoded: str) -> str:
    """JSON text made by any serializer (orjson too) with the escapes of :func:`json_text`."""
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", encoded)


class SafeStream(io.TextIOBase):
    """A text stream that writes :func:`safe_text` (multi-line) of everything to the stream it wraps.

    The command line's stdout and stderr are these (:func:`guarded_std_streams`): every printer of stored,
    model or repository text is covered, the ones a later change adds included. A printer that must write a
    control of its own (a progress line's CR) writes to :func:`unguarded` of the stream, with text it made."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(safe_text(text, multiline=True))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.stream.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self.stream.errors


def unguarded(stream: TextIO) -> TextIO:
    """The stream under a :class:`SafeStream`, for text the program made itself (never outside text)."""
    return stream.stream if isinstance(stream, SafeStream) else stream


@contextlib.contextmanager
def guarded_std_streams() -> Iterator[None]:
    """``sys.stdout`` and ``sys.stderr`` as :class:`SafeStream` for the block; put back afterwards."""
    saved = sys.stdout, sys.stderr
    sys.stdout = cast(TextIO, SafeStream(unguarded(sys.stdout)))
    sys.stderr = cast(TextIO, SafeStream(unguarded(sys.stderr)))
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


@contextlib.contextmanager
def unguarded_std_streams() -> Iterator[None]:
    """The real streams for the block: the workspace draws the terminal itself (Textual), and its own
    output and crash report carry the escape sequences it means."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = unguarded(sys.stdout), unguarded(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


__all__ = [
    "SafeStream",
    "guarded_std_streams",
    "has_control",
    "json_safe",
    "json_text",
    "safe_text",
    "unguarded",
    "unguarded_std_streams",
]
