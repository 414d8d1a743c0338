"""The goal input's completion: what the popup (widgets/completion.py) offers for the text at the cursor.

A goal that starts with ``/`` is completed from the slash commands (app/tui/slash.py), while the cursor is in
its first word; a word at the cursor that starts with ``@`` from the project's files, fuzzy-ranked
(app/text/fuzzy.py). The file list is loaded off the UI thread when the workspace opens and again when the
watcher reports files created or removed; until it is there, ``@`` offers nothing rather than waiting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.text.fuzzy import FuzzyIndex
from app.tui.slash import SLASH_COMMANDS
from widgets.completion import Candidate, CompletionPopup, Location
from widgets.goal_input import GoalInput

if TYPE_CHECKING:
    from app.tui.host import Host

MAX_FILE_CANDIDATES = 50
_COMMANDS = FuzzyIndex(command.name for command in SLASH_COMMANDS)
_BY_NAME = {command.name: command for command in SLASH_COMMANDS}


def word_at(line: str, column: int) -> tuple[int, int]:
    """The (start, end) columns of the whitespace-free word around ``column`` of ``line``."""
    start = column
    while start > 0 and not line[start - 1].isspace():
        start -= 1
    end = column
    while end < len(line) and not line[end].isspace():
        end += 1
    return start, end


class CompletionDesk:
    """The screen's collaborator behind the popup: it follows the input's text and cursor."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.files: FuzzyIndex | None = None
        self._known: frozenset[str] = frozenset()

    # -- the file list ---------------------------------------------------------------------------------

    def load_files(self) -> None:
        """List the project's files in a worker thread (the git view, ignored files left out)."""
        self.host.start_worker(
            self._list_files, group="completion-files", description="file list", exclusive=True, thread=True
        )

    def _list_files(self) -> None:
        from app.pipeline.preread import project_files

        paths = project_files(self.host.settings.root)
        files = FuzzyIndex(sorted(paths))
        self.host.ui(self._use_files, files)

    def _use_files(self, files: FuzzyIndex) -> None:
        self.files = files
        self._known = frozenset(files.paths)

    def background_event(self, event: object) -> None:
        """The watcher's report: list the files again when it names a file created or removed."""
        from app.events import FileChanged

        if not isinstance(event, FileChanged) or self.files is None:
            return
        known = self._known
        if any(path in known for path in event.removed) or any(path not in known for path in event.paths):
            self.load_files()

    # -- following the input -----------------------------------------------------------------------------

    def update(self, goal: GoalInput, popup: CompletionPopup) -> None:
        """Open, refresh or close the popup for the input's text and cursor."""
        text = goal.text
        if popup.dismissed_on is not None:
            if text == popup.dismissed_on:  # closed with escape: it stays closed until the text changes
                return
            popup.dismissed_on = None
        found = self.candidates(text, goal.cursor_location) if not goal.selected_text else None
        if found is None:
            popup.close()
            return
        candidates, span = found
        popup.show_above(candidates, span, goal.region)

    def candidates(
        self, text: str, cursor: Location
    ) -> tuple[list[Candidate], tuple[Location, Location]] | None:
        row, column = cursor
        lines = text.split("\n")
        line = lines[row] if row < len(lines) else ""
        start, end = word_at(line, column)
        if row == 0 and start == 0 and line.startswith("/"):
            typed = line[1:column]
            return self.command_candidates(typed), ((0, 0), (0, end))
        word = line[start:column]
        if word.startswith("@") and self.files is not None:
            fragment = word[1:]
            matches = self.files.rank(fragment, MAX_FILE_CANDIDATES)
            return [Candidate(m.path, f"@{m.path} ") for m in matches], ((row, start), (row, end))
        return None

    @staticmethod
    def command_candidates(typed: str) -> list[Candidate]:
        names = (
            [match.path for match in _COMMANDS.rank(typed, len(SLASH_COMMANDS))] if typed else list(_BY_NAME)
        )
        return [Candidate(_BY_NAME[name].usage, f"/{name} ", _BY_NAME[name].help) for name in names]
