"""One line of a project file by number, each file read once per caller (snippets for search and repo map)."""

from __future__ import annotations

from pathlib import Path


class SourceLines:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.cache: dict[str, list[str]] = {}

    def line(self, path: str, number: int) -> str | None:
        """Line ``number`` (1-based) of ``path``, or None when the file or the line is not there."""
        lines = self.cache.get(path)
        if lines is None:
            try:
                lines = (self.root / path).read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                lines = []
            self.cache[path] = lines
        return lines[number - 1] if 0 < number <= len(lines) else None
