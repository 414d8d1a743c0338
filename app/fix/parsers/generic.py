"""The generic ``file:line[:col]: [severity:] [CODE] message`` line most linters and C compilers print (gcc,
clang, ruff, mypy, eslint's unix format, go vet), and a small runner's closing ``N passed, M failed`` line."""

from __future__ import annotations

import re

from app.fix.parsers.common import Frame, ParsedError, ProjectPaths, RunCounts, dedupe, strip_ansi

_GENERIC = re.compile(r"^(?P<file>[^\s:][^:]*?\.[\w]+):(?P<line>\d+)(?::(?P<col>\d+))?:? (?P<msg>.+)$")
_SEVERITY = re.compile(
    r"^(?:(?P<sev>error|warning|note|info|hint|fatal error)(?:\[(?P<code>[\w-]+)\])?:\s*)", re.I
)
_LEADING_CODE = re.compile(r"^(?P<code>[A-Z]+\d+)\b\s*(?:\[\*\]\s*)?")
_TRAILING_CODE = re.compile(r"\s+\[(?P<code>[\w-]+)\]\s*$")


def parse_generic(
    text: str, paths: ProjectPaths | None = None, *, include_warnings: bool = False
) -> list[ParsedError]:
    """``file:line[:col]: [severity:] [CODE] message`` (gcc, clang, ruff, mypy, eslint's unix format, go vet).
    Notes are dropped; warnings too unless asked for."""
    paths = paths or ProjectPaths()
    errors: list[ParsedError] = []
    for line in strip_ansi(text).splitlines():
        match = _GENERIC.match(line.rstrip())
        if not match:
            continue
        rel = paths.relative(match.group("file"))
        if rel is None:
            continue
        message = match.group("msg").strip()
        severity = _SEVERITY.match(message)
        code = ""
        if severity:
            level = severity.group("sev").lower()
            if level in ("note", "info", "hint") or (level == "warning" and not include_warnings):
                continue
            code = severity.group("code") or ""
            message = message[severity.end() :]
        leading = _LEADING_CODE.match(message)
        if leading:
            code = code or leading.group("code")
            message = message[leading.end() :]
        trailing = _TRAILING_CODE.search(message)
        if trailing:
            code = code or trailing.group("code")
            message = message[: trailing.start()]
        line_no = int(match.group("line"))
        errors.append(
            ParsedError(
                file=rel,
                line=line_no,
                column=int(match.group("col") or 0),
                message=message.strip(),
                kind=code or "error",
                frames=(Frame(rel, line_no, ""),),
                tool="generic",
                raw=line,
            )
        )
    return dedupe(errors)


_PLAIN = re.compile(r"^(?:\w+:\s*)?(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$")


def plain_counts(text: str) -> RunCounts | None:
    """A closing ``N passed, M failed[, K skipped]`` line (scripts and small runners)."""
    for line in reversed(text.splitlines()):
        match = _PLAIN.match(line.strip())
        if match:
            return RunCounts(int(match.group(1)), int(match.group(2)), skipped=int(match.group(3) or 0))
    return None
