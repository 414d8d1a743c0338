"""The rules every command-line face shares, each written once: the terminal check, the project root, the
export of a session, and the printer's lines (app/commands/options.py, app/paths.py, app/session/export.py,
app/commands/printer.py)."""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import pytest

from app.commands.options import wants_terminal
from app.commands.printer import JsonLines, Transcript, printer_for
from app.errors import RefusedError, UsageError
from app.events import Info, ProseDelta
from app.paths import project_root
from app.session.export import export_text, write_export
from app.session.store import ProjectStore


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def _args(**flags: bool) -> argparse.Namespace:
    return argparse.Namespace(**{"yes": False, "dry_run": False, "json": False, **flags})


@pytest.mark.parametrize(
    ("stdin_tty", "stdout_tty", "flags", "expected"),
    [
        (True, True, {}, True),
        (True, False, {}, False),  # output to a pipe or a file: headless
        (False, True, {}, False),  # input from a pipe: nobody to ask
        (True, True, {"yes": True}, False),
        (True, True, {"dry_run": True}, False),
        (True, True, {"json": True}, False),
    ],
)
def test_one_terminal_rule(
    monkeypatch: pytest.MonkeyPatch, stdin_tty: bool, stdout_tty: bool, flags: dict[str, bool], expected: bool
) -> None:
    monkeypatch.setattr(sys, "stdin", _Stream(stdin_tty))
    monkeypatch.setattr(sys, "stdout", _Stream(stdout_tty))
    assert wants_terminal(_args(**flags)) is expected


def test_the_project_root_is_the_git_top_level_of_the_folder_given(
    git_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner = git_project / "pkg" / "sub"
    inner.mkdir(parents=True)
    assert project_root(str(inner)) == git_project.resolve()
    monkeypatch.chdir(inner)
    assert project_root() == git_project.resolve()
    with pytest.raises(UsageError, match="no such directory"):
        project_root(str(git_project / "missing"))


def test_one_export_for_every_face(project: Path, agent_home: Path, tmp_path: Path) -> None:
    store = ProjectStore(project)
    store.session("main", activate=True).append_message("user", "hello")
    text = export_text(store, "main")
    assert json.loads(text)["messages"][0]["content"] == "hello" and text.endswith("\n")
    # The workspace's: a new file under the data root's exports folder.
    default = write_export(store, "main")
    assert default.parent == agent_home / "exports" and default.read_text() == text
    # The command line's: the file the user named, never one that exists, in a folder that does.
    named = tmp_path / "main.json"
    assert write_export(store, "main", named, shown="main.json") == named.resolve()
    assert named.read_text() == text
    with pytest.raises(RefusedError, match=r"main\.json exists"):
        write_export(store, "main", named, shown="main.json")
    with pytest.raises(UsageError, match="does not exist"):
        write_export(store, "main", tmp_path / "nowhere" / "x.json")


def test_the_printer_ends_streamed_prose_before_a_line() -> None:
    out, err = io.StringIO(), io.StringIO()
    transcript = printer_for(False, out, err)
    assert isinstance(transcript, Transcript)
    transcript.show(ProseDelta("thinking"))
    transcript.line("next")
    transcript.show(Info("a note"))
    assert out.getvalue() == "thinking\nnext\nnote: a note\n" and err.getvalue() == ""
    lines = printer_for(True, out := io.StringIO(), err)
    assert isinstance(lines, JsonLines)
    lines.show(Info("a note"))
    assert json.loads(out.getvalue())["event"] == "info"
