"""What the workspace was opened with: the project, its config and store, the clock and label snapshots freeze.

One object held by the App and handed to its screen, so the screen and its collaborators read them without
importing the App (app/tui/app.py imports the screen).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.config import Config
from app.session.store import ProjectStore


@dataclass
class WorkspaceSettings:
    root: Path
    config: Config
    store: ProjectStore
    clock: Callable[[], float]
    project_label: str  # the project as the status line and the trust question show it
    background: bool  # the session's background services run (watcher, language servers, tests, logs)
    last_switch_seconds: float = 0.0  # how long the last session switch took (the benchmark reads it)
