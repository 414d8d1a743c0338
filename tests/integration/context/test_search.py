"""Search by symbol, identifier and regex with the real `rg`, and `ai --search` through the installed command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.context.index import SymbolIndex
from app.context.search import find_rg, search
from app.errors import UsageError
from tests.conftest import git, run_ai

FILES = {
    "billing/invoice.py": (
        "from billing.tax import apply_tax\n"
        "\n"
        "\n"
        "class Invoice:\n"
        "    def total(self):\n"
        "        return apply_tax(self.amount)\n"
    ),
    "billing/tax.py": "RATE = 0.2\n\n\ndef apply_tax(amount):\n    return amount * (1 + RATE)\n",
    "billing/report.py": "def render(invoice):\n    # apply_tax was applied already\n    return str(invoice)\n",
    "docs/guide.md": "Call apply_tax on every invoice amount.\n",
}


@pytest.fixture
def billing(git_project: Path) -> Path:
    for relpath, text in FILES.items():
        target = git_project / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return git_project


def test_identifier_search_puts_the_definition_first(billing: Path) -> None:
    with SymbolIndex.open(billing) as index:
        hits = search(billing, "apply_tax", index=index)
    assert (hits[0].path, hits[0].line, hits[0].snippet) == ("billing/tax.py", 4, "def apply_tax(amount):")
    assert hits[0].kind.startswith("definition")
    found = {(h.path, h.line) for h in hits}
    assert found == {
        ("billing/tax.py", 4),
        ("billing/invoice.py", 1),
        ("billing/invoice.py", 6),
        ("billing/report.py", 2),
        ("docs/guide.md", 1),
    }
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_identifier_mode_with_several_words_needs_all_of_them_in_the_file(billing: Path) -> None:
    hits = search(billing, "apply_tax invoice", mode="identifier")
    assert {h.path for h in hits} == {"billing/report.py", "docs/guide.md"}


def test_symbol_search_exact_and_fuzzy(billing: Path) -> None:
    exact = search(billing, "Invoice", mode="symbol")
    assert (exact[0].path, exact[0].line, exact[0].kind) == ("billing/invoice.py", 4, "definition: class")
    fuzzy = search(billing, "aptx", mode="symbol")
    assert [(h.path, h.line) for h in fuzzy] == [("billing/tax.py", 4)]


def test_regex_search_runs_rg_over_the_project_and_respects_gitignore(billing: Path) -> None:
    (billing / ".gitignore").write_text("build-output/\n")
    (billing / "build-output").mkdir()
    (billing / "build-output" / "copy.py").write_text("def apply_tax(amount): pass\n")
    hits = search(billing, r"def \w+_tax\(", mode="auto")
    assert [(h.path, h.line, h.kind) for h in hits] == [("billing/tax.py", 4, "regex")]


def test_a_bad_regex_is_a_usage_error(billing: Path) -> None:
    with pytest.raises(UsageError, match="unclosed"):
        search(billing, "apply_tax(", mode="regex")


def test_rg_is_the_one_beside_this_python() -> None:
    import sys

    assert find_rg() == str(Path(sys.executable).with_name("rg"))


def test_ai_search_prints_path_line_snippet(billing: Path) -> None:
    git(billing, "add", ".")
    git(billing, "commit", "-q", "-m", "billing")
    result = run_ai("--search", "apply_tax", cwd=billing / "billing")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "billing/tax.py:4: def apply_tax(amount):"
    assert "billing/invoice.py:6: return apply_tax(self.amount)" in lines


def test_ai_search_json_is_one_object_a_line(billing: Path) -> None:
    result = run_ai("--search", "RATE", "--json", cwd=billing)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records[0] == {
        "path": "billing/tax.py",
        "line": 1,
        "kind": "definition: constant",
        "score": records[0]["score"],
        "snippet": "RATE = 0.2",
    }
    assert {r["line"] for r in records if r["path"] == "billing/tax.py"} == {1, 5}


def test_ai_search_errors_are_one_line(billing: Path) -> None:
    bad = run_ai("--search", "a(b", cwd=billing)
    assert bad.returncode == 2
    assert bad.stderr.startswith("ai: rg could not search for 'a(b'") and "Traceback" not in bad.stderr
    clash = run_ai("--search", "x", "--list-sessions", cwd=billing)
    assert clash.returncode == 2 and "cannot be used together" in clash.stderr
    nothing = run_ai("--search", "no_such_identifier_anywhere", cwd=billing)
    assert nothing.returncode == 0 and nothing.stdout == ""


def test_one_letter_names_are_found_by_a_scan(billing: Path) -> None:
    (billing / "billing" / "short.py").write_text("x = 1\ny = x + 1\n")
    hits = search(billing, "x", mode="identifier")
    assert [(h.path, h.line) for h in hits] == [("billing/short.py", 1), ("billing/short.py", 2)]


def test_secrets_files_are_neither_indexed_nor_searched(billing: Path) -> None:
    (billing / ".env").write_text("PAYMENT_KEY=fake_secret_0123456789abcdef\n")
    (billing / "deploy.pem").write_text("not a real key: fake_secret_0123456789abcdef\n")
    (billing / ".env.example").write_text("PAYMENT_KEY=put_your_key_here\n")
    with SymbolIndex.open(billing) as index:
        assert index.files_with_identifier("fake_secret_0123456789abcdef") == []
        assert index.files_with_identifier("PAYMENT_KEY") == [".env.example"]
    assert search(billing, "fake_secret_0123456789abcdef") == []
    assert search(billing, r"fake_secret_\w+", mode="regex") == []


# Secrets files by the names the one rule knows (app/project/secrets.py), and a plain text file that holds a
# private key: none of their lines may be printed, whichever way the search goes.
SECRETS = {
    ".docker/config.json": '{"auths": {"r.example.com": {"registry_token": "fake_secret_docker"}}}\n',
    ".htpasswd": "registry_token:fake_secret_htpasswd\n",
    ".pgpass": "db:5432:shop:registry_token:fake_secret_pgpass\n",
    ".netrc": "machine r.example.com login registry_token password fake_secret_netrc\n",
    ".aws/credentials": "[default]\nregistry_token = fake_secret_aws\n",
    ".env.local": "registry_token=fake_secret_envlocal\n",
    "deploy/prod.env": "registry_token=fake_secret_prodenv\n",
    "config/credentials.json": '{"registry_token": "fake_secret_credentials"}\n',
    "config/secrets.yaml": "registry_token: fake_secret_yaml\n",
    "settings/secrets.py": 'registry_token = "fake_secret_py"\n',
    "certs/server.key": "registry_token fake_secret_keyfile\n",
    "ops/notes.txt": (
        "registry_token: fake_secret_notes\n-----BEGIN OPENSSH PRIVATE KEY-----\n"
        + "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n" * 3
        + "-----END OPENSSH PRIVATE KEY-----\n"
    ),
}


@pytest.mark.parametrize(
    ("query", "mode"),
    [("registry_token", "auto"), ("fake_secret_docker", "auto"), (r"fake_secret_\w+", "regex")],
)
def test_no_line_of_a_secret_is_printed(billing: Path, query: str, mode: str) -> None:
    for relpath, text in SECRETS.items():
        (billing / relpath).parent.mkdir(parents=True, exist_ok=True)
        (billing / relpath).write_text(text)
    (billing / "billing" / "registry.py").write_text("def registry_token():\n    return None\n")
    git(billing, "add", "-f", ".")
    git(billing, "commit", "-q", "-m", "with secrets")
    args = ["--search", query] + (["--json"] if mode == "regex" else [])
    result = run_ai(*args, cwd=billing)
    assert result.returncode == 0, result.stderr
    assert "fake_secret" not in result.stdout
    if query == "registry_token":
        assert result.stdout.splitlines() == ["billing/registry.py:1: def registry_token():"]
    # The same through the library, in every mode that can reach a line.
    for each in ("auto", "identifier", "regex"):
        if each == "identifier" and not query.isidentifier():
            continue
        assert all("fake_secret" not in hit.snippet for hit in search(billing, query, mode=each)), each


def test_several_words_rank_the_lines_holding_all_of_them_first(billing: Path) -> None:
    hits = search(billing, "apply_tax invoice")
    assert (hits[0].path, hits[0].line) == ("docs/guide.md", 1)
    assert hits[0].snippet == "Call apply_tax on every invoice amount."


def test_ai_search_builds_a_large_index_with_worker_processes(project: Path) -> None:
    # Above the parallel threshold: the spawned workers must not re-run the command line (~1-2 s).
    for i in range(450):
        (project / f"m_{i:03}.py").write_text(f"def func_{i}():\n    return helper()\n")
    result = run_ai("--search", "func_123", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "m_123.py:1: def func_123():\n"
