"""Language-server diagnostics of a proposal before it is applied (stage 7, Validate), for faces that do not
run the background services themselves (headless ``--build``).

``ProposalDiagnostics`` is a ``BuildRequest.diagnose`` provider: ``await provider(path, text)`` gives the
diagnostics the proposed ``text`` adds to ``path`` (errors and warnings; hints are noise in a preview). The
language server starts on first use, and only for a language it serves here (Python, through basedpyright):
a proposal without Python files never starts a process. ``prepare(path)`` starts it early (the pipeline calls
it when the model completes a block), so its start-up overlaps the model's stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from app.events import Diagnostic

SERVED_LANGUAGES = ("python",)  # others would download or npm-install a server: not on a headless build
SHOWN_SEVERITIES = ("error", "warning")


class ProposalDiagnostics:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._supervisor: Any = None
        self._servers: Any = None
        self._lock = asyncio.Lock()

    def serves(self, path: str) -> bool:
        from app.project.languages import server_of

        return server_of(path) in SERVED_LANGUAGES

    async def prepare(self, path: str) -> bool:
        """Start the server for ``path``'s language when it is one served here; False when not."""
        if not self.serves(path):
            return False
        async with self._lock:
            if self._servers is None:
                from app.background.bus import EventBus
                from app.background.lsp_servers import LanguageServers
                from app.background.supervisor import Supervisor

                bus = EventBus()
                supervisor = Supervisor(bus)
                servers = LanguageServers(
                    self.root, bus, lambda name, run: supervisor.add(name, run, reports_running=True)
                )
                servers.start_detected(SERVED_LANGUAGES)
                await supervisor.start()
                self._supervisor, self._servers = supervisor, servers
        return True

    async def __call__(self, path: str, text: str) -> list[Diagnostic]:
        if not await self.prepare(path):
            return []
        # The file is opened as it is on disk first, so the probe of the proposed text is a didChange (and the
        # current diagnostics come from the open document): a probe's didOpen/didClose pair can leave the
        # server's "cleared" report to be taken for the next probe's answer.
        if (self.root / path).is_file():
            await self._servers.open_files([path])
        # The caller bounds the time (asyncio.wait_for); the servers' own bound is only a backstop.
        found = await self._servers.new_diagnostics(path, text, 60.0)
        return [d for d in found if d.severity in SHOWN_SEVERITIES]

    async def close(self) -> None:
        """End the server process (if one was started)."""
        if self._supervisor is not None:
            with contextlib.suppress(Exception):
                await self._supervisor.stop()
            self._supervisor = self._servers = None
