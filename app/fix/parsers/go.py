"""``go test`` (with or without ``-v``): failing tests with their ``file.go:line: message`` lines, panics with
their goroutine's in-project frames, build errors (``./x.go:5:9: undefined: w``), and the run's counts."""

from __future__ import annotations

import re
from pathlib import Path

from app.fix.parsers.common import Frame, ParsedError, ProjectPaths, RunCounts, dedupe, strip_ansi

_GO_RUN = re.compile(r"^=== RUN\s+(?P<name>\S+)")
_GO_FAIL = re.compile(r"^\s*--- FAIL: (?P<name>\S+)")
_GO_OUTCOME = re.compile(r"^\s*--- (PASS|SKIP|FAIL): ")
_GO_LOG = re.compile(r"^\s+(?P<file>[\w./-]+\.go):(?P<line>\d+): (?P<msg>.*)$")
_GO_PACKAGE = re.compile(r"^(?:ok|FAIL)\s+(?P<pkg>\S+)(?:\s|$)")
_GO_PANIC = re.compile(r"^panic: (?P<msg>.*?)(?: \[recovered\])?$")
_GO_FRAME_FUNC = re.compile(r"^(?P<func>[\w./*()\-]+[\w)\]]\(.*\))\s*$")
_GO_FRAME_AT = re.compile(r"^\t(?P<file>\S+\.go):(?P<line>\d+)(?: \+0x[0-9a-f]+)?$")
_GO_BUILD = re.compile(r"^(?P<file>\.?/?[\w./-]+\.go):(?P<line>\d+):(?P<col>\d+): (?P<msg>.*)$")


def looks_like_go(text: str) -> bool:
    return bool(re.search(r"^(--- FAIL: |FAIL\s+\S+|ok\s+\S+\s+[\d.]+s|panic: |# \S+)", text, re.M)) and (
        ".go:" in text or "--- FAIL" in text
    )


def parse_go(text: str, paths: ProjectPaths | None = None) -> list[ParsedError]:
    """``go test`` (with or without ``-v``): one error per failing test with its ``file.go:line: message``
    lines, a panic with its goroutine's in-project frames, and build errors (``./x.go:5:9: undefined: w``)."""
    paths = paths or ProjectPaths()
    lines = strip_ansi(text).splitlines()
    package_dirs = _go_package_dirs(lines, paths)
    errors: list[ParsedError] = []
    logs: dict[str, list[tuple[int, str]]] = {}  # test -> (line index, log line) printed while it ran
    current: str | None = None
    failed: list[tuple[str, int]] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        run = _GO_RUN.match(line)
        fail = _GO_FAIL.match(line)
        if run:
            current = run.group("name")
        elif fail:
            current = fail.group("name")
            failed.append((current, index))
        elif _GO_OUTCOME.match(line) or _GO_PACKAGE.match(line):
            current = None
        elif _GO_LOG.match(line) and current is not None:
            logs.setdefault(current, []).append((index, line))
        panic = _GO_PANIC.match(line)
        if panic:
            error, index = _go_panic(lines, index, paths, package_dirs, failed[-1][0] if failed else "")
            errors.append(error)
            continue
        index += 1
    panicked = {e.test_id for e in errors}
    for name, _where in failed:
        if name in panicked:
            continue
        found = logs.get(name, [])
        first = _GO_LOG.match(found[0][1]) if found else None
        rel = _go_file(first.group("file"), paths, package_dirs) if first else None
        line_no = int(first.group("line")) if first else 0
        messages = [m.group("msg") for _, text in found if (m := _GO_LOG.match(text))]
        errors.append(
            ParsedError(
                file=rel or "",
                line=line_no,
                column=0,
                message="\n".join(messages) or "test failed",
                kind="test_failure",
                frames=(Frame(rel, line_no, name),) if rel else (),
                tool="go-test",
                raw="\n".join(text for _, text in found) or f"--- FAIL: {name}",
                test_id=name,
            )
        )
    for line in lines:
        build = _GO_BUILD.match(line)
        if build:
            rel = _go_file(build.group("file"), paths, package_dirs)
            line_no = int(build.group("line"))
            errors.append(
                ParsedError(
                    file=rel or build.group("file"),
                    line=line_no,
                    column=int(build.group("col")),
                    message=build.group("msg"),
                    kind="build",
                    frames=(Frame(rel, line_no, ""),) if rel else (),
                    tool="go-build",
                    raw=line,
                )
            )
    return dedupe(errors)


def _go_panic(
    lines: list[str], index: int, paths: ProjectPaths, package_dirs: list[str], test: str
) -> tuple[ParsedError, int]:
    start = index
    match = _GO_PANIC.match(lines[index])
    assert match is not None
    message = match.group("msg")
    index += 1
    frames: list[Frame] = []
    function = ""
    while index < len(lines) and not _GO_PACKAGE.match(lines[index]) and lines[index] != "FAIL":
        line = lines[index]
        func = _GO_FRAME_FUNC.match(line)
        at = _GO_FRAME_AT.match(line)
        if func:
            function = func.group("func").split("(")[0]
        elif at:
            rel = _go_file(at.group("file"), paths, package_dirs)
            if rel is not None:
                frames.append(Frame(rel, int(at.group("line")), function))
        index += 1
    frames.reverse()  # goroutine traces list the innermost call first
    where = frames[-1] if frames else None
    error = ParsedError(
        file=where.file if where else "",
        line=where.line if where else 0,
        column=0,
        message=message,
        kind="panic",
        frames=tuple(frames),
        tool="go-test",
        raw="\n".join(lines[start:index]),
        test_id=test,
    )
    return error, index


def _go_package_dirs(lines: list[str], paths: ProjectPaths) -> list[str]:
    """Folders (relative to the root) of the packages named in the output, from go.mod's module path, so a bare
    ``calc_test.go:13`` maps to its package folder."""
    module = _go_module(paths.root)
    dirs: list[str] = []
    for line in lines:
        match = _GO_PACKAGE.match(line) or re.match(r"^# (?P<pkg>\S+)", line)
        if not match:
            continue
        package = match.group("pkg")
        if module and (package == module or package.startswith(module + "/")):
            folder = package[len(module) :].strip("/")
            if folder not in dirs:
                dirs.append(folder)
    return dirs


def _go_module(root: Path | None) -> str:
    if root is None:
        return ""
    try:
        text = (root / "go.mod").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    match = re.search(r"^module\s+(\S+)", text, re.M)
    return match.group(1) if match else ""


def _go_file(printed: str, paths: ProjectPaths, package_dirs: list[str]) -> str | None:
    rel = paths.relative(printed)
    if rel is None or printed.startswith("/") or "/" in rel or paths.root is None:
        return rel
    for folder in package_dirs:
        candidate = f"{folder}/{rel}" if folder else rel
        if (paths.root / candidate).is_file():
            return candidate
    return rel


# -- counts -------------------------------------------------------------------------------------------------------

_GO_PASS = re.compile(r"^\s*--- PASS: ")
# A package's closing line: "ok  pkg  0.01s", "FAIL pkg 0.01s", "FAIL pkg [build failed]", "ok pkg (cached)";
# jest's "FAIL test/x.test.js" has none of these endings.
_GO_PACKAGE_LINE = re.compile(r"^(ok|FAIL)\s+\S+\s+(?:[\d.]+s|\(cached\)|\[[^\]]+\])")


def go_test_counts(text: str) -> RunCounts | None:
    """``--- PASS``/``--- FAIL`` lines, when a package's ``ok``/``FAIL`` line says go test ran."""
    lines = text.splitlines()
    if not any(_GO_PACKAGE_LINE.match(line) for line in lines):
        return None
    return RunCounts(
        passed=sum(1 for line in lines if _GO_PASS.match(line)),
        failed=sum(1 for line in lines if _GO_FAIL.match(line)),
    )
