"""History building for `ai --continue --build` at 1k, 10k and 100k messages.

    .venv/bin/python tests/benchmarks/bench_history.py [--sizes 1000,10000,100000] [--runs 7]

For each size and two shapes (alternating user/assistant turns; one role throughout, where every message joins
one turn), prints the median time of ``history_messages`` with the default budget (a quarter of
``context_tokens``), what it sent, and the time to load the whole session from its file (cold parse). With
``--e2e``, also the wall time of the installed `ai --continue --build ... --dry-run` against the scripted
model server, from start to the request reaching it.
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
from typing import Any

from app.config import Config
from app.llm.prompts import estimate_tokens
from app.pipeline.preread import history_messages
from app.session import storage
from app.session.store import ProjectStore, now_iso

BODY = "the parser drops the last token when the input ends without a newline; "  # ~70 bytes


def session_messages(count: int, one_role: bool) -> list[dict[str, Any]]:
    stamp = now_iso()
    return [
        {
            "role": "user" if one_role or i % 2 == 0 else "assistant",
            "content": f"{i} {BODY}",
            "ts": stamp,
        }
        for i in range(count)
    ]


def median_seconds(runs: int, call: Any) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--e2e", action="store_true")
    opts = parser.parse_args()
    budget = Config().context_tokens // 4
    print(f"history budget: {budget} tokens (a quarter of context_tokens {Config().context_tokens})")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["AI_AGENT_HOME"] = str(Path(tmp) / "home")
        for size in (int(s) for s in opts.sizes.split(",")):
            for one_role in (False, True):
                shape = "one role" if one_role else "alternating"
                messages = session_messages(size, one_role)
                seconds = median_seconds(opts.runs, lambda m=messages: history_messages(m, budget))
                sent = history_messages(messages, budget)
                tokens = sum(estimate_tokens(t["content"]) for t in sent)
                project = Path(tmp) / f"p-{size}-{int(one_role)}"
                project.mkdir()
                store = ProjectStore(project)
                stamp = now_iso()
                store.import_session(
                    {
                        "format": "ai-agent-session",
                        "version": 1,
                        "metadata": {"name": "main", "created_at": stamp, "last_used": stamp},
                        "messages": messages,
                        "changes": [],
                        "undo": [],
                    }
                )

                def load(store: ProjectStore = store) -> None:
                    storage._cache.clear()
                    store.session("main", create=False).messages()

                load_seconds = median_seconds(opts.runs, load)
                print(
                    f"{size:>7} messages, {shape:<11}: history {seconds * 1000:8.2f} ms "
                    f"({len(sent)} turn(s), ~{tokens} tokens sent); load the session {load_seconds * 1000:7.1f} ms"
                )
                if opts.e2e:
                    e2e(project)
        print(f"load: {os.getloadavg()[0]:.2f} (1-min load average while measuring)")


def e2e(project: Path) -> None:
    from tests.model_server import ScriptedModelServer

    (Path(os.environ["AI_AGENT_HOME"]) / "config.toml").write_text("lsp = false\n", encoding="utf-8")
    reply = "Adding a module.\n<<<<<<< CREATE notes.py\nX = 1\n>>>>>>> END\n"
    ai = str(Path(sys.executable).with_name("ai"))
    with ScriptedModelServer([{"reply": reply}]) as server:
        start = time.time()
        subprocess.run(
            [ai, "--continue", "--build", "add notes.py", "--dry-run"],
            cwd=project,
            env={**os.environ, "OPENAI_BASE_URL": server.base_url},
            stdout=subprocess.DEVNULL,
            check=True,
        )
        done = time.time()
        reached = server.chat_requests()[0]["time"]
    print(
        f"          ai --continue --build: request reached the model after {reached - start:.2f} s, "
        f"done after {done - start:.2f} s"
    )


if __name__ == "__main__":
    main()
