"""The command palette's workspace commands: new session, switch session, undo, export session, rerun tests,
suggestions, fix newest error, pick model, and "Trust this project" while it is not trusted."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from app.tui import texts

if TYPE_CHECKING:
    from app.tui.main_screen import MainScreen


class WorkspaceCommands(Provider):
    def _main(self) -> MainScreen | None:
        from app.tui.main_screen import MainScreen

        for screen in reversed(self.app.screen_stack):
            if isinstance(screen, MainScreen):
                return screen
        return None

    async def startup(self) -> None:
        main = self._main()
        # Session names are read once per palette opening, off the UI thread.
        self.session_names: list[str] = []
        self.trusted = True
        if main is not None:
            metas = await asyncio.to_thread(main.settings.store.list_sessions)
            self.session_names = [m.name for m in metas]
            self.trusted = await main.project_is_trusted()

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        main = self._main()
        if main is None:
            return []
        commands: list[tuple[str, str, Callable[[], object]]] = [
            (*texts.COMMAND_NEW_SESSION, main.action_new_session),
            (*texts.COMMAND_UNDO, main.action_undo),
            (*texts.COMMAND_EXPORT, main.export_session),
            (*texts.COMMAND_RERUN_TESTS, main.rerun_tests),
            (*texts.COMMAND_SUGGESTIONS, main.show_suggestions),
            (*texts.COMMAND_FIX_NEWEST, main.fix_newest_error),
            (*texts.COMMAND_COPY_REPLY, main.action_copy_reply),
            (*texts.COMMAND_COPY_DIFF, main.action_copy_diff),
            (*texts.COMMAND_PICK_MODEL, main.action_pick_model),
        ]
        if not self.trusted:
            commands.append((*texts.COMMAND_TRUST, main.action_trust))
        title, help_text = texts.COMMAND_SWITCH
        for name in self.session_names:
            if name != main.session_name:
                commands.append(
                    (title.format(name=name), help_text.format(name=name), partial(main.open_session, name))
                )
        return commands

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
