"""The store under concurrency, crashes and corruption (issue 2's reliability points)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from app.errors import StoreCorruptError
from app.session.store import ProjectStore
from tests.conftest import REPO, run_ai

WRITER = [sys.executable, "-m", "tests.integration.session.writer"]


def _writer(root: Path, name: str, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*WRITER, str(root), name, str(count)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )


def test_two_processes_append_at_once_and_lose_nothing(project: Path) -> None:
    writers = [_writer(project, "alpha", 500), _writer(project, "beta", 500)]
    for w in writers:
        assert w.wait(timeout=180) == 0
    store = ProjectStore(project)
    for name in ("alpha", "beta"):
        contents = [m["content"].split(" x")[0] for m in store.session(name).messages()]
        assert contents == [f"{name} message {i}" for i in range(500)]
    assert {m.name for m in store.list_sessions()} == {"alpha", "beta"}


def test_sigkill_at_random_moments_leaves_whole_files_holding_a_prefix(project: Path) -> None:
    rng = random.Random(1234)
    store = ProjectStore(project)
    for trial in range(20):
        name = f"victim{trial}"
        writer = _writer(project, name, 10_000)
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.25))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        for path in store.sessions_dir.glob("*.json"):
            orjson.loads(path.read_bytes())  # every file still parses
        orjson.loads(store.index_path.read_bytes())
        contents = [m["content"].split(" x")[0] for m in store.session(name).messages()]
        assert contents == [f"{name} message {i}" for i in range(len(contents))]
    # No stray temp files are mistaken for sessions.
    assert {m.name for m in store.list_sessions()} == {f"victim{t}" for t in range(20)}


def test_corrupt_session_file_is_kept_aside_and_others_keep_working(project: Path) -> None:
    store = ProjectStore(project)
    store.session("good").append_message("user", "still here")
    bad = store.session("bad")
    bad.append_message("user", "will be damaged")
    damaged = b'{"meta": {"1": {"name": "bad"'  # torn by something outside ai
    store.session_path("bad").write_bytes(damaged)

    result = run_ai("--session", "bad", "--continue", cwd=project)
    assert result.returncode == 1
    assert str(store.session_path("bad")) in result.stderr
    assert "kept aside" in result.stderr and "Traceback" not in result.stderr
    kept = list(store.sessions_dir.glob("bad.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == damaged

    listing = run_ai("--list-sessions", "--json", cwd=project)
    assert listing.returncode == 0
    assert [row["name"] for row in json.loads(listing.stdout)] == ["good"]
    assert store.session("good").messages()[0]["content"] == "still here"


def test_corrupt_index_is_rebuilt_from_the_session_files(project: Path) -> None:
    store = ProjectStore(project)
    for name in ("one", "two", "three"):
        store.session(name).append_message("user", f"hello from {name}")
    store.activate("two")
    store.index_path.write_text("{ not json")

    result = run_ai("--list-sessions", cwd=project)
    assert result.returncode == 0
    assert str(store.index_path) in result.stderr and "rebuilt" in result.stderr
    assert sorted(line.split()[0] for line in result.stdout.splitlines() if not line.startswith("*")) == [
        "one",
        "three",
    ]
    assert list(store.data_dir.glob("index.json.corrupt-*"))
    # The rebuilt index is a whole, valid file again.
    assert set(orjson.loads(store.index_path.read_bytes())["sessions"]) == {"one", "two", "three"}


def test_index_missing_a_session_written_before_a_crash_is_repaired(project: Path) -> None:
    store = ProjectStore(project)
    store.session("kept").append_message("user", "x")
    index = orjson.loads(store.index_path.read_bytes())
    del index["sessions"]["kept"]
    store.index_path.write_bytes(orjson.dumps(index))
    result = run_ai("--list-sessions", "--json", cwd=project)
    assert [row["name"] for row in json.loads(result.stdout)] == ["kept"]


def test_store_raises_a_clear_error_for_a_damaged_session(project: Path) -> None:
    store = ProjectStore(project)
    store.session("s").append_message("user", "x")
    store.session_path("s").write_text("[]")
    with pytest.raises(StoreCorruptError) as info:
        store.session("s").messages()
    assert info.value.kept_at is not None and os.path.exists(info.value.kept_at)


def _spoil_json(path: Path, spoil) -> bytes:
    data = json.loads(path.read_bytes())
    spoil(data)
    raw = json.dumps(data).encode()
    path.write_bytes(raw)
    return raw


@pytest.mark.parametrize(
    ("which", "spoil", "problem"),
    [
        (
            "index",
            lambda d: d.update(sessions={k: "x" for k in d["sessions"]}),
            'sessions.one must be an object (got "x")',
        ),
        (
            "index",
            lambda d: d.update(sessions=list(d["sessions"])),
            "sessions must be an object (got a list)",
        ),
        (
            "index",
            lambda d: d["sessions"]["one"].update(change_count="2"),
            "sessions.one.change_count must be an integer",
        ),
        (
            "session",
            lambda d: d.update(messages=[{"role": "user", "content": "x"}]),
            "messages must be a table",
        ),
        (
            "session",
            lambda d: d["messages"]["1"].update(content=None),
            'messages["1"].content must be a string (got null)',
        ),
        (
            "session",
            lambda d: d["meta"]["1"].update(last_used=17),
            'meta["1"].last_used must be a string (got 17)',
        ),
        (
            "session",
            lambda d: d.update(background={"1": []}),
            'background["1"] must be an object (got a list)',
        ),
    ],
)
def test_store_files_of_the_wrong_shape_are_moved_aside_like_damaged_ones(
    which: str, spoil, problem: str, project: Path
) -> None:
    store = ProjectStore(project)
    for name in ("one", "two"):
        store.session(name).append_message("user", f"hello from {name}")
    path = store.index_path if which == "index" else store.session_path("one")
    damaged = _spoil_json(path, spoil)
    if which == "session":
        store.index_path.unlink()  # the listing then reads every session file to rebuild it

    result = run_ai("--list-sessions", "--json", cwd=project)
    assert result.returncode == 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr and "internal error" not in result.stderr
    what = "session index" if which == "index" else "session file"
    assert lines[0].startswith(f"ai: {what} {path} is damaged (") and problem in lines[0]
    assert "kept aside as" in lines[0]
    (kept,) = path.parent.glob(f"{path.name}.corrupt-*")
    assert kept.read_bytes() == damaged
    survivors = {"one", "two"} if which == "index" else {"two"}
    assert {row["name"] for row in json.loads(result.stdout)} == survivors
    # The index is whole and right again: the next listing has nothing to say.
    again = run_ai("--list-sessions", "--json", cwd=project)
    assert again.stderr == "" and {row["name"] for row in json.loads(again.stdout)} == survivors
