"""Unified diffs cut into hunks, and hunks applied to text that may have moved since.

A :class:`Hunk` keeps its old and new lines with their endings (context included), so it can be applied
forward (accept a subset of a proposal, re-apply to a file changed since it was read) or backward (undo),
placed by one rule (:func:`apply_hunks`): where its own lines and enough unchanged context identify the place
it was recorded for, else a conflict naming the hunk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from app.text.textfile import body

CONTEXT_LINES = 3
_Opcode = tuple[str, int, int, int, int]


@dataclass(frozen=True)
class Hunk:
    index: int  # 0-based position among the file's hunks
    old_start: int  # 0-based first line in the old text
    old_lines: tuple[str, ...]  # context and removed lines, with endings
    new_start: int
    new_lines: tuple[str, ...]
    text: str  # this hunk as unified-diff text, from its @@ header

    @property
    def header(self) -> str:
        return self.text.split("\n", 1)[0]

    def describe(self, *, before: bool = False) -> str:
        """How a message names it: ``hunk 2 (lines 10-14)``, numbered from 1 as the user sees them, in the
        file after the change (or ``before`` it)."""
        start, lines = (self.old_start, self.old_lines) if before else (self.new_start, self.new_lines)
        return f"hunk {self.index + 1} (lines {start + 1}-{start + max(len(lines), 1)})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "old_start": self.old_start,
            "old_lines": list(self.old_lines),
            "new_start": self.new_start,
            "new_lines": list(self.new_lines),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Hunk:
        old = tuple(data["old_lines"])
        new = tuple(data["new_lines"])
        return cls(
            int(data["index"]),
            int(data["old_start"]),
            old,
            int(data["new_start"]),
            new,
            "",
        )


class HunkConflict(Exception):
    def __init__(self, hunk: Hunk) -> None:
        super().__init__(hunk.describe())
        self.hunk = hunk


def _opcodes(old: Sequence[str], new: Sequence[str]) -> list[_Opcode]:
    """difflib opcodes, with the common head and tail cut off first: a one-line change in a 10,000-line
    file then costs a comparison of one line, not of the whole file."""
    limit = min(len(old), len(new))
    head = _common_length(lambda n: old[:n] == new[:n], limit)
    tail = _common_length(lambda n: old[len(old) - n :] == new[len(new) - n :], limit - head)
    codes: list[_Opcode] = []
    if head:
        codes.append(("equal", 0, head, 0, head))
    middle = SequenceMatcher(None, old[head : len(old) - tail], new[head : len(new) - tail], autojunk=False)
    for tag, i1, i2, j1, j2 in middle.get_opcodes():
        codes.append((tag, i1 + head, i2 + head, j1 + head, j2 + head))
    if tail:
        codes.append(("equal", len(old) - tail, len(old), len(new) - tail, len(new)))
    return codes


def _common_length(equal_at: Callable[[int], bool], limit: int) -> int:
    """The largest n <= limit with equal_at(n), by bisection: list comparisons run in C."""
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if equal_at(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _groups(codes: list[_Opcode], context: int) -> list[list[_Opcode]]:
    """Changes with up to ``context`` equal lines around them, split where more than twice that separates
    two changes."""
    if not any(tag != "equal" for tag, *_ in codes):
        return []
    codes = list(codes)
    tag, i1, i2, j1, j2 = codes[0]
    if tag == "equal":
        codes[0] = (tag, max(i1, i2 - context), i2, max(j1, j2 - context), j2)
    tag, i1, i2, j1, j2 = codes[-1]
    if tag == "equal":
        codes[-1] = (tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context))
    groups: list[list[_Opcode]] = []
    group: list[_Opcode] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > 2 * context and group:
            group.append((tag, i1, i1 + context, j1, j1 + context))
            groups.append(group)
            group = []
            i1, j1 = i2 - context, j2 - context
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    return groups


def _range(start: int, length: int) -> str:
    first = start + 1 if length else start
    return str(first) if length == 1 else f"{first},{length}"


def _diff_line(mark: str, line: str) -> str:
    text = f"{mark}{body(line)}\n"
    if not line.endswith("\n"):
        text += "\\ No newline at end of file\n"
    return text


def compute_hunks(old: Sequence[str], new: Sequence[str], context: int = CONTEXT_LINES) -> list[Hunk]:
    """The hunks turning ``old`` into ``new`` (both lists of lines with endings)."""
    hunks = []
    for n, group in enumerate(_groups(_opcodes(old, new), context)):
        i1, i2 = group[0][1], group[-1][2]
        j1, j2 = group[0][3], group[-1][4]
        parts = [f"@@ -{_range(i1, i2 - i1)} +{_range(j1, j2 - j1)} @@\n"]
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                parts.extend(_diff_line(" ", line) for line in old[a1:a2])
                continue
            parts.extend(_diff_line("-", line) for line in old[a1:a2])
            parts.extend(_diff_line("+", line) for line in new[b1:b2])
        hunks.append(Hunk(n, i1, tuple(old[i1:i2]), j1, tuple(new[j1:j2]), "".join(parts)))
    return hunks


def unified_diff(path: str, hunks: Iterable[Hunk], *, created: bool = False, removed: bool = False) -> str:
    hunks = list(hunks)
    if not hunks and not (created or removed):
        return ""
    before = "/dev/null" if created else f"a/{path}"
    after = "/dev/null" if removed else f"b/{path}"
    return f"--- {before}\n+++ {after}\n" + "".join(h.text for h in hunks)


@dataclass(frozen=True)
class _Spot:
    """A hunk as placement sees it: its changed lines (``core``, from its first change to its last) at ``at`` in
    the text it was recorded on, the lines that replace them, and the unchanged lines next to them there (up to
    CONTEXT_LINES a side; fewer only where that text starts or ends: ``lead_edge``, ``trail_edge``)."""

    hunk: Hunk
    at: int
    core: tuple[str, ...]
    replacement: tuple[str, ...]
    lead: tuple[str, ...]
    trail: tuple[str, ...]
    lead_edge: bool
    trail_edge: bool


def _context_sizes(before: Sequence[str], after: Sequence[str]) -> tuple[int, int]:
    limit = min(len(before), len(after))
    lead = 0
    while lead < limit and before[lead] == after[lead]:
        lead += 1
    trail = 0
    while trail < limit - lead and before[-1 - trail] == after[-1 - trail]:
        trail += 1
    return lead, trail


def _spot(hunk: Hunk, reverse: bool, recorded: Sequence[str] | None) -> _Spot:
    before, after = (hunk.new_lines, hunk.old_lines) if reverse else (hunk.old_lines, hunk.new_lines)
    nominal = hunk.new_start if reverse else hunk.old_start
    lead_n, trail_n = _context_sizes(before, after)
    core = tuple(before[lead_n : len(before) - trail_n])
    replacement = tuple(after[lead_n : len(after) - trail_n])
    at = nominal + lead_n
    if recorded is None:
        # Only the hunk's own context is known; it has CONTEXT_LINES a side unless the file ended there.
        lead = tuple(before[:lead_n][-CONTEXT_LINES:])
        trail = tuple(before[len(before) - trail_n :][:CONTEXT_LINES])
    else:
        if tuple(recorded[at : at + len(core)]) != core:
            raise HunkConflict(hunk)  # not the text this hunk was recorded on: nothing to place it by
        lead = tuple(recorded[max(0, at - CONTEXT_LINES) : at])
        trail = tuple(recorded[at + len(core) : at + len(core) + CONTEXT_LINES])
    edge = (len(lead) < CONTEXT_LINES, len(trail) < CONTEXT_LINES)
    return _Spot(hunk, at, core, replacement, lead, trail, *edge)


def _occurs_once(lines: Sequence[str], window: Sequence[str]) -> bool:
    n = len(window)
    first = window[0]
    found = 0
    for start in range(len(lines) - n + 1):
        if lines[start] == first and list(lines[start : start + n]) == list(window):
            found += 1
            if found > 1:
                return False
    return found == 1


def _pinned(lines: Sequence[str], spot: _Spot, at: int, *, alone: bool) -> bool:
    """Whether ``spot`` may go at ``at`` in ``lines``: its changed lines are there, with its unchanged neighbours
    on both sides as recorded (a file edge counting as the edge it was); or, where a neighbour was changed since,
    with at least one unchanged neighbour and a window (changed lines plus the unchanged neighbours) that occurs
    only there in the file. ``alone`` (nothing but the hunk to go by) asks for all the neighbours and the single
    occurrence both."""
    n = len(spot.core)
    if at < 0 or at + n > len(lines) or tuple(lines[at : at + n]) != spot.core:
        return False
    lead = 0
    while lead < len(spot.lead) and at - lead > 0 and lines[at - lead - 1] == spot.lead[-1 - lead]:
        lead += 1
    trail = 0
    end = at + n
    while trail < len(spot.trail) and end + trail < len(lines) and lines[end + trail] == spot.trail[trail]:
        trail += 1
    lead_full = lead == len(spot.lead) and (not spot.lead_edge or at - lead == 0)
    trail_full = trail == len(spot.trail) and (not spot.trail_edge or end + trail == len(lines))
    window = lines[at - lead : end + trail]
    if lead_full and trail_full and (not alone or not window):
        return True  # (an empty window with both edges in place: an empty file, then and now)
    if alone and not (lead_full and trail_full):
        return False  # a partial window on the recorded line may be a look-alike the lines above moved there
    if not (lead or trail or (lead_full and trail_full)):
        return False  # every neighbour changed: the lines alone may be a look-alike's
    return bool(window) and _occurs_once(lines, window)


class _Alignment:
    """Which lines of the recorded text are still there in the current one, and where.

    difflib settles ties (a line that could pair with either of two look-alikes) by taking the earliest
    candidate; read backwards it takes the latest. A place both readings agree on does not depend on how a tie
    fell, so a copy of our lines that someone put next to where they were (or a rewrite of them next to such a
    copy) cannot pass for them."""

    def __init__(self, recorded: Sequence[str], current: Sequence[str]) -> None:
        self.recorded_length, self.current_length = len(recorded), len(current)
        self.forward = self._runs(_opcodes(recorded, current))
        self.backward = self._runs(_opcodes(recorded[::-1], current[::-1]))

    def _runs(self, codes: list[_Opcode]) -> list[tuple[int, int, int]]:
        # The file's edges count as shared (zero lines long): an insertion at the start or end stays there.
        runs = [(a1, a2, b1) for tag, a1, a2, b1, _b2 in codes if tag == "equal"]
        return [(0, 0, 0), *runs, (self.recorded_length, self.recorded_length, self.current_length)]

    def images(self, start: int, end: int) -> list[int]:
        """Where recorded lines [start, end) (an insertion point when empty) sit in the current text, as both
        readings see them: they lie inside a run of shared lines (an insertion point at its edge)."""
        forward = {b1 + start - a1 for a1, a2, b1 in self.forward if a1 <= start and end <= a2}
        r_start, r_end = self.recorded_length - end, self.recorded_length - start
        backward = {
            self.current_length - (b1 + r_start - a1) - (end - start)
            for a1, a2, b1 in self.backward
            if a1 <= r_start and r_end <= a2
        }
        return sorted(forward & backward)


def _place_hunks(
    lines: Sequence[str],
    hunks: Iterable[Hunk],
    *,
    reverse: bool = False,
    recorded: Sequence[str] | None = None,
) -> list[tuple[int, _Spot]]:
    """Where each hunk goes in ``lines`` (in order): the rule :func:`apply_hunks` describes."""
    spots = sorted((_spot(h, reverse, recorded) for h in hunks), key=lambda s: (s.at, len(s.core)))
    alignment = _Alignment(recorded, lines) if recorded is not None else None
    placed: list[tuple[int, _Spot]] = []
    floor = 0
    offset = 0
    for spot in spots:
        if alignment is not None:
            candidates = alignment.images(spot.at, spot.at + len(spot.core))
            fits = [at for at in candidates if at >= floor and _pinned(lines, spot, at, alone=False)]
        else:
            at = spot.at + offset
            fits = [at] if at >= floor and _pinned(lines, spot, at, alone=True) else []
        if len(fits) != 1:
            raise HunkConflict(spot.hunk)
        at = fits[0]
        placed.append((at, spot))
        floor = at + len(spot.core)
        offset = at - spot.at
    return placed


def apply_hunks(
    lines: Sequence[str],
    hunks: Iterable[Hunk],
    *,
    reverse: bool = False,
    recorded: Sequence[str] | None = None,
) -> list[str]:
    """``lines`` with ``hunks`` applied (backwards when ``reverse``); HunkConflict names the first hunk that has
    no place. ``recorded``: the whole text the hunks were made on (backwards: the text after them), when known.

    The one placement rule of the edit engine (apply, re-match, undo, commit of ai's lines): a hunk goes
    only where its own lines and enough unchanged context identify the place it was recorded for.

    With ``recorded``, that place is where the alignment of ``recorded`` with ``lines`` takes the hunk's
    changed lines: they must be among the lines both texts share, with their recorded neighbours on both
    sides, or else with at least one unchanged neighbour and a window that occurs once in the file (so an
    edit of another session right next to ours does not block an undo, and an insertion between two edits of
    the user's still finds its line). Without it (an undo whose backup is gone), the place is the hunk's
    recorded line (moved by the hunks before it), with all of its context, and that window must occur
    nowhere else. Never "the only other place these lines occur": once the lines at the hunk's own place
    were rewritten, a look-alike elsewhere is no evidence."""
    result: list[str] = []
    taken = 0
    for at, spot in _place_hunks(lines, hunks, reverse=reverse, recorded=recorded):
        result.extend(lines[taken:at])
        result.extend(spot.replacement)
        taken = at + len(spot.core)
    result.extend(lines[taken:])
    return result


def carry_changes(base: Sequence[str], before: Sequence[str], after: Sequence[str]) -> list[str] | None:
    """``base`` with the changes that turn ``before`` into ``after``, each at zero context, placed by the rule
    of :func:`apply_hunks` with ``before`` as the recorded text. None when one has no place there: it touches
    lines where ``base`` and ``before`` differ, or its unchanged neighbours do not pin it.

    The commit of an applied change is HEAD's version (``base``) with only our change: the user's
    uncommitted edits (``base`` -> ``before``) may sit right next to our lines without being swept in."""
    try:
        return apply_hunks(base, compute_hunks(before, after, context=0), recorded=before)
    except HunkConflict:
        return None
