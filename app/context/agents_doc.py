"""``/init``'s AGENTS.md: a deterministic description of the project from its files and its symbol index.

What it says, each from the project itself (no model involved): what the project is (its README's first
paragraph, the description in pyproject.toml, package.json or Cargo.toml), its languages (by the language table,
app/project/languages.py), the layout by top-level folder, the test command (detected, or configured: given by
the caller), and its main modules with their key symbols, ranked as the repo map ranks definitions
(app/context/repomap.py's ``rank_definitions``). The same files and index give the same bytes: every collection
is sorted with full tie-breaks. Secrets files are neither counted nor named.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.project.languages import file_type
from app.project.secrets import is_secret

if TYPE_CHECKING:
    from app.context.index import SymbolIndex

AGENTS_FILE = "AGENTS.md"
MAX_FOLDERS = 20
MAX_MODULES = 12
MAX_SYMBOLS = 6
MAX_ABOUT_CHARS = 600
LANGUAGE_NAMES = {
    "python": "Python",
    "javascript": "JavaScript",
    "typescript": "TypeScript",
    "tsx": "TypeScript",
    "go": "Go",
    "rust": "Rust",
    "java": "Java",
    "c": "C",
    "cpp": "C++",
    "ruby": "Ruby",
    "kotlin": "Kotlin",
    "csharp": "C#",
}
_BADGE_OR_HTML = re.compile(r"^\s*(\[!\[|!\[|<)")


@dataclass(frozen=True)
class TestCommand:
    command: str | None
    source: str  # "configured", "detected" or "" (none)


def language_of(path: str) -> str | None:
    kind = file_type(path)
    name = (kind.grammar or kind.server) if kind is not None else None
    return LANGUAGE_NAMES.get(name, name.title()) if name else None


def _readme_paragraph(root: Path, files: Sequence[str]) -> str | None:
    """The first paragraph of prose in the root's README (headings, badges and HTML skipped)."""
    readme = next((f for f in sorted(files) if "/" not in f and f.lower().startswith("readme")), None)
    if readme is None:
        return None
    try:
        text = (root / readme).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    paragraph: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "```", "---", "===")) or _BADGE_OR_HTML.match(stripped):
            if paragraph:
                break
            continue
        paragraph.append(stripped)
    about = " ".join(paragraph)
    return about[:MAX_ABOUT_CHARS].rstrip() + ("…" if len(about) > MAX_ABOUT_CHARS else "") if about else None


def _manifest_description(root: Path) -> tuple[str, str] | None:
    """(name, description) from the first manifest at the root that has one."""
    for manifest, read in (
        ("pyproject.toml", lambda t: tomllib.loads(t).get("project") or {}),
        ("Cargo.toml", lambda t: tomllib.loads(t).get("package") or {}),
        ("package.json", json.loads),
    ):
        try:
            data = read((root / manifest).read_text(encoding="utf-8"))
        except (OSError, ValueError, tomllib.TOMLDecodeError):
            continue
        if isinstance(data, dict) and (data.get("description") or data.get("name")):
            return str(data.get("name") or ""), str(data.get("description") or "")
    return None


def _about(root: Path, files: Sequence[str]) -> list[str]:
    lines: list[str] = []
    manifest = _manifest_description(root)
    if manifest is not None:
        name, description = manifest
        lines.append(
            f"`{name}`: {description}" if name and description else f"`{name}`" if name else description
        )
    paragraph = _readme_paragraph(root, files)
    if paragraph:
        lines.append(paragraph)
    return lines or ["(No README or package description found: say here what the project is for.)"]


def _languages(files: Sequence[str]) -> list[str]:
    counts = Counter(lang for f in files if (lang := language_of(f)) is not None)
    return [
        f"{lang} ({count} file{'s' * (count != 1)})"
        for lang, count in sorted(counts.items(), key=lambda i: (-i[1], i[0]))
    ]


def _layout(files: Sequence[str]) -> list[str]:
    folders: dict[str, list[str]] = {}
    top_files: list[str] = []
    for path in files:
        head, sep, _rest = path.partition("/")
        if sep:
            folders.setdefault(head, []).append(path)
        else:
            top_files.append(path)
    lines = []
    for folder in sorted(folders, key=lambda name: (-len(folders[name]), name))[:MAX_FOLDERS]:
        inside = folders[folder]
        langs = Counter(lang for f in inside if (lang := language_of(f)) is not None)
        main = ", ".join(lang for lang, _ in sorted(langs.items(), key=lambda i: (-i[1], i[0]))[:2])
        count = len(inside)
        lines.append(f"- `{folder}/`: {count} file{'s' * (count != 1)}" + (f" ({main})" if main else ""))
    if len(folders) > MAX_FOLDERS:
        lines.append(f"- and {len(folders) - MAX_FOLDERS} more folders")
    if top_files:
        shown = ", ".join(f"`{f}`" for f in sorted(top_files)[:12])
        more = f" and {len(top_files) - 12} more" if len(top_files) > 12 else ""
        lines.append(f"- at the root: {shown}{more}")
    return lines


def _main_modules(index: SymbolIndex | None, allowed: set[str]) -> list[str]:
    if index is None:
        return ["(The symbol index is not available: the main modules are not listed.)"]
    from app.context.repomap import rank_definitions

    ranked = rank_definitions(index, (), ())
    best: dict[str, float] = {}
    names: dict[str, list[str]] = {}
    for score, symbol in ranked:  # best first, ties broken by path, line, name
        if symbol.path not in allowed or symbol.name.startswith("_"):
            continue
        best.setdefault(symbol.path, score)
        chosen = names.setdefault(symbol.path, [])
        if symbol.name not in chosen and len(chosen) < MAX_SYMBOLS:
            chosen.append(symbol.name)
    order = sorted(best, key=lambda path: (-best[path], path))[:MAX_MODULES]
    if not order:
        return ["(The symbol index found no definitions.)"]
    return [f"- `{path}`: " + ", ".join(f"`{name}`" for name in names[path]) for path in order]


def agents_document(root: Path, files: Sequence[str], index: SymbolIndex | None, tests: TestCommand) -> str:
    """AGENTS.md's text for the project at ``root`` with these ``files`` (relative paths) and symbol index."""
    listed = sorted({f for f in files if not is_secret(f) and f != AGENTS_FILE})
    parts = [
        "# AGENTS.md",
        "",
        "Instructions for coding agents working on this project. Written by `ai` (`/init`) from the "
        "project's files and symbol index; edit it freely, `ai` sends it with every goal.",
        "",
        "## What this project is",
        "",
        *_about(root, listed),
        "",
    ]
    languages = _languages(listed)
    parts += [f"{len(listed)} files" + (": " + ", ".join(languages) if languages else "") + ".", ""]
    parts += ["## Layout", "", *_layout(listed), ""]
    parts += ["## Tests", ""]
    if tests.command:
        parts.append(f"Run the tests with `{tests.command}` ({tests.source}).")
    else:
        parts.append("No test command was detected: set `test_cmd` in .ai-agent.toml.")
    parts += ["", "## Main modules and their key symbols", "", *_main_modules(index, set(listed)), ""]
    return "\n".join(parts)
