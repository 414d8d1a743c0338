"""Applying an approved proposal: conflict re-check, then one journaled sequence of backups, atomic writes, the
record in the session and the git commit."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from app.edits.commit import Committed, commit_writes, describe_commit, failure_reason, short_list
from app.edits.proposal import FileChange, Proposal, current_bytes, default_file_mode, rebase_change
from app.edits.transaction import FileWrite, deferred_interrupts, finish_files, on_disk, put_back, write_files
from app.errors import EditError, RefusedError, TaskFailed
from app.paths import DEFAULT_SESSION
from app.project.guard import link_in_root, real_root, resolve_in_root
from app.text.textfile import content_hash
from app.vcs import GitWriteFailed

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


# What this process finished (applied, undone): said when a Ctrl-C ends it right after (app/cli.py).
_finished: list[str] = []


def finished_in_this_process() -> list[str]:
    return list(_finished)


@dataclass
class JournaledChange:
    """A change (or an undo) as one journaled sequence: its files written, then recorded in the session, then
    committed, then the journal closed. A failure at any step leaves the files as before with nothing
    recorded, or, when even that cannot be done, an open journal that the next ``ai`` finishes
    (``app.edits.recovery``). Ctrl-C waits for the sequence to end."""

    what: str  # "change X", "the undo of change X": names it in messages
    root: Path
    writes: list[FileWrite]
    backup_dir: Path
    tag: str
    journal: dict[str, Any]  # what a recovery needs: kind, session, change, message, use_git, head
    record: Callable[[], None]
    unrecord: Callable[[], None]
    note_commit: Callable[[Committed], None]
    finished: Callable[[Committed], str]  # what was done, for a Ctrl-C message

    def run(self) -> Committed:
        with deferred_interrupts():
            if self.writes:
                write_files(self.writes, self.backup_dir, tag=self.tag, info=self.journal)
            try:
                self.record()
            except Exception as exc:
                self._put_back(
                    f"could not record {self.what} in the session ({failure_reason(exc)})", recorded=False
                )
            try:
                result = (
                    commit_writes(
                        self.root, self.writes, str(self.journal["message"]), self.journal["use_git"]
                    )
                    if self.writes
                    else Committed(None)
                )
            except GitWriteFailed as exc:
                self._put_back(f"could not commit {self.what}: {exc.reason}", recorded=True)
            _finished.append(self.finished(result))
            try:
                self.note_commit(result)
            except Exception as exc:  # the journal stays open: the next `ai` finds the commit and notes it
                raise TaskFailed(
                    f"{self.finished(result)}, but the session could not note it ({failure_reason(exc)}): the next "
                    "`ai` in the project does"
                ) from None
            if self.writes:
                finish_files(self.backup_dir, self.tag)
            return result

    def _put_back(self, failure: str, *, recorded: bool) -> NoReturn:
        """After a failed step: the files as before and nothing recorded, then TaskFailed saying so."""
        _, left, failed = put_back(self.backup_dir) if self.writes else ([], [], [])
        if not failed and recorded:
            try:
                self.unrecord()
            except Exception as exc:
                raise TaskFailed(
                    f"{failure}; its files were put back, but the session could not be told "
                    f"({failure_reason(exc)}): the next `ai` in the project finishes that"
                ) from None
        if failed:
            raise TaskFailed(
                f"{failure}; could not put back {short_list(failed)} either: the next `ai` in the project "
                "finishes or rolls back the change"
            )
        if self.writes:
            finish_files(self.backup_dir, self.tag, "rolled back")
        kept = f" ({short_list(left)} changed meanwhile, left as they are)" if left else ""
        raise TaskFailed(
            f"{failure}; nothing was changed: its files were put back{kept}; fix that and try again"
        )


def _prepare(root: Path, change: FileChange) -> tuple[FileChange, FileWrite]:
    if change.link:
        path, location = link_in_root(root, change.path, must_exist=False) or (
            change.path,
            root / change.path,
        )
        target = on_disk(location, link=True)
        if target is None or content_hash(target) != change.old_hash:
            raise RefusedError(
                f"{path} is no longer the symlink the proposal removes; nothing was written; ask again"
            )
        return change, FileWrite(path, location, target, None, 0o777, link=True)
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
    from app.edits.recovery import project_edits_lock

    return project_edits_lock(session.store)


def recover(session: Session) -> list[str]:
    """Finish or roll back what a killed `ai` left half-done in the project, one line each (call it with the
    edits lock held)."""
    from app.edits.recovery import recover_locked

    return recover_locked(session.store)


def _apply_locked(proposal: Proposal, session: Session, goal: str, use_git: bool) -> dict[str, Any]:
    recovered = recover(session)
    root = real_root(proposal.root)
    prepared = [_prepare(root, change) for change in proposal.files]
    changes = [change for change, _ in prepared]
    writes = [write for _, write in prepared]
    change_id = new_change_id()
    backup_dir = session.store.backups_dir(session.name) / change_id
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
                **({"symlink": True} if w.link else {}),
            }
            for c, w in zip(changes, writes, strict=True)
        ],
        "commit": None,
        "backup": str(backup_dir),
        "undone": False,
    }
    if recovered:
        record["recovered"] = recovered
    from app.vcs import commit_message, head_commit

    message = commit_message(session.name, summary, {"AI-Session": session.name, "AI-Change": change_id})

    def record_it() -> None:
        record["_id"] = session.record_change({k: v for k, v in record.items() if k != "recovered"})

    def note_commit(result: Committed) -> None:
        extra = result.fields()
        session.update_change(record["_id"], **extra)
        record.update(extra)

    def finished(result: Committed) -> str:
        undo = "ai --undo" if session.name == DEFAULT_SESSION else f"ai --session {session.name} --undo"
        return (
            f"change {change_id} ({summary}) was applied to {len(writes)} file(s) and {describe_commit(result)}; "
            f"`{undo}` takes it back"
        )

    JournaledChange(
        what=f"change {change_id}",
        root=root,
        writes=writes,
        backup_dir=backup_dir,
        tag=change_id,
        journal={
            "kind": "apply",
            "session": session.name,
            "change": change_id,
            "summary": summary,
            "message": message,
            "use_git": use_git,
            "head": head_commit(root) if use_git else None,
        },
        record=record_it,
        unrecord=lambda: session.remove_change(record["_id"]),
        note_commit=note_commit,
        finished=finished,
    ).run()
    return record
