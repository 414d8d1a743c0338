"""The workspace in a real terminal (tmux): stored sessions, streamed replies, log lines, a project folder's
name and a goal full of terminal controls (OSC 52 clipboard, OSC 0 title, CSI, BEL, C1, a bidi
override) are shown escaped. The check is on the raw bytes the app wrote to the terminal (tmux pipe-pane),
not on what tmux made of them."""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import AI_BIN, git, requires_tmux
from tests.e2e.scripted.test_tui_tmux import send_goal
from tests.support.escapes import PAYLOAD, TITLE, ai_bytes, export_document
from tests.support.tmux import Tmux

pytestmark = requires_tmux

SHOWN = "alpha\\x1b]52;c;"  # how PAYLOAD's start reads on the screen
# Byte sequences only outside text could have put in the stream: Textual writes CSI and its own OSC
# sequences, never a clipboard or title OSC, C1 controls or bidi overrides.
FORBIDDEN = {
    "OSC 52 (clipboard)": b"\x1b]52",
    "OSC 0 (title)": b"\x1b]0;",
    "the title's BEL": b"owned\x07",
    "the clipboard's BEL": b"IH4K\x07",
    "C1 CSI": "\x9b".encode(),
    "C1 OSC": "\x9d".encode(),
    "bidi override": "\u202e".encode(),
}


class Recorded(Tmux):
    """`ai` in tmux with everything it writes to the terminal recorded (``data``)."""

    def __init__(self, socket: Path, record: Path) -> None:
        super().__init__(socket)
        self.record = record

    def open_ai(self, cwd: Path, env: dict[str, str], *args: str) -> None:
        # `ai` starts only once the pipe is attached (enter ends the `read`): its first paint is recorded too.
        command = " ".join(
            ["read go;", shlex.quote(str(AI_BIN)), *map(shlex.quote, args), "; echo EXIT=$?; sleep 30"]
        )
        self.start(cwd, env, command)
        self("pipe-pane", "-t", "ai", "-O", f"cat >> {shlex.quote(str(self.record))}")
        self.keys("Enter")

    def quit(self) -> bytes:
        self.keys("C-q")
        self.wait_for("EXIT=0")
        return self.record.read_bytes()


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Recorded]:
    term = Recorded(tmp_path / "tmux.sock", tmp_path / "terminal.bin")
    yield term
    term.close()


def assert_nothing_raw(data: bytes) -> None:
    assert SHOWN.encode() in data  # the recording holds what was shown: the escapes, as text
    found = [name for name, sequence in FORBIDDEN.items() if sequence in data]
    assert not found, f"raw in the terminal stream: {found}"


def workspace_env(base_url: str) -> dict[str, str]:
    return {
        "AI_AGENT_HOME": os.environ["AI_AGENT_HOME"],
        "TERM": "xterm-256color",
        "OPENAI_BASE_URL": base_url,
        "OPENAI_API_KEY": "k",
        "AI_AGENT_MODEL": "m",
        "EDITOR": "",
        "VISUAL": "",
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }


def quiet_config(root: Path, extra: str = "") -> None:
    (root / ".ai-agent.toml").write_text(f"lsp = false\nwatch_tests = false\n{extra}")
    git(root, "add", ".ai-agent.toml")
    git(root, "commit", "-q", "-m", "config")


def test_stored_and_streamed_controls_never_reach_the_terminal_raw(
    calc: Path, model, terminal: Recorded
) -> None:
    quiet_config(calc)
    history = [("user", f"earlier goal {PAYLOAD}"), ("assistant", f"Earlier reply: {PAYLOAD}")]
    document = export_document("evil", f"summary {PAYLOAD}", history)
    assert ai_bytes("--import-session", "-", cwd=calc, input=document).returncode == 0
    reply = f"Plan: {PAYLOAD}\n\n<<<<<<< CREATE notes.txt\nnote {PAYLOAD}\n>>>>>>> END\n"
    server = model({"default": {"reply": reply, "chunk_size": 7}})

    terminal.open_ai(calc, workspace_env(server.base_url), "--session", "evil")
    screen = terminal.wait_for("Earlier reply:")
    # The session list's goal summary, the stored goal and reply: shown, escaped (long lines wrap).
    assert screen.count(SHOWN) == 3, screen
    send_goal(terminal, "add notes")
    screen = terminal.wait_for("+note")  # the diff in the approval
    assert SHOWN in screen, screen
    terminal.keys("n")
    screen = terminal.wait_for("rejected")
    assert screen.count(SHOWN) >= 4, screen  # and the streamed prose
    assert_nothing_raw(terminal.quit())
    assert not (calc / "notes.txt").exists()


def test_a_folder_name_a_goal_the_editor_and_a_log_line_show_escaped(
    tmp_path: Path, model, terminal: Recorded
) -> None:
    root = tmp_path / f"shop{TITLE}"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "app.log").write_text("INFO started\n")
    (root / ".gitignore").write_text("app.log\n")
    git(root, "add", ".gitignore")
    git(root, "commit", "-q", "-m", "initial")
    quiet_config(root, 'log_paths = ["app.log"]\n')
    assert ai_bytes("--trust", cwd=root).returncode == 0  # log_paths takes effect only when trusted
    reply = f"Noted.\n\n<<<<<<< CREATE notes.txt\nnote {PAYLOAD}\n>>>>>>> END\n"
    server = model({"default": {"reply": reply}})

    # The goal from the command line: the workspace opens with it and builds it at once.
    terminal.open_ai(root, workspace_env(server.base_url), "--build", f"add notes {TITLE}")
    terminal.wait_for("Apply? [y/N/e/r/s]")
    terminal.keys("e")  # no $EDITOR: the built-in editor, the proposed file in it
    screen = terminal.wait_for("Edit the proposed result")
    assert "note alpha\\x1b]52;" in screen, screen
    terminal.keys("Escape")
    terminal.wait_for("Apply? [y/N/e/r/s]")
    terminal.keys("n")
    screen = terminal.wait_for("rejected")
    assert "shop\\x1b]0;owned\\x07" in screen  # the status line's project
    assert "add notes \\x1b]0;owned\\x07" in screen, screen  # the goal, echoed in the conversation
    deadline = time.monotonic() + 30
    while "payment failed" not in terminal("capture-pane", "-p", "-t", "ai"):
        assert time.monotonic() < deadline, "the log line never reached the feed"
        with (root / "app.log").open("a") as log:  # the tailer may still be starting on a loaded machine
            log.write(f"ERROR payment failed {PAYLOAD}\n")
        time.sleep(0.5)
    assert SHOWN in terminal.wait_for("payment failed")  # the event feed
    assert_nothing_raw(terminal.quit())
    assert not (root / "notes.txt").exists()
