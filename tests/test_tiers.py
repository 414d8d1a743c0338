"""The tier markers (tests/conftest.py): every test has exactly one, and the mapping of today's files names
files that are there (a file moved into its tier's folder takes its entry's place)."""

from __future__ import annotations

import pytest

from tests.conftest import TESTS, TIERS, TODAYS_TIERS, tier_of


def test_every_entry_of_the_mapping_names_a_test_file_or_folder_that_is_there() -> None:
    missing = [entry for entry in TODAYS_TIERS if not (TESTS / entry).exists()]
    assert not missing, f"tests/conftest.py TODAYS_TIERS names what is not there: {missing}"
    assert set(TODAYS_TIERS.values()) <= set(TIERS)


def test_a_file_takes_its_tier_from_its_folder_then_its_entry_then_integration() -> None:
    assert tier_of(TESTS / "unit/edits/test_anything.py") == "unit"
    assert tier_of(TESTS / "tui/test_workspace.py") == "tui"
    assert tier_of(TESTS / "tui/test_tmux.py") == "e2e"
    assert tier_of(TESTS / "fix/test_parsers.py") == "unit"
    assert tier_of(TESTS / "fix/test_fix_loop.py") == "integration"


def test_this_test_carries_one_tier_marker(request: pytest.FixtureRequest) -> None:
    tiers = [mark.name for mark in request.node.iter_markers() if mark.name in TIERS]
    assert tiers == ["unit"]
