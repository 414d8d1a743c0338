"""``python -m app.background``: the services headless, printing one JSON object per event, stopped by Ctrl-C."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from app.trust import trust_current
from tests.conftest import REPO, default_sigint


class _Lines:
    """The process's output lines, read by a thread (select() on a buffered pipe misses buffered lines)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.queue: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None
        stdout = process.stdout
        threading.Thread(target=lambda: [self.queue.put(line) for line in stdout], daemon=True).start()

    def until(self, kind: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.queue.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            event = json.loads(line)
            if event["event"] == kind:
                return event
        raise AssertionError(f"no {kind} event within {timeout} s")


def test_watching_a_project_headless_prints_its_events_and_stops_on_ctrl_c(project: Path) -> None:
    (project / ".ai-agent.toml").write_text(
        'test_cmd = "echo 4 passed, 1 failed"\nlog_paths = ["logs/*.log"]\nlsp = false\n'
    )
    trust_current(project)
    (project / "logs").mkdir()
    (project / "logs" / "worker.log").write_text("INFO up\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.background", str(project), "--json"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )
    try:
        lines = _Lines(process)
        finished = lines.until("test_run_finished", 30)
        assert (finished["passed"], finished["failed"]) == (4, 1)
        with open(project / "logs" / "worker.log", "a") as handle:
            handle.write("FATAL out of memory\n")
        error = lines.until("log_error", 10)
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
