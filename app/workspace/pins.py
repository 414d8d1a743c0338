"""Session pins (``/add PATH``, ``/drop [PATH]``): the files every goal of the session reads in full.

A path is checked by the guarded reader's own rule (app/project/reader.py: inside the project, not in .git,
a regular text file, not over its size limit, not a secrets file or one holding a private key unless
``send_secrets`` is on), never a second one; a pin is an event of the session (app/session/pins.py), so it
survives reopening and ``--continue``, and every build of the session reads it (``BuildRequest.pinned``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.session.pins import pinned_paths, record_pin, record_unpin

if TYPE_CHECKING:
    from app.session.store import Session


@dataclass(frozen=True)
class Pinned:
    path: str  # as stored: relative to the root, forward slashes
    tokens: int  # its estimated cost in every goal's context
    already: bool = False  # it was pinned before


class PinRefused(Exception):
    """``path`` cannot be pinned: ``reason`` says why (the guarded reader's words)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def as_project_path(root: Path, path: str) -> str:
    """The path as the session stores it: an absolute path inside the root made relative (one outside stays
    absolute, for the reader to refuse)."""
    text = path.strip()
    candidate = Path(text)
    if candidate.is_absolute():
        try:
            return candidate.resolve().relative_to(root.resolve()).as_posix()
        except (ValueError, OSError):
            return text
    return text


def pin_file(root: Path, session: Session, path: str, *, send_secrets: bool = False) -> Pinned:
    """Check ``path`` with the guarded reader and pin it into the session; PinRefused when it may not be."""
    from app.llm.prompts import estimate_tokens
    from app.project.reader import ReadRefused, normalize, read_for_model

    asked = normalize(as_project_path(root, path))
    if not asked:
        raise PinRefused(path, "no path given")
    try:
        read = read_for_model(root, asked, send_secrets=send_secrets)
    except ReadRefused as refused:
        raise PinRefused(refused.path, refused.reason) from None
    tokens = estimate_tokens(read.text)
    if read.path in pinned_paths(session):
        return Pinned(read.path, tokens, already=True)
    record_pin(session, read.path, f"pinned {read.path} for every goal of this session")
    return Pinned(read.path, tokens)


def unpin_files(root: Path, session: Session, path: str | None) -> tuple[str, ...]:
    """Unpin ``path`` (None or empty: every pinned file); the paths unpinned (empty: nothing was pinned, or
    not that path)."""
    from app.project.reader import normalize

    pinned = pinned_paths(session)
    if not path or not path.strip():
        if pinned:
            record_unpin(session, (), "unpinned every file: " + ", ".join(pinned))
        return pinned
    asked = normalize(as_project_path(root, path))
    if asked not in pinned:
        return ()
    record_unpin(session, [asked], f"unpinned {asked}")
    return (asked,)
