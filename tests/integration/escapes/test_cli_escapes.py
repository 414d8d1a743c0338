"""Outside text on the command line: nothing that came from a model, a repository, a goal or a stored session
reaches the terminal raw. Every face is run as a user runs it (the installed `ai`, real git, the scripted
model on loopback) and its bytes are checked: controls show as `\\x1b`, JSON stays JSON with its own escapes.
"""

from __future__ import annotations

import contextlib
import json
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from app.trust import trust_current
from tests.conftest import REPO, default_sigint, git
from tests.support.escapes import (
    OSC52,
    PAYLOAD,
    TITLE,
    ai_bytes,
    assert_no_raw_controls,
    export_document,
)

SHOWN = "alpha\\x1b]52;c;cm0gLXJmIH4K\\x07\\x1b]0;owned\\x07"  # how PAYLOAD's start reads on the terminal


def test_stored_sessions_list_and_continue_show_controls_escaped(project: Path) -> None:
    reply = f"Done.\r\n{PAYLOAD}\r\nbye"
    document = export_document(
        "evil", f"goal {PAYLOAD}\nsecond line", [("user", PAYLOAD), ("assistant", reply)]
    )
    imported = ai_bytes("--import-session", "-", cwd=project, input=document)
    assert imported.returncode == 0, imported.stderr

    listing = ai_bytes("--list-sessions", cwd=project)
    text = assert_no_raw_controls(listing.stdout, "--list-sessions")
    assert SHOWN in text
    assert len(text.splitlines()) == 1  # a summary with a newline in it is still one row

    rows = json.loads(assert_no_raw_controls(ai_bytes("--list-sessions", "--json", cwd=project).stdout))
    assert rows[0]["goal_summary"] == f"goal {PAYLOAD}\nsecond line"  # the data itself is kept

    resumed = ai_bytes("--session", "evil", "--continue", cwd=project)
    assert resumed.returncode == 0, resumed.stderr
    text = assert_no_raw_controls(resumed.stdout, "--continue")
    assert text.count(SHOWN) == 3  # the goal summary, the user's message, the reply
    assert "Done.\n" in text and "omega\nbye" in text  # the reply's CRLF lines are plain lines
    assert_no_raw_controls(resumed.stderr, "stderr")

    lines = assert_no_raw_controls(ai_bytes("--session", "evil", "--continue", "--json", cwd=project).stdout)
    assert [json.loads(line)["content"] for line in lines.splitlines()] == [PAYLOAD, reply]

    exported = ai_bytes("--export-session", "evil", cwd=project)
    document_back = json.loads(assert_no_raw_controls(exported.stdout, "--export-session"))
    assert [m["content"] for m in document_back["messages"]] == [PAYLOAD, reply]


def test_a_build_transcript_shows_the_models_prose_the_diff_and_the_goal_escaped(calc: Path, model) -> None:
    reply = f"Plan: {PAYLOAD}\n\n<<<<<<< CREATE notes.txt\nnote {PAYLOAD}\n>>>>>>> END\n"
    server = model({"default": {"reply": reply, "chunk_size": 5}})
    env = {"OPENAI_BASE_URL": server.base_url}
    goal = f"write notes {TITLE}"

    shown = ai_bytes("--build", goal, "--dry-run", cwd=calc, env=env)
    assert shown.returncode == 0, shown.stderr
    text = assert_no_raw_controls(shown.stdout, "transcript")
    assert f"Plan: {SHOWN}" in text  # streamed in 5-character pieces, escaped all the same
    assert f"+note {SHOWN}" in text  # the diff
    assert_no_raw_controls(shown.stderr, "stderr")

    events = assert_no_raw_controls(
        ai_bytes("--build", goal, "--dry-run", "--json", cwd=calc, env=env).stdout
    )
    prose = "".join(
        e.get("text", "") for e in map(json.loads, events.splitlines()) if e["event"] == "prose_delta"
    )
    assert PAYLOAD in prose  # JSON Lines carry the text itself, JSON-escaped

    applied = ai_bytes("--build", goal, "--yes", cwd=calc, env=env)
    assert applied.returncode == 0, applied.stderr
    assert_no_raw_controls(applied.stdout, "transcript")
    assert (calc / "notes.txt").read_text() == f"note {PAYLOAD}\n"  # the file gets what the model wrote
    # The goal in the commit subject: `git log` shows it to a terminal too.
    assert_no_raw_controls(git(calc, "log", "-1", "--format=%B").encode(), "commit message")

    listing = assert_no_raw_controls(ai_bytes("--list-sessions", cwd=calc).stdout, "--list-sessions")
    assert "write notes \\x1b]0;owned\\x07" in listing
    undone = ai_bytes("--undo", cwd=calc)
    assert undone.returncode == 0, undone.stderr
    assert "write notes \\x1b]0;owned\\x07" in assert_no_raw_controls(undone.stdout, "--undo")


def test_error_lines_that_quote_outside_text_are_one_escaped_line(project: Path, calc: Path, model) -> None:
    for args in (
        ["--project", f"missing{PAYLOAD}"],
        ["--import-session", f"missing{PAYLOAD}.json"],
        [f"--bogus{OSC52}"],
    ):
        result = ai_bytes(*args, cwd=project)
        assert result.returncode == 2, args
        err = assert_no_raw_controls(result.stderr, f"stderr of {args}")
        assert len(err.splitlines()) == 1 and err.startswith("ai: "), err
        assert "\\x1b]" in err

    server = model({"default": {"status": 400, "error": f"bad key {PAYLOAD}\nsecond line"}})
    failed = ai_bytes("--build", "anything", "--yes", cwd=calc, env={"OPENAI_BASE_URL": server.base_url})
    assert failed.returncode == 1
    err = assert_no_raw_controls(failed.stderr, "stderr")
    assert len(err.splitlines()) == 1 and "bad key alpha\\x1b]52" in err, err
    assert_no_raw_controls(failed.stdout, "transcript")


def test_repository_text_in_search_trust_and_suggest_is_escaped(calc: Path) -> None:
    (calc / "notes.py").write_text(f"# TODO needle {PAYLOAD}\nx = 1\n")
    (calc / ".ai-agent.toml").write_text('test_cmd = "echo \\u001b]0;owned\\u0007"\n')
    git(calc, "add", ".")
    git(calc, "commit", "-q", "-m", "notes")

    found = ai_bytes("--search", "needle", cwd=calc)
    assert found.returncode == 0, found.stderr
    assert SHOWN in assert_no_raw_controls(found.stdout, "--search")
    hits = assert_no_raw_controls(
        ai_bytes("--search", "needle", "--json", cwd=calc).stdout, "--search --json"
    )
    assert any(PAYLOAD in json.loads(line)["snippet"] for line in hits.splitlines())

    trusted = ai_bytes("--trust", cwd=calc)
    assert trusted.returncode == 0, trusted.stderr
    # Shown as the TOML value it is, with TOML's own escapes.
    assert '"echo \\u001b]0;owned\\u0007"' in assert_no_raw_controls(trusted.stdout, "--trust")

    suggested = ai_bytes("--suggest", cwd=calc)
    assert suggested.returncode == 0, suggested.stderr
    assert SHOWN in assert_no_raw_controls(suggested.stdout, "--suggest")
    assert_no_raw_controls(suggested.stderr, "stderr")


def test_test_output_in_the_fix_transcript_is_escaped(calc: Path) -> None:
    (calc / "tests").mkdir()
    message = PAYLOAD.replace("\x1b", "\\x1b").replace("\x07", "\\x07").replace("\x9b", "\\x9b")
    (calc / "tests" / "test_owned.py").write_text(f'def test_owned():\n    assert False, "boom {message}"\n')
    git(calc, "add", ".")
    git(calc, "commit", "-q", "-m", "a failing test")
    # No model: the baseline run and the failures are printed, then the fix loop cannot start (exit 1).
    result = ai_bytes("--fix", "--dry-run", "--test-cmd", f"{sys.executable} -m pytest -q", cwd=calc)
    assert result.returncode == 1
    text = assert_no_raw_controls(result.stdout, "--fix transcript")
    assert "AssertionError: boom alpha\\x1b]52;" in text
    assert_no_raw_controls(result.stderr, "stderr")


def test_log_lines_printed_by_the_headless_watcher_are_escaped(calc: Path) -> None:
    (calc / "app.log").write_text("INFO up\n")
    (calc / ".ai-agent.toml").write_text('log_paths = ["app.log"]\nlsp = false\nwatch_tests = false\n')
    trust_current(calc)
    process = subprocess.Popen(
        [sys.executable, "-m", "app.background", str(calc)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=default_sigint,
    )
    lines: queue.Queue[bytes] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout

    def pump() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        deadline, line = time.monotonic() + 30, b""
        while b"payment failed" not in line:
            assert time.monotonic() < deadline, "the log error was never printed"
            with open(calc / "app.log", "a") as log:  # the tailer may still be starting on a loaded machine
                log.write(f"ERROR payment failed {PAYLOAD}\n")
            with contextlib.suppress(queue.Empty):
                line = lines.get(timeout=0.5)
        assert "alpha\\x1b]52;" in assert_no_raw_controls(line, "watcher output")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
