"""`ai [--session NAME] --undo [--dry-run] [--json] [--no-git]` through the installed command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.edits import apply_proposal
from app.session.store import ProjectStore
from tests.conftest import git, run_ai
from tests.integration.edits.helpers import AREA_ROUND, LOOK_ALIKE, in_area, in_volume, propose, replace

BODY = "".join(f"line {n}\n" for n in range(1, 21))


@pytest.fixture
def repo(git_project: Path) -> Path:
    (git_project / "f.py").write_text(BODY)
    git(git_project, "add", ".")
    git(git_project, "commit", "-q", "-m", "f")
    return git_project


def apply(root: Path, answer: str, session: str = "main", goal: str = "tidy f") -> dict:
    store = ProjectStore(root)
    return apply_proposal(propose(root, answer), session=store.session(session), goal=goal)


def test_undo_prints_what_it_reverted(repo: Path) -> None:
    change = apply(repo, replace("f.py", "line 4\n", "four\n"))
    result = run_ai("--undo", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert f"undid change {change['id']} (tidy f)" in result.stdout
    assert "reverted: f.py" in result.stdout
    head = git(repo, "rev-parse", "HEAD").strip()
    assert f"commit: {head[:12]}" in result.stdout
    assert (repo / "f.py").read_text() == BODY
    assert git(repo, "log", "-1", "--format=%s").strip() == "ai(main): undo tidy f"


def test_nothing_to_undo_is_a_message_and_exit_0(repo: Path) -> None:
    result = run_ai("--undo", cwd=repo)
    assert result.returncode == 0
    assert result.stdout.strip() == "nothing to undo in session 'main'"


def test_undo_conflict_is_one_line_and_exit_3(repo: Path) -> None:
    apply(repo, replace("f.py", "line 10\n", "ten\n"))
    (repo / "f.py").write_text(BODY.replace("line 10\n", "TEN!\n"))
    result = run_ai("--undo", cwd=repo)
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "f.py hunk 1 (lines 7-13) was changed since" in lines[0]
    assert (repo / "f.py").read_text() == BODY.replace("line 10\n", "TEN!\n")


@pytest.mark.parametrize(
    ("spoil", "what", "todo"),
    [
        (
            lambda f: f.write_text(BODY.replace("line 10\n", "TEN!\n")),
            "was changed since",
            "undo or revert your later edit of those lines first",
        ),
        (lambda f: f.unlink(), "was deleted since", "restore the file first"),
    ],
)
def test_an_undo_refusal_says_what_to_do(repo: Path, spoil, what: str, todo: str) -> None:
    apply(repo, replace("f.py", "line 10\n", "ten\n"))
    spoil(repo / "f.py")
    result = run_ai("--undo", cwd=repo)
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert what in lines[0] and "nothing was written" in lines[0]
    assert todo in lines[0] and "edit the file by hand" in lines[0]


def test_dry_run_shows_the_reverse_diff_and_changes_nothing(repo: Path) -> None:
    apply(repo, replace("f.py", "line 4\n", "four\n"))
    head = git(repo, "rev-parse", "HEAD")
    result = run_ai("--undo", "--dry-run", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert "nothing was changed" in result.stdout
    assert "-four\n+line 4\n" in result.stdout
    assert "four\n" in (repo / "f.py").read_text() and git(repo, "rev-parse", "HEAD") == head
    again = run_ai("--undo", "--dry-run", "--json", cwd=repo)
    (event,) = [json.loads(line) for line in again.stdout.splitlines()]
    assert event["event"] == "undo_preview" and event["files"] == ["f.py"]


def test_json_lines_and_sessions(repo: Path) -> None:
    change_a = apply(repo, replace("f.py", "line 2\n", "two\n"), session="a", goal="a goal")
    apply(repo, replace("f.py", "line 18\n", "eighteen\n"), session="b", goal="b goal")
    result = run_ai("--session", "a", "--undo", "--json", cwd=repo)
    assert result.returncode == 0, result.stderr
    (event,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert event["event"] == "undo" and event["change"] == change_a["id"] and event["session"] == "a"
    assert event["files"] == ["f.py"] and event["commit"] == git(repo, "rev-parse", "HEAD").strip()
    assert "eighteen" in (repo / "f.py").read_text() and "two" not in (repo / "f.py").read_text()
    nothing = run_ai("--session", "a", "--undo", "--json", cwd=repo)
    assert json.loads(nothing.stdout) == {"event": "nothing_to_undo", "session": "a"}


def test_no_git_and_unknown_session(repo: Path) -> None:
    apply(repo, replace("f.py", "line 4\n", "four\n"))
    head = git(repo, "rev-parse", "HEAD")
    result = run_ai("--undo", "--no-git", cwd=repo)
    assert result.returncode == 0 and "no commit (--no-git)" in result.stdout
    assert git(repo, "rev-parse", "HEAD") == head and (repo / "f.py").read_text() == BODY
    unknown = run_ai("--session", "nope", "--undo", cwd=repo)
    assert unknown.returncode == 2 and "no session named 'nope'" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1


def test_undo_conflict_with_json_is_one_error_event_and_one_stderr_line(repo: Path) -> None:
    apply(repo, replace("f.py", "line 10\n", "ten\n"))
    (repo / "f.py").write_text(BODY.replace("line 10\n", "TEN!\n"))
    result = run_ai("--undo", "--json", cwd=repo)
    assert result.returncode == 3
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["event"] for e in events] == ["error"] and events[0]["exit_code"] == 3
    assert len(result.stderr.strip().splitlines()) == 1 and "edit the file by hand" in result.stderr


def test_undo_outside_a_repository(project: Path) -> None:
    (project / "a.txt").write_text("a\n")
    apply(project, replace("a.txt", "a\n", "b\n"))
    result = run_ai("--undo", cwd=project)
    assert result.returncode == 0 and "no commit (not a git repository)" in result.stdout
    assert (project / "a.txt").read_text() == "a\n"


def test_modifiers_without_a_command_and_undo_with_build_are_usage_errors(repo: Path) -> None:
    assert run_ai("--undo", "--build", "x", cwd=repo).returncode == 2
    assert run_ai("--undo", "--yes", "--dry-run", cwd=repo).returncode == 2


def test_undo_after_a_git_revert_says_already_undone_and_the_next_undo_walks_back(repo: Path) -> None:
    first = apply(repo, replace("f.py", "line 3\n", "three\n"), goal="first")
    second = apply(repo, replace("f.py", "line 10\n", "ten\n"), goal="second")
    git(repo, "revert", "--no-edit", "HEAD")  # the user takes the second change back with git
    head = git(repo, "rev-parse", "HEAD")
    result = run_ai("--undo", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip()
        == f"change {second['id']} (second) is already undone (the files are as before it)"
    )
    assert git(repo, "rev-parse", "HEAD") == head  # nothing to commit
    walked = run_ai("--undo", "--json", cwd=repo)
    assert walked.returncode == 0, walked.stderr
    (event,) = [json.loads(line) for line in walked.stdout.splitlines()]
    assert event["change"] == first["id"] and event["files"] == ["f.py"]
    assert (repo / "f.py").read_text() == BODY


def test_undo_of_a_change_already_undone_through_an_imported_copy(repo: Path, tmp_path: Path) -> None:
    change = apply(repo, replace("f.py", "line 4\n", "four\n"), session="orig")
    exported = tmp_path / "orig.json"
    assert run_ai("--export-session", "orig", str(exported), cwd=repo).returncode == 0
    assert run_ai("--import-session", str(exported), "--session", "copy", cwd=repo).returncode == 0
    assert run_ai("--session", "copy", "--undo", cwd=repo).returncode == 0
    assert (repo / "f.py").read_text() == BODY
    preview = run_ai("--session", "orig", "--undo", "--dry-run", cwd=repo)
    assert preview.returncode == 0 and "is already undone" in preview.stdout
    result = run_ai("--session", "orig", "--undo", "--json", cwd=repo)
    assert result.returncode == 0, result.stderr
    (event,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert event["change"] == change["id"] and event["already_undone"] is True
    nothing = run_ai("--session", "orig", "--undo", cwd=repo)
    assert nothing.stdout.strip() == "nothing to undo in session 'orig'"


def test_an_undo_is_in_the_session_story_the_listing_and_the_models_next_request(repo: Path) -> None:
    from tests.model_server import ScriptedModelServer

    answer = replace("f.py", "line 4\n", "four\n")
    with ScriptedModelServer({"rules": [{"reply": answer}]}) as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"}
        built = run_ai("--build", "rename line 4 in f.py", "--yes", cwd=repo, env=env)
        assert built.returncode == 0, built.stderr
        (change,) = ProjectStore(repo).session("main").changes()
        listed = json.loads(run_ai("--list-sessions", "--json", cwd=repo).stdout)
        assert [row["change_count"] for row in listed] == [1]
        assert run_ai("--undo", cwd=repo).returncode == 0
        # Counted as applied only while it is not undone.
        listed = json.loads(run_ai("--list-sessions", "--json", cwd=repo).stdout)
        assert [row["change_count"] for row in listed] == [0]
        assert " 0 changes " in run_ai("--list-sessions", cwd=repo).stdout
        # `--continue` shows the undo, after the apply.
        history = run_ai("--continue", cwd=repo).stdout
        assert history.index(f"applied change {change['id']}") < history.index(f"undid change {change['id']}")
        events = [json.loads(line) for line in run_ai("--continue", "--json", cwd=repo).stdout.splitlines()]
        assert events[-1]["role"] == "event" and events[-1]["outcome"] == "undone"
        assert events[-1]["change"] == change["id"]
        # The model is told the earlier goal's change is undone, not that it is applied.
        again = run_ai("--continue", "--build", "now rename line 5 in f.py", "--yes", cwd=repo, env=env)
        assert again.returncode == 0, again.stderr
        sent = "\n".join(str(m["content"]) for m in server.requests[-1]["body"]["messages"])
    assert f"UNDONE: undid change {change['id']}" in sent


def test_an_undo_with_nothing_to_commit_does_not_claim_there_is_no_repository(repo: Path) -> None:
    (repo / ".git" / "index.lock").write_text("")  # git busy: the change is applied without a commit
    change = apply(repo, replace("f.py", "line 4\n", "four\n"))
    (repo / ".git" / "index.lock").unlink()
    assert change["commit"] is None
    result = run_ai("--undo", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert "not a git repository" not in result.stdout
    assert "no commit (git already has the files as they are now)" in result.stdout
    assert (repo / "f.py").read_text() == BODY and git(repo, "status", "--porcelain") == ""


def test_undo_refuses_when_the_changed_line_was_rewritten_and_a_look_alike_was_added_elsewhere(
    git_project: Path,
) -> None:
    (git_project / "geometry.py").write_text(LOOK_ALIKE)
    git(git_project, "add", ".")
    git(git_project, "commit", "-q", "-m", "geometry")
    rounded = "    size = round(size, 2)\n"
    apply(
        git_project, replace("geometry.py", AREA_ROUND, AREA_ROUND.replace("round(size)", "round(size, 2)"))
    )
    text = in_area((git_project / "geometry.py").read_text(), rounded, "    size = round(size, 3)\n")
    text = in_volume(text, "    size = round(size)\n", "    size = round(size)\n" + rounded)
    (git_project / "geometry.py").write_text(text)
    log, status = git(git_project, "log", "--format=%H %s"), git(git_project, "status", "--porcelain")
    result = run_ai("--undo", cwd=git_project)
    assert result.returncode == 3, result.stdout
    (line,) = result.stderr.strip().splitlines()
    assert "geometry.py hunk 1 (lines 3-9) was changed since; nothing was written" in line
    assert (git_project / "geometry.py").read_text() == text
    assert git(git_project, "log", "--format=%H %s") == log
    assert git(git_project, "status", "--porcelain") == status
