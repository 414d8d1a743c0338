"""Commits through dulwich, checked with the git command line: exactly the touched files, the user's other
work untouched, first commits, --no-git and no repository."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from app.edits import apply_proposal, undo_last
from app.session.store import ProjectStore
from tests.conftest import git
from tests.integration.edits.helpers import propose, replace

BODY = "".join(f"line {n}\n" for n in range(1, 31))


def apply(
    root: Path, answer: str, *, use_git: bool = True, session: str = "main", goal: str = "do it"
) -> dict:
    store = ProjectStore(root)
    return apply_proposal(propose(root, answer), session=store.session(session), goal=goal, use_git=use_git)


def git_state(root: Path) -> tuple[str, str, str]:
    return git(root, "status", "--porcelain"), git(root, "diff", "--cached"), git(root, "diff")


def fsck_ok(root: Path) -> None:
    result = subprocess.run(["git", "fsck", "--strict"], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "error" not in result.stderr.lower() and "missing" not in result.stdout


@pytest.fixture
def repo(git_project: Path) -> Path:
    for name in ("a.py", "c.py", "d.py", "gone.py"):
        (git_project / name).write_text(BODY)
    git(git_project, "add", ".")
    git(git_project, "commit", "-q", "-m", "files")
    return git_project


def test_commit_holds_exactly_the_touched_files_and_leaves_other_work(repo: Path) -> None:
    (repo / "c.py").write_text(BODY.replace("line 1\n", "staged\n"))
    git(repo, "add", "c.py")
    (repo / "d.py").write_text(BODY.replace("line 2\n", "unstaged\n"))
    (repo / "untracked.txt").write_text("u\n")
    (repo / "s.txt").write_text("staged new file\n")
    git(repo, "add", "s.txt")
    before = git_state(repo)
    head_before = git(repo, "rev-parse", "HEAD").strip()

    answer = replace("a.py", "line 10\n", "line ten\n") + "<<<<<<< CREATE pkg/n.py\nn = 1\n>>>>>>> END\n"
    answer += "<<<<<<< REMOVE gone.py\n>>>>>>> END\n"
    record = apply(repo, answer, goal="rename line ten\nwith details")

    assert git_state(repo) == before
    assert git(repo, "rev-parse", "HEAD").strip() == record["commit"]
    assert git(repo, "rev-parse", "HEAD^").strip() == head_before
    stat = git(repo, "show", "--stat", "--format=", "HEAD")
    assert sorted(line.split("|")[0].strip() for line in stat.splitlines() if "|" in line) == [
        "a.py",
        "gone.py",
        "pkg/n.py",
    ]
    message = git(repo, "log", "-1", "--format=%B")
    assert message.splitlines()[0] == "ai(main): rename line ten"
    trailers = git(repo, "log", "-1", "--format=%(trailers:only,unfold)")
    assert trailers.split() == ["AI-Session:", "main", "AI-Change:", record["id"]]
    assert git(repo, "show", "HEAD:a.py") == BODY.replace("line 10\n", "line ten\n")
    fsck_ok(repo)


def test_unstaged_edits_in_a_touched_file_stay_out_of_the_commit(repo: Path) -> None:
    (repo / "a.py").write_text(BODY.replace("line 1\n", "my own edit\n"))
    apply(repo, replace("a.py", "line 20\n", "line twenty\n"))
    assert git(repo, "show", "HEAD:a.py") == BODY.replace("line 20\n", "line twenty\n")
    diff = git(repo, "diff")
    assert "+my own edit" in diff and "twenty" not in diff
    assert (repo / "a.py").read_text() == BODY.replace("line 1\n", "my own edit\n").replace(
        "line 20\n", "line twenty\n"
    )
    assert git(repo, "diff", "--cached") == ""
    fsck_ok(repo)


@pytest.mark.parametrize(
    "wip",
    [
        lambda text: text.replace("line 21\n", "line 21\n# my wip\n"),  # right after the changed line
        lambda text: text.replace("line 19\n", "# my wip\nline 19\n"),  # one line before it
        lambda text: text.replace("line 19\n", "line 19 (mine)\n"),  # the line just above, edited
        lambda text: text.replace("line 21\n", ""),  # the line just below, deleted
    ],
)
def test_uncommitted_edits_next_to_the_change_stay_uncommitted(repo: Path, wip) -> None:
    (repo / "a.py").write_text(wip(BODY))
    record = apply(repo, replace("a.py", "line 20\n", "line twenty\n"))
    assert git(repo, "show", "HEAD:a.py") == BODY.replace("line 20\n", "line twenty\n")
    assert (repo / "a.py").read_text() == wip(BODY).replace("line 20\n", "line twenty\n")
    diff = git(repo, "diff")
    assert "twenty" not in diff.replace(" line twenty", "")  # at most as context, never + or -
    assert git(repo, "diff", "HEAD^", "HEAD") == git(repo, "show", "--format=", "HEAD")
    assert "commit_note" not in record
    fsck_ok(repo)


def test_an_insertion_between_two_user_edits_is_placed_by_the_pre_change_content(repo: Path) -> None:
    mine = BODY.replace("line 5\n", "line 5 (mine)\n").replace("line 7\n", "line 7 (mine)\n")
    (repo / "a.py").write_text(mine)
    after = "<<<<<<< INSERT AFTER a.py\nline 6\n=======\ninserted\n>>>>>>> END\n"
    record = apply(repo, after)
    assert git(repo, "show", "HEAD:a.py") == BODY.replace("line 6\n", "line 6\ninserted\n")
    diff = git(repo, "diff")
    assert "+line 5 (mine)\n" in diff and "+line 7 (mine)\n" in diff and "+inserted" not in diff
    assert "commit_note" not in record


def test_our_change_on_a_line_the_user_edited_goes_in_whole_with_a_note_naming_the_file(repo: Path) -> None:
    mine = BODY.replace("line 20\n", "line 20 (mine)\n").replace("line 2\n", "far away\n")
    (repo / "a.py").write_text(mine)
    record = apply(repo, replace("a.py", "line 20 (mine)\n", "line twenty\n"))
    assert git(repo, "show", "HEAD:a.py") == mine.replace("line 20 (mine)\n", "line twenty\n")
    assert git(repo, "diff") == ""
    assert "a.py" in record["commit_note"] and record["commit"][:12] in record["commit_note"]


def test_staged_edits_in_a_touched_file_stay_staged(repo: Path) -> None:
    (repo / "a.py").write_text(BODY.replace("line 1\n", "staged edit\n"))
    git(repo, "add", "a.py")
    apply(repo, replace("a.py", "line 20\n", "line twenty\n"))
    cached = git(repo, "diff", "--cached")
    assert "+staged edit" in cached and "twenty" not in cached
    assert git(repo, "diff") == ""
    assert git(repo, "status", "--porcelain") == "M  a.py\n"


def test_first_commit_in_a_repository_without_commits(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "other.txt").write_text("not ours\n")
    record = apply(root, "<<<<<<< CREATE app.py\nprint('hi')\n>>>>>>> END\n")
    assert git(root, "log", "--format=%s").splitlines() == ["ai(main): do it"]
    assert git(root, "rev-list", "--parents", "HEAD").split() == [record["commit"]]
    assert git(root, "ls-tree", "-r", "--name-only", "HEAD").split() == ["app.py"]
    assert git(root, "status", "--porcelain") == "?? other.txt\n"
    fsck_ok(root)


def test_no_git_changes_files_without_a_commit(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    record = apply(repo, replace("a.py", "line 3\n", "three\n"), use_git=False)
    assert record["commit"] is None
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == " M a.py\n"


def test_outside_a_repository_everything_but_the_commit_works(project: Path) -> None:
    (project / "a.py").write_text("x\n")
    record = apply(project, replace("a.py", "x\n", "y\n"))
    assert record["commit"] is None and (project / "a.py").read_text() == "y\n"


def test_executable_bit_is_committed(repo: Path) -> None:
    script = repo / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    git(repo, "add", "run.sh")
    git(repo, "commit", "-q", "-m", "script")
    apply(repo, replace("run.sh", "#!/bin/sh\n", "#!/bin/sh\necho hi\n"))
    assert git(repo, "ls-tree", "HEAD", "run.sh").startswith("100755 ")
    assert git(repo, "status", "--porcelain") == ""


def test_ignored_untracked_file_is_changed_but_not_committed(repo: Path) -> None:
    (repo / ".gitignore").write_text("local/\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-q", "-m", "ignore")
    answer = "<<<<<<< CREATE local/settings.ini\nx=1\n>>>>>>> END\n" + replace("a.py", "line 1\n", "one\n")
    apply(repo, answer)
    assert (repo / "local/settings.ini").read_text() == "x=1\n"
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == ["a.py"]
    assert git(repo, "status", "--porcelain") == ""


def test_crlf_working_file_in_a_repository_that_stores_lf(git_project: Path) -> None:
    root = git_project
    (root / ".gitattributes").write_text("*.txt text eol=crlf\n")
    (root / "w.txt").write_bytes(b"one\r\ntwo\r\nthree\r\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "crlf")
    assert git(root, "status", "--porcelain") == ""
    apply(root, replace("w.txt", "two\n", "TWO\n"))
    assert (root / "w.txt").read_bytes() == b"one\r\nTWO\r\nthree\r\n"
    blob = subprocess.run(["git", "show", "HEAD:w.txt"], cwd=root, capture_output=True, check=True).stdout
    assert blob == b"one\nTWO\nthree\n"
    assert git(root, "diff", "--stat", "HEAD~1", "HEAD").strip().startswith("w.txt | 2 +-")
    assert git(root, "status", "--porcelain") == ""
    fsck_ok(root)


def test_a_staged_new_file_touched_by_ai_stays_staged_with_the_change(repo: Path) -> None:
    (repo / "new.py").write_text("a = 1\nb = 2\n")
    git(repo, "add", "new.py")
    apply(repo, replace("new.py", "b = 2\n", "b = 3\n"))
    assert git(repo, "show", "HEAD:new.py") == "a = 1\nb = 3\n"
    assert git(repo, "status", "--porcelain") == ""
    fsck_ok(repo)


def test_only_the_accepted_hunks_are_written_and_committed(repo: Path) -> None:
    answer = replace("a.py", "line 2\n", "two\n") + replace("a.py", "line 25\n", "twenty-five\n")
    proposal = propose(repo, answer).select({"a.py": [1]})
    store = ProjectStore(repo)
    apply_proposal(proposal, session=store.session("main"), goal="half")
    expected = BODY.replace("line 25\n", "twenty-five\n")
    assert (repo / "a.py").read_text() == expected
    assert git(repo, "show", "HEAD:a.py") == expected
    assert git(repo, "status", "--porcelain") == ""


def test_busy_git_leaves_the_change_applied_with_a_warning_and_git_consistent(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    (repo / ".git" / "index.lock").write_text("")
    record = apply(repo, replace("a.py", "line 4\n", "four\n"))
    (repo / ".git" / "index.lock").unlink()
    assert record["commit"] is None and "index.lock" in record["warning"]
    assert "four\n" in (repo / "a.py").read_text()
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == " M a.py\n"


def test_files_inside_a_submodule_stay_out_of_the_outer_commit(repo: Path, tmp_path: Path) -> None:
    inner = tmp_path / "inner"
    inner.mkdir()
    git(inner, "init", "-q", "-b", "main")
    (inner / "x.py").write_text("x = 1\n")
    git(inner, "add", ".")
    git(inner, "commit", "-q", "-m", "inner")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(inner), "sub")
    git(repo, "commit", "-q", "-m", "submodule")
    record = apply(repo, replace("sub/x.py", "x = 1\n", "x = 2\n") + replace("a.py", "line 1\n", "one\n"))
    assert (repo / "sub/x.py").read_text() == "x = 2\n"
    assert record["commit"], record.get("warning")
    assert git(repo, "show", "--name-only", "--format=", record["commit"]).split() == ["a.py"]
    assert git(repo, "ls-tree", "HEAD", "sub").startswith("160000 commit ")
    fsck_ok(repo)


def test_remove_of_a_tracked_symlink_commits_the_link_removal_and_undo_commits_it_back(repo: Path) -> None:
    (repo / "link.py").symlink_to("a.py")
    git(repo, "add", "link.py")
    git(repo, "commit", "-q", "-m", "link")
    record = apply(repo, "<<<<<<< REMOVE link.py\n>>>>>>> END\n")
    assert (repo / "a.py").read_text() == BODY
    assert git(repo, "show", "--name-status", "--format=", record["commit"]).split() == ["D", "link.py"]
    assert git(repo, "status", "--porcelain") == ""
    undo_last(ProjectStore(repo).session("main"))
    assert os.readlink(repo / "link.py") == "a.py"
    assert git(repo, "ls-tree", "HEAD", "link.py").startswith("120000 blob ")
    assert git(repo, "status", "--porcelain") == ""
    fsck_ok(repo)


def test_our_change_on_a_line_the_user_moved_goes_in_whole_not_onto_its_look_alike_in_head(
    repo: Path,
) -> None:
    # HEAD has `timeout = 5` above log() and `timeout = 10` below; the user (uncommitted) deleted the first and
    # made the second `timeout = 5`. ai's change of that line belongs to the user's edited line, which HEAD
    # does not have: the commit must not put it on HEAD's deleted look-alike.
    head = "def f():\n    retries = 3\n    timeout = 5\n    log()\n    timeout = 10\n    return\n"
    (repo / "t.py").write_text(head)
    git(repo, "add", "t.py")
    git(repo, "commit", "-q", "-m", "t")
    (repo / "t.py").write_text("def f():\n    retries = 3\n    log()\n    timeout = 5\n    return\n")
    record = apply(repo, replace("t.py", "    timeout = 5\n", "    timeout = 30\n"))
    after = "def f():\n    retries = 3\n    log()\n    timeout = 30\n    return\n"
    assert (repo / "t.py").read_text() == after
    assert git(repo, "show", "HEAD:t.py") == after
    assert git(repo, "diff") == ""
    assert "t.py" in record["commit_note"]
    fsck_ok(repo)
