"""Where the model may write, and what may be read for it: inside the project root, never into ``.git``, never
through a symlink that leads out. Paths are resolved to the real file so an edit through an in-project symlink
changes (and commits) the file it points to instead of replacing the link. Removing a symlink is the one
operation on the link itself (:func:`link_in_root`): the file it points to, inside the project or not, is never
touched. The guarded reader (app/project/reader.py) uses the same guard for every file it sends to the model."""

from __future__ import annotations

import os
import re
from pathlib import Path

from app.errors import EditError
from app.text.terminal import has_control, safe_text

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
    parts = _checked_parts(raw, prefix)
    real = Path(os.path.realpath(root.joinpath(*parts)))
    return _inside(root, raw, real, prefix)


def link_in_root(root: Path, raw: str, *, what: str = "", must_exist: bool = True) -> tuple[str, Path] | None:
    """``(relative posix path, location)`` of the symlink that ``raw`` names (the link itself, not what it
    points to), or None when no symlink is there (with ``must_exist`` false: where it would be). The folder it
    sits in is resolved and must be inside ``root``, as for any path."""
    prefix = f"{what}: " if what else ""
    parts = _checked_parts(raw, prefix)
    folder = Path(os.path.realpath(root.joinpath(*parts[:-1])))
    if folder != root:
        _inside(root, raw, folder, prefix)
    location = folder / parts[-1]
    if must_exist and not location.is_symlink():
        return None
    relative = location.relative_to(root).as_posix()
    if any(part.lower() == ".git" for part in relative.split("/")):
        raise _refused(prefix, raw, "leads into .git through a symlink")
    return relative, location


def _refused(prefix: str, raw: str, reason: str, why: str = "") -> OutsideProject:
    return OutsideProject(f"{prefix}refused: {raw!r} {reason}{why}", reason)


def _invalid(prefix: str, raw: str, reason: str) -> OutsideProject:
    return OutsideProject(f"{prefix}the file path {raw!r} {reason}", reason)


def _checked_parts(raw: str, prefix: str) -> list[str]:
    path = raw.strip().replace("\\", "/")
    if not path:
        raise _invalid(prefix, raw, "is empty")
    if has_control(path):
        # The gate of every write (apply, undo, the fix loop) and of the guarded reader: a name with ESC, TAB,
        # NUL, CR, DEL, C1 or a bidi override is never created or read, whoever wrote it (the parser refuses
        # it first for model answers).
        raise OutsideProject(
            f"{prefix}refused: the file path '{safe_text(path)}' has a control character; "
            "paths have printable characters only",
            "has a control character",
        )
    if path.startswith(("/", "~")) or _DRIVE_RE.match(path):
        raise _refused(prefix, raw, "is an absolute path", "; paths are relative to the project root")
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise _refused(prefix, raw, "uses '..'", "; edits stay inside the project root")
    if not parts:
        raise _invalid(prefix, raw, "names the project root, not a file")
    if any(part.lower() == ".git" for part in parts):
        raise _refused(prefix, raw, "is inside .git", "; ai never edits git's own files")
    return parts


def _inside(root: Path, raw: str, real: Path, prefix: str) -> tuple[str, Path]:
    if real != root and root not in real.parents:
        raise _refused(prefix, raw, "leads outside the project root through a symlink")
    if real == root:
        raise _invalid(prefix, raw, "names the project root, not a file")
    relative = real.relative_to(root).as_posix()
    if any(part.lower() == ".git" for part in relative.split("/")):
        raise _refused(prefix, raw, "leads into .git through a symlink")
    return relative, real
