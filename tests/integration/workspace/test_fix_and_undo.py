"""The command line's fix, undo and suggestions through the workspace (app/commands/fix.py, undo.py, suggest.py):
the fix of the failing tests (``tests_fix_request``), the undo's preview (``undo_plan``) and the undo itself, the
suggestions of a session not stored yet; in a real git repository against the scripted model server."""

from __future__ import annotations

from pathlib import Path

from app.config import load_config
from app.events import Decision, DecisionKind, DiffReady, Event, Finished, FixVerified
from app.session.store import ProjectStore, Session
from app.workspace import Workspace
from tests.conftest import git
from tests.model_server import ScriptedModelServer
from tests.support import fix_project
from tests.support.fix_project import OPS, RIGHT, TEST_CMD

# A git project whose test_mean_empty fails, with the user's uncommitted and untracked work beside it.
failing = fix_project.broken
FIXED = OPS.replace(
    "def mean(values):\n    return", "def mean(values):\n    if not values:\n        return 0\n    return"
)


def workspace_of(root: Path, server: ScriptedModelServer) -> Workspace:
    config = load_config(root, {"base_url": server.base_url, "model": "scripted-model", "max_retries": 0})
    return Workspace(root, config, ProjectStore(root).session("main"))


async def test_the_fix_of_the_failing_tests_applies_and_the_undo_previews_then_reverts_it(
    failing: Path,
) -> None:
    decided: list[DiffReady] = []

    async def apply(ready: DiffReady) -> Decision:
        decided.append(ready)
        return Decision(DecisionKind.APPLY)

    with ScriptedModelServer({"rules": [{"reply": RIGHT}]}) as server:
        workspace = workspace_of(failing, server)
        request = workspace.tests_fix_request(auto_apply=True)
        assert request.test_cmd == TEST_CMD and request.errors is None  # the test command runs first
        events: list[Event] = [e async for e in workspace.fix(request, apply)]

    verified = next(e for e in events if isinstance(e, FixVerified))
    assert verified.files == ("calc/ops.py",)
    assert isinstance(events[-1], Finished) and events[-1].ok
    assert (failing / "calc/ops.py").read_text() == FIXED
    fixed_head = git(failing, "rev-parse", "HEAD").strip()
    work_in_progress = git(failing, "status", "--porcelain")

    plan = workspace.undo_plan()
    assert plan is not None and plan.files == ["calc/ops.py"]
    assert "return 0" in "".join(plan.diffs.values())
    assert (failing / "calc/ops.py").read_text() == FIXED  # a preview writes nothing

    result = await workspace.undo()
    assert result is not None and list(result.files) == ["calc/ops.py"]
    assert (failing / "calc/ops.py").read_text() == OPS
    assert result.commit and git(failing, "rev-parse", "HEAD").strip() == result.commit != fixed_head
    assert git(failing, "status", "--porcelain") == work_in_progress  # the user's work left as it was
    # Nothing is left to undo: neither a preview nor an undo.
    assert workspace.undo_plan() is None
    assert workspace.undo_last_change() is None


async def test_a_fix_shown_only_is_neither_applied_nor_asked_about(failing: Path) -> None:
    async def never(_ready: DiffReady) -> Decision:
        raise AssertionError("a shown-only fix asks nobody")

    with ScriptedModelServer({"rules": [{"reply": RIGHT}]}) as server:
        workspace = workspace_of(failing, server)
        request = workspace.tests_fix_request(show_only="run it again with --yes")
        events: list[Event] = [e async for e in workspace.fix(request, never)]

    assert any(isinstance(e, FixVerified) for e in events)
    assert isinstance(events[-1], Finished)
    assert (failing / "calc/ops.py").read_text() == OPS
    assert workspace.undo_plan() is None


async def test_the_suggestions_of_a_session_not_stored_run_the_tests_and_store_nothing(failing: Path) -> None:
    store = ProjectStore(failing)
    config = load_config(failing, {"model": ""})
    workspace = Workspace(failing, config, Session(store, "not-yet"))
    announced: list[str] = []

    report = await workspace.suggest(announced.append, own_snapshot=False)

    assert announced and "pytest" in announced[0]  # the test command's line, before it ran
    failing_tests = [s for s in report.suggestions if s.kind == "failing_test"]
    assert failing_tests and "test_mean_empty" in failing_tests[0].title + failing_tests[0].place
    assert not store.exists("not-yet") and store.list_sessions() == []
