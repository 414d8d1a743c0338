"""The git side of a change or an undo: committing the written files, and how that ended (``Committed``), in
words for the one-line messages of app/edits/apply.py, app/edits/undo.py and app/edits/recovery.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.edits.transaction import FileWrite
from app.errors import AgentError


@dataclass(frozen=True)
class Committed:
    """How the git side of a change ended."""

    commit: str | None
    warning: str | None = None  # git could not take it now (busy, HEAD moved): the change stays, uncommitted
    note: str | None = None  # the user's uncommitted edits that had to go into the commit too
    none_because: str | None = None  # why there is no commit when nothing failed

    def fields(self) -> dict[str, Any]:
        """What a change record (or undo entry) keeps of it."""
        extra: dict[str, Any] = {"commit": self.commit}
        for key, value in (
            ("warning", self.warning),
            ("commit_note", self.note),
            ("no_commit", self.none_because),
        ):
            if value:
                extra[key] = value
        return extra


def commit_writes(root: Path, writes: Sequence[FileWrite], message: str, use_git: bool) -> Committed:
    """Commit the written files. git being busy is a warning (the change stays, uncommitted); a commit git
    cannot write at all raises GitWriteFailed, and the caller puts the files back."""
    if not use_git:
        return Committed(None, none_because="--no-git")
    if not (root / ".git").exists():
        return Committed(None, none_because="not a git repository")
    from app.vcs import GitError, PathChange, commit_paths

    mixed_in: list[str] = []
    try:
        commit = commit_paths(root, [PathChange(w.path, w.old, w.new) for w in writes], message, mixed_in)
    except GitError as exc:
        return Committed(None, warning=exc.message)
    if commit is None:
        return Committed(None, none_because="git already has the files as they are now")
    note = None
    if mixed_in:
        note = (
            f"your uncommitted edits in {', '.join(mixed_in)} touch the changed lines, so they went into "
            f"commit {commit[:12]} too"
        )
    return Committed(commit, note=note)


def describe_commit(result: Committed) -> str:
    if result.commit:
        return f"committed as {result.commit[:12]}"
    if result.warning:
        return f"not committed: {result.warning}"
    return f"not committed ({result.none_because})"


def failure_reason(exc: BaseException) -> str:
    """An exception in words for a one-line message."""
    if isinstance(exc, AgentError):
        return exc.message
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}"


def short_list(paths: Sequence[str], shown: int = 3) -> str:
    """Paths for a one-line message: the first few, then how many more."""
    head = ", ".join(paths[:shown])
    return head + (f" and {len(paths) - shown} more" if len(paths) > shown else "")
