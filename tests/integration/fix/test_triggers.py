"""The fix loop started from what the background services saw: a failing run of the real test watcher (its run
is the baseline, so the suite is not run again first) and an error entry of the real log tailer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.background.bus import EventBus
from app.background.logtail import LogTailer
from app.background.testwatch import TestWatcher
from app.config import load_config
from app.events import Applied, Decision, DiffReady, Info, TestsRun
from app.fix.loop import run_fix
from app.fix.triggers import request_for_log_error, request_for_test_run
from app.session.store import ProjectStore
from app.trust import trust_current
from tests.conftest import git
from tests.support.fix_project import RIGHT, TEST_CMD, replace_block
from tests.waiting import until


async def never_asked(_ready: DiffReady) -> Decision:
    raise AssertionError("automatic fixes apply without asking")


async def test_a_failing_watcher_run_starts_a_fix_that_reuses_the_run(broken: Path, model) -> None:
    server = model([{"reply": RIGHT}])
    watcher = TestWatcher(broken, EventBus(), TEST_CMD, run_on_start=False)
    finished = await watcher.run_once("calc/ops.py changed")
    assert finished is not None and not finished.ok
    session = ProjectStore(broken).session("main")
    config = load_config(broken, {"base_url": server.base_url, "model": "scripted-model"})
    request = request_for_test_run(finished, broken, session, config, auto_apply=True)
    assert [e.test_id for e in request.errors or []] == ["tests/test_ops.py::test_mean_empty"]

    events = [event async for event in run_fix(request, never_asked)]

    runs = [(e.scope, e.ok) for e in events if isinstance(e, TestsRun)]
    assert runs == [("failing", True), ("suite", True)]  # no baseline run: the watcher's run is the baseline
    assert any(isinstance(e, Applied) for e in events)
    assert "return 0" in (broken / "calc/ops.py").read_text()
    assert "ZeroDivisionError" in server.chat_requests()[0]["body"]["messages"][-1]["content"]


APP = """\
import logging

log = logging.getLogger("shop")


def total(order):
    return sum(item["price"] * item["qty"] for item in order["items"])


def handle(order):
    try:
        return total(order)
    except KeyError:
        log.exception("order %s could not be priced", order["id"])
        return None
"""

RUN = """\
import logging

from shop.app import handle

logging.basicConfig(filename="app.log", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
handle({"id": 7, "items": [{"price": 2}]})
"""

APP_TESTS = """\
from shop.app import total


def test_total():
    assert total({"items": [{"price": 2, "qty": 3}]}) == 6
"""


async def test_a_log_error_starts_a_fix_verified_by_the_suite(git_project: Path, model) -> None:
    root = git_project
    (root / "shop").mkdir()
    (root / "shop/__init__.py").write_text("")
    (root / "shop/app.py").write_text(APP)
    (root / "run.py").write_text(RUN)
    (root / "tests").mkdir()
    (root / "tests/test_app.py").write_text(APP_TESTS)
    (root / ".gitignore").write_text("app.log\n__pycache__/\n")
    (root / ".ai-agent.toml").write_text(f"test_cmd = {TEST_CMD!r}\n")
    trust_current(root)
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "shop")
    tailer = LogTailer(root, EventBus(), ["app.log"], from_start=True)
    subprocess.run([sys.executable, "run.py"], cwd=root, check=True)
    # The entry is complete once the file stayed quiet for a poll, as in the running service.
    (log_error,) = tailer.poll_once() + tailer.poll_once()
    assert log_error.error_kind == "traceback"
    old = '    return sum(item["price"] * item["qty"] for item in order["items"])\n'
    new = '    return sum(item["price"] * item.get("qty", 1) for item in order["items"])\n'
    server = model([{"reply": replace_block(old, new, "shop/app.py", "A missing qty means one.")}])
    session = ProjectStore(root).session("main")
    config = load_config(root, {"base_url": server.base_url, "model": "scripted-model"})
    request = request_for_log_error(log_error, root, session, config, auto_apply=True)
    (error,) = request.errors or []
    assert (error.kind, error.file, error.line) == ("KeyError", "shop/app.py", 7)

    events = [event async for event in run_fix(request, never_asked)]

    assert any(isinstance(e, Info) and "cannot be re-run" in e.message for e in events)
    assert [(e.scope, e.ok) for e in events if isinstance(e, TestsRun)] == [
        ("baseline", True),
        ("suite", True),
    ]
    assert any(isinstance(e, Applied) for e in events)
    assert 'item.get("qty", 1)' in (root / "shop/app.py").read_text()
    prompt = server.chat_requests()[0]["body"]["messages"][-1]["content"]
    assert "order 7 could not be priced" in prompt and APP in prompt


async def test_a_reported_test_failure_that_passes_now_needs_no_fix(broken: Path, model) -> None:
    from app.events import Finished
    from app.fix.loop import FixRequest
    from app.fix.parsers import ParsedError

    server = model([{"reply": RIGHT}])
    (broken / "calc/ops.py").write_text(
        (broken / "calc/ops.py").read_text().replace("return sum", "return 0 if not values else sum")
    )
    reported = ParsedError(
        "calc/ops.py",
        2,
        0,
        "division by zero",
        "ZeroDivisionError",
        (),
        "pytest",
        "",
        "tests/test_ops.py::test_mean_empty",
    )
    session = ProjectStore(broken).session("main")
    config = load_config(broken, {"base_url": server.base_url, "model": "scripted-model"})
    events = [e async for e in run_fix(FixRequest(broken, session, config, errors=[reported]), never_asked)]
    assert isinstance(events[-1], Finished) and events[-1].ok
    assert events[-1].summary == "the failing tests pass now: nothing to fix"
    assert server.chat_requests() == []


def test_language_server_errors_become_fix_targets(tmp_path: Path) -> None:
    from app.config import Config
    from app.events import Diagnostic
    from app.fix.triggers import request_for_diagnostics

    diagnostics = [
        Diagnostic(
            "calc/ops.py",
            3,
            12,
            3,
            13,
            "error",
            '"y" is not defined',
            "basedpyright",
            "reportUndefinedVariable",
        ),
        Diagnostic("calc/ops.py", 1, 8, 1, 10, "warning", '"os" is not accessed', "basedpyright"),
    ]
    request = request_for_diagnostics(diagnostics, tmp_path, None, Config())
    (error,) = request.errors or []
    assert (error.file, error.line, error.column, error.kind) == (
        "calc/ops.py",
        3,
        12,
        "reportUndefinedVariable",
    )
    assert error.summary() == 'calc/ops.py:3:12: reportUndefinedVariable: "y" is not defined'
    assert request.trigger == "the language server"


async def test_after_a_watcher_run_the_model_is_asked_while_the_copy_is_made_and_a_cancel_leaves_none(
    broken: Path, model, tmp_path: Path
) -> None:
    import asyncio

    from app.events import FixStarted

    server = model([{"reply": RIGHT, "stall": 300.0, "stall_after": 5}])
    finished = await TestWatcher(broken, EventBus(), TEST_CMD, run_on_start=False).run_once("change")
    assert finished is not None
    session = ProjectStore(broken).session("main")
    config = load_config(broken, {"base_url": server.base_url, "model": "scripted-model"})
    scratch_parent = tmp_path / "scratch"
    scratch_parent.mkdir()
    request = request_for_test_run(finished, broken, session, config, scratch_parent=scratch_parent)
    started: list[FixStarted] = []

    async def consume() -> None:
        async for event in run_fix(request, never_asked):
            if isinstance(event, FixStarted):
                started.append(event)

    task = asyncio.create_task(consume())
    await until(server.chat_requests, what="the model to be asked")
    # The fix started without waiting for the copy (nothing runs in it before the model's answer).
    assert started and started[0].scratch_seconds == 0.0
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    # A copy still being made is removed as soon as it is done.
    await until(lambda: not list(scratch_parent.iterdir()), what="the scratch copy to be removed")
    assert "return 0" not in (broken / "calc/ops.py").read_text()
