"""Fuzzy matching of a typed fragment against paths (the goal input's ``@`` completion): pure string work.

A path matches when the fragment's characters appear in it in order (a subsequence, case-insensitive). Matches
rank by, in this order of weight: the whole fragment inside the file's name (not only its folders), characters
at the start of a segment (after ``/``, ``_``, ``-``, ``.``, a camelCase hump), runs of adjacent characters, and
shorter paths. ``FuzzyIndex`` answers a keystroke in a few milliseconds at 10,000 paths: the lower-cased paths
are computed once, and a fragment that extends the previous one only searches the previous one's matches.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_SEPARATORS = frozenset("/_-. ")

# The weights of a score (higher is better); a basename hit outweighs anything else a path can have.
BASENAME = 1000
BASENAME_PREFIX = 400
SEGMENT_START = 60
ADJACENT = 40
FIRST_CHAR = 20
PER_CHAR_OF_PATH = 1


def _is_subsequence(fragment: str, text: str, start: int) -> bool:
    at = start
    for char in fragment:
        at = text.find(char, at) + 1
        if not at:
            return False
    return True


def _positions(fragment: str, text: str, original: str, start: int) -> list[int] | None:
    """Where ``fragment``'s characters fall in ``text`` (``original`` lower-cased) from ``start``; None when
    it is not a subsequence there. Each character is taken at its first place, unless a later place is a
    segment start and the rest of the fragment still fits after it: ``usr`` in ``user_service_repo`` takes
    u, s and r at their segment starts, not the s and r of ``user``."""
    found: list[int] = []
    at = start
    for number, char in enumerate(fragment):
        index = text.find(char, at)
        if index < 0:
            return None
        if not _is_segment_start(original, index) and (not found or index != found[-1] + 1):
            later = text.find(char, index + 1)
            rest = fragment[number + 1 :]
            while later >= 0:
                if _is_segment_start(original, later):
                    if _is_subsequence(rest, text, later + 1):
                        index = later
                    break
                later = text.find(char, later + 1)
        found.append(index)
        at = index + 1
    return found


def _is_segment_start(original: str, index: int) -> bool:
    if index == 0:
        return True
    before = original[index - 1]
    if before in _SEPARATORS:
        return True
    return original[index].isupper() and before.islower()


def score(fragment: str, path: str, lowered: str | None = None) -> int | None:
    """How well ``fragment`` (lower case) matches ``path``; None when it does not match at all."""
    text = lowered if lowered is not None else path.lower()
    base = text.rfind("/") + 1
    positions = _positions(fragment, text, path, base)
    total = 0
    if positions is not None:
        total += BASENAME
        if text.startswith(fragment, base):
            total += BASENAME_PREFIX
    else:
        positions = _positions(fragment, text, path, 0)
        if positions is None:
            return None
    previous = -2
    for index in positions:
        if _is_segment_start(path, index):
            total += SEGMENT_START
        if index == previous + 1:
            total += ADJACENT
        previous = index
    if positions and positions[0] == base:
        total += FIRST_CHAR
    return total - PER_CHAR_OF_PATH * len(path)


@dataclass(frozen=True)
class Match:
    path: str
    score: int


class FuzzyIndex:
    """The paths to complete from, ranked per fragment. Not thread-safe: one per input, replaced (not
    mutated) when the file list changes."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.paths: Sequence[str] = tuple(paths)
        self._lowered = tuple(path.lower() for path in self.paths)
        # The last fragment and the indexes of the paths it matched (a longer fragment matches a subset).
        self._last: tuple[str, list[int]] = ("", list(range(len(self.paths))))

    def __len__(self) -> int:
        return len(self.paths)

    def _candidates(self, fragment: str) -> list[int]:
        last, indexes = self._last
        if not fragment.startswith(last):
            indexes = list(range(len(self.paths)))
        lowered = self._lowered
        kept = []
        for i in indexes:
            text = lowered[i]
            at = 0
            for char in fragment:
                at = text.find(char, at) + 1
                if not at:
                    break
            else:
                kept.append(i)
        self._last = (fragment, kept)
        return kept

    def rank(self, fragment: str, limit: int = 50) -> list[Match]:
        """The best ``limit`` matches of ``fragment``, best first (ties: the shorter, then alphabetical). An
        empty fragment lists the shortest paths."""
        fragment = fragment.lower()
        if not fragment:
            shortest = heapq.nsmallest(limit, self.paths, key=lambda p: (p.count("/"), len(p), p))
            return [Match(path, 0) for path in shortest]
        scored: list[tuple[int, str]] = []
        for i in self._candidates(fragment):
            value = score(fragment, self.paths[i], self._lowered[i])
            if value is not None:
                scored.append((value, self.paths[i]))
        best = heapq.nsmallest(limit, scored, key=lambda item: (-item[0], item[1]))
        return [Match(path, value) for value, path in best]
