"""The next ``ai`` after a killed one: every change or undo whose journal was left open is finished or rolled
back, whichever keeps both the user's files and the session's story true, and said in one line.

A journal (``app.edits.transaction``) that never got as far as the session record is rolled back: the files
it had written get their old content back (a file changed since by someone else is left alone and named).
One that was recorded is finished: the files are as the change says, so it is committed (or the commit it
had already made is found by its trailer and noted). One that was recorded after its files were already put
back (a commit that failed, then a kill) loses its record instead. Every outcome is also an event in the
session, so ``--continue`` and the model's history tell what happened.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from app.edits.transaction import (
    FileWrite,
    OpenJournal,
    complete,
    has_open_journals,
    journal_writes,
    on_disk,
    open_journals,
    put_back,
)
from app.errors import TaskFailed
from app.project.guard import real_root

if TYPE_CHECKING:
    from app.edits.commit import Committed
    from app.session.store import ProjectStore, Session


def project_edits_lock(store: ProjectStore) -> AbstractContextManager[None]:
    """Held from the re-check of the files to the record: two `ai` processes never interleave writes."""
    from app.session.storage import locked

    return locked(store.data_dir / "edits")


def recover_project(store: ProjectStore) -> list[str]:
    """What the commands that write in a project run first (app/commands/recovery.py): one line per interrupted change.
    Costs one directory listing when there is nothing to recover."""
    if not has_open_journals(store.project_backups_dir):
        return []
    with project_edits_lock(store):
        return recover_locked(store)


def recover_locked(store: ProjectStore) -> list[str]:
    """Finish or roll back every open journal of the project (call it holding the edits lock). Raises
    TaskFailed, with the journal left open for a later try, when one can be neither finished nor rolled back
    now (git still cannot write, a file cannot be put back)."""
    lines: list[str] = []
    for journal in open_journals(store.project_backups_dir):
        try:
            lines.append(_recover(store, journal))
        except TaskFailed as exc:  # what was recovered before it is said too, in the same one line
            raise TaskFailed("; ".join([*lines, exc.message])) from None
    return lines


def _state(writes: list[FileWrite]) -> str:
    """Whether every file is as before the change ("old"), or not ("new": as it says, or changed since)."""
    for write in writes:
        if on_disk(write.real, write.link) != write.old:
            return "new"
    return "old"


class _Interrupted:
    """One open journal and what the session says about it."""

    def __init__(self, store: ProjectStore, journal: OpenJournal) -> None:
        info = journal.journal
        self.journal = journal
        self.tag = str(info.get("tag", ""))
        # A journal of an older ai says less: its folder tells the kind, its parent the session.
        self.kind = str(
            info.get("kind") or ("undo" if journal.backup_dir.name.startswith("undo-") else "apply")
        )
        self.name = str(info.get("session") or journal.backup_dir.parent.name)
        self.session: Session | None = None
        if store.exists(self.name):
            self.session = store.session(self.name, create=False)
        self.change: dict[str, Any] | None = None
        for change in self.session.changes() if self.session else []:
            if change.get("id") == info.get("change", self.tag) or (
                self.kind == "undo" and change.get("undo_id") == self.tag
            ):
                self.change = change
        change_id = info.get("change") or (self.change or {}).get("id") or self.tag
        subject = f"change {change_id}" if self.kind == "apply" else f"undo of change {change_id}"
        self.where = f"{subject} (session {self.name})"

    @property
    def recorded(self) -> bool:
        if self.change is None:
            return False
        return self.kind == "apply" or self.change.get("undo_id") == self.tag

    def tell(self, line: str, outcome: str | None) -> str:
        if self.session is not None:
            extra = {"outcome": outcome} if outcome else {}
            self.session.append_message("event", line, kind="recovered", change=self.tag, **extra)
        return line


def _recover(store: ProjectStore, journal: OpenJournal) -> str:
    it = _Interrupted(store, journal)
    writes = journal_writes(journal.backup_dir)
    if not it.recorded:
        return _roll_back(it)
    if writes and _state(writes) == "old":
        # Its files were put back after a failed commit, then the process died before the record went.
        assert it.session is not None and it.change is not None
        if it.kind == "apply":
            it.session.remove_change(it.change["_id"])
        else:
            it.session.unrecord_undo(it.tag)
        journal.close("rolled back")
        line = (
            f"recovered: {it.where} was interrupted after its files were put back; took it out of the session"
        )
        return it.tell(line, "not_applied" if it.kind == "apply" else None)
    return _finish(store, it, writes)


def _roll_back(it: _Interrupted) -> str:
    from app.edits.commit import short_list

    restored, left, failed = put_back(it.journal.backup_dir)
    if failed:
        raise TaskFailed(
            f"{it.where} was interrupted and {short_list(failed)} cannot be put back now; nothing else was done: "
            "check that the project is writable, then run ai again"
        )
    it.journal.close("recovered after an interruption")
    if restored:
        line = (
            f"recovered: {it.where} was interrupted before it was recorded in the session; put back {len(restored)} file(s) "
            f"as they were: {short_list(restored)}"
        )
    else:
        line = f"recovered: {it.where} was interrupted before it changed any file; nothing to put back"
    if left:
        line += f"; left {short_list(left)} as it is now (changed since)"
    if it.kind == "undo":
        line += "; the change stays applied"
    return it.tell(line, "not_applied" if it.kind == "apply" else None)


def _finish(store: ProjectStore, it: _Interrupted, writes: list[FileWrite]) -> str:
    from app.edits.commit import Committed, commit_writes, short_list
    from app.vcs import GitWriteFailed, find_commit

    assert it.session is not None and it.change is not None
    failed = complete(writes)
    if failed:
        raise TaskFailed(
            f"{it.where} was interrupted and {short_list(failed)} cannot be written now; nothing else was done: "
            "check that the project is writable, then run ai again"
        )
    info = it.journal.journal
    root = real_root(store.root)
    use_git = bool(info.get("use_git", True))
    made = it.change.get("commit") if it.kind == "apply" else it.change.get("undo_commit")
    trailer = f"AI-Change: {it.change['id']}" if it.kind == "apply" else f"AI-Undo: {it.change['id']}"
    found = None if made else find_commit(root, trailer, info.get("head")) if use_git and writes else None
    if made:
        result: Committed = Committed(str(made))
        done = f"it was committed as {str(made)[:12]} already"
    elif found:
        result = Committed(found)
        done = f"found its commit {found[:12]} and noted it"
    else:
        try:
            result = (
                commit_writes(root, writes, str(info.get("message", "")), use_git)
                if writes
                else Committed(None)
            )
        except GitWriteFailed as exc:
            raise TaskFailed(
                f"{it.where} was interrupted after writing its files, and git cannot commit them now "
                f"({exc.reason}); nothing else was done: make room for git, then run ai again"
            ) from None
        if result.commit:
            subject = str(info.get("message", "")).split("\n", 1)[0]
            done = f"committed it as {result.commit[:12]} {subject!r}"
        elif result.warning:
            done = f"kept it, but could not commit it: {result.warning}"
        else:
            done = f"kept it as recorded (no commit: {result.none_because})"
    if made:
        pass
    elif it.kind == "apply":
        it.session.update_change(it.change["_id"], **result.fields())
    else:
        it.session.update_undo(it.tag, result.fields())
    it.journal.close("done")
    line = f"recovered: {it.where} was interrupted after writing {len(writes)} file(s); {done}"
    return it.tell(line, "applied" if it.kind == "apply" else None)
