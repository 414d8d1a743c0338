"""rustc's (and cargo build's) compiler errors: ``error[E0308]: ...`` with its `` --> file:line:col``."""

from __future__ import annotations

import re

from app.fix.parsers.common import Frame, ParsedError, ProjectPaths, dedupe, strip_ansi

_RUST_HEADER = re.compile(r"^error(?:\[(?P<code>E\d+)\])?: (?P<msg>.+)$")
_RUST_ARROW = re.compile(r"^\s*--> (?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+)\s*$")
_RUST_LABEL = re.compile(r"^\s*\d*\s*\|[\s|\-]*\^+\s+(?P<label>\S.*)$")


def looks_like_rustc(text: str) -> bool:
    return bool(re.search(r"^error(\[E\d+\])?: .*\n\s*--> ", strip_ansi(text), re.M))


def parse_rustc(text: str, paths: ProjectPaths | None = None) -> list[ParsedError]:
    """``error[E0308]: mismatched types`` with its `` --> file:line:col`` and the first label as detail.
    Summary lines without a location (``error: could not compile``) are not errors of their own."""
    paths = paths or ProjectPaths()
    lines = strip_ansi(text).splitlines()
    errors: list[ParsedError] = []
    for index, line in enumerate(lines):
        header = _RUST_HEADER.match(line)
        if not header or index + 1 >= len(lines):
            continue
        arrow = _RUST_ARROW.match(lines[index + 1])
        if not arrow:
            continue
        end = index + 2
        label = ""
        while end < len(lines) and lines[end].strip() and not _RUST_HEADER.match(lines[end]):
            found = _RUST_LABEL.match(lines[end])
            if found and not label:
                label = found.group("label").strip()
            end += 1
        rel = paths.relative(arrow.group("file"))
        line_no, column = int(arrow.group("line")), int(arrow.group("col"))
        message = header.group("msg").strip() + (f": {label}" if label else "")
        errors.append(
            ParsedError(
                file=rel or arrow.group("file"),
                line=line_no,
                column=column,
                message=message,
                kind=header.group("code") or "error",
                frames=(Frame(rel, line_no, ""),) if rel else (),
                tool="rustc",
                raw="\n".join(lines[index:end]),
            )
        )
    return dedupe(errors)
