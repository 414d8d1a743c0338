"""The palette's "Rerun tests" without a test watcher: the workspace runs the suite through the fix loop's runner
(app/fix/testrun.py's ``run_tests``, with its time limit and its process-group kill), app/tui/rerun.py says how
it ended."""

from __future__ import annotations

import os
from pathlib import Path

from app.fix.testrun import run_tests
from app.tui.rerun import rerun_line
from tests.waiting import until


def ended(pid: int) -> bool:
    """Gone, or a zombie waiting for init to reap it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"


async def rerun_tests(command: str, root: Path, timeout: float = 900.0) -> tuple[str, str]:
    return rerun_line(await run_tests(command, root, timeout=timeout), timeout)


async def test_a_passing_run_is_one_ok_line(tmp_path: Path) -> None:
    assert await rerun_tests("echo '3 passed'", tmp_path) == ("tests passed · 3 passed", "ok")


async def test_a_failing_run_names_its_exit_status(tmp_path: Path) -> None:
    assert await rerun_tests("echo '1 failed'; exit 2", tmp_path) == (
        "tests failed (exit 2) · 1 failed",
        "error",
    )


async def test_a_hung_test_command_is_killed_with_its_children_after_the_timeout(tmp_path: Path) -> None:
    # The shell starts a child that would outlive it, says its pid, then waits for it forever.
    command = "sleep 300 & echo $! > child.pid; echo started; wait"
    line, level = await rerun_tests(command, tmp_path, timeout=1.0)
    assert level == "error" and line.startswith("tests stopped after 1 s") and line.endswith("· started")
    child = int((tmp_path / "child.pid").read_text())
    # Its group was sent SIGKILL: the signal lands at once, though the kernel may take a moment to end it.
    await until(lambda: ended(child), what=f"the test command's child {child} to end")
