"""The file watcher on real files with real watchfiles events, filtered by a real .gitignore."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

from app.background.bus import EventBus
from app.background.watcher import FileWatcher
from app.events import FileChanged
from tests.conftest import git
from tests.integration.background.conftest import next_event
from tests.waiting import BOUND, until


async def _watching(root: Path, sink_calls: list[tuple[list[str], list[str]]]):
    bus = EventBus()

    async def sink(changed: list[str], removed: list[str]) -> None:
        sink_calls.append((changed, removed))

    watcher = FileWatcher(root, bus, [sink])
    task = asyncio.create_task(watcher.run())
    # Set in the step that makes watchfiles' watches (its generator's first step): a change from now is seen.
    await asyncio.wait_for(watcher.ready.wait(), BOUND)
    return bus, watcher, task


async def _stop(watcher: FileWatcher, task: asyncio.Task[None]) -> None:
    watcher.request_stop()
    await asyncio.wait_for(task, BOUND)


async def test_saves_creations_and_deletions_become_file_events(git_project: Path) -> None:
    (git_project / "app.py").write_text("x = 1\n")
    calls: list[tuple[list[str], list[str]]] = []
    bus, watcher, task = await _watching(git_project, calls)
    subscription = bus.subscribe()
    try:
        began = time.monotonic()
        (git_project / "app.py").write_text("x = 2\n")
        event = await next_event(subscription, lambda e: isinstance(e, FileChanged))
        latency = time.monotonic() - began
        assert isinstance(event, FileChanged) and event.paths == ("app.py",)
        assert latency < 2.0, f"a save took {latency:.2f} s to become an event"
        assert calls[-1] == (["app.py"], [])

        (git_project / "pkg").mkdir()
        (git_project / "pkg" / "new.py").write_text("y = 1\n")
        event = await next_event(subscription, lambda e: isinstance(e, FileChanged) and bool(e.paths))
        assert isinstance(event, FileChanged) and event.paths == ("pkg/new.py",)

        (git_project / "app.py").unlink()
        event = await next_event(subscription, lambda e: isinstance(e, FileChanged) and bool(e.removed))
        assert isinstance(event, FileChanged) and event.removed == ("app.py",) and event.paths == ()
    finally:
        await _stop(watcher, task)


async def test_gitignored_files_produce_no_event(git_project: Path) -> None:
    (git_project / ".gitignore").write_text("*.log\nbuild/\n")
    git(git_project, "add", ".gitignore")
    git(git_project, "commit", "-q", "-m", "ignore")
    (git_project / "build").mkdir()
    calls: list[tuple[list[str], list[str]]] = []
    bus, watcher, task = await _watching(git_project, calls)
    subscription = bus.subscribe()
    try:
        (git_project / "server.log").write_text("noise\n")
        (git_project / "build" / "out.js").write_text("generated\n")
        # A tracked-style file afterwards proves the watcher was awake during the ignored writes: their
        # notifications come first, so once its event is out every earlier write was judged.
        (git_project / "main.py").write_text("print('hi')\n")
        event = await next_event(subscription, lambda e: isinstance(e, FileChanged))
        assert isinstance(event, FileChanged) and event.paths == ("main.py",)
        every_path = [p for changed, removed in calls for p in [*changed, *removed]]
        assert every_path == ["main.py"]
    finally:
        await _stop(watcher, task)


async def test_a_burst_of_saves_is_grouped(project: Path) -> None:
    calls: list[tuple[list[str], list[str]]] = []
    _bus, watcher, task = await _watching(project, calls)
    try:
        for index in range(30):
            (project / f"m{index}.py").write_text(f"v = {index}\n")
        expected = {f"m{index}.py" for index in range(30)}
        await until(
            lambda: {p for changed, _removed in calls for p in changed} >= expected, what="every save"
        )
        seen = {p for changed, _removed in calls for p in changed}
        assert seen == expected
        # Grouped, not one call per save (a loaded machine may split the burst a few times).
        assert len(calls) <= 10, f"30 quick saves gave {len(calls)} batches"
    finally:
        await _stop(watcher, task)


async def test_stopping_the_watcher_is_prompt(project: Path) -> None:
    _bus, watcher, task = await _watching(project, [])
    began = time.monotonic()
    await _stop(watcher, task)
    assert time.monotonic() - began < 3.0  # not watchfiles' 5 s timeout: the stop event ends the wait


async def test_outside_git_the_root_gitignore_is_applied(project: Path) -> None:
    (project / ".gitignore").write_text("*.tmp\ncache/\n")
    (project / "cache").mkdir()
    calls: list[tuple[list[str], list[str]]] = []
    bus, watcher, task = await _watching(project, calls)
    subscription = bus.subscribe()
    try:
        (project / "scratch.tmp").write_text("x")
        (project / "cache" / "blob.bin").write_text("x")
        (project / "kept.py").write_text("x = 1\n")  # after the ignored writes: its event comes last
        event = await next_event(subscription, lambda e: isinstance(e, FileChanged))
        assert isinstance(event, FileChanged) and event.paths == ("kept.py",)
        assert [p for changed, removed in calls for p in [*changed, *removed]] == ["kept.py"]
    finally:
        await _stop(watcher, task)


async def test_a_folder_copied_in_at_once_reports_every_file(project: Path, tmp_path: Path) -> None:
    source = tmp_path / "vendor-src"
    (source / "deep" / "deeper").mkdir(parents=True)
    expected = set()
    for index in range(20):
        folder = ("", "deep/", "deep/deeper/")[index % 3]
        (source / folder / f"f{index}.py").write_text(f"n = {index}\n")
        expected.add(f"lib/{folder}f{index}.py")
    calls: list[tuple[list[str], list[str]]] = []
    _bus, watcher, task = await _watching(project, calls)
    try:
        shutil.copytree(source, project / "lib")
        await until(
            lambda: {p for changed, _removed in calls for p in changed} >= expected, what="every copied file"
        )
        assert {p for changed, _removed in calls for p in changed} == expected
    finally:
        await _stop(watcher, task)


async def test_ais_own_atomic_write_reports_the_file_not_its_temporary_name(git_project: Path) -> None:
    import os

    (git_project / "calc").mkdir()
    (git_project / "calc" / "ops.py").write_text("x = 1\n")
    calls: list[tuple[list[str], list[str]]] = []
    bus, watcher, task = await _watching(git_project, calls)
    subscription = bus.subscribe()
    try:
        # What app.edits does: write a hidden temporary file beside the target, then rename it over.
        temp = git_project / "calc" / ".ops.py.ai-20261124T065804-77705c.tmp"
        temp.write_text("x = 2\n")
        os.replace(temp, git_project / "calc" / "ops.py")
        event = await next_event(subscription, lambda e: isinstance(e, FileChanged))
        assert isinstance(event, FileChanged) and event.paths == ("calc/ops.py",) and event.removed == ()
        # A later save elsewhere: once its event is out, nothing about the temporary name can follow.
        (git_project / "later.py").write_text("y = 1\n")
        await next_event(subscription, lambda e: isinstance(e, FileChanged) and "later.py" in e.paths)
        every_path = {p for changed, removed in calls for p in [*changed, *removed]}
        assert every_path == {"calc/ops.py", "later.py"}
    finally:
        await _stop(watcher, task)
