"""Tests failing after a build applied a change start the fix loop in the same session (issue 8's trigger), when
the project has a test command configured."""

from __future__ import annotations

from pathlib import Path

from app.agent import BuildRequest, run_build
from app.config import load_config
from app.events import Applied, Decision, DecisionKind, DiffReady, Event, Finished, FixStarted, TestsRun
from app.fix.after_build import fix_after_build
from app.session.store import ProjectStore
from tests.conftest import git
from tests.fix.conftest import RIGHT, replace_block

GOAL = "document what clamp does"
CLAMP = "def clamp(value, low, high):\n"
DOCUMENTED = replace_block(CLAMP, CLAMP + '    """value kept within low and high."""\n', prose="A docstring.")
RULES = [
    # The fix loop's request carries the failure; the build's does not.
    {"when": {"contains": "ZeroDivisionError"}, "reply": RIGHT},
    {"reply": DOCUMENTED},
]


async def build_with_yes(root: Path, base_url: str) -> list[Event]:
    session = ProjectStore(root).session("main")
    config = load_config(root, {"base_url": base_url, "model": "scripted-model"})
    request = BuildRequest(root=root, session=session, goal=GOAL, config=config, require_edits=True)

    async def apply(_ready: DiffReady) -> Decision:
        return Decision(DecisionKind.APPLY)

    return [event async for event in fix_after_build(run_build(request, apply), request, auto_apply=True)]


async def test_tests_failing_after_an_applied_build_are_fixed_in_the_same_session(
    broken: Path, model
) -> None:
    server = model(RULES)
    events = await build_with_yes(broken, server.base_url)

    applied = [e for e in events if isinstance(e, Applied)]
    assert len(applied) == 2, events  # the build's change, then the verified fix
    assert any(isinstance(e, TestsRun) and e.scope == "baseline" and not e.ok for e in events)
    assert any(
        isinstance(e, FixStarted) and e.trigger == f"after change {applied[0].change_id}" for e in events
    )
    finished = [e for e in events if isinstance(e, Finished)]
    assert len(finished) == 1 and finished[0] is events[-1]
    assert finished[0].ok and finished[0].exit_code == 0
    assert finished[0].summary.startswith("applied a verified fix")
    text = (broken / "calc/ops.py").read_text()
    assert '"""value kept within low and high."""' in text and "return 0" in text
    subjects = git(broken, "log", "--format=%s").splitlines()
    assert subjects[1] == f"ai(main): {GOAL}" and subjects[0].startswith("ai(main): fix: ")
    kinds = [m.get("kind") for m in ProjectStore(broken).session("main").messages()]
    assert "fix" in kinds and "fix_applied" in kinds
    assert len(server.chat_requests()) == 2


async def test_without_a_configured_test_command_the_build_ends_as_before(broken: Path, model) -> None:
    (broken / ".ai-agent.toml").unlink()
    server = model(RULES)
    events = await build_with_yes(broken, server.base_url)
    assert len([e for e in events if isinstance(e, Applied)]) == 1
    assert not any(isinstance(e, TestsRun | FixStarted) for e in events)
    assert isinstance(events[-1], Finished) and events[-1].ok
    assert len(server.chat_requests()) == 1


async def test_tests_that_pass_after_the_change_need_no_fix(broken: Path, model) -> None:
    (broken / "calc/ops.py").write_text(
        (broken / "calc/ops.py")
        .read_text()
        .replace("    return sum", "    if not values:\n        return 0\n    return sum")
    )
    server = model(RULES)
    events = await build_with_yes(broken, server.base_url)
    assert any(isinstance(e, TestsRun) and e.ok for e in events)
    assert not any(isinstance(e, FixStarted) for e in events)
    assert [type(e) for e in events].count(Finished) == 1 and isinstance(events[-1], Finished)
    assert events[-1].ok and len(server.chat_requests()) == 1


def test_ai_build_yes_fixes_the_tests_it_broke_and_says_so(broken: Path, model) -> None:
    import json

    from tests.conftest import run_ai
    from tests.fix.conftest import env_for

    server = model(RULES)
    result = run_ai("--build", GOAL, "--yes", "--json", cwd=broken, env=env_for(server))
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["event"] for e in events].count("finished") == 1 and events[-1]["event"] == "finished"
    assert [e["event"] for e in events].count("applied") == 2
    assert "return 0" in (broken / "calc/ops.py").read_text()

    git(broken, "reset", "-q", "--hard", "HEAD~2")  # the test's own clean-up: back to the broken project
    # A new session: main's history now names the ZeroDivisionError the scripted model keys the fix on.
    plain = run_ai("--session", "again", "--build", GOAL, "--yes", cwd=broken, env=env_for(server))
    assert plain.returncode == 0, plain.stderr
    assert "running the tests after change" in plain.stdout
    assert "verified fix (attempt 1) for calc/ops.py" in plain.stdout
    assert "applied a verified fix" in plain.stdout
