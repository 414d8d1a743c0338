"""The slash commands at work: ``SlashDesk`` reads a line of the goal input that is a command (app/tui/slash.py
holds the table and the parser) and runs it.

A collaborator of the main screen like ``RunDesk`` or ``FixDesk``, reaching it through app/tui/host.py. Every
command is a method ``cmd_<name>(argument)``; each stays short and delegates to the module of its feature. A
line that is a command never reaches the model, an unknown one included: it gets one line in the conversation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from app.tui import texts
from app.tui.pins import PinCommands
from app.tui.sessions import name_problem
from app.tui.slash import SLASH_COMMANDS, find_command, parse_slash

if TYPE_CHECKING:
    from app.tui.host import SlashHost
    from app.tui.sessions import SessionKeeper

# The commands that change the session (its messages, its context, its files, its model): refused while a
# build runs, with one line saying to wait or stop it. The others (/help, /tokens, /diff, /export, ...) run anytime.
CHANGES_SESSION = frozenset({"new", "clear", "undo", "compact", "add", "drop", "init", "model"})


def help_lines() -> list[str]:
    """``/help``'s note: every command's usage and help, from the one table, then where every key is."""
    width = max(len(command.usage) for command in SLASH_COMMANDS)
    lines = [texts.SLASH_HELP_TITLE]
    lines += [f"  {command.usage.ljust(width)}  {command.help}" for command in SLASH_COMMANDS]
    lines.append(texts.SLASH_HELP_END)
    return lines


class SlashDesk:
    def __init__(self, host: SlashHost, sessions: SessionKeeper) -> None:
        self.host = host
        self.sessions = sessions
        self.pins = PinCommands(host)

    async def run(self, line: str) -> None:
        """Run the command ``line`` (one that ``parse_slash`` accepts): unknown, refused while a build runs,
        or its ``cmd_<name>``."""
        parsed = parse_slash(line)
        if parsed is None:
            return
        name, argument = parsed
        if find_command(name) is None:
            await self.say(texts.SLASH_UNKNOWN.format(name=name))
            return
        # Every command of the table has its method (tests/unit/test_slash_table.py holds the two together).
        handler: Callable[[str], Awaitable[None]] = getattr(self, f"cmd_{name}")
        if self.host.busy and name in CHANGES_SESSION:
            await self.say(texts.SLASH_WAIT.format(name=name))
            return
        await handler(argument)

    async def say(self, text: str, kind: str = "error") -> None:
        """One line in the conversation, where the command was typed."""
        await self.host.chat.add_note(text, kind)

    async def no_argument(self, name: str, argument: str) -> bool:
        """True when the command got an argument it does not take (and the user was told so)."""
        if argument:
            await self.say(texts.SLASH_TAKES_NO_ARGUMENT.format(name=name))
            return True
        return False

    # -- the commands --------------------------------------------------------------------------------------

    async def cmd_help(self, argument: str) -> None:
        await self.say("\n".join(help_lines()), "note")

    async def cmd_model(self, argument: str) -> None:
        await self.host.models.cmd_model(argument)

    async def cmd_tokens(self, argument: str) -> None:
        if not await self.no_argument("tokens", argument):
            await self.host.models.cmd_tokens(argument)

    async def cmd_new(self, argument: str) -> None:
        if not argument:
            self.sessions.ask_new_session()  # the ctrl+n dialog
            return
        problem = name_problem(argument)
        if problem is not None:
            await self.say(texts.SLASH_BAD_NAME.format(problem=problem))
            return
        self.sessions.create_session(argument)

    async def cmd_sessions(self, argument: str) -> None:
        if not await self.no_argument("sessions", argument):
            self.host.show_sessions(True)

    async def cmd_undo(self, argument: str) -> None:
        if not await self.no_argument("undo", argument):
            self.sessions.undo()  # as ctrl+z

    async def cmd_export(self, argument: str) -> None:
        if not await self.no_argument("export", argument):
            self.host.export_session()  # as the palette's "Export session"

    async def cmd_quit(self, argument: str) -> None:
        if not await self.no_argument("quit", argument):
            self.host.app.exit()

    async def cmd_clear(self, argument: str) -> None:
        if await self.no_argument("clear", argument):
            return
        self.host.current_workspace().clear_context()  # one small write to the session
        # The next goal is a follow-up of nothing: it sends no history even on a first goal here.
        await self.say(texts.CONTEXT_CLEARED, "context_cleared")  # the class the stored event gets too

    async def cmd_diff(self, argument: str) -> None:
        if await self.no_argument("diff", argument):
            return
        diffs = self.host.current_workspace().applied_diffs()
        if not diffs:
            await self.say(texts.NOTHING_APPLIED, "note")
        elif self.host.busy:  # the pane belongs to the build's proposal: the diff goes to the conversation
            await self.say(texts.APPLIED_DIFF_NOTE.format(diff="".join(diffs.values()).rstrip()), "note")
        else:
            pane = self.host.diff
            await pane.show_diffs(diffs)
            pane.border_title = f"{texts.APPLIED_DIFF_TITLE}: {pane.border_title}"

    async def cmd_add(self, argument: str) -> None:
        await self.pins.add(argument)

    async def cmd_drop(self, argument: str) -> None:
        await self.pins.drop(argument)

    async def cmd_compact(self, argument: str) -> None:
        if not await self.no_argument("compact", argument):
            await self.pins.compact()

    async def cmd_init(self, argument: str) -> None:
        if not await self.no_argument("init", argument):
            await self.pins.init()
