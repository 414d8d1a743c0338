"""Applying an approved proposal: conflict re-check, backups, atomic writes, the git commit, the record."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.edits.containment import real_root, resolve_in_root
from app.edits.errors import EditError, RefusedError
from app.edits.proposal import FileChange, Proposal, current_bytes, default_file_mode, rebase_change
from app.edits.textfile import content_hash
from app.edits.transaction import FileWrite, finish_files, write_files

if TYPE_CHECKING:
    from app.session.store import Session

SUMMARY_CHARS = 60


def new_change_id() -> str:
    """Sortable by time, unique across processes."""
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


STORED_DIFF_CHARS = 100_000


def _capped(diff: str) -> str:
    """Diffs are kept in the session for history and export; a huge one is cut (the backup has it all)."""
    if len(diff) <= STORED_DIFF_CHARS:
        return diff
    cut = diff.rfind("\n", 0, STORED_DIFF_CHARS) + 1
    return diff[:cut] + f"[... {len(diff) - cut} more characters of this diff not stored]\n"


def summarize_goal(goal: str) -> str:
    first = next((line.strip() for line in goal.splitlines() if line.strip()), "") or "change"
    text = " ".join(first.split())
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1].rstrip() + "…"


def now_iso() -> str:
    from app.session.store import now_iso as store_now

    return store_now()


def commit_writes(
    root: Path, writes: Sequence[FileWrite], message: str, use_git: bool
) -> tuple[str | None, str | None, str | None]:
    """(commit id, warning, mixed-in note): a failed commit leaves the written files and says so (warning),
    it does not undo them; the note names the files whose uncommitted edits of the user's went into the
    commit because they touch the changed lines."""
    if not use_git:
        return None, None, None
    from app.vcs import GitError, PathChange, commit_paths

    mixed_in: list[str] = []
    try:
        commit = commit_paths(root, [PathChange(w.path, w.old, w.new) for w in writes], message, mixed_in)
    except GitError as exc:
        return None, exc.message, None
    note = None
    if commit and mixed_in:
        note = (
            f"your uncommitted edits in {', '.join(mixed_in)} touch the changed lines, so they went into "
            f"commit {commit[:12]} too"
        )
    return commit, None, note


def _prepare(root: Path, change: FileChange) -> tuple[FileChange, FileWrite]:
    path, real = resolve_in_root(root, change.path)  # again: a symlink may have moved since the preview
    raw = current_bytes(real)
    now_hash = None if raw is None else content_hash(raw)
    if now_hash != change.old_hash:
        if change.old_hash is None:
            raise RefusedError(f"{path} was created since the proposal; nothing was written; ask again")
        if raw is None:
            raise RefusedError(f"{path} was deleted since the proposal; nothing was written; ask again")
        change = rebase_change(change, raw)
    mode = change.mode if change.mode is not None else default_file_mode()
    return change, FileWrite(path, real, raw, change.new_bytes(), mode)


def apply_proposal(
    proposal: Proposal, *, session: Session, goal: str, use_git: bool = True
) -> dict[str, Any]:
    """Write the proposal's files (all or none), commit them, record the change in the session and return
    the record: ``id``, ``files``, ``commit``, ``diffs``, hashes and where the backups are."""
    if not proposal.files:
        raise EditError("the change is empty: nothing to apply")
    with edits_lock(session):
        return _apply_locked(proposal, session, goal, use_git)


def edits_lock(session: Session) -> AbstractContextManager[None]:
    """Held from the re-check of the files to the record: two `ai` processes never interleave writes."""
    from app.session.storage import locked

    return locked(session.store.data_dir / "edits")


def recover(session: Session) -> list[str]:
    """Undo the half of an apply or undo that a killed `ai` left behind (call with the edits lock held)."""
    from app.edits.transaction import recover_interrupted

    store = session.store

    def is_recorded(backup_dir: Path, tag: str) -> bool:
        name = backup_dir.parent.name  # backups/<project>/<session>/<change>
        if not store.exists(name):
            return False
        return any(
            tag in (c.get("id"), c.get("undo_id")) for c in store.session(name, create=False).changes()
        )

    restored, left = recover_interrupted(store.backups_dir(session.name).parent, is_recorded)
    notes = [f"put back {path} as it was before an interrupted apply" for path in restored]
    notes += [f"{path} was changed after an interrupted apply; left as it is" for path in left]
    return notes


def _apply_locked(proposal: Proposal, session: Session, goal: str, use_git: bool) -> dict[str, Any]:
    recovered = recover(session)
    root = real_root(proposal.root)
    prepared = [_prepare(root, change) for change in proposal.files]
    changes = [change for change, _ in prepared]
    writes = [write for _, write in prepared]
    change_id = new_change_id()
    backup_dir = session.store.backups_dir(session.name) / change_id
    write_files(writes, backup_dir, tag=change_id)
    summary = summarize_goal(goal)
    record: dict[str, Any] = {
        "id": change_id,
        "session": session.name,
        "goal": goal,
        "summary": summary,
        "applied_at": now_iso(),
        "files": [c.path for c in changes],
        "diffs": {c.path: _capped(c.diff) for c in changes},
        "changes": [
            {
                "path": c.path,
                "action": c.action,
                "pre_hash": None if w.old is None else content_hash(w.old),
                "post_hash": None if w.new is None else content_hash(w.new),
                "mode": w.mode,
                # Undo needs the hunks of a modified file only: a created file goes by its hash, a
                # removed one comes back from the backup.
                "hunks": [h.to_dict() for h in c.hunks] if c.action == "modify" else [],
            }
            for c, w in zip(changes, writes, strict=True)
        ],
        "commit": None,
        "backup": str(backup_dir),
        "undone": False,
    }
    if recovered:
        record["recovered"] = recovered
    # Recorded before the commit: a crash before this line is rolled back by the next apply (the files
    # are not recorded yet), a crash after it leaves a recorded change without its commit.
    record["_id"] = session.record_change(record)
    finish_files(backup_dir, change_id)
    from app.vcs import commit_message

    message = commit_message(session.name, summary, {"AI-Session": session.name, "AI-Change": change_id})
    commit, warning, mixed_note = commit_writes(root, writes, message, use_git)
    if commit or warning:
        extra = {"commit": commit, **({"warning": warning} if warning else {})}
        if mixed_note:
            extra["commit_note"] = mixed_note
        session.update_change(record["_id"], **extra)
        record.update(extra)
    return record
