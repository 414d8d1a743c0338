"""The workspace's project trust (app/trust.py): the one question on the first open of an untrusted project,
its palette command, and what trusting changes in this run. The base class of ``MainScreen`` (one concern per
file).

The question comes only when there is something to trust: the background services name what of the project's
code would run (the test watcher's command, a language server that loads the project's plugins). Either
answer is remembered per project in trust.json, so it is asked once; "Not now" leaves the workspace as it is,
and the services' own line in the event log says how to trust later.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from app.errors import AgentError
from app.tui.fixes import FixingScreen


class TrustingScreen(FixingScreen):
    """Asks about, records and applies the project's trust; ``MainScreen`` holds ``services``."""

    services: Any

    def __init__(self) -> None:
        super().__init__()
        # Asked in this run already (the answer is being recorded, or the modal is open): never twice.
        self._trust_asked = False

    async def offer_trust(self, services: Any) -> None:
        """After the services started: ask, once per project, whether its code may run."""
        from app.trust import project_answer

        if self._trust_asked or services.trusted:
            return
        would_run = services.waiting_for_trust()
        if not would_run or await asyncio.to_thread(project_answer, self.app.root) is not None:
            return
        self.ask_trust(would_run)

    def ask_trust(self, would_run: list[str], then: Callable[[], Any] | None = None) -> None:
        """The trust question; ``then`` runs once the project is trusted (what the user asked for)."""
        from app.trust import HOW_TO_TRUST
        from widgets.dialogs import TrustScreen

        self._trust_asked = True
        note = None
        if self.app.config.untrusted:
            note = (
                f"Its .ai-agent.toml settings {', '.join(self.app.config.untrusted)} stay ignored: "
                f"{HOW_TO_TRUST}."
            )

        async def answered(trusted: bool | None) -> None:
            if trusted:
                if await self.trust_project() and then is not None:
                    then()
            else:
                await self._remember_not_now()

        self.app.push_screen(TrustScreen(self.app.project_label, would_run, note), answered)

    async def trust_project(self) -> bool:
        """Record the trust and start what waited for it (the test watcher, language servers) in this run."""
        from app.trust import record_project_trust

        try:
            await asyncio.to_thread(record_project_trust, self.app.root)
        except AgentError as exc:  # a damaged trust.json: nothing is trusted, the user is told why
            self.events.add(f"trust: {exc.message}", "error")
            return False
        services = self.services
        if services is not None:
            services.project_trusted()
        else:
            self.events.add("project trusted: its tests and language servers run in the background", "ok")
        return True

    async def _remember_not_now(self) -> None:
        from app.trust import PROJECT_NOT_NOW, project_answer, record_project_trust

        try:
            # "Not now" never replaces a trust given meanwhile (`ai --trust` in another terminal).
            if await asyncio.to_thread(project_answer, self.app.root) is None:
                await asyncio.to_thread(record_project_trust, self.app.root, PROJECT_NOT_NOW)
        except AgentError as exc:
            self.events.add(f"trust: {exc.message}", "error")

    async def project_is_trusted(self) -> bool:
        from app.trust import project_trusted

        if self.services is not None and self.services.trusted:
            return True
        return await asyncio.to_thread(project_trusted, self.app.root)

    async def action_trust(self) -> None:
        """The palette's "Trust this project"."""
        if await self.project_is_trusted():
            self.notify("this project is trusted already")
            return
        self._trust_asked = True
        await self.trust_project()
