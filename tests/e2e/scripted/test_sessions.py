"""README's "Commands" and "How sessions are stored" through the installed `ai`: sessions, where they live,
export and import."""

from __future__ import annotations

import json
import os
from pathlib import Path

import blake3
import pytest

from tests.conftest import git
from tests.e2e.scripted.conftest import AI
from tests.e2e.scripted.helpers import one_line


def sessions(ai: AI, root: Path) -> dict[str, dict]:
    result = ai("--list-sessions", "--json", cwd=root, with_model=False)
    assert result.returncode == 0, result.stderr
    return {meta["name"]: meta for meta in json.loads(result.stdout)}


def test_plain_ai_without_a_terminal_creates_main_and_prints_its_summary(ai: AI, calc: Path) -> None:
    result = ai(cwd=calc, with_model=False)
    assert result.returncode == 0, result.stderr
    assert "main" in result.stdout
    assert sessions(ai, calc)["main"]["is_active"] is True


def test_session_flag_creates_the_session_and_makes_it_active(ai: AI, calc: Path) -> None:
    assert ai(cwd=calc, with_model=False).returncode == 0
    result = ai("--session", "feat-1.x_y", cwd=calc, with_model=False)
    assert result.returncode == 0, result.stderr
    assert "feat-1.x_y" in result.stdout
    listed = sessions(ai, calc)
    assert listed["feat-1.x_y"]["is_active"] is True
    assert listed["main"]["is_active"] is False


def test_list_sessions_plain_and_json_carry_the_metadata(ai: AI, calc: Path) -> None:
    ai("--session", "alpha", cwd=calc, with_model=False)
    plain = ai("--list-sessions", cwd=calc, with_model=False)
    assert plain.returncode == 0
    (line,) = [row for row in plain.stdout.splitlines() if "alpha" in row]
    assert "*" in line  # the active marker
    meta = sessions(ai, calc)["alpha"]
    assert set(meta) >= {"name", "created_at", "last_used", "goal_summary", "change_count", "is_active"}
    assert meta["change_count"] == 0


BAD_NAMES = ["../x", ".hidden", "", "a" * 65, "a/b", "a b", "x;rm"]


def test_bad_session_names_are_usage_errors_and_create_nothing(ai: AI, calc: Path, agent_home: Path) -> None:
    for name in BAD_NAMES:
        for args in (["--session", name], ["--session", name, "--build", "fix-sub", "--yes"]):
            result = ai(*args, cwd=calc)
            assert result.returncode == 2, (name, result.stderr)
            one_line(result.stderr)
    assert not list(agent_home.rglob("*.json")), "a refused name left session files behind"
    assert ai("--session", "a" * 64, cwd=calc, with_model=False).returncode == 0


def test_unknown_sessions_are_usage_errors(ai: AI, calc: Path) -> None:
    for args in (["--delete-session", "nope"], ["--export-session", "nope"], ["--session", "nope", "--undo"]):
        result = ai(*args, cwd=calc, with_model=False)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "nope" in one_line(result.stderr)


def test_delete_session_removes_it_and_keeps_its_applied_change(ai: AI, calc: Path) -> None:
    assert ai("--session", "gone", "--build", "fix-sub", "--yes", cwd=calc).returncode == 0
    result = ai("--delete-session", "gone", cwd=calc, with_model=False)
    assert result.returncode == 0, result.stderr
    assert "gone" not in sessions(ai, calc)
    assert "return a - b" in (calc / "calc" / "ops.py").read_text()
    assert git(calc, "status", "--porcelain") == ""


def test_sessions_live_under_the_blake3_hash_of_the_resolved_project_root(
    ai: AI, calc: Path, agent_home: Path, tmp_path: Path
) -> None:
    digest = blake3.blake3(str(calc.resolve()).encode()).hexdigest()[:16]
    link = tmp_path / "link-to-repo"
    link.symlink_to(calc)
    (calc / "calc" / "deep").mkdir()
    ai("--session", "here", cwd=calc / "calc" / "deep", with_model=False)  # the git top level, not the subdir
    ai("--session", "via-link", cwd=link, with_model=False)  # the resolved path: the same project
    data = agent_home / "data"
    assert [p.name for p in data.iterdir()] == [digest]
    assert {"here", "via-link"} <= set(sessions(ai, calc))
    other = tmp_path / "other"
    other.mkdir()
    assert ai("--list-sessions", "--json", cwd=other, with_model=False).stdout.strip() in ("[]", "")
    assert (
        ai("--project", str(calc), "--list-sessions", cwd=other, with_model=False).stdout.count("here") == 1
    )


def test_project_flag_names_another_project_and_rejects_a_missing_one(
    ai: AI, calc: Path, tmp_path: Path
) -> None:
    assert ai("--project", str(calc), "--session", "remote", cwd=tmp_path, with_model=False).returncode == 0
    assert "remote" in sessions(ai, calc)
    result = ai("--project", str(tmp_path / "missing"), "--list-sessions", cwd=tmp_path, with_model=False)
    assert result.returncode == 2
    one_line(result.stderr)


def test_export_has_the_protocol_shape_and_import_elsewhere_reproduces_it(
    ai: AI, calc: Path, tmp_path: Path, agent_home: Path
) -> None:
    assert ai("--session", "exp", "--build", "fix-sub", "--yes", cwd=calc).returncode == 0
    assert ai("--session", "exp", "--undo", cwd=calc, with_model=False).returncode == 0
    out = ai("--export-session", "exp", cwd=calc, with_model=False)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["format"] == "ai-agent-session" and doc["version"] == 1
    assert set(doc) >= {"metadata", "messages", "changes", "undo"}
    meta = doc["metadata"]
    # The one change was undone: the count is of the changes still applied.
    assert meta["name"] == "exp" and meta["change_count"] == 0 and isinstance(meta["is_active"], bool)
    assert meta["goal_summary"] and meta["created_at"] and meta["last_used"]
    assert doc["messages"] and all({"role", "content", "ts"} <= set(m) for m in doc["messages"])
    assert {m["role"] for m in doc["messages"]} <= {"user", "assistant", "system", "event"}
    assert any("fix-sub" in m["content"] for m in doc["messages"] if m["role"] == "user")
    assert len(doc["changes"]) == 1 and len(doc["undo"]) == 1

    exported = tmp_path / "exp.json"
    assert ai("--export-session", "exp", str(exported), cwd=calc, with_model=False).returncode == 0
    assert json.loads(exported.read_text()) == doc
    refused = ai("--import-session", str(exported), cwd=calc, with_model=False)
    assert refused.returncode == 2
    assert "exp" in one_line(refused.stderr)

    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    assert ai("--import-session", str(exported), cwd=other, with_model=False).returncode == 0
    again = json.loads(ai("--export-session", "exp", cwd=other, with_model=False).stdout)
    for one in (again, doc):  # which session is active belongs to each project
        one["metadata"].pop("is_active")
    assert again == doc
    renamed = ai("--import-session", str(exported), "--session", "exp-2", cwd=other, with_model=False)
    assert renamed.returncode == 0
    assert "exp-2" in sessions(ai, other)
    # The API key is never stored: not in any file under the data root.
    for path in agent_home.rglob("*"):
        if path.is_file():
            assert b"sk-e2e-secret" not in path.read_bytes(), path


@pytest.mark.parametrize(
    "content",
    [
        "not json at all",
        "[1, 2]",
        '{"format": "something-else", "version": 1}',
        '{"format": "ai-agent-session"}',
    ],
)
def test_import_rejects_a_document_of_another_shape(ai: AI, calc: Path, tmp_path: Path, content: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = ai("--import-session", str(bad), cwd=calc, with_model=False)
    assert result.returncode == 2, result.stdout
    one_line(result.stderr)
    assert sorted(os.listdir(calc)) == [".git", "README.md", "calc"]


def test_a_goal_that_is_not_utf8_is_refused_before_a_session_exists_or_the_model_hears_of_it(
    ai: AI, calc: Path, agent_home: Path
) -> None:
    assert ai("--session", "keep", cwd=calc, with_model=False).returncode == 0
    index = next(agent_home.glob("data/*/index.json")).read_bytes()
    goal = os.fsdecode(b"fix-sub \xff\xfe")  # argv bytes that are not UTF-8, as Python hands them over
    for args in (["--build", goal, "--yes"], ["--session", "new", "--build", goal, "--dry-run", "--json"]):
        result = ai(*args, cwd=calc)
        assert result.returncode == 2, result.stderr
        line = one_line(result.stderr)
        assert line.startswith("ai: --build ") and "is not valid UTF-8" in line
        assert result.stdout == ""
    assert set(sessions(ai, calc)) == {"keep"} and sessions(ai, calc)["keep"]["is_active"] is True
    assert next(agent_home.glob("data/*/index.json")).read_bytes() == index
    assert not ai.model.log.exists() or not ai.model.requests_for(goal)  # nothing was sent
    assert "return a + b" in (calc / "calc" / "ops.py").read_text()
    assert git(calc, "status", "--porcelain") == ""
