"""Every language server of one project: one client per language (app/background/lsp.py), started when the
project holds the language or when a file of it changes, the user's trust handed on, file changes routed to the
server of their language, and the diagnostics of a proposed text or of the open files asked of the right one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from app.background.bus import EventBus
from app.background.lsp import DIAGNOSE_TIMEOUT, LanguageServerClient
from app.background.lsp_launch import needs_trust
from app.events import Diagnostic
from app.project.languages import server_of

log = logging.getLogger(__name__)

LARGE_BATCH = 50  # changed source files in one batch above which no new document is opened


class LanguageServers:
    """Every language server of the project; ``add_service`` registers a started one with the supervisor."""

    def __init__(
        self,
        root: Path,
        bus: EventBus,
        add_service: Callable[[str, Callable[[], Any]], None] | None = None,
        *,
        python_server: str = "basedpyright",
        trusted: bool | None = None,
    ) -> None:
        """``python_server``: "basedpyright" (real diagnostics; jedi when it is not installed) or "jedi".
        ``trusted``: whether the project's code may run (default: what the user said, app/trust.py)."""
        self.root = root.resolve()
        self.bus = bus
        self.clients: dict[str, LanguageServerClient] = {}
        self._add_service = add_service
        self.python_server = python_server
        if trusted is None:
            from app.trust import project_trusted

            trusted = project_trusted(self.root)
        self.trusted = asyncio.Event()
        if trusted:
            self.trusted.set()

    def client(self, language: str) -> LanguageServerClient:
        """The client for ``language``, registering its service on first use."""
        existing = self.clients.get(language)
        if existing is not None:
            return existing
        client = LanguageServerClient(self.root, self.bus, language, self.python_server, self.trusted)
        self.clients[language] = client
        if self._add_service is not None:
            self._add_service(client.service_name, client.run)
        return client

    def start_detected(self, languages: Iterable[str]) -> None:
        for language in sorted(languages):
            self.client(language)

    def project_trusted(self) -> None:
        """The user trusted the project: the servers that waited start, basedpyright takes its interpreter."""
        if self.trusted.is_set():
            return
        self.trusted.set()
        for client in self.clients.values():
            client.project_trusted()

    def waiting_for_trust(self) -> list[str]:
        """The servers of this project that wait for trust, each with why (for the workspace's question)."""
        if self.trusted.is_set():
            return []
        waiting = []
        for language in sorted(self.clients):
            reason = needs_trust(language, self.python_server)
            if reason is not None:
                waiting.append(reason)
        return waiting

    async def on_files_changed(self, changed: list[str], removed: list[str]) -> None:
        """A watcher sink: didOpen/didChange+didSave for changed source files, didClose for removed ones.
        A large batch (a checkout, a generator) opens no new documents: only the open ones are updated."""
        sources = [relpath for relpath in changed if server_of(relpath)]
        if len(sources) > LARGE_BATCH:
            sources = [p for p in sources if any(p in c.documents for c in self.clients.values())]
        for relpath in sources:
            language = server_of(relpath)
            if language:
                await self.client(language).sync_file(relpath)
        for relpath in removed:
            language = server_of(relpath)
            if language and language in self.clients:
                await self.clients[language].close_file(relpath)

    async def open_files(self, relpaths: Iterable[str]) -> None:
        await self.on_files_changed(list(relpaths), [])

    async def diagnose_text(
        self, relpath: str, text: str, timeout: float = DIAGNOSE_TIMEOUT
    ) -> list[Diagnostic]:
        """Diagnostics of proposed content; [] when no server handles this kind of file here."""
        language = server_of(relpath)
        if language is None:
            return []
        client = self.client(language)
        began = time.monotonic()
        with contextlib.suppress(TimeoutError):
            return await client.diagnose_text(relpath, text, timeout)
        log.debug("no diagnostics for %s after %.1f s", relpath, time.monotonic() - began)
        return []

    async def new_diagnostics(
        self, relpath: str, text: str, timeout: float = DIAGNOSE_TIMEOUT
    ) -> list[Diagnostic]:
        """What the proposed ``text`` would add: its diagnostics less those the current content already has
        (matched by severity, message and code, so lines that merely moved do not count as new)."""
        proposed = await self.diagnose_text(relpath, text, timeout)
        if not proposed:
            return []
        current = await self._current_diagnostics(relpath, timeout)
        remaining = Counter((d.severity, d.message, d.code) for d in current)
        added = []
        for diagnostic in proposed:
            key = (diagnostic.severity, diagnostic.message, diagnostic.code)
            if remaining[key] > 0:
                remaining[key] -= 1
            else:
                added.append(diagnostic)
        return added

    async def _current_diagnostics(self, relpath: str, timeout: float) -> list[Diagnostic]:
        try:
            on_disk = (self.root / relpath).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []  # a new file: everything is new
        language = server_of(relpath)
        client = self.clients.get(language) if language else None
        if client is not None:
            document = client.documents.get(relpath)
            stored = client.diagnostics.get(relpath)
            if document is not None and document.text == on_disk and stored and stored[0] == document.version:
                return list(stored[1])
        return await self.diagnose_text(relpath, on_disk, timeout)

    def can_diagnose(self, relpath: str) -> bool:
        language = server_of(relpath)
        client = self.clients.get(language) if language else None
        return client is not None and client.ready.is_set()

    def open_diagnostics(self) -> dict[str, list[Diagnostic]]:
        """The current diagnostics of every open document that has any."""
        result: dict[str, list[Diagnostic]] = {}
        for client in self.clients.values():
            for relpath, (_version, diagnostics) in client.diagnostics.items():
                if diagnostics:
                    result[relpath] = list(diagnostics)
        return dict(sorted(result.items()))
