"""Typed views of what the edit engine records: ``AppliedChange`` for an applied change (the session keeps the
whole record, app/edits/apply.py) and ``UndoResult`` for an undo (app/edits/undo.py), so the faces read fields,
not dictionary keys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


def _text(value: Any) -> str | None:
    return str(value) if value else None


@dataclass(frozen=True)
class AppliedChange:
    change_id: str
    files: tuple[str, ...]
    commit: str | None = None
    recovered: tuple[str, ...] = ()  # what an earlier, killed `ai` left and this apply finished first
    warning: str | None = None  # git could not take the change now: it stays, uncommitted
    commit_note: str | None = None  # the user's own edits that went into the commit too

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> AppliedChange:
        return cls(
            change_id=str(record.get("id", "")),
            files=tuple(str(f) for f in record.get("files", ())),
            commit=_text(record.get("commit")),
            recovered=tuple(str(line) for line in record.get("recovered", ())),
            warning=_text(record.get("warning")),
            commit_note=_text(record.get("commit_note")),
        )


@dataclass(frozen=True)
class UndoResult:
    undo_id: str
    undone: str  # the id of the change taken back
    summary: str
    files: tuple[str, ...]  # reverted; empty when the change was already undone by hand
    commit: str | None = None
    recovered: tuple[str, ...] = ()
    warning: str | None = None
    commit_note: str | None = None
    no_commit: str | None = None  # why there is no commit when nothing failed

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> UndoResult:
        return cls(
            undo_id=str(entry.get("id", "")),
            undone=str(entry.get("undone", "")),
            summary=str(entry.get("summary", "")),
            files=tuple(str(f) for f in entry.get("files", ())),
            commit=_text(entry.get("commit")),
            recovered=tuple(str(line) for line in entry.get("recovered", ())),
            warning=_text(entry.get("warning")),
            commit_note=_text(entry.get("commit_note")),
            no_commit=_text(entry.get("no_commit")),
        )
