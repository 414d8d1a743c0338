"""README's "Slash commands" table lists every command of the one table (app/tui/slash.py), so none drifts."""

from __future__ import annotations

import re
from pathlib import Path

from app.tui.slash import SLASH_COMMANDS

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_lists_every_slash_command_with_its_usage() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Slash commands", 1)[1].split("\n#", 1)[0]
    listed = re.findall(r"^\| `(/[^`]*)` \|", section, flags=re.MULTILINE)
    assert listed == [command.usage for command in SLASH_COMMANDS]
