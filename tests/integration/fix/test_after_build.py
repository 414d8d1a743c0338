"""Tests failing after a build applied a change start the fix loop in the same session (issue 8's trigger), when
the project has a test command configured, and only for failures the change introduced: tests that already
failed before it are a note, not the build's failure."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

from app.config import load_config
from app.events import (
    Applied,
    Decision,
    DecisionKind,
    DiffReady,
    Event,
    Finished,
    FixStarted,
    Info,
    TestsRun,
)
from app.pipeline.build import BuildRequest, run_build
from app.session.store import ProjectStore
from app.workspace.after_change import fix_after_build
from tests.conftest import git, run_ai
from tests.support.fix_project import env_for, replace_block

# The `broken` project's test_mean_empty fails before any build (ZeroDivisionError): an old, unrelated failure.
OLD = "tests/test_ops.py::test_mean_empty"
CLAMP = "def clamp(value, low, high):\n    return max(low, min(value, high))\n"
DOC = '    """value kept within low and high."""\n'
DOCUMENT = "document what clamp does"
DOCUMENTED = replace_block(CLAMP, CLAMP.replace("\n", "\n" + DOC, 1), prose="A docstring.")
BREAK = "document clamp and make it strict"
BREAKING = replace_block(
    CLAMP, f'def clamp(value, low, high):\n{DOC}    raise RuntimeError("clamp-broke")\n', prose="Strict."
)
MENDED = replace_block(
    '    raise RuntimeError("clamp-broke")\n', "    return max(low, min(value, high))\n", prose="Body back."
)
RULES = [
    # Only the fix loop's request carries the new failure's output; the builds' requests do not.
    {"when": {"contains": "RuntimeError: clamp-broke"}, "reply": MENDED},
    {"when": {"contains": "ZeroDivisionError"}, "reply": "The old failure must not be sent to the model."},
    {"when": {"contains": BREAK}, "reply": BREAKING},
    {"reply": DOCUMENTED},
]


async def build_with_yes(root: Path, base_url: str, goal: str) -> list[Event]:
    session = ProjectStore(root).session("main")
    config = load_config(root, {"base_url": base_url, "model": "scripted-model"})
    request = BuildRequest(root=root, session=session, goal=goal, config=config, require_edits=True)

    async def apply(_ready: DiffReady) -> Decision:
        return Decision(DecisionKind.APPLY)

    return [event async for event in fix_after_build(run_build(request, apply), request, auto_apply=True)]


def only_finished_last(events: list[Event]) -> Finished:
    finished = [e for e in events if isinstance(e, Finished)]
    assert len(finished) == 1 and finished[0] is events[-1], events
    return finished[0]


async def test_an_old_failing_test_and_a_clean_change_end_the_build_with_a_note(broken: Path, model) -> None:
    server = model(RULES)
    events = await build_with_yes(broken, server.base_url, DOCUMENT)

    assert len([e for e in events if isinstance(e, Applied)]) == 1
    finished = only_finished_last(events)
    assert finished.ok and finished.exit_code == 0 and "applied" in finished.summary
    notes = [e.message for e in events if isinstance(e, Info) and "already failed" in e.message]
    assert notes == [f"1 test already failed before this change: {OLD}; `ai --fix` to work on them"]
    assert not any(isinstance(e, FixStarted) for e in events)
    run = next(e for e in events if isinstance(e, TestsRun))
    assert not run.ok and run.failing == (OLD,) and run.new_failures == ()
    assert len(server.chat_requests()) == 1  # the build's; no model call for a fix
    assert DOC in (broken / "calc/ops.py").read_text()
    kinds = [m.get("kind") for m in ProjectStore(broken).session("main").messages()]
    assert "fix_preexisting" in kinds and "fix" not in kinds


async def test_a_change_that_breaks_another_test_is_fixed_and_the_old_failure_left_alone(
    broken: Path, model
) -> None:
    server = model(RULES)
    events = await build_with_yes(broken, server.base_url, BREAK)

    applied = [e for e in events if isinstance(e, Applied)]
    assert len(applied) == 2, events  # the build's change, then the verified fix
    run = next(e for e in events if isinstance(e, TestsRun))
    assert run.scope == "baseline" and set(run.failing) == {OLD, "tests/test_ops.py::test_clamp"}
    assert run.new_failures == ("tests/test_ops.py::test_clamp",)
    started = [e for e in events if isinstance(e, FixStarted)]
    assert len(started) == 1 and started[0].trigger == f"after change {applied[0].change_id}"
    assert len(started[0].errors) == 1 and "test_clamp" in started[0].errors[0]  # the old one is no target
    assert any(isinstance(e, Info) and e.message.startswith("1 test already failed") for e in events)
    finished = only_finished_last(events)
    assert finished.ok and finished.exit_code == 0 and finished.summary.startswith("applied a verified fix")
    text = (broken / "calc/ops.py").read_text()
    assert DOC in text and "return max(low, min(value, high))" in text and "clamp-broke" not in text
    assert "return sum(values) / len(values)" in text  # the old failure's code is untouched
    subjects = git(broken, "log", "--format=%s").splitlines()
    assert subjects[1] == f"ai(main): {BREAK}" and subjects[0].startswith("ai(main): fix: ")
    assert len(server.chat_requests()) == 2


async def test_without_a_configured_test_command_the_build_ends_as_before(broken: Path, model) -> None:
    (broken / ".ai-agent.toml").unlink()
    server = model(RULES)
    events = await build_with_yes(broken, server.base_url, BREAK)
    assert len([e for e in events if isinstance(e, Applied)]) == 1
    assert not any(isinstance(e, TestsRun | FixStarted) for e in events)
    assert only_finished_last(events).ok
    assert len(server.chat_requests()) == 1


async def test_tests_that_pass_after_the_change_need_no_fix(broken: Path, model) -> None:
    ops = broken / "calc/ops.py"
    ops.write_text(
        ops.read_text().replace("    return sum", "    if not values:\n        return 0\n    return sum")
    )
    server = model(RULES)
    events = await build_with_yes(broken, server.base_url, DOCUMENT)
    assert any(isinstance(e, TestsRun) and e.ok for e in events)
    assert not any(isinstance(e, FixStarted) for e in events)
    assert not any(isinstance(e, Info) and "already failed" in e.message for e in events)
    assert only_finished_last(events).ok and len(server.chat_requests()) == 1


async def test_a_change_whose_backup_is_gone_counts_every_failure_as_new(broken: Path, model) -> None:
    """Without the pre-change bytes there is no telling old from new: the fix loop gets every failure, as
    before this rule (and the old failure then ends the build with exit 1, as the loop's outcome)."""
    import shutil

    server = model(RULES)
    store = ProjectStore(broken)
    backups = store.backups_dir("main")
    session = store.session("main")

    async def apply(_ready: DiffReady) -> Decision:
        return Decision(DecisionKind.APPLY)

    config = load_config(broken, {"base_url": server.base_url, "model": "scripted-model"})
    request = BuildRequest(root=broken, session=session, goal=DOCUMENT, config=config, require_edits=True)

    async def build_then_lose_backup() -> AsyncIterator[Event]:
        async for event in run_build(request, apply):
            if isinstance(event, Applied):
                shutil.rmtree(backups)
            yield event

    events = [e async for e in fix_after_build(build_then_lose_backup(), request, auto_apply=True)]
    started = [e for e in events if isinstance(e, FixStarted)]
    assert len(started) == 1 and "test_mean_empty" in started[0].errors[0]
    assert not any(isinstance(e, Info) and "already failed" in e.message for e in events)
    assert only_finished_last(events).exit_code == 1


def test_ai_build_yes_with_an_old_failure_exits_0_and_fixes_only_what_it_broke(
    broken: Path, model, agent_home: Path
) -> None:
    # No language server: its 5 s wait per build is not what this test is about.
    (agent_home / "config.toml").write_text("lsp = false\n")
    server = model(RULES)
    plain = run_ai("--build", DOCUMENT, "--yes", cwd=broken, env=env_for(server))
    assert plain.returncode == 0, plain.stderr
    assert f"1 test already failed before this change: {OLD}; `ai --fix` to work on them" in plain.stdout
    assert len(server.chat_requests()) == 1

    git(broken, "reset", "-q", "--hard", "HEAD~1")  # the test's own clean-up: clamp as it was
    result = run_ai(
        "--session", "again", "--build", BREAK, "--yes", "--json", cwd=broken, env=env_for(server)
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["event"] for e in events].count("finished") == 1 and events[-1]["event"] == "finished"
    assert [e["event"] for e in events].count("applied") == 2
    assert "clamp-broke" not in (broken / "calc/ops.py").read_text()
    started = [e for e in events if e["event"] == "fix_started"]
    assert len(started) == 1 and [("test_clamp" in line) for line in started[0]["errors"]] == [True]
