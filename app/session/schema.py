"""The shape of everything a session holds, checked where data comes in: an imported export document, and
every session file and index the store loads (standard library only: ``ai --list-sessions`` uses it).

One schema serves both, because an export (``ai --export-session``) is the session file's tables as lists:
metadata, messages, applied changes (as ``app.edits.apply`` records them, with the file entries and hunks
that ``app.edits.undo`` reads), undo entries and the background snapshot (``app.background.snapshot``).
Only the fields a reader relies on are checked, and extra fields are allowed, so a newer ai's additions
stay readable. A problem names the first bad field by its JSON path:
``changes[2].changes[0].path must be a string (got 7)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from app.paths import is_valid_session_name

# An export of a heavy session (2,000 messages, model replies of a few kB, diffs stored up to 100,000
# characters each by app.edits.apply) is a few tens of MB: 64 MiB leaves room for that and still bounds what
# `--import-session /dev/zero` can make ai read and hold in memory (a parse takes ~5x the text).
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
# What ai writes nests at most 7 deep (export > changes > entry > hunks > lines). orjson refuses to write
# more than 254 levels and Python's recursion stops near 1000, so a cap far below both, and far above what a
# real document needs, turns a hostile document into a usage error before anything reads it recursively.
MAX_DEPTH = 64

EXPORT_FORMAT = "ai-agent-session"
EXPORT_VERSION = 1
MESSAGE_ROLES = ("user", "assistant", "system", "event")
# The kind of the event ``/clear`` stores: the history a later goal sends the model starts after the latest one
# (app/pipeline/preread.history_messages); the messages before it stay stored and shown.
CONTEXT_CLEARED = "context_cleared"
CONTEXT_CLEARED_NOTE = "context cleared: later goals start fresh"


# Where a value sits: () for the top level, else (where its container sits, its key). The JSON path text is
# made only for a report: a check of 2,000 messages then builds no strings.
Where = tuple[Any, ...]
TOP: Where = ()


def _child(where: Where, key: str | int) -> Where:
    return (where, key)


def json_path(where: Where) -> str:
    keys: list[str | int] = []
    while where:
        where, key = where
        keys.append(key)
    text = ""
    for key in reversed(keys):
        if isinstance(key, int):
            text += f"[{key}]"
        elif key.isidentifier():
            text += f".{key}" if text else key
        else:
            text += f"[{json.dumps(key)}]"
    return text


class ShapeError(ValueError):
    """What is wrong with a document, at which field (its JSON path; empty for the top level)."""

    def __init__(self, where: Where | str, problem: str) -> None:
        self.where = where
        self.path = where if isinstance(where, str) else json_path(where)
        self.problem = problem
        super().__init__(f"{self.path} {problem}" if self.path else f"the document {problem}")


def _got(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 40 else text[:36] + '..."'
    if isinstance(value, int | float):
        return repr(value)
    return "a list" if isinstance(value, list) else "an object"


class Spec:
    """One expected shape: ``check`` raises :class:`ShapeError` naming the field."""

    expected = "a value"

    def check(self, value: Any, where: Where) -> None:
        raise NotImplementedError

    def fail(self, value: Any, where: Where) -> ShapeError:
        return ShapeError(where, f"must be {self.expected} (got {_got(value)})")


class _Test(Spec):
    """A value ``test`` accepts; with ``base``, one that is first of that kind (so a number where a path
    belongs reads "must be a string", and only a string that is no path reads "must be a file path")."""

    def __init__(self, expected: str, test: Callable[[Any], bool], base: Spec | None = None) -> None:
        self.expected = expected
        self.test = test
        self.base = base

    def check(self, value: Any, where: Where) -> None:
        if self.base is not None:
            self.base.check(value, where)
        if not self.test(value):
            raise self.fail(value, where)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


STRING = _Test("a string", lambda v: isinstance(v, str))
BOOL = _Test("true or false", lambda v: isinstance(v, bool))
INTEGER = _Test("an integer", _is_int)
COUNT = _Test("a whole number of 0 or more", lambda v: v >= 0, INTEGER)
NUMBER = _Test("a number", lambda v: _is_int(v) or isinstance(v, float))
OBJECT = _Test("an object", lambda v: isinstance(v, dict))
# A file path inside the project: containment is the edit engine's check; NUL would fail every OS call.
PATH = _Test("a file path, not empty and without NUL", lambda v: v != "" and "\0" not in v, STRING)
FILE_MODE = _Test("a file mode from 0 to 0o7777", lambda v: 0 <= v <= 0o7777, INTEGER)
SESSION_NAME = _Test(
    "a session name: 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'",
    is_valid_session_name,
    STRING,
)


class Nullable(Spec):
    def __init__(self, inner: Spec) -> None:
        self.inner = inner
        self.expected = f"null or {inner.expected}"

    def check(self, value: Any, where: Where) -> None:
        if value is not None:
            try:
                self.inner.check(value, where)
            except ShapeError as exc:
                if exc.where is where:  # the value itself is wrong: say that null would do too
                    raise self.fail(value, where) from None
                raise


class OneOf(Spec):
    def __init__(self, *values: Any) -> None:
        self.values = values
        shown = [json.dumps(v) for v in values]
        self.expected = shown[0] if len(shown) == 1 else "one of " + ", ".join(shown)

    def check(self, value: Any, where: Where) -> None:
        if isinstance(value, bool) or value not in self.values or type(value) is not type(self.values[0]):
            raise self.fail(value, where)


class ListOf(Spec):
    def __init__(self, item: Spec) -> None:
        self.item = item
        self.expected = "a list"

    def check(self, value: Any, where: Where) -> None:
        if not isinstance(value, list):
            raise self.fail(value, where)
        for i, item in enumerate(value):
            self.item.check(item, _child(where, i))


class MapOf(Spec):
    """An object whose every value has one shape (its keys, when ``key`` is given, another)."""

    def __init__(self, value: Spec, key: Spec | None = None, expected: str = "an object") -> None:
        self.value = value
        self.key = key
        self.expected = expected

    def check(self, value: Any, where: Where) -> None:
        if not isinstance(value, dict):
            raise self.fail(value, where)
        for k, v in value.items():
            if self.key is not None:
                try:
                    self.key.check(k, where)
                except ShapeError:
                    raise ShapeError(
                        where, f"has the key {_got(k)}, which is not {self.key.expected}"
                    ) from None
            self.value.check(v, _child(where, k))


class Obj(Spec):
    """An object with these fields (``required`` must be there); fields not named here are kept as they are."""

    expected = "an object"

    def __init__(self, required: dict[str, Spec], optional: dict[str, Spec] | None = None) -> None:
        self.required = required
        self.optional = optional or {}

    def check(self, value: Any, where: Where) -> None:
        if not isinstance(value, dict):
            raise self.fail(value, where)
        for key, spec in self.required.items():
            if key not in value:
                raise ShapeError(_child(where, key), f"is missing (it must be {spec.expected})")
            spec.check(value[key], _child(where, key))
        for key, spec in self.optional.items():
            if key in value:
                spec.check(value[key], _child(where, key))


def extend(base: Obj, optional: dict[str, Spec]) -> Obj:
    return Obj(base.required, {**base.optional, **optional})


# -- the records -------------------------------------------------------------------------------------------

META = Obj(
    {"name": SESSION_NAME, "created_at": STRING, "last_used": STRING},
    {"goal_summary": STRING, "change_count": COUNT},
)
EXPORT_META = extend(META, {"is_active": BOOL})

MESSAGE = Obj(
    {"role": OneOf(*MESSAGE_ROLES), "content": STRING},
    {
        "ts": STRING,
        "kind": STRING,
        "outcome": STRING,
        "usage": Nullable(MapOf(Nullable(NUMBER))),
        "files": ListOf(STRING),
        "fix_errors": ListOf(Obj({}, {"kind": STRING, "file": STRING})),
    },
)

HUNK = Obj(
    {
        "index": COUNT,
        "old_start": COUNT,
        "old_lines": ListOf(STRING),
        "new_start": COUNT,
        "new_lines": ListOf(STRING),
    }
)
# One file of an applied change: app.edits.undo reads path, action, post_hash and hunks by name.
FILE_CHANGE = Obj(
    {
        "path": PATH,
        "action": OneOf("create", "modify", "remove"),
        "post_hash": Nullable(STRING),
        "hunks": ListOf(HUNK),
    },
    {"pre_hash": Nullable(STRING), "mode": Nullable(FILE_MODE)},
)
CHANGE = Obj(
    {"id": STRING},
    {
        "session": STRING,
        "goal": STRING,
        "summary": STRING,
        "applied_at": STRING,
        "files": ListOf(STRING),
        "diffs": MapOf(STRING),
        "changes": ListOf(FILE_CHANGE),
        "commit": Nullable(STRING),
        "backup": Nullable(STRING),
        "undone": BOOL,
        "undone_at": Nullable(STRING),
        "undo_id": Nullable(STRING),
        "undo_commit": Nullable(STRING),
        "warning": Nullable(STRING),
        "commit_note": Nullable(STRING),
        "recovered": ListOf(STRING),
    },
)
UNDO = Obj(
    {},
    {
        "id": STRING,
        "undone": STRING,
        "summary": STRING,
        "files": ListOf(STRING),
        "diffs": MapOf(STRING),
        "commit": Nullable(STRING),
        "undone_at": STRING,
        "backup": Nullable(STRING),
        "warning": Nullable(STRING),
        "commit_note": Nullable(STRING),
    },
)

TEST_FAILURE = Obj({"test_id": STRING, "file": STRING, "line": INTEGER, "message": STRING})
TESTS = Obj(
    {},
    {
        "command": STRING,
        "passed": COUNT,
        "failed": COUNT,
        "errors": COUNT,
        "skipped": COUNT,
        "exit_code": Nullable(INTEGER),
        "duration": NUMBER,
        "at": NUMBER,
        "failures": ListOf(TEST_FAILURE),
    },
)
DIAGNOSTIC = Obj(
    {
        "path": STRING,
        "line": INTEGER,
        "column": INTEGER,
        "end_line": INTEGER,
        "end_column": INTEGER,
        "severity": STRING,
        "message": STRING,
    },
    {"source": STRING, "code": STRING},
)
LOG_ERROR = Obj({"path": STRING, "entry": STRING, "kind": STRING}, {"at": NUMBER})
BACKGROUND = Obj(
    {},
    {
        "version": INTEGER,
        "saved_at": NUMBER,
        "tests": Nullable(TESTS),
        "diagnostics": MapOf(ListOf(DIAGNOSTIC)),
        "log_errors": ListOf(LOG_ERROR),
    },
)

EXPORT = Obj(
    {
        "format": OneOf(EXPORT_FORMAT),
        "version": OneOf(EXPORT_VERSION),
        "metadata": EXPORT_META,
        "messages": ListOf(MESSAGE),
        "changes": ListOf(CHANGE),
        "undo": ListOf(UNDO),
    },
    {"background": BACKGROUND},
)

INDEX = Obj(
    {"sessions": MapOf(META, key=SESSION_NAME)},
    {"version": INTEGER, "project": STRING, "active": Nullable(STRING)},
)


class _Tables(Spec):
    """A session file: TinyDB tables, each an object of documents keyed by their integer ids."""

    expected = "an object of tables"
    DOC_ID = _Test("a document id (digits)", lambda k: isinstance(k, str) and k.isdigit())

    def __init__(self, tables: dict[str, Spec]) -> None:
        self.tables = tables

    def check(self, value: Any, where: Where) -> None:
        if not isinstance(value, dict):
            raise self.fail(value, where)
        for name, table in value.items():
            doc = self.tables.get(name, OBJECT)
            MapOf(doc, key=self.DOC_ID, expected="a table of documents").check(table, _child(where, name))


SESSION_FILE = _Tables(
    {"meta": META, "messages": MESSAGE, "changes": CHANGE, "undo": UNDO, "background": BACKGROUND}
)


# -- checks ------------------------------------------------------------------------------------------------


def _items(container: dict[str, Any] | list[Any]) -> Iterator[tuple[Any, Any]]:
    return iter(container.items()) if isinstance(container, dict) else enumerate(container)


def check_depth(value: Any, limit: int = MAX_DEPTH) -> None:
    """Raise :class:`ShapeError` when lists and objects nest deeper than ``limit``. Iterative (a stack of
    iterators, one per open level), so a hostile document cannot exhaust Python's stack here."""
    if not isinstance(value, dict | list):
        return
    stack = [_items(value)]
    keys: list[Any] = []
    while stack:
        for key, child in stack[-1]:
            if isinstance(child, dict | list):
                if len(stack) >= limit:
                    where = TOP
                    for k in [*keys, key]:
                        where = _child(where, k)
                    path = json_path(where)
                    shown = path if len(path) <= 60 else path[:57] + "..."
                    raise ShapeError(shown, f"nests lists and objects deeper than {limit} levels")
                stack.append(_items(child))
                keys.append(key)
                break
        else:
            stack.pop()
            if keys:
                keys.pop()


def export_problem(document: Any) -> str | None:
    """What is wrong with an export document (``ai --import-session``), by its first bad field; None when
    nothing is."""
    if not isinstance(document, dict):
        return f"the document must be a JSON object (got {_got(document)})"
    try:
        check_depth(document)
        EXPORT.check(document, TOP)
    except ShapeError as exc:
        return str(exc)
    return None


def check_session_file(data: Any) -> None:
    check_depth(data)
    SESSION_FILE.check(data, TOP)


def check_index(data: Any) -> None:
    check_depth(data)
    INDEX.check(data, TOP)


def check_record(spec: Spec, record: Any, what: str) -> None:
    """Before the store writes a record: it never writes what it would refuse to read back."""
    try:
        spec.check(record, TOP)
    except ShapeError as exc:
        raise ValueError(f"refusing to store a malformed {what}: {exc}") from None
