"""Session pins through the workspace: a pinned file is in the request of every goal of the session, in full,
after a reopen and through `ai --continue` too; after /drop it is not. The path checks are the guarded reader's."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from app.config import Config, load_config
from app.events import ContextReady, Decision, DecisionKind, DiffReady, Event
from app.session.store import ProjectStore
from app.workspace import Workspace
from app.workspace.pins import PinRefused
from tests.conftest import git
from tests.integration.pipeline.conftest import ai_build
from tests.model_server import ScriptedModelServer

NOTES = "Looked.\n<<<<<<< CREATE NOTES.md\nlooked\n>>>>>>> END\n"
PINNED_TEXT = '"""The users."""\n\n\ndef load_users():\n    return []  # PINNED-MARKER\n'


async def reject(_ready: DiffReady) -> Decision:
    return Decision(DecisionKind.REJECT)


@pytest.fixture
def shop(git_project: Path) -> Path:
    (git_project / "app").mkdir()
    (git_project / "app" / "users.py").write_text(PINNED_TEXT)
    (git_project / "other.py").write_text("X = 1\n")
    (git_project / ".env").write_text("TOKEN=secret-value\n")
    (git_project / "blob.bin").write_bytes(b"\x00\x01\x02binary")
    (git_project / "docs").mkdir()
    (git_project / "docs" / "a.md").write_text("a\n")
    git(git_project, "add", "-f", ".")
    git(git_project, "commit", "-q", "-m", "shop")
    return git_project


def _config(root: Path, server: ScriptedModelServer) -> Config:
    config = load_config(root, {"base_url": server.base_url, "model": "scripted-model"})
    return replace(config, lsp=False, watch_tests=False, max_retries=0)


async def _build(workspace: Workspace, goal: str) -> list[Event]:
    return [event async for event in workspace.build(goal, reject)]


def _last_request_text(server: ScriptedModelServer) -> str:
    return "\n".join(str(m["content"]) for m in server.chat_requests()[-1]["body"]["messages"])


async def test_a_pinned_file_goes_with_every_goal_survives_a_reopen_and_drop_ends_it(shop: Path) -> None:
    store = ProjectStore(shop)
    with ScriptedModelServer({"rules": [{"reply": NOTES}]}) as server:
        config = _config(shop, server)
        workspace = Workspace(shop, config, store.session("main"))
        pinned = workspace.pin("./app/users.py")
        assert pinned.path == "app/users.py" and pinned.tokens > 10 and not pinned.already
        assert workspace.pin(str(shop / "app" / "users.py")).already  # an absolute path inside: the same pin

        events = await _build(workspace, "tidy up the greeting")  # the goal names no file
        assert "PINNED-MARKER" in _last_request_text(server)
        context = next(e for e in events if isinstance(e, ContextReady))
        assert "app/users.py" in context.files

        # Reopened: a new store and workspace of the same session still pin it.
        reopened = Workspace(shop, config, ProjectStore(shop).session("main"))
        assert reopened.pinned() == ("app/users.py",)
        await _build(reopened, "another goal")
        assert "PINNED-MARKER" in _last_request_text(server)
        assert "(full file" in _last_request_text(server)

        assert reopened.unpin("app/users.py") == ("app/users.py",)
        assert reopened.unpin("app/users.py") == ()  # not pinned any more
        await _build(reopened, "a third goal")
        assert "PINNED-MARKER" not in _last_request_text(server)


async def test_drop_alone_unpins_every_file(shop: Path) -> None:
    workspace = Workspace(shop, Config(), ProjectStore(shop).session("main"))
    workspace.pin("app/users.py")
    workspace.pin("other.py")
    assert workspace.unpin(None) == ("app/users.py", "other.py")
    assert workspace.pinned() == ()
    assert workspace.unpin(None) == ()


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("../outside.py", "'..'"),
        ("/outside.py", "absolute"),
        ("missing.py", "no such file"),
        ("docs", "a folder"),
        ("blob.bin", "a binary file"),
        (".env", "a secrets file"),
        (".git/config", ".git"),
    ],
)
def test_what_cannot_be_pinned_is_refused_with_the_readers_reason(shop: Path, path: str, reason: str) -> None:
    (shop.parent / "outside.py").write_text("X = 1\n")
    path = str(shop.parent / "outside.py") if path == "/outside.py" else path
    workspace = Workspace(shop, Config(), ProjectStore(shop).session("main"))
    with pytest.raises(PinRefused) as refused:
        workspace.pin(path)
    assert reason in refused.value.reason
    assert workspace.pinned() == ()


def test_continue_from_the_command_line_sends_the_pins(shop: Path) -> None:
    Workspace(shop, Config(), ProjectStore(shop).session("main")).pin("app/users.py")
    with ScriptedModelServer({"rules": [{"reply": NOTES}]}) as server:
        result = ai_build(
            shop, server.base_url, "--continue", "--build", "a goal naming nothing", "--dry-run"
        )
        assert result.returncode == 0, result.stderr
        assert "PINNED-MARKER" in _last_request_text(server)
