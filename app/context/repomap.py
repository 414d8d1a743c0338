"""A repo map for prompts: the definitions that matter most, as an outline within a token budget.

A definition matters when other files refer to its name (tree-sitter references: calls, base classes, type
uses), more so when those files are the goal's files or sit next to them, and most when its own file or its
name is what the goal is about. A name defined in many places shares its references among them. The scoring is
one pass over the stored references, so the map of django (7k files) takes well under a second, and a map once
made is kept in the index until the index changes.

The text is a function of the index and the arguments only: every collection is sorted with full tie-breaks
before it is used, no set or dict order leaks into the output, so two processes (any PYTHONHASHSEED) render
the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import orjson

from app.context.index import SymbolIndex
from app.context.indexquery import Symbol
from app.context.sourcelines import SourceLines

# Kinds worth a line in the map; variables and fields are too many and say too little.
MAP_KINDS = frozenset(
    {"class", "function", "method", "interface", "type", "module", "macro", "constant", "prototype"}
)
CHARS_PER_TOKEN = 4  # a deterministic estimate; no tokenizer needed
LINE_CHARS = 100
# Names defined in more places than this are too generic to say which definition a mention means.
MAX_DEFINERS = 24
# Up to this many definitions, every one is scored; beyond, only the candidates (see rank_definitions).
FULL_RANK_LIMIT = 20_000
# A definition's score is about 0 to 10 from references alone (log of the referring files); the goal's
# nearness is added on top, so it outranks popularity.
WANTED_NAME_BONUS = 14.0
USED_BY_FOCUS_BONUS = 10.0
IN_FOCUS_FILE_BONUS = 8.0
NEIGHBOUR_BONUS = 1.0


def repo_map(
    index: SymbolIndex,
    *,
    focus_files: Sequence[str] = (),
    focus_identifiers: Sequence[str] = (),
    token_budget: int = 2048,
) -> str:
    focus_file_set = sorted({_normal_path(f) for f in focus_files})
    focus_ident_set = sorted(set(focus_identifiers))
    key = orjson.dumps([index.generation(), focus_file_set, focus_ident_set, token_budget]).decode()
    cached = index.cached_map(key)
    if cached is not None:
        return cached
    text = _render(index, focus_file_set, focus_ident_set, token_budget)
    index.store_map(key, text)
    return text


def rank_definitions(
    index: SymbolIndex,
    focus_files: Sequence[str],
    focus_identifiers: Sequence[str],
    token_budget: int = 2048,
) -> list[tuple[float, Symbol]]:
    """(score, definition), best first; ties by path, line, name."""
    kinds = sorted(MAP_KINDS)
    stats = index.reference_stats()  # name -> (referring files, weighted uses)
    focus = sorted(set(focus_files))
    focus_dirs = sorted({_parent(f) for f in focus})
    wanted = sorted(set(focus_identifiers))
    used_by_focus = index.names_used_by(focus)

    if index.definition_count(kinds) <= FULL_RANK_LIMIT:
        definitions = index.definitions_for_map(kinds, None, (), ())
    else:
        # Too many to score one by one: the names most referred to (enough to fill the budget several times
        # over), the goal's names and what its files use, and everything in and beside its files.
        wanted_lines = max(1, token_budget) * CHARS_PER_TOKEN // 20
        top = sorted(stats, key=lambda name: (-math.log1p(stats[name][1]) * _name_weight(name), name))
        names = set(top[: max(500, wanted_lines * 3)]) | set(wanted)
        for used in used_by_focus.values():
            names |= used
        definitions = index.definitions_for_map(kinds, sorted(names), focus, focus_dirs)
    if not definitions:
        return []

    names_seen = sorted({d.name for d in definitions})
    definers = index.definer_counts(kinds, names_seen)
    own_uses = index.self_reference_weights(names_seen)
    total_files = max(2, index.file_count())
    focus_set, focus_dir_set, wanted_set = set(focus), set(focus_dirs), set(wanted)

    scored: list[tuple[float, Symbol]] = []
    for d in definitions:
        count = max(1, definers.get(d.name, 1))
        referring, weight = stats.get(d.name, (0, 0))
        # References from the defining file itself say little about its importance elsewhere.
        incoming = max(0, weight - own_uses.get((d.name, d.path), 0))
        score = 0.0 if count > MAX_DEFINERS else math.log1p(incoming / count) * _name_weight(d.name)
        score += 0.01 * _kind_weight(d.kind)  # a class outranks a helper nobody mentions
        # Nearness to the goal: its names first, then what its files use, then what they define.
        if d.name in wanted_set:
            score += WANTED_NAME_BONUS
        if (
            count <= MAX_DEFINERS
            and referring
            and any(d.name in names for path, names in used_by_focus.items() if path != d.path)
        ):
            # Rarer names say more: a call of `replace` or `super` may mean anything.
            rarity = max(0.0, math.log(total_files / referring) / math.log(total_files))
            score += USED_BY_FOCUS_BONUS * rarity / count
        if d.path in focus_set:
            score += IN_FOCUS_FILE_BONUS
        elif _parent(d.path) in focus_dir_set:
            score += NEIGHBOUR_BONUS
        scored.append((round(score, 9), d))
    scored.sort(key=lambda item: (-item[0], item[1].path, item[1].line, item[1].name, item[1].kind))
    return scored


def _render(
    index: SymbolIndex, focus_files: Sequence[str], focus_identifiers: Sequence[str], budget: int
) -> str:
    ranked = rank_definitions(index, focus_files, focus_identifiers, budget)
    max_chars = max(0, budget) * CHARS_PER_TOKEN
    lines = SourceLines(index.root)
    chosen: dict[str, list[tuple[int, str]]] = {}
    file_order: list[str] = []
    used = 0
    misses = 0
    for _score, d in ranked:
        text = _outline_line(lines, d.path, d.line)
        entry = f"{d.line:>5}: {text}"
        cost = len(entry) + 1
        if d.path not in chosen:
            cost += len(d.path) + 2
        if used + cost > max_chars:
            misses += 1
            if misses > 200:
                break
            continue
        if d.path not in chosen:
            chosen[d.path] = []
            file_order.append(d.path)
        chosen[d.path].append((d.line, entry))
        used += cost
    out: list[str] = []
    for path in file_order:
        out.append(f"{path}:")
        out.extend(entry for _line, entry in sorted(set(chosen[path])))
    return "\n".join(out) + ("\n" if out else "")


def _name_weight(name: str) -> float:
    weight = 1.0
    if "_" in name.strip("_") or any(ch.isupper() for ch in name[1:]):
        weight *= 1.5  # a compound name (snake_case, CamelCase) means one thing; `get` means many
    if name.startswith("_"):
        weight *= 0.2  # private: rarely what a goal is about
    if len(name) < 4:
        weight *= 0.5
    return weight


def _kind_weight(kind: str) -> float:
    return {"class": 3.0, "interface": 3.0, "type": 2.0, "function": 2.0, "module": 1.5}.get(kind, 1.0)


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _normal_path(path: str) -> str:
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def _outline_line(lines: SourceLines, path: str, number: int) -> str:
    raw = lines.line(path, number)
    if raw is None:
        return ""
    text = raw.rstrip().expandtabs(4)
    return text if len(text) <= LINE_CHARS else text[: LINE_CHARS - 1] + "…"
