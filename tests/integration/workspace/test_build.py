"""Builds through the workspace: with background services the build uses the workspace's symbol index (the one
the watcher keeps current) and leaves it open; stage 7's check is the running servers' or a short-lived one."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from app.config import Config, load_config
from app.events import Applied, ContextReady, Decision, DecisionKind, DiffReady, Event, Finished
from app.session.store import ProjectStore
from app.workspace import Workspace
from app.workspace.proposal_check import ProposalDiagnostics, RunningServersCheck
from tests.conftest import git
from tests.model_server import ScriptedModelServer
from tests.waiting import BOUND, until

HELPER = "def add(a, b):\n    return a + b\n\n\ndef brand_new_helper():\n    return 42\n"
REPLY = (
    "Plan: the helper answers 43.\n\n"
    "<<<<<<< REPLACE calc.py\n"
    "def brand_new_helper():\n"
    "    return 42\n"
    "=======\n"
    "def brand_new_helper():\n"
    "    return 43\n"
    ">>>>>>> END\n"
)


async def apply(_ready: DiffReady) -> Decision:
    return Decision(DecisionKind.APPLY)


async def test_a_build_in_an_open_workspace_finds_a_function_saved_after_it_opened(
    git_project: Path,
) -> None:
    (git_project / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    git(git_project, "add", "calc.py")
    git(git_project, "commit", "-q", "-m", "calc")
    session = ProjectStore(git_project).session("main")
    with ScriptedModelServer({"rules": [{"reply": REPLY}]}) as server:
        config = replace(
            load_config(git_project, {"base_url": server.base_url, "model": "scripted-model"}),
            lsp=False,
            watch_tests=False,
            max_retries=0,
        )
        async with await Workspace.open(git_project, config, session, background=True) as workspace:
            services = workspace.services
            assert services is not None and workspace.proposal_check() is None  # language servers off
            await until(services.watcher.ready.is_set, what="the watcher's watches")
            (git_project / "calc.py").write_text(HELPER)
            await asyncio.wait_for(workspace.index_updated("calc.py"), BOUND)

            events: list[Event] = [e async for e in workspace.build("make brand_new_helper return 43", apply)]
            context = next(e for e in events if isinstance(e, ContextReady))
            assert "calc.py" in context.files
            assert any(isinstance(e, Applied) for e in events)
            finished = events[-1]
            assert isinstance(finished, Finished) and finished.ok
            assert "return 43" in (git_project / "calc.py").read_text()
            # The workspace's index, not one of the build's own: still open after the build.
            assert workspace.index is not None and workspace.index.definitions("brand_new_helper")
        assert "brand_new_helper" in str(server.chat_requests()[0]["body"]["messages"])


async def test_stage_7_is_a_short_lived_server_without_background_services(git_project: Path) -> None:
    session = ProjectStore(git_project).session("main")
    async with await Workspace.open(git_project, Config(lsp=True), session) as headless:
        check = headless.proposal_check()
        assert isinstance(check, ProposalDiagnostics) and headless.proposal_check() is check
        assert await check("README.md", "hello\n") == []  # not a language served here: no process started
    async with await Workspace.open(git_project, Config(lsp=False), session) as without:
        assert without.proposal_check() is None


async def test_stage_7_asks_the_running_servers_from_another_loop_too(git_project: Path) -> None:
    session = ProjectStore(git_project).session("main")
    options = {"tests": False, "logs": False, "languages": []}
    async with await Workspace.open(
        git_project, Config(lsp=True), session, background=True, services_options=options
    ) as workspace:
        check = workspace.proposal_check()
        assert isinstance(check, RunningServersCheck)
        assert await check("README.md", "hello\n") == []
        # The TUI runs a build on a worker thread with a loop of its own.
        assert await asyncio.to_thread(asyncio.run, check("README.md", "hello\n")) == []
    assert Workspace(git_project, Config(), session, background=True).proposal_check() is None
