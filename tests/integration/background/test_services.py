"""BackgroundServices end to end on a real project: tests, diagnostics, logs and the symbol index fed by the
watcher, the snapshot saved in the session and shown again on resume, nothing left running after stop."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import psutil

from app.background import BackgroundServices
from app.config import Config
from app.events import DiagnosticsUpdated, FileChanged, LogError, ServiceStatus, TestRunFinished
from app.session.store import ProjectStore
from tests.conftest import trusted
from tests.integration.background.conftest import next_event
from tests.integration.background.test_testwatch import make_pytest_project
from tests.waiting import BOUND, until


def _descendants() -> set[int]:
    return {p.pid for p in psutil.Process(os.getpid()).children(recursive=True)}


async def test_services_watch_a_project_and_the_snapshot_survives_a_resume(
    git_project: Path, activated_venv: str
) -> None:
    from app.context.index import SymbolIndex

    root = trusted(git_project)  # its tests run in the background only when trusted (app/trust.py)
    make_pytest_project(root)
    (root / "logs").mkdir()
    (root / "logs" / "app.log").write_text("INFO booted\n")
    config = Config(log_paths=("logs/*.log",), test_debounce_ms=200)
    session = ProjectStore(root).session("main")
    index = SymbolIndex.open(root)
    before = _descendants()

    services = BackgroundServices(root, config, session, symbol_index=index)
    subscription = services.bus.subscribe()
    async with services:
        first = await next_event(subscription, lambda e: isinstance(e, TestRunFinished))
        assert isinstance(first, TestRunFinished) and (first.passed, first.failed) == (1, 2)
        await asyncio.wait_for(services.lsp.clients["python"].ready.wait(), BOUND)  # type: ignore[union-attr]
        await until(services.watcher.ready.is_set, what="the watcher's watches")
        logs = services.logs
        assert logs is not None
        await until(lambda: logs.follows("logs/app.log"), what="the tailer to follow logs/app.log")

        with open(root / "logs" / "app.log", "a") as handle:
            handle.write("ERROR payment service unreachable\n")
        log_error = await next_event(subscription, lambda e: isinstance(e, LogError))
        assert isinstance(log_error, LogError) and log_error.path == "logs/app.log"
        # The followed log is the tailer's: its appends are not reported as file changes.
        assert not any(isinstance(e, FileChanged) and "logs/app.log" in e.paths for e in services.bus.history)

        (root / "calc.py").write_text(
            "def add(a, b):\n    return a + b + offset\n\n\ndef brand_new_helper():\n    pass\n"
        )
        diagnostics = await next_event(
            subscription, lambda e: isinstance(e, DiagnosticsUpdated) and e.path == "calc.py"
        )
        assert isinstance(diagnostics, DiagnosticsUpdated)
        assert [(d.line, d.severity) for d in diagnostics.errors] == [(2, "error")]
        rerun = await next_event(subscription, lambda e: isinstance(e, TestRunFinished))
        assert isinstance(rerun, TestRunFinished) and rerun.failed == 3  # `offset` is undefined at run time
        await until(lambda: index.definitions("brand_new_helper"), what="the index to learn the new function")
        assert [s.path for s in index.definitions("brand_new_helper")] == ["calc.py"]

        proposed = await services.diagnose_text(str(root / "calc.py"), "def add(a, b):\n    return a + b\n")
        assert [d for d in proposed if d.severity == "error"] == []
        # The pipeline runs on a worker thread: the same question from there.
        from_thread = await asyncio.to_thread(
            services.diagnose_text_from_thread,
            "calc.py",
            "def add(a, b):\n    return a + b + offest\n",
            BOUND,
        )
        assert any('"offest" is not defined' in d.message for d in from_thread)
        assert services.open_diagnostics()["calc.py"][0].line == 2
    index.close()

    await until(lambda: not (_descendants() - before), what="the services' processes to end")
    states = {e.name: e.state for e in services.bus.history if isinstance(e, ServiceStatus)}
    assert set(states.values()) == {"stopped"}

    saved = session.background()
    assert saved["tests"]["failed"] == 3
    assert {f["test_id"] for f in saved["tests"]["failures"]} >= {"tests/test_calc.py::test_add"}
    assert saved["diagnostics"]["calc.py"][0]["message"].startswith('"offset" is not defined')
    assert saved["log_errors"][0]["entry"] == "ERROR payment service unreachable"

    # Resume: a new run of the same session shows what the last one knew before anything runs again.
    resumed = BackgroundServices(root, config, ProjectStore(root).session("main"), lsp=False, tests=False)
    async with resumed:
        replay = resumed.restored_events()
        kinds = [e.kind for e in replay]
        assert kinds == ["test_run_finished", "diagnostics_updated", "log_error"]
        tests = replay[0]
        assert isinstance(tests, TestRunFinished) and tests.failures[0].file == "tests/test_calc.py"
        assert resumed.last_test_result is not None and resumed.last_test_result.failed == 3
    assert ProjectStore(root).session("main").background()["tests"]["failed"] == 3


async def test_with_everything_off_only_the_watcher_runs(project: Path) -> None:
    services = BackgroundServices(project, Config(lsp=False, watch_tests=False))
    async with services:
        await asyncio.wait_for(services.watcher.ready.wait(), BOUND)
        assert services.supervisor.states() == {"watcher": "running"}
        assert await services.diagnose_text("a.py", "print(x)\n") == []
    assert services.supervisor.states() == {"watcher": "stopped"}
