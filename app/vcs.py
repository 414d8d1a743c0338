"""Git through dulwich: one commit per applied change, holding exactly the touched files.

The commit's tree is HEAD's tree with only the touched paths replaced, so the user's other staged and
unstaged work is never swept in. When a touched file had uncommitted edits of the user's, the commit holds
HEAD's version with only our hunks applied (when they apply), and the index entry of a touched path moves
only when it matched HEAD (or when our hunks apply to the staged version too). A commit that git cannot write
(a full disk, a read-only object store) leaves nothing behind: no lock file, HEAD where it was. dulwich is
imported here, lazily: ``ai --help`` never pays for it.
"""

from __future__ import annotations

import contextlib
import gc
import os
import stat
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.errors import AgentError


class GitError(AgentError):
    """The files were changed but git could not record the commit (git is busy, HEAD moved): said as a
    warning, the change stays."""


class GitWriteFailed(AgentError):
    """git could not write the commit (``reason``: e.g. "No space left on device"). Nothing of the attempt is
    left in the repository; the caller puts the files back."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"git could not write the commit: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class PathChange:
    path: str  # relative, forward slashes
    before: bytes | None  # the working-tree bytes before our change (None: absent)
    after: bytes | None  # after it (None: removed)


def open_repo(root: Path) -> Any | None:
    """The repository whose top level is ``root``, or None outside a repository."""
    if not (root / ".git").exists():
        return None
    from dulwich.errors import NotGitRepository
    from dulwich.repo import Repo

    try:
        return Repo(str(root))
    except NotGitRepository:
        return None


def head_commit(root: Path) -> str | None:
    repo = open_repo(root)
    if repo is None:
        return None
    try:
        return bytes(repo.refs[b"HEAD"]).decode()
    except KeyError:
        return None
    finally:
        repo.close()


def _patched(base: bytes, before: bytes, after: bytes) -> bytes | None:
    """``base`` with the before->after changes (zero context, placed by the pre-change content), or None when
    they touch lines where ``base`` and ``before`` differ."""
    from app.text.diffs import carry_changes
    from app.text.textfile import split_lines

    # latin-1 maps every byte to one character and back, so any encoding survives untouched.
    def lines(data: bytes) -> list[str]:
        return split_lines(data.decode("latin-1"))

    carried = carry_changes(lines(base), lines(before), lines(after))
    return None if carried is None else "".join(carried).encode("latin-1")


def _content_to_commit(
    head: bytes | None, before: bytes | None, after: bytes | None
) -> tuple[bytes | None, bool]:
    """What the commit holds for a path: HEAD's version with our change, given the working-tree bytes
    before and after it in their checked-in form; and whether the user's uncommitted edits went in too."""
    if head is None or before is None or after is None or head == before:
        return after, False
    patched = _patched(head, before, after)
    if patched is None:
        # Our change overlaps the user's uncommitted edits: the file goes in as it now is (said in a warning).
        return after, after != head
    return patched, False


def _checkin_filter(repo: Any) -> Any:
    """Bytes as git would store them (``.gitattributes`` eol/text, ``core.autocrlf``): a CRLF working file
    in a repository that stores LF is committed as LF, like ``git add`` would."""
    from dulwich.objects import Blob

    try:
        normalizer = repo.get_blob_normalizer()
    except Exception:
        return lambda data, key: data

    def clean(data: bytes | None, key: bytes) -> bytes | None:
        if data is None:
            return None
        try:
            return bytes(normalizer.checkin_normalize(Blob.from_string(data), key).data)
        except Exception:  # a filter we cannot run here (e.g. an external one): store the bytes as they are
            return data

    return clean


def _tree_entry(repo: Any, tree_id: bytes | None, path: bytes) -> tuple[int, bytes] | None:
    if tree_id is None:
        return None
    from dulwich.errors import NotTreeError
    from dulwich.objects import SubmoduleEncountered

    try:
        mode, sha = repo[tree_id].lookup_path(repo.object_store.__getitem__, path)
    except (KeyError, NotTreeError, SubmoduleEncountered):
        return None  # absent, under a file, or inside a submodule (see _inside_submodule)
    return int(mode), sha


def _inside_submodule(repo: Any, tree_id: bytes | None, path: bytes) -> bool:
    parts = path.split(b"/")
    for end in range(1, len(parts)):
        entry = _tree_entry(repo, tree_id, b"/".join(parts[:end]))
        if entry is None:
            return False
        if entry[0] == 0o160000:
            return True
    return False


def _file_mode(real: Path, previous: int | None) -> int:
    try:
        info: os.stat_result | None = os.lstat(real)  # a link is committed as a link, not as its target
    except OSError:
        info = None
    if info is not None and stat.S_ISLNK(info.st_mode):
        return 0o120000
    if info is None and previous == 0o120000:
        return previous
    return 0o100755 if info is not None and info.st_mode & 0o111 else 0o100644


def _working_bytes(real: Path) -> bytes:
    """A path's content as git sees it: a link's target, else the file's bytes."""
    if real.is_symlink():
        return os.fsencode(os.readlink(real))
    return real.read_bytes()


def _ignore_check(repo: Any) -> Any:
    from dulwich.ignore import IgnoreFilterManager

    try:
        manager = IgnoreFilterManager.from_repo(repo)
    except Exception:  # an unreadable ignore file: commit rather than lose track of the file
        return lambda path: False
    return lambda path: bool(manager.is_ignored(path))


def _identity(repo: Any, kind: str) -> bytes:
    from dulwich.repo import get_user_identity

    try:
        return bytes(get_user_identity(repo.get_config_stack(), kind))
    except Exception:  # no identity anywhere: a clear stand-in rather than no commit
        return b"ai <ai@localhost>"


def commit_paths(
    root: Path, changes: Sequence[PathChange], message: str, mixed_in: list[str] | None = None
) -> str | None:
    """Commit the given paths on top of HEAD (or as the first commit). Returns the commit id, or None
    outside a repository or when git sees nothing to commit. ``mixed_in`` receives the paths whose
    uncommitted edits of the user's had to go into the commit with ours (they touch the changed lines)."""
    repo = open_repo(root)
    if repo is None:
        return None
    locks = _LocksOfThisCommit()
    failure = ""
    with _quiet_unclosed_git_files():
        try:
            return _commit(repo, root, changes, message, [] if mixed_in is None else mixed_in, locks)
        except AgentError:
            raise
        except Exception as exc:  # whatever git could not write: said in one line, never a traceback
            failure = _reason(exc)
        finally:
            repo.close()
        # The failed write's file objects went with the exception: dulwich finalises them now, inside the
        # quiet block (their lock files stay when the final flush failed), and then ours are removed.
        gc.collect()
        locks.remove()
    raise GitWriteFailed(failure)


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}"


@contextlib.contextmanager
def _quiet_unclosed_git_files() -> Iterator[None]:
    """dulwich's ``_GitFile.__del__`` retries the flush that just failed and reports the second failure as an
    "Exception ignored" traceback on stderr: for a commit that already failed it says nothing new."""
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        if getattr(unraisable.object, "__qualname__", "") != "_GitFile.__del__":
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


@dataclass
class _LocksOfThisCommit:
    """Lock files a failed commit may leave: dulwich keeps ``X.lock`` when the final flush or the rename of X
    fails, and a stale lock breaks ``git fsck`` and every later write of X. Only a lock that did not exist
    before our attempt, and was not someone else's (dulwich says FileLocked then), is removed."""

    paths: list[str] = field(default_factory=list)

    def guarded(self, path: str, write: Callable[[], Any]) -> Any:
        from dulwich.file import FileLocked

        lock = path + ".lock"
        ours = not os.path.lexists(lock)
        try:
            return write()
        except FileLocked:
            raise
        except BaseException:
            if ours:
                self.paths.append(lock)
            raise

    def remove(self) -> None:
        for lock in self.paths:
            with contextlib.suppress(OSError):
                os.unlink(lock)


class _WatchedStore:
    """The object store as ``commit_tree_changes`` uses it, each new object's write guarded for its lock."""

    def __init__(self, store: Any, locks: _LocksOfThisCommit) -> None:
        self._store = store
        self._locks = locks

    def __getitem__(self, sha: bytes) -> Any:
        return self._store[sha]

    def add_object(self, obj: Any) -> None:
        hexsha = bytes(obj.id).decode("ascii")
        path = os.path.join(self._store.path, hexsha[:2], hexsha[2:])
        self._locks.guarded(path, lambda: self._store.add_object(obj))


def _commit(
    repo: Any,
    root: Path,
    changes: Sequence[PathChange],
    message: str,
    mixed_in: list[str],
    locks: _LocksOfThisCommit,
) -> str | None:
    from dulwich.index import ConflictedIndexEntry, IndexEntry, index_entry_from_stat
    from dulwich.object_store import commit_tree_changes
    from dulwich.objects import Blob, Commit, Tree

    store = _WatchedStore(repo.object_store, locks)
    if os.path.exists(repo.index_path() + ".lock"):
        # Another git command holds the index: committing now would leave HEAD and the index out of step.
        raise GitError("the files were changed but git is busy (.git/index.lock exists); commit them by hand")
    try:
        head: Any = repo.refs[b"HEAD"]
    except KeyError:
        head = None  # an unborn branch: this is the first commit
    head_tree: bytes | None = repo[head].tree if head else None
    index = repo.open_index()
    tree_changes: list[tuple[bytes, int | None, Any]] = []
    index_updates: dict[bytes, Any] = {}
    ignored = _ignore_check(repo)
    clean = _checkin_filter(repo)
    for change in changes:
        key = os.fsencode(change.path)
        real = root / change.path
        in_head = _tree_entry(repo, head_tree, key)
        if in_head is None and key not in index and ignored(change.path):
            continue  # an ignored, untracked file (build output, local settings) stays out of git
        if in_head is None and _inside_submodule(repo, head_tree, key):
            continue  # the submodule's own repository holds it; this one only records its commit
        head_bytes = repo[in_head[1]].data if in_head else None
        before, after = clean(change.before, key), clean(change.after, key)
        content, mixed = _content_to_commit(head_bytes, before, after)
        if mixed:
            mixed_in.append(change.path)
        blob_id: bytes | None = None
        mode: int | None = None
        if content is not None:
            blob = Blob.from_string(content)
            store.add_object(blob)
            blob_id, mode = blob.id, _file_mode(real, in_head[0] if in_head else None)
            tree_changes.append((key, mode, blob_id))
        elif in_head is not None:
            tree_changes.append((key, None, None))
        # The index entry follows only where it agreed with HEAD (or our hunks fit the staged version).
        entry = index[key] if key in index else None  # noqa: SIM401 (Index has no .get)
        if isinstance(entry, ConflictedIndexEntry):
            continue
        if entry is None:
            if in_head is None and blob_id is not None:
                index_updates[key] = (blob_id, mode, content)
            continue
        if in_head is not None and entry.sha == in_head[1]:
            index_updates[key] = (blob_id, mode, content) if blob_id is not None else None
            continue
        if before is not None and after is not None:
            staged = _patched(repo[entry.sha].data, before, after)
            if staged is not None:
                staged_blob = Blob.from_string(staged)
                store.add_object(staged_blob)
                index_updates[key] = (staged_blob.id, entry.mode, staged)
    if not tree_changes:
        return None
    base = repo[head_tree] if head_tree else Tree()
    new_tree = commit_tree_changes(store, base, tree_changes)  # type: ignore[arg-type]  # it reads and adds only
    if head_tree is not None and new_tree == head_tree:
        return None
    commit = Commit()
    commit.tree = new_tree
    commit.parents = [head] if head else []
    commit.author = _identity(repo, "AUTHOR")
    commit.committer = _identity(repo, "COMMITTER")
    stamp = int(time.time())
    offset = -time.altzone if time.localtime(stamp).tm_isdst > 0 else -time.timezone
    commit.author_time = commit.commit_time = stamp
    commit.author_timezone = commit.commit_timezone = offset
    commit.encoding = b"UTF-8"
    commit.message = message.encode("utf-8")
    store.add_object(commit)
    reflog = b"commit: " + message.split("\n", 1)[0].encode("utf-8")
    try:
        ref_names, _ = repo.refs.follow(b"HEAD")
        ref_path = os.fsdecode(repo.refs.refpath(ref_names[-1]))
    except (KeyError, IndexError, ValueError):
        ref_path = os.path.join(repo.controldir(), "HEAD")
    if head is None:
        moved = locks.guarded(ref_path, lambda: repo.refs.add_if_new(b"HEAD", commit.id, message=reflog))
    else:
        moved = locks.guarded(
            ref_path, lambda: repo.refs.set_if_equals(b"HEAD", head, commit.id, message=reflog)
        )
    if not moved:
        raise GitError("the files were changed but HEAD moved during the commit; commit them by hand")
    for key, update in index_updates.items():
        if update is None:
            if key in index:
                del index[key]
            continue
        sha, mode, content = update
        real = root / os.fsdecode(key)
        try:
            on_disk = clean(_working_bytes(real), key) == content
        except OSError:
            on_disk = False
        if on_disk:
            index[key] = index_entry_from_stat(os.lstat(real), sha, mode)
        else:
            # Zeroed stat data: git re-reads the file instead of trusting the entry.
            index[key] = IndexEntry(
                ctime=0, mtime=0, dev=0, ino=0, mode=mode, uid=0, gid=0, size=0, sha=sha, flags=0
            )
    # The cached trees (and untracked cache) would go stale: drop them, git rebuilds them.
    index._extensions = [e for e in index._extensions if e.signature not in (b"TREE", b"UNTR")]
    try:
        locks.guarded(repo.index_path(), index.write)
    except Exception:
        # HEAD goes back to where it was: a commit whose index was never written would show the change as
        # staged backwards, and the caller puts the files back as before.
        if head is None:
            locks.guarded(ref_path, lambda: repo.refs.remove_if_equals(b"HEAD", commit.id))
        else:
            locks.guarded(ref_path, lambda: repo.refs.set_if_equals(b"HEAD", commit.id, head))
        raise
    return bytes(commit.id).decode()


def find_commit(root: Path, trailer: str, since: str | None, limit: int = 200) -> str | None:
    """The commit on HEAD's first-parent line, newer than ``since``, whose message has the line ``trailer``
    (e.g. ``AI-Change: <id>``): a commit a killed ``ai`` made but never noted."""
    repo = open_repo(root)
    if repo is None:
        return None
    wanted = trailer.encode("utf-8")
    try:
        try:
            sha: bytes = repo.refs[b"HEAD"]
        except KeyError:
            return None
        for _ in range(limit):
            if since is not None and sha.decode() == since:
                return None
            commit = repo[sha]
            if wanted in commit.message.splitlines():
                return sha.decode()
            if not commit.parents:
                return None
            sha = commit.parents[0]
        return None
    finally:
        repo.close()


def commit_message(session: str, summary: str, trailers: dict[str, str]) -> str:
    from app.text.terminal import safe_text

    # The goal is the subject: `git log` shows it on a terminal, and a newline would split the subject.
    lines = [f"ai({session}): {safe_text(summary)}", ""]
    lines.extend(f"{key}: {value}" for key, value in trailers.items())
    return "\n".join(lines) + "\n"
