"""The edit-block format (README.md "How changes are applied and undone"), parsed from the model's stream.

A block opens with ``<<<<<<< KIND PATH`` and closes with ``>>>>>>> END``; everything else is prose. The
parser is fed chunks as they arrive: a block is yielded the moment its END line is complete, and prose as soon
as it is certain that it cannot be the start of a block (so the chat pane fills in while the model types).
Fence lines (```) that wrap blocks are dropped so the chat pane does not show empty code fences.
"""

from __future__ import annotations

import re

from app.errors import AgentError
from app.text.editblocks import SEPARATOR, EditBlock, Prose, join_lines
from app.text.terminal import has_control, safe_text

KINDS = ("REPLACE", "INSERT AFTER", "INSERT BEFORE", "DELETE", "CREATE", "REMOVE", "READ")
# Kinds whose body is "anchor ======= content"; DELETE's body is the anchor, CREATE's the content.
SPLIT_KINDS = frozenset({"REPLACE", "INSERT AFTER", "INSERT BEFORE"})
EMPTY_KINDS = frozenset({"REMOVE", "READ"})

OPEN_MARK = "<<<<<<<"
END_LINE = ">>>>>>> END"

_OPEN_RE = re.compile(
    r"^\s*<{7}\s*(?P<kind>REPLACE|INSERT\s+AFTER|INSERT\s+BEFORE|DELETE|CREATE|REMOVE|READ)\b\s*(?P<path>.*?)\s*$",
    re.IGNORECASE,
)
_SEPARATOR_RE = re.compile(r"^\s*={7}\s*$")
_END_RE = re.compile(r"^\s*>{7}\s*END\s*$", re.IGNORECASE)
_FENCE_RE = re.compile(r"^\s*(```|~~~)[\w+.-]*\s*$")
_QUOTES = "`'\""


class BlockParseError(AgentError):
    """The model's answer has a block that is not closed or not well formed (exit 1)."""


def _clean_path(raw: str) -> str:
    path = raw.strip()
    while len(path) >= 2 and path[0] in _QUOTES and path[-1] == path[0]:
        path = path[1:-1].strip()
    return path.strip(_QUOTES).strip()


def _could_become_marker(partial: str) -> bool:
    """Whether an unfinished line might still turn out to be a block opening or a fence."""
    text = partial.lstrip()
    if not text:
        return True
    return any(mark.startswith(text[: len(mark)]) for mark in (OPEN_MARK, "```", "~~~"))


class BlockParser:
    """Feed the model's text chunk by chunk; get prose and complete blocks back as they become certain."""

    def __init__(self) -> None:
        self._partial = ""  # the current line, not yet ended by a newline
        self._partial_emitted = False  # the start of the current line already went out as prose
        self._line_no = 0  # lines completed so far
        self._pending_fence: str | None = None  # a fence line that may wrap the next block
        self._in_dropped_fence = False  # we dropped an opening fence; its closing fence goes too
        self._block: tuple[str, str, int] | None = None  # kind, path, line of an open block
        self._body: list[str] = []
        self._pending_cr = False
        self._opened = 0  # blocks opened so far: the error of a bad one names it by number

    # -- public API --------------------------------------------------------------------------------------

    def feed(self, chunk: str) -> list[Prose | EditBlock]:
        out: list[Prose | EditBlock] = []
        if self._pending_cr:
            chunk = "\r" + chunk
            self._pending_cr = False
        if chunk.endswith("\r"):
            # Maybe the first half of a CRLF split across chunks.
            chunk = chunk[:-1]
            self._pending_cr = True
        chunk = chunk.replace("\r\n", "\n")
        pieces = chunk.split("\n")
        for piece in pieces[:-1]:
            self._complete_line(self._partial + piece, out)
            self._partial = ""
        self._partial += pieces[-1]
        self._emit_partial_prose(out)
        return _merge_prose(out)

    def finish(self) -> list[Prose | EditBlock]:
        out: list[Prose | EditBlock] = []
        if self._pending_cr:
            self._partial += "\r"
            self._pending_cr = False
        if self._partial or self._partial_emitted:
            line, self._partial = self._partial, ""
            self._complete_line(line, out, final=True)
        if self._block is not None:
            kind, path, line_no = self._block
            raise BlockParseError(
                f"the {kind} block for {path} opened at line {line_no} has no closing `{END_LINE}` line"
            )
        if self._pending_fence is not None:
            out.append(Prose(self._pending_fence))
            self._pending_fence = None
        return _merge_prose(out)

    # -- line handling -----------------------------------------------------------------------------------

    def _complete_line(self, line: str, out: list[Prose | EditBlock], final: bool = False) -> None:
        self._line_no += 1
        ending = "" if final else "\n"
        if self._partial_emitted:
            # Its start was already shown as prose, so it cannot be a marker: the rest is prose too.
            self._partial_emitted = False
            out.append(Prose(line + ending))
            return
        if self._block is not None:
            self._block_line(line, out)
            return
        opening = _OPEN_RE.match(line)
        if opening:
            self._open_block(opening, out)
            return
        if _FENCE_RE.match(line):
            if self._in_dropped_fence and self._pending_fence is None:
                self._in_dropped_fence = False  # the fence that wrapped the blocks closes: drop it
                return
            self._flush_pending_fence(out)
            self._pending_fence = line + ending
            return
        self._flush_pending_fence(out)
        if line.lstrip().startswith(OPEN_MARK) and _looks_like_bad_opening(line):
            raise BlockParseError(
                f"line {self._line_no}: {line.strip()!r} is not a valid block opening; "
                f"use `<<<<<<< KIND PATH` with KIND one of {', '.join(KINDS)}"
            )
        out.append(Prose(line + ending))

    def _flush_pending_fence(self, out: list[Prose | EditBlock]) -> None:
        if self._pending_fence is not None:
            out.append(Prose(self._pending_fence))
            self._pending_fence = None

    def _open_block(self, opening: re.Match[str], out: list[Prose | EditBlock]) -> None:
        kind = " ".join(opening.group("kind").upper().split())
        raw_path = opening.group("path")
        path = _clean_path(raw_path)
        self._opened += 1
        if not path:
            raise BlockParseError(f"line {self._line_no}: the {kind} block names no file path")
        if has_control(raw_path):
            # ESC, TAB, NUL, CR, DEL, C1, a bidi override: such a name is a file nobody can see or type, or a
            # path that shows as another; the whole answer is refused (and goes back to the model once).
            raise BlockParseError(
                f"line {self._line_no}: the {kind} block (block {self._opened}) has a control character in "
                f"its path `{safe_text(path)}`; write the path with printable characters only"
            )
        if self._pending_fence is not None:
            self._pending_fence = None
            self._in_dropped_fence = True
        self._block = (kind, path, self._line_no)
        self._body = []

    def _block_line(self, line: str, out: list[Prose | EditBlock]) -> None:
        assert self._block is not None
        kind, path, line_no = self._block
        if _END_RE.match(line):
            out.append(self._close_block(kind, path, line_no))
            self._block = None
            self._body = []
            return
        if _OPEN_RE.match(line):
            raise BlockParseError(
                f"line {self._line_no}: a new block starts before the {kind} block for {path} "
                f"(line {line_no}) was closed with `{END_LINE}`"
            )
        self._body.append(line)

    def _close_block(self, kind: str, path: str, line_no: int) -> EditBlock:
        body = self._body
        if kind in SPLIT_KINDS:
            split = next((i for i, text in enumerate(body) if _SEPARATOR_RE.match(text)), None)
            if split is None:
                raise BlockParseError(
                    f"line {line_no}: the {kind} block for {path} has no `{SEPARATOR}` line between "
                    "the anchor and the new lines"
                )
            every = tuple(i for i, text in enumerate(body) if _SEPARATOR_RE.match(text))
            return EditBlock(
                kind,
                path,
                join_lines(body[:split]),
                join_lines(body[split + 1 :]),
                line_no,
                every if len(every) > 1 else (),
            )
        if kind in EMPTY_KINDS:
            if any(text.strip() for text in body):
                raise BlockParseError(
                    f"line {line_no}: the {kind} block for {path} must be empty (just `{END_LINE}`)"
                )
            return EditBlock(kind, path, "", "", line_no)
        if kind == "DELETE":
            return EditBlock(kind, path, join_lines(body), "", line_no)
        return EditBlock(kind, path, "", join_lines(body), line_no)  # CREATE

    def _emit_partial_prose(self, out: list[Prose | EditBlock]) -> None:
        """Stream the unfinished line as prose once it cannot be a marker any more."""
        if self._block is not None or not self._partial:
            return
        if not self._partial_emitted and _could_become_marker(self._partial):
            return
        self._flush_pending_fence(out)
        out.append(Prose(self._partial))
        self._partial = ""
        self._partial_emitted = True


def _looks_like_bad_opening(line: str) -> bool:
    """``<<<<<<< REPLAC foo.py`` or ``<<<<<<< UPDATE foo.py`` is a broken block; ``<<<<<<< HEAD`` or
    ``<<<<<<< Updated upstream`` (a quoted git conflict) is prose."""
    words = line.lstrip()[len(OPEN_MARK) :].split()
    if not words:
        return False
    word = words[0]
    if len(word) >= 4 and any(k.startswith(word.upper()[:4]) for k in KINDS):
        return True
    names_a_file = len(words) >= 2 and any(ch in words[-1] for ch in "./")
    return word.isalpha() and word.isupper() and names_a_file


def _merge_prose(items: list[Prose | EditBlock]) -> list[Prose | EditBlock]:
    merged: list[Prose | EditBlock] = []
    for item in items:
        if isinstance(item, Prose):
            if not item.text:
                continue
            if merged and isinstance(merged[-1], Prose):
                merged[-1] = Prose(merged[-1].text + item.text)
                continue
        merged.append(item)
    return merged


def parse_blocks(text: str) -> list[Prose | EditBlock]:
    """Parse a whole answer at once."""
    parser = BlockParser()
    return _merge_prose(parser.feed(text) + parser.finish())


def render_block(block: EditBlock) -> str:
    """The block as the model would write it: ``parse_blocks(render_block(b))`` gives ``b`` back."""
    head = f"{OPEN_MARK} {block.kind} {block.path}\n"
    if block.kind in SPLIT_KINDS:
        body = f"{block.anchor}{SEPARATOR}\n{block.content}"
    elif block.kind == "DELETE":
        body = block.anchor
    elif block.kind == "CREATE":
        body = block.content
    else:
        body = ""
    return f"{head}{body}{END_LINE}\n"


def edit_blocks(items: list[Prose | EditBlock]) -> list[EditBlock]:
    return [item for item in items if isinstance(item, EditBlock)]


__all__ = [
    "KINDS",
    "BlockParseError",
    "BlockParser",
    "EditBlock",
    "Prose",
    "edit_blocks",
    "parse_blocks",
    "render_block",
]
