"""Benchmark of the symbol index, search and repo map on a 100,000-file corpus of real source.

    .venv/bin/python tests/benchmarks/bench_context.py [--workdir DIR] [--files 100000]

The corpus: django's sdist (downloaded with pip, never committed), unpacked, and its tree copied until the
corpus holds the wanted number of files. Every text file of copy N gets N extra blank lines at its end so no
two copies share a content hash (a content-keyed index must really parse each file). The corpus is a git
repository (one commit), as a real project would be, so the inventory takes the `git ls-files` path.
Everything lives under --workdir (default /tmp/ai-bench-context), reused by later runs.

Prints medians. The machine is shared: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

DJANGO = "django==5.2.19"
TEXT_SUFFIXES = (".py", ".js", ".css", ".html", ".txt", ".po", ".json", ".xml", ".rst", ".svg", ".py-tpl")


def median_of(runs: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def load() -> str:
    return os.getloadavg().__repr__()


def fetch_django(workdir: Path) -> Path:
    unpacked = workdir / "django-sdist"
    if unpacked.is_dir():
        return next(p for p in unpacked.iterdir() if p.is_dir())
    downloads = workdir / "download"
    downloads.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            DJANGO,
            "-d",
            str(downloads),
        ],
        check=True,
    )
    archive = next(downloads.glob("*.tar.gz"))
    unpacked.mkdir()
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="data")
    return next(p for p in unpacked.iterdir() if p.is_dir())


def count_files(root: Path) -> int:
    return sum(len(files) for _dir, _dirs, files in os.walk(root))


def build_corpus(workdir: Path, source: Path, wanted: int) -> Path:
    corpus = workdir / "corpus"
    if (corpus / ".git").is_dir():
        return corpus
    per_copy = count_files(source)
    copies = -(-wanted // per_copy)
    print(f"corpus: {copies} copies of {source.name} ({per_copy} files each)", flush=True)
    staging = workdir / "corpus-staging"
    shutil.rmtree(staging, ignore_errors=True)
    for n in range(copies):
        target = staging / f"copy{n:02}"
        shutil.copytree(source, target)
        if n:
            for dirpath, _dirs, files in os.walk(target):
                for name in files:
                    if name.endswith(TEXT_SUFFIXES):
                        with open(os.path.join(dirpath, name), "ab") as handle:
                            handle.write(b"\n" * n)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=staging, check=True)
    subprocess.run([*git, "add", "-A"], cwd=staging, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "corpus"], cwd=staging, check=True)
    staging.rename(corpus)
    return corpus


def rg_scan(rg: str, root: Path, ident: str) -> int:
    result = subprocess.run(
        [rg, "--no-config", "-n", "-w", "--color=never", ident, "."],
        cwd=root,
        capture_output=True,
        check=False,
    )
    return result.stdout.count(b"\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workdir", default="/tmp/ai-bench-context")
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument(
        "--keep-index", action="store_true", help="reuse the index of an earlier run (no cold build figure)"
    )
    options = parser.parse_args()
    workdir = Path(options.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ["AI_AGENT_HOME"] = str(workdir / "home")
    if not options.keep_index:
        shutil.rmtree(workdir / "home", ignore_errors=True)

    from app.context.index import SymbolIndex
    from app.context.inventory import list_project_files
    from app.context.repomap import repo_map
    from app.context.search import find_rg, search

    django = fetch_django(workdir)
    corpus = build_corpus(workdir, django, options.files)
    rg = find_rg()
    print(f"machine: {os.cpu_count()} cores, load {load()}", flush=True)

    listed = median_of(3, lambda: list_project_files(corpus))
    n_files = len(list_project_files(corpus))
    print(
        f"inventory: {n_files} files listed (git ls-files + filters), median {listed * 1000:.0f} ms",
        flush=True,
    )

    # Cold build: once (it takes minutes on two cores).
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 10 or done == total:
            last[0] = now
            print(f"  building {done}/{total}", flush=True)

    start = time.perf_counter()
    index = SymbolIndex.open(corpus, progress=progress)
    cold = time.perf_counter() - start
    indexed = index.file_count()
    index.close()
    print(
        f"cold build: {indexed} files in {cold:.1f} s = {indexed / cold:.0f} files/s (load {load()})",
        flush=True,
    )
    db_size = sum(p.stat().st_size for p in (workdir / "home").rglob("*") if p.is_file())
    print(f"index size on disk: {db_size / 1e6:.0f} MB", flush=True)

    load_only = median_of(5, lambda: SymbolIndex.open(corpus, build=False).close())
    warm = median_of(5, lambda: SymbolIndex.open(corpus).close())
    print(
        f"warm start: load {load_only * 1000:.1f} ms; load + refresh (stat of every file) {warm * 1000:.0f} ms"
    )

    index = SymbolIndex.open(corpus)
    for ident in ("get_user_model", "ValidationError", "HttpResponseRedirect"):
        lookup = median_of(5, partial(index.files_with_identifier, ident))
        ours = median_of(5, partial(search, corpus, ident, mode="identifier", limit=50, index=index))
        raw = median_of(3, partial(rg_scan, rg, corpus, ident))
        files = len(index.files_with_identifier(ident))
        print(
            f"identifier search {ident!r} ({files} files hold it): index lookup {lookup * 1000:.2f} ms, "
            f"search (index + rg on candidates, top 50) {ours * 1000:.0f} ms, raw rg -w over the corpus "
            f"{raw * 1000:.0f} ms, ratio {raw / ours:.0f}x",
            flush=True,
        )

    big_map = median_of(
        3,
        lambda: repo_map(
            index,
            focus_files=["copy03/django/contrib/auth/views.py"],
            focus_identifiers=[f"uncached{time.perf_counter_ns()}"],  # a new key each time: computed
            token_budget=2048,
        ),
    )
    print(
        f"repo map over the whole corpus (computed; the cache cannot answer): median {big_map * 1000:.0f} ms"
    )

    target = corpus / "copy00" / "django" / "utils" / "text.py"
    original = target.read_text()
    versions = [original + f"\n\ndef bench_added_{i}(value):\n    return value\n" for i in range(10)]
    times = []
    for text in versions:
        target.write_text(text)
        start = time.perf_counter()
        index.update_file("copy00/django/utils/text.py")
        times.append(time.perf_counter() - start)
    target.write_text(original)
    index.update_file("copy00/django/utils/text.py")
    assert index.definitions("bench_added_9") == []
    print(
        f"incremental update of one file (django/utils/text.py, 15 KB): median {statistics.median(times) * 1000:.1f} ms"
    )
    index.close()

    # The repo map of django's sdist on its own (its own data root: cold means no index at all).
    os.environ["AI_AGENT_HOME"] = tempfile.mkdtemp(dir=workdir, prefix="home-map-")
    start = time.perf_counter()
    dj_index = SymbolIndex.open(django)
    built = time.perf_counter() - start
    text = repo_map(dj_index, token_budget=2048)
    cold_map = time.perf_counter() - start
    dj_index.close()
    start = time.perf_counter()
    dj_index = SymbolIndex.open(django)
    again = repo_map(dj_index, token_budget=2048)
    warm_map = time.perf_counter() - start
    assert again == text
    compute = median_of(3, lambda: repo_map(dj_index, focus_identifiers=[f"x{time.perf_counter_ns()}"]))
    dj_index.close()
    print(
        f"repo map of django's sdist ({count_files(django)} files): cold (index built from nothing + map) "
        f"{cold_map:.1f} s (of which build {built:.1f} s); warm (open, refresh, cached map) {warm_map * 1000:.0f} ms; "
        f"map computed on a built index {compute * 1000:.0f} ms; {len(text)} chars"
    )
    print(f"load at the end: {load()}")


if __name__ == "__main__":
    main()
