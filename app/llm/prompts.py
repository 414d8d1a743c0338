"""What the model is sent: the versioned system prompt, the pre-read files and the context, within a budget.

The context budget is ``Config.context_tokens`` (tokens estimated at 4 bytes each). The context holds, from the
least to the most important, and when it does not fit it is dropped in this order, the first line first:

1. search hits for the goal's key terms (rg / index snippets)            - dropped first
2. the repo map
3. session history (``--continue``): at most a quarter of the budget, the oldest messages left out first
4. recent applied changes of this session
5. the project's health from the session's background snapshot: failing tests, diagnostics, log errors
6. ``AGENTS.md``
7. files that define a symbol the goal names: first cut to their relevant regions plus an outline, then dropped,
   the least certain first
8. files the goal names by path, file name or module name, and the session's pinned files (``/add``, sent in
   full)                                                                 - never dropped: when they alone
   exceed the budget, the largest are cut to their relevant regions plus an outline (and the model may READ them)
9. files the goal pins with ``@path``                                     - never dropped nor cut by the budget

A file over ``Config.max_file_tokens`` is always sent as relevant regions plus an outline.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol


class Outlines(Protocol):
    """What the prompts need of the symbol index (app/context/index.py): a file's definitions, each with its
    ``line``, ``end_line``, ``kind`` and ``name``."""

    def outline(self, relpath: str) -> Sequence[object]: ...


SYSTEM_PROMPT_PATH = Path(__file__).with_name("system_prompt.md")
_VERSION_LINE = re.compile(r"<!--\s*system-prompt-version:\s*(\d+)\s*-->")
REGION_CONTEXT = 12  # lines kept around a relevant line
HEAD_LINES = 80  # a large file with no relevant line: its head
SYMBOL_HEAD_LINES = 40  # a definition too long to send whole: its signature, docstring and first lines


def system_prompt() -> tuple[str, int]:
    """The system prompt and its version (the first line of the file says it)."""
    text = SYSTEM_PROMPT_PATH.read_text(encoding="utf-8")
    first, _, rest = text.partition("\n")
    match = _VERSION_LINE.search(first)
    if not match:
        raise RuntimeError(f"{SYSTEM_PROMPT_PATH} lacks its version line")
    return rest.strip() + "\n", int(match.group(1))


def estimate_tokens(text: str) -> int:
    return (len(text.encode("utf-8", "replace")) + 3) // 4


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=2)
    return "`" * max(3, longest + 1)


@dataclass
class FileContext:
    """One file as sent: whole, or its relevant regions plus an outline (``full`` False)."""

    path: str
    content: str  # the full text as read (its hash guards the apply)
    reason: str
    rank: int = 0  # 0-2 named by the goal, 3-4 defines a named symbol, 5 asked for with READ
    # Pinned by the user (/add for the session, @path for the goal): sent in full, never cut or dropped here
    # (max_file_tokens still holds when it is read).
    pinned: bool = False
    full: bool = True
    regions: list[tuple[int, int]] = field(default_factory=list)  # 1-based inclusive, when not full
    outline: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = self.content.splitlines()
        if self.full:
            fence = _fence(self.content)
            body = self.content if self.content.endswith("\n") or not self.content else self.content + "\n"
            return f"### {self.path} (full file, {len(lines)} lines; {self.reason})\n{fence}\n{body}{fence}\n"
        parts = [
            f"### {self.path} (large file, {len(lines)} lines: outline and relevant regions; {self.reason})"
        ]
        if self.outline:
            parts.append("Outline:\n" + "\n".join(self.outline))
        for start, end in self.regions:
            chunk = "\n".join(lines[start - 1 : end]) + "\n"
            fence = _fence(chunk)
            parts.append(f"Lines {start}-{end}:\n{fence}\n{chunk}{fence}")
        parts.append(f"(Ask with a READ block for the rest of {self.path}.)")
        return "\n".join(parts) + "\n"

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.render())


def outline_of(path: str, content: str, index: Outlines | None = None) -> list[str]:
    """``L12-40 function name`` lines: from the symbol index when it knows the file, else definition-shaped
    lines found by a regular expression."""
    if index is not None:
        try:
            symbols = index.outline(path)
        except Exception:  # the outline is a help, never a reason to fail
            symbols = []
        rows = []
        for s in symbols or []:
            line = getattr(s, "line", 0)
            end = getattr(s, "end_line", line)
            rows.append(f"L{line}-{end} {getattr(s, 'kind', '')} {getattr(s, 'name', '')}".rstrip())
        if rows:
            return rows
    pattern = re.compile(
        r"^\s*(export\s+)?(async\s+)?(def|class|function|func|fn|struct|interface|impl|type|enum)\s+\w+"
    )
    return [
        f"L{i} {line.strip()[:100]}" for i, line in enumerate(content.splitlines(), 1) if pattern.match(line)
    ]


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def relevant_regions(
    content: str, symbols: list[tuple[str, int, int]], terms: list[str], budget_tokens: int
) -> list[tuple[int, int]]:
    """Line spans of a large file worth sending, until ``budget_tokens`` is spent: the named symbols'
    definitions, the narrowest first (a method before the class around it; a definition too long to send whole
    gives its head), then the lines with key terms with some context, in file order."""
    lines = content.splitlines()
    total = len(lines)

    def cost(start: int, end: int) -> int:
        return estimate_tokens("\n".join(lines[start - 1 : end]))

    chosen: list[tuple[int, int]] = []
    spent = 0
    spans = sorted(
        ((max(1, line - 3), min(total, max(end, line) + 3)) for _name, line, end in symbols if line),
        key=lambda span: (span[1] - span[0], span[0]),
    )
    for start, end in spans:
        price = cost(start, end)
        if spent + price > budget_tokens:
            end = min(end, start + SYMBOL_HEAD_LINES)
            price = cost(start, end)
            if spent + price > budget_tokens:
                continue
        chosen.append((start, end))
        spent += price
    lowered = [t.lower() for t in terms if len(t) >= 3]
    windows = [
        (max(1, number - REGION_CONTEXT), min(total, number + REGION_CONTEXT))
        for number, text in enumerate(lines, 1)
        if lowered and any(t in text.lower() for t in lowered)
    ]
    for start, end in _merge(windows):
        price = cost(start, end)
        if spent + price <= budget_tokens:
            chosen.append((start, end))
            spent += price
    if not chosen:  # nothing relevant found (or nothing fits): the head of the file
        end = min(total, HEAD_LINES)
        while end > 10 and cost(1, end) > budget_tokens:
            end //= 2
        chosen.append((1, end))
    return _merge(chosen)


def shrink(
    file: FileContext,
    symbols: list[tuple[str, int, int]],
    terms: list[str],
    budget: int,
    index: Outlines | None,
) -> FileContext:
    outline = outline_of(file.path, file.content, index)
    outline_cost = estimate_tokens("\n".join(outline))
    if outline_cost > budget // 3:
        outline = outline[: max(10, len(outline) * (budget // 3) // max(outline_cost, 1))]
        outline_cost = estimate_tokens("\n".join(outline))
    regions = relevant_regions(file.content, symbols, terms, max(200, budget - outline_cost))
    return replace(file, full=False, regions=regions, outline=outline)


@dataclass
class Section:
    """A titled part of the context other than files. ``drop_rank``: lower is dropped first."""

    key: str
    title: str
    body: str
    drop_rank: int

    def render(self) -> str:
        return f"## {self.title}\n{self.body.rstrip()}\n"

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.render())


# Drop ranks of the sections (see the module docstring).
DROP_SEARCH, DROP_REPO_MAP, DROP_CHANGES, DROP_HEALTH, DROP_AGENTS = 1, 2, 4, 5, 6


@dataclass
class Budgeted:
    files: list[FileContext]
    sections: list[Section]
    dropped: list[str]
    tokens: int


def fit_budget(
    files: list[FileContext],
    sections: list[Section],
    budget: int,
    symbols_of: dict[str, list[tuple[str, int, int]]],
    terms: list[str],
    index: Outlines | None = None,
) -> Budgeted:
    """Apply the drop order of the module docstring until the context fits ``budget`` tokens."""
    files = list(files)
    sections = sorted(sections, key=lambda s: s.drop_rank)
    dropped: list[str] = []

    def total() -> int:
        return sum(f.tokens for f in files) + sum(s.tokens for s in sections)

    while total() > budget and sections:
        section = sections.pop(0)
        dropped.append(section.title)

    def cut_to_regions(candidates: list[FileContext], floor: int) -> None:
        """Shrink each candidate, in order, to the regions of its symbols until the context fits."""
        for file in candidates:
            if total() <= budget:
                return
            over = total() - budget
            files[files.index(file)] = shrink(
                file, symbols_of.get(file.path, []), terms, max(floor, file.tokens - over), index
            )
            dropped.append(f"{file.path} (cut to regions)")

    # Files defining named symbols (rank >= 3): cut, least certain first, then drop.
    cut_to_regions(
        sorted((f for f in files if f.rank >= 3 and f.full and not f.pinned), key=lambda f: -f.rank), 300
    )
    for file in sorted((f for f in files if f.rank >= 3 and not f.pinned), key=lambda f: -f.rank):
        if total() <= budget:
            break
        files.remove(file)
        dropped.append(file.path)
    # Named files are never dropped; the largest are cut to regions when they alone are over the budget, but
    # not a pinned one (/add, @path): the user asked for that file whole.
    cut_to_regions(sorted((f for f in files if f.full and not f.pinned), key=lambda f: -f.tokens), 500)
    return Budgeted(files=files, sections=sections, dropped=dropped, tokens=total())


def planning_message(goal: str, fitted: Budgeted, unresolved: list[str]) -> str:
    """The user message that carries the goal and everything read for it."""
    parts = [f"# Goal\n{goal.strip()}\n"]
    if fitted.files:
        parts.append(
            "# Files the goal names (read before planning; this is their current content)\n"
            + "\n".join(f.render() for f in fitted.files)
        )
    if unresolved:
        parts.append(
            "# Named but not found in the project\n" + "\n".join(f"- {p}" for p in unresolved) + "\n"
        )
    for section in sorted(fitted.sections, key=lambda s: -s.drop_rank):
        parts.append(section.render())
    parts.append(
        "# Your answer\nA short plan, then the edit blocks (or READ blocks for files you still need).\n"
    )
    return "\n".join(parts)


def read_reply_message(served: list[FileContext], refused: list[str]) -> str:
    parts = ["Here are the files you asked to READ:\n"]
    parts.extend(f.render() for f in served)
    if refused:
        parts.append("Not served:\n" + "\n".join(f"- {line}" for line in refused) + "\n")
    parts.append("Now answer the goal: a short plan, then the edit blocks.\n")
    return "\n".join(parts)


def revise_after_error_message(error: str) -> str:
    return (
        "Your edit blocks could not be applied, so nothing was changed. The exact error:\n\n"
        f"{error}\n\n"
        "Answer again with the complete corrected set of edit blocks (anchors copied exactly from the files "
        "as given, each matching exactly once).\n"
    )


def revise_message(feedback: str) -> str:
    return (
        "The user did not apply your proposal and asks for a revision:\n\n"
        f"{feedback.strip()}\n\n"
        "Answer with a short plan and the complete new set of edit blocks against the files as they are now "
        "(your previous blocks were not applied).\n"
    )


SUGGEST_MESSAGE = (
    "The user wants alternatives. Describe two or three different approaches in a few lines each, say which "
    "you recommend, then give the complete edit blocks for the recommended one (your previous blocks were not "
    "applied).\n"
)


def edits_required_message() -> str:
    """Sent once when an answer holds no edit block at all (prose only, code in plain fences, or empty)."""
    return (
        "Your answer contained no edit blocks, so nothing could be changed. Edit blocks are required: code in "
        "ordinary ``` fences is not applied. Answer again with the complete set of edit blocks for the goal, "
        "in this format:\n\n"
        "<<<<<<< REPLACE path/to/file.py\n"
        "the lines to change, copied exactly from the file\n"
        "=======\n"
        "the new lines\n"
        ">>>>>>> END\n\n"
        "The other kinds are INSERT AFTER, INSERT BEFORE, DELETE, CREATE and REMOVE, as in the system prompt. "
        "If you need a file you were not given, ask for it with a READ block.\n"
    )
