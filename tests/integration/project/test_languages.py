"""One language table: the index's grammar, the language server, its document ids and the goal's file names
all read app/project/languages.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.background.lsp_launch import detect_languages
from app.context.languages import QUERIES, language_of
from app.project.languages import (
    CODE_EXTENSIONS,
    FILE_EXTENSIONS,
    TABLE,
    grammar_of,
    language_id_of,
    server_of,
)


def test_one_row_answers_for_every_part() -> None:
    assert (grammar_of("src/App.TSX"), server_of("src/App.TSX"), language_id_of("src/App.TSX")) == (
        "tsx",
        "typescript",
        "typescriptreact",
    )
    assert (grammar_of("lib/x.h"), server_of("lib/x.h"), language_id_of("lib/x.h")) == ("c", "cpp", "cpp")
    assert (grammar_of("a.rb"), server_of("a.rb")) == (None, "ruby")
    assert (
        grammar_of("README.md") is None and server_of("README.md") is None and language_id_of("x.md") is None
    )
    assert grammar_of(".py") is None  # a hidden file named .py has no extension
    assert language_of is grammar_of
    assert TABLE[".py"].test_runner == "pytest" and TABLE[".rs"].test_runner == "cargo test"


def test_every_grammar_has_its_queries_and_code_is_a_file_name() -> None:
    assert {kind.grammar for kind in TABLE.values() if kind.grammar} <= set(QUERIES)
    assert CODE_EXTENSIONS < FILE_EXTENSIONS
    assert (
        "py" in CODE_EXTENSIONS and "md" in FILE_EXTENSIONS - CODE_EXTENSIONS and "pyw" not in FILE_EXTENSIONS
    )


def test_detected_languages_follow_the_ignore_rule_outside_git(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("vendor/\n")
    (tmp_path / "vendor").mkdir()
    for i in range(3):
        (tmp_path / "vendor" / f"v{i}.go").write_text("package v\n")
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b.ts").write_text("let x = 1\n")
    assert detect_languages(tmp_path) == {"python": 1, "typescript": 1}
    assert detect_languages(tmp_path, limit=2) == {"python": 1}  # .gitignore, a.py: then the walk stops


def test_every_language_s_runner_is_one_the_detection_knows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.fix.testrun import detect_test_command
    from app.project.languages import RUNNERS

    known = {runner.name for runner in RUNNERS}
    named = {kind.test_runner for kind in TABLE.values() if kind.test_runner}
    assert named <= known, named - known
    # The order of the list decides: a Rust crate with a tests folder is a cargo project, when cargo is there.
    (tmp_path / "tests").mkdir()
    (tmp_path / "Cargo.toml").write_text("[package]\n")
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    monkeypatch.setenv("PATH", str(fake_bin))
    assert detect_test_command(tmp_path) != "cargo test"  # no cargo on PATH: the next runner that fits
    cargo = fake_bin / "cargo"
    cargo.write_text("#!/bin/sh\n")
    cargo.chmod(0o755)
    assert detect_test_command(tmp_path) == "cargo test"
