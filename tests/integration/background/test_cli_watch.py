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
from tests.waiting import BOUND


class _Lines:
    """The process's output lines, read by a thread (select() on a buffered pipe misses buffered lines)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.queue: queue.Queue[str] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self._returned: set[int] = set()
        assert process.stdout is not None
        stdout = process.stdout

        def pump() -> None:
            for line in stdout:
                self.queue.put(line)

        threading.Thread(target=pump, daemon=True).start()

    def until(self, kind: str, timeout: float = BOUND, **fields: Any) -> dict[str, Any]:
        """The first event of ``kind`` (with these field values) not returned before, in the order printed:
        one printed before an earlier call's event counts too."""

        def matches(index: int) -> bool:
            event = self.seen[index]
            wanted = event["event"] == kind and all(event.get(k) == v for k, v in fields.items())
            return wanted and index not in self._returned

        deadline = time.monotonic() + timeout
        index = 0
        while True:
            while index < len(self.seen):
                if matches(index):
                    self._returned.add(index)
                    return self.seen[index]
                index += 1
            try:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise queue.Empty
                line = self.queue.get(timeout=remaining)
            except queue.Empty:
                raise AssertionError(f"no {kind} event {fields or ''} within {timeout:.0f} s") from None
            self.seen.append(json.loads(line))


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
        # The tailer follows the log from its end once it runs (its first poll is in the step that says so).
        lines.until("service_status", name="logs", state="running")
        finished = lines.until("test_run_finished")
        assert (finished["passed"], finished["failed"]) == (4, 1)
        with open(project / "logs" / "worker.log", "a") as handle:
            handle.write("FATAL out of memory\n")
        error = lines.until("log_error")
        assert (error["path"], error["error_kind"], error["entry"]) == (
            "logs/worker.log",
            "fatal",
            "FATAL out of memory",
        )
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=BOUND) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "Traceback" not in (process.stderr.read() if process.stderr else "")
