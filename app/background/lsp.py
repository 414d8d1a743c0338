"""One language server through multilspy: a supervised service per language (the set of them:
app/background/lsp_servers.py; which server and how it starts: app/background/lsp_launch.py).

Diagnostics come from ``textDocument/publishDiagnostics``, which multilspy does not expose: we subscribe to it
on its client inside ``start_server()``. Every document we open carries a version we keep; a diagnostic for any
other version is stale and dropped, so an old error is never shown after an edit (servers that send no version
are tagged with the version current when their report arrives).

Python runs basedpyright (real diagnostics: undefined names, type errors) through multilspy's client;
TypeScript/JavaScript run multilspy's typescript-language-server (installed with npm on first use); Rust, Go,
C/C++ and Ruby run when their server is already installed. A server that multilspy would download from the
internet is skipped with one ``ServiceStatus`` event, and so is one that cannot start.

Before the user trusted the project (app/trust.py), no server that runs the project's own code starts: each
such client waits for the trust (``needs_trust`` says why, per server) and its diagnostics are [] meanwhile.
basedpyright reads files only, so it runs at once, but it must not be handed the project's interpreter: it
executes the Python it is configured with (and, left to itself, the project's ``.venv/bin/python``) to learn
its search paths. So until trust it gets ai's own interpreter and the project's site-packages folders found by
listing them; once trusted, the project's interpreter, through a configuration change (no restart).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from app.background.bus import EventBus
from app.background.lsp_launch import create_server, needs_trust, project_python
from app.background.supervisor import ServiceUnavailable
from app.events import Diagnostic, DiagnosticsUpdated, ServiceStatus
from app.project.languages import language_id_of

log = logging.getLogger(__name__)

SEVERITIES = {1: "error", 2: "warning", 3: "information", 4: "hint"}
MAX_OPEN_DOCUMENTS = 200
DIAGNOSE_TIMEOUT = 20.0


def to_diagnostic(path: str, raw: dict[str, Any]) -> Diagnostic:
    start = raw.get("range", {}).get("start", {})
    end = raw.get("range", {}).get("end", start)
    code = raw.get("code", "")
    return Diagnostic(
        path=path,
        line=int(start.get("line", 0)) + 1,
        column=int(start.get("character", 0)) + 1,
        end_line=int(end.get("line", 0)) + 1,
        end_column=int(end.get("character", 0)) + 1,
        severity=SEVERITIES.get(int(raw.get("severity") or 1), "error"),
        message=str(raw.get("message", "")).strip(),
        source=str(raw.get("source", "")),
        code=str(code) if code is not None else "",
    )


@dataclass
class _Document:
    version: int
    text: str


class LanguageServerClient:
    """One language's server: started, fed documents and listened to; ``run`` is its supervised service."""

    def __init__(
        self,
        root: Path,
        bus: EventBus,
        language: str,
        python_server: str = "basedpyright",
        trusted: asyncio.Event | None = None,
    ) -> None:
        self.root = root
        self.bus = bus
        self.language = language
        self.python_server = python_server
        # Set once the user trusted the project (app/trust.py); a client made on its own trusts nothing.
        self.trusted = trusted if trusted is not None else asyncio.Event()
        self.service_name = f"lsp:{language}"
        self.server_label = language
        self.ready = asyncio.Event()
        self.documents: OrderedDict[str, _Document] = OrderedDict()
        self.diagnostics: dict[str, tuple[int | None, tuple[Diagnostic, ...]]] = {}
        self._versions: dict[str, int] = {}
        self._probes: dict[str, tuple[int, asyncio.Future[tuple[Diagnostic, ...]]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._server: Any = None
        self.process_pid: int | None = None
        self.unavailable: str | None = None
        self.unavailable_event = asyncio.Event()

    # -- the service ---------------------------------------------------------------------------------------

    async def run(self) -> None:
        await self._wait_for_trust()
        try:
            await self._run()
        except ServiceUnavailable as exc:
            self.unavailable = str(exc)  # diagnose_text answers at once from now on
            self.unavailable_event.set()
            raise

    async def _wait_for_trust(self) -> None:
        """A server that runs the project's code starts only once the project is trusted; meanwhile it says
        so once, and diagnose_text answers [] at once instead of waiting for it."""
        reason = needs_trust(self.language, self.python_server)
        if reason is None or self.trusted.is_set():
            return
        from app.trust import HOW_TO_TRUST_PROJECT

        self.unavailable = f"{reason}: it starts once you trust this project"
        self.unavailable_event.set()
        self.bus.publish(
            ServiceStatus(self.service_name, "skipped", f"{self.unavailable} ({HOW_TO_TRUST_PROJECT})")
        )
        await self.trusted.wait()
        self.unavailable = None
        self.unavailable_event.clear()

    def project_trusted(self) -> None:
        """The project was trusted while this server runs: basedpyright moves to the project's interpreter."""
        from app.background.lsp_pyright import PyrightServer

        server = self._server
        if isinstance(server, PyrightServer) and server.python_path != project_python(self.root):
            server.use_interpreter(project_python(self.root), [])

    async def _run(self) -> None:
        server = await asyncio.to_thread(self._create_server)
        started = False
        try:
            async with server.start_server():
                started = True
                await self._serve(server)
        except BaseException as exc:
            if started:
                raise
            # multilspy leaves the process running when the handshake fails or is cancelled: end it.
            with contextlib.suppress(Exception):
                await asyncio.shield(server.server.stop())
            if isinstance(exc, AssertionError | OSError):
                # An unexpected server version or a binary that does not run: a retry would fail the same way.
                reason = str(exc) or type(exc).__name__
                raise ServiceUnavailable(f"{self.server_label} could not start: {reason}") from None
            raise

    async def _serve(self, server: Any) -> None:
        # multilspy registered a no-op for diagnostics; ours replaces it before any document is open.
        server.server.on_notification("textDocument/publishDiagnostics", self._on_diagnostics)
        self._server = server
        if self.trusted.is_set():
            self.project_trusted()  # trusted while it started: its interpreter is still ai's own
        process = server.server.process
        self.process_pid = process.pid if process else None
        try:
            for relpath, document in list(self.documents.items()):
                self._send_open(relpath, document.version, document.text)
            self.ready.set()
            self.bus.publish(ServiceStatus(self.service_name, "running", self.server_label))
            code = await process.wait() if process else None
            # The polite shutdown request would wait 30 s for an answer from a dead process.
            server.server.shutdown = _already_exited
            raise RuntimeError(f"{self.server_label} exited with status {code}")
        finally:
            self.ready.clear()
            self._server = None
            for _version, future in self._probes.values():
                if not future.done():
                    future.cancel()

    def _create_server(self) -> Any:
        """The multilspy server object for this language (blocking: may run npm install)."""

        def named(label: str) -> None:
            self.server_label = label

        def starting(detail: str) -> None:
            self.bus.publish(ServiceStatus(self.service_name, "starting", detail))

        return create_server(
            self.root,
            self.language,
            self.python_server,
            self.trusted.is_set(),
            named=named,
            starting=starting,
        )

    # -- documents -----------------------------------------------------------------------------------------

    def _uri(self, relpath: str) -> str:
        return (self.root / relpath).as_uri()

    def _language_id(self, relpath: str) -> str:
        return language_id_of(relpath) or self.language

    def _next_version(self, relpath: str) -> int:
        version = self._versions.get(relpath, 0) + 1
        self._versions[relpath] = version
        return version

    def _send_open(self, relpath: str, version: int, text: str) -> None:
        self._server.server.notify.did_open_text_document(
            {
                "textDocument": {
                    "uri": self._uri(relpath),
                    "languageId": self._language_id(relpath),
                    "version": version,
                    "text": text,
                }
            }
        )

    def _send_change(self, relpath: str, version: int, text: str) -> None:
        self._server.server.notify.did_change_text_document(
            {
                "textDocument": {"uri": self._uri(relpath), "version": version},
                "contentChanges": [{"text": text}],
            }
        )

    def _send_close(self, relpath: str) -> None:
        self._server.server.notify.did_close_text_document({"textDocument": {"uri": self._uri(relpath)}})

    def _lock(self, relpath: str) -> asyncio.Lock:
        return self._locks.setdefault(relpath, asyncio.Lock())

    async def sync_file(self, relpath: str) -> None:
        """The file changed on disk: open it, or send its new text (didChange) and didSave."""
        try:
            text = (self.root / relpath).read_text(encoding="utf-8", errors="replace")
        except OSError:
            await self.close_file(relpath)
            return
        async with self._lock(relpath):
            document = self.documents.get(relpath)
            if document is not None and document.text == text:
                return
            version = self._next_version(relpath)
            if document is None:
                self.documents[relpath] = _Document(version, text)
                self._evict()
                if self._server is not None:
                    self._send_open(relpath, version, text)
            else:
                document.version, document.text = version, text
                self.documents.move_to_end(relpath)
                if self._server is not None:
                    self._send_change(relpath, version, text)
                    self._server.server.notify.did_save_text_document(
                        {"textDocument": {"uri": self._uri(relpath)}}
                    )

    async def close_file(self, relpath: str) -> None:
        async with self._lock(relpath):
            if self.documents.pop(relpath, None) is not None and self._server is not None:
                self._send_close(relpath)
            if self.diagnostics.pop(relpath, None):
                self.bus.publish(DiagnosticsUpdated(relpath, None, (), self.server_label))

    def _evict(self) -> None:
        while len(self.documents) > MAX_OPEN_DOCUMENTS:
            relpath, _document = self.documents.popitem(last=False)
            if self._server is not None:
                self._send_close(relpath)

    async def diagnose_text(
        self, relpath: str, text: str, timeout: float = DIAGNOSE_TIMEOUT
    ) -> list[Diagnostic]:
        """Diagnostics of ``text`` as the content of ``relpath``, without touching the disk or the
        diagnostics shown for the file: the proposed text is sent as a new version, the report for that
        version is collected, and the document is put back. [] when the server cannot run here."""
        if not self.ready.is_set():
            waits = [
                asyncio.ensure_future(self.ready.wait()),
                asyncio.ensure_future(self.unavailable_event.wait()),
            ]
            try:
                await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiting in waits:
                    waiting.cancel()
            if not self.ready.is_set():
                if self.unavailable is not None:
                    return []
                raise TimeoutError(f"{self.server_label} was not ready within {timeout:.0f} s")
        uri = self._uri(relpath)
        async with self._lock(relpath):
            document = self.documents.get(relpath)
            version = self._next_version(relpath)
            future: asyncio.Future[tuple[Diagnostic, ...]] = asyncio.get_running_loop().create_future()
            self._probes[uri] = (version, future)
            try:
                if document is None:
                    self._send_open(relpath, version, text)
                else:
                    self._send_change(relpath, version, text)
                return list(await asyncio.wait_for(future, timeout))
            except asyncio.CancelledError:
                # The server died during the probe (its restart cancels open probes): no answer, not an error.
                me = asyncio.current_task()
                if me is not None and me.cancelling():
                    raise
                return []
            finally:
                self._probes.pop(uri, None)
                if self._server is not None:
                    if document is None:
                        self._send_close(relpath)
                    else:
                        document.version = self._next_version(relpath)
                        self._send_change(relpath, document.version, document.text)

    async def _on_diagnostics(self, params: dict[str, Any]) -> None:
        uri = str(params.get("uri", ""))
        relpath = self._relpath(uri)
        if relpath is None:
            return
        version = params.get("version")
        diagnostics = tuple(to_diagnostic(relpath, raw) for raw in params.get("diagnostics") or [])
        probe = self._probes.get(uri)
        if probe is not None:
            probe_version, future = probe
            if version in (None, probe_version) and not future.done():
                future.set_result(diagnostics)
            return
        document = self.documents.get(relpath)
        if document is None or (version is not None and version != document.version):
            return  # closed, or a report on an older text: stale
        self.diagnostics[relpath] = (document.version, diagnostics)
        self.bus.publish(DiagnosticsUpdated(relpath, document.version, diagnostics, self.server_label))

    def _relpath(self, uri: str) -> str | None:
        parsed = urlparse(uri)
        if parsed.scheme != "file":
            return None
        try:
            return Path(unquote(parsed.path)).relative_to(self.root).as_posix()
        except ValueError:
            return None


async def _already_exited() -> None:
    return None
