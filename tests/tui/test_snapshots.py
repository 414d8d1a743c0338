"""Snapshot tests of the key screens (pytest-textual-snapshot): empty workspace, streaming, diff approval,
error feed, and the narrow layout. Time, paths and token counts are frozen; `--snapshot-update` rewrites them
after a deliberate change (look at the report first)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Config
from app.events import (
    BlockCompleted,
    ErrorEvent,
    FilesRead,
    Info,
    ProseDelta,
    Stage,
    StageFinished,
    StageStarted,
    Usage,
)
from app.session.store import ProjectStore
from app.tui import make_app
from tests.conftest import git
from tests.model_server import ScriptedModelServer
from tests.tui.conftest import FROZEN_TIME, history_document, wait_for_session, wait_until
from widgets.approval import ApprovalScreen
from widgets.diff_preview import DiffPreview

STAMP = "2026-01-02T03:04:05+00:00"
SIZE = (120, 36)
PLAN = "Plan:\n\n1. make `subtract` subtract\n2. keep `add` as it is\n\n"
REPLY = (
    PLAN + "<<<<<<< REPLACE calc/ops.py\ndef subtract(a, b):\n    return a + b\n=======\n"
    "def subtract(a, b):\n    return a - b\n>>>>>>> END\n"
)


@pytest.fixture(autouse=True)
def frozen_store_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.session.store.now_iso", lambda: STAMP)
    monkeypatch.delenv("EDITOR", raising=False)


def app_for(root: Path, session: str = "main", config: Config | None = None):
    return make_app(
        root,
        session,
        config=config or Config(),
        background=False,
        clock=lambda: FROZEN_TIME,
        label="~/src/shop",
    )


def with_sessions(root: Path) -> None:
    store = ProjectStore(root)
    for name, count in (("auth-refactor", 6), ("dark-mode", 2)):
        store.import_session(history_document(name, count))


def freeze_cursor(app) -> None:
    """The input's cursor blinks every half second: keep it steady for the screenshot."""
    goal = app.main_screen.query_one("#goal")
    goal.cursor_blink = False
    goal._cursor_visible = True


async def open_main(pilot) -> None:
    await wait_for_session(pilot, "main")
    freeze_cursor(pilot.app)
    # Background services are off here, so every worker ends: the session's token usage is read by then.
    await pilot.app.workers.wait_for_complete()
    await pilot.wait_for_scheduled_animations()


def rendered_reply(pilot) -> str:
    """The streaming reply as its paragraphs show it (the stream renders in its own task)."""
    from textual.widgets import Markdown
    from textual.widgets._markdown import MarkdownParagraph

    replies = pilot.app.main_screen.chat.query(Markdown)
    return " ".join(str(p.render()) for p in replies.last().query(MarkdownParagraph)) if replies else ""


def test_empty_workspace(snap_compare, project: Path) -> None:
    assert snap_compare(app_for(project), terminal_size=SIZE, run_before=open_main)


def test_empty_workspace_at_80x24(snap_compare, project: Path) -> None:
    assert snap_compare(app_for(project), terminal_size=(80, 24), run_before=open_main)


def test_streaming_plan(snap_compare, project: Path) -> None:
    with_sessions(project)
    config = Config(base_url="http://127.0.0.1:9/v1", model="gpt-4o-mini")

    async def streaming(pilot) -> None:
        await open_main(pilot)
        screen = pilot.app.main_screen
        for stage in (Stage.GOAL, Stage.LOCATE, Stage.READ, Stage.CONTEXT):
            await screen.show_event(StageStarted(stage))
            await screen.show_event(StageFinished(stage))
        await screen.chat.add_message("user", "make subtract subtract in calc/ops.py")
        await screen.show_event(FilesRead(("calc/ops.py", "calc/__init__.py")))
        await screen.show_event(StageStarted(Stage.PLAN))
        for start in range(0, len(PLAN), 7):
            await screen.show_event(ProseDelta(PLAN[start : start + 7]))
        await screen.show_event(StageFinished(Stage.PLAN))
        await screen.show_event(StageStarted(Stage.EDIT))
        await screen.show_event(BlockCompleted(0, "REPLACE", "calc/ops.py"))
        await wait_until(
            pilot, lambda: rendered_reply(pilot).endswith("keep add as it is"), what="the whole plan shown"
        )
        await pilot.wait_for_scheduled_animations()

    assert snap_compare(app_for(project, config=config), terminal_size=SIZE, run_before=streaming)


def test_error_feed(snap_compare, project: Path) -> None:
    config = Config(base_url="http://127.0.0.1:9/v1", model="gpt-4o-mini")

    async def failing(pilot) -> None:
        await open_main(pilot)
        screen = pilot.app.main_screen
        await screen.chat.add_message("user", "add a dark mode")
        await screen.show_event(StageStarted(Stage.GOAL))
        await screen.show_event(StageFinished(Stage.GOAL))
        await screen.show_event(StageStarted(Stage.PLAN))
        await screen.show_event(Info("tests: 41 passed"))
        await screen.show_event(Usage(1200, 0, 1200))
        await screen.show_event(
            ErrorEvent(
                "the model endpoint refused the connection after 3 attempts; check OPENAI_BASE_URL",
                stage=Stage.PLAN,
                fatal=True,
            )
        )
        await pilot.wait_for_scheduled_animations()

    assert snap_compare(app_for(project, config=config), terminal_size=SIZE, run_before=failing)


def test_diff_approval(snap_compare, git_project: Path) -> None:
    """The real pipeline against the scripted model, stopped at the approval."""
    (git_project / "calc").mkdir()
    (git_project / "calc" / "ops.py").write_text(
        "def add(a, b):\n    return a + b\n\n\ndef subtract(a, b):\n    return a + b\n"
    )
    git(git_project, "add", ".")
    git(git_project, "commit", "-q", "-m", "calc")
    script = {"default": {"reply": REPLY, "usage": {"prompt_tokens": 1500, "completion_tokens": 60}}}
    with ScriptedModelServer(script) as server:
        config = Config(
            base_url=server.base_url, api_key="k", model="gpt-4o-mini", lsp=False, watch_tests=False
        )
        app = make_app(
            git_project,
            "main",
            config=config,
            initial_goal="make subtract subtract in calc/ops.py",
            background=False,
            clock=lambda: FROZEN_TIME,
            label="~/src/shop",
        )

        async def approval(pilot) -> None:
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, ApprovalScreen), what="approval")
            # The input lost its focus to the approval: its cursor is hidden, not blinking.
            diff = pilot.app.screen.query_one(DiffPreview)
            await wait_until(pilot, lambda: bool(diff.hunk_views), what="the proposal's hunks")
            await pilot.wait_for_scheduled_animations()

        assert snap_compare(app, terminal_size=SIZE, run_before=approval)


def with_project_files(root: Path) -> None:
    for path in ("app/users.py", "app/user_admin.py", "app/orders.py", "tests/test_users.py", "README.md"):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(f"# {path}\n")


def test_completion_popup_for_slash(snap_compare, project: Path) -> None:
    async def typed(pilot) -> None:
        await open_main(pilot)
        popup = pilot.app.main_screen.query_one("#completion")
        await pilot.press("/")
        await wait_until(pilot, lambda: popup.is_open, what="the popup")
        await pilot.wait_for_scheduled_animations()

    assert snap_compare(app_for(project), terminal_size=SIZE, run_before=typed)


def test_completion_popup_for_at(snap_compare, project: Path) -> None:
    with_project_files(project)

    async def typed(pilot) -> None:
        await open_main(pilot)
        screen = pilot.app.main_screen
        await wait_until(pilot, lambda: screen.completion.files is not None, what="the file list")
        await pilot.press(*"fix @usr")
        await wait_until(pilot, lambda: screen.query_one("#completion").is_open, what="the popup")
        await pilot.wait_for_scheduled_animations()

    assert snap_compare(app_for(project), terminal_size=SIZE, run_before=typed)


async def open_help(pilot) -> None:
    from app.tui.help_screen import HelpScreen

    await open_main(pilot)
    await pilot.press("f1")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), what="the help screen")
    await pilot.wait_for_scheduled_animations()


def test_help_screen(snap_compare, project: Path) -> None:
    assert snap_compare(app_for(project), terminal_size=SIZE, run_before=open_help)


def test_help_screen_at_80x24(snap_compare, project: Path) -> None:
    assert snap_compare(app_for(project), terminal_size=(80, 24), run_before=open_help)


def test_model_picker(snap_compare, project: Path) -> None:
    """The picker over the endpoint's models, the current one marked, a filter typed."""
    script = {"rules": [], "models": ["gpt-4o", "gpt-4o-mini", "llama3.1:8b", "qwen2.5-coder:7b"]}
    with ScriptedModelServer(script) as server:
        config = Config(base_url=server.base_url, api_key="k", model="gpt-4o-mini", lsp=False)

        async def picking(pilot) -> None:
            from app.tui.model_picker import ModelPicker

            await open_main(pilot)
            pilot.app.main_screen.action_pick_model()
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, ModelPicker), what="the picker")
            picker = pilot.app.screen
            await wait_until(pilot, lambda: picker.names is not None, what="the endpoint's models")
            await pilot.press(*"gpt")
            await wait_until(pilot, lambda: len(picker.shown) == 2, what="the filtered list")
            filter_input = picker.query_one("#model-filter")
            filter_input.cursor_blink = False
            await pilot.wait_for_scheduled_animations()

        assert snap_compare(app_for(project, config=config), terminal_size=SIZE, run_before=picking)


def test_context_panel(snap_compare, project: Path) -> None:
    """ctrl+t at 120x36: the last goal's context, largest first, against gpt-4o's window."""
    from app.events import ContextEntry, ContextReady, Why

    config = Config(base_url="http://127.0.0.1:9/v1", model="gpt-4o")
    entries = (
        ContextEntry("calc/ops.py", Why.NAMED, 2_410),
        ContextEntry("calc/texts.py", Why.SYMBOL, 1_180),
        ContextEntry("calc/ops.py", Why.SEARCH, 40),
        ContextEntry("docs/notes.md", Why.SEARCH, 95),
        ContextEntry("repo map", Why.REPO_MAP, 3_020, section=True),
        ContextEntry("AGENTS.md", Why.RELATED, 210),
    )
    ready = ContextReady(
        tokens=22_655,
        bytes=90_600,
        files=("calc/ops.py", "calc/texts.py"),
        dropped=("calc/big.py (cut to regions)",),
        entries=entries,
        history_tokens=15_700,
        window=128_000,
        window_source="known",
        system_tokens=690,
    )

    async def with_context(pilot) -> None:
        await open_main(pilot)
        screen = pilot.app.main_screen
        await screen.chat.add_message("user", "make subtract subtract in calc/ops.py")
        await screen.show_event(ready)
        await screen.show_event(
            FilesRead(
                ("calc/tests/test_ops.py",),
                reason="asked with READ",
                entries=(ContextEntry("calc/tests/test_ops.py", Why.READ, 860),),
            )
        )
        await pilot.press("ctrl+t")
        await pilot.wait_for_scheduled_animations()

    assert snap_compare(app_for(project, config=config), terminal_size=SIZE, run_before=with_context)
