"""Pilot tests of /add, /drop, /compact and /init typed in the goal input, against the scripted model server: a
pinned file goes with every goal until dropped, a compaction's summary replaces the history before it, and
/init's AGENTS.md is a proposal applied (and undone) like a build's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.tui import WorkspaceApp, make_app, texts
from app.tui.context_pane import ContextPane
from app.workspace.agents import UP_TO_DATE
from tests.conftest import git
from tests.model_server import ScriptedModelServer
from tests.tui.builds import model_config
from tests.tui.conftest import FROZEN_TIME, SIZE, feed_messages, wait_for_session, wait_until
from tests.tui.test_context_panel import panel_text, row_of
from tests.tui.test_slash import chat, send_goal, type_line

SUMMARY = "SUMMARY-MARKER: the user asked about alpha; nothing was changed."
SCRIPT: dict[str, Any] = {
    "rules": [{"when": {"last_user_contains": "Summarise this coding session"}, "reply": SUMMARY}],
    "default": {"reply": "Nothing to change here."},
}


def app_for(root: Path, model: ScriptedModelServer) -> WorkspaceApp:
    return make_app(root, "main", config=model_config(model.base_url), clock=lambda: FROZEN_TIME)


async def test_a_pinned_file_goes_with_every_goal_until_dropped(project: Path) -> None:
    (project / "notes").mkdir()
    (project / "notes" / "spec.py").write_text("def spec():\n    return 'PINNED-MARKER'\n")
    with ScriptedModelServer(SCRIPT) as model:
        app = app_for(project, model)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for_session(pilot, "main")
            await type_line(pilot, "/add missing.py")
            await wait_until(pilot, lambda: "not pinned: missing.py" in chat(app), what="the refusal")
            assert "PINNED-MARKER" not in await send_goal(pilot, model, "a goal naming nothing")
            await type_line(pilot, "/add notes/spec.py")
            await wait_until(pilot, lambda: "pinned notes/spec.py (~" in chat(app), what="the pin line")
            assert "PINNED-MARKER" in await send_goal(pilot, model, "another goal naming nothing")
            # The context panel says why the file is there.
            await pilot.press("ctrl+t")
            panel = app.main_screen.query_one(ContextPane)
            await wait_until(pilot, lambda: "notes/spec.py" in panel_text(panel), what="the pin in the panel")
            assert "pinned" in row_of(panel_text(panel), "notes/spec.py")
            await pilot.press("ctrl+t")
            await type_line(pilot, "/drop notes/spec.py")
            await wait_until(pilot, lambda: "unpinned notes/spec.py" in chat(app), what="the unpin line")
            assert "PINNED-MARKER" not in await send_goal(pilot, model, "a third goal naming nothing")
            await type_line(pilot, "/drop")
            await wait_until(pilot, lambda: texts.NOTHING_PINNED in chat(app), what="nothing pinned")


async def test_compact_sends_the_summary_instead_of_the_history(project: Path) -> None:
    with ScriptedModelServer(SCRIPT) as model:
        app = app_for(project, model)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for_session(pilot, "main")
            await send_goal(pilot, model, "first goal: explain alpha-marker")
            before = len(model.chat_requests())
            await type_line(pilot, "/compact")
            await wait_until(pilot, lambda: SUMMARY in chat(app), what="the summary in the conversation")
            compaction = model.chat_requests()[before]["body"]["messages"]
            assert "alpha-marker" in compaction[-1]["content"]
            sent = await send_goal(pilot, model, "second goal: beta")
            assert "SUMMARY-MARKER" in sent and "alpha-marker" not in sent


async def test_compact_without_a_model_says_what_to_set(project: Path) -> None:
    from app.config import Config

    app = make_app(project, "main", config=Config(lsp=False), clock=lambda: FROZEN_TIME)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        await type_line(pilot, "/compact")
        await wait_until(pilot, lambda: "not compacted:" in chat(app), what="the failure line")


async def test_init_proposes_agents_md_applied_with_y_and_undone_with_ctrl_z(git_project: Path) -> None:
    from widgets.approval import ApprovalScreen

    (git_project / "shop").mkdir()
    (git_project / "shop" / "cart.py").write_text("def total(items):\n    return sum(items)\n")
    git(git_project, "add", ".")
    git(git_project, "commit", "-q", "-m", "shop")
    agents = git_project / "AGENTS.md"
    with ScriptedModelServer(SCRIPT) as model:
        app = app_for(git_project, model)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for_session(pilot, "main")
            await type_line(pilot, "/init")
            await wait_until(pilot, lambda: isinstance(app.screen, ApprovalScreen), what="the approval")
            assert [f.path for f in app.main_screen.diff.files] == ["AGENTS.md"]
            assert not agents.exists()  # nothing is written before the decision
            await pilot.press("y")
            await wait_until(pilot, lambda: agents.exists() and not app.main_screen.busy, what="the apply")
            text = agents.read_text()
            assert text.startswith("# AGENTS.md") and "shop/cart.py" in text
            assert "AGENTS.md" in git(git_project, "show", "--stat", "HEAD")
            await type_line(pilot, "/init")
            await wait_until(
                pilot,
                lambda: any(UP_TO_DATE in m for m in feed_messages(pilot)) or UP_TO_DATE in chat(app),
                what="up to date",
            )
            await pilot.press("ctrl+z")
            await wait_until(pilot, lambda: not agents.exists(), what="the undo")
    assert model.chat_requests() == []  # /init asks no model
