"""Every key the workspace binds (app/tui/keys.py collects them from the code's bindings, as the help screen
shows them) has a row in one of README's key tables: a key added without its README row fails here."""

from __future__ import annotations

import re

from app.tui.keys import collected_keys, key_label
from tests.conftest import REPO


def readme_table_keys(text: str) -> set[str]:
    """The keys named in the first cell of every table row of README ("`y` / `n`", "ctrl+z", "`↑`/`↓`")."""
    keys: set[str] = set()
    for line in text.splitlines():
        if not line.startswith("|") or line.startswith("| ---"):
            continue
        first = line.split("|")[1].replace("`", "")
        keys.update(token for token in re.split(r"[\s,/()]+", first) if token)
    return keys


def test_every_bound_key_has_a_row_in_readme() -> None:
    documented = readme_table_keys((REPO / "README.md").read_text(encoding="utf-8"))
    missing = sorted(
        {
            f"{key} ({one.place}: {one.help})"
            for one in collected_keys()
            for key in one.keys
            if key not in documented
        }
    )
    assert not missing, "keys without a row in README's key tables:\n" + "\n".join(missing)


def test_the_tables_are_read_by_key() -> None:
    keys = readme_table_keys(
        "| key | x |\n| --- | --- |\n| `space`, `↑`/`↓` (`j`/`k`) | a |\n| ctrl+z | b |\n"
    )
    assert {"space", "↑", "↓", "j", "k", "ctrl+z"} <= keys
    assert (
        key_label("right_square_bracket") == "]"
        and key_label("f2") == "F2"
        and key_label("ctrl+r") == "ctrl+r"
    )
