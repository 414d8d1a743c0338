"""Hunks applied backwards to a file another session changed since: the other change stays, ours goes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.text.diffs import apply_hunks, compute_hunks


@st.composite
def two_edits(draw: st.DrawFn) -> tuple[list[str], list[str], list[str], list[str]]:
    """(original, after A, after A then B, original with only B) for an A and a B at least a line apart."""
    n = draw(st.integers(min_value=2, max_value=40))
    original = [f"line {i}\n" for i in range(n)]
    a1 = draw(st.integers(min_value=0, max_value=n - 1))
    a2 = draw(st.integers(min_value=a1, max_value=min(n, a1 + 4)))
    new_a = [f"A {i}\n" for i in range(draw(st.integers(min_value=0 if a2 > a1 else 1, max_value=3)))]
    after_a = original[:a1] + new_a + original[a2:]
    end_a = a1 + len(new_a)
    new_b = [f"B {i}\n" for i in range(draw(st.integers(min_value=0, max_value=3)))]
    before_a = draw(st.booleans()) and a1 >= 2
    if before_a:
        b1 = draw(st.integers(min_value=0, max_value=a1 - 2))
        b2 = draw(st.integers(min_value=b1, max_value=a1 - 1))
        only_b = original[:b1] + new_b + original[b2:]
    else:
        if end_a + 1 > len(after_a):
            b1 = b2 = len(after_a)
            new_b = []
        else:
            b1 = draw(st.integers(min_value=end_a + 1, max_value=len(after_a)))
            b2 = draw(st.integers(min_value=b1, max_value=len(after_a)))
        shift = len(new_a) - (a2 - a1)
        only_b = original[: b1 - shift] + new_b + original[b2 - shift :]
    after_ab = after_a[:b1] + new_b + after_a[b2:]
    return original, after_a, after_ab, only_b


@settings(max_examples=300, deadline=None)
@given(two_edits())
def test_undoing_a_keeps_b(edits: tuple[list[str], list[str], list[str], list[str]]) -> None:
    original, after_a, after_ab, only_b = edits
    hunks = compute_hunks(original, after_a)
    # As undo places them: through the text just after A (which it rebuilds from the backup).
    assert apply_hunks(after_a, hunks, reverse=True, recorded=after_a) == original
    assert apply_hunks(after_ab, hunks, reverse=True, recorded=after_a) == only_b
