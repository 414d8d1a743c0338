"""One file in, its index record out: content hash, symbols (tree-sitter) and identifiers (a tokenizer).

This runs in worker processes during a build, so it keeps per-process caches of parsers and compiled queries
and returns plain tuples (cheap to pickle).
"""

from __future__ import annotations

import os
import re
import time
import zlib
from dataclasses import dataclass
from typing import Any

import orjson

from app.context.inventory import looks_binary
from app.context.languages import QUERIES, REFERENCE, language_of
from app.project.secrets import holds_private_key, is_secret
from app.text.textfile import content_hash

# Files above this size are recorded but not parsed: minified bundles and data dumps, not code to read.
MAX_INDEXED_BYTES = 1_000_000
# A file modified this recently may change again within the clock's granularity: store no mtime for it, so
# the next refresh re-hashes it instead of trusting the stat (git's "racily clean" rule).
RACY_WINDOW_NS = 2_000_000_000
# Identifiers: letters, digits and underscores not starting with a digit; 2 to 64 characters.
_IDENTIFIER = re.compile(r"[^\W\d]\w+")
MIN_IDENTIFIER = 2
MAX_IDENTIFIER = 64

_CPP_HEADER = re.compile(rb"^\s*(?:class|namespace|template)\b", re.MULTILINE)
# (name, kind, line, end_line), lines 1-based.
SymbolRow = tuple[str, str, int, int]


@dataclass(frozen=True)
class FileRecord:
    path: str
    size: int
    mtime_ns: int  # 0 when racy: not to be trusted on the next refresh
    hash: str
    lang: str  # language name, "text" (identifiers only) or "skipped" (binary, too large)
    symbols: list[SymbolRow] | None  # None: unchanged since the known hash
    tokens: list[str] | None
    # The stored forms, packed in the worker so the process writing the database has less to do.
    symbols_blob: bytes = b""
    tokens_blob: bytes = b""


def identifiers(text: str) -> list[str]:
    """The distinct identifiers of a text, sorted."""
    return sorted({t for t in _IDENTIFIER.findall(text) if len(t) <= MAX_IDENTIFIER})


def extract_file(root: str, relpath: str, known_hash: str | None = None) -> FileRecord | None:
    """Read and index one file; None when it is gone or unreadable. With `known_hash` equal to the
    content's hash, symbols and tokens are left out (the caller keeps what it has).

    A secrets file (app/project/secrets.py) is recorded by its stat alone, never read: a goal can name it,
    but nothing of it can reach a search, the repo map or a prompt through the index. A file that holds a
    private key is recorded without its symbols and identifiers, like a binary."""
    full = os.path.join(root, relpath)
    if is_secret(relpath):
        try:
            st = os.stat(full)
        except OSError:
            return None
        digest = f"secret-{st.st_size}-{st.st_mtime_ns}"
        if digest == known_hash:
            return FileRecord(relpath, st.st_size, st.st_mtime_ns, digest, "", None, None)
        return FileRecord(
            relpath, st.st_size, st.st_mtime_ns, digest, "secret", [], [], pack_symbols([]), pack_tokens([])
        )
    try:
        with open(full, "rb") as handle:
            st = os.fstat(handle.fileno())
            data = handle.read(MAX_INDEXED_BYTES + 1)
    except OSError:
        return None
    mtime_ns = st.st_mtime_ns
    if time.time_ns() - mtime_ns < RACY_WINDOW_NS:
        mtime_ns = 0
    digest = content_hash(data)
    if digest == known_hash:
        return FileRecord(relpath, st.st_size, mtime_ns, digest, "", None, None)
    if len(data) > MAX_INDEXED_BYTES or looks_binary(data) or holds_private_key(data):
        return FileRecord(
            relpath, st.st_size, mtime_ns, digest, "skipped", [], [], pack_symbols([]), pack_tokens([])
        )
    text = data.decode("utf-8", "replace")
    lang = language_of(relpath)
    if lang == "c" and relpath.endswith(".h") and _CPP_HEADER.search(data):
        lang = "cpp"  # a C++ header: the C grammar would drop its classes
    symbols: list[SymbolRow] = []
    if lang is not None:
        symbols = parse_symbols(lang, data)
    tokens = identifiers(text)
    return FileRecord(
        relpath,
        st.st_size,
        mtime_ns,
        digest,
        lang or "text",
        symbols,
        tokens,
        pack_symbols(symbols),
        pack_tokens(tokens),
    )


def pack_symbols(rows: list[SymbolRow]) -> bytes:
    return zlib.compress(orjson.dumps(rows), 1)


def pack_tokens(tokens: list[str]) -> bytes:
    return zlib.compress("\n".join(tokens).encode("utf-8"), 1)


def extract_batch(root: str, items: list[tuple[str, str | None]]) -> list[FileRecord | tuple[str, None]]:
    """Worker entry point: a batch amortises the process round trip. A gone file comes back as (path, None)."""
    out: list[FileRecord | tuple[str, None]] = []
    for relpath, known in items:
        record = extract_file(root, relpath, known)
        out.append(record if record is not None else (relpath, None))
    return out


# -- tree-sitter -----------------------------------------------------------------------------------------

_PARSERS: dict[str, tuple[Any, Any]] = {}


def _parser_and_query(lang: str) -> tuple[Any, Any]:
    cached = _PARSERS.get(lang)
    if cached is None:
        import tree_sitter

        from app.context.languages import load_language

        language: Any = load_language(lang)
        cached = (tree_sitter.Parser(language), tree_sitter.Query(language, QUERIES[lang]))
        _PARSERS[lang] = cached
    return cached


def parse_symbols(lang: str, data: bytes) -> list[SymbolRow]:
    """Definitions and references of one file, sorted by line, one entry per name node."""
    import tree_sitter

    parser, query = _parser_and_query(lang)
    tree = parser.parse(data)
    cursor = tree_sitter.QueryCursor(query)
    # Keyed by the name node's start byte: the pattern listed first (the most specific) wins.
    by_node: dict[int, tuple[int, SymbolRow]] = {}
    for pattern, captures in cursor.matches(tree.root_node):
        names = captures.get("name")
        if not names:
            continue
        name_node = names[0]
        kind = None
        span_node = name_node
        for capture, nodes in captures.items():
            if capture.startswith("def."):
                kind = capture[4:]
                span_node = nodes[0]
            elif capture.startswith("ref.") and kind is None:
                kind = REFERENCE
        if kind is None:
            continue
        known = by_node.get(name_node.start_byte)
        if known is not None and known[0] <= pattern:
            continue
        text = name_node.text
        if not text:
            continue
        name = text.decode("utf-8", "replace")
        if kind in ("variable", "field") and name.isupper():
            kind = "constant"
        line = name_node.start_point[0] + 1
        end_row, end_column = span_node.end_point
        # A span that ends at column 0 (a #define's newline) ends on the line before.
        end_line = max(line, end_row + 1 if end_column else end_row)
        if kind == REFERENCE:
            end_line = line
        by_node[name_node.start_byte] = (pattern, (name, kind, line, end_line))
    rows = [row for _pattern, row in by_node.values()]
    rows.sort(key=lambda row: (row[2], row[1] == REFERENCE, row[0], row[1]))
    return rows
