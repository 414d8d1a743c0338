"""Search with three faces: symbol names (exact and fuzzy), identifiers (the index picks the files, `rg` finds
the lines) and full regular expressions (`rg` over the project).

A raw `rg` over 100k files takes one to two seconds; asking the index which files hold an identifier takes
under a millisecond, so `rg` then reads a few files instead of all of them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.context.extract import MAX_IDENTIFIER, MIN_IDENTIFIER
from app.context.index import SymbolIndex
from app.context.indexquery import Symbol
from app.context.inventory import SKIPPED_DIRS
from app.context.sourcelines import SourceLines
from app.errors import AgentError, UsageError
from app.project.reader import LineGuard

MODES = ("auto", "symbol", "identifier", "regex")
SNIPPET_CHARS = 200
# Candidate files handed to one `rg` run; the next batch runs only when the hits are not enough yet.
RG_BATCH = 256
_WORD = re.compile(r"[^\W\d]\w*")
_WORDS_ONLY = re.compile(r"^[\w\s]+$")


@dataclass(frozen=True)
class SearchHit:
    path: str  # relative to the project root, POSIX
    line: int  # 1-based
    snippet: str  # the line, stripped, at most SNIPPET_CHARS characters
    kind: str  # "definition: function", ..., "match" (a line holding the identifier), "regex"
    score: float  # higher is better; hits come sorted by score, then path, then line


class RipgrepMissing(AgentError):
    pass


def find_rg() -> str:
    """The `rg` next to this Python (the `ripgrep` wheel puts it there), else the one on PATH."""
    beside = Path(sys.executable).with_name("rg")
    if beside.is_file():
        return str(beside)
    found = shutil.which("rg")
    if found:
        return found
    raise RipgrepMissing(
        "ripgrep (`rg`) is not installed: `pip install ripgrep` into this environment or put rg on PATH"
    )


def search(
    root: Path,
    query: str,
    *,
    mode: str = "auto",
    limit: int = 50,
    index: SymbolIndex | None = None,
) -> list[SearchHit]:
    """Ranked hits for `query`. `auto`: a single identifier is looked up as a symbol and as an identifier,
    several words as identifiers that must all be in the file, anything else as a regular expression."""
    if mode not in MODES:
        raise UsageError(f"unknown search mode {mode!r}: use one of {', '.join(MODES)}")
    query = query.strip()
    if not query:
        raise UsageError("empty search query")
    root = Path(root).resolve()
    if mode == "regex" or (mode == "auto" and not _WORDS_ONLY.match(query)):
        return search_regex(root, query, limit=limit)
    own_index = index is None
    active = index if index is not None else SymbolIndex.open(root)
    try:
        if mode == "symbol":
            return search_symbols(active, query, limit=limit)
        if mode == "identifier":
            return search_identifiers(active, query, limit=limit)
        words = _WORD.findall(query)
        if len(words) == 1 and words[0] == query:
            hits = _merge(
                search_symbols(active, query, limit=limit, fuzzy=False),
                search_identifiers(active, query, limit=limit),
            )
            return hits[:limit] if hits else search_symbols(active, query, limit=limit)
        return search_identifiers(active, query, limit=limit)
    finally:
        if own_index:
            active.close()


def search_symbols(index: SymbolIndex, query: str, *, limit: int = 50, fuzzy: bool = True) -> list[SearchHit]:
    exact = index.definitions(query)
    symbols: list[tuple[float, Symbol]] = [(10.0, sym) for sym in exact]
    if fuzzy and len(symbols) < limit:
        from app.context.indexquery import fuzzy_score

        seen = {(s.path, s.line, s.name) for s in exact}
        for sym in index.fuzzy(query, limit=limit):
            if (sym.path, sym.line, sym.name) not in seen:
                symbols.append((2.0 + fuzzy_score(query.lower(), sym.name), sym))
    lines = SourceLines(index.root)
    hits = [
        SearchHit(
            sym.path,
            sym.line,
            _snippet(lines.line(sym.path, sym.line) or ""),
            f"definition: {sym.kind}",
            score,
        )
        for score, sym in symbols
    ]
    return _ranked(hits)[:limit]


def search_identifiers(index: SymbolIndex, query: str, *, limit: int = 50) -> list[SearchHit]:
    words = list(dict.fromkeys(_WORD.findall(query)))
    if not words:
        raise UsageError(f"no identifier in {query!r}: search for a regular expression with --search instead")
    indexed = [w for w in words if MIN_IDENTIFIER <= len(w) <= MAX_IDENTIFIER]
    if not indexed:
        # One-letter names are not in the index: only a scan can find them.
        return search_regex(index.root, _words_pattern(words), limit=limit)
    candidates = index.files_with_all(indexed)
    if not candidates:
        return []
    defining: dict[str, set[int]] = {}
    for word in words:
        for sym in index.definitions(word):
            defining.setdefault(sym.path, set()).add(sym.line)
    # Files that define what is searched come first, then the rest in path order.
    ordered = sorted(candidates, key=lambda p: (p not in defining, p))
    hits: list[SearchHit] = []
    lowered = [w.lower() for w in words]
    definition_bonus = 3.0 if len(words) == 1 else 0.5
    for start in range(0, len(ordered), RG_BATCH):
        batch = ordered[start : start + RG_BATCH]
        for path, line, text in _rg_lines(index.root, _words_pattern(words), batch, limit=None):
            present = sum(1 for w in lowered if w in text.lower())
            is_definition = line in defining.get(path, ())
            # One word: its definition first. Several: the lines holding all of them first.
            score = (
                1.0
                + 2.0 * present / len(words)
                + (definition_bonus if is_definition else 0.0)
                + (0.5 if path in defining else 0.0)
            )
            kind = "definition" if is_definition else "match"
            hits.append(SearchHit(path, line, _snippet(text), kind, score))
        if len(hits) >= limit * 2 and start + RG_BATCH >= len(defining):
            break
    return _ranked(hits)[:limit]


def search_regex(root: Path, pattern: str, *, limit: int = 50) -> list[SearchHit]:
    hits = [
        SearchHit(path, line, _snippet(text), "regex", 1.0)
        for path, line, text in _rg_lines(Path(root), pattern, None, limit=limit)
    ]
    return _ranked(hits)[:limit]


# -- ripgrep -----------------------------------------------------------------------------------------------


def _words_pattern(words: Sequence[str]) -> str:
    return r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b"


def _rg_lines(
    root: Path, pattern: str, files: Sequence[str] | None, *, limit: int | None
) -> Iterable[tuple[str, int, str]]:
    """(path, line, text) of the lines matching, by path then line. `files` None: the whole project,
    ignoring what .gitignore ignores and vendored trees. Stops reading after `limit` lines. No line of a
    secrets file or of a file holding a private key is kept (the guarded reader's rules: LineGuard); the
    index's candidates passed its content check already, so only their paths are judged again."""
    command = [
        find_rg(),
        "--no-config",
        "--line-number",
        "--with-filename",
        "--no-heading",
        "--null",
        "--color=never",
        "--no-messages",
        "--max-columns=1000",
        "--max-filesize=1M",
        "-e",
        pattern,
    ]
    if files is None:
        # The project's files by the one ignore rule (app/project/files.py): hidden files count, the
        # .gitignore files apply outside git too, and rg's own .ignore/.rgignore files do not.
        command += ["--hidden", "--no-require-git", "--no-ignore-dot"]
        command += ["--sort=path", *[f"--glob=!{name}/" for name in sorted(SKIPPED_DIRS)]]
        command += ["--", "."]
    else:
        command += ["--", *files]
    guard = LineGuard(root)
    process = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    found: list[tuple[str, int, str]] = []
    try:
        for raw in process.stdout:
            path_bytes, _, rest = raw.partition(b"\0")
            number, _, text = rest.partition(b":")
            if not number.isdigit():
                continue
            path = path_bytes.decode("utf-8", "surrogateescape")
            if path.startswith("./"):
                path = path[2:]
            if not guard.allows(path, indexed=files is not None):
                continue
            found.append((path, int(number), text.decode("utf-8", "replace").rstrip("\r\n")))
            if limit is not None and len(found) >= limit:
                process.kill()
                break
    finally:
        process.stdout.close()
        stderr = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
        if process.stderr:
            process.stderr.close()
        code = process.wait()
    if code == 2 and not found and stderr.strip():
        # rg says 2 for a bad pattern (and for unreadable files, which --no-messages silences).
        first = stderr.strip().splitlines()
        detail = next((line for line in first if line.strip().startswith("error")), first[-1])
        raise UsageError(f"rg could not search for {pattern!r}: {detail.strip()}")
    return found


# -- ranking and snippets ----------------------------------------------------------------------------------


def _ranked(hits: list[SearchHit]) -> list[SearchHit]:
    return sorted(hits, key=lambda h: (-h.score, h.path, h.line, h.kind))


def _merge(first: list[SearchHit], second: list[SearchHit]) -> list[SearchHit]:
    """Both lists, one hit per (path, line): the better scored one."""
    best: dict[tuple[str, int], SearchHit] = {}
    for hit in [*first, *second]:
        key = (hit.path, hit.line)
        if key not in best or hit.score > best[key].score:
            best[key] = hit
    return _ranked(list(best.values()))


def _snippet(text: str) -> str:
    text = text.strip()
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"
