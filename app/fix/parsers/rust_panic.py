"""Rust panics: ``thread 'main' panicked at src/main.rs:3:5:`` (Rust 1.73+) or the older one-line form,
with the in-project frames of a backtrace when one was printed."""

from __future__ import annotations

import re

from app.fix.parsers.common import Frame, ParsedError, ProjectPaths, dedupe, strip_ansi

_RUST_PANIC_NEW = re.compile(
    r"^thread '(?P<thread>[^']*)'(?: \(\d+\))? panicked at (?P<file>[^:\s]+):(?P<line>\d+):(?P<col>\d+):\s*$"
)
_RUST_PANIC_OLD = re.compile(
    r"^thread '(?P<thread>[^']*)'(?: \(\d+\))? panicked at '(?P<msg>.*)', (?P<file>[^:\s]+):(?P<line>\d+):(?P<col>\d+)"
)
_RUST_BT_FUNC = re.compile(r"^\s*\d+: (?P<func>.+?)\s*$")
_RUST_BT_AT = re.compile(r"^\s*at (?P<file>.+?):(?P<line>\d+):(?P<col>\d+)\s*$")


def looks_like_rust_panic(text: str) -> bool:
    return " panicked at " in text


def parse_rust_panics(
    text: str, paths: ProjectPaths | None = None, tool: str = "rust-panic"
) -> list[ParsedError]:
    """``thread 'main' panicked at src/main.rs:3:5:`` + message (Rust 1.73+) or the older one-line form, with
    the in-project frames of a backtrace when one was printed."""
    paths = paths or ProjectPaths()
    lines = strip_ansi(text).splitlines()
    errors: list[ParsedError] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        new, old = _RUST_PANIC_NEW.match(line), _RUST_PANIC_OLD.match(line)
        if not (new or old):
            index += 1
            continue
        match = new or old
        assert match is not None
        start = index
        index += 1
        message_lines: list[str] = [old.group("msg")] if old else []
        if new:
            while (
                index < len(lines)
                and lines[index].strip()
                and not lines[index].startswith(("stack backtrace:", "note: "))
            ):
                message_lines.append(lines[index].rstrip())
                index += 1
        frames: list[Frame] = []
        if index < len(lines) and lines[index].startswith("stack backtrace:"):
            index += 1
            function = ""
            while index < len(lines) and (lines[index].startswith(" ") or not lines[index].strip()):
                func = _RUST_BT_FUNC.match(lines[index])
                at = _RUST_BT_AT.match(lines[index])
                if at:
                    rel = paths.relative(at.group("file"))
                    if rel is not None:
                        frames.append(Frame(rel, int(at.group("line")), function))
                elif func:
                    function = func.group("func")
                index += 1
        frames.reverse()  # Rust prints the innermost frame first
        rel = paths.relative(match.group("file"))
        line_no, column = int(match.group("line")), int(match.group("col"))
        if not frames and rel:
            frames = [Frame(rel, line_no, "")]
        thread = match.group("thread")
        errors.append(
            ParsedError(
                file=rel or match.group("file"),
                line=line_no,
                column=column,
                message="\n".join(message_lines).strip(),
                kind="panic",
                frames=tuple(frames),
                tool=tool,
                raw="\n".join(lines[start:index]).strip("\n"),
                test_id=thread if thread not in ("main", "<unnamed>") else "",
            )
        )
    return dedupe(errors)
