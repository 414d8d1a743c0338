"""Opening the index for a build within a time budget (issues 4/5), its file list, the search of the goal's
terms, and the command line's refusal of `/` and $HOME plus its clean exit on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from app.context.index import WORKERS, SymbolIndex
from app.context.inventory import list_project_files
from app.pipeline import preread
from tests.conftest import AI_BIN, default_sigint, run_ai
from tests.waiting import wait_for


def write(root: Path, relpath: str, text: str) -> None:
    target = root / relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def many_files(root: Path, count: int) -> None:
    for n in range(count):
        write(
            root,
            f"pkg{n % 20}/mod{n}.py",
            f"def func_{n}(x):\n    return x + {n}\n\n\nclass C{n}:\n    pass\n",
        )


def test_paths_is_the_file_list_of_the_last_refresh(project: Path) -> None:
    write(project, "calc/ops.py", "def add(a, b):\n    return a + b\n")
    write(project, "README.md", "calc\n")
    with SymbolIndex.open(project) as index:
        assert index.paths() == ["README.md", "calc/ops.py"] == list_project_files(project)
        write(project, "calc/more.py", "def mul(a, b):\n    return a * b\n")
        assert "calc/more.py" not in index.paths()  # not refreshed yet
        index.refresh()
        assert index.paths() == ["README.md", "calc/more.py", "calc/ops.py"]


def test_a_cold_build_past_its_deadline_stops_and_the_next_refresh_goes_on(project: Path) -> None:
    # 450 files: above the parallel threshold, so the stop also ends the worker processes early.
    many_files(project, 450)
    with SymbolIndex.open(project, deadline=time.monotonic()) as index:
        assert index.complete is False
        assert 0 < index.file_count() < 450
        assert index.remaining == 450 - index.file_count()
        index.refresh()
        assert index.complete is True and index.file_count() == 450
        assert [s.line for s in index.definitions("func_449")] == [1]


def test_a_build_opens_a_cold_index_within_its_budget_and_lists_files_without_it(project: Path) -> None:
    many_files(project, 450)
    index = preread.open_index(project, cold_budget=0.0)
    assert index is not None
    try:
        assert index.complete is False
        # What the partial index does not cover comes from the inventory.
        assert preread.project_files(project, index) == list_project_files(project)
    finally:
        index.close()
    # The next build's open finds the store, refreshes it (here within the wait) and uses its file list.
    index = preread.open_index(project, refresh_wait=60)
    assert index is not None
    try:
        assert index.complete is True and index.file_count() == 450
        assert preread.project_files(project, index) == list_project_files(project)
    finally:
        index.close()


def test_a_stored_index_answers_while_its_refresh_runs_on(project: Path) -> None:
    write(project, "calc/ops.py", "def add(a, b):\n    return a + b\n")
    SymbolIndex.open(project).close()
    write(project, "calc/new.py", "def brand_new(a):\n    return a\n")
    index = preread.open_index(project, refresh_wait=0.0)
    assert index is not None
    try:
        assert [s.path for s in index.definitions("add")] == ["calc/ops.py"]  # the stored state, at once
    finally:
        index.close()  # waits for the background refresh
    with SymbolIndex.open(project, build=False) as again:
        assert [s.path for s in again.definitions("brand_new")] == ["calc/new.py"]


def test_terms_with_punctuation_are_searched_as_identifiers(project: Path) -> None:
    write(project, "calc/ops.py", "def subtract(a, b):\n    return a + b\n")
    with SymbolIndex.open(project) as index:
        # As a regular expression "subtract(" is invalid and "ops.subtract" would scan the whole tree.
        hits = preread.term_hits(project, ["subtract(", "ops.subtract"], index)
    assert ("calc/ops.py", 1) in {(h.path, h.line) for h in hits}


def test_root_and_home_are_refused_as_projects(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    for args in (("--search", "needle"), ("--build", "fix it")):
        result = run_ai(*args, cwd=home, env={"HOME": str(home)})
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [
            f"ai: {home} is your home folder, not a project: run ai inside a project or pass --project DIR"
        ]
    result = run_ai("--search", "needle", cwd=Path("/"))
    assert result.returncode == 2 and "the root of the file system" in result.stderr


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _own_group_with_default_sigint() -> None:
    default_sigint()
    os.setpgrp()


@pytest.mark.parametrize("how", ["SIGTERM to ai", "Ctrl-C to the process group"])
def test_a_signal_during_a_parallel_build_ends_the_workers_cleanly(project: Path, how: str) -> None:
    # A few seconds each: enough files that the two worker processes are still parsing when the signal lands.
    many_files(project, 4000)
    process = subprocess.Popen(
        [str(AI_BIN), "--search", "func_1"],
        cwd=project,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_own_group_with_default_sigint,
    )
    # Until the resource tracker and both workers run (spawned as the batches are handed out).
    wait_for(
        lambda: len(_children(process.pid)) >= 1 + WORKERS or process.poll() is not None,
        what="the parallel build's workers",
    )
    assert process.poll() is None, "the build ended before the test could interrupt it"
    workers = _children(process.pid)
    if how.startswith("SIGTERM"):
        process.send_signal(signal.SIGTERM)
    else:
        os.killpg(process.pid, signal.SIGINT)
    _out, err = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "leaked" not in err and "Traceback" not in err, err
    wait_for(
        lambda: not [w for w in workers if Path(f"/proc/{w}").exists() and _alive(w)],
        what="the workers to end",
    )


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"
