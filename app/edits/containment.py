"""Where the model may write, and what may be read for it: inside the project root, never into ``.git``, never
through a symlink that leads out. Paths are resolved to the real file so an edit through an in-project symlink
changes (and commits) the file it points to instead of replacing the link. The guarded reader
(app/pipeline/reader.py) uses the same guard for every file it sends to the model."""

from __future__ import annotations

import os
import re
from pathlib import Path

from app.edits.errors import EditError

_DRIVE_RE = re.compile(r"^[A-Za-z]:")


class OutsideProject(EditError):
    """A path the guard refuses. ``reason`` is the why alone (``"uses '..'"``), for a caller that words its own
    line, such as the reader's "not served" list."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def real_root(root: Path) -> Path:
    return Path(os.path.realpath(root))


def resolve_in_root(root: Path, raw: str, *, what: str = "") -> tuple[str, Path]:
    """``(relative posix path, real absolute path)`` of ``raw`` inside ``root`` (already real), or EditError.

    ``what`` prefixes the message (e.g. ``"block 2 (REPLACE a.py)"``)."""
    prefix = f"{what}: " if what else ""

    def refuse(reason: str, why: str = "") -> OutsideProject:
        return OutsideProject(f"{prefix}refused: {raw!r} {reason}{why}", reason)

    def invalid(reason: str) -> OutsideProject:
        return OutsideProject(f"{prefix}the file path {raw!r} {reason}", reason)

    path = raw.strip().replace("\\", "/")
    if not path or "\x00" in path:
        raise invalid("is empty or invalid")
    if path.startswith(("/", "~")) or _DRIVE_RE.match(path):
        raise refuse("is an absolute path", "; paths are relative to the project root")
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise refuse("uses '..'", "; edits stay inside the project root")
    if not parts:
        raise invalid("names the project root, not a file")
    if any(part.lower() == ".git" for part in parts):
        raise refuse("is inside .git", "; ai never edits git's own files")
    real = Path(os.path.realpath(root.joinpath(*parts)))
    if real != root and root not in real.parents:
        raise refuse("leads outside the project root through a symlink")
    if real == root:
        raise invalid("names the project root, not a file")
    relative = real.relative_to(root).as_posix()
    if any(part.lower() == ".git" for part in relative.split("/")):
        raise refuse("leads into .git through a symlink")
    return relative, real
