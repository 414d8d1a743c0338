"""Running the project's test command and reading what failed: the one implementation the fix loop (in its
scratch copy), ``ai --suggest`` and the background test watcher (in the user's tree) all use. Detecting the
command the project most likely uses lives here too.

A failure's identity is its test id when the runner names tests (pytest, unittest, cargo test, go test), else
the error's fingerprint (kind, file, message without numbers): two runs are compared by these identities, so
"the failure is gone" and "nothing new fails" are set operations.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from app.fix.parsers import ParsedError, ProjectPaths, parse_errors, parse_test_output
from app.project.languages import RUNNERS, TestRunner

OUTPUT_LIMIT = 2_000_000  # bytes of output kept (the tail)
KILL_GRACE = 2.0
# The identity of a failing run whose output names no failure (the test watcher's runs use it too).
ANONYMOUS_FAILURE = "exit-status"
PYTEST_OPTIONS = "-q -rfE --tb=short"
PYTEST_ARGS = f"-m pytest {PYTEST_OPTIONS}"
NOT_FOUND = "the test command was not found: set test_cmd in .ai-agent.toml or pass --test-cmd"
# What `python -m X` prints when X is not installed (exit 1, nothing else).
_NO_MODULE = re.compile(r"^\S*: No module named (\S+)\s*$", re.M)


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
    missing: str | None = None  # the one line saying the test command is not there (``runner_missing``)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    def failure_ids(self) -> set[str]:
        """What failed, by identity. A failing run whose output names nothing is one anonymous failure."""
        ids = {failure_id(e) for e in self.errors}
        if not self.ok and not ids:
            ids.add(ANONYMOUS_FAILURE if not self.timed_out else "timeout")
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
    return detect_test_command(root)


def command_origin(
    command: str, root: Path, given: str | None, configured: str | None, source: str | None
) -> str:
    """Where a test command comes from, for the line that names it. ``given``: the command the caller named
    (None: ``command`` was detected); ``configured`` the configuration's test_cmd and ``source`` its
    ``Config.sources`` entry ("flag", "project", "user", ...)."""
    if not given:
        return "detected"
    if given == configured:
        return {
            "flag": "--test-cmd",
            "project": "test_cmd of .ai-agent.toml",
            "user": "test_cmd of config.toml",
        }.get(source or "", "test_cmd")
    # The test watcher's own command (a fix of its failing run): configured or detected, as it ran it.
    return "detected" if command == detect_test_command(root) else "as the test watcher ran it"


def shown_command(command: str, root: Path) -> str:
    """A test command as the user is shown it: paths inside the project relative to it."""
    return command.replace(f"{root.resolve()}/", "")


def test_run_line(command: str, root: Path, origin: str) -> str:
    """The one line a run the user asked for (``ai --fix``, ``ai --suggest``, a fix in the workspace) says
    before the project's tests run: which command, from where, and where it runs (never in the user's tree)."""
    return f"running tests: {shown_command(command, root)} ({origin}) in a scratch copy"


def detect_test_command(root: Path, environ: Mapping[str, str] | None = None) -> str | None:
    """The test command this project most likely uses, or None: the first runner of the language table
    (app/project/languages.py ``RUNNERS``) whose marker file is at the root and whose tool is found."""
    for runner in RUNNERS:
        if runner.name == "pytest":  # which pytest, and whether the project has tests, take more to find out
            if _uses_pytest(root, runner.markers):
                return pytest_command(root, os.environ if environ is None else environ)
        elif _uses(root, runner):
            return runner.command
    return None


def _uses(root: Path, runner: TestRunner) -> bool:
    """Its marker at the root and its tool on PATH; for npm, a real ``test`` script (not npm init's
    placeholder)."""
    marker = root / runner.markers[0]
    if not marker.is_file() or not shutil.which(runner.tool):
        return False
    if runner.name != "npm test":
        return True
    try:
        scripts = json.loads(marker.read_text(encoding="utf-8")).get("scripts") or {}
    except (OSError, ValueError, AttributeError):
        return False
    test_script = str(scripts.get("test", "")) if isinstance(scripts, dict) else ""
    return bool(test_script) and "no test specified" not in test_script


def _uses_pytest(root: Path, markers: tuple[str, ...]) -> bool:
    """A tests folder or test_*.py at the root, or a pytest marker file (pyproject.toml only if it names pytest)."""
    if (root / "tests").is_dir() or any(root.glob("test_*.py")):
        return True
    for name in markers:
        path = root / name
        if path.is_file() and (
            name != "pyproject.toml" or "pytest" in path.read_text(encoding="utf-8", errors="replace")
        ):
            return True
    return False


def pytest_command(root: Path, environ: Mapping[str, str]) -> str:
    """pytest as the user would run it: the project's own virtualenv, else the activated one, else ``pytest``
    on PATH, else a ``python3`` on PATH that has pytest. Never ai's own interpreter: installed on its own (pipx
    style) it has no pytest and none of the project's dependencies. Nothing found: plain ``pytest``, whose
    "not found" is reported as one line (``runner_missing``)."""
    candidates = [root / venv / "bin" / "python" for venv in (".venv", "venv")]
    if environ.get("VIRTUAL_ENV"):
        candidates.append(Path(environ["VIRTUAL_ENV"]) / "bin" / "python")
    for candidate in candidates:
        if candidate.is_file():
            return f"{shlex.quote(str(candidate))} {PYTEST_ARGS}"
    search_path = environ.get("PATH", os.defpath)
    script = shutil.which("pytest", path=search_path)
    if script:
        # `python -m pytest` puts the project folder on sys.path as the watcher always did; the script's own
        # interpreter is the one it would run with.
        python = _script_interpreter(Path(script))
        return f"{shlex.quote(python)} {PYTEST_ARGS}" if python else f"{shlex.quote(script)} {PYTEST_OPTIONS}"
    python3 = shutil.which("python3", path=search_path)
    if python3 and _has_pytest(python3):
        return f"{shlex.quote(python3)} {PYTEST_ARGS}"
    return f"pytest {PYTEST_OPTIONS}"


def _script_interpreter(script: Path) -> str | None:
    """The Python named on a console script's ``#!`` line (pip writes one), when it is there."""
    try:
        with script.open("rb") as handle:
            first = handle.readline(512)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    words = first[2:].decode("utf-8", errors="replace").split()
    if not words or not Path(words[0]).name.startswith("python") or not Path(words[0]).is_file():
        return None
    return words[0]


def _has_pytest(python: str) -> bool:
    check = "import importlib.util, sys; sys.exit(importlib.util.find_spec('pytest') is None)"
    try:
        done = subprocess.run([python, "-c", check], capture_output=True, timeout=15, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def runner_missing(exit_code: int | None, output: str, command: str) -> str | None:
    """The one line to show when the test command itself is not there (the shell's "not found", exit 127, or
    ``python -m X`` without X), else None. A missing runner is the configuration's problem: never a failing
    test, never a job for the model."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    missing = exit_code == 127
    if not missing and exit_code not in (0, None) and len(lines) <= 3:
        module = _NO_MODULE.search(output)
        missing = module is not None and module.group(1) in command.split()
    if not missing:
        return None
    return f"{NOT_FOUND} (`{_shorten(command)}`: {_shorten(last or 'not found')})"


def _shorten(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


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


@dataclass
class CommandRun:
    """One run of a test command: its exit status (None when it was stopped), its output (the tail), time."""

    exit_code: int | None
    output: str
    seconds: float
    timed_out: bool = False


def plain_output_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a test run whose output is parsed: no colours, wide lines, CI mode."""
    env = dict(os.environ if base is None else base)
    env.update({"NO_COLOR": "1", "PY_COLORS": "0", "CARGO_TERM_COLOR": "never", "CI": "1", "COLUMNS": "200"})
    env.pop("FORCE_COLOR", None)
    return env


async def run_command(
    command: str, cwd: Path, *, env: Mapping[str, str] | None = None, timeout: float = 900.0
) -> CommandRun:
    """Run ``command`` (a shell line from configuration, never from the model) in ``cwd`` in its own process
    group, keeping the last ``OUTPUT_LIMIT`` bytes of its output. Past ``timeout`` the whole group is ended and
    the output so far returned; cancelling ends the group too."""
    began = time.monotonic()
    process = await asyncio.create_subprocess_shell(
        command,
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,  # its own process group, so a cancel ends its children too
    )
    output = bytearray()
    exit_code: int | None = None
    timed_out = False
    try:
        await asyncio.wait_for(_read_tail(process, output), timeout=timeout)
        exit_code = await process.wait()
    except TimeoutError:
        await _end_process_group(process)
        timed_out = True
    except BaseException:
        await _end_process_group(process)
        raise
    return CommandRun(
        exit_code=exit_code,
        output=output.decode("utf-8", errors="replace"),
        seconds=round(time.monotonic() - began, 3),
        timed_out=timed_out,
    )


async def run_tests(
    command: str,
    cwd: Path,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 900.0,
    paths: ProjectPaths | None = None,
) -> TestOutcome:
    """Run the test command and read what failed (``run_command`` plus the parsers)."""
    run = await run_command(command, cwd, env=env, timeout=timeout)
    text = run.output
    # A run stopped at its time limit names no failures: what it printed so far is kept for its tail only.
    errors = parse_errors(text, paths or ProjectPaths(cwd)) if run.exit_code not in (0, None) else []
    passed, failed = _counts(text)
    return TestOutcome(
        command=command,
        exit_code=run.exit_code,
        output=text,
        errors=errors,
        seconds=run.seconds,
        timed_out=run.timed_out,
        passed=passed,
        failed=failed,
        missing=runner_missing(run.exit_code, text, command),
    )


def _counts(text: str) -> tuple[int, int]:
    try:
        results = parse_test_output(text)
    except Exception:  # the counts are for display only: a runner they cannot read is no failure
        return 0, 0
    return results.passed, results.failed


async def _read_tail(process: asyncio.subprocess.Process, kept: bytearray) -> None:
    """Read the output into ``kept`` (its last OUTPUT_LIMIT bytes), so a timeout keeps what came."""
    assert process.stdout is not None
    while chunk := await process.stdout.read(65536):
        kept += chunk
        if len(kept) > OUTPUT_LIMIT:
            del kept[: len(kept) - OUTPUT_LIMIT]


async def _end_process_group(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    for sig, wait in ((signal.SIGTERM, KILL_GRACE), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            await asyncio.wait_for(asyncio.shield(process.wait()), timeout=wait)
            break
        except TimeoutError:
            continue
    # Children that outlived the leader still hold the group: end them too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
