"""The command palette's workspace commands: new session, switch session, undo, export session, rerun tests,
suggestions, fix newest error, and "Trust this project" while it is not trusted."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

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
            metas = await self.app.run_in_thread_safe(main.app.store.list_sessions)  # type: ignore[attr-defined]
            self.session_names = [m.name for m in metas]
            self.trusted = await main.project_is_trusted()

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        main = self._main()
        if main is None:
            return []
        commands: list[tuple[str, str, Callable[[], object]]] = [
            ("New session", "start a new named session", main.action_new_session),
            ("Undo last change", "undo this session's most recent applied change", main.action_undo),
            ("Export session", "write this session as a JSON document", main.export_session),
            ("Rerun tests", "run the configured test command", main.rerun_tests),
            (
                "Suggestions",
                "what to improve next (failing tests, diagnostics, TODOs, complex code); pick one to build it",
                main.show_suggestions,
            ),
            ("Fix newest error", "start a fix of the newest error in the feed", main.fix_newest_error),
        ]
        if not self.trusted:
            commands.append(
                (
                    "Trust this project",
                    "let its tests and the language servers that run its code run in the background",
                    main.action_trust,
                )
            )
        for name in self.session_names:
            if name != main.session_name:
                commands.append(
                    (f"Switch session: {name}", f"open session {name}", partial(main.open_session, name))
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
