"""Issue 2's figures: 100 sessions x 2,000 messages of ~1 KB each.

    .venv/bin/python tests/benchmarks/bench_sessions.py [--sessions 100] [--messages 2000] [--runs 21]

Prints medians: `ai --list-sessions` and `ai --help` wall time (process start to exit), loading one whole
session (cold: a new process's first read; warm: cached), and appending one message.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app.session import storage
from app.session.store import ProjectStore, now_iso


def wall(cmd: list[str], cwd: Path, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=21)
    opts = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["AI_AGENT_HOME"] = str(Path(tmp) / "home")
        project = Path(tmp) / "project"
        project.mkdir()
        store = ProjectStore(project)
        body = "lorem ipsum dolor sit amet " * 37  # ~1 KB
        stamp = now_iso()
        start = time.perf_counter()
        for s in range(opts.sessions):
            document = {
                "format": "ai-agent-session",
                "version": 1,
                "metadata": {"name": f"session-{s:03d}", "created_at": stamp, "last_used": stamp},
                "messages": [
                    {"role": "user" if i % 2 else "assistant", "content": f"{i} {body}", "ts": stamp}
                    for i in range(opts.messages)
                ],
                "changes": [],
                "undo": [],
            }
            store.import_session(document)
        size = sum(p.stat().st_size for p in store.sessions_dir.glob("*.json"))
        print(
            f"setup: {opts.sessions} sessions x {opts.messages} messages, {size / 1e6:.0f} MB, "
            f"{time.perf_counter() - start:.1f} s"
        )

        ai = str(Path(sys.executable).with_name("ai"))
        print(f"ai --list-sessions: {wall([ai, '--list-sessions'], project, opts.runs):.1f} ms (median wall)")
        print(
            f"ai --list-sessions --json: {wall([ai, '--list-sessions', '--json'], project, opts.runs):.1f} ms"
        )
        print(f"ai --help: {wall([ai, '--help'], project, opts.runs):.1f} ms")
        print(f"python -c pass (floor): {wall([sys.executable, '-c', 'pass'], project, opts.runs):.1f} ms")

        loads = []
        for i in range(opts.runs):
            storage._cache.clear()
            start = time.perf_counter()
            messages = ProjectStore(project).session(f"session-{i % opts.sessions:03d}").messages()
            loads.append(time.perf_counter() - start)
            assert len(messages) == opts.messages
        print(f"load one whole session (cold parse): {statistics.median(loads) * 1000:.1f} ms")
        session = store.session("session-050")
        session.messages()
        warm = []
        for _ in range(opts.runs):
            start = time.perf_counter()
            session.messages()
            warm.append(time.perf_counter() - start)
        print(f"load one whole session (warm, cached): {statistics.median(warm) * 1000:.1f} ms")

        appends = []
        for i in range(opts.runs * 3):
            start = time.perf_counter()
            session.append_message("user", f"new {i} {body}")
            appends.append(time.perf_counter() - start)
        print(
            f"append one message (to a {opts.messages}-message session): "
            f"{statistics.median(appends) * 1000:.1f} ms median, max {max(appends) * 1000:.1f} ms"
        )
        print(f"load: {os.getloadavg()[0]:.2f} (1-min load average while measuring)")


if __name__ == "__main__":
    main()
