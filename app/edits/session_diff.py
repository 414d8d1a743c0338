"""What a session has applied, as one diff (``/diff``): its changes that are not undone, per file from the file
as it was before the first of them to the file as it is after the last.

A file touched by one change shows that change's stored diff. A file touched by several is diffed from the
backup the first change made to the file on disk, when the disk still holds what the last change wrote; else
(edited since, or no backup left) its stored diffs follow each other, oldest first.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.edits.proposal import make_change
from app.edits.transaction import backup_bytes, on_disk
from app.errors import EditError
from app.text.textfile import content_hash, decode_bytes

if TYPE_CHECKING:
    from app.session.store import Session


def applied_diffs(root: Path, session: Session) -> dict[str, str]:
    """Each file's unified diff of the session's applied, not-undone changes ({} when there is none)."""
    touched: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for change in session.changes():
        if change.get("undone"):
            continue
        for entry in change.get("changes", []):
            touched.setdefault(entry["path"], []).append((change, entry))
    diffs: dict[str, str] = {}
    for path, steps in touched.items():
        stored = [str(change.get("diffs", {}).get(path, "")) for change, _ in steps]
        composed = _composed(root, path, steps) if len(steps) > 1 else None
        diffs[path] = composed if composed is not None else "".join(_ended(diff) for diff in stored)
    return diffs


def _ended(diff: str) -> str:
    return diff if diff.endswith("\n") or not diff else diff + "\n"


def _composed(root: Path, path: str, steps: list[tuple[dict[str, Any], dict[str, Any]]]) -> str | None:
    """The diff from before the first step to after the last, or None when either side cannot be had."""
    (first, first_entry), (_, last_entry) = steps[0], steps[-1]
    before: bytes | None = None
    if first_entry.get("action") != "create":
        backup = first.get("backup")
        before = backup_bytes(Path(backup), path) if backup else None
        if before is None:
            return None
    after = on_disk(root / path)
    wanted = last_entry.get("post_hash")
    if (after is None) != (wanted is None) or (after is not None and content_hash(after) != wanted):
        return None  # edited since the last change: the stored diffs tell it
    try:
        old = None if before is None else decode_bytes(before, path).text
        new = None if after is None else decode_bytes(after, path).text
    except EditError:
        return None
    return make_change(path, old, new).diff
