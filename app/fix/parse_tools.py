"""Compilers' and other runners' errors: TypeScript (tsc, plain and pretty), rustc/cargo errors, Rust panics and
``cargo test`` failures, ``go test`` failures, panics and build errors, Node.js stack traces, and the generic
``file:line[:col]: message`` line most linters and C compilers print."""

from __future__ import annotations

import re
from pathlib import Path

from app.fix.errors import Frame, ParsedError, ProjectPaths, RunCounts, dedupe, strip_ansi

# -- TypeScript ---------------------------------------------------------------------------------------------------

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


# -- Rust ---------------------------------------------------------------------------------------------------------

_RUST_HEADER = re.compile(r"^error(?:\[(?P<code>E\d+)\])?: (?P<msg>.+)$")
_RUST_ARROW = re.compile(r"^\s*--> (?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+)\s*$")
_RUST_LABEL = re.compile(r"^\s*\d*\s*\|[\s|\-]*\^+\s+(?P<label>\S.*)$")
_RUST_PANIC_NEW = re.compile(
    r"^thread '(?P<thread>[^']*)'(?: \(\d+\))? panicked at (?P<file>[^:\s]+):(?P<line>\d+):(?P<col>\d+):\s*$"
)
_RUST_PANIC_OLD = re.compile(
    r"^thread '(?P<thread>[^']*)'(?: \(\d+\))? panicked at '(?P<msg>.*)', (?P<file>[^:\s]+):(?P<line>\d+):(?P<col>\d+)"
)
_RUST_BT_FUNC = re.compile(r"^\s*\d+: (?P<func>.+?)\s*$")
_RUST_BT_AT = re.compile(r"^\s*at (?P<file>.+?):(?P<line>\d+):(?P<col>\d+)\s*$")
_CARGO_TEST_SECTION = re.compile(r"^---- (?P<name>\S+) stdout ----$")


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


def looks_like_cargo_test(text: str) -> bool:
    return bool(re.search(r"^test result: \w+\.", text, re.M) or _CARGO_TEST_SECTION.search(text) is not None)


def parse_cargo_test(text: str, paths: ProjectPaths | None = None) -> list[ParsedError]:
    """One error per failing test: the panic in its ``---- name stdout ----`` section."""
    clean = strip_ansi(text)
    errors: list[ParsedError] = []
    for error in parse_rust_panics(clean, paths, tool="cargo-test"):
        errors.append(error)
    # Compile errors stop a test run before any test: report them as they are.
    if not errors and looks_like_rustc(clean):
        return parse_rustc(clean, paths)
    return errors


# -- Go -----------------------------------------------------------------------------------------------------------

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


# -- Node.js ------------------------------------------------------------------------------------------------------

_NODE_AT = re.compile(r"^\s+at (?:(?P<func>.+?) \()?(?P<file>[^()\s]+?):(?P<line>\d+):(?P<col>\d+)\)?\s*$")
_NODE_ERROR = re.compile(r"^(?P<kind>[A-Z]\w*(?:Error|Exception)|Error)(?: \[\w+\])?: (?P<msg>.*)$")


def looks_like_node(text: str) -> bool:
    return bool(re.search(r"^\s+at .+:\d+:\d+\)?$", text, re.M))


def parse_node(text: str, paths: ProjectPaths | None = None) -> list[ParsedError]:
    """A JavaScript error line (``TypeError: ...``) followed by ``at fn (file:line:col)`` frames."""
    paths = paths or ProjectPaths()
    lines = strip_ansi(text).splitlines()
    errors: list[ParsedError] = []
    index = 0
    while index < len(lines):
        head = _NODE_ERROR.match(lines[index].strip())
        if not head or index + 1 >= len(lines) or not _NODE_AT.match(lines[index + 1]):
            index += 1
            continue
        start = index
        index += 1
        frames: list[Frame] = []
        column = 0
        while index < len(lines) and (at := _NODE_AT.match(lines[index])):
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


# -- jest ---------------------------------------------------------------------------------------------------------

_JEST_FILE = re.compile(r"^\s*FAIL\s+(?P<file>\S+)\s*$")
_JEST_SECTION = re.compile(r"^\s*● (?P<title>.+?)\s*$")
_JEST_END = re.compile(r"^(Test Suites:|Tests:|Snapshots:|Time:|Ran all test suites)")
_JEST_CODE = re.compile(r"^\s*(>\s*)?\d+\s*\|")


def looks_like_jest(text: str) -> bool:
    return bool(re.search(r"^Tests:\s+.*\d+ total", text, re.M)) and "●" in text


def parse_jest(text: str, paths: ProjectPaths | None = None) -> list[ParsedError]:
    """One error per ``● suite (U+203A) test`` section: its message (the thrown error or the failed expectation)
    and the in-project frames of its stack; the failing test is named ``file::`` and the section title."""
    paths = paths or ProjectPaths()
    lines = strip_ansi(text).splitlines()
    errors: list[ParsedError] = []
    current_file = ""
    index = 0
    while index < len(lines):
        line = lines[index]
        failing_file = _JEST_FILE.match(line)
        if failing_file:
            current_file = paths.relative(failing_file.group("file")) or failing_file.group("file")
        section = _JEST_SECTION.match(line)
        if not section or section.group("title").startswith("Console"):
            index += 1
            continue
        start, index = index, index + 1
        body: list[str] = []
        while (
            index < len(lines) and not _JEST_SECTION.match(lines[index]) and not _JEST_END.match(lines[index])
        ):
            if _JEST_FILE.match(lines[index]):
                break
            body.append(lines[index])
            index += 1
        errors.append(_jest_error(section.group("title"), current_file, body, paths, lines[start:index]))
    return dedupe(errors)


def _jest_error(title: str, file: str, body: list[str], paths: ProjectPaths, raw: list[str]) -> ParsedError:
    message_lines: list[str] = []
    frames: list[Frame] = []
    column = 0
    for line in body:
        at = _NODE_AT.match(line)
        if at:
            rel = paths.relative(at.group("file"))
            if rel is not None:
                if not frames:
                    column = int(at.group("col"))
                frames.append(Frame(rel, int(at.group("line")), at.group("func") or ""))
            continue
        if frames or _JEST_CODE.match(line) or line.strip().startswith("|"):
            continue
        if line.strip():
            message_lines.append(line.strip())
    frames.reverse()  # innermost first in the stack
    kind = "AssertionError"
    for candidate in message_lines[:2]:
        thrown = _NODE_ERROR.match(candidate)
        if thrown:
            kind = thrown.group("kind")
            break
    where = frames[-1] if frames else None
    return ParsedError(
        file=where.file if where else file,
        line=where.line if where else 0,
        column=column if where else 0,
        message="\n".join(message_lines[:8]),
        kind=kind,
        frames=tuple(frames),
        tool="jest",
        raw="\n".join(raw).strip("\n"),
        test_id=f"{file}::{title}" if file else title,
    )


# -- generic ------------------------------------------------------------------------------------------------------

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


# -- counts of a test run (the test watcher's figures) ------------------------------------------------------------

_CARGO_RESULT = re.compile(r"test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored")
_GO_PASS = re.compile(r"^\s*--- PASS: ")
# A package's closing line: "ok  pkg  0.01s", "FAIL pkg 0.01s", "FAIL pkg [build failed]", "ok pkg (cached)";
# jest's "FAIL test/x.test.js" has none of these endings.
_GO_PACKAGE_LINE = re.compile(r"^(ok|FAIL)\s+\S+\s+(?:[\d.]+s|\(cached\)|\[[^\]]+\])")
_JEST = re.compile(r"^Tests:\s+(.*\d+ total)")
_VITEST = re.compile(r"^\s*Tests\s+(.*)\(\d+\)")
_MOCHA_PASSING = re.compile(r"^\s*(\d+) passing")
_MOCHA_FAILING = re.compile(r"^\s*(\d+) failing")
_NODE_TAP = re.compile(r"^# (pass|fail) (\d+)")
_PLAIN = re.compile(r"^(?:\w+:\s*)?(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$")


def cargo_test_counts(text: str) -> RunCounts | None:
    """The sum of ``test result:`` lines (one per test binary)."""
    results = _CARGO_RESULT.findall(text)
    if not results:
        return None
    counts = RunCounts()
    for passed, failed, ignored in results:
        counts.passed += int(passed)
        counts.failed += int(failed)
        counts.skipped += int(ignored)
    return counts


def go_test_counts(text: str) -> RunCounts | None:
    """``--- PASS``/``--- FAIL`` lines, when a package's ``ok``/``FAIL`` line says go test ran."""
    lines = text.splitlines()
    if not any(_GO_PACKAGE_LINE.match(line) for line in lines):
        return None
    return RunCounts(
        passed=sum(1 for line in lines if _GO_PASS.match(line)),
        failed=sum(1 for line in lines if _GO_FAIL.match(line)),
    )


def js_test_counts(text: str) -> RunCounts | None:
    """jest's and vitest's ``Tests:`` line, mocha's passing/failing, node's test runner (TAP) totals."""
    counts: RunCounts | None = None
    for line in text.splitlines():
        summary = _JEST.match(line) or _VITEST.match(line)
        passing, failing, tap = _MOCHA_PASSING.match(line), _MOCHA_FAILING.match(line), _NODE_TAP.match(line)
        if not (summary or passing or failing or tap):
            continue
        counts = counts or RunCounts()
        if summary:
            for number, word in re.findall(r"(\d+) (passed|failed|skipped)", summary.group(1)):
                setattr(counts, word, int(number))
        elif passing or failing:
            if passing:
                counts.passed = int(passing.group(1))
            if failing:
                counts.failed = int(failing.group(1))
        elif tap:
            if tap.group(1) == "pass":
                counts.passed = int(tap.group(2))
            else:
                counts.failed = int(tap.group(2))
    return counts


def plain_counts(text: str) -> RunCounts | None:
    """A closing ``N passed, M failed[, K skipped]`` line (scripts and small runners)."""
    for line in reversed(text.splitlines()):
        match = _PLAIN.match(line.strip())
        if match:
            return RunCounts(int(match.group(1)), int(match.group(2)), skipped=int(match.group(3) or 0))
    return None
