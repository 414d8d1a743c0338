"""Python's tracebacks: plain and chained, and the caret-only SyntaxError form (a script that did not
compile). ``exception_line`` reads an exception's ``Kind: message`` line, for pytest's ``E`` lines too."""

from __future__ import annotations

import re

from app.fix.parsers.common import Frame, ParsedError, ProjectPaths, dedupe, strip_ansi

_TB_START = "Traceback (most recent call last):"
_TB_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+))?\s*$')
_EXCEPTION = re.compile(
    r"^(?P<kind>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Iteration|[A-Z]\w*))"
    r"(?::\s?(?P<message>.*))?$"
)
_CARET = re.compile(r"^\s*[\^~]+\s*$")
_CHAIN = (
    "The above exception was the direct cause of the following exception:",
    "During handling of the above exception, another exception occurred:",
)


def exception_line(line: str) -> tuple[str, str] | None:
    """(kind, message) of a ``ZeroDivisionError: division by zero`` line (a dotted kind's last part), else None."""
    match = _EXCEPTION.match(line)
    if not match:
        return None
    kind = match.group("kind")
    return kind.rsplit(".", 1)[-1] if "." in kind and not kind[0].islower() else kind, (
        match.group("message") or ""
    )


def parse_tracebacks(text: str, paths: ProjectPaths | None = None, tool: str = "python") -> list[ParsedError]:
    """Every traceback in ``text``. A chain (``raise ... from``, an error while handling another) is one error:
    the last exception's kind and message, the frames of the whole chain, its location from the last part."""
    paths = paths or ProjectPaths()
    lines = strip_ansi(text).splitlines()
    errors: list[ParsedError] = []
    index = 0
    chain: list[
        tuple[list[Frame], str, str, int]
    ] = []  # (project frames, kind, message, start line) per part
    chain_start = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if stripped == _TB_START or stripped.endswith(_TB_START):
            start = index
            frames, kind, message, index = _read_traceback(lines, index + 1, paths)
            if not chain:
                chain_start = start
            chain.append((frames, kind, message, start))
            # A chain goes on when the next non-blank line announces it.
            follow = index
            while follow < len(lines) and not lines[follow].strip():
                follow += 1
            if follow < len(lines) and lines[follow].strip() in _CHAIN:
                index = follow + 1
                continue
            errors.append(_chain_error(chain, lines[chain_start:index], tool))
            chain = []
            continue
        syntax = _syntax_error(lines, index, paths, tool)
        if syntax is not None:
            error, index = syntax
            errors.append(error)
            continue
        index += 1
    if chain:
        errors.append(_chain_error(chain, lines[chain_start:], tool))
    return dedupe(errors)


def _read_traceback(lines: list[str], index: int, paths: ProjectPaths) -> tuple[list[Frame], str, str, int]:
    frames: list[Frame] = []
    kind, message = "", ""
    while index < len(lines):
        line = lines[index]
        frame = _TB_FRAME.match(line)
        if frame:
            rel = paths.relative(frame.group("file"))
            if rel is not None:
                frames.append(Frame(rel, int(frame.group("line")), (frame.group("func") or "").strip()))
            index += 1
            continue
        if line.startswith((" ", "\t")) or not line.strip():
            index += 1  # source lines, caret lines
            continue
        found = exception_line(line.strip())
        if found:
            kind, message = found
            index += 1
            # A message may go on over more lines (e.g. an AssertionError with a diff), until a blank line.
            more: list[str] = []
            while index < len(lines) and lines[index].strip() and not _looks_like_new_block(lines[index]):
                more.append(lines[index].rstrip())
                index += 1
            if more:
                message = "\n".join([message, *more]) if message else "\n".join(more)
        break
    return frames, kind, message, index


def _looks_like_new_block(line: str) -> bool:
    stripped = line.strip()
    return stripped == _TB_START or stripped in _CHAIN or bool(re.match(r"^\d{4}-\d\d-\d\d", stripped))


def _chain_error(chain: list[tuple[list[Frame], str, str, int]], raw: list[str], tool: str) -> ParsedError:
    frames = [frame for part in chain for frame in part[0]]
    last_frames, kind, message, _ = chain[-1]
    where = last_frames[-1] if last_frames else (frames[-1] if frames else None)
    if len(chain) > 1:
        causes = "; ".join(f"{k}: {m}".strip() for _, k, m, _ in chain[:-1] if k)
        if causes:
            message = f"{message} (after {causes})"
    return ParsedError(
        file=where.file if where else "",
        line=where.line if where else 0,
        column=0,
        message=message,
        kind=kind or "Exception",
        frames=tuple(frames),
        tool=tool,
        raw="\n".join(raw).strip("\n"),
    )


def _syntax_error(
    lines: list[str], index: int, paths: ProjectPaths, tool: str
) -> tuple[ParsedError, int] | None:
    """``  File "x.py", line 3`` + source + caret + ``SyntaxError: ...`` with no Traceback header (the script
    itself did not compile)."""
    frame = _TB_FRAME.match(lines[index])
    if not frame or frame.group("func"):
        return None
    end = index + 1
    column = 0
    source_line: str | None = None
    while end < len(lines) and end <= index + 4 and lines[end].startswith((" ", "\t")):
        if _CARET.match(lines[end]) and source_line is not None:
            caret = len(lines[end]) - len(lines[end].lstrip())
            code_start = len(source_line) - len(source_line.lstrip())
            column = caret - code_start + 1
        elif source_line is None:
            source_line = lines[end]
        end += 1
    if end >= len(lines):
        return None
    found = exception_line(lines[end].strip())
    if not found or not found[0].endswith(("SyntaxError", "IndentationError", "TabError")):
        return None
    rel = paths.relative(frame.group("file"))
    line_no = int(frame.group("line"))
    error = ParsedError(
        file=rel or "",
        line=line_no,
        column=max(column, 0),
        message=found[1],
        kind=found[0],
        frames=(Frame(rel, line_no, ""),) if rel else (),
        tool=tool,
        raw="\n".join(lines[index : end + 1]),
    )
    return error, end + 1
