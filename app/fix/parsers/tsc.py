"""TypeScript's compiler errors (tsc), plain (``file(line,col): error TS2322: ...``) and pretty
(``file:line:col - error TS2322: ...``) output, a long message's continuation lines included."""

from __future__ import annotations

import re

from app.fix.parsers.common import Frame, ParsedError, ProjectPaths, dedupe, strip_ansi

_TSC_PLAIN = re.compile(
    r"^(?P<file>[^\s(][^(]*)\((?P<line>\d+),(?P<col>\d+)\): error (?P<code>TS\d+): (?P<msg>.*)$"
)
_TSC_PRETTY = re.compile(
    r"^(?P<file>[^\s:][^:]*):(?P<line>\d+):(?P<col>\d+) - error (?P<code>TS\d+): (?P<msg>.*)$"
)


def looks_like_tsc(text: str) -> bool:
    return bool(re.search(r"error TS\d+:", strip_ansi(text)))


def parse_tsc(text: str, paths: ProjectPaths | None = None) -> list[ParsedError]:
    paths = paths or ProjectPaths()
    lines = strip_ansi(text).splitlines()
    errors: list[ParsedError] = []
    for index, line in enumerate(lines):
        match = _TSC_PLAIN.match(line) or _TSC_PRETTY.match(line)
        if not match:
            continue
        message = match.group("msg").strip()
        raw = [line]
        # Plain output continues a long message on indented lines ("  Type 'x' is missing ...").
        for follow in lines[index + 1 : index + 8]:
            if (
                follow.startswith("  ")
                and not follow.strip().startswith("~")
                and _TSC_PLAIN.match(follow) is None
            ):
                if re.match(r"^\s*\d+ ", follow):
                    break  # pretty output's source excerpt
                message += "\n" + follow.strip()
                raw.append(follow)
            else:
                break
        rel = paths.relative(match.group("file"))
        line_no, column = int(match.group("line")), int(match.group("col"))
        errors.append(
            ParsedError(
                file=rel or match.group("file"),
                line=line_no,
                column=column,
                message=message,
                kind=match.group("code"),
                frames=(Frame(rel, line_no, ""),) if rel else (),
                tool="tsc",
                raw="\n".join(raw),
            )
        )
    return dedupe(errors)
