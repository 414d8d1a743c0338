"""How a run of ``ai`` ends: every outcome becomes its exit status (README.md "Commands") and, when it failed,
one clear line on stderr, never a bare traceback; and stdout guarded so that a full device or a closed pipe is
told apart from every other error."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, AgentError, OutputError
from app.paths import agent_home
from app.text.terminal import safe_text


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


class GuardedOutput:
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


def exit_status(run: Callable[[], int]) -> int:
    """Run a command to its exit status: its own, or the one of the error that ended it, said in one line."""
    try:
        try:
            code = run()
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
