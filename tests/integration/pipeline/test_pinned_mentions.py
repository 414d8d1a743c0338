"""``@path`` in a goal (what the input's completion writes) pins that file into the goal's context: read in full
and never cut or dropped by the context budget; an ``@path`` that names no project file is said so. Real builds
against the scripted model server: the planning request it received is what is checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.context.mentions import extract_mentions
from tests.conftest import git
from tests.integration.pipeline.conftest import build_in_process, first_user_message

NOTHING = "Looked at it.\n<<<<<<< CREATE NOTES.md\nlooked\n>>>>>>> END\n"
# About 2,500 tokens: over the small budget below, within max_file_tokens.
REPORT = "".join(f"def report_{i}(rows):\n    return len(rows) + {i}  # REPORT-{i}\n\n\n" for i in range(160))


@pytest.fixture
def shop(git_project: Path) -> Path:
    (git_project / "shop").mkdir()
    (git_project / "shop" / "report.py").write_text(REPORT)
    (git_project / "shop" / "users.py").write_text("class User:\n    pass  # USERS-MARKER\n")
    git(git_project, "add", ".")
    git(git_project, "commit", "-q", "-m", "shop")
    return git_project


async def planning_request(shop: Path, model_server, goal: str, **config: Any) -> tuple[str, str]:
    server = model_server([{"reply": NOTHING}])
    code, out, err = await build_in_process(shop, server, goal, **config)
    assert code == 0, err
    return first_user_message(server.chat_requests()[0]), out


def test_an_at_path_is_a_pin_and_an_at_word_is_a_word() -> None:
    mentions = extract_mentions("rename @shop/users.py's User, add @dataclass, see @README.md")
    assert mentions.pinned == ["shop/users.py", "README.md"]
    assert "dataclass" in mentions.code_identifiers + mentions.words


async def test_a_pinned_file_is_sent_in_full(shop: Path, model_server) -> None:
    text, _ = await planning_request(shop, model_server, "give @shop/users.py an email field")
    assert "class User:\n    pass  # USERS-MARKER\n" in text
    assert "pinned: @shop/users.py" in text


async def test_a_pinned_file_is_not_cut_by_the_budget_where_a_named_one_is(shop: Path, model_server) -> None:
    budget = {"context_tokens": 1200, "max_file_tokens": 8000}
    named, _ = await planning_request(shop, model_server, "speed up report_7 in shop/report.py", **budget)
    assert "outline and relevant regions" in named and "REPORT-150" not in named
    pinned, _ = await planning_request(shop, model_server, "speed up report_7 in @shop/report.py", **budget)
    assert REPORT in pinned
    assert "outline and relevant regions" not in pinned


async def test_an_at_path_that_is_no_project_file_is_said_so(shop: Path, model_server) -> None:
    text, out = await planning_request(shop, model_server, "fix @shop/missing.py")
    assert "@shop/missing.py: named in the goal but not found in the project" in out
    assert "- @shop/missing.py" in text.split("# Named but not found in the project")[1]
