"""Fixtures of the terminal-escape tests, registered by each tier's escapes/conftest.py: outside text full of
terminal controls, `ai` run as a user runs it (the installed command, its output captured as bytes), the
scripted model server on loopback."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AI_BIN, git
from tests.model_server import ScriptedModelServer
from tests.support.user_config import write_user_config

OSC52 = "\x1b]52;c;cm0gLXJmIH4K\x07"  # puts "rm -rf ~" on the clipboard
TITLE = "\x1b]0;owned\x07"  # sets the window title
CSI = "\x1b[2J\x1b[31m"  # clears the screen, turns the text red
C1 = "\x9b2J\x9d0;owned\x9c"  # the same as one-character CSI / OSC / ST
BIDI = "\u202eevil\u202c"
# Everything at once, between two words a test can find.
PAYLOAD = f"alpha{OSC52}{TITLE}{CSI}\x07{C1}{BIDI}omega"

RAW = ("\x1b", "\x07", "\x7f", "\u202e", "\u202c", *map(chr, range(0x80, 0xA0)))


def export_document(name: str, summary: str, contents: list[tuple[str, str]]) -> bytes:
    """An `ai --export-session` document with these messages, for `ai --import-session -`."""
    document = {
        "format": "ai-agent-session",
        "version": 1,
        "metadata": {
            "name": name,
            "created_at": "2025-01-01T10:00:00+00:00",
            "last_used": "2025-01-02T10:00:00+00:00",
            "goal_summary": summary,
            "change_count": 0,
            "is_active": False,
        },
        "messages": [
            {"role": role, "content": content, "ts": "2025-01-02T10:00:00+00:00"}
            for role, content in contents
        ],
        "changes": [],
        "undo": [],
    }
    return json.dumps(document).encode()


def assert_no_raw_controls(data: bytes, what: str = "output") -> str:
    """Decode ``data`` (it must be UTF-8) and check that no control a terminal acts on is in it raw."""
    text = data.decode("utf-8")
    found = sorted({f"U+{ord(ch):04X}" for ch in text if ch in RAW or (ord(ch) < 0x20 and ch not in "\n\t")})
    assert not found, f"raw controls {found} in the {what}:\n{text}"
    return text


@pytest.fixture(autouse=True)
def fast_model_settings(agent_home: Path) -> Path:
    write_user_config(agent_home)  # fast retries, no language server
    return agent_home


@pytest.fixture
def calc(git_project: Path) -> Path:
    (git_project / "calc").mkdir()
    (git_project / "calc" / "ops.py").write_text("def add(a, b):\n    return a + b\n")
    git(git_project, "add", ".")
    git(git_project, "commit", "-q", "-m", "calc")
    return git_project


@pytest.fixture
def model() -> Iterator[Callable[[Any], ScriptedModelServer]]:
    servers: list[ScriptedModelServer] = []

    def start(script: Any) -> ScriptedModelServer:
        server = ScriptedModelServer(script).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def ai_bytes(
    *args: str, cwd: Path, env: dict[str, str] | None = None, input: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """The installed `ai`, its stdout and stderr kept as the bytes a terminal would have received."""
    identity = {
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }
    return subprocess.run(
        [str(AI_BIN), *args],
        cwd=cwd,
        input=input,
        capture_output=True,
        env={**os.environ, **identity, **(env or {})},
        timeout=120,
    )
