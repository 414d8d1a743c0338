"""What the main screen's collaborators (sessions, fixes, trust, runs) use of it, as a protocol: they reach the
screen through this, so none of them imports app/tui/main_screen.py, which composes them."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, NotRequired, Protocol, TypedDict, Unpack

if TYPE_CHECKING:
    from textual.app import App
    from textual.message import Message
    from textual.notifications import SeverityLevel

    from app.background.services import BackgroundServices
    from app.events import DiffReady, Stage
    from app.llm.usage import TokenUsage
    from app.tui.build_bridge import Run
    from app.tui.settings import WorkspaceSettings
    from app.workspace import Workspace
    from widgets.chat_view import ChatView
    from widgets.diff_preview import DiffPreview
    from widgets.event_log import EventLog
    from widgets.session_list import SessionList
    from widgets.stage_progress import StageProgress

Work = Callable[[], Any] | Coroutine[Any, Any, Any]


class WorkerOptions(TypedDict):
    """How ``Host.start_worker`` runs a worker: its group and description, and whether it is exclusive in its
    group, a thread."""

    group: str
    description: str
    exclusive: NotRequired[bool]
    thread: NotRequired[bool]


class Host(Protocol):
    settings: WorkspaceSettings
    session_name: str
    busy: bool
    # The open session's token usage (stored plus this run's) and the last build's or fix's (app/llm/usage.py).
    usage: TokenUsage
    turn_usage: TokenUsage
    # The open session's background services (its workspace's), or None while they are off or starting.
    services: BackgroundServices | None

    @property
    def app(self) -> App[Any]: ...

    @property
    def chat(self) -> ChatView: ...

    @property
    def events(self) -> EventLog: ...

    @property
    def diff(self) -> DiffPreview: ...

    @property
    def session_list(self) -> SessionList: ...

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information") -> None:
        """A toast (the App's ``notify`` shows it escaped)."""

    def start_worker(self, work: Work, **options: Unpack[WorkerOptions]) -> None:
        """Run ``work`` as one of the screen's workers (a failure becomes an event-log line)."""

    def ui(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run ``function`` on the UI thread from a worker thread (and wait for it)."""

    async def begin_run(self, run: Run, fixing: bool = False) -> None:
        """Run a build (or, with ``fixing``, a fix) of the workspace on the pipeline's thread."""

    def current_workspace(self) -> Workspace:
        """The session's workspace (app/workspace/): the running one, else one without background services."""

    async def start_build(self, goal: str) -> None: ...

    def open_session(self, name: str, then_goal: str | None = None) -> None: ...

    def run_background(self, name: str) -> Any: ...


class RunHost(Host, Protocol):
    """What a build or fix run (app/tui/runs.py) uses of the screen besides ``Host``."""

    stage: Stage | None
    pending: DiffReady | None

    @property
    def progress(self) -> StageProgress: ...

    def post_message(self, message: Message) -> bool: ...

    def refresh_sessions(self) -> None: ...

    def action_focus_goal(self) -> None: ...


class ModelHost(Host, Protocol):
    """What the model picker and the tokens line (app/tui/model_desk.py) use of the screen besides ``Host``."""

    model_name: str
    usage_text: str
    # The session's running workspace, whose next builds take the model picked.
    workspace: Workspace | None


class ModelCommands(Protocol):
    """The slash commands of the model desk (app/tui/model_desk.py), as the slash desk calls them."""

    async def cmd_model(self, argument: str) -> None: ...

    async def cmd_tokens(self, argument: str) -> None: ...


class SlashHost(Host, Protocol):
    """What the slash commands (app/tui/slash_desk.py) use of the screen besides ``Host``."""

    @property
    def models(self) -> ModelCommands:
        """/model and /tokens (app/tui/model_desk.py's ModelDesk)."""

    def show_sessions(self, visible: bool | None = True) -> None:
        """Show (True), hide (False) or toggle (None) the session list; it takes the focus when shown."""

    def export_session(self) -> None: ...
