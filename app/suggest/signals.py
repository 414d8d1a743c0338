"""The signals suggestions are made from, each a function of the project (and its sessions) giving
``Suggestion``s with a place and a reason: failing tests, language-server diagnostics, TODO/FIXME comments, long
or complex functions (tree-sitter), and patterns across the project's sessions (files fixed again and again,
recurring error kinds, rejected proposals)."""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.events import Diagnostic, TestFailure
from app.fix.parsers import ParsedError

LONG_FUNCTION_LINES = 50
COMPLEX_FUNCTION = 10  # cyclomatic complexity above which a function is called complex
MAX_SOURCE_BYTES = 300_000
FUNCTION_SCAN_SECONDS = 8.0  # a big project is scanned for this long, then the scan says how far it got
MAX_TODOS = 200


@dataclass
class Suggestion:
    kind: str  # failing_test, diagnostic, todo, long_function, complex_function, recurring_fix, ...
    title: str
    reason: str
    path: str = ""
    line: int = 0
    score: float = 0.0
    goal: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def place(self) -> str:
        if not self.path:
            return ""
        return f"{self.path}:{self.line}" if self.line else self.path

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "place": self.place,
            "path": self.path,
            "line": self.line,
            "reason": self.reason,
            "score": round(self.score, 2),
            "goal": self.goal,
        }


# -- failing tests and diagnostics --------------------------------------------------------------------------------


def failing_test_suggestions(failures: Iterable[ParsedError | TestFailure]) -> list[Suggestion]:
    """From a test run's errors with test ids, or the failing tests of the background snapshot."""
    found: list[Suggestion] = []
    for failure in failures:
        test_id, path, line, message = failure.test_id, failure.file, failure.line, failure.message
        kind = failure.kind if isinstance(failure, ParsedError) else ""
        first = message.strip().splitlines()[0] if message.strip() else "fails"
        what = f"{kind}: {first}" if kind and not first.startswith(kind) else first
        name = test_id or path or "the test suite"
        found.append(
            Suggestion(
                kind="failing_test",
                title=f"{name} fails",
                reason=what[:200],
                path=path,
                line=line,
                score=100.0,
                goal=f"Make the failing test {name} pass ({what[:160]}"
                + (f", at {path}:{line}" if path else "")
                + "). Fix the code under test, not the test, unless the test is wrong.",
                details={"test_id": test_id},
            )
        )
    return found


def diagnostic_suggestions(diagnostics: dict[str, list[Diagnostic]]) -> list[Suggestion]:
    """From the background snapshot's open diagnostics (path -> the file's diagnostics)."""
    found: list[Suggestion] = []
    for path, items in sorted(diagnostics.items()):
        for item in items:
            severity = item.severity
            if severity not in ("error", "warning"):
                continue
            line = item.line
            message = item.message.strip().splitlines()[0] if item.message.strip() else ""
            source = item.source or "language server"
            found.append(
                Suggestion(
                    kind="diagnostic",
                    title=f"{severity} from {source}",
                    reason=message[:200],
                    path=path,
                    line=line,
                    score=80.0 if severity == "error" else 30.0,
                    goal=f"Fix the {severity} {source} reports at {path}:{line}: {message[:200]}",
                )
            )
    return found


# -- TODO / FIXME -------------------------------------------------------------------------------------------------

_TODO = r"\b(TODO|FIXME|XXX|HACK)\b"
_TODO_WEIGHT = {"FIXME": 25.0, "XXX": 20.0, "HACK": 20.0, "TODO": 15.0}


def todo_suggestions(root: Path, limit: int = MAX_TODOS) -> list[Suggestion]:
    from app.context.search import RipgrepMissing, search_regex

    try:
        hits = search_regex(root, _TODO, limit=limit)
    except RipgrepMissing:
        return []
    found: list[Suggestion] = []
    for hit in hits:
        text = hit.snippet.strip()
        match = re.search(_TODO, text)
        if not match:
            continue
        word = match.group(1)
        note = text[match.end() :].lstrip(" :-(").strip() or text
        found.append(
            Suggestion(
                kind="todo",
                title=f"{word} in {hit.path}",
                reason=note[:200],
                path=hit.path,
                line=hit.line,
                score=_TODO_WEIGHT[word],
                goal=f"Resolve the {word} at {hit.path}:{hit.line}: {note[:200]}",
            )
        )
    return found


# -- long or complex functions (tree-sitter) ----------------------------------------------------------------------

FUNCTION_NODES = frozenset(
    {
        "function_definition",  # python, c, c++
        "function_declaration",  # javascript, typescript, go
        "generator_function_declaration",
        "method_definition",  # javascript, typescript
        "method_declaration",  # go, java
        "constructor_declaration",
        "function_item",  # rust
        "arrow_function",
        "function_expression",
        "func_literal",
    }
)
DECISION_NODES = frozenset(
    {
        "if_statement",
        "elif_clause",
        "if_expression",
        "for_statement",
        "for_in_statement",
        "for_expression",
        "enhanced_for_statement",
        "while_statement",
        "while_expression",
        "do_statement",
        "loop_expression",
        "case_clause",
        "switch_case",
        "switch_label",
        "case_statement",
        "expression_case",
        "type_case",
        "communication_case",
        "match_arm",
        "except_clause",
        "catch_clause",
        "conditional_expression",
        "ternary_expression",
        "boolean_operator",
        "if_clause",
        "for_in_clause",
    }
)
_LOGICAL = frozenset({"&&", "||", "??"})


@dataclass
class FunctionStats:
    path: str
    name: str
    line: int
    end_line: int
    complexity: int

    @property
    def lines(self) -> int:
        return self.end_line - self.line + 1


def function_stats(relpath: str, source: bytes, language: str) -> list[FunctionStats]:
    """Every function of one file with its span and cyclomatic complexity (decisions + 1; nested functions
    count on their own)."""
    import tree_sitter

    from app.context.languages import load_language

    parser = tree_sitter.Parser(load_language(language))  # type: ignore[arg-type]
    tree = parser.parse(source)
    found: list[FunctionStats] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type in FUNCTION_NODES:
            found.append(
                FunctionStats(
                    relpath,
                    _function_name(node),
                    node.start_point[0] + 1,
                    node.end_point[0] + 1,
                    _complexity(node),
                )
            )
        stack.extend(reversed(node.children))
    return found


def _function_name(node: Any) -> str:
    name = node.child_by_field_name("name")
    if name is None and node.type == "function_definition":  # C: the declarator holds the name
        declarator = node.child_by_field_name("declarator")
        while declarator is not None and declarator.child_by_field_name("declarator") is not None:
            declarator = declarator.child_by_field_name("declarator")
        name = declarator
    if name is None and node.parent is not None and node.parent.type in ("variable_declarator", "pair"):
        name = node.parent.child_by_field_name("name") or node.parent.child_by_field_name("key")
    if name is None or name.text is None:
        return "(anonymous)"
    text: bytes = name.text
    return text.decode("utf-8", "replace")


def _complexity(function: Any) -> int:
    count = 1
    stack = list(function.children)
    while stack:
        node = stack.pop()
        if node.type in FUNCTION_NODES:
            continue  # a nested function is its own entry
        if node.type in DECISION_NODES:
            count += 1
        elif node.type == "binary_expression":
            operator = node.child_by_field_name("operator")
            if operator is not None and operator.type in _LOGICAL:
                count += 1
        stack.extend(node.children)
    return count


def function_suggestions(
    root: Path, files: list[str], *, budget_seconds: float = FUNCTION_SCAN_SECONDS
) -> tuple[list[Suggestion], str]:
    """Long or complex functions in the project's source files; and a note when the time budget cut the scan."""
    from app.context.languages import language_of
    from app.project.reader import ReadRefused, read_for_model

    began = time.monotonic()
    found: list[Suggestion] = []
    sources = [(f, lang) for f in files if (lang := language_of(f)) is not None]
    scanned = 0
    for relpath, language in sources:
        if time.monotonic() - began > budget_seconds:
            break
        scanned += 1
        try:
            # The guarded reader: the names and sizes of these functions go to the model for ranking, so a
            # link out of the project or a secrets file gives none (binaries and huge files are refused too).
            data = read_for_model(root, relpath).raw
        except ReadRefused:
            continue
        if len(data) > MAX_SOURCE_BYTES:
            continue
        try:
            stats = function_stats(relpath, data, language)
        except Exception:  # a grammar that cannot load or parse this file: skip the file, not the scan
            continue
        for fn in stats:
            suggestion = _function_suggestion(fn)
            if suggestion is not None:
                found.append(suggestion)
    note = ""
    if scanned < len(sources):
        note = f"functions: scanned {scanned} of {len(sources)} source files within {budget_seconds:.0f} s"
    return found, note


def _function_suggestion(fn: FunctionStats) -> Suggestion | None:
    long, complex_ = fn.lines > LONG_FUNCTION_LINES, fn.complexity > COMPLEX_FUNCTION
    if not (long or complex_):
        return None
    what = " and ".join(w for w, on in (("long", long), ("complex", complex_)) if on)
    kind = "complex_function" if complex_ else "long_function"
    score = (20.0 + fn.complexity if complex_ else 0.0) + (10.0 + fn.lines / 10 if long else 0.0)
    return Suggestion(
        kind=kind,
        title=f"{fn.name} is {what}",
        reason=f"{fn.lines} lines, cyclomatic complexity {fn.complexity}",
        path=fn.path,
        line=fn.line,
        score=score,
        goal=(
            f"Refactor `{fn.name}` in {fn.path} (lines {fn.line}-{fn.end_line}: {fn.lines} lines, complexity "
            f"{fn.complexity}) into smaller, well-named functions without changing its behaviour; keep the tests "
            "passing."
        ),
        details={
            "function": fn.name,
            "end_line": fn.end_line,
            "lines": fn.lines,
            "complexity": fn.complexity,
        },
    )


def _not_a_refusal(note: str) -> bool:
    """A headless run that only showed its proposal, or a dry run, did not reject anything."""
    reason = note.split(":", 1)[-1].strip()
    return reason.startswith(("nothing applied", "dry run"))


def _join_shortened(reasons: list[str], each: int, total: int) -> str:
    """The reasons joined with "; ", each and the whole cut at a word with "..." rather than mid-word."""
    joined = "; ".join(_shorten_at_word(reason, each) for reason in reasons)
    return _shorten_at_word(joined, total)


def _shorten_at_word(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 3].rsplit(" ", 1)[0].rstrip(" ;,:")
    return f"{cut}..."


# -- patterns across the project's sessions -----------------------------------------------------------------------


def session_pattern_suggestions(store: Any) -> list[Suggestion]:
    """Files fixed again and again, error kinds that keep coming back, proposals that were rejected: read
    from every session of the project."""
    fixed_files: Counter[str] = Counter()
    fixed_in: defaultdict[str, set[str]] = defaultdict(set)
    error_kinds: Counter[str] = Counter()
    kind_files: defaultdict[str, set[str]] = defaultdict(set)
    rejected: list[tuple[str, str, list[str]]] = []  # (session, reason, files)
    for meta in store.list_sessions():
        session = store.session(meta.name, create=False)
        for change in session.changes():
            if str(change.get("goal", "")).startswith("fix:") and not change.get("undone"):
                for path in change.get("files", []):
                    fixed_files[path] += 1
                    fixed_in[path].add(meta.name)
        for message in session.messages():
            kind = message.get("kind")
            if kind == "fix":
                for error in message.get("fix_errors", []) or []:
                    error_kinds[str(error.get("kind", ""))] += 1
                    if error.get("file"):
                        kind_files[str(error.get("kind", ""))].add(str(error["file"]))
            elif (
                kind == "fix_rejected"
                or (
                    message.get("role") == "event"
                    and str(message.get("content", "")).startswith("proposal rejected")
                )
            ) and not _not_a_refusal(str(message.get("content", ""))):
                rejected.append(
                    (meta.name, str(message.get("content", "")), list(message.get("files", []) or []))
                )
    found: list[Suggestion] = []
    for path, count in fixed_files.most_common():
        if count < 2:
            break
        sessions = ", ".join(sorted(fixed_in[path]))
        found.append(
            Suggestion(
                kind="recurring_fix",
                title=f"{path} was fixed {count} times",
                reason=f"fixes applied in sessions {sessions}",
                path=path,
                score=60.0 + 5 * count,
                goal=(
                    f"{path} needed {count} fixes (sessions {sessions}). Find the underlying weakness, make it "
                    "robust, and add tests that cover the cases that broke."
                ),
            )
        )
    for kind, count in error_kinds.most_common():
        if count < 2 or not kind:
            break
        files = sorted(kind_files[kind])
        found.append(
            Suggestion(
                kind="recurring_error",
                title=f"{kind} keeps coming back",
                reason=f"{count} fixes started for {kind}" + (f" in {', '.join(files[:3])}" if files else ""),
                path=files[0] if len(files) == 1 else "",
                score=50.0 + 5 * count,
                goal=f"{kind} was hit {count} times"
                + (f" in {', '.join(files[:5])}" if files else "")
                + ". Find why it recurs and prevent the whole class of error, with tests.",
            )
        )
    if len(rejected) >= 1:
        files = sorted({f for _, _, fs in rejected for f in fs})
        reasons = _join_shortened(sorted({r.split(":", 1)[-1].strip() for _, r, _ in rejected}), 80, 200)
        found.append(
            Suggestion(
                kind="rejected_proposals",
                title=f"{len(rejected)} proposal(s) were rejected",
                reason=reasons or "rejected",
                path=files[0] if len(files) == 1 else "",
                score=30.0 + 5 * len(rejected),
                goal="Earlier proposals were rejected"
                + (f" (files {', '.join(files[:5])})" if files else "")
                + f": {reasons}. Revisit what was wanted and propose a smaller, clearer change.",
            )
        )
    return found
