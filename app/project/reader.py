"""The one guarded reader: every file whose content goes to the model is read here, whoever names it (the goal,
a READ block, a failure's stack frame, the index), so one place decides what may leave the machine.

``read_for_model`` refuses, with a reason the model or the user is told:
- a path that leaves the project root (``..``, absolute, or through a symlink anywhere along it) or goes into
  ``.git``: the guard the edits pass too (app/project/guard.py);
- a secrets file (app/project/secrets.py), a link inside the project that leads to one, and a file that holds
  a private key: unless the user named that file, or turned ``send_secrets`` on;
- a folder, a missing file, a binary file, a file over MAX_READ_BYTES.

``LineGuard`` answers the same question for search hits and snippets, where only lines of a file are shown.
"""

from __future__ import annotations

import stat
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from app.project.guard import OutsideProject, real_root, resolve_in_root
from app.project.secrets import holds_private_key, is_secret

MAX_READ_BYTES = 2_000_000  # the edit engine's limit too: a file it could not edit is not worth the tokens
SNIFF_BYTES = 8192  # a NUL byte in these is binary, as git decides
WHEN_NAMED = "sent only when the user names it or send_secrets is on"


class ReadRefused(Exception):
    """``path`` (as asked) is not sent; ``reason`` says why, in words for the model and the user."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class FileRead:
    path: str  # as asked, with forward slashes and without a leading ./
    real_path: str  # the file itself, relative to the root: differs when an in-project link was followed
    text: str
    raw: bytes


def normalize(path: str) -> str:
    """A path as the model or the goal wrote it, in the form the session and the prompts use."""
    text = path.strip().replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    return text


def locate(root: Path, path: str) -> tuple[str, str, Path]:
    """``(as asked, real relative path, real absolute path)`` of a file inside the root, or ReadRefused for a
    path that leaves it or goes into .git."""
    asked = normalize(path)
    try:
        relative, real = resolve_in_root(real_root(root), asked)
    except OutsideProject as exc:
        raise ReadRefused(asked, exc.reason) from None
    return asked, relative, real


def secret_refusal(asked: str, relative: str, allowed: Collection[str], send_secrets: bool) -> str | None:
    """Why a secrets file is not sent, or None. A name the user gave for a secret is their choice; a harmless
    name that leads to a secret through a link is not: the user has to name the secret itself."""
    if send_secrets:
        return None
    if is_secret(asked):
        return None if asked in allowed else f"a secrets file, {WHEN_NAMED}"
    if relative != asked and is_secret(relative) and relative not in allowed:
        return f"leads to the secrets file {relative}, {WHEN_NAMED}"
    return None


def read_for_model(
    root: Path, path: str, *, named: Collection[str] = (), send_secrets: bool = False
) -> FileRead:
    """The text of ``path`` (relative to ``root``) to send to the model, or ReadRefused. ``named``: the paths
    the user named explicitly (the only secrets files sent without ``send_secrets``)."""
    asked, relative, real = locate(root, path)
    refusal = secret_refusal(asked, relative, named, send_secrets)
    if refusal is not None:
        raise ReadRefused(asked, refusal)
    try:
        info = real.stat()
    except OSError:
        raise ReadRefused(asked, "no such file in the project") from None
    if stat.S_ISDIR(info.st_mode):
        raise ReadRefused(asked, "a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise ReadRefused(asked, "not a regular file")
    if info.st_size > MAX_READ_BYTES:
        raise ReadRefused(asked, f"over {MAX_READ_BYTES // 1_000_000} MB, too large to send")
    try:
        raw = real.read_bytes()
    except OSError as exc:
        raise ReadRefused(asked, f"cannot be read ({exc.strerror})") from None
    if b"\0" in raw[:SNIFF_BYTES]:
        raise ReadRefused(asked, "a binary file")
    if not send_secrets and asked not in named and relative not in named and holds_private_key(raw):
        raise ReadRefused(asked, f"holds a private key, {WHEN_NAMED}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return FileRead(asked, relative, text, raw)


class LineGuard:
    """Whether lines of a project file may be shown or sent (search hits, snippets, the repo map): the reader's
    rules, each file judged once. ``indexed`` files passed the index's content check already (no private key,
    not binary), so only their path is checked again: a file may have become a link since it was indexed."""

    def __init__(self, root: Path) -> None:
        self.root = real_root(root)
        self._judged: dict[tuple[str, bool], bool] = {}

    def allows(self, path: str, *, indexed: bool = False) -> bool:
        key = (path, indexed)
        verdict = self._judged.get(key)
        if verdict is None:
            verdict = self._judged[key] = self._judge(path, indexed)
        return verdict

    def _judge(self, path: str, indexed: bool) -> bool:
        try:
            if indexed:
                asked, relative, _real = locate(self.root, path)
                return secret_refusal(asked, relative, (), False) is None
            read_for_model(self.root, path)
        except ReadRefused:
            return False
        return True
