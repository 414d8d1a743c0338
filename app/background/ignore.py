"""Which changed paths the user's ``.gitignore`` excludes.

In a git repository git itself answers (``git check-ignore --stdin``, one call per batch of paths), so nested
ignore files, ``.git/info/exclude`` and the global excludes all count. Outside git the root ``.gitignore`` is
read with ``pathspec``'s gitignore rules.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

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
    def __init__(self, root: Path) -> None:
        self.root = root
        self._git = shutil.which("git") if (root / ".git").exists() else None
        self._spec = None if self._git else _load_pathspec(root)

    async def ignored(self, relpaths: Iterable[str]) -> set[str]:
        """The subset of ``relpaths`` (relative, forward slashes) that is ignored."""
        paths = sorted(set(relpaths))
        result = {p for p in paths if always_ignored(p)}
        rest = [p for p in paths if p not in result]
        if not rest:
            return result
        if self._git:
            result |= await self._git_check_ignore(rest)
        elif self._spec is not None:
            result |= {p for p in rest if self._spec.match_file(p)}
        return result

    async def _git_check_ignore(self, paths: list[str]) -> set[str]:
        assert self._git is not None
        try:
            process = await asyncio.create_subprocess_exec(
                self._git,
                "-C",
                str(self.root),
                "check-ignore",
                "--stdin",
                "-z",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
            out, _ = await process.communicate(("\0".join(paths) + "\0").encode())
        except OSError:
            log.debug("git check-ignore failed to start", exc_info=True)
            return set()
        # Exit status 1 means "none ignored"; 128 is a fatal error (we then ignore nothing).
        if process.returncode not in (0, 1):
            return set()
        return {p for p in out.decode(errors="replace").split("\0") if p}


def _load_pathspec(root: Path) -> Any:
    try:
        text = (root / ".gitignore").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    try:
        import pathspec
    except ImportError:  # optional: without it, only the always-ignored folders are skipped
        return None
    return pathspec.GitIgnoreSpec.from_lines(text.splitlines())
