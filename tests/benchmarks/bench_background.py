"""Figures of issue 7: idle CPU of the background services on a large tree, save-to-event latency, memory.

    .venv/bin/python tests/benchmarks/bench_background.py [--files 100000] [--idle 60] [--saves 20]

The tree is made once under $TMPDIR/ai-bench-background (outside the repository) from copies of Django's
sdist (fetched once with ``pip download``); it is a git repository with nothing committed, like a fresh clone's
working tree as far as the watcher and ``git check-ignore`` are concerned. Started: the file watcher, the
Python language server (basedpyright), the test watcher (a trivial command, so a run is cheap) and the log
tailer on one log file. CPU is the CPU time of this process and all its children over the idle window, as a
percentage of one core. The machine is shared by other agents: note the load average printed with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import psutil

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from app.background import BackgroundServices  # noqa: E402
from app.background.bus import Subscription  # noqa: E402
from app.config import Config  # noqa: E402
from app.events import DiagnosticsUpdated, FileChanged, TestRunFinished  # noqa: E402
from app.trust import record_project_trust  # noqa: E402

WORK = Path(tempfile.gettempdir()) / "ai-bench-background"
E = TypeVar("E")


def sdist() -> Path:
    cache = WORK / "sdist"
    found = sorted(cache.glob("[Dd]jango-*.tar.gz"))
    if not found:
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                "-d",
                str(cache),
                "django",
            ],
            check=True,
            capture_output=True,
        )
        found = sorted(cache.glob("[Dd]jango-*.tar.gz"))
    return found[-1]


def make_tree(files: int) -> Path:
    root = WORK / f"tree-{files}"
    marker = root / ".complete"
    if marker.exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    archive = sdist()
    unpacked = WORK / "unpacked"
    if not unpacked.exists():
        with tarfile.open(archive) as tar:
            tar.extractall(unpacked, filter="data")
    source = next(unpacked.iterdir())
    count, copy = 0, 0
    while count < files:
        target = root / f"copy{copy:02d}"
        for directory, _dirs, names in os.walk(source):
            rel = Path(directory).relative_to(source)
            (target / rel).mkdir(parents=True, exist_ok=True)
            for name in names:
                if count >= files:
                    break
                shutil.copyfile(Path(directory) / name, target / rel / name)
                count += 1
        copy += 1
    (root / "logs").mkdir()
    (root / "logs" / "app.log").write_text("INFO started\n")
    (root / ".gitignore").write_text("logs/\n*.pyc\n")
    (root / "probe.py").write_text("value = 1\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    marker.write_text(str(count))
    return root


def tree_cpu_seconds(process: psutil.Process) -> tuple[float, dict[int, str]]:
    """CPU seconds of a process and its living descendants, and the descendants' names."""
    total = sum(process.cpu_times()[:2])
    names = {}
    for child in process.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
            names[child.pid] = child.name()
        except psutil.NoSuchProcess:
            continue
    return total, names


def rss_mb(process: psutil.Process) -> tuple[float, dict[str, float]]:
    own = process.memory_info().rss / 2**20
    children: dict[str, float] = {}
    for child in process.children(recursive=True):
        try:
            label = f"{child.name()} ({child.pid})"
            children[label] = child.memory_info().rss / 2**20
        except psutil.NoSuchProcess:
            continue
    return own, children


async def wait_for(
    subscription: Subscription, kind: type[E], timeout: float, match: Callable[[E], bool] = lambda e: True
) -> E:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            event = await asyncio.wait_for(subscription.get(), deadline - time.monotonic())
        except TimeoutError:
            break
        if isinstance(event, kind) and match(event):
            return event
    raise TimeoutError(f"no {kind.__name__} within {timeout} s")


async def bench(files: int, idle: float, saves: int) -> None:
    print(f"load average before: {os.getloadavg()}", flush=True)
    began = time.monotonic()
    root = make_tree(files)
    print(f"tree: {root} ({files} files) ready in {time.monotonic() - began:.1f} s", flush=True)
    me = psutil.Process()
    baseline_rss = me.memory_info().rss / 2**20
    config = Config(
        test_cmd=f"{sys.executable} -c \"print('1 passed, 0 failed')\"",
        log_paths=("logs/*.log",),
    )
    # The test watcher runs the tree's code only in a trusted project (app/trust.py): trusted in a data root
    # of the benchmark's own, never the user's.
    os.environ["AI_AGENT_HOME"] = str(WORK / "home")
    record_project_trust(root)
    services = BackgroundServices(root, config)
    subscription = services.bus.subscribe(maxsize=10_000)
    started = time.monotonic()
    await services.start()
    assert services.lsp is not None
    await wait_for(subscription, TestRunFinished, 120)
    await asyncio.wait_for(services.lsp.clients["python"].ready.wait(), 120)
    print(
        f"services started (language server ready, first test run done) in {time.monotonic() - started:.1f} s"
    )
    await asyncio.sleep(15)  # let startup work settle (server indexing, first run's children)

    cpu_before, _ = tree_cpu_seconds(me)
    window_start = time.monotonic()
    await asyncio.sleep(idle)
    cpu_after, names = tree_cpu_seconds(me)
    elapsed = time.monotonic() - window_start
    idle_percent = 100 * (cpu_after - cpu_before) / elapsed
    print(
        f"idle CPU over {elapsed:.0f} s: {idle_percent:.2f}% of one core (processes: {sorted(set(names.values()))})"
    )

    probe = root / "probe.py"
    latencies: list[float] = []
    diagnostics_latencies: list[float] = []
    for index in range(saves):
        while subscription.pending():
            await subscription.get()
        text = f"value = {index}\n" + ("print(undefined_name)\n" if index % 2 else "")
        written = time.monotonic()
        probe.write_text(text)
        await wait_for(subscription, FileChanged, 10, lambda e: "probe.py" in e.paths)
        latencies.append(time.monotonic() - written)
        await wait_for(subscription, DiagnosticsUpdated, 30, lambda e: e.path == "probe.py")
        diagnostics_latencies.append(time.monotonic() - written)
        await asyncio.sleep(0.3)
    print(
        f"save -> FileChanged: median {1000 * statistics.median(latencies):.0f} ms, "
        f"max {1000 * max(latencies):.0f} ms over {saves} saves"
    )
    print(
        f"save -> DiagnosticsUpdated (basedpyright): median {1000 * statistics.median(diagnostics_latencies):.0f} ms, "
        f"max {1000 * max(diagnostics_latencies):.0f} ms"
    )

    own, children = rss_mb(me)
    print(f"memory (RSS): this process {own:.0f} MB (before services: {baseline_rss:.0f} MB)")
    for label, size in sorted(children.items()):
        print(f"  child {label}: {size:.0f} MB")
    print(
        f"  services total (process growth + children): {own - baseline_rss + sum(children.values()):.0f} MB"
    )
    stopped = time.monotonic()
    await services.stop()
    print(f"stopped in {time.monotonic() - stopped:.1f} s; children left: {len(me.children(recursive=True))}")
    print(f"load average after: {os.getloadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--saves", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(bench(args.files, args.idle, args.saves))


if __name__ == "__main__":
    main()
