"""A process killed with SIGKILL while applying or undoing: every file is its old or its new content, the backups
bring the old state back, and the next `ai` finishes or rolls back what was interrupted and says so in one line.
Random kills (20 trials) and a kill at every step of the journaled sequence, each a real subprocess (a kill
needs a process to kill), in a git repository and without git."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.edits import restore_backup
from app.edits.apply import recover
from app.session.store import ProjectStore
from tests.conftest import git, run_ai
from tests.integration.edits.helpers import snapshot

FILES = 20
TRIALS = 20

WORKER = r"""
import sys, json
from pathlib import Path
from app.edits import build_proposal, apply_proposal
from app.llm.blocks import EditBlock
from app.session.store import ProjectStore
root = Path(sys.argv[1])
blocks = [EditBlock("REPLACE", f"f{n:02}.txt", "marker\n", "changed\n" * 2000, 1) for n in range({files})]
blocks.append(EditBlock("CREATE", "brand/new.txt", "", "new\n", 1))
proposal = build_proposal(root, blocks)
session = ProjectStore(root).session("main")
print("ready", flush=True)
apply_proposal(proposal, session=session, goal="crash test", use_git=False)
print("done", flush=True)
""".replace("{files}", str(FILES))


def old_content(n: int) -> bytes:
    return (f"file {n}\n" * 3000 + "marker\n").encode()


def new_content(n: int) -> bytes:
    return (f"file {n}\n" * 3000 + "changed\n" * 2000).encode()


def new_state(old: dict[str, bytes]) -> dict[str, bytes]:
    state = {path: new_content(int(path[1:3])) for path in old}
    state["brand/new.txt"] = b"new\n"
    return state


def make_project(root: Path) -> dict[str, bytes]:
    root.mkdir(parents=True)
    for n in range(FILES):
        (root / f"f{n:02}.txt").write_bytes(old_content(n))
    return snapshot(root)


def run_worker(root: Path, home: Path, kill_after: float | None) -> float:
    env = {**os.environ, "AI_AGENT_HOME": str(home), "PYTHONPATH": str(Path(__file__).parents[2])}
    child = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(root)], env=env, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    started = time.perf_counter()
    if kill_after is None:
        assert child.stdout.readline().strip() == "done"
        child.wait(timeout=60)
        return time.perf_counter() - started
    time.sleep(kill_after)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    child.stdout.close()
    return kill_after


def test_sigkill_during_apply_leaves_old_or_new_and_backups_restore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI_AGENT_HOME", os.environ["AI_AGENT_HOME"])  # restored after the test
    # One undisturbed run tells how long an apply takes here; the kills land within that window.
    root = tmp_path / "calm"
    make_project(root)
    duration = run_worker(root, tmp_path / "home-calm", None)
    assert all((root / f"f{n:02}.txt").read_bytes() == new_content(n) for n in range(FILES))

    rng = random.Random(1234)
    outcomes = []
    for trial in range(TRIALS):
        root = tmp_path / f"trial{trial}"
        home = tmp_path / f"home{trial}"
        old = make_project(root)
        run_worker(root, home, rng.uniform(0, duration * 0.8))
        new_count = 0
        for n in range(FILES):
            data = (root / f"f{n:02}.txt").read_bytes()
            assert data in (old_content(n), new_content(n)), f"trial {trial}: f{n:02}.txt is torn"
            new_count += data == new_content(n)
        created = root / "brand" / "new.txt"
        assert not created.exists() or created.read_bytes() == b"new\n"
        manifests = list(home.glob("backups/*/main/*/manifest.json"))
        if trial % 2:
            # The next `ai` finds the interrupted apply by itself: back to old, or new and recorded.
            os.environ["AI_AGENT_HOME"] = str(home)
            session = ProjectStore(root).session("main")
            recover(session)
            recorded = bool(session.changes())
            state = "recorded" if recorded else "recovered"
            expected = new_state(old) if recorded else old
            assert snapshot(root) == expected, f"trial {trial}: {state} but the files disagree"
            outcomes.append((state, new_count))
            continue
        if manifests:
            (manifest,) = manifests
            state = json.loads(manifest.read_text())["state"]
            restore_backup(manifest.parent)
        else:
            state = "no backup yet"
            assert new_count == 0, "files were written before their backup was complete"
        assert snapshot(root) == old, f"trial {trial}: the backup did not bring the old state back"
        outcomes.append((state, new_count))
    # The kills did land in different places, some in the middle of the writes.
    assert len({count for _, count in outcomes}) >= 2, outcomes


# -- a kill at every step of apply and undo, then the next `ai` ------------------------------------------------

STEP_FILES = 20
STEP_WORKER = r"""
import os, signal, sys
from pathlib import Path
from app.edits import apply_proposal, build_proposal, undo_last
from app.llm.blocks import EditBlock
from app.session.store import ProjectStore

root, action, function, nth, when, git = sys.argv[1:7]
root, nth, use_git = Path(root), int(nth), git == "git"
session = ProjectStore(root).session("main")
blocks = [EditBlock("REPLACE", f"f{n:02}.txt", "marker\n", "changed\n", 1) for n in range({files})]
blocks.append(EditBlock("CREATE", "brand/new.txt", "", "new\n", 1))
if action == "undo":
    apply_proposal(build_proposal(root, blocks), session=session, goal="step test", use_git=use_git)
else:
    proposal = build_proposal(root, blocks)
seen = 0


def kill_at_step(frame, event, arg):
    # A real SIGKILL at a chosen point of the real code: the n-th call (or return) of one function.
    global seen
    if event == when and frame.f_code.co_name == function:
        seen += 1
        if seen == nth:
            os.kill(os.getpid(), signal.SIGKILL)


sys.setprofile(kill_at_step)
if action == "undo":
    undo_last(session, use_git=use_git)
else:
    apply_proposal(proposal, session=session, goal="step test", use_git=use_git)
sys.setprofile(None)
print("finished", flush=True)
""".replace("{files}", str(STEP_FILES))

# (function, n-th event, "call" or "return", git only): each step of the journaled sequence.
STEPS = [
    ("_put", 1, "call", False),  # backed up, nothing written yet
    ("_put", 11, "return", False),  # half of the files written
    ("record_change", 1, "call", False),  # every file written, the change not recorded
    ("record_change", 1, "return", False),  # recorded, not committed (the case)
    ("add_object", 3, "return", True),  # inside the commit: some objects written
    ("commit_paths", 1, "return", True),  # committed, the commit not noted in the session
    ("update_change", 1, "return", False),  # noted, the journal not closed
]
UNDO_STEPS = [
    ("_put", 1, "call", False),
    ("_put", 11, "return", False),
    ("record_undo", 1, "call", False),  # the undo written, not recorded
    ("record_undo", 1, "return", False),  # recorded, not committed
    ("add_object", 2, "return", True),
    ("commit_paths", 1, "return", True),
    ("update_undo", 1, "return", False),
]


def step_project(root: Path, use_git: bool) -> dict[str, bytes]:
    root.mkdir(parents=True)
    for n in range(STEP_FILES):
        (root / f"f{n:02}.txt").write_text(f"file {n}\nmarker\n")
    if use_git:
        git(root, "init", "-q", "-b", "main")
        git(root, "add", ".")
        git(root, "commit", "-q", "-m", "files")
    return snapshot(root)


def step_new_state(old: dict[str, bytes]) -> dict[str, bytes]:
    state = {path: data.replace(b"marker\n", b"changed\n") for path, data in old.items()}
    state["brand/new.txt"] = b"new\n"
    return state


def kill_at(root: Path, action: str, step: tuple[str, int, str, bool], use_git: bool) -> None:
    function, nth, when, _ = step
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    args = [root, action, function, nth, when, "git" if use_git else "no-git"]
    child = subprocess.run(
        [sys.executable, "-c", STEP_WORKER, *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, (child.returncode, child.stdout, child.stderr)


def git_consistent(root: Path) -> None:
    """`git status` clean (the project started committed), `git fsck` clean, no lock file left in .git."""
    assert git(root, "status", "--porcelain") == ""
    fsck = subprocess.run(["git", "fsck", "--strict"], cwd=root, capture_output=True, text=True)
    assert fsck.returncode == 0 and "bad" not in fsck.stderr and "error" not in fsck.stderr, fsck.stderr
    assert not list((root / ".git").rglob("*.lock"))


def recovered_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in (result.stdout + result.stderr).splitlines() if "recovered" in line]


# Every step of apply and undo, in a git repository and without (where the step is not git's own).
STEP_CASES = [
    pytest.param(action, position, use_git, id=f"{action}-{position}-{'git' if use_git else 'no-git'}")
    for action, steps in (("apply", STEPS), ("undo", UNDO_STEPS))
    for position, step in enumerate(steps)
    for use_git in (True, False)
    if use_git or not step[3]
]


@pytest.mark.parametrize(("action", "position", "use_git"), STEP_CASES)
def test_a_kill_at_any_step_is_finished_or_rolled_back_by_the_next_ai_in_one_line(
    tmp_path: Path, action: str, position: int, use_git: bool
) -> None:
    step = (STEPS if action == "apply" else UNDO_STEPS)[position]
    root = tmp_path / "proj"
    old = step_project(root, use_git)
    new = step_new_state(old)
    kill_at(root, action, step, use_git)

    # The next `ai` in the project (a plain `ai`, or a preview of the undo) says in one line what it did.
    next_command = ("--undo", "--dry-run") if position % 2 else ("--session", "main")
    result = run_ai(*next_command, cwd=root)
    assert result.returncode == 0, result.stderr
    (line,) = recovered_lines(result)
    changes = ProjectStore(root).session("main").changes()
    change = changes[0] if changes else None  # an apply rolled back leaves no record
    if action == "apply":
        applied = change is not None
        assert (f"change {change['id']}" if change is not None else "change ") in line
        assert ("put back" in line) is not applied, line
    else:
        assert change is not None  # the undone change itself is always recorded
        applied = not change["undone"]
        assert f"undo of change {change['id']}" in line
        assert ("put back" in line) is applied, line
    assert snapshot(root) == (new if applied else old), line
    if use_git:
        git_consistent(root)
        message = git(root, "log", "-1", "--format=%B")
        if action == "apply" and change is not None:
            assert (
                f"AI-Change: {change['id']}" in message
                and change["commit"] == git(root, "rev-parse", "HEAD").strip()
            )
        if action == "undo" and not applied:
            assert change is not None
            assert f"AI-Undo: {change['id']}" in message
            assert change["undo_commit"] == git(root, "rev-parse", "HEAD").strip()
    listed = json.loads(run_ai("--list-sessions", "--json", cwd=root).stdout)
    assert [row["change_count"] for row in listed] == [1 if applied else 0]

    # Nothing is left to recover, and `ai --undo` agrees with what the line said.
    undo = run_ai("--undo", cwd=root)
    assert undo.returncode == 0, undo.stderr
    assert not recovered_lines(undo)
    if change is not None and applied:
        assert f"undid change {change['id']}" in undo.stdout
    else:
        assert undo.stdout.strip() == "nothing to undo in session 'main'"
    assert snapshot(root) == old
    if use_git:
        git_consistent(root)


def test_the_next_build_recovers_first_and_says_so_as_a_json_event_while_listing_only_reads(
    tmp_path: Path,
) -> None:
    from tests.model_server import ScriptedModelServer

    root = tmp_path / "proj"
    old = step_project(root, use_git=True)
    kill_at(root, "apply", ("record_change", 1, "return", False), use_git=True)  # recorded, not committed
    # Listing reads only: it counts the recorded change and leaves the rest to a command that writes.
    listing = run_ai("--list-sessions", cwd=root)
    assert listing.returncode == 0 and not recovered_lines(listing) and " 1 change " in listing.stdout
    answer = "<<<<<<< REPLACE f00.txt\nfile 0\n=======\nfile zero\n>>>>>>> END\n"
    with ScriptedModelServer({"rules": [{"reply": answer}]}) as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"}
        result = run_ai("--build", "rename file 0 in f00.txt", "--yes", "--json", cwd=root, env=env)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[0]["event"] == "recovered" and "committed it as" in events[0]["message"]
    assert [e["event"] for e in events].count("recovered") == 1
    interrupted, built = ProjectStore(root).session("main").changes()
    assert git(root, "log", "--format=%H", "-2").split() == [built["commit"], interrupted["commit"]]
    assert (root / "f00.txt").read_bytes() == step_new_state(old)["f00.txt"].replace(b"file 0", b"file zero")
    git_consistent(root)


def test_deleting_a_session_first_rolls_back_its_interrupted_change(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    old = step_project(root, use_git=True)
    kill_at(root, "apply", ("_put", 5, "return", False), use_git=True)  # five files written, no record
    result = run_ai("--delete-session", "main", cwd=root)
    assert result.returncode == 0, result.stderr
    (line,) = recovered_lines(result)
    assert "put back 5 file(s)" in line
    assert snapshot(root) == old and git(root, "status", "--porcelain") == ""
    assert not any((ProjectStore(root).project_backups_dir / "in-flight").iterdir())
