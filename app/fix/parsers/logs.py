"""Log entries: a whole log split into entries (a timestamped line and its continuation: a traceback, a stack),
and each error entry read into ``ParsedError``s.

The background log tailer publishes grouped entries (``LogError.entry``); ``parse_log_entry`` reads one of those.
An entry holding a traceback, a panic or a JavaScript stack is read by that language's parser, keeping the log
line's own words; a plain ``ERROR ...`` line becomes an error of kind ``ERROR`` (or ``FATAL``, ``CRITICAL``)
located at the first in-project ``file:line`` it mentions, if any.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from app.fix.parsers.common import Frame, ParsedError, ProjectPaths, project_paths, strip_ansi
from app.fix.parsers.stacks import parse_stack_errors

_TIMESTAMP = re.compile(
    r"^\s*[\[(]?(?:\d{4}-\d\d-\d\d[T ]\d\d:\d\d|\d\d:\d\d:\d\d|[A-Z][a-z]{2} [ \d]\d \d\d:\d\d|\d{10}(?:\.\d+)?\b)"
)
_LEVEL = re.compile(
    r"\b(?P<level>FATAL|CRITICAL|ERROR|ERR|PANIC|SEVERE|EXCEPTION)\b|\b(?P<lower>panic|fatal)\b:"
)
_PREFIX = re.compile(
    r"^\s*[\[(]?[\d\-T:., +/]*(?:Z|[+-]\d\d:?\d\d)?[\])]?\s*"  # timestamp
    r"(?:[\[(]?(?:FATAL|CRITICAL|ERROR|ERR|PANIC|SEVERE|EXCEPTION|WARN(?:ING)?|INFO|DEBUG)[\])]?:?\s*)"  # level
    r"(?:[\w.\-\[\]]+:\s+)?"  # logger name
)
_MENTION = re.compile(r"(?P<file>[\w./\-]+\.\w{1,5}):(?P<line>\d+)(?::(?P<col>\d+))?")


def split_entries(text: str) -> list[str]:
    """A log's entries. When the log stamps its lines, an entry is a stamped line and everything up to the next
    stamped one; otherwise each unindented line starts one, except a traceback's own lines."""
    lines = strip_ansi(text).splitlines()
    stamped = sum(1 for line in lines[:200] if _TIMESTAMP.match(line))
    entries: list[list[str]] = []
    for line in lines:
        if stamped:
            starts = bool(_TIMESTAMP.match(line))
        else:
            starts = bool(line.strip()) and not line[0].isspace() and not _continues(line, entries)
        if starts or not entries:
            entries.append([line])
        else:
            entries[-1].append(line)
    return ["\n".join(entry).rstrip("\n") for entry in entries if any(part.strip() for part in entry)]


def _continues(line: str, entries: list[list[str]]) -> bool:
    if not entries:
        return False
    text = line.strip()
    inside_traceback = any(part.startswith("Traceback (most recent call last)") for part in entries[-1])
    return (
        text.startswith(("Traceback (most recent call last)", "goroutine ", "stack backtrace:", "note: "))
        or text
        in (
            "The above exception was the direct cause of the following exception:",
            "During handling of the above exception, another exception occurred:",
        )
        or (inside_traceback and bool(re.match(r"^[A-Za-z_][\w.]*(:|$)", text)))
    )


def is_error_entry(entry: str) -> bool:
    return bool(
        "Traceback (most recent call last)" in entry
        or " panicked at " in entry
        or re.search(r"^panic: ", entry, re.M)
        or _LEVEL.search(entry.splitlines()[0] if entry else "")
        or re.search(r"^\s+at .+:\d+:\d+\)?$", entry, re.M)
    )


def parse_log_entry(
    entry: str, root: Path | ProjectPaths | None = None, source: str = ""
) -> list[ParsedError]:
    """The errors of one log entry (an empty list for an entry that reports no error)."""
    paths = project_paths(root)
    if not is_error_entry(entry):
        return []
    header = entry.splitlines()[0] if entry else ""
    logged = _strip_prefix(header)
    found = parse_stack_errors(entry, paths)
    if found:
        results = []
        for error in found:
            note = ""
            if logged and logged not in error.message and not header.lstrip().startswith("Traceback"):
                note = f" (logged: {logged})"
            results.append(replace(error, message=error.message + note, tool="log", raw=entry))
        return results
    level = _LEVEL.search(header)
    kind = ((level.group("level") or level.group("lower") or "ERROR").upper()) if level else "ERROR"
    frames = []
    for mention in _MENTION.finditer(entry):
        rel = paths.relative(mention.group("file"))
        if rel is not None:
            frames.append(Frame(rel, int(mention.group("line")), ""))
    where = frames[0] if frames else None
    message = logged or header.strip()
    if source:
        message = f"{message} (in {source})"
    return [
        ParsedError(
            file=where.file if where else "",
            line=where.line if where else 0,
            column=0,
            message=message,
            kind=kind,
            frames=tuple(frames[:1]),
            tool="log",
            raw=entry,
        )
    ]


def parse_log_text(text: str, root: Path | ProjectPaths | None = None, source: str = "") -> list[ParsedError]:
    """Every error in a whole log."""
    paths = project_paths(root)
    errors: list[ParsedError] = []
    for entry in split_entries(text):
        errors.extend(parse_log_entry(entry, paths, source))
    return errors


def _strip_prefix(line: str) -> str:
    match = _PREFIX.match(line)
    return (line[match.end() :] if match and match.end() > 0 else line).strip()
