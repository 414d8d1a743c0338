"""The Textual App: settings, theme, global keys. The panes live in ``MainScreen``."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypedDict, Unpack

from textual.app import App
from textual.binding import Binding
from textual.notifications import SeverityLevel

from app.config import Config
from app.session.store import ProjectStore
from app.text.terminal import safe_text
from app.tui import texts
from app.tui.commands import WorkspaceCommands
from app.tui.main_screen import MainScreen
from app.tui.messages import SessionShown
from app.tui.settings import WorkspaceSettings

# styles/ sits next to app/ both in the source tree and when installed (the wheel ships it as a package).
STYLES = Path(__file__).resolve().parents[2] / "styles"


def project_label(root: Path) -> str:
    try:
        return "~/" + str(root.relative_to(Path.home()))
    except ValueError:
        return str(root)


class WorkspaceApp(App[int]):
    TITLE = "ai"
    CSS_PATH = [STYLES / "workspace.tcss", STYLES / "dialogs.tcss"]
    COMMANDS = App.COMMANDS | {WorkspaceCommands}
    BINDINGS = [
        Binding("ctrl+q", "quit", texts.KEYS["quit"], id="quit", priority=True),
        # Priority: a modal (the approval, a dialog) shuts out the App's other keys.
        Binding("f1", "help", texts.KEYS["help"], id="help", priority=True),
    ]

    SessionShown = SessionShown  # posted to the App when a session's visible tail is on screen

    def __init__(
        self,
        root: Path,
        session_name: str,
        *,
        config: Config,
        initial_goal: str | None = None,
        continue_session: bool = False,
        background: bool = True,
        store: ProjectStore | None = None,
        clock: Callable[[], float] = time.time,
        label: str | None = None,
    ) -> None:
        super().__init__()
        self.settings = WorkspaceSettings(
            root=root,
            config=config,
            store=store or ProjectStore(root),
            clock=clock,
            project_label=label or project_label(root),
            background=background,
        )
        self.session_name = session_name
        self.initial_goal = initial_goal
        self.continue_session = continue_session

    def on_mount(self) -> None:
        screen = MainScreen(self.settings, self.session_name, self.initial_goal, self.continue_session)
        self.push_screen(screen)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast of the workspace (widgets' ``notify`` lands here): its text often quotes an error, a
        path or a model's words, so it is shown escaped and never read as markup (a ``[`` in an error would
        break it, a ``[@click=...]`` would be an action)."""
        super().notify(
            safe_text(message, multiline=True),
            title=safe_text(title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def action_help(self) -> None:
        """F1 anywhere (``?`` in the workspace): the help screen; F1 again closes it."""
        from app.tui.help_screen import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
        else:
            self.push_screen(HelpScreen())

    @property
    def main_screen(self) -> MainScreen:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        raise LookupError("the workspace screen is not open")


class AppOptions(TypedDict, total=False):
    """``make_app``'s options, as ``WorkspaceApp`` takes them."""

    initial_goal: str | None
    continue_session: bool
    background: bool
    clock: Callable[[], float]
    label: str | None


def make_app(root: Path, session_name: str, *, config: Config, **options: Unpack[AppOptions]) -> WorkspaceApp:
    """The one way to build the workspace: used by the command line, the tests and the screenshot script.

    ``background`` (default on) starts the session's background services (watcher, language servers, tests,
    logs). ``clock`` and ``label`` (the project as shown) exist so snapshots can freeze time and paths.
    """
    return WorkspaceApp(root, session_name, config=config, **options)
