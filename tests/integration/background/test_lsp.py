"""Real language servers: basedpyright through multilspy's client (one server shared by this module, as it is
the slow part to start), TypeScript through multilspy, and a server that cannot start here."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from app.background.bus import EventBus
from app.background.lsp_launch import pyright_binary
from app.background.lsp_servers import LanguageServers
from app.background.supervisor import Supervisor
from app.events import DiagnosticsUpdated, ServiceStatus
from tests.conftest import trusted
from tests.integration.background.conftest import next_event
from tests.waiting import BOUND, until

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(pyright_binary() is None, reason="basedpyright is not installed (pip install -e .)"),
]

# BOUND (tests/waiting.py): what a server start or a diagnostic may take on a loaded machine (typically 2 s).


@dataclass
class Servers:
    root: Path
    bus: EventBus
    supervisor: Supervisor
    lsp: LanguageServers


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def servers(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Servers]:
    root = tmp_path_factory.mktemp("lsp-project")
    (root / "helpers.py").write_text("def double(x: int) -> int:\n    return 2 * x\n")
    bus = EventBus()
    supervisor = Supervisor(bus, backoff_initial=0.1)
    lsp = LanguageServers(root, bus, lambda name, run: supervisor.add(name, run, reports_running=True))
    lsp.start_detected(["python"])
    await supervisor.start()
    await asyncio.wait_for(lsp.clients["python"].ready.wait(), BOUND)
    yield Servers(root, bus, supervisor, lsp)
    await supervisor.stop()


async def _diagnostics_for(servers: Servers, relpath: str, text: str) -> DiagnosticsUpdated:
    subscription = servers.bus.subscribe(kinds=[DiagnosticsUpdated])
    (servers.root / relpath).write_text(text)
    await servers.lsp.on_files_changed([relpath], [])
    event = await next_event(subscription, lambda e: getattr(e, "path", None) == relpath, BOUND)
    subscription.close()
    assert isinstance(event, DiagnosticsUpdated)
    return event


async def reports_until(subscription: Any, path: str, version: int) -> list[DiagnosticsUpdated]:
    """Every diagnostics event published until the one for ``path`` at ``version`` (included)."""
    reports: list[DiagnosticsUpdated] = []

    async def collect() -> list[DiagnosticsUpdated]:
        async for event in subscription:
            assert isinstance(event, DiagnosticsUpdated)
            reports.append(event)
            if event.path == path and event.version == version:
                return reports
        raise AssertionError("the bus closed")

    return await asyncio.wait_for(collect(), BOUND)


async def test_an_undefined_name_is_reported_with_its_line(servers: Servers) -> None:
    began = time.monotonic()
    event = await _diagnostics_for(
        servers, "main.py", "import helpers\n\nprint(helpers.double(2))\nprint(totl)\n"
    )
    assert time.monotonic() - began < BOUND
    errors = event.errors
    assert len(errors) == 1
    assert (errors[0].path, errors[0].line, errors[0].column) == ("main.py", 4, 7)
    assert '"totl" is not defined' in errors[0].message
    assert event.version == servers.lsp.clients["python"].documents["main.py"].version
    assert event.server == "basedpyright"


async def test_a_type_error_is_reported(servers: Servers) -> None:
    event = await _diagnostics_for(servers, "typed.py", 'from helpers import double\n\ndouble("two")\n')
    assert [(d.line, d.severity) for d in event.errors] == [(3, "error")]
    assert "\"Literal['two']\"" in event.errors[0].message or "str" in event.errors[0].message


async def test_a_stale_report_is_never_published(servers: Servers) -> None:
    client = servers.lsp.clients["python"]
    subscription = servers.bus.subscribe(kinds=[DiagnosticsUpdated])
    path = servers.root / "flip.py"
    path.write_text("print(missing_one)\n")
    await servers.lsp.on_files_changed(["flip.py"], [])
    first_version = client.documents["flip.py"].version
    path.write_text("print('fixed')\n")
    await servers.lsp.on_files_changed(["flip.py"], [])
    final_version = client.documents["flip.py"].version
    assert final_version > first_version
    clean = await next_event(subscription, lambda e: getattr(e, "path", None) == "flip.py", BOUND)
    assert "flip.py" not in servers.lsp.open_diagnostics()
    # A third text as a barrier: the server reports on a document's versions in order, so a late report on
    # the first text would come before the report on this one.
    path.write_text("print(missing_three)\n")
    await servers.lsp.on_files_changed(["flip.py"], [])
    third_version = client.documents["flip.py"].version
    reports = [clean, *await reports_until(subscription, "flip.py", third_version)]
    for event in reports[:-1]:
        assert isinstance(event, DiagnosticsUpdated)
        if event.path == "flip.py":
            assert event.version == final_version and event.diagnostics == ()
    assert isinstance(reports[-1], DiagnosticsUpdated)
    assert [d.message for d in reports[-1].errors] == ['"missing_three" is not defined']


async def test_proposed_content_is_diagnosed_without_touching_disk_or_the_shown_diagnostics(
    servers: Servers,
) -> None:
    await _diagnostics_for(servers, "clean.py", "value = 1\n")
    subscription = servers.bus.subscribe(kinds=[DiagnosticsUpdated])
    proposed = "value = 1\nprint(valeu)\n"
    found = await servers.lsp.diagnose_text("clean.py", proposed, timeout=BOUND)
    assert [(d.line, d.severity) for d in found if d.severity == "error"] == [(2, "error")]
    assert '"valeu" is not defined' in found[0].message
    assert (servers.root / "clean.py").read_text() == "value = 1\n"
    # A file that does not exist yet can be diagnosed too.
    fresh = await servers.lsp.diagnose_text("new_module.py", "import helpers\nhelpers.tripple(1)\n", BOUND)
    assert any("tripple" in d.message for d in fresh)
    assert not (servers.root / "new_module.py").exists()
    # A new clean text on disk as a barrier: a probe's late report would come before the report on it.
    (servers.root / "clean.py").write_text("value = 1\n\n")
    await servers.lsp.on_files_changed(["clean.py"], [])
    barrier = servers.lsp.clients["python"].documents["clean.py"].version
    for event in await reports_until(subscription, "clean.py", barrier):
        assert event.diagnostics == (), f"a probe leaked into the shown diagnostics: {event.summary()}"
    assert "clean.py" not in servers.lsp.open_diagnostics()


async def test_only_the_errors_a_proposal_adds_are_new(servers: Servers) -> None:
    await _diagnostics_for(servers, "legacy.py", "print(old_problem)\n")
    proposed = "import os\n\nprint(old_problem)\nprint(new_problem)\n"
    added = await servers.lsp.new_diagnostics("legacy.py", proposed, timeout=BOUND)
    assert [(d.line, d.message) for d in added if d.severity == "error"] == [
        (4, '"new_problem" is not defined')
    ]
    fixed = await servers.lsp.new_diagnostics("legacy.py", "print('fine')\n", timeout=BOUND)
    assert fixed == []


async def test_a_killed_server_is_restarted_and_its_documents_reopened(servers: Servers) -> None:
    client = servers.lsp.clients["python"]
    old_pid = client.process_pid
    assert old_pid is not None
    subscription = servers.bus.subscribe()
    os.kill(old_pid, signal.SIGKILL)
    crashed = await next_event(
        subscription, lambda e: isinstance(e, ServiceStatus) and e.state == "crashed", BOUND
    )
    assert "exited" in crashed.summary()
    await next_event(subscription, lambda e: isinstance(e, ServiceStatus) and e.state == "running", BOUND)
    assert client.process_pid not in (None, old_pid)
    event = await _diagnostics_for(servers, "main.py", "print(still_missing)\n")
    assert '"still_missing" is not defined' in event.errors[0].message


async def test_a_server_that_would_be_downloaded_is_skipped_with_one_clear_event(tmp_path: Path) -> None:
    bus = EventBus()
    supervisor = Supervisor(bus)
    lsp = LanguageServers(tmp_path, bus, supervisor.add)
    lsp.start_detected(["java"])
    await supervisor.start()
    await until(lambda: supervisor.state("lsp:java") == "skipped", what="the java server to be skipped")
    statuses = [e for e in bus.history if isinstance(e, ServiceStatus) and e.name == "lsp:java"]
    assert statuses[-1].state == "skipped"
    assert "would download" in statuses[-1].message
    began = time.monotonic()
    assert await lsp.diagnose_text("Main.java", "class Main {}", timeout=BOUND) == []
    assert time.monotonic() - began < 1.0, "asking a skipped server must not wait for it"
    await supervisor.stop()


async def test_stopping_during_the_handshake_leaves_no_server_running(tmp_path: Path) -> None:
    import psutil

    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    bus = EventBus()
    supervisor = Supervisor(bus)
    lsp = LanguageServers(tmp_path, bus, lambda name, run: supervisor.add(name, run, reports_running=True))
    lsp.start_detected(["python"])
    await supervisor.start()
    # Until the server process exists, before its handshake is done.
    await until(lambda: {p.pid for p in me.children(recursive=True)} - before, what="the server process")
    await supervisor.stop()
    await until(lambda: not ({p.pid for p in me.children(recursive=True)} - before), what="it to end")


async def test_jedi_the_fallback_reports_a_syntax_error(tmp_path: Path) -> None:
    trusted(tmp_path)  # jedi imports compiled modules of the project: it waits for trust
    bus = EventBus()
    supervisor = Supervisor(bus)
    lsp = LanguageServers(
        tmp_path, bus, lambda name, run: supervisor.add(name, run, reports_running=True), python_server="jedi"
    )
    lsp.start_detected(["python"])
    await supervisor.start()
    try:
        await asyncio.wait_for(lsp.clients["python"].ready.wait(), BOUND)
        subscription = bus.subscribe(kinds=[DiagnosticsUpdated])
        (tmp_path / "broken.py").write_text("def f(:\n    pass\n")
        await lsp.on_files_changed(["broken.py"], [])
        event = await next_event(subscription, lambda e: bool(getattr(e, "diagnostics", ())), BOUND)
        assert isinstance(event, DiagnosticsUpdated) and event.server == "jedi"
        assert event.errors and event.errors[0].line == 1
    finally:
        await supervisor.stop()


async def test_typescript_reports_an_undefined_name(tmp_path: Path) -> None:
    trusted(tmp_path)  # typescript-language-server runs the project's TypeScript: it waits for trust
    bus = EventBus()
    supervisor = Supervisor(bus)
    lsp = LanguageServers(tmp_path, bus, supervisor.add)
    lsp.start_detected(["typescript"])
    await supervisor.start()
    try:
        client = lsp.clients["typescript"]
        ready = asyncio.create_task(client.ready.wait())
        await asyncio.wait([ready], timeout=180)  # the first use installs the server with npm
        if not ready.done():
            ready.cancel()
        if supervisor.state("lsp:typescript") == "skipped":
            pytest.skip(f"typescript-language-server cannot be installed here: {bus.history[-1].summary()}")
        assert client.ready.is_set()
        subscription = bus.subscribe(kinds=[DiagnosticsUpdated])
        (tmp_path / "app.ts").write_text("const total: number = 1;\nconsole.log(totl);\n")
        await lsp.on_files_changed(["app.ts"], [])
        event = await next_event(subscription, lambda e: bool(getattr(e, "diagnostics", ())), BOUND)
        assert isinstance(event, DiagnosticsUpdated)
        assert any(d.line == 2 and "totl" in d.message for d in event.errors)
    finally:
        await supervisor.stop()


async def test_a_server_that_runs_project_code_waits_for_trust_and_starts_once_given(tmp_path: Path) -> None:
    bus = EventBus()
    supervisor = Supervisor(bus)
    lsp = LanguageServers(tmp_path, bus, lambda name, run: supervisor.add(name, run, reports_running=True))
    statuses = bus.subscribe(kinds=[ServiceStatus])
    lsp.start_detected(["ruby"])
    await supervisor.start()
    try:
        waiting = await next_event(statuses, lambda e: getattr(e, "state", "") == "skipped", BOUND)
        assert isinstance(waiting, ServiceStatus) and waiting.name == "lsp:ruby"
        assert (
            "solargraph loads the project's Gemfile" in waiting.message and "`ai --trust`" in waiting.message
        )
        assert lsp.waiting_for_trust() == [waiting.message.split(": it starts")[0]]
        began = time.monotonic()
        assert await lsp.diagnose_text("app.rb", "puts 1\n", timeout=20) == []
        assert time.monotonic() - began < 1.0, "a server waiting for trust must not be waited for"

        lsp.project_trusted()
        # Now it really starts: here it finds no solargraph (or runs one that is installed).
        after = await next_event(
            statuses,
            lambda e: (
                getattr(e, "name", "") == "lsp:ruby" and getattr(e, "state", "") in ("running", "skipped")
            ),
            BOUND,
        )
        assert isinstance(after, ServiceStatus) and "trust" not in after.message, after
        assert lsp.waiting_for_trust() == []
    finally:
        await supervisor.stop()


async def test_basedpyright_runs_the_projects_interpreter_only_once_trusted_and_without_a_restart(
    tmp_path: Path,
) -> None:
    from tests.support.project_code import cloned_repository

    root, marker = cloned_repository(tmp_path)
    bus = EventBus()
    supervisor = Supervisor(bus)
    lsp = LanguageServers(root, bus, lambda name, run: supervisor.add(name, run, reports_running=True))
    lsp.start_detected(["python"])
    await supervisor.start()
    try:
        client = lsp.clients["python"]
        await asyncio.wait_for(client.ready.wait(), BOUND)
        pid = client.process_pid
        # A report on a file means its imports were resolved: by then the interpreter it was given ran.
        found = await lsp.diagnose_text("calc.py", "import missing_module_xyz\n", BOUND)
        assert any("missing_module_xyz" in d.message for d in found)
        assert not marker.exists(), f"basedpyright ran the untrusted project's Python: {marker.read_text()}"

        lsp.project_trusted()
        await until(marker.exists, what="the trusted project's interpreter to run")
        assert ".venv/bin/python ran" in marker.read_text(), "the trusted project's interpreter was not used"
        assert client.process_pid == pid, "trusting restarted the server"
    finally:
        await supervisor.stop()
