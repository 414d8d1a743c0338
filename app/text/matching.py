"""Finding an anchor in a file: exact first, then whitespace-tolerant tiers, each used only when it gives
exactly one match. Never "first match wins": two matches in a tier is an error, not a guess.

Tiers, in order: exact; trailing whitespace ignored; stray blank lines at the anchor's edges ignored;
indentation uniformly shifted (tabs against spaces counted at tab size 4, then 8); blank lines inside the
anchor ignored. A match found by an indentation tier re-indents the new lines the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

_TAB_SIZES = (4, 8)


class AnchorNotFound(Exception):
    def __init__(self, nearest: list[tuple[int, str]]) -> None:
        super().__init__("anchor not found")
        self.nearest = nearest  # (1-based line number, line text)


class AnchorAmbiguous(Exception):
    def __init__(self, tier: str, lines: list[int]) -> None:
        super().__init__("anchor ambiguous")
        self.tier = tier
        self.lines = lines  # 1-based first lines of every match


@dataclass(frozen=True)
class AnchorMatch:
    start: int  # first matched line (0-based)
    end: int  # one past the last matched line
    tier: str
    # For the indentation tiers: (anchor line, file line) pairs, the width shift and the tab size.
    pairs: tuple[tuple[str, str], ...] = field(default=())
    delta: int | None = None
    tab_size: int = 4
    # Blank lines at the anchor's start and end that the match left out (the tiers after the whitespace
    # ones match the anchor without them).
    blank_edges: tuple[int, int] = (0, 0)

    def replacement(self, new_lines: Sequence[str]) -> list[str]:
        """The model's replacement as it goes into the file: the blank edge lines the match left out of the
        anchor left out of it too (they stood for lines the file does not have there), then re-indented."""
        lines = list(new_lines)
        lead, trail = self.blank_edges
        while lead and lines and not lines[0].strip():
            lines.pop(0)
            lead -= 1
        while trail and lines and not lines[-1].strip():
            lines.pop()
            trail -= 1
        return self.reindent(lines)

    def reindent(self, new_lines: Sequence[str]) -> list[str]:
        """The model's new lines shifted to the file's indentation, as the anchor was."""
        if self.delta is None:
            return list(new_lines)
        mapping: dict[str, str] = {}
        for anchor_line, file_line in self.pairs:
            mapping.setdefault(_indent(anchor_line), _indent(file_line))
        indented = [_indent(f) for _, f in self.pairs if _indent(f)]
        use_tabs = sum(i.startswith("\t") for i in indented) * 2 > len(indented)
        result = []
        for line in new_lines:
            if not line.strip():
                result.append("")
                continue
            indent = _indent(line)
            if indent in mapping:
                result.append(mapping[indent] + line[len(indent) :])
                continue
            width = max(0, _width(indent, self.tab_size) + self.delta)
            lead = (
                "\t" * (width // self.tab_size) + " " * (width % self.tab_size) if use_tabs else " " * width
            )
            result.append(lead + line[len(indent) :])
        return result


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _width(indent: str, tab_size: int) -> int:
    width = 0
    for ch in indent:
        width = (width // tab_size + 1) * tab_size if ch == "\t" else width + 1
    return width


def _trim_blank_edges(anchor: Sequence[str]) -> list[str]:
    lines = list(anchor)
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _equal_windows(file_keys: list[str], anchor_keys: list[str]) -> list[int]:
    n = len(anchor_keys)
    first = anchor_keys[0]
    return [
        start
        for start in range(len(file_keys) - n + 1)
        if file_keys[start] == first and file_keys[start : start + n] == anchor_keys
    ]


def _shift(file_slice: Sequence[str], anchor: Sequence[str], tab_size: int) -> int | None:
    """The uniform indentation shift that makes ``anchor`` equal ``file_slice``, or None."""
    delta: int | None = None
    for file_line, anchor_line in zip(file_slice, anchor, strict=True):
        stripped = anchor_line.strip()
        if not stripped:
            if file_line.strip():
                return None
            continue
        if file_line.strip() != stripped:
            return None
        shift = _width(_indent(file_line), tab_size) - _width(_indent(anchor_line), tab_size)
        if delta is None:
            delta = shift
        elif shift != delta:
            return None
    return delta


def _shifted_matches(
    file_lines: Sequence[str], positions: Sequence[int], anchor: Sequence[str], tab_size: int
) -> list[tuple[list[int], int]]:
    """Windows over ``positions`` (indexes into file_lines) where ``anchor`` fits with a uniform shift."""
    n = len(anchor)
    first = anchor[0].strip()
    found = []
    for j in range(len(positions) - n + 1):
        if file_lines[positions[j]].strip() != first:
            continue
        window = [positions[j + k] for k in range(n)]
        delta = _shift([file_lines[i] for i in window], anchor, tab_size)
        if delta is not None:
            found.append((window, delta))
    return found


def find_anchor(file_lines: Sequence[str], anchor: Sequence[str]) -> AnchorMatch:
    """Where ``anchor`` (line bodies) sits in ``file_lines`` (line bodies). Raises AnchorNotFound or
    AnchorAmbiguous."""
    if not anchor:
        if not any(line.strip() for line in file_lines):
            return AnchorMatch(0, len(file_lines), "empty file")
        raise AnchorNotFound(nearest_lines(file_lines, anchor))

    tiers: list[tuple[str, Callable[[], list[AnchorMatch]]]] = []
    anchor = list(anchor)

    trimmed = _trim_blank_edges(anchor)
    lead_blanks = next((i for i, line in enumerate(anchor) if line.strip()), 0)
    edges = (lead_blanks, len(anchor) - lead_blanks - len(trimmed)) if trimmed else (0, 0)

    def plain(tier: str, lines: list[str], key: Callable[[str], str]) -> Callable[[], list[AnchorMatch]]:
        left_out = edges if lines is trimmed else (0, 0)

        def run() -> list[AnchorMatch]:
            keys = [key(line) for line in file_lines]
            return [
                AnchorMatch(s, s + len(lines), tier, blank_edges=left_out)
                for s in _equal_windows(keys, [key(a) for a in lines])
            ]

        return run

    def shifted(
        tier: str, lines: list[str], blank_free: bool, tab_size: int
    ) -> Callable[[], list[AnchorMatch]]:
        def run() -> list[AnchorMatch]:
            if blank_free:
                positions = [i for i, line in enumerate(file_lines) if line.strip()]
                lines_used = [a for a in lines if a.strip()]
            else:
                positions = list(range(len(file_lines)))
                lines_used = lines
            matches = []
            for window, delta in _shifted_matches(file_lines, positions, lines_used, tab_size):
                pairs = tuple(
                    (a, file_lines[i]) for a, i in zip(lines_used, window, strict=True) if a.strip()
                )
                matches.append(AnchorMatch(window[0], window[-1] + 1, tier, pairs, delta, tab_size, edges))
            return matches

        return run

    tiers.append(("exact", plain("exact", anchor, lambda s: s)))
    tiers.append(("trailing whitespace", plain("trailing whitespace", anchor, str.rstrip)))
    if not trimmed:
        pass  # an anchor of blank lines only: the exact tiers or nothing
    elif trimmed != anchor:
        tiers.append(("blank edge lines", plain("blank edge lines", trimmed, str.rstrip)))
    for size in _TAB_SIZES if trimmed else ():
        tiers.append(
            (f"indentation (tab={size})", shifted(f"indentation (tab={size})", trimmed, False, size))
        )
    if sum(1 for a in trimmed if a.strip()) >= 2:
        for size in _TAB_SIZES:
            name = f"blank lines ignored (tab={size})"
            tiers.append((name, shifted(name, trimmed, True, size)))

    for tier, run in tiers:
        matches = run()
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise AnchorAmbiguous(tier, [m.start + 1 for m in matches])
    raise AnchorNotFound(nearest_lines(file_lines, anchor))


def first_difference(
    file_lines: Sequence[str], anchor: Sequence[str], start: int
) -> tuple[int, str, str] | None:
    """Where the anchor, laid over the file from ``start``, stops fitting (blank lines and indentation
    aside): (1-based line, the file's text, the anchor's text), or None when it fits to the end."""
    wanted = [a for a in anchor if a.strip()]
    position = start
    for line in wanted:
        while position < len(file_lines) and not file_lines[position].strip():
            position += 1
        if position >= len(file_lines):
            return (len(file_lines), "<end of file>", line)
        if file_lines[position].strip() != line.strip():
            return (position + 1, file_lines[position], line)
        position += 1
    return None


def nearest_lines(file_lines: Sequence[str], anchor: Sequence[str], limit: int = 3) -> list[tuple[int, str]]:
    """The file lines most like the anchor's first line, best first, as (1-based number, text)."""
    key = next((a.strip() for a in anchor if a.strip()), "")
    if not key:
        return [(i + 1, line) for i, line in enumerate(file_lines[:limit])]
    scored: list[tuple[float, int]] = []
    matcher = SequenceMatcher(None, "", key, autojunk=False)
    for i, line in enumerate(file_lines):
        text = line.strip()
        if not text:
            continue
        matcher.set_seq1(text)
        if matcher.real_quick_ratio() < 0.4 or matcher.quick_ratio() < 0.4:
            continue
        ratio = matcher.ratio()
        if ratio >= 0.4:
            scored.append((ratio, i))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [(i + 1, file_lines[i]) for _, i in scored[:limit]]
