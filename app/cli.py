"""The command line: the options, exit statuses and one-line errors of README.md "Commands".

Fast paths (``--help``, ``--version``, ``--list-sessions``) import only the standard library; the store, the
model client and Textual are imported where a command needs them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from app import __version__
from app.commands.ending import GuardedOutput, exit_status
from app.commands.options import root_of, store_of, wants_terminal
from app.errors import EXIT_OK, EXIT_USAGE, UsageError
from app.paths import DEFAULT_SESSION, is_utf8, is_valid_session_name, session_name_error
from app.text.terminal import guarded_std_streams, safe_text, unguarded_std_streams

DESCRIPTION = "ai: a coding co-pilot that lives in the terminal."
EPILOG = """\
environment:
  OPENAI_API_KEY, OPENAI_BASE_URL  the model endpoint (any OpenAI-compatible server)
  AI_AGENT_MODEL                   the model name
  AI_AGENT_HOME                    where sessions live (default ~/.ai-agent)

exit status: 0 done, 1 the task failed, 2 usage error, 3 refused to protect data
"""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit 2), not a usage dump."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `ai --help`)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ai",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ai {__version__}")
    parser.add_argument("--project", metavar="DIR", help="work on the project containing DIR (default: here)")
    parser.add_argument(
        "--session", metavar="NAME", help="use session NAME, created if new, made the active one"
    )
    parser.add_argument(
        "--continue",
        dest="continue_",
        action="store_true",
        help="resume the session with its whole history (headless: print the history)",
    )

    sessions = parser.add_argument_group("sessions")
    sessions.add_argument("--list-sessions", action="store_true", help="one line per session")
    sessions.add_argument(
        "--delete-session", metavar="NAME", help="remove a session; its applied changes stay in the files"
    )
    sessions.add_argument(
        "--export-session",
        nargs="+",
        metavar=("NAME", "FILE"),
        help="write the session as one JSON document to FILE (stdout when absent)",
    )
    sessions.add_argument(
        "--import-session", metavar="FILE", help="load an exported session (--session NAME renames it)"
    )

    output = parser.add_argument_group("output")
    output.add_argument("--json", action="store_true", help="machine-readable output (JSON / JSON Lines)")

    modifiers = parser.add_argument_group("modifiers (with --build, --fix, --undo)")
    modifiers.add_argument("--yes", action="store_true", help="apply without asking")
    modifiers.add_argument("--dry-run", action="store_true", help="print the diff, change nothing")
    modifiers.add_argument("--model", metavar="NAME", help="model name (default: $AI_AGENT_MODEL)")
    modifiers.add_argument("--base-url", metavar="URL", help="OpenAI-compatible endpoint ($OPENAI_BASE_URL)")
    modifiers.add_argument("--test-cmd", metavar="CMD", help="the project's test command")
    modifiers.add_argument("--no-git", action="store_true", help="change files without git commits")
    parser.add_argument(
        "--undo",
        action="store_true",
        help="undo the session's latest applied change that is not undone yet (--dry-run shows it)",
    )
    parser.add_argument(
        "--build",
        metavar="GOAL",
        help="take GOAL to an applied change (headless with --yes/--dry-run/--json)",
    )
    parser.add_argument(
        "--search",
        metavar="QUERY",
        help="find a symbol, identifier or regular expression in the project (--json: one object a line)",
    )
    parser.add_argument(
        "--fix",
        action="store_true",
        help="run the test command; on failure try up to 3 fixes in a scratch copy and offer the verified one",
    )
    parser.add_argument(
        "--suggest",
        action="store_true",
        help="what to improve next: failing tests, diagnostics, TODO/FIXME, long or complex functions, ...",
    )
    parser.add_argument(
        "--trust",
        action="store_true",
        help="trust this project (its tests and language servers may run its code in the background) and "
        "its .ai-agent.toml as it is now (prints its base_url, test_cmd, log_paths, ...); a changed file "
        "needs trusting again",
    )
    return parser


# Commands that take the modifiers; each later command adds its flag name here.
MODIFIED_COMMANDS: list[str] = []
MODIFIED_COMMANDS.append("--undo")
MODIFIED_COMMANDS.append("--build")
MODIFIED_COMMANDS.append("--fix")
MODIFIED_COMMANDS.append("--suggest")


def _check_names(args: argparse.Namespace) -> None:
    names = [args.session, args.delete_session]
    if args.export_session:
        if len(args.export_session) > 2:
            raise UsageError("--export-session takes NAME and an optional FILE (see `ai --help`)")
        names.append(args.export_session[0])
    for name in names:
        if name is not None and not is_valid_session_name(name):
            raise UsageError(session_name_error(name))


# Options whose text is a path: the OS takes any bytes there, so they need not be UTF-8 (a project path that
# gets stored is checked where it is: app.paths.project_hash).
PATH_OPTIONS = {"project", "import_session"}

# The environment of the model client (app/config.py, openai): sent in requests and stored with replies.
MODEL_ENVIRONMENT = ("AI_AGENT_MODEL", "OPENAI_BASE_URL", "OPENAI_API_KEY")

# What an empty value would silently mean instead, and what to give.
EMPTY_VALUES = {
    "model": "name a model, or leave --model out for $AI_AGENT_MODEL or the configuration",
    "base_url": "give the endpoint's http(s) URL, or leave --base-url out for $OPENAI_BASE_URL",
    "test_cmd": "give the command, or leave --test-cmd out for the configured or detected one",
    "project": "give a folder, or leave --project out for the project here",
    "import_session": "give the exported FILE, or - to read it from stdin",
}


def _flag(dest: str) -> str:
    return "--" + dest.rstrip("_").replace("_", "-")


def _check_values(args: argparse.Namespace) -> None:
    """Before anything is created: every text that gets stored or sent is UTF-8 (Python hands undecodable
    argv bytes over as surrogate escapes, which no session file, JSON line or HTTP request can carry), and no
    option is given empty where that would silently mean "the default"."""
    for dest, value in vars(args).items():
        values = value if isinstance(value, list) else [value]
        for i, text in enumerate(values):
            if not isinstance(text, str) or is_utf8(text):
                continue
            if dest in PATH_OPTIONS or (dest == "export_session" and i == 1):
                continue
            sample = safe_text(text)
            sample = sample if len(sample) <= 40 else sample[:37] + "..."
            raise UsageError(
                f'{_flag(dest)} "{sample}" is not valid UTF-8: ai stores it in the session or sends it on; '
                "give it as UTF-8 text"
            )
    if (
        args.build is not None or args.fix or args.suggest
    ):  # these talk to the model, sending these as they are
        for var in MODEL_ENVIRONMENT:
            if not is_utf8(os.environ.get(var, "")):
                raise UsageError(
                    f"{var} is not valid UTF-8: ai sends it to the model endpoint; set it as UTF-8 text"
                )
    for dest, todo in EMPTY_VALUES.items():
        value = getattr(args, dest, None)
        if isinstance(value, str) and not value.strip() and (value == "" or dest not in PATH_OPTIONS):
            raise UsageError(f"{_flag(dest)} is empty: {todo}")
    if args.export_session and len(args.export_session) == 2 and args.export_session[1] == "":
        raise UsageError(
            "--export-session FILE is empty: give a file name, or leave it out (or -) for stdout"
        )


# The README's "Commands" table: which commands a flag modifies (None: the plain `ai`, open a session).
CONTINUE_GOES_WITH = (None, "--build")
SESSION_GOES_WITH = (None, "--build", "--fix", "--undo", "--suggest", "--import-session")


def _check_combinations(args: argparse.Namespace) -> None:
    commands = (
        ("--build", getattr(args, "build", None) is not None),
        ("--fix", getattr(args, "fix", False)),
        ("--undo", args.undo),
        ("--suggest", getattr(args, "suggest", False)),
        ("--search", getattr(args, "search", None) is not None),
        ("--list-sessions", args.list_sessions),
        ("--delete-session", args.delete_session is not None),
        ("--export-session", args.export_session is not None),
        ("--import-session", args.import_session is not None),
        ("--trust", getattr(args, "trust", False)),
    )
    actions = [flag for flag, on in commands if on]
    if len(actions) > 1:
        # One command a run: running one of two silently is a guess at what the user meant.
        raise UsageError(
            f"{' and '.join(actions)} cannot be used together: choose one of "
            + ", ".join(flag for flag, _ in commands)
        )
    command = actions[0] if actions else None
    # A flag the command would ignore is refused too: `--continue --list-sessions` did not continue anything.
    if args.continue_ and command not in CONTINUE_GOES_WITH:
        raise UsageError(
            f"--continue does not go with {command}: it resumes a session, alone "
            "(`ai [--session NAME] --continue`) or with --build"
        )
    if args.session is not None and command not in SESSION_GOES_WITH:
        raise UsageError(
            f"--session does not go with {command}: it goes with `ai` itself, "
            + ", ".join(flag for flag in SESSION_GOES_WITH if flag)
        )
    if args.json and not (
        args.list_sessions
        or args.continue_
        or _modified_command(args)
        or getattr(args, "search", None) is not None  # `--search ""` is search: it says the query is empty
    ):
        raise UsageError("--json goes with --list-sessions, --continue or a command that takes modifiers")
    if not _modified_command(args):
        for flag in ("yes", "dry_run", "model", "base_url", "test_cmd", "no_git"):
            if getattr(args, flag) not in (None, False):
                name = "--" + flag.replace("_", "-")
                wanted = ", ".join(MODIFIED_COMMANDS) or "a command that changes files"
                raise UsageError(f"{name} goes with {wanted}")
    if args.yes and args.dry_run:
        raise UsageError("--yes and --dry-run cannot be used together")


def _modified_command(args: argparse.Namespace) -> bool:
    # Given is given: `--build ""` is the build command (its own check then says it needs a goal), not a
    # missing command that makes `--yes` look misplaced.
    return any(
        getattr(args, flag.lstrip("-").replace("-", "_"), None) not in (None, False)
        for flag in MODIFIED_COMMANDS
    )


# -- dispatch --------------------------------------------------------------------------------------------


def run(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _check_values(args)
    _check_names(args)
    _check_combinations(args)
    if args.trust:
        from app.commands.trust import cmd_trust

        return cmd_trust(args)
    if args.build is not None or args.fix or args.suggest:
        from app.commands.trust import note_untrusted_config

        note_untrusted_config(args, root_of(args))
    if args.list_sessions:
        from app.commands.sessions import cmd_list_sessions

        return cmd_list_sessions(args)
    if args.delete_session is not None:
        from app.commands.sessions import cmd_delete_session

        return cmd_delete_session(args)
    if args.export_session is not None:
        from app.commands.sessions import cmd_export_session

        return cmd_export_session(args)
    if args.import_session is not None:
        from app.commands.sessions import cmd_import_session

        return cmd_import_session(args)
    if getattr(args, "search", None) is not None:
        from app.commands.search import run_search

        return run_search(root_of(args), args.search, as_json=args.json)
    if not args.suggest:  # every command from here on may write in the project
        from app.commands.recovery import recover_interrupted

        recover_interrupted(args)
    if args.undo:
        from app.commands.undo import cmd_undo

        return cmd_undo(args, store_of(args))
    if args.build is not None:
        return _build(args)
    if args.fix:
        from app.commands.fix import cmd_fix

        return cmd_fix(args)
    if args.suggest:
        from app.commands.suggest import cmd_suggest

        return cmd_suggest(args)
    return _open(args)


def _open(args: argparse.Namespace) -> int:
    """`ai` / `ai --session NAME` / `ai --continue`: the workspace on a terminal, else the session printed."""
    from app.commands.sessions import cmd_open_headless, open_session

    store, name = open_session(args)
    if wants_terminal(args):
        from app.tui import make_app

        return _open_workspace(args, name, make_app, continue_session=args.continue_)
    return cmd_open_headless(args, store, name)


def _build(args: argparse.Namespace) -> int:
    """`--build GOAL`: the workspace on a terminal without a headless flag, else the headless build."""
    from app.commands.build import cmd_build

    if not wants_terminal(args):
        return cmd_build(args)
    try:
        from app.tui.app import make_app
    except ImportError:  # no TUI in this build: the headless run is the same pipeline
        return cmd_build(args)
    from app.commands.options import config_overrides

    name = args.session or DEFAULT_SESSION
    store_of(args).session(name, activate=True)
    return _open_workspace(
        args,
        name,
        make_app,
        continue_session=args.continue_,
        goal=args.build,
        overrides=config_overrides(args),
    )


def _open_workspace(
    args: argparse.Namespace,
    name: str,
    make_app: Callable[..., Any],
    *,
    continue_session: bool = False,
    goal: str | None = None,
    overrides: dict[str, object] | None = None,
) -> int:
    """Run the workspace (``make_app``, app/tui/app.py) on session ``name`` until the user quits it."""
    from app.config import load_config

    root = root_of(args)
    config = load_config(root, overrides)
    with unguarded_std_streams():
        make_app(root, name, config=config, initial_goal=goal, continue_session=continue_session).run()
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> NoReturn:
    if sys.stdout is None:  # started with stdout closed (`ai >&-`): like a reader that went away
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115  # stdout for the whole run
    # Not on a terminal only: the workspace owns a terminal's output, and a full device is never a terminal.
    if not sys.stdout.isatty():
        sys.stdout = GuardedOutput(sys.stdout)
    # Every printer writes through the guarded streams: stored replies, the model's prose, goals and
    # repository text never reach the terminal with their controls raw (app/text/terminal.py). The
    # workspace takes the real streams back (unguarded_std_streams): Textual draws the terminal itself.
    with guarded_std_streams():
        code = exit_status(lambda: run(argv))
    sys.exit(code)


__all__ = ["DEFAULT_SESSION", "EXIT_USAGE", "build_parser", "main", "run"]
