"""Running the project's test command (in the scratch copy) and reading what failed.

A failure's identity is its test id when the runner names tests (pytest, unittest, cargo test, go test), else
the error's fingerprint (kind, file, message without numbers): two runs are compared by these identities, so
"the failure is gone" and "nothing new fails" are set operations.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from app.fix.errors import ParsedError, ProjectPaths
from app.fix.parse import parse_errors

OUTPUT_LIMIT = 2_000_000  # bytes of output kept (the tail)
KILL_GRACE = 2.0


@dataclass
class TestOutcome:
    command: str
    exit_code: int | None
    output: str
    errors: list[ParsedError] = field(default_factory=list)
    seconds: float = 0.0
    timed_out: bool = False
    passed: int = 0
    failed: int = 0

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    def failure_ids(self) -> set[str]:
        """What failed, by identity. A failing run whose output names nothing is one anonymous failure."""
        ids = {failure_id(e) for e in self.errors}
        if not self.ok and not ids:
            ids.add("exit-status" if not self.timed_out else "timeout")
        return ids

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.output.splitlines()[-lines:])

    def describe(self) -> str:
        if self.timed_out:
            return f"timed out after {self.seconds:.0f} s"
        if self.ok:
            return f"passed ({self.passed} passed)" if self.passed else "passed"
        count = len(self.failure_ids())
        return f"{count} failing" + (f", {self.passed} passed" if self.passed else "")


def failure_id(error: ParsedError) -> str:
    return f"test:{error.test_id}" if error.test_id else f"error:{error.fingerprint()}"


def detect_command(root: Path, configured: str | None = None) -> str | None:
    """The configured test command, or the one the project most likely uses (pytest when it has tests/ or
    pytest configuration, npm test, cargo test, go test)."""
    if configured:
        return configured
    from app.background.testwatch import detect_test_command

    return detect_test_command(root)


def targeted_command(command: str, failures: list[ParsedError]) -> str | None:
    """The command narrowed to the failing tests, when the runner allows it (pytest node ids, unittest ids,
    ``cargo test`` filters, ``go test -run``); None when it cannot be narrowed."""
    ids = [e.test_id for e in failures if e.test_id]
    if not ids or len(ids) != len(failures):
        return None
    words = shlex.split(command)
    runner = " ".join(words)
    if not words:
        return None
    if "pytest" in runner and all(e.tool == "pytest" for e in failures):
        at = next(i for i, w in enumerate(words) if "pytest" in w)
        # Paths given after pytest would widen the run again: the node ids replace them.
        options = [w for w in words[at + 1 :] if not _looks_like_path(w)]
        return shlex.join([*words[: at + 1], *options, *ids])
    if "unittest" in runner and all(e.tool == "unittest" for e in failures):
        at = next(i for i, w in enumerate(words) if "unittest" in w)
        return shlex.join([*words[: at + 1], *ids])
    if words[:2] == ["cargo", "test"] and all(e.tool == "cargo-test" for e in failures):
        return shlex.join([*words, *([] if "--" in words else ["--"]), "--exact", *ids])
    if words[:2] == ["go", "test"] and all(e.tool == "go-test" for e in failures):
        names = "|".join(sorted({i.split("/")[0] for i in ids}))
        return shlex.join([*words, "-run", f"^({names})$"])
    if all(e.tool == "jest" for e in failures) and (
        "jest" in runner or words[:2] in (["npm", "test"], ["yarn", "test"])
    ):
        # Jest takes test files as filters; through npm they go after "--".
        files = sorted({i.split("::", 1)[0] for i in ids})
        through_npm = words[0] in ("npm", "yarn") and "--" not in words
        return shlex.join([*words, *(["--"] if through_npm else []), *files])
    return None


def _looks_like_path(word: str) -> bool:
    return not word.startswith("-") and ("/" in word or word.endswith(".py") or word in ("tests", "test"))


async def run_tests(
    command: str,
    cwd: Path,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 900.0,
    paths: ProjectPaths | None = None,
) -> TestOutcome:
    """Run ``command`` (a shell line from configuration, never from the model) in ``cwd``; cancelling ends its
    whole process group."""
    began = time.monotonic()
    process = await asyncio.create_subprocess_shell(
        command,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    timed_out = False
    try:
        output = await asyncio.wait_for(_read_tail(process), timeout=timeout)
        exit_code: int | None = await process.wait()
    except TimeoutError:
        await _end_group(process)
        output, exit_code, timed_out = b"", None, True
    except BaseException:
        await _end_group(process)
        raise
    text = output.decode("utf-8", errors="replace")
    errors = parse_errors(text, paths or ProjectPaths(cwd)) if exit_code != 0 else []
    passed, failed = _counts(text)
    return TestOutcome(
        command=command,
        exit_code=exit_code,
        output=text,
        errors=errors,
        seconds=round(time.monotonic() - began, 3),
        timed_out=timed_out,
        passed=passed,
        failed=failed,
    )


def _counts(text: str) -> tuple[int, int]:
    try:
        from app.fix.parsers import parse_test_output

        results = parse_test_output(text)
    except Exception:  # the counts are for display only: a runner they cannot read is no failure
        return 0, 0
    return results.passed, results.failed


async def _read_tail(process: asyncio.subprocess.Process) -> bytes:
    assert process.stdout is not None
    kept = bytearray()
    while chunk := await process.stdout.read(65536):
        kept += chunk
        if len(kept) > OUTPUT_LIMIT:
            del kept[: len(kept) - OUTPUT_LIMIT]
    return bytes(kept)


async def _end_group(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            await asyncio.wait_for(asyncio.shield(process.wait()), timeout=KILL_GRACE)
            return
        except TimeoutError:
            continue
