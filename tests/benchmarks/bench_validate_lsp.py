"""Time the language-server check of stage 7 adds to a headless build on a small Python project.

Runs `ai --build GOAL --dry-run --json` against the scripted model server on a two-file calc project, with
`lsp = false` and `lsp = true` (alternating), and prints the medians of the whole run and of the Validate
stage. Each headless build starts its own basedpyright, so "first" is the first build on this machine state
(cold page cache for basedpyright's node modules, when nothing ran it lately) and "warm" the median of the
next runs. The reply ends right after its block (no prose to hide the start-up behind): the worst case.

Run:  .venv/bin/python tests/benchmarks/bench_validate_lsp.py [--runs N]
The machine is shared: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.model_server import ScriptedModelServer  # noqa: E402

AI = Path(sys.executable).with_name("ai")
OPS = "def add(a, b):\n    return a + b\n\n\ndef subtract(a, b):\n    return a + b\n"
REPLY = (
    "<<<<<<< REPLACE calc/ops.py\ndef subtract(a, b):\n    return a + b\n=======\n"
    "def subtract(a, b):\n    return a - b\n>>>>>>> END\n"
)


def project(base: Path) -> Path:
    root = base / "calc-project"
    (root / "calc").mkdir(parents=True)
    (root / "calc" / "__init__.py").write_text("")
    (root / "calc" / "ops.py").write_text(OPS)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def one_run(root: Path, home: Path, lsp: bool) -> tuple[float, float]:
    (home / "config.toml").write_text(f"lsp = {'true' if lsp else 'false'}\n")
    with ScriptedModelServer([{"reply": REPLY}]) as server:
        env = {**os.environ, "AI_AGENT_HOME": str(home), "OPENAI_BASE_URL": server.base_url}
        started = time.perf_counter()
        result = subprocess.run(
            [str(AI), "--build", "fix subtract in calc/ops.py", "--dry-run", "--json"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
        )
        whole = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"ai failed: {result.stderr}")
    events = [json.loads(line) for line in result.stdout.splitlines()]
    validate = sum(
        e["seconds"] for e in events if e["event"] == "stage_finished" and e["stage"]["number"] == 7
    )
    return whole, validate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ai-bench-lsp-") as tmp:
        base = Path(tmp)
        root = project(base)
        home = base / "home"
        home.mkdir()
        print(f"load average: {os.getloadavg()}")
        one_run(root, home, False)  # bytecode, index: not counted
        first_on = one_run(root, home, True)
        off: list[tuple[float, float]] = []
        on: list[tuple[float, float]] = []
        for _ in range(args.runs):
            off.append(one_run(root, home, False))
            on.append(one_run(root, home, True))

        def med(values: list[tuple[float, float]], i: int) -> float:
            return statistics.median(v[i] for v in values)

        print(f"first build with lsp: whole {first_on[0]:.2f} s, validate {first_on[1]:.2f} s")
        print(f"lsp off (median of {args.runs}): whole {med(off, 0):.2f} s, validate {med(off, 1):.3f} s")
        print(f"lsp on  (median of {args.runs}): whole {med(on, 0):.2f} s, validate {med(on, 1):.2f} s")
        print(f"added by the check (warm): {med(on, 0) - med(off, 0):.2f} s whole")
        print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
