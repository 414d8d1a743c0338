"""One line of a project file by number, each file read once per caller (snippets for search and repo map).

The file is read through the guarded reader (app/project/reader.py), as everything shown or sent: a file that
became a link out of the project, a secrets file or a private key since it was indexed gives no lines.
"""

from __future__ import annotations

from pathlib import Path

from app.project.reader import ReadRefused, read_for_model


class SourceLines:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.cache: dict[str, list[str]] = {}

    def line(self, path: str, number: int) -> str | None:
        """Line ``number`` (1-based) of ``path``, or None when the file or the line is not there."""
        lines = self.cache.get(path)
        if lines is None:
            try:
                lines = read_for_model(self.root, path).text.splitlines()
            except ReadRefused:
                lines = []
            self.cache[path] = lines
        return lines[number - 1] if 0 < number <= len(lines) else None
