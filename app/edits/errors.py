"""The edit engine's errors: a rejected answer (exit 1); data protection uses :class:`RefusedError` (exit 3)."""

from __future__ import annotations

from app.errors import EXIT_FAILED, AgentError, RefusedError


class EditError(AgentError):
    """The model's edit cannot be applied as written: no unique anchor, a path outside the project, a binary
    or oversized file. The whole answer is rejected; the message names the block, the file and what was found."""

    exit_code = EXIT_FAILED


__all__ = ["EditError", "RefusedError"]
