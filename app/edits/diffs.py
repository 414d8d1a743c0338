"""Unified diffs cut into hunks, and hunks applied to text that may have moved since.

A :class:`Hunk` keeps its old and new lines with their endings (context included), so it can be applied
forward (accept a subset of a proposal, re-apply to a file changed since it was read) or backward (undo),
located by content: at its recorded place if it still fits there, else at its only fitting place, else a
conflict naming the hunk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from app.edits.textfile import body

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


def _locate(lines: Sequence[str], wanted: Sequence[str], expected: int, floor: int, full: bool) -> int | None:
    """Where ``wanted`` sits: with the hunk's full context, at the expected place or its only place;
    with trimmed context, only at its only place (a short run of lines at the expected place may be there
    by coincidence, once other edits have moved things)."""
    n = len(wanted)
    if n == 0:
        return 0 if not lines else None  # only an empty file had no lines to anchor on
    if full and floor <= expected and list(lines[expected : expected + n]) == list(wanted):
        return expected
    first = wanted[0]
    found = [
        start
        for start in range(floor, len(lines) - n + 1)
        if lines[start] == first and list(lines[start : start + n]) == list(wanted)
    ]
    return found[0] if len(found) == 1 else None


def _context_sizes(before: Sequence[str], after: Sequence[str]) -> tuple[int, int]:
    limit = min(len(before), len(after))
    lead = 0
    while lead < limit and before[lead] == after[lead]:
        lead += 1
    trail = 0
    while trail < limit - lead and before[-1 - trail] == after[-1 - trail]:
        trail += 1
    return lead, trail


def apply_hunks(lines: Sequence[str], hunks: Iterable[Hunk], *, reverse: bool = False) -> list[str]:
    """``lines`` with ``hunks`` applied (backwards when ``reverse``). Raises HunkConflict on the first hunk
    whose changed lines are no longer there.

    A hunk is found with all its context at its recorded place (shifted by the hunks before it), or at its
    only fitting place elsewhere. Failing that, with its context cut to one line and then none, but then only
    where those lines occur exactly once: an edit of another session right next to ours does not block an
    undo, and a hunk is never put on a look-alike place on the strength of a line or two."""
    result = list(lines)
    shift = 0
    floor = 0
    ordered = sorted(hunks, key=lambda h: h.new_start if reverse else h.old_start)
    for hunk in ordered:
        before, after = (hunk.new_lines, hunk.old_lines) if reverse else (hunk.old_lines, hunk.new_lines)
        nominal = hunk.new_start if reverse else hunk.old_start
        lead, trail = _context_sizes(before, after)
        position = None
        for keep in sorted({max(lead, trail), 1, 0}, reverse=True):
            cut_lead, cut_trail = max(0, lead - keep), max(0, trail - keep)
            wanted = before[cut_lead : len(before) - cut_trail]
            if before and not wanted:
                continue  # nothing left to recognise the place by
            full = cut_lead == 0 and cut_trail == 0
            position = _locate(result, wanted, nominal + cut_lead + shift, floor, full)
            if position is not None:
                break
        if position is None:
            raise HunkConflict(hunk)
        replacement = after[cut_lead : len(after) - cut_trail]
        result[position : position + len(wanted)] = replacement
        shift = position - nominal - cut_lead + len(replacement) - len(wanted)
        floor = position + len(replacement)
    return result


def reverse_hunks(hunks: Iterable[Hunk]) -> list[Hunk]:
    return [Hunk(h.index, h.new_start, h.new_lines, h.old_start, h.old_lines, "") for h in hunks]


def carry_changes(base: Sequence[str], before: Sequence[str], after: Sequence[str]) -> list[str] | None:
    """``base`` with the changes that turn ``before`` into ``after``, at zero context, each placed by where
    its lines sit in ``before`` (aligned with ``base``). None when a change touches lines where ``base`` and
    ``before`` differ: it cannot be told apart from those differences then.

    The commit of an applied change is HEAD's version (``base``) with only our change: the user's
    uncommitted edits (``base`` -> ``before``) may sit right next to our lines without being swept in."""
    shared = [(a1, b1, b2) for tag, a1, _a2, b1, b2 in _opcodes(base, before) if tag == "equal"]
    result: list[str] = []
    taken = 0  # lines of base already copied into result
    for tag, i1, i2, j1, j2 in _opcodes(before, after):
        if tag == "equal":
            continue
        start = None
        for a1, b1, b2 in shared:
            if b1 <= i1 and i2 <= b2:
                start = a1 + (i1 - b1)
                break
        if start is None or start < taken:
            return None
        result.extend(base[taken:start])
        result.extend(after[j1:j2])
        taken = start + (i2 - i1)
    result.extend(base[taken:])
    return result
