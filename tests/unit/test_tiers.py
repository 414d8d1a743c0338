"""The tier markers (tests/conftest.py): a test's tier is the folder it lives in, and every test has exactly one."""

from __future__ import annotations

import pytest

from tests.conftest import TESTS, TIERS, tier_of


def test_every_test_file_lives_in_a_tier_folder() -> None:
    outside = [str(p.relative_to(TESTS)) for p in TESTS.rglob("test_*.py") if tier_of(p) is None]
    assert not outside, f"test files outside tests/<tier>/: {outside}"
    assert all((TESTS / tier).is_dir() for tier in TIERS)


def test_a_file_takes_its_tier_from_its_top_folder() -> None:
    assert tier_of(TESTS / "unit/edits/test_anything.py") == "unit"
    assert tier_of(TESTS / "tui/test_workspace.py") == "tui"
    assert tier_of(TESTS / "e2e/tui/test_tmux.py") == "e2e"
    assert tier_of(TESTS / "integration/fix/test_fix_loop.py") == "integration"
    assert tier_of(TESTS / "support/escapes.py") is None


def test_this_test_carries_one_tier_marker(request: pytest.FixtureRequest) -> None:
    tiers = [mark.name for mark in request.node.iter_markers() if mark.name in TIERS]
    assert tiers == ["unit"]
