"""Figures of issue 3 (medians): a 50-block answer across 20 files applied without and with the git commit,
the diff of a one-line change in a 10,000-line file, and one undo.

    .venv/bin/python tests/benchmarks/bench_edits.py [--runs N]

Each apply is followed by an undo, so every run starts from the same file content; the undo is what the
"one undo" figure measures. Everything runs in a temporary folder with its own AI_AGENT_HOME.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

FILES = 20
BLOCKS = 50
LINES_PER_FILE = 300


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def make_project(root: Path, use_git: bool) -> None:
    root.mkdir(parents=True)
    for n in range(FILES):
        body = "".join(f"def f{n}_{i}(x):\n    return x + {i}\n\n" for i in range(LINES_PER_FILE // 3))
        (root / f"mod{n:02}.py").write_text(body)
    if use_git:
        env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "b"}
        env["GIT_COMMITTER_EMAIL"] = "b@b"
        for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "init"]):
            subprocess.run(["git", *args], cwd=root, env=env, check=True)


def answer_blocks() -> list:
    from app.llm.blocks import EditBlock

    blocks = []
    for k in range(BLOCKS):
        n, i = k % FILES, 10 + 3 * (k // FILES)
        anchor = f"def f{n}_{i}(x):\n    return x + {i}\n"
        content = f"def f{n}_{i}(x):\n    return x * {i}  # changed\n"
        blocks.append(EditBlock("REPLACE", f"mod{n:02}.py", anchor, content, 1))
    return blocks


def bench_apply(runs: int, use_git: bool, base: Path) -> tuple[list[float], list[float], list[float]]:
    from app.edits import apply_proposal, build_proposal, undo_last
    from app.session.store import ProjectStore

    root = base / ("with-git" if use_git else "no-git")
    make_project(root, use_git)
    session = ProjectStore(root).session("bench")
    blocks = answer_blocks()
    builds, applies, undos = [], [], []
    for _ in range(runs):
        started = time.perf_counter()
        proposal = build_proposal(root, blocks)
        builds.append((time.perf_counter() - started) * 1000)
        assert len(proposal.files) == FILES
        started = time.perf_counter()
        apply_proposal(proposal, session=session, goal="bench", use_git=use_git)
        applies.append((time.perf_counter() - started) * 1000)
        undos.append(timed(lambda: undo_last(session, use_git=use_git)))
    return builds, applies, undos


def bench_diff(runs: int, base: Path) -> tuple[list[float], list[float]]:
    from app.edits import build_proposal
    from app.edits.proposal import make_change
    from app.llm.blocks import EditBlock

    root = base / "long"
    root.mkdir()
    old = "".join(f"value_{i} = {i}\n" for i in range(10_000))
    (root / "long.py").write_text(old)
    new = old.replace("value_5000 = 5000\n", "value_5000 = -1\n")
    block = EditBlock("REPLACE", "long.py", "value_5000 = 5000\n", "value_5000 = -1\n", 1)
    diffs = [timed(lambda: make_change("long.py", old, new)) for _ in range(runs)]
    proposals = [timed(lambda: build_proposal(root, [block])) for _ in range(runs)]
    return diffs, proposals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        os.environ["AI_AGENT_HOME"] = str(base / "home")
        print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1/5 min), {os.cpu_count()} cores")
        print(f"median of {runs} runs, ms")
        diffs, proposals = bench_diff(runs, base)
        print(f"diff of a one-line change in a 10,000-line file:          {statistics.median(diffs):8.2f}")
        print(
            f"  (block -> proposal incl. read, match, diff:              {statistics.median(proposals):8.2f})"
        )
        for use_git in (False, True):
            builds, applies, undos = bench_apply(runs, use_git, base)
            label = "with the commit   " if use_git else "without the commit"
            print(f"50 blocks / 20 files, proposal in memory ({label}): {statistics.median(builds):8.2f}")
            print(f"50 blocks / 20 files, apply to disk      ({label}): {statistics.median(applies):8.2f}")
            print(
                f"50 blocks / 20 files, proposal + apply   ({label}): "
                f"{statistics.median([b + a for b, a in zip(builds, applies, strict=True)]):8.2f}"
            )
            print(f"one undo of that change                  ({label}): {statistics.median(undos):8.2f}")


if __name__ == "__main__":
    main()
