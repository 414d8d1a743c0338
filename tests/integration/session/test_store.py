"""The store's typed API as the later issues use it."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import UsageError
from app.session.store import ProjectStore


def test_changes_undo_and_background_are_kept_per_session(project: Path) -> None:
    store = ProjectStore(project)
    a, b = store.session("a"), store.session("b")
    doc_id = a.record_change({"id": "c1", "files": ["x.py"]})
    a.record_change({"id": "c2", "files": ["y.py"]})
    a.update_change(doc_id, undone=True)
    a.record_undo({"change_id": "c1", "commit": None})
    a.save_background({"tests": {"failed": 1}})
    a.save_background({"tests": {"failed": 0}})
    assert [(c["id"], c.get("undone"), c["_id"]) for c in a.changes()] == [
        ("c1", True, doc_id),
        ("c2", None, 2),
    ]
    assert [u["change_id"] for u in a.undo_entries()] == ["c1"]
    assert a.background() == {"tests": {"failed": 0}}
    assert b.changes() == [] and b.undo_entries() == [] and b.background() == {}
    # Counted: the changes applied and not undone.
    assert a.meta().change_count == 1 and b.meta().change_count == 0
    assert [m.change_count for m in store.list_sessions() if m.name == "a"] == [1]


def test_messages_page_from_the_end(project: Path) -> None:
    session = ProjectStore(project).session("long")
    for i in range(30):
        session.append_message("user" if i % 2 else "assistant", f"m{i}", usage={"total_tokens": i})
    assert [m["content"] for m in session.messages(limit=5)] == [f"m{i}" for i in range(25, 30)]
    assert [m["content"] for m in session.messages(limit=5, before=25)] == [f"m{i}" for i in range(20, 25)]
    assert session.messages()[3]["usage"] == {"total_tokens": 3}
    assert session.message_count() == 30
    with pytest.raises(ValueError):
        session.append_message("robot", "no such role")


def test_rename_keeps_everything_and_the_active_mark(project: Path) -> None:
    store = ProjectStore(project)
    old = store.session("old", activate=True)
    old.append_message("user", "hello")
    old.set_goal_summary("  greet the user  ")
    store.backups_dir("old").mkdir(parents=True)
    store.rename_session("old", "new")
    assert not store.exists("old") and store.active_name() == "new"
    renamed = store.session("new", create=False)
    assert renamed.messages()[0]["content"] == "hello"
    assert renamed.meta().goal_summary == "greet the user"
    assert store.backups_dir("new").is_dir()
    with pytest.raises(UsageError):
        store.rename_session("new", "../evil")


def test_deleted_session_cannot_be_written_through_a_stale_handle(project: Path) -> None:
    store = ProjectStore(project)
    session = store.session("gone")
    store.delete_session("gone")
    with pytest.raises(UsageError, match="was deleted"):
        session.append_message("user", "lost?")
    assert not store.exists("gone")


def test_session_without_create_is_a_usage_error(project: Path) -> None:
    with pytest.raises(UsageError, match="no session named 'nope'"):
        ProjectStore(project).session("nope", create=False)
