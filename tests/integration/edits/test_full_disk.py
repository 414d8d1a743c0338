"""A commit that git cannot write (a full disk, a read-only object store): one line, exit 1, the files as
before with nothing recorded, no lock file left in .git and `git fsck` clean. The disk is a real tmpfs of a
few megabytes (mounting one needs root: skipped otherwise)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.session.store import ProjectStore
from tests.conftest import git, run_ai
from tests.integration.edits.helpers import snapshot
from tests.model_server import ScriptedModelServer
from tests.support.user_config import write_user_config

PAGE = 4096
BIG = "".join(random.Random(7).choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(200_000)) + "\n"
CREATE_BIG = f"Plan: add the data file.\n\n<<<<<<< CREATE big.txt\n{BIG}>>>>>>> END\n"
OPS = "def subtract(a, b):\n    return a + b\n"
FIX_SUBTRACT = (
    "<<<<<<< REPLACE calc.py\ndef subtract(a, b):\n    return a + b\n=======\n"
    "def subtract(a, b):\n    return a - b\n>>>>>>> END\n"
)


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture(autouse=True)
def fast_retries(agent_home: Path) -> Path:
    write_user_config(agent_home)
    return agent_home


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or not _mount("-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)):
        pytest.skip("mounting a small tmpfs needs root")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def pages(size: int) -> int:
    return -(-size // PAGE)


def fill(disk: Path, leave_pages: int) -> Path:
    """Take every free page of the disk but ``leave_pages``."""
    stats = os.statvfs(disk)
    free = stats.f_bavail * stats.f_frsize
    filler = disk / "filler"
    filler.write_bytes(b"\0" * (free - leave_pages * PAGE))
    return filler


def no_locks_and_fsck_clean(root: Path) -> None:
    assert not list((root / ".git").rglob("*.lock"))
    fsck = subprocess.run(["git", "fsck", "--strict"], cwd=root, capture_output=True, text=True)
    assert fsck.returncode == 0 and "bad" not in fsck.stderr and "error" not in fsck.stderr, fsck.stderr


def one_clean_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr, result.stderr
    (line,) = result.stderr.strip().splitlines()
    return line


def test_a_commit_that_fills_the_disk_is_one_line_and_leaves_everything_as_before(small_disk: Path) -> None:
    root = small_disk / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "README.md").write_text("hello\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    before, head = snapshot(root), git(root, "rev-parse", "HEAD")
    # Room for the new file, not for git's compressed copy of it as well.
    loose = len(zlib.compress(f"blob {len(BIG)}\0{BIG}".encode()))
    filler = fill(small_disk, pages(len(BIG)) + pages(loose) // 2)
    with ScriptedModelServer({"rules": [{"reply": CREATE_BIG}]}) as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"}
        result = run_ai("--build", "add the data file big.txt", "--yes", cwd=root, env=env)
        assert result.returncode == 1, result.stdout + result.stderr
        line = one_clean_line(result)
        assert "No space left on device" in line and "nothing was changed" in line, line
        assert snapshot(root) == before and git(root, "rev-parse", "HEAD") == head
        assert ProjectStore(root).session("main").changes() == []
        listed = json.loads(run_ai("--list-sessions", "--json", cwd=root).stdout)
        assert [row["change_count"] for row in listed] == [0]
        no_locks_and_fsck_clean(root)
        # With room again, the same goal goes through: nothing stale is in the way.
        filler.unlink()
        assert git(root, "status", "--porcelain") == ""
        again = run_ai("--build", "add the data file big.txt", "--yes", cwd=root, env=env)
    assert again.returncode == 0, again.stderr
    assert git(root, "show", "HEAD:big.txt") == BIG and git(root, "status", "--porcelain") == ""
    no_locks_and_fsck_clean(root)


def test_an_undo_whose_commit_cannot_be_written_changes_nothing(git_project: Path) -> None:
    (git_project / "calc.py").write_text(OPS)
    git(git_project, "add", ".")
    git(git_project, "commit", "-q", "-m", "calc")
    with ScriptedModelServer({"rules": [{"reply": FIX_SUBTRACT}]}) as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"}
        built = run_ai("--build", "fix subtract in calc.py", "--yes", cwd=git_project, env=env)
    assert built.returncode == 0, built.stderr
    after, head = snapshot(git_project), git(git_project, "rev-parse", "HEAD")
    objects = git_project / ".git" / "objects"
    if os.geteuid() != 0 or not _mount("--bind", str(objects), str(objects)):
        pytest.skip("a read-only bind mount needs root")
    try:
        assert _mount("-o", "remount,bind,ro", str(objects))
        result = run_ai("--undo", cwd=git_project)
    finally:
        subprocess.run(["umount", str(objects)], capture_output=True)
    assert result.returncode == 1, result.stdout + result.stderr
    line = one_clean_line(result)
    assert "Read-only file system" in line and "nothing was changed" in line, line
    assert snapshot(git_project) == after and git(git_project, "rev-parse", "HEAD") == head
    (change,) = ProjectStore(git_project).session("main").changes()
    assert not change.get("undone")
    assert not any(m.get("outcome") == "undone" for m in ProjectStore(git_project).session("main").messages())
    no_locks_and_fsck_clean(git_project)
    undone = run_ai("--undo", cwd=git_project)
    assert undone.returncode == 0, undone.stderr
    assert (git_project / "calc.py").read_text() == OPS and git(git_project, "status", "--porcelain") == ""
