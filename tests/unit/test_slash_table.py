"""The slash-command table (app/tui/slash.py) and the commands that run (app/tui/slash_desk.py) are the same
set: a command listed in /help, the completion popup and README always does something, and no method runs a
command the table does not name."""

from __future__ import annotations

from app.tui.slash import SLASH_COMMANDS
from app.tui.slash_desk import SlashDesk


def test_every_command_of_the_table_has_its_method_and_no_other_exists() -> None:
    listed = {command.name for command in SLASH_COMMANDS}
    methods = {name.removeprefix("cmd_") for name in dir(SlashDesk) if name.startswith("cmd_")}
    assert listed == methods
