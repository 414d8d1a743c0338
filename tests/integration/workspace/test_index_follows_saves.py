"""The workspace opens the symbol index once and hands it to the file watcher: a function saved while the
workspace is open is found by the symbol search the pipeline uses, without a rebuild."""

from __future__ import annotations

from pathlib import Path

from app.config import Config
from app.context.search import search_symbols
from app.events import FileChanged
from app.session.store import ProjectStore
from app.workspace import Workspace
from tests.integration.background.conftest import next_event
from tests.waiting import BOUND, until


async def test_a_function_saved_while_the_workspace_is_open_is_found_without_a_rebuild(
    git_project: Path, agent_home: Path
) -> None:
    import asyncio

    (git_project / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    session = ProjectStore(git_project).session("main")
    config = Config(lsp=False, watch_tests=False)
    async with await Workspace.open(git_project, config, session, background=True) as workspace:
        index, services = workspace.index, workspace.services
        assert index is not None and services is not None
        assert [hit.path for hit in search_symbols(index, "add", fuzzy=False)] == ["calc.py"]
        assert search_symbols(index, "brand_new_helper", fuzzy=False) == []
        await until(services.watcher.ready.is_set, what="the watcher's watches")
        subscription = workspace.subscribe()

        (git_project / "calc.py").write_text(
            "def add(a, b):\n    return a + b\n\n\ndef brand_new_helper():\n    return 42\n"
        )
        changed = await next_event(
            subscription, lambda e: isinstance(e, FileChanged) and "calc.py" in e.paths
        )
        assert isinstance(changed, FileChanged)
        await asyncio.wait_for(workspace.index_updated("calc.py"), BOUND)

        hits = search_symbols(index, "brand_new_helper", fuzzy=False)
        assert [(hit.path, hit.line) for hit in hits] == [("calc.py", 5)]
    assert workspace.index is None  # closed with the workspace
