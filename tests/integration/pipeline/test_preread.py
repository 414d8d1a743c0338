"""Mandatory pre-reading: the request that carries the plan holds the full text of every file the goal names
(by path, bare file name, module name, or a symbol it defines), within the budget, and never a secrets file
the user did not name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.context.mentions import extract_mentions
from app.project.secrets import is_secret
from tests.conftest import git
from tests.integration.pipeline.conftest import ai_build, build_in_process, first_user_message
from tests.support.user_config import write_user_config

# A valid answer that touches nothing the tests look at (the runs are dry runs: nothing is written); an answer
# without any edit would be asked again and fail the headless run.
NOTHING = "Looked at it.\n<<<<<<< CREATE NOTES.md\nlooked\n>>>>>>> END\n"

USERS = '''"""Users of the shop."""


class User:
    def __init__(self, name: str) -> None:
        self.name = name

    def display_name(self) -> str:
        return self.name.title()  # USERS-MARKER
'''

LOADER = '''import tomllib


def parse_config(text: str) -> dict:
    """Parse the shop's settings.  LOADER-MARKER"""
    return tomllib.loads(text)
'''

HELPERS = "def slugify(text):\n    return text.lower().replace(' ', '-')  # HELPERS-MARKER\n"


@pytest.fixture
def shop(git_project: Path) -> Path:
    files = {
        "shop/__init__.py": "",
        "shop/users.py": USERS,
        "shop/settings/loader.py": LOADER,
        "shop/settings/__init__.py": "",
        "shop/util/helpers.py": HELPERS,
        "shop/orders.py": "from shop.users import User\n\nORDERS = []  # ORDERS-MARKER\n",
        ".env": "API_TOKEN=super-secret-value\n",
        "AGENTS.md": "Run the tests with pytest. AGENTS-MARKER\n",
    }
    for rel, text in files.items():
        path = git_project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(git_project, "add", "-f", ".")
    git(git_project, "commit", "-q", "-m", "shop")
    return git_project


async def _planning_request(shop: Path, model_server, goal: str, **config: Any) -> str:
    """In process (the CLI path is covered by test_build_cli): the user message of the planning request."""
    server = model_server([{"reply": NOTHING}])
    code, _out, err = await build_in_process(shop, server, goal, **config)
    assert code == 0, err
    chats = server.chat_requests()
    assert len(chats) == 1
    return first_user_message(chats[0])


async def test_file_named_by_path_is_sent_in_full(shop: Path, model_server) -> None:
    text = await _planning_request(shop, model_server, "rename display_name in shop/users.py to label")
    assert USERS in text
    assert "AGENTS-MARKER" in text  # project instructions ride along
    repo_map = text.split("## Repo map")[1].split("\n## ")[0]  # and the index's map of the project
    assert "parse_config" in repo_map


async def test_file_named_by_bare_name_is_sent_in_full(shop: Path, model_server) -> None:
    text = await _planning_request(shop, model_server, "make helpers.py handle unicode")
    assert HELPERS in text


async def test_file_named_by_module_is_sent_in_full(shop: Path, model_server) -> None:
    text = await _planning_request(shop, model_server, "add an email field in shop.users")
    assert USERS in text
    text = await _planning_request(shop, model_server, "the orders module should keep a total")
    assert "ORDERS-MARKER" in text


async def test_file_defining_a_named_symbol_is_sent_in_full(shop: Path, model_server) -> None:
    text = await _planning_request(shop, model_server, "make parse_config accept bytes too")
    assert LOADER in text
    text = await _planning_request(shop, model_server, "give `User` an email")
    assert USERS in text


async def test_secrets_are_sent_only_when_named(shop: Path, model_server) -> None:
    text = await _planning_request(shop, model_server, "where is API_TOKEN used? shop/users.py")
    assert "super-secret-value" not in text
    text = await _planning_request(shop, model_server, "document the keys in .env")
    assert "super-secret-value" in text


async def test_large_file_is_sent_as_outline_and_regions(shop: Path, model_server) -> None:
    filler = "".join(f"def helper_{i}(x):\n    return x + {i}\n\n\n" for i in range(400))
    target = "def compute_total(order):\n    return sum(order)  # TOTAL-MARKER\n\n\n"
    (shop / "shop" / "big.py").write_text(filler + target + filler.replace("helper_", "later_"))
    text = await _planning_request(
        shop, model_server, "make compute_total in shop/big.py skip None", max_file_tokens=1500
    )
    assert "outline and relevant regions" in text
    assert "TOTAL-MARKER" in text  # the symbol's region
    assert "L1-2" in text or "helper_0" in text  # the outline names what is elsewhere
    assert text.count("return x + 399") == 1  # helper_399 sits beside the target; later_399 is far away


def test_budget_drops_search_hits_before_named_files(shop: Path, model_server, agent_home: Path) -> None:
    for i in range(30):  # many search hits for the goal's key term
        (shop / "shop" / f"view_{i}.py").write_text(f"def show_{i}(user):\n    return user.display_name()\n")
    write_user_config(agent_home, context_tokens=300)
    server = model_server([{"reply": NOTHING}])
    result = ai_build(shop, server.base_url, "--build", "rename display_name in shop/users.py", "--dry-run")
    assert result.returncode == 0, result.stderr
    text = first_user_message(server.chat_requests()[0])
    assert USERS in text
    assert "Search hits" not in text
    assert "context budget: dropped" in result.stdout


def test_mentions_by_shape() -> None:
    found = extract_mentions("Fix `parse_config` in app/config.py, users.py and app.users; see User.save().")
    assert found.paths == ["app/config.py"]
    assert found.file_names == ["users.py"]
    assert found.dotted == ["app.users", "User.save"]
    assert found.code_identifiers == ["parse_config"]
    assert extract_mentions("use HTTPServer and max_retries").code_identifiers == [
        "HTTPServer",
        "max_retries",
    ]


def test_secret_names() -> None:
    for name in (".env", "config/.env.production", "deploy/server.pem", "home/id_rsa", "id_ed25519.pub"):
        assert is_secret(name), name
    for name in ("envelope.py", "keys.py", "README.md", "environment.yml"):
        assert not is_secret(name), name


async def test_plain_words_are_a_guess_only_when_nothing_is_named(shop: Path, model_server) -> None:
    (shop / "shop" / "empty.py").write_text("EMPTY = object()  # EMPTY-MARKER\n")
    git(shop, "add", ".")
    git(shop, "commit", "-q", "-m", "empty")
    # Nothing precise named: "slugify" is looked up, and the file defining it is read.
    text = await _planning_request(shop, model_server, "make slugify keep dashes")
    assert HELPERS in text
    # A path is named: "empty" stays a word, the unrelated empty.py is not read.
    text = await _planning_request(
        shop, model_server, "make display_name in shop/users.py handle empty names"
    )
    assert USERS in text
    assert "### shop/empty.py" not in text  # no file section for it (a search hit line may still name it)


async def test_health_and_recent_changes_ride_along(shop: Path, model_server) -> None:
    from app.session.store import ProjectStore

    session = ProjectStore(shop).session("main", activate=True)
    session.save_background(
        {
            "version": 1,
            "tests": {
                "command": "pytest -q",
                "passed": 3,
                "failed": 1,
                "errors": 0,
                "failures": [
                    {
                        "test_id": "tests/test_users.py::test_label",
                        "file": "tests/test_users.py",
                        "line": 7,
                        "message": "AssertionError: FAILURE-MARKER",
                    }
                ],
            },
            "diagnostics": {},
            "log_errors": [],
        }
    )
    session.record_change(
        {"id": "c1", "goal": "an earlier goal CHANGE-MARKER", "files": ["shop/users.py"], "commit": "abc"}
    )
    text = await _planning_request(shop, model_server, "fix the failing test of shop/users.py")
    assert "FAILURE-MARKER" in text and "tests/test_users.py::test_label" in text
    assert "an earlier goal CHANGE-MARKER (shop/users.py; commit abc)" in text


def test_regions_prefer_the_named_method_over_the_class_around_it() -> None:
    from app.llm.prompts import relevant_regions

    body = "".join(f"    def m{i}(self):\n        return {i}\n\n" for i in range(600))
    content = "class Big:\n" + body + "    def target(self):\n        return 'TARGET'\n"
    total = content.count("\n")
    regions = relevant_regions(content, [("Big", 1, total), ("target", total - 1, total)], [], 400)
    covered = {n for start, end in regions for n in range(start, end + 1)}
    assert {total - 1, total} <= covered  # the method whole
    assert 1 in covered and 700 not in covered  # the class by its head only


async def test_a_symbol_defined_in_many_files_is_listed_not_read(shop: Path, model_server) -> None:
    for i in range(6):
        (shop / "shop" / f"job_{i}.py").write_text(f"def run_job():\n    return {i}  # JOB-{i}-MARKER\n")
    git(shop, "add", ".")
    git(shop, "commit", "-q", "-m", "jobs")
    text = await _planning_request(shop, model_server, "make run_job log its result")
    assert "JOB-0-MARKER" not in text
    listing = text.split("## Named symbols defined in many files")[1]
    assert "run_job: " in listing and "shop/job_5.py:1" in listing


async def test_paths_from_a_traceback_name_the_project_files(shop: Path, model_server) -> None:
    goal = (
        f'fix this: File "{shop}/shop/users.py", line 9, in display_name\n'
        'and File "/ci/build/checkout/shop/util/helpers.py", line 2'
    )
    text = await _planning_request(shop, model_server, goal)
    assert USERS in text and HELPERS in text
