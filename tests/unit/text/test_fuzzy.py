"""The fuzzy matcher of the ``@`` completion: subsequence matches, ranked by basename hits, segment starts,
contiguity and shorter paths."""

from __future__ import annotations

from app.text.fuzzy import FuzzyIndex, score


def ranked(paths: list[str], fragment: str) -> list[str]:
    return [match.path for match in FuzzyIndex(paths).rank(fragment)]


def test_a_path_matches_when_the_fragment_is_a_subsequence_in_any_case() -> None:
    assert score("usr", "app/Users.py") is not None
    assert score("usr", "app/models.py") is None
    assert ranked(["app/models.py", "app/users.py"], "USR") == ["app/users.py"]


def test_a_hit_in_the_file_name_beats_one_spread_over_folders() -> None:
    assert ranked(["users/service/repo.py", "app/usr.py"], "usr") == ["app/usr.py", "users/service/repo.py"]


def test_segment_starts_beat_letters_inside_words() -> None:
    assert ranked(["app/museum_trip.py", "app/main_screen.py"], "ms") == [
        "app/main_screen.py",
        "app/museum_trip.py",
    ]
    assert ranked(["app/formatMessage.ts", "app/forms.ts"], "fm")[0] == "app/formatMessage.ts"


def test_adjacent_letters_beat_scattered_ones() -> None:
    assert ranked(["app/u_s_e_r.py", "app/users.py"], "user")[0] == "app/users.py"


def test_of_equal_hits_the_shorter_path_comes_first() -> None:
    assert ranked(["deep/down/the/tree/users.py", "app/users.py"], "users") == [
        "app/users.py",
        "deep/down/the/tree/users.py",
    ]


def test_typing_on_narrows_and_backspacing_widens_again() -> None:
    index = FuzzyIndex(["app/users.py", "app/user_admin.py", "docs/usage.md"])
    assert len(index.rank("us")) == 3
    assert [m.path for m in index.rank("user")] == ["app/users.py", "app/user_admin.py"]
    assert [m.path for m in index.rank("usera")] == ["app/user_admin.py"]
    assert len(index.rank("us")) == 3  # not the narrowed list of "usera"


def test_an_empty_fragment_lists_the_shortest_paths_and_limit_bounds_the_answer() -> None:
    index = FuzzyIndex([f"pkg/module_{n}.py" for n in range(100)] + ["setup.py"])
    assert index.rank("")[0].path == "setup.py"
    assert len(index.rank("mod", limit=8)) == 8
