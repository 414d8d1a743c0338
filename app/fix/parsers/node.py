"""Node.js stack traces: a JavaScript error line (``TypeError: ...``) and its ``at fn (file:line:col)``
frames. ``NODE_FRAME`` and ``NODE_ERROR`` are the two lines' forms, which jest's reports print too."""

from __future__ import annotations

import re

from app.fix.parsers.common import Frame, ParsedError, ProjectPaths, dedupe, strip_ansi

NODE_FRAME = re.compile(r"^\s+at (?:(?P<func>.+?) \()?(?P<file>[^()\s]+?):(?P<line>\d+):(?P<col>\d+)\)?\s*$")
NODE_ERROR = re.compile(r"^(?P<kind>[A-Z]\w*(?:Error|Exception)|Error)(?: \[\w+\])?: (?P<msg>.*)$")


def looks_like_node(text: str) -> bool:
    return bool(re.search(r"^\s+at .+:\d+:\d+\)?$", text, re.M))


def parse_node(text: str, paths: ProjectPaths | None = None) -> list[ParsedError]:
    """A JavaScript error line (``TypeError: ...``) followed by ``at fn (file:line:col)`` frames."""
    paths = paths or ProjectPaths()
    lines = strip_ansi(text).splitlines()
    errors: list[ParsedError] = []
    index = 0
    while index < len(lines):
        head = NODE_ERROR.match(lines[index].strip())
        if not head or index + 1 >= len(lines) or not NODE_FRAME.match(lines[index + 1]):
            index += 1
            continue
        start = index
        index += 1
        frames: list[Frame] = []
        column = 0
        while index < len(lines) and (at := NODE_FRAME.match(lines[index])):
            rel = paths.relative(at.group("file"))
            if rel is not None:
                if not frames:
                    column = int(at.group("col"))
                frames.append(Frame(rel, int(at.group("line")), at.group("func") or ""))
            index += 1
        frames.reverse()  # V8 prints the innermost frame first
        where = frames[-1] if frames else None
        errors.append(
            ParsedError(
                file=where.file if where else "",
                line=where.line if where else 0,
                column=column if where else 0,
                message=head.group("msg"),
                kind=head.group("kind"),
                frames=tuple(frames),
                tool="node",
                raw="\n".join(lines[start:index]),
            )
        )
    return dedupe(errors)
