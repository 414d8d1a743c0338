"""Figures of issue 5 on django's sdist (~7,000 files) with a warm symbol index:

1. time from `ai --build` start (the process launch) to the first request the scripted model server receives;
2. the size of the context that request carries (bytes of all messages, estimated tokens = bytes / 4);
3. the pipeline's own overhead over the scripted server's stream: the same stream consumed raw by the openai
   client against the pipeline's model phase (prose parsing, block parsing, events, session writes).

Run:  .venv/bin/python tests/benchmarks/bench_pipeline.py [--corpus DIR] [--runs N]

Without --corpus, django's sdist is fetched with `pip download --no-deps --no-binary :all: django` into a
temporary folder outside the repository, unpacked and made a git repository (kept for reruns under
/tmp/ai-bench-pipeline). Medians are printed. The machine is shared: note the load average printed with them.

`ai` runs as installed, with compiled bytecode: when PYTHONDONTWRITEBYTECODE is set (as in the team's shell),
every run would compile app/ from source, which a user's install does not, so the runs get a bytecode cache of
their own under /tmp/ai-bench-pipeline/pycache, after one unmeasured warm-up run; --as-is keeps the environment
as it is (measured: no difference beyond the noise of a shared machine). For a small project:
--corpus DIR --part first-request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.model_server import ScriptedModelServer  # noqa: E402

WORK = Path(tempfile.gettempdir()) / "ai-bench-pipeline"
AI = Path(sys.executable).with_name("ai")

GOALS = {
    "path + symbol": "make QuerySet.bulk_create in django/db/models/query.py skip empty batches",
    "module name": "slugify in django.utils.text should keep unicode when asked",
    "bare file name": "add a docstring to every function in functional.py",
}

# A short valid answer (the runs are dry runs: nothing is written). A headless answer without any edit block
# would be asked again and end with exit 1.
NO_EDIT_REPLY = "I read the files.\n<<<<<<< CREATE BENCH_NOTE.md\nread\n>>>>>>> END\n"


def _git(root: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@b",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@b",
    }
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def prepare_corpus() -> Path:
    root = WORK / "django"
    if (root / ".git").exists():
        return root
    WORK.mkdir(parents=True, exist_ok=True)
    download = WORK / "download"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "django",
            "-d",
            str(download),
        ],
        check=True,
        capture_output=True,
    )
    archive = next(download.glob("*.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(WORK / "unpacked", filter="data")
    unpacked = next((WORK / "unpacked").iterdir())
    unpacked.rename(root)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "django sdist")
    return root


def warm_index(root: Path, home: Path) -> float:
    code = (
        "import sys,time; from pathlib import Path; from app.context.index import SymbolIndex\n"
        "t=time.perf_counter(); SymbolIndex.open(Path(sys.argv[1])).close(); print(time.perf_counter()-t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(root)],
        env={**os.environ, "AI_AGENT_HOME": str(home)},
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    return float(out.stdout.strip())


def _run_env(as_is: bool) -> dict[str, str]:
    env = dict(os.environ)
    if not as_is and env.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
        env["PYTHONPYCACHEPREFIX"] = str(WORK / "pycache")
    return env


def time_to_first_request(
    root: Path, home: Path, goal: str, runs: int, as_is: bool = False
) -> dict[str, Any]:
    firsts, sizes, tokens, totals, files = [], [], [], [], []
    stages: dict[str, list[float]] = {}
    for run in range(runs + 1):  # run 0 warms the caches (bytecode, index, page cache): not counted
        with ScriptedModelServer([{"reply": NO_EDIT_REPLY}]) as server:
            env = {**_run_env(as_is), "AI_AGENT_HOME": str(home), "OPENAI_BASE_URL": server.base_url}
            started = time.time()
            result = subprocess.run(
                [str(AI), "--build", goal, "--dry-run", "--json"],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
            )
            ended = time.time()
            if result.returncode != 0:
                raise SystemExit(f"ai failed: {result.stderr}")
            if run == 0:
                continue
            request = server.chat_requests()[0]
            firsts.append(request["time"] - started)
            totals.append(ended - started)
            body = request["body"]["messages"]
            size = sum(len(m["content"].encode()) for m in body)
            sizes.append(size)
            tokens.append(size // 4)
            events = [json.loads(line) for line in result.stdout.splitlines()]
            ready = next(e for e in events if e["event"] == "context_ready")
            for e in events:
                if e["event"] == "stage_finished" and e["stage"]["name"] in ("Locate", "Read", "Context"):
                    stages.setdefault(e["stage"]["name"], []).append(e["seconds"])
            files = [*ready["files"], *(f"dropped: {d}" for d in ready["dropped"])]
    return {
        "first_request_s": statistics.median(firsts),
        "whole_run_s": statistics.median(totals),
        "context_bytes": int(statistics.median(sizes)),
        "context_tokens_est": int(statistics.median(tokens)),
        "files": files,
        "stages": {name: statistics.median(values) for name, values in stages.items()},
    }


async def _raw_stream(url: str) -> tuple[float, float]:
    """The scripted stream consumed by the bare openai client: first content chunk to the end."""
    import openai

    client = openai.AsyncOpenAI(base_url=url, api_key="x", max_retries=0)
    stream = await client.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "go"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    first = first_cpu = 0.0
    async for chunk in stream:
        if not first and chunk.choices and chunk.choices[0].delta.content:
            first, first_cpu = time.perf_counter(), time.process_time()
    seconds, cpu = time.perf_counter() - first, time.process_time() - first_cpu
    await client.close()
    return seconds, cpu


async def _pipeline_model_phase(root: Path, url: str) -> tuple[float, float, float]:
    """The same stream through the pipeline: (first prose event to the last block event, then until the
    Edit stage ends: storing the reply in the session and the usage event)."""
    from dataclasses import replace

    from app.config import load_config
    from app.events import BlockCompleted, Decision, ProseDelta, Stage, StageFinished
    from app.pipeline.build import BuildRequest, run_build
    from app.session.store import ProjectStore

    config = replace(load_config(root, {"base_url": url}), context_tokens=2000)
    session = ProjectStore(root).session("bench", activate=False)
    request = BuildRequest(root=root, session=session, goal="overhead run", config=config, dry_run=True)

    async def reject(_diff: Any) -> Decision:  # dry run: never asked
        return Decision()

    first = first_cpu = last_block = last_cpu = ended = 0.0
    async for event in run_build(request, reject):
        if isinstance(event, ProseDelta) and not first:
            first, first_cpu = time.perf_counter(), time.process_time()
        elif isinstance(event, BlockCompleted):
            last_block, last_cpu = time.perf_counter(), time.process_time()
        elif isinstance(event, StageFinished) and event.stage is Stage.EDIT:
            ended = time.perf_counter()
    return last_block - first, last_cpu - first_cpu, ended - last_block


def overhead(root: Path, home: Path, runs: int) -> dict[str, float]:
    prose = "".join(f"Step {i}: the plan says something useful about the change here.\n" for i in range(150))
    block = (
        "<<<<<<< CREATE bench_new_module.py\n"
        + "".join(f"X{i} = {i}\n" for i in range(300))
        + ">>>>>>> END\n"
    )
    reply = prose + block
    rule = {"reply": reply, "chunk_size": 8, "chunk_delay": 0.0}
    os.environ["AI_AGENT_HOME"] = str(home)
    raw, raw_cpu, piped, piped_cpu, after = [], [], [], [], []
    # The server runs in its own process, so this process's CPU time is the client side's alone.
    with tempfile.TemporaryDirectory() as tmp:
        script, port_file = Path(tmp) / "script.json", Path(tmp) / "port"
        script.write_text(json.dumps({"rules": [], "default": rule}))
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.model_server",
                "--script",
                str(script),
                "--port-file",
                str(port_file),
            ],
            cwd=REPO,
            stderr=subprocess.DEVNULL,
        )
        try:
            while not port_file.exists():
                time.sleep(0.05)
            url = f"http://127.0.0.1:{port_file.read_text()}/v1"
            for _ in range(runs):
                wall, cpu = asyncio.run(_raw_stream(url))
                raw.append(wall)
                raw_cpu.append(cpu)
                wall, cpu, stored = asyncio.run(_pipeline_model_phase(root, url))
                piped.append(wall)
                piped_cpu.append(cpu)
                after.append(stored)
        finally:
            server.terminate()
            server.wait()
    chunks = len(reply) // 8 + 1
    med = statistics.median
    return {
        "chunks": chunks,
        "reply_chars": len(reply),
        "raw_stream_s": med(raw),
        "pipeline_stream_s": med(piped),
        "raw_cpu_s": med(raw_cpu),
        "pipeline_cpu_s": med(piped_cpu),
        "overhead_cpu_per_chunk_us": (med(piped_cpu) - med(raw_cpu)) / chunks * 1e6,
        "after_stream_s": med(after),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--part", choices=("all", "first-request", "overhead"), default="all")
    parser.add_argument("--as-is", action="store_true", help="keep PYTHONDONTWRITEBYTECODE as it is")
    args = parser.parse_args()
    root = args.corpus.resolve() if args.corpus else prepare_corpus()
    home = WORK / "home"
    home.mkdir(parents=True, exist_ok=True)
    count = int(
        subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True).stdout.count("\n")
    )
    print(f"corpus: {root} ({count} files); load average: {os.getloadavg()}")
    print(
        f"index build/refresh before the runs: {warm_index(root, home):.2f} s; warm reopen: "
        f"{warm_index(root, home):.2f} s"
    )
    for label, goal in GOALS.items() if args.part != "overhead" else ():
        figures = time_to_first_request(root, home, goal, args.runs, args.as_is)
        print(f"\n[{label}] {goal}")
        print(
            f"  ai start -> first request: {figures['first_request_s']:.3f} s (median of {args.runs}); "
            f"whole dry run {figures['whole_run_s']:.3f} s"
        )
        print(f"  context sent: {figures['context_bytes']} bytes, ~{figures['context_tokens_est']} tokens")
        print(f"  files: {', '.join(figures['files'][:8])}")
        print("  stages: " + ", ".join(f"{k} {v:.3f} s" for k, v in figures["stages"].items()))
    if args.part == "first-request":
        return
    o = overhead(root, home, args.runs)
    print(
        f"\npipeline overhead over the stream ({o['chunks']} chunks, {o['reply_chars']} chars, first content to "
        f"end; server in its own process): wall {o['raw_stream_s'] * 1000:.1f} ms raw openai client vs "
        f"{o['pipeline_stream_s'] * 1000:.1f} ms through the pipeline; client CPU {o['raw_cpu_s'] * 1000:.1f} ms "
        f"vs {o['pipeline_cpu_s'] * 1000:.1f} ms = {o['overhead_cpu_per_chunk_us']:.0f} us per chunk of "
        f"pipeline work; then storing the reply in the session: {o['after_stream_s'] * 1000:.1f} ms"
    )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
