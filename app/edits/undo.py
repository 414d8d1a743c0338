"""Undo per session: reverse the session's latest change that is not undone yet, as a new commit.

Each file goes back by its reverse hunks applied to its current content, so another session's later edits
elsewhere in the file stay. A file untouched since the change comes back byte for byte from the backup.
If the changed lines were edited since, the undo is refused naming the file and hunk, and nothing is written.
An undo is the same journaled sequence as an apply (``app.edits.apply.JournaledChange``): files, then the record
(the change marked undone, the undo entry and an ``undone`` event for the session's story, in one write), then
the commit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.edits.apply import (
    JournaledChange,
    edits_lock,
    new_change_id,
    now_iso,
    recover,
)
from app.edits.commit import Committed, describe_commit
from app.edits.proposal import current_bytes, default_file_mode, make_change
from app.edits.records import UndoResult
from app.edits.transaction import FileWrite, backup_bytes, on_disk
from app.errors import EditError, RefusedError
from app.project.guard import link_in_root, real_root, resolve_in_root
from app.text.diffs import Hunk, HunkConflict, apply_hunks
from app.text.textfile import content_hash, decode_bytes, encode_text, split_lines

if TYPE_CHECKING:
    from app.session.store import Session


@dataclass(frozen=True)
class UndoPlan:
    change: dict[str, Any]  # the change record being undone
    writes: list[FileWrite]
    diffs: dict[str, str]  # the reverse diff per file, current content -> restored content

    @property
    def files(self) -> list[str]:
        return [w.path for w in self.writes]


def latest_undoable(session: Session) -> dict[str, Any] | None:
    for change in session.changes()[::-1]:  # reversed() of it types as Any
        if not change.get("undone"):
            return change
    return None


BY_HAND = "or edit the file by hand"
LATER_EDIT = (
    "undo or revert your later edit of those lines first (`ai --undo` in the session that made it, or git), "
    + BY_HAND
)


def _refuse(change: dict[str, Any], path: str, what: str, todo: str = LATER_EDIT) -> RefusedError:
    """What is wrong, that nothing was written, and what to do, in one clear line."""
    return RefusedError(
        f"cannot undo change {change['id']} ({change.get('summary', '')}): {path} {what}; nothing was written: "
        f"{todo}"
    )


def backup_dir_of(session: Session, change: dict[str, Any]) -> Path:
    """The change's backup folder: by name under the session's backups (they move when the session is
    renamed), else where it was recorded."""
    recorded = Path(str(change.get("backup") or ""))
    here = session.store.backups_dir(session.name) / recorded.name
    return here if recorded.name and here.is_dir() else recorded


def _target(
    change: dict[str, Any], entry: dict[str, Any], current: bytes | None, backup: Path
) -> bytes | None:
    """What the file must become to undo ``entry`` (one file of ``change``) given its current bytes."""
    path, action = entry["path"], entry["action"]
    if current is not None and entry.get("pre_hash") and content_hash(current) == entry["pre_hash"]:
        # Already as before the change (a `git revert`, or undone through an imported copy of the session):
        # nothing to take back, and reverse hunks must not be laid on look-alike lines.
        return current
    if action == "create":
        if current is None or content_hash(current) == entry["post_hash"]:
            return None
        raise _refuse(change, path, "hunk 1 (the whole file it created) was changed since")
    if action == "remove":
        if current is not None:
            raise _refuse(
                change, path, "exists again since it was removed", "move the new file away first, " + BY_HAND
            )
        old = backup_bytes(backup, path)
        if old is None or content_hash(old) != entry["pre_hash"]:
            raise _refuse(
                change, path, "cannot come back: its backup is missing", "restore it from git by hand"
            )
        return old
    if current is None:
        raise _refuse(
            change, path, "was deleted since", "restore the file first, then undo again, " + BY_HAND
        )
    if content_hash(current) == entry["post_hash"]:
        old = backup_bytes(backup, path)
        if old is not None and content_hash(old) == entry["pre_hash"]:
            return old
    try:
        form = decode_bytes(current, path)
    except EditError as exc:
        raise _refuse(
            change,
            path,
            f"can no longer be read as text ({exc.message})",
            "restore its encoding first, " + BY_HAND,
        ) from None
    hunks = [Hunk.from_dict(h) for h in entry["hunks"]]
    try:
        lines = split_lines(form.text)
        # Untouched since the change (its backup gone): the file itself is the text the hunks were made on.
        recorded = lines if content_hash(current) == entry["post_hash"] else _text_after(entry, hunks, backup)
        lines = apply_hunks(lines, hunks, reverse=True, recorded=recorded)
    except HunkConflict as exc:
        raise _refuse(change, path, f"{exc.hunk.describe()} was changed since") from None
    try:
        return encode_text("".join(lines), form, path)
    except EditError as exc:
        raise _refuse(change, path, exc.message, BY_HAND.removeprefix("or ")) from None


def _text_after(entry: dict[str, Any], hunks: list[Hunk], backup: Path) -> list[str] | None:
    """The file's lines just after the change (the backup with the change's hunks), when the backup is there and
    gives exactly the bytes the change wrote: what the reverse hunks are placed by. None without it."""
    path = entry["path"]
    old = backup_bytes(backup, path)
    if old is None or content_hash(old) != entry.get("pre_hash"):
        return None
    try:
        form = decode_bytes(old, path)
        before = split_lines(form.text)
        after = apply_hunks(before, hunks, recorded=before)
        written = encode_text("".join(after), form, path)
    except (EditError, HunkConflict):
        return None
    return after if content_hash(written) == entry.get("post_hash") else None


def _as_text(data: bytes | None, path: str) -> str | None:
    if data is None:
        return None
    try:
        return decode_bytes(data, path).text
    except EditError:
        return data.decode("latin-1")


def _not_text(data: bytes, path: str) -> bool:
    try:
        decode_bytes(data, path)
    except EditError:
        return True
    return False


def _reverse_diff(path: str, current: bytes | None, target: bytes | None) -> str:
    if target is not None and current is None and _not_text(target, path):
        return (
            f"--- /dev/null\n+++ b/{path}\n{path} comes back whole ({len(target)} bytes, not shown as text)\n"
        )
    return make_change(path, _as_text(current, path), _as_text(target, path)).diff


def plan_undo(session: Session, change: dict[str, Any] | None = None) -> UndoPlan | None:
    """What undoing the session's latest change would write (None: nothing to undo). Writes nothing."""
    change = change or latest_undoable(session)
    if change is None:
        return None
    root = real_root(session.store.root)
    writes, diffs = [], {}
    backup = backup_dir_of(session, change)
    for entry in change.get("changes", []):
        link = bool(entry.get("symlink"))
        if link:  # a removed symlink comes back as the link, never as a copy of what it points to
            path, real = link_in_root(root, entry["path"], must_exist=False) or (entry["path"], root)
            current = on_disk(real, link=True)
        else:
            path, real = resolve_in_root(root, entry["path"])
            current = current_bytes(real)
        target = _target(change, entry, current, backup)
        if target == current:
            continue
        mode = entry.get("mode") or default_file_mode()
        if current is not None and not link:
            mode = real.stat().st_mode & 0o7777
        writes.append(FileWrite(path, real, current, target, mode, link))
        if link and target is not None:
            diffs[path] = (
                f"--- /dev/null\n+++ b/{path}\n{path} comes back as a symlink to {os.fsdecode(target)}\n"
            )
        else:
            diffs[path] = _reverse_diff(path, current, target)
    return UndoPlan(change, writes, diffs)


def undo_last(session: Session, *, use_git: bool = True) -> dict[str, Any] | None:
    """Undo the session's latest change not undone yet; None when there is none. Raises RefusedError
    (exit 3, nothing written) when its lines were changed since."""
    with edits_lock(session):
        return _undo_locked(session, use_git)


def undo_change(session: Session, *, use_git: bool = True) -> UndoResult | None:
    """``undo_last`` for the faces: the undo as a typed ``UndoResult`` (None: nothing to undo)."""
    entry = undo_last(session, use_git=use_git)
    return None if entry is None else UndoResult.from_entry(entry)


def _undo_locked(session: Session, use_git: bool) -> dict[str, Any] | None:
    recovered = recover(session)
    plan = plan_undo(session)
    if plan is None:
        return None
    change = plan.change
    undo_id = new_change_id()
    root = real_root(session.store.root)
    backup_dir = session.store.backups_dir(session.name) / f"undo-{undo_id}"
    stamp = now_iso()
    from app.vcs import commit_message, head_commit

    summary = f"undo {change.get('summary') or change['id']}"
    message = commit_message(session.name, summary, {"AI-Session": session.name, "AI-Undo": change["id"]})
    entry: dict[str, Any] = {
        "id": undo_id,
        "undone": change["id"],
        "summary": change.get("summary", ""),
        "files": plan.files,
        "diffs": plan.diffs,
        "commit": None,
        "undone_at": stamp,
        "backup": str(backup_dir),
    }
    about = f"change {change['id']} ({change.get('summary', '')})"
    story = (
        f"undid {about}: reverted {', '.join(plan.files)}"
        if plan.files
        else f"{about} was already undone (its files are as before it); recorded it as undone"
    )

    def record() -> None:
        session.record_undo(
            entry,
            change=change["_id"],
            change_fields={"undone": True, "undone_at": stamp, "undo_id": undo_id},
            event={
                "role": "event",
                "content": story,
                "kind": "undo",
                "outcome": "undone",
                "change": change["id"],
                "undo_id": undo_id,
            },
        )

    def note_commit(result: Committed) -> None:
        fields = result.fields()
        session.update_undo(undo_id, fields)
        entry.update(fields)

    def finished(result: Committed) -> str:
        return f"the undo of {about} was done: {len(plan.files)} file(s) reverted, {describe_commit(result)}"

    JournaledChange(
        what=f"the undo of change {change['id']}",
        root=root,
        writes=plan.writes,
        backup_dir=backup_dir,
        tag=undo_id,
        journal={
            "kind": "undo",
            "session": session.name,
            "change": change["id"],
            "summary": summary,
            "message": message,
            "use_git": use_git,
            "head": head_commit(root) if use_git else None,
        },
        record=record,
        unrecord=lambda: session.unrecord_undo(undo_id),
        note_commit=note_commit,
        finished=finished,
    ).run()
    if recovered:
        entry["recovered"] = recovered
    return entry
