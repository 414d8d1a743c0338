"""Errors that reach the user as one clear line, each with its exit status (README.md "Commands")."""

from __future__ import annotations

import errno
import os

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3


class AgentError(Exception):
    """A failure the user can act on: ``str(error)`` is the one line shown, ``exit_code`` the status."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(AgentError):
    """Bad flag, bad session name, unknown session (exit 2)."""

    exit_code = EXIT_USAGE


class TaskFailed(AgentError):
    """Model unreachable, no valid edit, tests still failing (exit 1)."""

    exit_code = EXIT_FAILED


class RefusedError(AgentError):
    """Refused to protect data: undo conflict, file changed since preview (exit 3)."""

    exit_code = EXIT_REFUSED


class EditError(AgentError):
    """The model's edit cannot be applied as written: no unique anchor, a path outside the project, a binary
    or oversized file. The whole answer is rejected; the message names the block, the file and what was found."""

    exit_code = EXIT_FAILED


class StoreCorruptError(AgentError):
    """A stored file did not parse. It was moved aside (``kept_at``), never overwritten."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, path: str, kept_at: str | None) -> None:
        super().__init__(message)
        self.path = path
        self.kept_at = kept_at


class StorageError(AgentError):
    """ai could not write under its data root or to a file the user named (device full, read-only, not a
    folder): exit 1, the task failed. Every such write is atomic, so what was there before is still whole."""

    exit_code = EXIT_FAILED


class OutputError(Exception):
    """Writing to stdout failed (a full device, a closed pipe). Not an OSError, so code that catches
    OSError around a print (argparse does) cannot hide it; ``cli.main`` turns it into one line or a quiet
    exit."""

    def __init__(self, cause: OSError) -> None:
        super().__init__(cause.strerror or str(cause))
        self.cause = cause


_WHY = {
    errno.ENOSPC: ("the device is full", "free some space there"),
    errno.EDQUOT: ("the disk quota is used up", "free some space there"),
    errno.EROFS: ("it is on a read-only file system", "make it writable"),
    errno.EACCES: ("permission denied", "fix the folder's permissions"),
    errno.EPERM: ("permission denied", "fix the folder's permissions"),
    errno.ENOTDIR: ("a part of that path is a file, not a folder", "move that file away"),
    errno.EEXIST: ("a part of that path is a file, not a folder", "move that file away"),
}


_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS}


def is_write_failure(exc: OSError) -> bool:
    """A device that is full or read-only: the environment, never a bug worth a traceback."""
    return exc.errno in _WRITE_ERRNOS


def write_failure(
    path: os.PathLike[str] | str, exc: OSError, home: os.PathLike[str] | str | None = None
) -> str:
    """One line for a failed write: what, where, why, and what to do. ``home`` is the data root when the
    path lies under it, so the line can offer the other way out (another AI_AGENT_HOME)."""
    why, todo = _WHY.get(exc.errno or 0, (exc.strerror or type(exc).__name__, "check that folder"))
    where = os.fspath(path)
    if home is not None:
        todo += f", or point AI_AGENT_HOME at another folder (ai keeps its data in {os.fspath(home)})"
    return f"cannot write {where}: {why}; nothing was half-written: {todo}"
