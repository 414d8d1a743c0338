"""What a goal names: files (by path, bare file name or module name) and symbols (identifiers).

``extract_mentions(goal)`` is pure text work; ``resolve_mentions`` turns the mentions into project files, through
the file inventory and the symbol index (``app.context.index``), so the pipeline can read every named file in
full before the model plans. Which of them may be sent is the guarded reader's call (app/project/reader.py).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.project.languages import CODE_EXTENSIONS, FILE_EXTENSIONS

# Plain words that are never taken for a module or a symbol the user means.
_STOPWORDS_TEXT = """a an and are as at be but by can do does for from has have how if in into is it its make
    me my no not of on or so than that the their them then there these this to too up use was we
    what when where which while who why will with you your add fix change update remove delete rename
    move create write make should would could please also all any each every new old file files code
    function functions class classes method methods test tests module modules line lines bug error
    return returns value values call calls instead using used need needs want like only just so get set
    import imports via same other more less into onto over under after before see handle ensure support
    allow show print check work works way ways thing things sure let lets now still"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())

_PATHLIKE = re.compile(r"^[\w.\-/\\@+~]+$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
_LINE_REF = re.compile(r"(:\d+)+$")
_EXT = re.compile(r"\.([A-Za-z0-9]{1,10})$")
_STRIP = "'\"`\u201c\u201d\u2018\u2019()[]{}<>,;:!?*"
# More matches than this for a bare word means the word is too common to mean one file.
MAX_WORD_MATCHES = 3
# A named symbol defined in more files than this is listed by its definition sites instead of read in files.
MAX_SYMBOL_FILES = 4


def rg_binary() -> str | None:
    """``rg`` on PATH, or the one the ripgrep wheel put beside this Python."""
    found = shutil.which("rg")
    if found:
        return found
    beside = Path(sys.executable).with_name("rg")
    return str(beside) if beside.is_file() else None


@dataclass
class Mentions:
    """Tokens of a goal, by what they look like. Resolution decides what they are in this project."""

    pinned: list[str] = field(default_factory=list)  # written @app/users.py: that file, read in full, kept
    paths: list[str] = field(default_factory=list)  # with a folder separator: app/users.py
    file_names: list[str] = field(default_factory=list)  # with an extension: users.py
    dotted: list[str] = field(default_factory=list)  # app.users or User.save
    code_identifiers: list[str] = field(default_factory=list)  # snake_case, CamelCase, `quoted`, call()
    words: list[str] = field(default_factory=list)  # plain words that might still be a module or symbol


def _tokens(goal: str) -> Iterable[tuple[str, bool]]:
    """(token, was_quoted) pairs. Backticks or quotes mark a token as code."""
    for raw in goal.split():
        quoted = raw[:1] in "`'\"" or raw.rstrip(".,;:!?)")[-1:] in "`'\""
        token, call = raw, False
        while True:  # peel sentence punctuation, quotes and a call's () in any order
            before = token
            token = token.strip(_STRIP).rstrip(".")
            if token.endswith("("):
                call = True
                token = token[:-1]
            if "()" in before:
                call = True
            token = _LINE_REF.sub("", token)  # ops.py:12 or ops.py:12:4 names the file
            for suffix in ("'s", "\u2019s"):  # ops.py's
                token = token.removesuffix(suffix)
            if token == before:
                break
        if token:
            yield token, quoted or call


def _looks_like_code(token: str, quoted: bool) -> bool:
    if quoted or "_" in token or any(ch.isdigit() for ch in token):
        return True
    # CamelCase or camelCase: an upper-case letter after the first character.
    return any(ch.isupper() for ch in token[1:])


def extract_mentions(goal: str) -> Mentions:
    found = Mentions()
    seen: set[str] = set()

    def add(bucket: list[str], value: str) -> None:
        if value not in seen:
            seen.add(value)
            bucket.append(value)

    for token, quoted in _tokens(goal):
        if "://" in token or not _PATHLIKE.match(token):
            continue
        if token.startswith("@") and len(token) > 1:
            # The completion's mention (@app/users.py): a path, given exactly. One that names no file and
            # does not look like a path (@dataclass) is read as the word it is.
            path = token[1:].replace("\\", "/").removeprefix("./")
            if "/" in path or _EXT.search(path):
                add(found.pinned, path)
                continue
            token = path
        if "/" in token or "\\" in token:
            add(found.paths, token.replace("\\", "/").removeprefix("./"))
        elif _DOTTED.match(token) and token.rsplit(".", 1)[1].lower() not in FILE_EXTENSIONS:
            add(found.dotted, token)
        elif _EXT.search(token) or (token.startswith(".") and len(token) > 1):
            add(found.file_names, token)
        elif _IDENT.match(token):
            if _looks_like_code(token, quoted):
                add(found.code_identifiers, token)
            elif len(token) >= 3 and token.lower() not in STOPWORDS:
                add(found.words, token)
    return found


def key_terms(goal: str, limit: int = 8) -> list[str]:
    """The goal's words worth a text search: identifiers first, then plain words, longest first."""
    m = extract_mentions(goal)
    terms = list(m.code_identifiers)
    for dotted in m.dotted:
        terms.extend(part for part in dotted.split(".") if len(part) >= 3)
    terms.extend(sorted(m.words, key=lambda w: (-len(w), w)))
    unique: list[str] = []
    for term in terms:
        if term not in unique and term.lower() not in STOPWORDS:
            unique.append(term)
    return unique[:limit]


@dataclass
class MentionedFile:
    """A project file the goal names. ``explicit``: named by path or file name (secrets allowed then);
    ``pinned``: written as ``@path`` (the completion's form), read in full and never dropped by the budget."""

    path: str
    reasons: list[str] = field(default_factory=list)
    symbols: list[tuple[str, int, int]] = field(default_factory=list)  # (name, line, end_line) defined here
    explicit: bool = False
    pinned: bool = False
    rank: int = 3  # 0 path, 1 file name, 2 module, 3 symbol, 4 plain word: lower is read first


@dataclass
class Resolution:
    files: list[MentionedFile]
    unresolved: list[str]  # named paths that are not in the project
    terms: list[str]
    # Symbols defined in more than MAX_SYMBOL_FILES files: their definition sites, not the files.
    ambiguous: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


def _definitions(index: Any, name: str) -> list[tuple[str, int, int]]:
    if index is None:
        return []
    try:
        symbols = index.definitions(name)
    except Exception:  # an index that fails must not stop a build: the rg hits still help
        return []
    out = []
    for symbol in symbols:
        path = str(getattr(symbol, "path", ""))
        line = int(getattr(symbol, "line", 0) or 0)
        end = int(getattr(symbol, "end_line", line) or line)
        if path:
            out.append((path, line, end))
    return out


def _grep_definitions(root: Path, name: str) -> list[tuple[str, int, int]]:
    """Without an index: definition-shaped lines found by rg (a fallback, never the main path)."""
    rg = rg_binary()
    if rg is None:
        return []
    pattern = (
        r"^\s*(export\s+)?(async\s+)?(def|class|function|func|fn|struct|interface|type|enum|const|let|var)"
        rf"\s+{re.escape(name)}\b"
    )
    try:
        result = subprocess.run(
            [rg, "-n", "--no-heading", "--max-count", "5", "-e", pattern, "."],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    hits = []
    for line in result.stdout.splitlines()[:20]:
        path, _, rest = line.partition(":")
        number, _, _ = rest.partition(":")
        if number.isdigit():
            hits.append((path.removeprefix("./"), int(number), int(number)))
    return hits


def _pin(
    written: list[str],
    real_root: str,
    is_file: Callable[[str], bool],
    mark: Callable[[str, str, int, bool], MentionedFile],
) -> list[str]:
    """Mark the ``@path`` mentions that are project files as pinned; the others, as written (with their
    ``@``), for the "named in the goal but not found" line."""
    missing: list[str] = []
    for path in written:
        rel = path[len(real_root) :] if path.startswith(real_root) else path.lstrip("/")
        if is_file(rel):
            mark(rel, f"pinned: @{path}", 0, True).pinned = True
        else:
            missing.append(f"@{path}")
    return missing


def resolve_mentions(root: Path, goal: str, files: list[str], index: Any = None) -> Resolution:
    """The project files ``goal`` names, most explicit first. ``files``: the project inventory (relative
    posix paths); ``index``: a ``SymbolIndex`` or None (then rg finds definition lines)."""
    mentions = extract_mentions(goal)
    by_path: dict[str, MentionedFile] = {}
    unresolved: list[str] = []
    inventory = set(files)
    by_name: dict[str, list[str]] = {}
    by_stem: dict[str, list[str]] = {}  # code files only: "users" means users.py, not docs/users.txt
    by_module: dict[str, list[str]] = {}  # path without its extension: app/users, app/users/__init__
    extensions: set[str] = set()
    for path in files:  # string work only: this runs over every file of the project
        folder, _, name = path.rpartition("/")
        stem, dot, ext = name.rpartition(".")
        if not dot or not stem:
            stem, ext = name, ""
        by_name.setdefault(name, []).append(path)
        extensions.add(ext.lower())
        by_module.setdefault(path[: len(path) - len(ext) - 1] if ext else path, []).append(path)
        if ext.lower() in CODE_EXTENSIONS:
            key = folder.rpartition("/")[2] if stem in ("__init__", "index", "mod") else stem
            by_stem.setdefault(key, []).append(path)

    def mark(path: str, reason: str, rank: int, explicit: bool = False) -> MentionedFile:
        entry = by_path.get(path)
        if entry is None:
            entry = by_path[path] = MentionedFile(path=path)
        if reason not in entry.reasons:
            entry.reasons.append(reason)
        entry.rank = min(entry.rank, rank)
        entry.explicit = entry.explicit or explicit
        return entry

    def is_file(rel: str) -> bool:
        return rel in inventory or (root / rel).is_file()

    real_root = str(root.resolve()) + "/"
    unresolved.extend(_pin(mentions.pinned, real_root, is_file, mark))

    for path in mentions.paths:
        rel = path[len(real_root) :] if path.startswith(real_root) else path.lstrip("/")
        if is_file(rel):
            mark(rel, f"named: {path}", 0, explicit=True)
            continue
        # A path from elsewhere (a traceback from CI, another checkout): its longest tail that names 1 to 3
        # files of this project, down to folder/file.
        parts = rel.split("/")
        for cut in range(len(parts) - 1):
            tail = "/".join(parts[cut:])
            hits = [p for p in files if p == tail or p.endswith("/" + tail)]
            if 0 < len(hits) <= MAX_WORD_MATCHES:
                for hit in hits:
                    mark(hit, f"named: {path}", 0, explicit=True)
                break
            if hits:  # too many: a longer tail did not match, a shorter one will not be better
                unresolved.append(path)
                break
        else:
            unresolved.append(path)

    for name in mentions.file_names:
        hits = by_name.get(name, [])
        if not hits and is_file(name):
            hits = [name]
        if hits:
            for hit in sorted(hits)[: MAX_WORD_MATCHES * 2]:
                mark(hit, f"named: {name}", 1, explicit=True)
        elif name.rpartition(".")[2].lower() in extensions:
            unresolved.append(name)

    identifiers = list(mentions.code_identifiers)
    for dotted in mentions.dotted:
        if dotted in by_name:  # a file name after all (an extension this module does not know)
            for hit in sorted(by_name[dotted])[: MAX_WORD_MATCHES * 2]:
                mark(hit, f"named: {dotted}", 1, explicit=True)
            continue
        parts = dotted.split(".")
        module_path = "/".join(parts)
        candidates = by_module.get(module_path, []) + by_module.get(f"{module_path}/__init__", [])
        if not candidates:  # a src/ layout: the module path is a tail of the file path
            tails = ("/" + module_path, f"/{module_path}/__init__")
            candidates = [p for key, paths in by_module.items() if key.endswith(tails) for p in paths]
        if candidates:
            for hit in sorted(candidates)[:MAX_WORD_MATCHES]:
                mark(hit, f"module: {dotted}", 2)
        else:  # Class.method or module.function: the parts are symbols
            identifiers.extend(part for part in parts if len(part) >= 2)

    lookup = _definitions if index is not None else None

    def definitions(name: str) -> list[tuple[str, int, int]]:
        hits = lookup(index, name) if lookup else _grep_definitions(root, name)
        return [h for h in hits if h[0] in inventory or not inventory]

    ambiguous: dict[str, list[tuple[str, int]]] = {}
    for name in identifiers:
        defs = definitions(name)
        if len({d[0] for d in defs}) > MAX_SYMBOL_FILES:  # __init__, run, main: where, not every file whole
            ambiguous[name] = [(path, line) for path, line, _end in defs[:20]]
            continue
        for path, line, end in defs:
            entry = mark(path, f"defines {name}", 3)
            entry.symbols.append((name, line, end))

    # Plain words ("fix subtract", "the orders module") are only a guess, made when the goal names nothing
    # precisely: with a path, a file name, a module or an identifier given, words like "empty" stay words.
    precise = mentions.paths or mentions.file_names or mentions.dotted or mentions.code_identifiers
    for word in [] if precise else mentions.words:
        stems = by_stem.get(word, [])
        if 0 < len(stems) <= MAX_WORD_MATCHES:
            for hit in stems:
                mark(hit, f"module: {word}", 2)
            continue
        defs = definitions(word)
        if 0 < len({d[0] for d in defs}) <= MAX_WORD_MATCHES:
            for path, line, end in defs:
                entry = mark(path, f"defines {word}", 4)
                entry.symbols.append((word, line, end))

    ordered = sorted(by_path.values(), key=lambda f: (f.rank, f.path))
    return Resolution(files=ordered, unresolved=unresolved, terms=key_terms(goal), ambiguous=ambiguous)
