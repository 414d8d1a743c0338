"""The slash commands that shape the next goals' context: ``/add PATH`` and ``/drop [PATH]`` (the session's
pinned files), ``/compact`` (the history summarised by the model) and ``/init`` (AGENTS.md from the repository
map, as a proposal). The rules are the workspace's (app/workspace/pins.py, compact.py, agents.py); this module
says what happened in the conversation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.errors import AgentError
from app.tui import texts

if TYPE_CHECKING:
    from app.tui.host import Host


class PinCommands:
    def __init__(self, host: Host) -> None:
        self.host = host

    async def say(self, text: str, kind: str = "note") -> None:
        await self.host.chat.add_note(text, kind)

    async def add(self, argument: str) -> None:
        from app.workspace.pins import PinRefused

        if not argument:
            await self.say(texts.PIN_NEEDS_PATH, "error")
            return
        workspace = self.host.current_workspace()
        try:
            pinned = workspace.pin(argument)
        except PinRefused as refused:
            await self.say(texts.PIN_REFUSED.format(path=refused.path, reason=refused.reason), "error")
            return
        line = texts.PIN_ALREADY if pinned.already else texts.PIN_ADDED
        await self.say(line.format(path=pinned.path, tokens=f"{pinned.tokens:,}"))

    async def drop(self, argument: str) -> None:
        workspace = self.host.current_workspace()
        before = workspace.pinned()
        if not before:
            await self.say(texts.NOTHING_PINNED)
            return
        dropped = workspace.unpin(argument or None)
        if not dropped:
            await self.say(texts.NOT_PINNED.format(path=argument, pinned=", ".join(before)), "error")
            return
        await self.say(texts.UNPINNED.format(paths=", ".join(dropped)))

    async def compact(self) -> None:
        await self.say(texts.COMPACTING)
        self.host.start_worker(self._compact(), group="compact", exclusive=True, description="compact")

    async def _compact(self) -> None:
        workspace = self.host.current_workspace()
        try:
            done = await workspace.compact()
        except AgentError as error:
            await self.say(texts.COMPACT_FAILED.format(error=error.message), "error")
            return
        await self.say(texts.COMPACTED.format(messages=done.messages, summary=done.summary))

    async def init(self) -> None:
        await self.say(texts.INIT_STARTED)
        workspace = self.host.current_workspace()
        await self.host.begin_run(workspace.init_agents)
