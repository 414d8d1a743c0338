"""basedpyright's language server driven through multilspy's client (its ``LanguageServer`` base class).

multilspy's own Python server is jedi, which reports syntax errors only; basedpyright (a PyPI wheel with its
own Node) reports undefined names and type errors. Imported only when a Python server starts (multilspy is
heavy).
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from multilspy.language_server import LanguageServer
from multilspy.lsp_protocol_handler.server import ProcessLaunchInfo
from multilspy.multilspy_config import MultilspyConfig
from multilspy.multilspy_logger import MultilspyLogger

# "standard" finds undefined names and type errors without basedpyright's stricter "recommended" noise.
# ``exclude: ["**"]`` keeps the server from enumerating and parsing the whole workspace at start (on a
# 100,000-file tree: 40 s of CPU and 650 MB, against 0 s and 100 MB): diagnostics are wanted for the open
# documents only, and their imports still resolve from the project root. A project's own pyright
# configuration file takes precedence over these settings.
ANALYSIS_SETTINGS: dict[str, Any] = {
    "diagnosticMode": "openFilesOnly",
    "typeCheckingMode": "standard",
    "autoSearchPaths": True,
    "useLibraryCodeForTypes": True,
    "autoImportCompletions": False,
    "exclude": ["**"],
}


def client_capabilities() -> dict[str, Any]:
    return {
        "textDocument": {
            "synchronization": {"didSave": True, "dynamicRegistration": False},
            "publishDiagnostics": {"relatedInformation": False, "versionSupport": True},
        },
        "workspace": {"configuration": True, "workspaceFolders": True},
        "window": {"workDoneProgress": False},
    }


class PyrightServer(LanguageServer):
    def __init__(
        self,
        config: MultilspyConfig,
        logger: MultilspyLogger,
        repository_root_path: str,
        command: list[str],
        python_path: str | None = None,
        extra_paths: list[str] | None = None,
    ) -> None:
        super().__init__(
            config,
            logger,
            repository_root_path,
            ProcessLaunchInfo(cmd=[*command, "--stdio"], cwd=repository_root_path),
            "python",
        )
        self.python_path = python_path
        self.extra_paths = list(extra_paths or [])

    def use_interpreter(self, python_path: str | None, extra_paths: list[str]) -> None:
        """Another interpreter (the project's, once it is trusted): basedpyright asks for its settings again
        on a configuration change and rebuilds its search paths, without a restart."""
        self.python_path = python_path
        self.extra_paths = list(extra_paths)
        self.server.notify.workspace_did_change_configuration({"settings": self._settings(None)})

    def _settings(self, section: str | None) -> Any:
        analysis = (
            {**ANALYSIS_SETTINGS, "extraPaths": self.extra_paths} if self.extra_paths else ANALYSIS_SETTINGS
        )
        python: dict[str, Any] = {"analysis": analysis}
        # The interpreter basedpyright executes to learn the search paths; without one set it runs the
        # project's .venv/bin/python when there is one (app/background/lsp.py says when that may happen).
        if self.python_path:
            python["pythonPath"] = self.python_path
        every = {"python": python, "basedpyright": {"analysis": analysis}}
        if not section:
            return every
        node: Any = every
        for part in section.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return node if node is not None else {}

    @asynccontextmanager
    async def start_server(self) -> AsyncIterator[PyrightServer]:
        async def configuration(params: dict[str, Any]) -> list[Any]:
            return [self._settings(item.get("section")) for item in params.get("items", [])]

        async def nothing(params: Any) -> None:
            return None

        self.server.on_request("workspace/configuration", configuration)
        self.server.on_request("client/registerCapability", nothing)
        self.server.on_request("client/unregisterCapability", nothing)
        self.server.on_request("window/workDoneProgress/create", nothing)
        for method in (
            "window/logMessage",
            "$/progress",
            "telemetry/event",
            "textDocument/publishDiagnostics",
        ):
            self.server.on_notification(method, nothing)

        root = self.repository_root_path
        async with super().start_server():
            await self.server.start()
            await self.server.send.initialize(
                {
                    "processId": os.getpid(),
                    "rootPath": root,
                    "rootUri": pathlib.Path(root).as_uri(),
                    "workspaceFolders": [
                        {"uri": pathlib.Path(root).as_uri(), "name": os.path.basename(root)}
                    ],
                    "capabilities": client_capabilities(),
                    "initializationOptions": {},
                }
            )
            self.server.notify.initialized({})
            self.server.notify.workspace_did_change_configuration({"settings": self._settings(None)})
            self.completions_available.set()
            try:
                yield self
            finally:
                await self.server.shutdown()
                await self.server.stop()
