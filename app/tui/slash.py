"""The slash commands of the goal input: their names, arguments and help (one table, shared by the completion
popup, ``/help`` and the help screen), and how a line of input is read as one.

A line that starts with ``/`` is a command, never a goal: it is never sent to the model, an unknown one included.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.tui import texts


@dataclass(frozen=True)
class SlashCommand:
    name: str  # without the slash
    argument: str  # how its argument is written in the help ("PATH", "[NAME]"), or ""
    help: str

    @property
    def usage(self) -> str:
        return f"/{self.name} {self.argument}".rstrip()


SLASH_COMMANDS: tuple[SlashCommand, ...] = tuple(
    SlashCommand(name, argument, help_text) for name, (argument, help_text) in texts.SLASH_HELP.items()
)
_BY_NAME = {command.name: command for command in SLASH_COMMANDS}


def find_command(name: str) -> SlashCommand | None:
    return _BY_NAME.get(name)


def parse_slash(line: str) -> tuple[str, str] | None:
    """``(name, argument)`` of a line that is a slash command, else None. ``/add  a b.py`` gives
    ``("add", "a b.py")``; a line of ``/`` alone is the command named "" (unknown)."""
    text = line.strip()
    if not text.startswith("/"):
        return None
    name, _, argument = text[1:].partition(" ")
    return name.strip(), argument.strip()
