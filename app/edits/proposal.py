"""An answer's blocks applied in memory: every file's new content, its diff and hunks, nothing on disk yet.

The whole answer is one transaction: a block that does not fit (no unique anchor, a path outside the root,
a binary file) rejects all of it. The caller may keep a subset of hunks or edit the result; both give a new,
re-validated :class:`Proposal`.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from app.errors import EditError, RefusedError
from app.project.guard import link_in_root, real_root, resolve_in_root
from app.project.secrets import holds_private_key, is_secret
from app.text.diffs import Hunk, HunkConflict, apply_hunks, compute_hunks, unified_diff
from app.text.editblocks import EditBlock
from app.text.matching import AnchorAmbiguous, AnchorMatch, AnchorNotFound, find_anchor, first_difference
from app.text.textfile import (
    FileText,
    body,
    content_hash,
    decode_bytes,
    encode_text,
    fix_line_endings,
    split_lines,
)

_NEW_FILE_FORM = FileText("")


@dataclass(frozen=True)
class FileChange:
    path: str  # relative to the project root, forward slashes, symlinks resolved
    old_text: str | None  # None: the file is new
    new_text: str | None  # None: the file is removed
    diff: str
    hunks: list[Hunk]
    old_hash: str | None = None  # of the bytes the proposal was built on (None: no file)
    form: FileText = _NEW_FILE_FORM  # encoding, BOM, line endings of the file
    mode: int | None = None  # permission bits of the existing file
    notes: tuple[str, ...] = ()
    link: bool = False  # the removal of a symlink itself; ``old_hash`` is of its target

    @property
    def action(self) -> str:
        if self.old_text is None:
            return "create"
        return "remove" if self.new_text is None else "modify"

    def new_bytes(self) -> bytes | None:
        if self.new_text is None:
            return None
        return encode_text(self.new_text, self.form, self.path)


def make_change(
    path: str,
    old_text: str | None,
    new_text: str | None,
    *,
    old_hash: str | None = None,
    form: FileText = _NEW_FILE_FORM,
    mode: int | None = None,
    notes: tuple[str, ...] = (),
) -> FileChange:
    hunks = compute_hunks(split_lines(old_text or ""), split_lines(new_text or ""))
    diff = unified_diff(path, hunks, created=old_text is None, removed=new_text is None)
    return FileChange(path, old_text, new_text, diff, hunks, old_hash, form, mode, notes)


@dataclass(frozen=True)
class Proposal:
    root: Path
    files: list[FileChange]
    notes: tuple[str, ...] = field(default=())

    def diffs(self) -> dict[str, str]:
        return {f.path: f.diff for f in self.files}

    def hunk_counts(self) -> dict[str, int]:
        return {f.path: len(f.hunks) for f in self.files}

    def diff_text(self) -> str:
        return "".join(f.diff if f.diff.endswith("\n") or not f.diff else f.diff + "\n" for f in self.files)

    def file(self, path: str) -> FileChange:
        for change in self.files:
            if change.path == path:
                return change
        raise EditError(f"{path} is not part of this change")

    def select(self, hunks: Mapping[str, Sequence[int]]) -> Proposal:
        """Keep only the named hunk indexes per file; files not named keep all, a file mapped to [] is
        dropped. The result is recomputed and validated."""
        unknown = set(hunks) - {f.path for f in self.files}
        if unknown:
            raise EditError(f"{sorted(unknown)[0]} is not part of this change")
        kept: list[FileChange] = []
        for change in self.files:
            if change.path not in hunks:
                kept.append(change)
                continue
            wanted = sorted(set(hunks[change.path]))
            bad = [i for i in wanted if not 0 <= i < len(change.hunks)]
            if bad:
                raise EditError(f"{change.path} has no hunk {bad[0] + 1} (it has {len(change.hunks)})")
            if not wanted:
                continue
            if len(wanted) == len(change.hunks) or change.action != "modify":
                kept.append(change)
                continue
            chosen = [h for h in change.hunks if h.index in wanted]
            assert change.old_text is not None
            old_lines = split_lines(change.old_text)
            new_text = "".join(apply_hunks(old_lines, chosen, recorded=old_lines))
            if new_text != change.old_text:
                kept.append(_rebuilt(change, new_text))
        return self._validated(kept)

    def with_edited(self, contents: Mapping[str, str]) -> Proposal:
        """The user edited the result of some files: their new content replaces the proposed one."""
        files = list(self.files)
        for path, text in contents.items():
            position = next((i for i, f in enumerate(files) if f.path == path), None)
            if position is None:
                raise EditError(f"{path} is not part of this change")
            change = files[position]
            if change.link:
                raise EditError(f"{path} is the removal of a symlink: there is no text to edit")
            if change.form.eol == "\r\n" and "\r\n" not in text:
                text = text.replace("\n", "\r\n")
            files[position] = _rebuilt(change, text)
        return self._validated([f for f in files if f.old_text != f.new_text])

    def _validated(self, files: list[FileChange]) -> Proposal:
        for change in files:
            change.new_bytes()  # raises EditError when the encoding cannot hold the new text
        return replace(self, files=files)


def _rebuilt(change: FileChange, new_text: str | None) -> FileChange:
    return make_change(
        change.path,
        change.old_text,
        new_text,
        old_hash=change.old_hash,
        form=change.form,
        mode=change.mode,
        notes=change.notes,
    )


@dataclass
class _Working:
    """One file while the blocks of an answer are applied to it in memory."""

    path: str
    real: Path
    raw: bytes | None
    form: FileText
    mode: int | None
    lines: list[str] | None  # None: the file does not exist (now)
    notes: list[str] = field(default_factory=list)
    # Why the file cannot be edited as text (binary, too large, an encoding we cannot round-trip): it may
    # still be removed whole, its bytes backed up like any removed file's.
    unreadable: str | None = None
    link: bool = False  # a symlink named by a REMOVE block: ``raw`` is its target
    # The blocks apply to the file as the model was shown it (``raw``), which is no longer what is on disk:
    # the result is carried onto ``on_disk`` (None: deleted since) by the hunk placement rule.
    shown_only: bool = False
    on_disk: bytes | None = None

    @property
    def original_text(self) -> str | None:
        return None if self.raw is None else self.form.text


def _load(path: str, real: Path, what: str, *, removing: bool = False) -> _Working:
    try:
        info = real.stat()
        if stat.S_ISDIR(info.st_mode):
            raise EditError(f"{what}: {path} is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            # A pipe or device would block the read or never end: not something to edit.
            raise EditError(f"{what}: {path} is not a regular file; ai edits text files only")
        raw = real.read_bytes()
        mode = info.st_mode & 0o7777
    except (FileNotFoundError, NotADirectoryError):
        return _Working(path, real, None, _NEW_FILE_FORM, None, None)
    except OSError as exc:
        raise EditError(f"{what}: cannot read {path}: {exc.strerror}") from None
    try:
        form = decode_bytes(raw, path)
    except EditError as exc:
        if removing:
            return _Working(path, real, raw, _NEW_FILE_FORM, mode, [], unreadable=exc.message)
        raise EditError(f"{what}: {exc.message}") from None
    return _Working(path, real, raw, form, mode, split_lines(form.text))


def _as_shown(state: _Working, shown: bytes) -> _Working:
    """The file as the model was shown it, when that is not what is on disk now (and is text)."""
    if state.raw == shown:
        return state
    try:
        form = decode_bytes(shown, state.path)
    except EditError:
        return state  # not text as the engine reads it: the blocks go by the file as it is now
    lines = split_lines(form.text)
    return _Working(
        state.path, state.real, shown, form, state.mode, lines, shown_only=True, on_disk=state.raw
    )


def _model_lines(text: str) -> list[str]:
    """The block's text as line bodies (the parser gives ``\\n``-terminated lines)."""
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


_FENCE_RE = re.compile(r"^\s*(```|~~~)[\w+.-]*\s*$")
_PROSE_SUFFIXES = (".md", ".markdown", ".mdx", ".rst", ".txt", ".adoc")


def _unfenced(lines: list[str]) -> list[str] | None:
    """The lines inside a code fence the model wrapped around a whole anchor or content, or None."""
    if len(lines) >= 2 and _FENCE_RE.match(lines[0]) and _FENCE_RE.match(lines[-1]):
        return lines[1:-1]
    return None


def _find(bodies: list[str], anchor: list[str], content: list[str]) -> tuple[AnchorMatch, list[str]]:
    """The anchor's place and the new lines; a fence the model put around both (and which the file does not
    have) is dropped rather than failing the block."""
    try:
        return find_anchor(bodies, anchor), content
    except AnchorNotFound:
        inner = _unfenced(anchor)
        if inner is None or any(_FENCE_RE.match(line) for line in bodies):
            raise
        return find_anchor(bodies, inner), _unfenced(content) or content


_ANCHOR_HINTS = {
    "REPLACE": "copy the lines to replace above =======",
    "INSERT AFTER": "copy the lines to insert after above =======",
    "INSERT BEFORE": "copy the lines to insert before above =======",
    "DELETE": "copy the lines to delete into the block",
}


def _check_anchor_given(bodies: list[str], block: EditBlock, what: str) -> None:
    """An empty anchor fits only an empty file; elsewhere it is a slip of the model, said as such (not as an
    anchor that was not found)."""
    if block.anchor or not any(line.strip() for line in bodies):
        return
    number = what.split(" ", 2)[1]
    raise EditError(
        f"block {number} has an empty anchor ({block.kind} {block.path}): {_ANCHOR_HINTS[block.kind]}"
    )


def _chosen_split(bodies: list[str], block: EditBlock, what: str, path: str) -> EditBlock:
    """A body with several `=======` lines: the split whose anchor occurs in the file as it stands, else the
    block is malformed. Never a guess. A split at an earlier `=======` whose (shorter) anchor fits at the very
    place where a later split's anchor fits is the same evidence, not a rival: the file itself shows that
    earlier `=======` line as part of the anchor (a merge conflict or a reST underline being edited). Anchors
    that fit at different places, or at none, reject the block."""
    blank_file = not any(line.strip() for line in bodies)
    unique: list[tuple[int, AnchorMatch, str, str]] = []  # (split number, match, anchor, content)
    ambiguous: list[int] = []
    for number, (anchor, content) in enumerate(block.splits()):
        if not anchor.strip() and not blank_file:
            continue  # a blank anchor is no evidence for a split (it fits only an empty file)
        try:
            match, _ = _find(bodies, _model_lines(anchor), _model_lines(content))
        except AnchorNotFound:
            continue
        except AnchorAmbiguous:
            ambiguous.append(number)
            continue
        unique.append((number, match, anchor, content))
    if unique:
        number, match, anchor, content = unique[-1]  # the longest anchor that fits exactly once
        same_place = all(m.start == match.start for _, m, _, _ in unique)
        if same_place and all(other < number for other in ambiguous):
            return replace(block, anchor=anchor, content=content, separators=())
    lines = block.separator_lines()
    named = ", ".join(str(n) for n in lines[:-1]) + f" and {lines[-1]}"
    if not unique and not ambiguous:
        found = f"the anchor above none of them is found in {path}"
    else:
        found = f"the anchors above them fit {path} at more than one place"
    raise EditError(
        f"{what} is malformed: it has {len(lines)} `=======` lines (lines {named} of the answer) and "
        f"{found}, so which one separates the anchor from the new lines would be a guess; start and end the "
        "anchor on ordinary lines copied from the file, not on `=======` or conflict-marker lines"
    )


def _changed_since_read(state: _Working, read_hashes: Mapping[str, str] | None) -> bool:
    if not read_hashes or state.path not in read_hashes or state.raw is None:
        return False
    known = read_hashes[state.path]
    return known not in (content_hash(state.raw), content_hash(state.form.text))


def _is_secret_file(state: _Working) -> bool:
    return is_secret(state.path) or (state.raw is not None and holds_private_key(state.raw))


def _apply_block(state: _Working, block: EditBlock, what: str, read_hashes: Mapping[str, str] | None) -> None:
    if state.link and block.kind != "REMOVE":
        raise EditError(f"{what}: {state.path} is a symlink being removed by this answer")
    if state.unreadable is not None and block.kind != "REMOVE":
        raise EditError(f"{what}: {state.unreadable}")
    if block.kind == "CREATE":
        if state.lines is not None:
            raise EditError(f"{what}: refused: {state.path} already exists; change it with REPLACE or INSERT")
        eol = state.form.eol
        content = _model_lines(block.content)
        if not state.path.lower().endswith(_PROSE_SUFFIXES):
            content = _unfenced(content) or content
        state.lines = [line + eol for line in content]
        if state.raw is None:
            state.form = FileText("", eol="\n", final_newline=True)
        return
    if state.lines is None:
        raise EditError(f"{what}: {state.path} does not exist; use CREATE for a new file")
    if block.kind == "REMOVE":
        state.lines = None
        return
    bodies = [body(line) for line in state.lines]
    if len(block.separators) > 1:
        block = _chosen_split(bodies, block, what, state.path)
    _check_anchor_given(bodies, block, what)
    try:
        match, content = _find(bodies, _model_lines(block.anchor), _model_lines(block.content))
    except AnchorNotFound as exc:
        if _changed_since_read(state, read_hashes):
            raise RefusedError(
                f"{what}: {state.path} changed since it was read and the anchor no longer fits; "
                "nothing was written; ask again"
            ) from None
        if exc.nearest and _is_secret_file(state):
            # The message goes back to the model: no line of a secrets file or a private key may ride along.
            hint = "its lines are not quoted: it is a secrets file"
        elif exc.nearest:
            near = "; ".join(f"line {n}: {text.strip()[:80]!r}" for n, text in exc.nearest)
            hint = f"nearest lines: {near}"
            anchor_lines = _model_lines(block.anchor)
            differs = first_difference(bodies, anchor_lines, exc.nearest[0][0] - 1)
            if differs is not None and differs[0] != exc.nearest[0][0]:
                number, found, expected = differs
                hint += (
                    f" (from there the anchor fits until line {number}, which is {found.strip()[:80]!r} "
                    f"where the anchor has {expected.strip()[:80]!r})"
                )
        else:
            hint = "no similar lines in the file"
        raise EditError(f"{what}: the anchor was not found in {state.path}; {hint}") from None
    except AnchorAmbiguous as exc:
        places = ", ".join(str(n) for n in exc.lines[:8])
        raise EditError(
            f"{what}: the anchor matches {len(exc.lines)} places in {state.path} (lines {places}); "
            "include more surrounding lines so it matches exactly once"
        ) from None
    if _changed_since_read(state, read_hashes):
        if match.tier != "exact":
            # Only the hash of what the model saw is known: a looser match in the changed file may be a
            # look-alike of the lines it meant, which the exact anchor fitted before the change.
            raise RefusedError(
                f"{what}: {state.path} changed since it was read and the anchor now fits only ignoring "
                f"{match.tier}, maybe at another place; nothing was written; ask again"
            )
        if not any("since it was read" in n for n in state.notes):
            state.notes.append(
                f"{state.path} changed since it was read; its edits were matched against it as it is now"
            )
    if match.tier != "exact":
        state.notes.append(f"{what} matched at line {match.start + 1} ignoring {match.tier}")
    eol = state.form.eol
    fitted = match.replacement(content) if block.kind == "REPLACE" else match.reindent(content)
    new_lines = [line + eol for line in fitted]
    lines = state.lines
    if block.kind == "REPLACE":
        lines[match.start : match.end] = new_lines
    elif block.kind == "INSERT AFTER":
        if match.end > 0 and not lines[match.end - 1].endswith("\n"):
            lines[match.end - 1] += eol
        lines[match.end : match.end] = new_lines
    elif block.kind == "INSERT BEFORE":
        lines[match.start : match.start] = new_lines
    elif block.kind == "DELETE":
        del lines[match.start : match.end]
    else:
        raise EditError(f"{what}: unknown block kind {block.kind!r}")
    final_newline = state.form.final_newline if state.raw is not None else True
    state.lines = fix_line_endings(lines, eol, final_newline)


def build_proposal(
    root: Path,
    blocks: Sequence[EditBlock],
    *,
    read_hashes: Mapping[str, str] | None = None,
    read: Mapping[str, bytes] | None = None,
) -> Proposal:
    """Apply every block in memory, in order (READ blocks are skipped). Raises EditError (the whole answer
    is rejected) or RefusedError (a file changed since it was read and no longer fits).

    ``read``: the bytes of files as the model was shown them. A file that changed since gets the blocks
    applied to that text, where the model's anchors were written, and the result carried onto the file as
    it is now like any re-applied change (rebase_change): the edit lands where the model meant or is refused.
    ``read_hashes`` (only the hashes known): the blocks match the file as it is now, exactly."""
    root = real_root(root)
    states: dict[str, _Working] = {}
    for number, block in enumerate(blocks, start=1):
        if block.kind == "READ":
            continue
        what = f"block {number} ({block.kind} {block.path})"
        link = link_in_root(root, block.path, what=what) if block.kind == "REMOVE" else None
        if link is not None:
            # The link goes, never the file it points to (which may not even be in the project).
            path, location = link
            target = os.fsencode(os.readlink(location))
            state = states.setdefault(
                path, _Working(path, location, target, _NEW_FILE_FORM, None, [], link=True)
            )
        else:
            path, real = resolve_in_root(root, block.path, what=what)
            found = states.get(path)
            if found is None:
                found = _load(path, real, what, removing=block.kind == "REMOVE")
                if read is not None and path in read:
                    found = _as_shown(found, read[path])
                states[path] = found
            state = found
        _apply_block(state, block, what, read_hashes)
    files = []
    for state in states.values():
        new_text = None if state.lines is None else "".join(state.lines)
        old_text = state.original_text
        if old_text == new_text and state.raw is not None:
            continue
        if old_text is None and new_text is None:
            continue  # created and removed again within the answer
        if state.link and state.raw is not None:
            files.append(_removed_link(state.path, state.raw))
            continue
        if state.unreadable is not None and state.raw is not None:
            files.append(_removed_whole(state.path, state.raw, state.mode))
            continue
        change = make_change(
            state.path,
            old_text,
            new_text,
            old_hash=None if state.raw is None else content_hash(state.raw),
            form=state.form,
            mode=state.mode,
            notes=tuple(state.notes),
        )
        if state.shown_only:
            if state.on_disk is None:
                raise RefusedError(
                    f"{state.path} was deleted since it was read; nothing was written; ask again"
                )
            change = rebase_change(change, state.on_disk, since="it was read")
        files.append(change)
    proposal = Proposal(root, files, tuple(n for f in files for n in f.notes))
    return proposal._validated(files)


def _removed_whole(path: str, raw: bytes, mode: int | None) -> FileChange:
    """The removal of a file that is not editable text (a binary, an oversized file): no line diff, one
    hunk that stands for the whole file so a per-hunk review can keep or drop it."""
    text = f"{path} removed whole ({len(raw)} bytes, not shown as text)\n"
    hunk = Hunk(0, 0, (), 0, (), text)
    diff = unified_diff(path, [hunk], removed=True)
    return FileChange(path, "", None, diff, [hunk], content_hash(raw), _NEW_FILE_FORM, mode)


def _removed_link(path: str, target: bytes) -> FileChange:
    """The removal of a symlink: one hunk standing for the link, the file it points to untouched."""
    text = f"{path} is a symlink to {os.fsdecode(target)}: the link is removed, what it points to stays\n"
    hunk = Hunk(0, 0, (), 0, (), text)
    diff = unified_diff(path, [hunk], removed=True)
    return FileChange(path, "", None, diff, [hunk], content_hash(target), _NEW_FILE_FORM, None, link=True)


def rebase_change(change: FileChange, current_raw: bytes, *, since: str = "the proposal") -> FileChange:
    """The change re-applied to a file that changed on disk since the proposal (or since it was read: the
    ``since`` of the messages), its hunks placed by the rule of apply_hunks. Raises RefusedError naming the
    hunk that no longer fits."""
    try:
        form = decode_bytes(current_raw, change.path)
    except EditError as exc:
        raise RefusedError(
            f"{change.path} changed since {since}: {exc.message}; nothing was written"
        ) from None
    if change.new_text is None:
        raise RefusedError(f"{change.path} changed since {since}; refusing to remove it; nothing was written")
    try:
        # Placed through the alignment of the text the proposal was built on with the file as it is now: a
        # change of someone else's at our lines is a conflict, never a reason to look for them elsewhere.
        recorded = split_lines(change.old_text or "")
        new_lines = apply_hunks(split_lines(form.text), change.hunks, recorded=recorded)
    except HunkConflict as exc:
        raise RefusedError(
            f"{change.path} changed since {since} and {exc.hunk.describe(before=True)} no longer fits; "
            "nothing was written; ask again"
        ) from None
    mode = change.mode
    return make_change(
        change.path,
        form.text,
        "".join(new_lines),
        old_hash=content_hash(current_raw),
        form=form,
        mode=mode,
        notes=(*change.notes, f"re-applied to the file as it changed since {since}"),
    )


def current_bytes(real: Path) -> bytes | None:
    try:
        if real.exists() and not real.is_file() and not real.is_dir():
            raise RefusedError(f"{real.name} is no longer a regular file; nothing was written")
        return real.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None  # absent (a later write will say why it cannot create it)
    except IsADirectoryError:
        raise RefusedError(f"{real.name} is now a folder; nothing was written") from None


def default_file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask
