"""What the model is sent for a fix: the failure, the files of its frames in full, this session's recent changes,
and what the earlier attempts did and how they failed.

Budget (``Config.context_tokens``): the failure and the earlier attempts always go; files are added innermost
frame first (the file where the error shows itself, then its callers, then the failing test's file) while they
fit; recent changes fill what is left. A file that does not fit is named so the model can ask for it with READ.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.fix.parsers import ParsedError
from app.project.reader import ReadRefused, read_for_model
from app.project.secrets import is_secret

MAX_RAW_CHARS = 4_000  # of one error's printed text
MAX_ERRORS = 8  # shown in detail; the rest by one line each
MAX_CHANGE_CHARS = 6_000  # of this session's recent diffs
MAX_ATTEMPT_OUTPUT = 2_500  # of an earlier attempt's test output


@dataclass
class AttemptRecord:
    """What one attempt did, for the next attempt's prompt, the summary and the session."""

    number: int
    outcome: str = "started"
    reason: str = ""
    diff: str = ""
    files: list[str] = field(default_factory=list)
    output_tail: str = ""
    fixed: int = 0  # target failures it made pass
    new_failures: int = 0
    proposal: Any = field(default=None, repr=False)
    model_seconds: float = 0.0

    def line(self) -> str:
        files = f" ({', '.join(self.files)})" if self.files else ""
        return f"attempt {self.number}: {self.outcome.replace('_', ' ')}{files}" + (
            f": {self.reason}" if self.reason else ""
        )


def command_source(origin: str) -> str:
    """Where the test command comes from, said truthfully: ``origin`` is testrun's ``command_origin``."""
    if origin == "detected":
        return "detected by ai from the project's files, not configured by the user"
    if origin == "as the test watcher ran it":
        return "the command the test watcher ran"
    if origin:
        return f"configured by the user: {origin}"
    return "configured by the user"


def failure_section(errors: list[ParsedError], command: str, origin: str = "") -> str:
    parts = ["# The failure to fix\n"]
    if command:
        parts.append(f"Test command ({command_source(origin)}): `{command}`\n")
    for error in errors[:MAX_ERRORS]:
        parts.append(f"## {error.summary()}")
        if error.frames:
            stack = " -> ".join(
                f"{f.file}:{f.line}" + (f" ({f.function})" if f.function else "") for f in error.frames
            )
            parts.append(f"Stack inside the project (outermost first): {stack}")
        raw = error.raw.strip()
        if raw:
            if len(raw) > MAX_RAW_CHARS:
                raw = raw[:1_000] + "\n...\n" + raw[-(MAX_RAW_CHARS - 1_000) :]
            parts.append(f"```\n{raw}\n```")
        parts.append("")
    if len(errors) > MAX_ERRORS:
        parts.append("Also failing:\n" + "\n".join(f"- {e.summary()}" for e in errors[MAX_ERRORS:]) + "\n")
    return "\n".join(parts)


def frame_files(errors: list[ParsedError]) -> list[str]:
    """The files to read in full: innermost frame first, for each error in turn, each file once."""
    files: list[str] = []
    for error in errors:
        for name in error.files():
            if name not in files:
                files.append(name)
        if error.test_id and "::" in error.test_id:
            test_file = error.test_id.split("::", 1)[0]  # pytest's node id starts with the test's file
            if "." in test_file.rsplit("/", 1)[-1] and test_file not in files:
                files.append(test_file)
    return files


_TEST_NAME = re.compile(
    r"(^|/)(test_[^/]*\.py|[^/]*_test\.(py|go)|[^/]*\.(test|spec)\.[jt]sx?|conftest\.py)$"
)
_PY_IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w.]+))", re.M)
_JS_IMPORT = re.compile(r"""(?:from\s+|require\(\s*|import\(\s*)['"](\.{1,2}/[^'"]+)['"]""")


def is_test_file(path: str) -> bool:
    return bool(_TEST_NAME.search(path)) or path.startswith(("tests/", "test/")) or "/tests/" in path


def companion_files(root: Path, files: list[str]) -> list[str]:
    """The code a failing test exercises when its stack stays inside the test (an assertion on a returned
    value): the project modules a Python or JS/TS test imports, the package's other files for a Go test."""
    found: list[str] = []
    for name in files:
        if not _TEST_NAME.search(name):
            continue
        try:
            # Through the guarded reader: a test file reached by a link out of the project names nothing here.
            text = read_for_model(root, name).text
        except ReadRefused:
            continue
        folder = name.rsplit("/", 1)[0] if "/" in name else ""
        if name.endswith(".py"):
            for match in _PY_IMPORT.finditer(text):
                module = (match.group(1) or match.group(2)).replace(".", "/")
                for base in ("", "src/"):
                    for candidate in (f"{base}{module}.py", f"{base}{module}/__init__.py"):
                        if (root / candidate).is_file():
                            found.append(candidate)
        elif name.endswith(".go"):
            for sibling in sorted((root / folder).glob("*.go")):
                if not sibling.name.endswith("_test.go"):
                    found.append(f"{folder}/{sibling.name}" if folder else sibling.name)
        else:
            for match in _JS_IMPORT.finditer(text):
                target = posixpath.normpath(posixpath.join(folder, match.group(1)))
                for suffix in ("", ".ts", ".tsx", ".js", ".jsx", "/index.ts", "/index.js"):
                    if (root / (target + suffix)).is_file():
                        found.append(target + suffix)
                        break
    return [f for i, f in enumerate(found) if f not in files and f not in found[:i]]


def files_section(
    root: Path,
    paths: list[str],
    budget_tokens: int,
    send_secrets: bool,
    stack: tuple[str, ...] = (),
    shown: dict[str, bytes] | None = None,
) -> tuple[str, list[str], list[str]]:
    """The files rendered in full within the budget: (text, sent paths, paths left out with why). Read through
    the guarded reader, as everything sent to the model: a frame's file behind a link out of the project, a
    secrets file or a private key stays out (no goal names files here: secrets go only with ``send_secrets``).
    ``shown`` receives the bytes of each file sent: what the model's edits will be made on."""
    from app.llm.prompts import FileContext, estimate_tokens

    rendered: list[str] = []
    sent: list[str] = []
    left_out: list[str] = []
    used = 0
    for path in paths:
        try:
            read = read_for_model(root, path, send_secrets=send_secrets)
        except ReadRefused as refused:
            left_out.append(f"{path} ({refused.reason})")
            continue
        reason = "in the failure's stack" if path in stack else "code the failing test uses"
        text = FileContext(path=path, content=read.text, reason=reason).render()
        cost = estimate_tokens(text)
        if sent and used + cost > budget_tokens:
            left_out.append(f"{path} (over the context budget: ask with READ)")
            continue
        rendered.append(text)
        sent.append(path)
        used += cost
        if shown is not None:
            shown[read.real_path] = read.raw
    if not rendered:
        return "", sent, left_out
    head = "# Files of the failure (full, current content)\n"
    return head + "\n".join(rendered), sent, left_out


def recent_changes_section(
    changes: list[dict[str, Any]], limit_chars: int = MAX_CHANGE_CHARS, send_secrets: bool = False
) -> str:
    """This session's latest applied changes (newest first), as diffs: the fix often undoes one of them. A
    diff of a secrets file (a build the user named it in may have changed it) is its lines: left out, like
    the file itself, unless ``send_secrets`` is on."""
    parts: list[str] = []
    used = 0
    for change in reversed(changes[-5:]):
        if change.get("undone"):
            continue
        diffs = change.get("diffs") or {}
        shown = [d for path, d in diffs.items() if send_secrets or not is_secret(str(path))]
        text = "".join(d if d.endswith("\n") else d + "\n" for d in shown)
        if not text:
            continue
        header = f"## {change.get('id', '?')}: {change.get('summary') or change.get('goal', '')}"
        block = f"{header}\n```diff\n{text}```\n"
        if used + len(block) > limit_chars:
            break
        parts.append(block)
        used += len(block)
    if not parts:
        return ""
    return "# This session's recent changes (newest first)\n" + "\n".join(parts)


def attempts_section(attempts: list[AttemptRecord]) -> str:
    if not attempts:
        return ""
    parts = ["# Earlier attempts (none of them was kept; the files above are as they were before them)\n"]
    for attempt in attempts:
        parts.append(f"## {attempt.line()}")
        if attempt.diff:
            parts.append(f"What it changed:\n```diff\n{attempt.diff.rstrip()}\n```")
        if attempt.output_tail:
            tail = attempt.output_tail[-MAX_ATTEMPT_OUTPUT:]
            parts.append(f"How it failed (test output, end):\n```\n{tail.rstrip()}\n```")
        parts.append("")
    parts.append("Do not repeat an approach that failed; find the cause.\n")
    return "\n".join(parts)


INSTRUCTIONS = """\
# Your answer
The tests above fail. Find the cause and fix it with the smallest correct change, in edit blocks against the
files as given. Fix the code under test; change a test only when the test itself is wrong, and say why. If you
need another file, ask for it with a READ block first. Your fix will be applied to a scratch copy and the failing
tests, then the whole suite, will be run: it is kept only if the failure is gone and nothing else breaks.
"""


def fix_message(
    root: Path,
    errors: list[ParsedError],
    command: str,
    changes: list[dict[str, Any]],
    attempts: list[AttemptRecord],
    budget_tokens: int,
    send_secrets: bool = False,
    shown: dict[str, bytes] | None = None,
    origin: str = "",
) -> tuple[str, list[str], list[str]]:
    """The user message for one attempt: (text, files sent in full, files left out); ``shown`` receives the
    bytes of the files sent; ``origin`` says where the test command comes from (testrun's ``command_origin``)."""
    from app.llm.prompts import estimate_tokens

    failure = failure_section(errors, command, origin)
    earlier = attempts_section(attempts)
    recent = recent_changes_section(changes, send_secrets=send_secrets)
    fixed_cost = estimate_tokens(failure + earlier + INSTRUCTIONS)
    stack_files = frame_files(errors)
    files_text, sent, left_out = files_section(
        root,
        stack_files + companion_files(root, stack_files),
        max(1_000, budget_tokens - fixed_cost - estimate_tokens(recent)),
        send_secrets,
        tuple(stack_files),
        shown,
    )
    parts = [failure, files_text]
    if left_out:
        parts.append("Not included: " + "; ".join(left_out) + "\n")
    parts += [recent, earlier, INSTRUCTIONS]
    return "\n".join(p for p in parts if p), sent, left_out
