"""What the goal's context holds, part by part, for ``ContextReady`` (and so the workspace's context panel and
``--json``): each file with why it is there and its token cost as sent, and each section the context adds.

Pure bookkeeping over what stage 4 fitted (app/llm/prompts.py ``fit_budget``): nothing is read or counted
twice, each figure is the ``tokens`` of the part that goes in the request.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from app.events import ContextEntry, Why

if TYPE_CHECKING:
    from app.llm.prompts import FileContext, Section

# app/llm/prompts.py FileContext.rank: 0-2 named by the goal, 3-4 defines a named symbol, 5 asked with READ.
_LAST_NAMED_RANK = 2
_READ_RANK = 5
# Sections by their key (app/pipeline/preread.py context_sections); any other section is "related".
_SECTION_WHY = {"search": Why.SEARCH, "ambiguous": Why.SEARCH, "repo_map": Why.REPO_MAP}
# The sections' names in a few words (their titles in the request are longer).
SECTION_NAMES = {
    "ambiguous": "symbols defined in many files",
    "repo_map": "repo map",
    "changes": "recent changes",
    "health": "project health",
}


def why_of(file: FileContext, pinned: Collection[str] = ()) -> Why:
    """Why ``file`` is in the context: pinned by the user wins over how the goal named it."""
    if file.path in pinned or getattr(file, "pinned", False):
        return Why.PINNED
    if file.rank >= _READ_RANK:
        return Why.READ
    return Why.NAMED if file.rank <= _LAST_NAMED_RANK else Why.SYMBOL


def file_entries(files: Iterable[FileContext], pinned: Collection[str] = ()) -> list[ContextEntry]:
    """One entry per file as sent (whole, or regions plus outline)."""
    return [ContextEntry(f.path, why_of(f, pinned), f.tokens) for f in files]


def _search_entries(section: Section, hits: Sequence[Any]) -> list[ContextEntry]:
    """The search hits' section split by the file each hit is in (the section's title line counted with the
    first), so the panel says which files the goal's terms were found in and what their lines cost."""
    from app.llm.prompts import estimate_tokens

    lines: dict[str, list[str]] = {}
    for hit in hits:
        lines.setdefault(hit.path, []).append(f"{hit.path}:{hit.line}: {hit.text}")
    if not lines:
        return [ContextEntry(section.title, Why.SEARCH, section.tokens, section=True)]
    costs = {path: estimate_tokens("\n".join(found)) for path, found in lines.items()}
    first = next(iter(costs))
    costs[first] += max(0, section.tokens - sum(costs.values()))
    return [ContextEntry(path, Why.SEARCH, tokens) for path, tokens in costs.items()]


def section_entries(sections: Iterable[Section], hits: Sequence[Any] = ()) -> list[ContextEntry]:
    """One entry per section the budget kept: the search hits by file, AGENTS.md as the file it is, the others
    by their title."""
    out: list[ContextEntry] = []
    for section in sections:
        if section.key == "search":
            out += _search_entries(section, hits)
        elif section.key == "agents":
            out.append(ContextEntry("AGENTS.md", Why.RELATED, section.tokens))
        else:
            why = _SECTION_WHY.get(section.key, Why.RELATED)
            name = SECTION_NAMES.get(section.key, section.title)
            out.append(ContextEntry(name, why, section.tokens, section=True))
    return out
