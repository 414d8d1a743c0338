"""``python -m app.background``: the services headless, printing one JSON object per event, stopped by Ctrl-C."""

from __future__ import annotations

import json
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.conftest import REPO


def _read_until(process: subprocess.Popen[str], kind: str, timeout: float) -> dict[str, Any]:
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not selector.select(deadline - time.monotonic()):
            break
        line = process.stdout.readline()
        if not line:
            break
        event = json.loads(line)
        if event["event"] == kind:
            return event
    raise AssertionError(f"no {kind} event within {timeout} s")


def test_watching_a_project_headless_prints_its_events_and_stops_on_ctrl_c(project: Path) -> None:
    (project / ".ai-agent.toml").write_text(
        'test_cmd = "echo 4 passed, 1 failed"\nlog_paths = ["logs/*.log"]\nlsp = false\n'
    )
    (project / "logs").mkdir()
    (project / "logs" / "worker.log").write_text("INFO up\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.background", str(project), "--json"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        finished = _read_until(process, "test_run_finished", 30)
        assert (finished["passed"], finished["failed"]) == (4, 1)
        with open(project / "logs" / "worker.log", "a") as handle:
            handle.write("FATAL out of memory\n")
        error = _read_until(process, "log_error", 10)
        assert (error["path"], error["error_kind"], error["entry"]) == (
            "logs/worker.log",
            "fatal",
            "FATAL out of memory",
        )
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "Traceback" not in (process.stderr.read() if process.stderr else "")
