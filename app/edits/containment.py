"""Where the model may write: inside the project root, never into ``.git``, never through a symlink that
leads out. Paths are resolved to the real file so an edit through an in-project symlink changes (and
commits) the file it points to instead of replacing the link."""

from __future__ import annotations

import os
import re
from pathlib import Path

from app.edits.errors import EditError
from app.terminal_text import has_control, safe_text

_DRIVE_RE = re.compile(r"^[A-Za-z]:")


def real_root(root: Path) -> Path:
    return Path(os.path.realpath(root))


def resolve_in_root(root: Path, raw: str, *, what: str = "") -> tuple[str, Path]:
    """``(relative posix path, real absolute path)`` of ``raw`` inside ``root`` (already real), or EditError.

    ``what`` prefixes the message (e.g. ``"block 2 (REPLACE a.py)"``)."""
    prefix = f"{what}: " if what else ""
    path = raw.strip().replace("\\", "/")
    if not path:
        raise EditError(f"{prefix}the file path {raw!r} is empty")
    if has_control(path):
        # The gate of every write (apply, undo, the fix loop): a name with ESC, TAB, NUL, CR, DEL, C1 or a
        # bidi override is never created, whoever wrote it (the parser refuses it first for model answers).
        raise EditError(
            f"{prefix}refused: the file path '{safe_text(path)}' has a control character; "
            "paths have printable characters only"
        )
    if path.startswith(("/", "~")) or _DRIVE_RE.match(path):
        raise EditError(
            f"{prefix}refused: {raw!r} is an absolute path; paths are relative to the project root"
        )
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise EditError(f"{prefix}refused: {raw!r} uses '..'; edits stay inside the project root")
    if not parts:
        raise EditError(f"{prefix}the file path {raw!r} names the project root, not a file")
    if any(part.lower() == ".git" for part in parts):
        raise EditError(f"{prefix}refused: {raw!r} is inside .git; ai never edits git's own files")
    real = Path(os.path.realpath(root.joinpath(*parts)))
    if real != root and root not in real.parents:
        raise EditError(f"{prefix}refused: {raw!r} leads outside the project root through a symlink")
    if real == root:
        raise EditError(f"{prefix}the file path {raw!r} names the project root, not a file")
    relative = real.relative_to(root).as_posix()
    if any(part.lower() == ".git" for part in relative.split("/")):
        raise EditError(f"{prefix}refused: {raw!r} leads into .git through a symlink")
    return relative, real
