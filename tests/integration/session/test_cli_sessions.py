"""The session commands of README "Commands", through the installed `ai`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.paths import project_hash
from app.session.store import ProjectStore
from tests.conftest import git, run_ai

BAD_NAMES = ["../x", ".hidden", "", "a" * 65, "a/b", "sp ace", "naïve"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_session_names_are_refused_and_nothing_is_created(
    name: str, project: Path, agent_home: Path
) -> None:
    for args in (["--session", name], ["--delete-session", name], ["--export-session", name]):
        result = run_ai(*args, cwd=project)
        assert result.returncode == 2, args
        assert result.stderr.count("\n") == 1 and "invalid session name" in result.stderr
        assert result.stdout == ""
    assert not (agent_home / "data").exists()


def test_first_use_creates_main_and_session_switches_the_active_one(project: Path) -> None:
    first = run_ai(cwd=project)
    assert first.returncode == 0 and "session main (active)" in first.stdout
    assert run_ai("--session", "feature-1.2", cwd=project).returncode == 0
    rows = json.loads(run_ai("--list-sessions", "--json", cwd=project).stdout)
    assert [(r["name"], r["is_active"]) for r in rows] == [("feature-1.2", True), ("main", False)]
    assert set(rows[0]) == {"name", "created_at", "last_used", "goal_summary", "change_count", "is_active"}
    listing = run_ai("--list-sessions", cwd=project).stdout.splitlines()
    assert listing[0].startswith("* feature-1.2") and listing[1].startswith("  main")
    # A bare `ai` opens `main` (README "Commands"), which becomes the active one.
    assert "session main (active)" in run_ai(cwd=project).stdout
    rows = json.loads(run_ai("--list-sessions", "--json", cwd=project).stdout)
    assert {r["name"]: r["is_active"] for r in rows} == {"feature-1.2": False, "main": True}


def test_deleting_the_active_session_gives_the_mark_back_to_main(project: Path) -> None:
    run_ai(cwd=project)
    run_ai("--session", "side", cwd=project)
    assert run_ai("--delete-session", "side", cwd=project).returncode == 0
    assert run_ai("--list-sessions", cwd=project).stdout.startswith("* main")


def test_project_is_the_git_top_level_and_project_flag_names_another(
    git_project: Path, tmp_path: Path
) -> None:
    sub = git_project / "deep" / "er"
    sub.mkdir(parents=True)
    run_ai("--session", "from-sub", cwd=sub)
    rows = json.loads(run_ai("--list-sessions", "--json", cwd=git_project).stdout)
    assert [r["name"] for r in rows] == ["from-sub"]
    other = tmp_path / "elsewhere"
    other.mkdir()
    assert json.loads(run_ai("--list-sessions", "--json", cwd=other).stdout) == []
    rows = json.loads(run_ai("--project", str(git_project), "--list-sessions", "--json", cwd=other).stdout)
    assert [r["name"] for r in rows] == ["from-sub"]
    missing = run_ai("--project", str(tmp_path / "nope"), "--list-sessions", cwd=other)
    assert missing.returncode == 2 and "no such directory" in missing.stderr


def test_sessions_of_two_projects_never_see_each_other(tmp_path: Path, agent_home: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    ProjectStore(a).session("shared-name").append_message("user", "only in a")
    ProjectStore(b).session("shared-name").append_message("user", "only in b")
    assert [m["content"] for m in ProjectStore(a).session("shared-name").messages()] == ["only in a"]
    assert (agent_home / "data" / project_hash(a)).is_dir()
    assert len(project_hash(a)) == 16 and project_hash(a) != project_hash(b)


def test_unknown_session_is_a_usage_error(project: Path) -> None:
    for args in (
        ["--delete-session", "ghost"],
        ["--export-session", "ghost"],
        ["--session", "ghost", "--continue"],
    ):
        result = run_ai(*args, cwd=project)
        assert result.returncode == 2 and "no session named 'ghost'" in result.stderr, args


def test_continue_prints_the_whole_history(project: Path) -> None:
    session = ProjectStore(project).session("work")
    session.append_message("user", "add a login form")
    session.append_message("assistant", "Plan: 1. a form")
    out = run_ai("--session", "work", "--continue", cwd=project)
    assert out.returncode == 0
    assert out.stdout.index("user:\nadd a login form") < out.stdout.index("assistant:\nPlan: 1. a form")
    lines = run_ai("--session", "work", "--continue", "--json", cwd=project).stdout.splitlines()
    assert [json.loads(line)["content"] for line in lines] == ["add a login form", "Plan: 1. a form"]


def test_delete_removes_the_session_and_its_backups_but_not_project_files(project: Path) -> None:
    store = ProjectStore(project)
    store.session("doomed").append_message("user", "x")
    store.backups_dir("doomed").mkdir(parents=True)
    (store.backups_dir("doomed") / "file.bak").write_text("old")
    (project / "code.py").write_text("print(1)\n")
    result = run_ai("--delete-session", "doomed", cwd=project)
    assert result.returncode == 0
    assert not store.session_path("doomed").exists() and not store.backups_dir("doomed").exists()
    assert (project / "code.py").read_text() == "print(1)\n"
    assert json.loads(run_ai("--list-sessions", "--json", cwd=project).stdout) == []


def test_export_then_import_into_another_project_reproduces_the_session(
    tmp_path: Path, agent_home: Path
) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    dst.mkdir()
    session = ProjectStore(src).session("feature")
    session.append_message("user", 'unicode ✓ and "quotes"\nand lines', usage={"prompt_tokens": 3})
    session.append_message("assistant", "done")
    session.set_goal_summary("make it unicode-safe")
    session.record_change({"id": "c1", "files": ["a.py"], "commit": "abc"})
    session.record_undo({"change": "c1"})
    session.save_background({"tests": {"passed": 3, "failed": 0}})
    secret = "sk-test-SECRET-0123456789"
    exported = run_ai("--export-session", "feature", cwd=src, env={"OPENAI_API_KEY": secret})
    assert exported.returncode == 0
    document = json.loads(exported.stdout)
    assert document["format"] == "ai-agent-session" and document["version"] == 1

    file = tmp_path / "feature.json"
    assert run_ai("--export-session", "feature", str(file), cwd=src).returncode == 0
    assert json.loads(file.read_text()) == document
    imported = run_ai("--import-session", str(file), cwd=dst, env={"OPENAI_API_KEY": secret})
    assert imported.returncode == 0
    again = json.loads(run_ai("--export-session", "feature", cwd=dst).stdout)
    assert again == document
    # Refuses to overwrite; --session renames.
    refused = run_ai("--import-session", str(file), cwd=dst)
    assert refused.returncode == 2 and "already exists" in refused.stderr
    assert run_ai("--import-session", str(file), "--session", "copy", cwd=dst).returncode == 0
    copy = json.loads(run_ai("--export-session", "copy", cwd=dst).stdout)
    assert copy["messages"] == document["messages"] and copy["metadata"]["name"] == "copy"
    # The key is in no stored file.
    for path in agent_home.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("not json", "not JSON"),
        ("[]", "the document must be a JSON object (got a list)"),
        ('{"format": "other"}', 'format must be "ai-agent-session" (got "other")'),
        (
            '{"format": "ai-agent-session", "version": 1, "metadata": {"name": "x", "created_at": "t",'
            ' "last_used": "t"}, "messages": [{"role": "robot", "content": "hi"}], "changes": [], "undo": []}',
            'messages[0].role must be one of "user", "assistant", "system", "event" (got "robot")',
        ),
    ],
)
def test_import_rejects_a_document_without_the_export_shape(
    content: str, problem: str, tmp_path: Path, project: Path
) -> None:
    file = tmp_path / "doc.json"
    file.write_text(content)
    result = run_ai("--import-session", str(file), cwd=project)
    assert result.returncode == 2 and problem in result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(run_ai("--list-sessions", "--json", cwd=project).stdout) == []


def test_usage_errors_are_one_line(project: Path) -> None:
    for args in (["--bogus"], ["--list-sessions", "--delete-session", "x"], ["--yes"], ["--export-session"]):
        result = run_ai(*args, cwd=project)
        assert result.returncode == 2, args
        assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("ai: "), args


def test_version_and_help(project: Path) -> None:
    assert run_ai("--version", cwd=project).stdout.startswith("ai ")
    help_text = run_ai("--help", cwd=project).stdout
    for flag in ("--session", "--list-sessions", "--delete-session", "--export-session", "--import-session"):
        assert flag in help_text


def test_git_repo_without_commits_is_a_project(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    root.mkdir()
    git(root, "init", "-q")
    assert run_ai("--session", "s1", cwd=root).returncode == 0
    assert "s1" in run_ai("--list-sessions", cwd=root).stdout


def test_counts_an_older_ai_stored_are_not_shown_an_undone_change_is_not_counted(project: Path) -> None:
    session = ProjectStore(project).session("old")
    doc_id = session.record_change({"id": "c1", "files": ["a.py"]})
    session.update_change(doc_id, undone=True)
    # As an older ai left them: the undone change still counted in the session file and in the index.
    data_dir = ProjectStore(project).data_dir
    for path in (data_dir / "sessions" / "old.json", data_dir / "index.json"):
        text = path.read_text()
        assert '"change_count":0' in text
        path.write_text(
            text.replace('"change_count":0', '"change_count":1').replace('"version":2', '"version":1')
        )
    listed = json.loads(run_ai("--list-sessions", "--json", cwd=project).stdout)
    assert [row["change_count"] for row in listed] == [0]
    assert "0 applied changes" in run_ai("--session", "old", cwd=project).stdout
    exported = run_ai("--export-session", "old", cwd=project).stdout
    imported = ProjectStore(project).import_session(
        json.loads(exported.replace('"change_count": 0', '"change_count": 1')), "copy"
    )
    assert imported.change_count == 0
