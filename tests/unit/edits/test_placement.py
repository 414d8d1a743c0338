"""Where a hunk may go once the file changed: files made of look-alike blocks, an edit, then the file perturbed
(edits of the user's, copies of lines, the changed lines rewritten). Whatever the perturbation, the result is
the edit at its own place or a conflict, never the edit on a look-alike elsewhere.

"Its own place" is judged by where each line of the perturbed file came from (the test knows, the code under
test does not): the changed lines may go only between the nearest lines that survive from around them. Where
the same text has other readings, their places count too: a copy put right next to its original reads as well
the other way round, and the reading with the fewest lines removed and added (a longest common subsequence)
is as good as the one the test happened to make. An edit of the user's away from the change never blocks it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from app.text.diffs import CONTEXT_LINES, Hunk, HunkConflict, apply_hunks, carry_changes, compute_hunks

FILE_LINES = ["def f(x):\n", "    a = x\n", "    b = a\n", "    return b\n", "\n", "    x = 1\n"]
AI_LINES = [*FILE_LINES, "    a = x + 1\n"]
USER_LINES = ["    u = 0\n", "    v = 1\n", "# mine\n"]  # never in the file before: a user's edit is visible

Tags = tuple[int | None, ...]  # per line of a perturbed file: the recorded line it is, or None (new)


@dataclass(frozen=True)
class Change:
    """One hunk's changed lines in the recorded text and what replaces them (as the engine defines them)."""

    start: int
    core: tuple[str, ...]
    replacement: tuple[str, ...]


@dataclass(frozen=True)
class Step:
    start: int
    end: int  # lines [start, end) of the text before this step are replaced by ``lines``
    lines: tuple[str, ...]


def changes_of(hunks: Sequence[Hunk], *, reverse: bool = False) -> list[Change]:
    found = []
    for hunk in hunks:
        old, new = (hunk.new_lines, hunk.old_lines) if reverse else (hunk.old_lines, hunk.new_lines)
        start = hunk.new_start if reverse else hunk.old_start
        lead = 0
        while lead < min(len(old), len(new)) and old[lead] == new[lead]:
            lead += 1
        trail = 0
        while trail < min(len(old), len(new)) - lead and old[-1 - trail] == new[-1 - trail]:
            trail += 1
        found.append(Change(start + lead, old[lead : len(old) - trail], new[lead : len(new) - trail]))
    return found


@st.composite
def look_alike_file(draw: st.DrawFn) -> list[str]:
    template = draw(st.lists(st.sampled_from(FILE_LINES), min_size=3, max_size=6))
    lines: list[str] = []
    for _ in range(draw(st.integers(min_value=2, max_value=5))):
        block = list(template)
        if draw(st.booleans()):
            block[draw(st.integers(0, len(block) - 1))] = draw(st.sampled_from(FILE_LINES))
        lines.extend(block)
    return lines


@st.composite
def edited(draw: st.DrawFn, original: list[str]) -> list[str]:
    """``original`` with one or two of its ranges replaced by look-alike lines (a real change)."""
    cuts = sorted(draw(st.lists(st.integers(0, len(original)), min_size=2, max_size=4)))
    if len(cuts) == 3:
        cuts = cuts[:2]
    result: list[str] = []
    taken = 0
    for start, end in zip(cuts[::2], cuts[1::2], strict=True):
        result.extend(original[taken:start])
        result.extend(draw(st.lists(st.sampled_from(AI_LINES), max_size=3)))
        taken = end
    result.extend(original[taken:])
    if result == original:
        result = [*original, "    a = x + 1\n"]
    return result


@st.composite
def perturbation(draw: st.DrawFn, text: list[str], changes: list[Change], tags: Tags) -> Step:
    """One edit of the file as it now is: a user's edit somewhere, a copy of some of its lines put somewhere
    (ai's changed lines among them, when drawn), or a rewrite of one hunk's changed lines."""
    kind = draw(st.sampled_from(["edit", "copy", "rewrite"]))
    if kind == "rewrite" and changes:
        change = draw(st.sampled_from(changes))
        here = [i for i, tag in enumerate(tags) if tag == change.start]
        start = here[0] if here else draw(st.integers(0, len(text)))
        end = min(len(text), start + max(1, len(change.core)))
        return Step(start, end, tuple(draw(st.lists(st.sampled_from(USER_LINES), min_size=1, max_size=2))))
    if kind == "copy" and text:
        first = draw(st.integers(0, len(text) - 1))
        last = draw(st.integers(first + 1, min(len(text), first + 1 + 2 * CONTEXT_LINES)))
        at = draw(st.integers(0, len(text)))
        return Step(at, at, tuple(text[first:last]))
    start = draw(st.integers(0, len(text)))
    end = draw(st.integers(start, min(len(text), start + 3)))
    lines = tuple(draw(st.lists(st.sampled_from(USER_LINES), min_size=0 if end > start else 1, max_size=2)))
    return Step(start, end, lines)


def perform(text: list[str], step: Step) -> list[str]:
    return [*text[: step.start], *step.lines, *text[step.end :]]


def readings(text: list[str], tags: Tags, step: Step) -> set[Tags]:
    """Every way of reading ``step``'s result as the same-sized edit of ``text`` (a copy put before its
    original reads as well as one put after it), with the lines' origins under each."""
    after = perform(text, step)
    removed, added = step.end - step.start, len(step.lines)
    found = set()
    for start in range(len(text) - removed + 1):
        if after[:start] == text[:start] and after[start + added :] == text[start + removed :]:
            found.add((*tags[:start], *(None,) * added, *tags[start + removed :]))
    return found


def allowed_places(current: list[str], tags: Tags, change: Change) -> list[int]:
    """Where ``change`` may go under one reading: its lines as recorded, between the nearest lines that
    survive from before and after them."""
    end = change.start + len(change.core)
    before = [i for i, tag in enumerate(tags) if tag is not None and tag < change.start]
    after = [i for i, tag in enumerate(tags) if tag is not None and tag >= end]
    low = before[-1] + 1 if before else 0
    high = after[0] if after else len(current)
    n = len(change.core)
    return [at for at in range(low, high - n + 1) if tuple(current[at : at + n]) == change.core]


def lcs_tables(a: Sequence[str], b: Sequence[str]) -> tuple[list[list[int]], list[list[int]]]:
    """prefix[i][j]: the longest common subsequence of a[:i] and b[:j]; suffix[i][j]: of a[i:] and b[j:]."""
    prefix = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, j in itertools.product(range(len(a)), range(len(b))):
        prefix[i + 1][j + 1] = prefix[i][j] + 1 if a[i] == b[j] else max(prefix[i][j + 1], prefix[i + 1][j])
    suffix = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, j in itertools.product(range(len(a) - 1, -1, -1), range(len(b) - 1, -1, -1)):
        suffix[i][j] = suffix[i + 1][j + 1] + 1 if a[i] == b[j] else max(suffix[i + 1][j], suffix[i][j + 1])
    return prefix, suffix


def fewest_edits_places(recorded: list[str], current: list[str], change: Change) -> list[int]:
    """Where ``change`` may go when the perturbation is read as the fewest lines removed and added: places
    where its lines pair with the recorded ones in a longest common subsequence of the two texts. (With
    look-alike lines that reading can differ from how the test made the perturbation, and is as good.)"""
    prefix, suffix = lcs_tables(recorded, current)
    best = prefix[len(recorded)][len(current)]
    start, n = change.start, len(change.core)
    return [
        at
        for at in range(len(current) - n + 1)
        if tuple(current[at : at + n]) == change.core
        and prefix[start][at] + n + suffix[start + n][at + n] == best
    ]


def acceptable_results(
    recorded: list[str], current: list[str], all_tags: set[Tags], changes: list[Change]
) -> list[list[str]]:
    fewest = [fewest_edits_places(recorded, current, change) for change in changes]
    results = []
    for tags in all_tags:
        options = [
            sorted(set(allowed_places(current, tags, change)) | set(also))
            for change, also in zip(changes, fewest, strict=True)
        ]
        for places in itertools.product(*options):
            spans = [(at, at + len(c.core)) for at, c in zip(places, changes, strict=True)]
            if any(spans[i][1] > spans[i + 1][0] for i in range(len(spans) - 1)):
                continue
            result, taken = [], 0
            for (start, end), change in zip(spans, changes, strict=True):
                result.extend(current[taken:start])
                result.extend(change.replacement)
                taken = end
            result.extend(current[taken:])
            results.append(result)
    return results


def windows_intact(
    current: list[str], all_tags: set[Tags], changes: list[Change], recorded_length: int
) -> bool:
    """Under every reading, every change's lines and CONTEXT_LINES a side around them survive untouched."""
    for tags in all_tags:
        for change in changes:
            first = max(0, change.start - CONTEXT_LINES)
            last = min(recorded_length, change.start + len(change.core) + CONTEXT_LINES)
            wanted = tuple(range(first, last))
            spots = [i for i in range(len(tags) - len(wanted) + 1) if tags[i : i + len(wanted)] == wanted]
            if not spots:
                return False
            at = spots[0]
            if (first == 0 and at != 0) or (last == recorded_length and at + len(wanted) != len(tags)):
                return False
    return True


Scenario = tuple[list[str], list[str], list[str], set[Tags], list[Change], list[Step]]


@st.composite
def scenario(draw: st.DrawFn, max_steps: int = 2) -> Scenario:
    """(recorded text, target text, perturbed text, every reading's origins, the changes, the steps)."""
    original = draw(look_alike_file())
    target = draw(edited(original))
    if draw(st.booleans()):
        original, target = target, original  # an undo: the text after the change is the recorded one
    changes = changes_of(compute_hunks(original, target))  # where the perturbations aim; close enough
    text = list(original)
    all_tags: set[Tags] = {tuple(range(len(original)))}
    steps: list[Step] = []
    for _ in range(draw(st.integers(1, max_steps))):
        step = draw(perturbation(text, changes, next(iter(sorted(all_tags, key=str)))))
        all_tags = {t for tags in all_tags for t in readings(text, tags, step)}
        text = perform(text, step)
        steps.append(step)
    return original, target, text, all_tags, changes, steps


def check(
    result: list[str] | None,
    recorded: list[str],
    current: list[str],
    all_tags: set[Tags],
    changes: list[Change],
) -> None:
    if result is None:
        return  # a conflict: refusing is always allowed
    assert result in acceptable_results(recorded, current, all_tags, changes), (
        "the change went to a look-alike"
    )


def placed(
    current: list[str], hunks: list[Hunk], *, reverse: bool = False, recorded: list[str] | None = None
) -> list[str] | None:
    try:
        return apply_hunks(current, hunks, reverse=reverse, recorded=recorded)
    except HunkConflict:
        return None


@settings(max_examples=300, deadline=None)
@given(scenario(), st.sampled_from(["forward", "reverse", "carry"]))
def test_with_the_recorded_text_a_change_goes_to_its_own_place_or_conflicts(case: Scenario, how: str) -> None:
    recorded, target, current, all_tags, _aimed, steps = case
    if how == "forward":
        hunks = compute_hunks(recorded, target)
        changes = changes_of(hunks)
        result = placed(current, hunks, recorded=recorded)
    elif how == "reverse":  # undo: the hunks were made target -> recorded and are applied backwards
        hunks = compute_hunks(target, recorded)
        changes = changes_of(hunks, reverse=True)
        result = placed(current, hunks, reverse=True, recorded=recorded)
    else:  # the commit: HEAD's version (current) with the change that turned recorded into target
        changes = changes_of(compute_hunks(recorded, target, context=0))
        result = carry_changes(current, recorded, target)
    check(result, recorded, current, all_tags, changes)
    user_edits_only = all(set(step.lines) <= set(USER_LINES) for step in steps)
    if user_edits_only and windows_intact(current, all_tags, changes, len(recorded)):
        assert result is not None, "an edit of the user's away from the change blocked it"


@settings(max_examples=200, deadline=None)
@given(scenario(), st.booleans())
def test_without_the_recorded_text_a_change_goes_to_its_own_line_or_conflicts(
    case: Scenario, reverse: bool
) -> None:
    recorded, target, current, all_tags, _aimed, _steps = case
    hunks = compute_hunks(target, recorded) if reverse else compute_hunks(recorded, target)
    changes = changes_of(hunks, reverse=reverse)
    result = placed(current, hunks, reverse=reverse)
    check(result, recorded, current, all_tags, changes)
