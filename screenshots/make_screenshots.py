"""Regenerate the workspace screenshots shown in README.md.

Drives the real app (built by ``make_app``, as `ai` builds it) through Textual's Pilot against the scripted
model server, on a throwaway git project and data root, and writes one SVG per state next to this script::

    .venv/bin/python screenshots/make_screenshots.py
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

SIZE = (120, 36)
OPS = (
    "def add(a, b):\n    return a + b\n\n\n"
    "def subtract(a, b):\n    return a + b\n\n\n"
    "def multiply(a, b):\n    return a * b\n\n\n"
    "def power(a, b):\n    return a**b\n\n\n"
    "def divide(a, b):\n    return a / b\n"
)
PLAN = (
    "I read `calc/ops.py` in full. Two problems:\n\n"
    "1. `subtract` adds instead of subtracting.\n"
    "2. `divide` raises a bare `ZeroDivisionError`; a clear `ValueError` is friendlier.\n\n"
    "Plan: fix `subtract`, guard `divide`, keep `add` as it is.\n\n"
)
REPLY = (
    PLAN
    + "<<<<<<< REPLACE calc/ops.py\ndef subtract(a, b):\n    return a + b\n=======\n"
    + "def subtract(a, b):\n    return a - b\n>>>>>>> END\n\n"
    + "<<<<<<< REPLACE calc/ops.py\ndef divide(a, b):\n    return a / b\n=======\n"
    + 'def divide(a, b):\n    if b == 0:\n        raise ValueError("cannot divide by zero")\n    return a / b\n'
    + ">>>>>>> END\n"
)
STAMP = "2026-03-14T09:26:53+00:00"
CLOCK = 1_773_480_413.0


def git(root: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
    }
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def make_project(base: Path) -> Path:
    root = base / "shop"
    (root / "calc").mkdir(parents=True)
    (root / "calc" / "__init__.py").write_text("")
    (root / "calc" / "ops.py").write_text(OPS)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "calculator")
    return root


def session_document(name: str, goal: str, changes: int, exchange: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "format": "ai-agent-session",
        "version": 1,
        "metadata": {
            "name": name,
            "created_at": STAMP,
            "last_used": STAMP,
            "goal_summary": goal,
            "change_count": changes,
            "is_active": False,
        },
        "messages": [{"role": role, "content": text, "ts": STAMP} for role, text in exchange],
        "changes": [{"id": f"c{i}", "summary": goal, "files": []} for i in range(changes)],
        "undo": [],
    }


def add_sessions(root: Path) -> None:
    from app.session.store import ProjectStore

    store = ProjectStore(root)
    store.import_session(
        session_document(
            "auth-refactor",
            "implement JWT login",
            3,
            [
                ("user", "implement JWT login"),
                ("assistant", "Read `app/auth.py`, `app/users.py`.\n\nPlan:\n1. add a `jwt` helper\n2. ..."),
                ("event", "✓ applied app/auth.py, app/users.py · commit 4f2a9c1e"),
            ],
        )
    )
    store.import_session(
        session_document(
            "dark-mode",
            "add a dark theme toggle",
            2,
            [("user", "add a dark theme toggle"), ("assistant", "Plan: a `theme` setting and a toggle.")],
        )
    )


async def shoot(
    root: Path,
    name: str,
    config: Any,
    drive: Callable[[Any], Awaitable[None]],
    *,
    goal: str | None = None,
    session: str = "main",
) -> None:
    from app.tui import make_app

    app = make_app(
        root,
        session,
        config=config,
        initial_goal=goal,
        background=False,
        clock=lambda: CLOCK,
        label="~/src/shop",
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait(pilot, lambda: getattr(app.main_screen, "shown_session", None) == session)
        app.main_screen.query_one("#goal").cursor_blink = False
        await drive(pilot)
        await pilot.pause(0.3)
        app.save_screenshot(filename=f"{name}.svg", path=str(HERE))
        print(f"wrote screenshots/{name}.svg")
        app.main_screen.runs.cancel()


async def wait(pilot: Any, condition: Callable[[], bool], timeout: float = 20.0) -> None:
    for _ in range(int(timeout / 0.05)):
        await pilot.pause()
        try:
            if condition():
                return
        except LookupError:
            pass
        await asyncio.sleep(0.05)
    raise TimeoutError("the app did not reach the state to screenshot")


async def main() -> None:
    from app.config import Config
    from tests.model_server import ScriptedModelServer
    from widgets.approval import ApprovalScreen

    with tempfile.TemporaryDirectory(prefix="ai-shots-") as scratch:
        base = Path(scratch)
        os.environ["AI_AGENT_HOME"] = str(base / "home")
        os.environ.pop("EDITOR", None)
        import app.session.store as store_module

        store_module.now_iso = lambda: STAMP  # type: ignore[assignment]  # steady "last used" columns
        root = make_project(base)

        async def nothing(pilot: Any) -> None:
            return None

        await shoot(root, "workspace-empty", Config(), nothing)

        add_sessions(root)
        await shoot(root, "workspace-sessions", Config(model="gpt-4o-mini", base_url="http://x"), nothing,
                    session="auth-refactor")  # fmt: skip

        fast = {"default": {"reply": REPLY, "usage": {"prompt_tokens": 2310, "completion_tokens": 142}}}
        with ScriptedModelServer(fast) as server:
            config = Config(
                base_url=server.base_url, api_key="k", model="gpt-4o-mini", lsp=False, watch_tests=False
            )

            async def approval(pilot: Any) -> None:
                await wait(pilot, lambda: isinstance(pilot.app.screen, ApprovalScreen))
                await pilot.press("down", "space")  # skip the second hunk, to show the per-hunk choice

            await shoot(
                root, "workspace-approval", config, approval, goal="fix the calculator in calc/ops.py"
            )

            async def context(pilot: Any) -> None:
                from app.tui.context_pane import ContextPane

                await wait(pilot, lambda: isinstance(pilot.app.screen, ApprovalScreen))
                await pilot.press("n")  # rejected: the calculator stays broken for the "applied" shot
                await wait(pilot, lambda: not pilot.app.main_screen.busy)
                await pilot.press("ctrl+t")
                panel = pilot.app.main_screen.query_one(ContextPane)
                await wait(pilot, lambda: panel.display and panel.region.width > 0)

            await shoot(root, "workspace-context", config, context, goal="fix the calculator in calc/ops.py")

            async def applied(pilot: Any) -> None:
                await wait(pilot, lambda: isinstance(pilot.app.screen, ApprovalScreen))
                await pilot.press("escape")
                screen = pilot.app.main_screen
                screen.diff.focus()
                await pilot.press("y")
                await wait(pilot, lambda: not screen.busy)

            await shoot(root, "workspace-applied", config, applied, goal="fix the calculator in calc/ops.py")

            async def completion(pilot: Any) -> None:
                screen = pilot.app.main_screen
                await wait(pilot, lambda: screen.completion.files is not None)
                await pilot.press(*"explain @ops")
                await wait(pilot, lambda: screen.query_one("#completion").is_open)

            await shoot(root, "workspace-completion", config, completion)

            async def help_screen(pilot: Any) -> None:
                from app.tui.help_screen import HelpScreen

                await pilot.press("f1")
                await wait(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))

            await shoot(root, "workspace-help", config, help_screen)
        slow = {"default": {"reply": REPLY, "chunk_size": 6, "chunk_delay": 0.04,
                            "usage": {"prompt_tokens": 2310, "completion_tokens": 142}}}  # fmt: skip
        with ScriptedModelServer(slow) as server:
            config = Config(
                base_url=server.base_url, api_key="k", model="gpt-4o-mini", lsp=False, watch_tests=False
            )

            async def mid_stream(pilot: Any) -> None:
                chat = pilot.app.main_screen.chat
                await wait(
                    pilot,
                    lambda: chat.streaming and "Plan: fix" in (chat._reply.source if chat._reply else ""),
                )

            await shoot(
                root, "workspace-streaming", config, mid_stream, goal="fix the calculator in calc/ops.py"
            )

        print(json.dumps({"ok": True}))


if __name__ == "__main__":
    asyncio.run(main())
