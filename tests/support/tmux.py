"""The one tmux driver of the end-to-end tests: a tmux server on its own socket whose window ``ai`` runs the
program under test, with its screen read and keys sent the way a user's terminal would."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.waiting import BOUND, wait_for


class Tmux:
    def __init__(self, socket: Path, *, check: bool = False) -> None:
        self.socket = str(socket)
        self.check = check  # a tmux command that fails raises, instead of answering ""

    def __call__(self, *args: str) -> str:
        # COLUMNS/LINES from the outer terminal would override the pane's size for the app.
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TMUX")}
        done = subprocess.run(
            ["tmux", "-S", self.socket, *args],
            capture_output=True,
            text=True,
            check=self.check,
            env=env,
            timeout=BOUND,
        )
        return done.stdout

    def start(
        self, cwd: Path, env: dict[str, str], command: str, columns: int = 120, lines: int = 36
    ) -> None:
        """The window ``ai``, a shell running ``command`` in ``cwd`` with ``env`` exported."""
        exports = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
        self("-f", "/dev/null", "new-session", "-d", "-s", "ai", "-x", str(columns), "-y", str(lines),
             "-c", str(cwd), *exports, command)  # fmt: skip

    def keys(self, *keys: str, literal: bool = False) -> None:
        self("send-keys", "-t", "ai", *(["-l"] if literal else []), *keys)

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "ai")

    def wait_for(self, text: str, timeout: float = BOUND) -> str:
        """Until ``text`` is on the terminal; returns what it shows."""

        def showing() -> str | None:
            screen = self.screen()
            return screen if text in screen else None

        return wait_for(
            showing,
            timeout,
            f"{text!r} on the terminal",
            detail=lambda: f"the terminal shows:\n{self.screen()}",
        )

    def close(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True, timeout=BOUND)
