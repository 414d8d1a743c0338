"""The project's files and the one rule for which of them the user's ignore files leave out.

Inside a git work tree git answers: ``git ls-files`` lists tracked plus untracked-not-ignored files and
``git check-ignore`` judges a path, so nested ``.gitignore`` files, ``.git/info/exclude`` and the global excludes
all count. Outside git (or with no ``git`` binary) :class:`Gitignore` applies the same files itself: every
``.gitignore`` from the root down to a path's folder (the deepest one with an opinion wins, a path under an
ignored folder is ignored) and the user's global excludes file. The walk and the path check share it, so a
listing and a later "is this ignored" never disagree.

Everything here is about the user's ignore files only; which files are worth reading (binaries, vendored trees)
is the caller's filter (``app.context.inventory``), what is never copied or watched the callers' own.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.errors import UsageError

# Never part of a project's files, whatever the ignore files say.
VCS_DIRS = frozenset({".git", ".hg", ".svn"})
# Called as (files listed so far, 0) while a directory walk lists files: a face shows progress with it.
WalkProgress = Callable[[int, int], None]
WALK_PROGRESS_EVERY = 2000


class TooManyFiles(UsageError):
    pass


def inside_git(root: Path) -> bool:
    """Whether ``root`` lies in a git work tree (a ``.git`` in it or in a folder above) and git is installed."""
    if shutil.which("git") is None:
        return False
    return any((candidate / ".git").exists() for candidate in (root, *root.resolve().parents))


def utf8_path(raw: bytes) -> str | None:
    """A path that is not UTF-8 cannot be stored or shown as text: such rare files are left out."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


# -- git -------------------------------------------------------------------------------------------------


def git_listing(root: Path, *, keep_undecodable: bool = False) -> Iterator[str] | None:
    """Tracked plus untracked-not-ignored files (each once, tracked first), or None when this is not a work
    tree git can read. Tracked files deleted from the work tree are still listed.

    Two `git ls-files` run side by side: the tracked list comes from git's index in a fraction of a second,
    while the untracked one walks every directory (seconds at 100k files), so the caller can stat the tracked
    files while git is still walking. ``keep_undecodable``: a name that is not UTF-8 is kept (decoded with
    surrogate escapes, for a caller that copies files by name) instead of left out.
    """
    if not inside_git(root):
        return None
    git = shutil.which("git")
    assert git is not None
    base = [git, "-c", "core.quotepath=off", "ls-files", "-z"]
    try:
        untracked = subprocess.Popen(
            [*base, "-o", "--exclude-standard"], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
    except OSError:
        return None
    try:
        tracked = subprocess.run([*base, "-c"], cwd=root, capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        untracked.kill()
        untracked.wait()
        return None
    if tracked.returncode != 0:
        untracked.kill()
        untracked.wait()
        return None
    decode = _escaped if keep_undecodable else utf8_path
    return _git_paths(tracked.stdout, untracked, decode)


def _escaped(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _git_paths(
    tracked: bytes, untracked: subprocess.Popen[bytes], decode: Callable[[bytes], str | None]
) -> Iterator[str]:
    seen: set[bytes] = set()
    for raw in tracked.split(b"\0"):
        # Unmerged paths are listed once per stage: yield each path once.
        if raw and raw not in seen:
            seen.add(raw)
            path = decode(raw)
            if path is not None:
                yield path
    out, _ = untracked.communicate()
    if untracked.returncode == 0:
        for raw in out.split(b"\0"):
            if raw and raw not in seen:
                path = decode(raw)
                if path is not None:
                    yield path


def git_ignored(root: Path, relpaths: list[str]) -> set[str] | None:
    """The subset of ``relpaths`` git ignores (``git check-ignore``), or None when git cannot tell."""
    git = shutil.which("git")
    if git is None:
        return None
    if not relpaths:
        return set()
    try:
        result = subprocess.run(
            [git, "-C", str(root), "check-ignore", "--stdin", "-z"],
            input=("\0".join(relpaths) + "\0").encode(),
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    # Exit status 1 means "none ignored"; 128 is a fatal error (git cannot tell).
    if result.returncode not in (0, 1):
        return None
    return {p for p in result.stdout.decode(errors="replace").split("\0") if p}


# -- .gitignore files, read by ai itself -----------------------------------------------------------------


class _IgnoreRules:
    """The patterns of one .gitignore file, compiled; `match` answers None when no pattern decides."""

    def __init__(self, base: str, lines: Iterable[str]) -> None:
        self.base = base  # the directory of the .gitignore, relative to the root ("" for the root)
        self.rules: list[tuple[re.Pattern[str], bool, bool]] = []  # (regex, negated, directory only)
        for line in lines:
            compiled = _compile_ignore_line(line)
            if compiled is not None:
                self.rules.append(compiled)

    def match(self, relpath: str, is_dir: bool) -> bool | None:
        if self.base:
            if not relpath.startswith(self.base + "/"):
                return None
            relpath = relpath[len(self.base) + 1 :]
        decision: bool | None = None
        for regex, negated, dir_only in self.rules:
            if dir_only and not is_dir:
                continue
            if regex.match(relpath):
                decision = not negated
        return decision


def _compile_ignore_line(line: str) -> tuple[re.Pattern[str], bool, bool] | None:
    line = line.rstrip("\n").rstrip("\r")
    if not line or line.startswith("#"):
        return None
    # Trailing spaces are ignored unless escaped.
    while line.endswith(" ") and not line.endswith("\\ "):
        line = line[:-1]
    negated = line.startswith("!")
    if negated:
        line = line[1:]
    if line.startswith("\\"):
        line = line[1:]
    dir_only = line.endswith("/")
    line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    line = line.lstrip("/")
    body = _glob_to_regex(line)
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(f"^{prefix}{body}$", re.DOTALL), negated, dir_only


def _glob_to_regex(glob: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(glob):
        ch = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("/**", i) and i + 3 == len(glob):
            out.append("/.*")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif ch == "*":
            out.append("[^/]*")
            i += 1
        elif ch == "?":
            out.append("[^/]")
            i += 1
        elif ch == "[":
            end = glob.find("]", i + 1)
            if end == -1:
                out.append(re.escape(ch))
                i += 1
            else:
                inner = glob[i + 1 : end]
                if inner.startswith("!"):
                    inner = "^" + inner[1:]
                out.append(f"[{inner}]")
                i = end + 1
        elif ch == "\\" and i + 1 < len(glob):
            out.append(re.escape(glob[i + 1]))
            i += 2
        else:
            out.append(re.escape(ch))
            i += 1
    return "".join(out)


def _read_ignore(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.readlines()
    except OSError:
        return []


@lru_cache(maxsize=1)
def _global_excludes() -> tuple[str, ...]:
    # Users keep editor and OS litter in their global excludes file; honour the default location.
    config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return tuple(_read_ignore(os.path.join(config_home, "git", "ignore")))


class Gitignore:
    """The ignore files under ``root`` as git would apply them, read once per folder and kept."""

    def __init__(self, root: Path) -> None:
        self.root = str(root)
        self._base = _IgnoreRules("", [".git/", *_global_excludes()])
        self._stacks: dict[str, tuple[_IgnoreRules, ...]] = {}

    def _stack(self, folder: str) -> tuple[_IgnoreRules, ...]:
        """The rules in force in ``folder`` (relative, "" for the root): its own .gitignore last."""
        known = self._stacks.get(folder)
        if known is not None:
            return known
        parent = self._stack(folder.rsplit("/", 1)[0] if "/" in folder else "") if folder else (self._base,)
        ignore_file = (
            os.path.join(self.root, folder, ".gitignore") if folder else os.path.join(self.root, ".gitignore")
        )
        stack = (
            (*parent, _IgnoreRules(folder, _read_ignore(ignore_file)))
            if os.path.isfile(ignore_file)
            else parent
        )
        self._stacks[folder] = stack
        return stack

    def decides(self, relpath: str, is_dir: bool) -> bool:
        """Whether ``relpath`` itself is ignored, its folders taken as not ignored (a walk that got there)."""
        folder = relpath.rsplit("/", 1)[0] if "/" in relpath else ""
        # The deepest .gitignore that has an opinion wins, as in git.
        for rules in reversed(self._stack(folder)):
            decision = rules.match(relpath, is_dir)
            if decision is not None:
                return decision
        return False

    def ignored(self, relpath: str, is_dir: bool = False) -> bool:
        """Whether ``relpath`` is ignored: by a pattern of its own or because a folder above it is."""
        parts = relpath.split("/")
        for depth in range(1, len(parts)):
            if self.decides("/".join(parts[:depth]), True):
                return True
        return self.decides(relpath, is_dir)


class IgnoreRule:
    """The one "is this path ignored" rule for ``root``: git's answer in a work tree, else :class:`Gitignore`
    (also when git fails, rather than ignore nothing). Make a new one when an ignore file changes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.git = inside_git(root)
        self._rules = Gitignore(root)

    def ignored(self, relpaths: Iterable[str]) -> set[str]:
        """The subset of ``relpaths`` (relative, forward slashes) the user's ignore files leave out."""
        paths = sorted(set(relpaths))
        if self.git:
            found = git_ignored(self.root, paths)
            if found is not None:
                return found
        return {p for p in paths if self._rules.ignored(p)}


# -- the walk ----------------------------------------------------------------------------------------------


def walk_listing(
    root: Path,
    *,
    skip_dir: Callable[[str], bool] = lambda name: False,
    links: bool = False,
    progress: WalkProgress | None = None,
    limit: int | None = None,
    stop_after: int | None = None,
) -> list[str]:
    """The files under ``root`` that its ignore files do not leave out, sorted by folder then name, without
    VCS folders and folders whose name ``skip_dir`` refuses. ``links``: symbolic links (to files or folders)
    are listed and not followed, else left out. ``limit``: more files than this is :class:`TooManyFiles`;
    ``stop_after``: the walk ends quietly once it has listed that many (a sample is enough)."""
    walk = _Walk(str(root), Gitignore(root), skip_dir, links, progress, limit, stop_after)
    try:
        walk.folder("")
    except _Enough:
        pass
    return walk.found


class _Enough(Exception):
    pass


@dataclass
class _Walk:
    root: str
    rules: Gitignore
    skip_dir: Callable[[str], bool]
    links: bool
    progress: WalkProgress | None
    limit: int | None
    stop_after: int | None
    found: list[str] = field(default_factory=list)

    def folder(self, rel: str) -> None:
        directory = os.path.join(self.root, rel) if rel else self.root
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            relpath = f"{rel}/{entry.name}" if rel else entry.name
            if utf8_path(os.fsencode(entry.name)) is None:
                continue
            if entry.is_symlink():
                # git judges a link as a file, whatever it points to.
                if self.links and not self.rules.decides(relpath, False):
                    self.add(relpath)
                continue
            if entry.is_dir(follow_symlinks=False):
                skipped = entry.name in VCS_DIRS or self.skip_dir(entry.name)
                if not skipped and not self.rules.decides(relpath, True):
                    self.folder(relpath)
            elif entry.is_file(follow_symlinks=False) and not self.rules.decides(relpath, False):
                self.add(relpath)

    def add(self, relpath: str) -> None:
        found = self.found
        found.append(relpath)
        if self.progress is not None and len(found) % WALK_PROGRESS_EVERY == 0:
            self.progress(len(found), 0)
        if self.limit is not None and len(found) > self.limit:
            raise TooManyFiles(
                f"{self.root} holds more than {self.limit:,} files outside any git repository: run `ai` "
                "inside a project (or `git init` it so .gitignore can leave out what is not code)"
            )
        if self.stop_after is not None and len(found) >= self.stop_after:
            raise _Enough


def list_files(root: Path, *, keep_undecodable: bool = False, **walk: Any) -> list[str]:
    """Every file of the project by the one rule, sorted: git's listing in a work tree (``keep_undecodable``:
    see :func:`git_listing`), else :func:`walk_listing` with ``walk``'s options."""
    listed = git_listing(root, keep_undecodable=keep_undecodable)
    return sorted(set(listed)) if listed is not None else sorted(walk_listing(root, **walk))
