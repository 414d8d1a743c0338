"""Errors that reach the user as one clear line, each with the exit status of PROTOCOL.md section 1."""

from __future__ import annotations

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


class StoreCorruptError(AgentError):
    """A stored file did not parse. It was moved aside (``kept_at``), never overwritten."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, path: str, kept_at: str | None) -> None:
        super().__init__(message)
        self.path = path
        self.kept_at = kept_at
