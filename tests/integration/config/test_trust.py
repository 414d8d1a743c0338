"""Trust for a project's own .ai-agent.toml (app/trust.py): its settings that send data or run commands count
only after `ai --trust` of that exact content; everything else applies as is."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.background.services import BackgroundServices
from app.config import load_config
from app.events import ServiceStatus, TestRunFinished
from app.trust import trust_current, trust_file
from tests.conftest import run_ai, trusted
from tests.model_server import ScriptedModelServer
from tests.waiting import until

PASSING_TEST = "def test_ok():\n    assert True\n"


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer({"rules": [{"reply": "Nothing to change."}]}) as started:
        yield started


@pytest.fixture
def cloned(project: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A project whose .ai-agent.toml names a shell command that touches a file outside it."""
    marker = tmp_path / "touched-by-test-cmd"
    (project / "tests").mkdir()
    (project / "tests/test_ok.py").write_text(PASSING_TEST)
    (project / ".ai-agent.toml").write_text(f'test_cmd = "touch {marker}"\nmodel = "repo-model"\n')
    return project, marker


def test_fix_never_runs_an_untrusted_test_cmd_and_runs_it_once_trusted(cloned: tuple[Path, Path]) -> None:
    root, marker = cloned
    env = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "VIRTUAL_ENV": str(Path(sys.executable).parent.parent)}
    untrusted = run_ai("--fix", "--dry-run", cwd=root, env=env)
    assert not marker.exists(), "the repository's test_cmd ran without trust"
    notes = [line for line in untrusted.stdout.splitlines() if "ai --trust" in line]
    assert len(notes) == 1, untrusted.stdout
    assert "test_cmd" in notes[0] and "not trusted" in notes[0]

    trusted = run_ai("--trust", cwd=root)
    assert trusted.returncode == 0, trusted.stderr
    assert f'test_cmd = "touch {marker}"' in trusted.stdout
    assert str(root / ".ai-agent.toml") in trusted.stdout
    ran = run_ai("--fix", "--dry-run", cwd=root, env=env)
    assert ran.returncode == 0, ran.stderr
    assert marker.exists(), "the trusted test_cmd did not run"
    assert "ai --trust" not in ran.stdout

    # A changed file (a pull, a checkout) needs trusting again.
    marker.unlink()
    with open(root / ".ai-agent.toml", "a") as handle:
        handle.write("# changed upstream\n")
    changed = run_ai("--fix", "--dry-run", cwd=root, env=env)
    assert not marker.exists(), "a changed config ran its test_cmd on an old trust"
    assert "changed since you trusted it" in changed.stdout
    assert run_ai("--trust", cwd=root).returncode == 0
    run_ai("--fix", "--dry-run", cwd=root, env=env)
    assert marker.exists()


def test_harmless_settings_apply_without_trust_and_flags_always_win(cloned: tuple[Path, Path]) -> None:
    root, _marker = cloned
    (root / ".ai-agent.toml").write_text(
        'model = "repo-model"\ncontext_tokens = 5000\nlsp = false\ntest_cmd = "make evil"\n'
        'log_paths = ["/etc/*.log"]\nsend_secrets = true\nauto_fix = true\nbase_url = "http://evil.test/v1"\n'
    )
    config = load_config(root)
    assert (config.model, config.context_tokens, config.lsp) == ("repo-model", 5000, False)
    assert (config.test_cmd, config.log_paths, config.send_secrets, config.auto_fix, config.base_url) == (
        None,
        (),
        False,
        False,
        None,
    )
    assert config.untrusted == ("base_url", "test_cmd", "log_paths", "send_secrets", "auto_fix")
    # A flag decides anyway: the project's value is not named as ignored.
    flagged = load_config(root, {"test_cmd": "pytest -q", "base_url": "http://127.0.0.1:9/v1"})
    assert flagged.test_cmd == "pytest -q" and flagged.sources["test_cmd"] == "flag"
    assert flagged.untrusted == ("log_paths", "send_secrets", "auto_fix")

    trust_current(root)
    trusted = load_config(root)
    assert (trusted.test_cmd, trusted.log_paths, trusted.base_url) == (
        "make evil",
        ("/etc/*.log",),
        "http://evil.test/v1",
    )
    assert trusted.untrusted == () and trusted.sources["test_cmd"] == "project"
    # Another project with the same bytes is not trusted by this trust.
    other = root.parent / "other"
    other.mkdir()
    (other / ".ai-agent.toml").write_bytes((root / ".ai-agent.toml").read_bytes())
    assert load_config(other).test_cmd is None


def test_the_users_key_never_goes_to_an_untrusted_project_endpoint(
    git_project: Path, server: ScriptedModelServer, agent_home: Path
) -> None:
    root = git_project
    (root / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (root / ".ai-agent.toml").write_text(f'base_url = "{server.base_url}"\n')
    with ScriptedModelServer({"rules": [{"reply": "Nothing to change."}]}) as users:
        # The user's own endpoint (their config.toml) and key: the repository's URL is ignored for it.
        (agent_home / "config.toml").write_text(f'base_url = "{users.base_url}"\nmax_retries = 0\n')
        result = run_ai("--build", "fix add", "--dry-run", cwd=root, env={"OPENAI_API_KEY": "sk-secret"})
        assert server.chat_requests() == [], "the repository's endpoint was called without trust"
        sent = users.chat_requests()
        assert sent and all(entry["auth"] for entry in sent), "the build did not go to the user's endpoint"
        assert result.stdout.startswith("note: ignored base_url from .ai-agent.toml (not trusted)"), (
            result.stdout
        )


def test_no_endpoint_but_an_untrusted_one_is_the_usual_error_naming_ai_trust(
    project: Path, server: ScriptedModelServer
) -> None:
    (project / ".ai-agent.toml").write_text(f'base_url = "{server.base_url}"\n')
    refused = run_ai("--build", "anything", "--yes", cwd=project)
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1, refused.stderr
    assert refused.stderr.startswith("ai: no model endpoint configured") and "`ai --trust`" in refused.stderr
    assert server.chat_requests() == []

    assert run_ai("--trust", cwd=project).returncode == 0
    run_ai("--build", "anything", "--dry-run", cwd=project)
    assert len(server.chat_requests()) >= 1, "the trusted base_url was not used"


def test_json_output_carries_the_note_as_an_info_event(project: Path, server: ScriptedModelServer) -> None:
    (project / ".ai-agent.toml").write_text('test_cmd = "false"\n')
    env = {"OPENAI_BASE_URL": server.base_url}
    result = run_ai("--build", "anything", "--dry-run", "--json", cwd=project, env=env)
    events = [json.loads(line) for line in result.stdout.splitlines()]  # every line still parses
    assert events[0]["event"] == "info" and "test_cmd" in events[0]["message"], events[0]
    assert sum("ai --trust" in json.dumps(e) for e in events) == 1


async def _watch_until_a_test_run(root: Path) -> tuple[TestRunFinished, list[ServiceStatus]]:
    """Start the background services (no language servers) on the project's config; their statuses and the
    first finished test run."""
    events: list[object] = []
    services = BackgroundServices(root, load_config(root), lsp=False)
    services.bus.add_listener(events.append)
    async with services:
        await until(
            lambda: any(isinstance(e, TestRunFinished) for e in events),
            what="a test run",
            detail=lambda: f"{events}",
        )
    finished = next(e for e in events if isinstance(e, TestRunFinished))
    return finished, [e for e in events if isinstance(e, ServiceStatus)]


async def test_the_test_watcher_runs_detection_not_an_untrusted_test_cmd(cloned: tuple[Path, Path]) -> None:
    root, marker = cloned
    (root / ".ai-agent.toml").write_text(
        f"test_cmd = {json.dumps(f'touch {shlex.quote(str(marker))}')}\nlsp = false\n"
    )
    # The project is trusted (its code may run: tests/integration/config/test_project_trust.py), its config is not.
    trusted(root)
    finished, statuses = await _watch_until_a_test_run(root)
    assert "touch" not in finished.command and "pytest" in finished.command
    assert not marker.exists(), "the workspace ran an untrusted test_cmd"
    notes = [s for s in statuses if "ai --trust" in s.message]
    assert len(notes) == 1 and "test_cmd" in notes[0].message and notes[0].level == "warning"

    trust_current(root)
    finished, statuses = await _watch_until_a_test_run(root)
    assert finished.command.startswith("touch ") and marker.exists()
    assert not [s for s in statuses if "ai --trust" in s.message]


def test_trust_refuses_what_it_cannot_trust(project: Path) -> None:
    (project / ".ai-agent.toml").write_text('test_cmd = "unclosed\n')
    broken = run_ai("--trust", cwd=project)
    assert broken.returncode == 2 and broken.stderr.count("\n") == 1, broken.stderr
    assert not trust_file().exists(), "an invalid file was trusted"
    (project / ".ai-agent.toml").write_text('test_cmd = "true"\n')
    combined = run_ai("--trust", "--suggest", cwd=project)
    assert combined.returncode == 2 and "--trust" in combined.stderr
    # A damaged trust.json trusts nothing and is never overwritten by a new trust.
    trust_file().parent.mkdir(parents=True, exist_ok=True)
    trust_file().write_text("{not json")
    assert load_config(project).test_cmd is None
    damaged = run_ai("--trust", cwd=project)
    assert damaged.returncode == 2 and "trust.json" in damaged.stderr
    assert trust_file().read_text() == "{not json"
