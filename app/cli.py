"""The command line: the options, exit statuses and one-line errors of README.md "Commands".

Fast paths (``--help``, ``--version``, ``--list-sessions``) import only the standard library; the store, the
model client and Textual are imported where a command needs them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from app import __version__
from app.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, AgentError, OutputError, UsageError
from app.paths import (
    DEFAULT_SESSION,
    agent_home,
    find_project_root,
    is_utf8,
    is_valid_session_name,
    project_data_dir,
    session_name_error,
)
from app.text.terminal import guarded_std_streams, json_text, safe_text, unguarded_std_streams

if TYPE_CHECKING:
    from app.session.store import ProjectStore

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


def _data_dir_of(args: argparse.Namespace) -> Path:
    return project_data_dir(_project_root(args))


def _project_root(args: argparse.Namespace) -> Path:
    if args.project is None:
        return find_project_root()
    directory = Path(args.project).expanduser()
    if not directory.is_dir():
        raise UsageError(f"--project {args.project}: no such directory")
    return find_project_root(directory)


def _store(args: argparse.Namespace) -> ProjectStore:
    from app.session.store import ProjectStore

    return ProjectStore(_project_root(args))


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


# -- commands --------------------------------------------------------------------------------------------


def _format_row(meta: dict[str, Any]) -> str:
    # One row a session: a goal with a newline (or a terminal control) in it is shown escaped.
    marker = "*" if meta.get("is_active") else " "
    last_used = safe_text(str(meta.get("last_used", ""))[:16].replace("T", " "))
    count = int(meta.get("change_count") or 0)
    changes = f"{count} change{'s' if count != 1 else ''}"
    summary = safe_text(str(meta.get("goal_summary") or "-"))
    return f"{marker} {safe_text(str(meta['name'])):<20} {last_used:<16}  {changes:<11} {summary}"


def cmd_list_sessions(args: argparse.Namespace) -> int:
    from app.session.fastindex import read_index, session_rows

    index = read_index(_data_dir_of(args))
    if index is not None:
        rows = session_rows(index)
    else:  # missing, damaged or stale: the store rebuilds it
        store = _store(args)
        rows = [m.to_dict() for m in store.list_sessions()]
        for warning in (store.index_warning or "").splitlines():  # one line per file kept aside
            print(f"ai: {warning}", file=sys.stderr)
    if args.json:
        print(json_text(rows, indent=2))
    elif not rows:
        print("no sessions yet in this project; `ai` or `ai --session NAME` starts one")
    else:
        for row in rows:
            print(_format_row(row))
    return EXIT_OK


def cmd_delete_session(args: argparse.Namespace) -> int:
    _recover_interrupted(args)  # the session's backups go with it: nothing of its may be left half-done
    store = _store(args)
    store.delete_session(args.delete_session)
    print(f"deleted session {args.delete_session!r}; its applied changes stay in the files")
    return EXIT_OK


def cmd_export_session(args: argparse.Namespace) -> int:
    from app.session.storage import atomic_write_bytes

    name, *rest = args.export_session
    document = _store(args).export_session(name)
    text = json_text(document, indent=2) + "\n"
    if not rest or rest[0] == "-":
        sys.stdout.write(text)
        return EXIT_OK
    target = Path(rest[0]).expanduser()
    if os.path.lexists(target):
        # A typo (`--export-session main calc/ops.py`) must not replace a file: export never overwrites.
        from app.errors import RefusedError

        raise RefusedError(f"{rest[0]} exists: choose another name or remove it first")
    if not target.parent.is_dir():
        raise UsageError(f"cannot write {rest[0]}: folder {target.parent} does not exist")
    atomic_write_bytes(target.resolve(), text.encode())
    print(f"exported session {name!r} to {rest[0]}", file=sys.stderr)
    return EXIT_OK


def _read_bounded(source: str, limit: int, where: str) -> bytes:
    """FILE (or stdin for ``-``), refused once it is over ``limit`` bytes: /dev/zero or an endless pipe stops
    at the cap, a huge regular file is refused by its size unread. A FIFO opens without waiting for a writer
    (O_NONBLOCK), so one that nobody writes reads as empty instead of hanging."""
    too_big = UsageError(
        f"{where}: larger than {limit // 2**20} MiB, more than any session export; "
        "give the file that --export-session wrote"
    )
    if source == "-":
        raw = sys.stdin.buffer.read(limit + 1)
    else:
        path = Path(source).expanduser()
        if path.is_dir():
            raise UsageError(f"{where}: is a folder, not an exported session file")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            if os.fstat(fd).st_size > limit:
                raise too_big
            os.set_blocking(fd, True)
            with os.fdopen(fd, "rb", closefd=False) as handle:
                raw = handle.read(limit + 1)
        finally:
            os.close(fd)
    if len(raw) > limit:
        raise too_big
    return raw


def cmd_import_session(args: argparse.Namespace) -> int:
    import orjson

    from app.session.schema import MAX_DEPTH, MAX_DOCUMENT_BYTES, export_problem

    source = args.import_session
    where = f"import: {safe_text(source)}"
    try:
        raw = _read_bounded(source, MAX_DOCUMENT_BYTES, where)
    except FileNotFoundError:
        raise UsageError(f"{where}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{where}: cannot read it ({exc.strerror or exc})") from None
    try:
        # orjson, the store's own parser: what it accepts the store can write back (no lone surrogates,
        # no integers beyond 64 bits, no NaN), and it stops at 1024 levels instead of recursing.
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if not raw.strip():
            what = "nothing (it is empty)"
        elif str(exc).startswith("depth limit exceeded"):
            what = f"nests lists and objects deeper than {MAX_DEPTH} levels, unlike any session export"
        else:
            what = f"not JSON ({exc})"
        raise UsageError(f"{where}: {what}") from None
    problem = export_problem(document)
    if problem:
        raise UsageError(f"{where}: {problem}")
    meta = _store(args).import_session(document, args.session)
    print(f"imported session {meta.name!r} ({len(document['messages'])} messages)")
    return EXIT_OK


def _summary(store: ProjectStore, name: str) -> str:
    session = store.session(name)
    meta = session.meta()
    count = session.message_count()
    lines = [
        f"session {meta.name}{' (active)' if meta.is_active else ''} · project {safe_text(str(store.root))}",
        f"  {count} message{'s' if count != 1 else ''} · {meta.change_count} applied change"
        f"{'s' if meta.change_count != 1 else ''} · created {safe_text(meta.created_at[:16].replace('T', ' '))}"
        f" · last used {safe_text(meta.last_used[:16].replace('T', ' '))}",
    ]
    if meta.goal_summary:
        lines.append(f"  goal: {safe_text(meta.goal_summary)}")
    return "\n".join(lines)


def cmd_continue_headless(args: argparse.Namespace, store: ProjectStore, name: str) -> int:
    session = store.session(name, create=False, activate=True)
    messages = session.messages()
    if args.json:
        for message in messages:
            print(json_text(message))
        return EXIT_OK
    print(_summary(store, name))
    for message in messages:
        stamp = safe_text(str(message.get("ts", ""))[:19].replace("T", " "))
        print(f"\n[{stamp}] {safe_text(str(message['role']))}:")
        print(safe_text(str(message["content"]), multiline=True))
    return EXIT_OK


def cmd_open(args: argparse.Namespace) -> int:
    """`ai` / `ai --session NAME` / `ai --continue`: create or switch the session, then open it."""
    store = _store(args)
    name = args.session or DEFAULT_SESSION
    if args.continue_:
        if args.session is None and not store.exists(name):
            raise UsageError(f"no session {name!r} to continue yet; start one with `ai --session NAME`")
        if args.session is not None and not store.exists(name):
            raise UsageError(f"no session named {name!r} in this project; see `ai --list-sessions`")
        if _wants_tui(args):
            return _open_workspace(args, name, continue_session=True)
        return cmd_continue_headless(args, store, name)
    store.session(name, activate=True)
    if _wants_tui(args):
        return _open_workspace(args, name)
    print(_summary(store, name))
    return EXIT_OK


def _wants_tui(args: argparse.Namespace) -> bool:
    """The workspace only on a terminal and without --yes, --dry-run or --json (README.md "Commands")."""
    return sys.stdout.isatty() and sys.stdin.isatty() and not (args.yes or args.dry_run or args.json)


def _open_workspace(args: argparse.Namespace, name: str, *, continue_session: bool = False) -> int:
    from app.config import load_config
    from app.tui import make_app

    root = _project_root(args)
    with unguarded_std_streams():
        make_app(root, name, config=load_config(root), continue_session=continue_session).run()
    return EXIT_OK


def run(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _check_values(args)
    _check_names(args)
    _check_combinations(args)
    if args.trust:
        from app.trust import cmd_trust

        return cmd_trust(args, _project_root(args))
    if args.build is not None or args.fix or args.suggest:
        from app.trust import note_untrusted_config

        note_untrusted_config(args, _project_root(args))
    if args.list_sessions:
        return cmd_list_sessions(args)
    if args.delete_session is not None:
        return cmd_delete_session(args)
    if args.export_session is not None:
        return cmd_export_session(args)
    if args.import_session is not None:
        return cmd_import_session(args)
    if getattr(args, "search", None) is not None:
        from app.context.command import run_search

        return run_search(_project_root(args), args.search, as_json=args.json)
    if not args.suggest:  # every command from here on may write in the project
        _recover_interrupted(args)
    if args.undo:
        from app.edits.undo_cli import cmd_undo

        return cmd_undo(args, _store(args))
    if args.build is not None:
        return cmd_build(args)
    if args.fix:
        from app.fix.commands import cmd_fix

        return cmd_fix(args)
    if args.suggest:
        from app.fix.commands import cmd_suggest

        return cmd_suggest(args)
    return cmd_open(args)


def cmd_build(args: argparse.Namespace) -> int:
    """`--build GOAL`: the TUI when stdout is a terminal and no headless flag is given, else headless."""
    from app.headless import cmd_build as build_headless
    from app.headless import wants_headless

    if not wants_headless(args):
        try:
            from app.tui.app import make_app
        except ImportError:  # no TUI in this build: the headless run is the same pipeline
            return build_headless(args)
        from app.config import load_config
        from app.headless import build_overrides

        root = _project_root(args)
        store = _store(args)
        name = args.session or DEFAULT_SESSION
        store.session(name, activate=True)
        config = load_config(root, build_overrides(args))
        with unguarded_std_streams():
            make_app(
                root, name, config=config, initial_goal=args.build, continue_session=args.continue_
            ).run()
        return EXIT_OK
    return build_headless(args)


def _recover_interrupted(args: argparse.Namespace) -> None:
    """The next `ai` after a killed one finishes or rolls back what it left half-done (app/edits/recovery.py)
    and says so, one line each. Looking costs one directory listing; the edit engine loads only when an
    interrupted change is there."""
    root = _project_root(args)
    from app.paths import project_hash

    try:
        pending = any((agent_home() / "backups" / project_hash(root) / "in-flight").iterdir())
    except OSError:
        pending = False
    if not pending:
        return
    from app.edits.recovery import recover_project
    from app.session.store import ProjectStore

    for line in recover_project(ProjectStore(root)):
        if args.json:
            import json

            print(json.dumps({"event": "recovered", "message": line}, ensure_ascii=False))
        else:
            print(line)
    sys.stdout.flush()


def _interrupted_line() -> str:
    """What a Ctrl-C ended: a change or undo this process had finished is said, never hidden."""
    engine = sys.modules.get("app.edits.apply")
    finished = engine.finished_in_this_process() if engine is not None else []
    if not finished:
        return "interrupted; nothing was left half-written"
    return "interrupted after it had finished: " + "; ".join(finished)


def _log_internal_error(exc: BaseException) -> Path | None:
    import traceback

    try:
        log_dir = agent_home() / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        path = log_dir / "last-error.log"
        path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
        return path
    except (OSError, AgentError):  # the data root itself may be what is broken
        return None


class _GuardedOutput:
    """stdout, with a failed write or flush raised as :class:`OutputError`: a full device or a closed pipe
    is then told apart from every other OSError, and argparse (which swallows OSError when it prints the
    help) cannot hide it."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(text))
        except OSError as exc:
            raise OutputError(exc) from None

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise OutputError(exc) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _silence_stdout() -> None:
    """Point fd 1 at /dev/null: what is still buffered then goes nowhere, so the interpreter's own flush at
    exit cannot fail again and print "Exception ignored ..."."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.__stdout__.fileno() if sys.__stdout__ else 1)
    os.close(devnull)


def _output_failed(exc: OutputError) -> int:
    import errno

    _silence_stdout()
    if exc.cause.errno == errno.EPIPE:
        return EXIT_OK  # the reader went away (`ai --list-sessions | head`): not an error worth a line
    why = "the device is full" if exc.cause.errno == errno.ENOSPC else str(exc)
    print(
        f"ai: cannot write the output to stdout: {why}; send it to a file or device with room",
        file=sys.stderr,
    )
    return EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> NoReturn:
    if sys.stdout is None:  # started with stdout closed (`ai >&-`): like a reader that went away
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115  # stdout for the whole run
    # Not on a terminal only: the workspace owns a terminal's output, and a full device is never a terminal.
    if not sys.stdout.isatty():
        sys.stdout = _GuardedOutput(sys.stdout)
    # Every printer writes through the guarded streams: stored replies, the model's prose, goals and
    # repository text never reach the terminal with their controls raw (app/text/terminal.py). The
    # workspace takes the real streams back (unguarded_std_streams): Textual draws the terminal itself.
    with guarded_std_streams():
        code = _main(argv)
    sys.exit(code)


def _main(argv: Sequence[str] | None) -> int:
    try:
        try:
            code = run(argv)
        except SystemExit as exc:  # argparse's --help and --version: their text still has to reach stdout
            code = exc.code if isinstance(exc.code, int) else EXIT_OK if exc.code is None else EXIT_USAGE
        sys.stdout.flush()  # a full device shows here, not as "Exception ignored" at interpreter exit
    except OutputError as exc:
        code = _output_failed(exc)
    except AgentError as exc:
        print(f"ai: {safe_text(exc.message)}", file=sys.stderr)
        code = exc.exit_code
    except KeyboardInterrupt:
        print(f"ai: {_interrupted_line()}", file=sys.stderr)
        code = 130
    except BrokenPipeError:
        # The reader went away (`ai --list-sessions | head`) while stdout was a terminal's: not worth a line.
        _silence_stdout()
        code = EXIT_OK
    except Exception as exc:
        from app.errors import is_write_failure, write_failure

        if isinstance(exc, OSError) and is_write_failure(exc):
            # A write outside the store (backups, caches, the symbol index) on a full or read-only device.
            print(f"ai: {safe_text(write_failure(exc.filename or 'a file', exc))}", file=sys.stderr)
        else:
            log = _log_internal_error(exc)
            where = f"; details in {log}" if log else ""
            print(f"ai: internal error: {type(exc).__name__}: {safe_text(str(exc))}{where}", file=sys.stderr)
        code = EXIT_FAILED
    return code


__all__ = ["DEFAULT_SESSION", "EXIT_USAGE", "build_parser", "main", "run"]
