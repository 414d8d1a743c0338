"""The one language table: what ai knows about a file from its extension.

For each extension: the tree-sitter grammar the symbol index parses it with (app/context/languages.py holds the
queries), the language server that checks it (app/background/lsp_launch.py; multilspy's ``code_language``) and the
``languageId`` its documents are opened with, the test runner the language's projects usually use, and how a
goal's words name it (app/context/mentions.py): by its stem (``code``) or at least as a file name (``file``).

The runners themselves (``RUNNERS``): the files at a project's root that say it uses one, the tool it needs on
PATH, and its command; app/fix/testrun.py detects a project's test command by going down this list.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileType:
    grammar: str | None = None  # tree-sitter language; None: only its identifiers are indexed
    server: str | None = None  # the language server's language; None: no server checks it
    language_id: str | None = None  # the LSP languageId, when it is not the server's language
    test_runner: str | None = None  # the runner the language's projects usually use (app/fix/testrun.py)
    # "code": a goal may name it by its stem ("the users module"); "file": a dotted token with this ending is
    # a file name (users.py), not a module path (app.users); "": neither.
    mention: str = ""


@dataclass(frozen=True)
class TestRunner:
    name: str  # as FileType.test_runner names it
    markers: tuple[str, ...]  # files at the project's root that say the project uses it
    tool: str  # the program it needs on PATH
    command: str  # the command line it is run with ("" where app/fix/testrun.py works it out, as for pytest)


# In the order a project is asked about them: the first whose marker is there (and whose tool is found) wins.
RUNNERS: tuple[TestRunner, ...] = (
    TestRunner("cargo test", ("Cargo.toml",), "cargo", "cargo test"),
    TestRunner("go test", ("go.mod",), "go", "go test -v ./..."),
    TestRunner("npm test", ("package.json",), "npm", "npm test --silent"),
    TestRunner("pytest", ("pytest.ini", "conftest.py", "tox.ini", "setup.cfg", "pyproject.toml"), "", ""),
)


def _rows(extensions: str, kind: FileType) -> dict[str, FileType]:
    return {f".{ext}": kind for ext in extensions.split()}


_CODE_ONLY = FileType(mention="code")
_FILE_ONLY = FileType(mention="file")

TABLE: dict[str, FileType] = {
    **_rows("py pyi", FileType("python", "python", test_runner="pytest", mention="code")),
    **_rows("pyw", FileType("python")),
    **_rows("js mjs cjs", FileType("javascript", "typescript", "javascript", "npm test", "code")),
    **_rows("jsx", FileType("javascript", "typescript", "javascriptreact", "npm test", "code")),
    **_rows("ts", FileType("typescript", "typescript", "typescript", "npm test", "code")),
    # The TypeScript server opens these as JavaScript, as it always has here.
    **_rows("mts cts", FileType("typescript", "typescript", "javascript", "npm test")),
    **_rows("tsx", FileType("tsx", "typescript", "typescriptreact", "npm test", "code")),
    **_rows("go", FileType("go", "go", test_runner="go test", mention="code")),
    **_rows("rs", FileType("rust", "rust", test_runner="cargo test", mention="code")),
    **_rows("java", FileType("java", "java", mention="code")),
    # clangd serves C and C++ alike.
    **_rows("c h", FileType("c", "cpp", mention="code")),
    **_rows("cc cpp cxx hpp hh", FileType("cpp", "cpp", mention="code")),
    **_rows("c++ hxx ipp inl", FileType("cpp")),
    **_rows("rb", FileType(server="ruby", mention="code")),
    **_rows("kt kts", FileType(server="kotlin", mention="code")),
    **_rows("cs", FileType(server="csharp", mention="code")),
    **_rows("dart", FileType(server="dart", mention="code")),
    **_rows("php", FileType(server="php", mention="code")),
    **_rows("ex exs", FileType(server="elixir", mention="code")),
    **_rows("m mm swift pl lua r scala erl hs ml clj vue svelte sh bash zsh sql", _CODE_ONLY),
    **_rows(
        "ps1 md rst txt toml yaml yml json jsonc cfg ini conf html htm css scss sass less xml csv lock tf proto "
        "gradle env pem key properties mk cmake",
        _FILE_ONLY,
    ),
}

# Extensions without their dot, as a goal's words are matched against them.
FILE_EXTENSIONS = frozenset(ext[1:] for ext, kind in TABLE.items() if kind.mention in ("code", "file"))
CODE_EXTENSIONS = frozenset(ext[1:] for ext, kind in TABLE.items() if kind.mention == "code")


def file_type(relpath: str) -> FileType | None:
    """The row for a path's extension (lower case), or None."""
    name = relpath.rsplit("/", 1)[-1].lower()
    dot = name.rfind(".")
    return TABLE.get(name[dot:]) if dot > 0 else None


def grammar_of(relpath: str) -> str | None:
    """The tree-sitter language for a path, or None (then only its identifiers are indexed)."""
    kind = file_type(relpath)
    return kind.grammar if kind else None


def server_of(relpath: str) -> str | None:
    """The language whose server checks this path, or None."""
    kind = file_type(relpath)
    return kind.server if kind else None


def language_id_of(relpath: str) -> str | None:
    """The LSP languageId a document of this path is opened with, or None when no server checks it."""
    kind = file_type(relpath)
    if kind is None or kind.server is None:
        return None
    return kind.language_id or kind.server
