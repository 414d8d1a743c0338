"""Figures of issue 8: the scratch copy's setup time on a 10,000-file project, and the time from a test failure
appearing to a verified fix being offered, with the model's share taken out (the scripted model server answers
at once; its time is reported apart).

    .venv/bin/python tests/benchmarks/bench_fix.py [--runs 5] [--files 10000] [--no-disk]

Prints medians (and the individual runs). The machine is shared: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from app.fix.scratch import ScratchCopy  # noqa: E402
from app.trust import trust_current  # noqa: E402

TEST_CMD = f"PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {shlex.quote(sys.executable)} -m pytest -q -p no:cacheprovider"
OPS = "def mean(values):\n    return sum(values) / len(values)\n"
TESTS = (
    "from calc.ops import mean\n\n\ndef test_mean():\n    assert mean([1, 2, 3]) == 2\n\n\n"
    "def test_mean_empty():\n    assert mean([]) == 0\n"
)
RIGHT = (
    "Return 0 for no values.\n\n<<<<<<< REPLACE calc/ops.py\n" + OPS + "=======\n"
    "def mean(values):\n    if not values:\n        return 0\n    return sum(values) / len(values)\n>>>>>>> END\n"
)
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "b",
    "GIT_AUTHOR_EMAIL": "b@b",
    "GIT_COMMITTER_NAME": "b",
    "GIT_COMMITTER_EMAIL": "b@b",
}


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, env=GIT_ENV, check=True, capture_output=True)


def make_project(root: Path, filler: int) -> Path:
    """The small failing project, plus ``filler`` source files of mixed sizes (0.5-12 KB) in 1,000 folders."""
    root.mkdir(parents=True)
    random.seed(8)
    for i in range(filler):
        folder = root / "pkg" / f"p{i % 50}" / f"s{(i // 50) % 20}"
        folder.mkdir(parents=True, exist_ok=True)
        size = random.choice([500, 1500, 3000, 6000, 12000])
        (folder / f"mod{i}.py").write_text(f"VALUE_{i} = {i}\n" * (size // 14))
    (root / "calc").mkdir()
    (root / "calc/__init__.py").write_text("")
    (root / "calc/ops.py").write_text(OPS)
    (root / "tests").mkdir()
    (root / "tests/test_ops.py").write_text(TESTS)
    (root / ".gitignore").write_text("__pycache__/\n")
    (root / ".ai-agent.toml").write_text(f"test_cmd = {TEST_CMD!r}\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "project")
    return root


def median_ms(values: list[float]) -> str:
    return (
        f"{statistics.median(values) * 1000:7.0f} ms  (runs: {', '.join(f'{v * 1000:.0f}' for v in values)})"
    )


def bench_scratch(project: Path, runs: int, disk: bool) -> None:
    print(f"\n## Scratch copy of {project.name}")
    variants: list[tuple[str, str, Path | None]] = [
        ("tar | tar into /dev/shm (the default)", "tar", None),
        ("threads + copy_file_range into /dev/shm", "threads", None),
    ]
    if disk:
        variants.append(
            ("tar | tar into the ext4 temp dir (for comparison)", "tar", Path(tempfile.gettempdir()))
        )
    for label, method, parent in variants:
        times, listing, stats = [], [], None
        for _ in range(runs if parent is None else max(1, runs // 2)):
            scratch = ScratchCopy.create(project, method=method, parent=parent)
            stats = scratch.stats
            times.append(stats.seconds)
            listing.append(stats.list_seconds)
            scratch.close()
        assert stats is not None
        print(f"{label:48s} {median_ms(times)}")
        print(f"{'  of which listing (git ls-files + lstat)':48s} {median_ms(listing)}")
    assert stats is not None
    print(f"  {stats.files} files, {stats.bytes / 1e6:.1f} MB")
    scratch = ScratchCopy.create(project)
    began = time.perf_counter()
    for _ in range(100):
        scratch.write("calc/ops.py", b"x = 1\n")
        scratch.reset()
    print(
        f"{'reset between attempts (write + restore one file)':48s} {(time.perf_counter() - began) * 10:7.2f} ms"
    )
    scratch.close()


async def fix_once(project: Path, server_url: str, watcher: bool) -> tuple[float, float, float]:
    from app.background.bus import EventBus
    from app.background.testwatch import TestWatcher
    from app.config import load_config
    from app.events import Decision, DecisionKind, DiffReady, FixVerified
    from app.fix.loop import FixRequest, run_fix
    from app.fix.triggers import request_for_test_run
    from app.session.store import ProjectStore

    session = ProjectStore(project).session("bench")
    config = load_config(project, {"base_url": server_url, "model": "scripted-model"})
    if watcher:
        finished = await TestWatcher(project, EventBus(), TEST_CMD, run_on_start=False).run_once("bench")
        assert finished is not None and not finished.ok
        request = request_for_test_run(finished, project, session, config, dry_run=True)
    else:
        request = FixRequest(project, session, config, dry_run=True)

    async def decide(_ready: DiffReady) -> Decision:
        return Decision(DecisionKind.REJECT)

    verified = None
    async for event in run_fix(request, decide):
        if isinstance(event, FixVerified):
            verified = event
    assert verified is not None, "no verified fix"
    return verified.seconds, verified.model_seconds, verified.test_seconds


def bench_fix(project: Path, runs: int) -> None:
    from tests.model_server import ScriptedModelServer

    home = Path(tempfile.mkdtemp(prefix="bench-fix-home-"))
    os.environ["AI_AGENT_HOME"] = str(home)
    trust_current(project)  # the project's test_cmd counts only when trusted (app/trust.py)
    with ScriptedModelServer({"rules": [{"reply": RIGHT, "chunk_size": 4096}]}) as server:
        for label, watcher in (
            ("test watcher saw the failure (its run is the baseline)", True),
            ("ai --fix (baseline run in the scratch copy first)", False),
        ):
            totals, models, tests, other = [], [], [], []
            for _ in range(runs):
                total, model, test = asyncio.run(fix_once(project, server.base_url, watcher))
                totals.append(total)
                models.append(model)
                tests.append(test)
                other.append(total - model - test)
            print(f"\n## Failure -> verified fix offered, {project.name}: {label}")
            print(f"{'total':36s} {median_ms(totals)}")
            print(f"{'  model (scripted, instant)':36s} {median_ms(models)}")
            print(
                f"{'  total minus model':36s} {median_ms([t - m for t, m in zip(totals, models, strict=True)])}"
            )
            print(f"{'    test runs (failing, then suite)':36s} {median_ms(tests)}")
            print(f"{'    the loop itself (copy, prompt, ...)':36s} {median_ms(other)}")
    shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--no-disk", action="store_true", help="skip the slow copy to the disk temp dir")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}  cores: {os.cpu_count()}")
    base = Path(tempfile.mkdtemp(prefix="bench-fix-"))
    try:
        big = make_project(base / f"project-{args.files}-files", args.files - 4)
        small = make_project(base / "project-small", 0)
        bench_scratch(big, args.runs, not args.no_disk)
        bench_fix(small, args.runs)
        bench_fix(big, args.runs)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
