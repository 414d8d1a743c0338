"""`ai --suggest` and the suggestions API on small real projects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.config import Config
from app.session.store import ProjectStore
from app.suggest import Suggestion, start_build, suggest
from app.suggest.signals import function_stats
from app.trust import trust_current
from tests.conftest import git, run_ai
from tests.support.fix_project import TEST_CMD, env_for

CART = """\
# TODO: support coupons
def total(items):
    return sum(i["price"] * i["qty"] for i in items)


def describe(order, verbose=False, compact=False):
    parts = []
    if order.get("id"):
        parts.append(f"order {order['id']}")
    if verbose and order.get("customer"):
        parts.append(order["customer"])
    for item in order.get("items", []):
        if item.get("qty", 0) > 1 and not compact:
            parts.append(f"{item['qty']} x {item['name']}")
        elif item.get("qty", 0) == 1:
            parts.append(item["name"])
        elif compact and item.get("qty", 0) > 1:
            parts.append(item["name"] + "*")
        else:
            parts.append("?")
    while len(parts) > 10 and compact:
        parts.pop()
    try:
        text = ", ".join(parts)
    except TypeError:
        text = "?"
    return text if text else "empty"
"""

CART_TESTS = """\
from shop.cart import total


def test_total():
    assert total([{"price": 2, "qty": 3}]) == 6


def test_total_missing_qty():
    assert total([{"price": 2}]) == 2
"""


@pytest.fixture
def shop(git_project: Path) -> Path:
    root = git_project
    (root / "shop").mkdir()
    (root / "shop/__init__.py").write_text("")
    (root / "shop/cart.py").write_text(CART)
    body = "\n".join(f"    x{i} = {i}" for i in range(60))
    (root / "shop/report.py").write_text(
        f"def build_report(rows):\n{body}\n    return rows  # FIXME: sort the rows\n"
    )
    (root / "tests").mkdir()
    (root / "tests/test_cart.py").write_text(CART_TESTS)
    (root / ".ai-agent.toml").write_text(f"test_cmd = {TEST_CMD!r}\n")
    trust_current(root)
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "shop")
    return root


def test_suggest_json_on_a_small_project(shop: Path) -> None:
    result = run_ai("--suggest", "--json", cwd=shop)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])  # the last event: the list
    assert report["ranked_by"] == "heuristic"
    items = report["suggestions"]
    by_kind = {(s["kind"], s["place"]) for s in items}
    assert ("failing_test", "shop/cart.py:3") in by_kind
    assert ("complex_function", "shop/cart.py:6") in by_kind
    assert ("long_function", "shop/report.py:1") in by_kind
    assert ("todo", "shop/cart.py:1") in by_kind and ("todo", "shop/report.py:62") in by_kind
    first = items[0]
    assert first["kind"] == "failing_test" and "KeyError" in first["reason"]
    assert [s["rank"] for s in items] == list(range(1, len(items) + 1))
    for item in items:
        assert item["reason"] and item["goal"]
        assert item["command"].startswith(f"ai --session {item['session']} --build ")
    todo = next(s for s in items if s["place"] == "shop/report.py:62")
    assert todo["reason"] == "sort the rows" and todo["session"] == "todo-report-py"


def test_suggest_text_names_place_reason_and_the_command(shop: Path) -> None:
    result = run_ai("--suggest", cwd=shop)
    assert result.returncode == 0, result.stderr
    assert (
        " 1. [failing test] shop/cart.py:3: tests/test_cart.py::test_total_missing_qty fails" in result.stdout
    )
    assert (
        "] shop/cart.py:6: describe is complex\n    why: 22 lines, cyclomatic complexity 14\n"
        in result.stdout
    )
    assert "start: ai --session improve-build-report --build 'Refactor `build_report`" in result.stdout


def test_the_model_ranks_when_one_is_configured(shop: Path, model) -> None:
    server = model([{"reply": "Most important first:\n[3, 1]"}])
    result = run_ai("--suggest", "--json", cwd=shop, env=env_for(server))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])  # the last event: the list
    assert report["ranked_by"] == "model"
    (request,) = server.chat_requests()
    listing = request["body"]["messages"][-1]["content"]
    heuristic = [
        line.split("] ", 1)[1].split(": ", 1)[0] for line in listing.splitlines() if line[:1].isdigit()
    ]
    places = [s["place"] for s in report["suggestions"]]
    assert places[:2] == [heuristic[2], heuristic[0]]  # the model's order, then the rest in heuristic order
    assert places[2:] == [p for i, p in enumerate(heuristic) if i not in (0, 2)]


async def test_patterns_across_sessions_and_the_background_snapshot(shop: Path) -> None:
    store = ProjectStore(shop)
    for name in ("alpha", "beta"):
        session = store.session(name)
        session.record_change({"id": f"c-{name}", "goal": "fix: KeyError in cart", "files": ["shop/cart.py"]})
        session.append_message(
            "user", "fix: KeyError", kind="fix", fix_errors=[{"kind": "KeyError", "file": "shop/cart.py"}]
        )
    store.session("beta").append_message(
        "event", "fix rejected: too broad", kind="fix_rejected", files=["shop/cart.py"]
    )
    long_reason = (
        "not applied: the user said no because the change rewrites the whole cart module and its tests"
    )
    store.session("alpha").append_message("event", f"fix rejected: {long_reason}", kind="fix_rejected")
    # a headless run that only showed its proposal rejected nothing
    store.session("beta").append_message("event", "proposal rejected: nothing applied: run again with --yes")
    main = store.session("main")
    main.save_background(
        {
            "version": 1,
            "tests": {
                "command": "pytest",
                "passed": 1,
                "failed": 1,
                "failures": [
                    {
                        "test_id": "tests/test_cart.py::test_x",
                        "file": "tests/test_cart.py",
                        "line": 9,
                        "message": "boom",
                    }
                ],
            },
            "diagnostics": {
                "shop/cart.py": [
                    {
                        "path": "shop/cart.py",
                        "line": 2,
                        "column": 1,
                        "end_line": 2,  # as BackgroundState writes it (and needs it to read it back)
                        "end_column": 5,
                        "severity": "error",
                        "message": "undefined name",
                        "source": "pyright",
                    }
                ]
            },
        }
    )
    report = await suggest(shop, session=main, config=Config(), function_budget=5.0)
    kinds = {s.kind: s for s in report.suggestions}
    assert kinds["recurring_fix"].title == "shop/cart.py was fixed 2 times"
    assert "alpha, beta" in kinds["recurring_fix"].reason
    assert kinds["recurring_error"].title == "KeyError keeps coming back"
    assert kinds["rejected_proposals"].title == "2 proposal(s) were rejected"
    # A long reason is shortened at a word, and says so; never cut mid-word.
    assert kinds["rejected_proposals"].reason == (
        "not applied: the user said no because the change rewrites the whole cart...; too broad"
    )
    assert kinds["diagnostic"].place == "shop/cart.py:2" and kinds["diagnostic"].reason == "undefined name"
    assert kinds["failing_test"].title == "tests/test_cart.py::test_x fails"
    assert report.notes[0] == "failing tests: from the last background test run of session main"
    assert [s.kind for s in report.suggestions[:2]] == ["failing_test", "diagnostic"]
    # A session without test results of its own gets what the project last knew, not a new test run.
    other = await suggest(shop, session=store.session("alpha"), config=Config(), function_budget=5.0)
    assert other.notes[0] == "failing tests: from the last background test run of session main"
    assert "tests/test_cart.py::test_x fails" in [s.title for s in other.suggestions]


def test_start_build_gives_a_goal_and_a_new_session_name(shop: Path) -> None:
    store = ProjectStore(shop)
    store.session("todo-cart-py")
    item = Suggestion(
        "todo", "TODO in shop/cart.py", "support coupons", "shop/cart.py", 1, 15.0, "Resolve the TODO"
    )
    assert start_build(shop, item, store) == ("Resolve the TODO", "todo-cart-py-2")


@pytest.mark.parametrize(
    ("name", "source", "expected"),
    [
        ("a.js", b"function f(a) { if (a && b) { return 1 } for (;;) {} return a ? 1 : 2 }\n", ("f", 5)),
        (
            "a.go",
            b"package a\nfunc F(x int) int {\n\tif x > 0 || x < -5 {\n\t\treturn 1\n\t}\n\treturn 0\n}\n",
            ("F", 3),
        ),
        ("a.rs", b"fn f(x: i32) -> i32 {\n    match x { 0 => 1, _ => 2 }\n}\n", ("f", 3)),
    ],
)
def test_complexity_in_other_languages(name: str, source: bytes, expected: tuple[str, int]) -> None:
    from app.context.languages import language_of

    language = language_of(name)
    assert language is not None
    (stats,) = function_stats(name, source, language)
    assert (stats.name, stats.complexity) == expected
