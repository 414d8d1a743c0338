"""Stage 7's language-server check of a proposal, owned by the workspace: the ``BuildRequest.diagnose``
provider a build is given (``await provider(path, text)``: the diagnostics the proposed ``text`` adds to
``path``; app/pipeline/diagnostics.py asks it about each changed file).

``proposal_check(services, root)`` picks the one for the workspace: the running language servers of its
background services when it has them (``RunningServersCheck``), else a short-lived server of its own
(``ProposalDiagnostics``).

``ProposalDiagnostics`` starts its server on first use, and only for a language it serves here (Python, through
basedpyright): a proposal without Python files never starts a process. It gives errors and warnings (hints are
noise in a preview). ``prepare(path)`` starts it early (the pipeline calls it when the model completes a block),
so its start-up overlaps the model's stream. ``close()`` ends it.

``RunningServersCheck`` asks the services on their own event loop: directly when the build runs on that loop,
else (the TUI runs a build on a worker thread with a loop of its own) through a thread that waits for the
services' answer.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from app.background.services import BackgroundServices
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


class RunningServersCheck:
    """The diagnostics a proposed text adds to its file, from the background services' running servers."""

    def __init__(self, services: BackgroundServices) -> None:
        self.services = services

    async def __call__(self, path: str, text: str) -> list[Diagnostic]:
        services = self.services
        if services.loop is asyncio.get_running_loop():
            return await services.new_diagnostics(path, text)
        return await asyncio.to_thread(services.diagnose_text_from_thread, path, text, only_new=True)

    async def close(self) -> None:
        """Nothing to end: the servers are the services' (they stop with them)."""


def proposal_check(
    services: BackgroundServices | None, root: Path, lsp: bool
) -> RunningServersCheck | ProposalDiagnostics | None:
    """Stage 7's provider for a workspace: None when language servers are off (``lsp``)."""
    if services is not None:
        return RunningServersCheck(services) if services.lsp is not None else None
    return ProposalDiagnostics(root) if lsp else None
