"""`ai --build` headless through the installed command (README "Commands"): modes, history, failures."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import git
from tests.e2e.scripted.conftest import AI, Model
from tests.e2e.scripted.helpers import head, one_line, subjects

FIXED = "def add(a, b):\n    return a + b\n\n\ndef subtract(a, b):\n    return a - b\n"


def test_dry_run_prints_the_diff_and_changes_nothing(ai: AI, calc: Path) -> None:
    before = head(calc)
    result = ai("--build", "fix-sub", "--dry-run", cwd=calc)
    assert result.returncode == 0, result.stderr
    assert "-    return a + b" in result.stdout and "+    return a - b" in result.stdout
    assert "return a + b" in (calc / "calc" / "ops.py").read_text().split("subtract")[1]
    assert head(calc) == before and git(calc, "status", "--porcelain") == ""


def test_yes_applies_and_commits_exactly_the_touched_file(ai: AI, calc: Path) -> None:
    result = ai("--build", "fix-sub", "--yes", cwd=calc)
    assert result.returncode == 0, result.stderr
    assert (calc / "calc" / "ops.py").read_text() == FIXED
    assert subjects(calc)[0].startswith("ai(main): ")
    assert git(calc, "show", "--name-only", "--format=", "HEAD").split() == ["calc/ops.py"]
    assert git(calc, "status", "--porcelain") == ""
    git(calc, "fsck", "--no-progress")


def test_headless_without_yes_applies_nothing_and_says_how(ai: AI, calc: Path) -> None:
    before = head(calc)
    result = ai("--build", "fix-sub", cwd=calc)  # stdout is a pipe: headless
    assert result.returncode == 0, result.stderr
    assert "+    return a - b" in result.stdout
    assert "--yes" in result.stdout
    assert (calc / "calc" / "ops.py").read_text().endswith("return a + b\n")
    assert head(calc) == before


def test_json_prints_one_parsable_event_per_line_through_all_eight_stages(ai: AI, calc: Path) -> None:
    result = ai("--build", "fix-sub", "--json", "--yes", cwd=calc)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert all(isinstance(e, dict) for e in events)
    stages = {e["stage"]["number"] for e in events if isinstance(e.get("stage"), dict)}
    assert stages == set(range(1, 9))
    assert (calc / "calc" / "ops.py").read_text() == FIXED


def test_user_work_elsewhere_stays_as_it_was(ai: AI, calc: Path) -> None:
    (calc / "README.md").write_text("staged work\n")
    git(calc, "add", "README.md")
    (calc / "notes.txt").write_text("untracked\n")
    ops = calc / "calc" / "ops.py"
    ops.write_text(
        "# my work in progress\n" + ops.read_text()
    )  # unstaged, in the file ai changes, far from it
    assert ai("--build", "fix-sub", "--yes", cwd=calc).returncode == 0
    status = git(calc, "status", "--porcelain").splitlines()
    assert status == ["M  README.md", " M calc/ops.py", "?? notes.txt"], status
    assert git(calc, "show", "--name-only", "--format=", "HEAD").split() == ["calc/ops.py"]
    assert "my work in progress" not in git(calc, "show", "HEAD")
    assert "+# my work in progress" in git(calc, "diff")
    assert ops.read_text().startswith("# my work in progress\n") and ops.read_text().endswith("a - b\n")


def test_user_uncommitted_edit_next_to_the_change_stays_uncommitted(ai: AI, calc: Path) -> None:
    ops = calc / "calc" / "ops.py"
    ops.write_text(ops.read_text() + "# my work in progress\n")
    result = ai("--build", "fix-sub", "--yes", cwd=calc)
    assert result.returncode == 0
    assert "my work in progress" not in git(calc, "show", "HEAD")
    assert "+# my work in progress" in git(calc, "diff")


def test_continue_build_sends_the_session_history_and_a_plain_build_does_not(
    ai: AI, calc: Path, model: Model
) -> None:
    assert ai("--session", "hist", "--build", "continue-alpha", "--yes", cwd=calc).returncode == 0
    assert ai("--session", "hist", "--build", "continue-beta", "--yes", cwd=calc).returncode == 0
    plain = model.requests_for("# Goal\ncontinue-beta")[-1]
    assert [m["role"] for m in plain["messages"]] == ["system", "user"], "history sent without --continue"
    assert (calc / "plain.txt").read_text() == "no history\n"
    resumed = ai("--session", "hist", "--continue", "--build", "continue-beta", "--yes", cwd=calc)
    assert resumed.returncode == 0, resumed.stderr
    assert (calc / "beta.txt").read_text() == "with history\n"
    roles = [m["role"] for m in model.requests_for("continue-beta")[-1]["messages"]]
    assert "assistant" in roles[:-1], "the earlier exchange was not sent as history"
    shown = ai("--session", "hist", "--continue", cwd=calc, with_model=False)
    assert shown.returncode == 0
    assert "continue-alpha" in shown.stdout and "continue-beta" in shown.stdout


def test_no_model_configured_fails_with_one_line_and_keeps_the_files(ai: AI, calc: Path) -> None:
    result = ai("--build", "fix-sub", "--yes", cwd=calc, with_model=False)
    assert result.returncode == 1
    assert "OPENAI_BASE_URL" in one_line(result.stderr)
    assert git(calc, "status", "--porcelain") == ""


def _fast_retries(agent_home: Path) -> None:
    config = agent_home / "config.toml"
    retries = "max_retries = 3\nretry_base_delay = 0.01\nretry_max_delay = 0.05\n"
    config.write_text((config.read_text() if config.exists() else "") + retries)


def test_unreachable_model_is_exit_1_with_one_line_and_the_goal_kept(
    ai: AI, calc: Path, agent_home: Path
) -> None:
    _fast_retries(agent_home)
    result = ai("--build", "fix-sub", "--yes", cwd=calc, env={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "--continue" in result.stderr.strip().splitlines()[-1]
    assert git(calc, "status", "--porcelain") == ""
    assert "fix-sub" in ai("--continue", cwd=calc, with_model=False).stdout
    one_line(result.stderr)


def test_a_refused_key_is_exit_1_with_one_line_naming_the_key_variable(ai: AI, calc: Path) -> None:
    result = ai("--build", "status-401", "--yes", cwd=calc)
    assert result.returncode == 1
    assert "OPENAI_API_KEY" in one_line(result.stderr)
    assert git(calc, "status", "--porcelain") == ""


def test_a_malformed_answer_is_sent_back_once_then_exit_1_with_nothing_written(
    ai: AI, calc: Path, model: Model
) -> None:
    result = ai("--build", "malformed-block", "--yes", cwd=calc)
    assert result.returncode == 1
    assert "END" in one_line(result.stderr)
    assert len(model.requests_for("# Goal\nmalformed-block")) == 2
    assert git(calc, "status", "--porcelain") == ""


@pytest.mark.parametrize("goal", ["prose-only"])
def test_an_answer_without_any_edit_is_a_failed_task(ai: AI, calc: Path, goal: str) -> None:
    result = ai("--build", goal, "--yes", cwd=calc)
    assert result.returncode == 1
    one_line(result.stderr)


@pytest.mark.parametrize(
    "args",
    [
        ["--bogus"],
        ["--yes"],
        ["--dry-run"],
        ["--build", "x", "--yes", "--dry-run"],
        ["--undo", "--build", "x"],
        ["--list-sessions", "--yes"],
        ["--build"],
    ],
)
def test_bad_flags_are_usage_errors_with_one_line(ai: AI, calc: Path, args: list[str]) -> None:
    result = ai(*args, cwd=calc)
    assert result.returncode == 2, result.stdout
    one_line(result.stderr)


@pytest.mark.parametrize("args", [["--fix", "--build", "x"], ["--search", "x", "--build", "y"]])
def test_two_commands_at_once_are_a_usage_error(ai: AI, calc: Path, args: list[str]) -> None:
    result = ai(*args, cwd=calc, with_model=False)
    assert result.returncode == 2
    one_line(result.stderr)


def test_a_projects_own_config_never_receives_the_users_api_key(ai: AI, calc: Path, model: Model) -> None:
    # A cloned repository names its own endpoint; the user only has OPENAI_API_KEY set (plain OpenAI).
    (calc / ".ai-agent.toml").write_text(f'base_url = "{model.base_url}"\n')
    git(calc, "add", ".ai-agent.toml")
    git(calc, "commit", "-q", "-m", "the repository's own config")
    ai("--build", "cloned-repo", "--yes", cwd=calc, with_model=False, env={"OPENAI_API_KEY": "sk-e2e-secret"})
    sent = model.log_entries_for("# Goal\ncloned-repo")
    assert not any(entry["auth"] for entry in sent), "the user's key went to the URL the repository chose"


def test_model_and_base_url_flags_win_over_the_environment(ai: AI, calc: Path, model: Model) -> None:
    env = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "AI_AGENT_MODEL": "env-model"}
    result = ai(
        "--build", "model-flags", "--dry-run", "--model", "flag-model", "--base-url", model.base_url,
        cwd=calc, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [r["model"] for r in model.requests_for("# Goal\nmodel-flags")] == ["flag-model"]
    from_env = ai(
        "--session",
        "env",
        "--build",
        "model-flags",
        "--dry-run",
        cwd=calc,
        env={"AI_AGENT_MODEL": "env-model"},
    )
    assert from_env.returncode == 0, from_env.stderr
    assert model.requests_for("# Goal\nmodel-flags")[-1]["model"] == "env-model"


def test_a_build_that_applied_is_exit_0_despite_an_old_failing_test(ai: AI, calc: Path) -> None:
    (calc / "tests").mkdir()
    (calc / "tests" / "__init__.py").write_text("")
    (calc / "tests" / "test_other.py").write_text(
        "import unittest\n\n\nclass Other(unittest.TestCase):\n    def test_unrelated(self):\n"
        "        self.assertEqual(1, 2)\n"
    )
    (calc / ".ai-agent.toml").write_text(f'test_cmd = "{sys.executable} -m unittest -q"\n')
    git(calc, "add", ".")
    git(calc, "commit", "-q", "-m", "a test that already fails")
    assert ai("--trust", cwd=calc).returncode == 0  # else the project's test_cmd is ignored and nothing runs
    result = ai("--build", "fix-sub", "--yes", cwd=calc)
    assert (calc / "calc" / "ops.py").read_text() == FIXED  # the change is applied and committed either way
    assert subjects(calc)[0].startswith("ai(main)")
    assert result.returncode == 0, result.stderr
    assert "already failed before this change" in result.stdout  # the tests did run, and said so
