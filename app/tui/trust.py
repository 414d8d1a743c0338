"""The workspace's project trust (app/trust.py): the one question on the first open of an untrusted project,
its palette command, and what trusting changes in this run.

``TrustKeeper`` is a collaborator of the main screen, reaching it through ``Host``. The question comes only
when there is something to trust: the background services name what of the project's code would run (the test
watcher's command, a language server that loads the project's plugins). Either answer is remembered per project
in trust.json, so it is asked once; "Not now" leaves the workspace as it is, and the services' own line in the
event log says how to trust later.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.errors import AgentError
from app.tui import texts

if TYPE_CHECKING:
    from app.background.services import BackgroundServices
    from app.tui.host import Host


class TrustKeeper:
    def __init__(self, host: Host) -> None:
        self.host = host
        # Asked in this run already (the answer is being recorded, or the modal is open): never twice.
        self._asked = False

    async def offer_trust(self, services: BackgroundServices) -> None:
        """After the services started: ask, once per project, whether its code may run."""
        from app.trust import project_answer

        if self._asked or services.trusted:
            return
        would_run = services.waiting_for_trust()
        if not would_run or await asyncio.to_thread(project_answer, self.host.settings.root) is not None:
            return
        self.ask_trust(would_run)

    def ask_trust(self, would_run: list[str], then: Callable[[], Any] | None = None) -> None:
        """The trust question; ``then`` runs once the project is trusted (what the user asked for)."""
        from app.trust import HOW_TO_TRUST
        from widgets.dialogs import TrustScreen

        self._asked = True
        settings = self.host.settings
        note = None
        if settings.config.untrusted:
            names = ", ".join(settings.config.untrusted)
            note = texts.TRUST_IGNORED_SETTINGS.format(names=names, how=HOW_TO_TRUST)

        async def answered(trusted: bool | None) -> None:
            if trusted:
                if await self.trust_project() and then is not None:
                    then()
            else:
                await self._remember_not_now()

        self.host.app.push_screen(TrustScreen(settings.project_label, would_run, note), answered)

    async def trust_project(self) -> bool:
        """Record the trust and start what waited for it (the test watcher, language servers) in this run."""
        from app.trust import record_project_trust

        try:
            await asyncio.to_thread(record_project_trust, self.host.settings.root)
        except AgentError as exc:  # a damaged trust.json: nothing is trusted, the user is told why
            self.host.events.add(texts.TRUST_ERROR.format(error=exc.message), "error")
            return False
        services = self.host.services
        if services is not None:
            services.project_trusted()
        else:
            self.host.events.add(texts.TRUSTED_WITHOUT_SERVICES, "ok")
        return True

    async def _remember_not_now(self) -> None:
        from app.trust import PROJECT_NOT_NOW, project_answer, record_project_trust

        root = self.host.settings.root
        try:
            # "Not now" never replaces a trust given meanwhile (`ai --trust` in another terminal).
            if await asyncio.to_thread(project_answer, root) is None:
                await asyncio.to_thread(record_project_trust, root, PROJECT_NOT_NOW)
        except AgentError as exc:
            self.host.events.add(texts.TRUST_ERROR.format(error=exc.message), "error")

    async def project_is_trusted(self) -> bool:
        from app.trust import project_trusted

        services = self.host.services
        if services is not None and services.trusted:
            return True
        return await asyncio.to_thread(project_trusted, self.host.settings.root)

    async def trust_from_palette(self) -> None:
        """The palette's "Trust this project"."""
        if await self.project_is_trusted():
            self.host.notify(texts.TRUSTED_ALREADY)
            return
        self._asked = True
        await self.trust_project()
