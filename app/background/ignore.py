"""Which changed paths the user's ``.gitignore`` excludes.

The user's ignore files are judged by the project's one rule (``app.project.files.IgnoreRule``: git itself in a
repository, one ``git check-ignore`` per batch of paths; outside git every ``.gitignore`` read the way git
would), so the watcher leaves out exactly what the file listing leaves out. On top of it, folders no one
watches (tools' caches, VCS folders) and ai's own temporary files.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from pathlib import Path

from app.project.files import IgnoreRule

# Never interesting to anyone: tools' caches and VCS folders (watchfiles skips most of them already).
ALWAYS_IGNORED_PARTS = frozenset(
    {".git", ".hg", ".svn", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".venv"}
)


# Temporary names tools use before renaming into one of the folders above (pytest's cache).
ALWAYS_IGNORED_PREFIXES = ("pytest-cache-files-",)
# ai's own atomic writes (app.edits): ".ops.py.ai-<stamp>.tmp", renamed over ops.py at once.
AI_TEMP_FILE = re.compile(r"^\..+\.ai-[\w-]+\.tmp$")


def always_ignored(relpath: str) -> bool:
    parts = relpath.split("/")
    return (
        bool(ALWAYS_IGNORED_PARTS.intersection(parts))
        or any(part.startswith(ALWAYS_IGNORED_PREFIXES) for part in parts)
        or AI_TEMP_FILE.match(parts[-1]) is not None
    )


class IgnoreFilter:
    """Changed paths judged by ai's always-ignored folders and the project's one ignore rule
    (app/project/files.py), the rule run in a thread (git check-ignore, or the ignore files read by ai)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._rule = IgnoreRule(root)

    async def ignored(self, relpaths: Iterable[str]) -> set[str]:
        """The subset of ``relpaths`` (relative, forward slashes) that is ignored."""
        paths = sorted(set(relpaths))
        result = {p for p in paths if always_ignored(p)}
        rest = [p for p in paths if p not in result]
        if not rest:
            return result
        return result | await asyncio.to_thread(self._rule.ignored, rest)
