"""The fix loop against the scripted model: only a verified fix is offered, the user's tree is untouched until
it is approved, and the attempts see each other."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from app.config import load_config
from app.events import Decision, DecisionKind, DiffReady, Finished, FixAttempt, FixVerified
from app.fix.loop import FixRequest, run_fix
from app.session.store import ProjectStore
from tests.conftest import git, run_ai
from tests.support.fix_project import (
    OPS,
    RIGHT,
    WRONG_FLOOR,
    WRONG_NONE,
    WRONG_ZERO_ALWAYS,
    env_for,
    snapshot,
)
from tests.waiting import BOUND, until

FIXED_OPS = OPS.replace(
    "def mean(values):\n    return", "def mean(values):\n    if not values:\n        return 0\n    return"
)


async def test_wrong_fix_then_right_one_is_offered_and_the_tree_waits_for_approval(
    broken: Path, model
) -> None:
    server = model(
        [
            {"when": {"not_contains": "Earlier attempts"}, "reply": WRONG_NONE},
            {"when": {"contains": "Earlier attempts"}, "reply": RIGHT},
        ]
    )
    before, status_before = snapshot(broken), git(broken, "status", "--porcelain")
    session = ProjectStore(broken).session("main")
    config = load_config(broken, {"base_url": server.base_url, "model": "scripted-model"})
    at_offer: dict[str, object] = {}

    async def decide(ready: DiffReady) -> Decision:
        at_offer["files"] = snapshot(broken)
        at_offer["status"] = git(broken, "status", "--porcelain")
        at_offer["diffs"] = ready.diffs
        return Decision(DecisionKind.APPLY)

    events = [event async for event in run_fix(FixRequest(broken, session, config), decide)]

    # Neither the wrong attempt nor the right one touched the user's files before the approval.
    assert at_offer["files"] == before
    assert at_offer["status"] == status_before
    outcomes = [(e.number, e.outcome) for e in events if isinstance(e, FixAttempt) and e.outcome != "started"]
    assert outcomes == [(1, "still_failing"), (2, "verified")]
    wrong = next(e for e in events if isinstance(e, FixAttempt) and e.outcome == "still_failing")
    assert "return None" in wrong.diff and "test_mean_empty" in wrong.reason
    # The second attempt was told what the first did and how it failed.
    second = server.chat_requests()[1]["body"]["messages"][-1]["content"]
    assert "return None" in second and "assert None == 0" in second
    # The first request carried the failure and the files of its frames in full.
    first = server.chat_requests()[0]["body"]["messages"][-1]["content"]
    assert "ZeroDivisionError" in first and OPS in first and "def test_mean_empty" in first
    verified = next(e for e in events if isinstance(e, FixVerified))
    assert verified.attempt == 2 and verified.files == ("calc/ops.py",)
    diffs = at_offer["diffs"]
    assert isinstance(diffs, dict)
    assert "return 0" in "".join(diffs.values())
    # Applied once approved: the fix, one commit holding only it, the user's other work left as it was.
    assert (broken / "calc/ops.py").read_text() == FIXED_OPS
    assert git(broken, "show", "--name-only", "--format=%s", "HEAD").split("\n")[2:3] == ["calc/ops.py"]
    assert git(broken, "status", "--porcelain") == status_before
    assert (broken / "README.md").read_text() == "hello\nwork in progress\n"
    assert isinstance(events[-1], Finished) and events[-1].ok
    kinds = [m.get("kind") for m in session.messages()]
    assert "fix" in kinds and "fix_applied" in kinds


def test_three_wrong_fixes_exit_1_with_a_summary_and_the_tree_untouched(broken: Path, model) -> None:
    server = model(
        [
            {"times": 1, "reply": WRONG_NONE},
            {"times": 1, "reply": WRONG_ZERO_ALWAYS},
            {"times": 1, "reply": WRONG_FLOOR},
        ]
    )
    before, status_before = snapshot(broken), git(broken, "status", "--porcelain")
    head = git(broken, "rev-parse", "HEAD")

    result = run_ai("--fix", "--yes", cwd=broken, env=env_for(server))

    assert result.returncode == 1, result.stderr
    assert snapshot(broken) == before
    assert git(broken, "status", "--porcelain") == status_before
    assert git(broken, "rev-parse", "HEAD") == head
    assert len(server.chat_requests()) == 3
    out = result.stdout
    assert "no attempt fixed the failure:" in out
    assert "attempt 1: still failing (calc/ops.py): still failing: tests/test_ops.py::test_mean_empty" in out
    assert "attempt 2: new failures (calc/ops.py): the fix breaks tests/test_ops.py::test_mean" in out
    assert "attempt 3: still failing" in out
    assert "closest was attempt" in out and "+++ b/calc/ops.py" in out.split("closest was attempt")[1]
    assert result.stderr.strip().splitlines()[-1] == (
        "ai: no fix made the tests pass after 3 attempt(s); your files were not changed"
    )
    third = server.chat_requests()[2]["body"]["messages"][-1]["content"]
    assert "attempt 1: still failing" in third and "attempt 2: new failures" in third


def test_a_fix_that_breaks_another_test_is_rejected(broken: Path, model) -> None:
    server = model([{"times": 1, "reply": WRONG_ZERO_ALWAYS}, {"reply": RIGHT}])
    before = snapshot(broken)

    result = run_ai("--fix", "--dry-run", "--json", cwd=broken, env=env_for(server))

    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    attempts = [e for e in events if e["event"] == "fix_attempt" and e["outcome"] != "started"]
    assert [a["outcome"] for a in attempts] == ["new_failures", "verified"]
    suite_runs = [e for e in events if e["event"] == "tests_run" and e["scope"] == "suite"]
    # attempt 1 made the failing test pass but broke test_mean: rejected; attempt 2 passes everything
    assert suite_runs[0]["attempt"] == 1 and suite_runs[0]["new_failures"] == ["tests/test_ops.py::test_mean"]
    assert suite_runs[0]["still_failing"] == []
    assert suite_runs[1]["ok"] is True
    diff = next(e for e in events if e["event"] == "diff_ready")["diffs"]["calc/ops.py"]
    assert "+        return 0" in diff
    assert events[-1] == {"event": "finished", "ok": True, "exit_code": 0, "summary": events[-1]["summary"]}
    assert snapshot(broken) == before  # dry run


def test_passing_tests_need_no_model_and_change_nothing(broken: Path) -> None:
    (broken / "calc/ops.py").write_text(FIXED_OPS)
    before = snapshot(broken)
    result = run_ai("--fix", cwd=broken)
    assert result.returncode == 0, result.stderr
    assert "nothing to fix" in result.stdout
    assert snapshot(broken) == before


def test_no_test_command_is_one_clear_line(project: Path) -> None:
    (project / "main.py").write_text("print('hi')\n")
    result = run_ai("--fix", cwd=project)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "ai: no test command configured or detected: set test_cmd in .ai-agent.toml or pass --test-cmd"
    )


def test_headless_without_yes_applies_nothing_unless_auto_fix_is_on(broken: Path, model) -> None:
    server = model([{"reply": RIGHT}])
    before = snapshot(broken)
    shown = run_ai("--fix", cwd=broken, env=env_for(server))
    assert shown.returncode == 0, shown.stderr
    assert "verified fix (attempt 1) for calc/ops.py" in shown.stdout
    assert "nothing applied: run `ai --fix --yes` to apply the verified fix" in shown.stdout
    assert shown.stdout.count("nothing applied") == 1, shown.stdout
    assert snapshot(broken) == before
    # Nobody rejected the fix: `ai --suggest` does not count it as a rejected proposal.
    suggested = run_ai("--suggest", "--json", cwd=broken)
    assert suggested.returncode == 0, suggested.stderr
    kinds = [s["kind"] for s in json.loads(suggested.stdout.splitlines()[-1])["suggestions"]]
    assert "rejected_proposals" not in kinds

    (broken / ".ai-agent.toml").write_text((broken / ".ai-agent.toml").read_text() + "auto_fix = true\n")
    assert run_ai("--trust", cwd=broken).returncode == 0  # a changed file needs trusting again
    applied = run_ai("--fix", cwd=broken, env=env_for(server))
    assert applied.returncode == 0, applied.stderr
    assert (broken / "calc/ops.py").read_text() == FIXED_OPS
    assert "applied a verified fix" in applied.stdout


async def test_cancelling_mid_attempt_leaves_no_copy_and_no_change(
    broken: Path, model, tmp_path: Path
) -> None:
    server = model([{"reply": RIGHT, "stall": 300.0, "stall_after": 5}])
    before = snapshot(broken)
    session = ProjectStore(broken).session("main")
    config = load_config(broken, {"base_url": server.base_url, "model": "scripted-model"})
    scratch_parent = tmp_path / "scratch"
    scratch_parent.mkdir()
    streaming = asyncio.Event()

    async def consume() -> None:
        request = FixRequest(broken, session, config, scratch_parent=scratch_parent)
        async for event in run_fix(request, reject):
            if isinstance(event, FixAttempt) and event.outcome == "started":
                streaming.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(streaming.wait(), BOUND)
    # The model has started answering (then stalls) and the copy exists while the attempt runs.
    await until(
        lambda: server.chat_requests() and len(list(scratch_parent.iterdir())) == 1,
        what="the model asked with the scratch copy made",
    )
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert list(scratch_parent.iterdir()) == []
    assert snapshot(broken) == before


async def reject(_ready: DiffReady) -> Decision:
    return Decision(DecisionKind.REJECT)


def test_the_code_a_test_uses_is_sent_when_the_stack_stays_in_the_test(tmp_path: Path) -> None:
    from app.fix.parsers import Frame, ParsedError
    from app.fix.prompt import fix_message

    (tmp_path / "calc").mkdir()
    (tmp_path / "calc/ops.py").write_text("def add(a, b):\n    return a - b\n")
    (tmp_path / "calc/__init__.py").write_text("")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_ops.py").write_text(
        "from calc.ops import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
    )
    (tmp_path / "web").mkdir()
    (tmp_path / "web/sum.ts").write_text("export const sum = (a: number) => a;\n")
    (tmp_path / "web/sum.test.ts").write_text("import { sum } from './sum';\n")
    failures = [
        ParsedError(
            "tests/test_ops.py",
            5,
            0,
            "assert -1 == 3",
            "AssertionError",
            (Frame("tests/test_ops.py", 5, "test_add"),),
            "pytest",
            "",
            "tests/test_ops.py::test_add",
        ),
        ParsedError(
            "web/sum.test.ts", 1, 0, "expected 3", "AssertionError", (Frame("web/sum.test.ts", 1),), "node"
        ),
    ]
    text, sent, _ = fix_message(tmp_path, failures, "pytest", [], [], 20_000)
    assert sent == ["tests/test_ops.py", "web/sum.test.ts", "calc/ops.py", "web/sum.ts"]
    assert "### calc/ops.py (full file, 2 lines; code the failing test uses)" in text


async def test_asking_for_another_fix_starts_the_next_attempt_with_the_feedback(broken: Path, model) -> None:
    server = model([{"reply": RIGHT}])
    session = ProjectStore(broken).session("main")
    config = load_config(broken, {"base_url": server.base_url, "model": "scripted-model"})
    decisions = [
        Decision(DecisionKind.REVISE, feedback="use a guard clause with a comment"),
        Decision(DecisionKind.APPLY),
    ]

    async def decide(_ready: DiffReady) -> Decision:
        return decisions.pop(0)

    events = [event async for event in run_fix(FixRequest(broken, session, config), decide)]

    verified = [e.attempt for e in events if isinstance(e, FixVerified)]
    assert verified == [1, 2]
    second = server.chat_requests()[1]["body"]["messages"][-1]["content"]
    assert "the user asked for another fix: use a guard clause with a comment" in second
    assert (broken / "calc/ops.py").read_text() == FIXED_OPS


async def test_read_requests_are_served_and_a_malformed_answer_costs_one_attempt(broken: Path, model) -> None:
    read = "I need the package file.\n\n<<<<<<< READ calc/__init__.py\n>>>>>>> END\n"
    malformed = "<<<<<<< REPLACE calc/ops.py\ndef mean(values):\n>>>>>>> END\n"  # no ======= line
    server = model(
        [
            {"when": {"request": 1}, "reply": read},
            {"when": {"request": 2}, "reply": malformed},
            {"when": {"request": 3}, "reply": RIGHT},
        ]
    )
    session = ProjectStore(broken).session("main")
    config = load_config(broken, {"base_url": server.base_url, "model": "scripted-model"})
    events = [event async for event in run_fix(FixRequest(broken, session, config, dry_run=True), reject)]

    outcomes = [(e.number, e.outcome) for e in events if isinstance(e, FixAttempt) and e.outcome != "started"]
    assert outcomes == [(1, "invalid"), (2, "verified")]
    invalid = next(e for e in events if isinstance(e, FixAttempt) and e.outcome == "invalid")
    assert "no `=======` line" in invalid.reason
    served = server.chat_requests()[1]["body"]["messages"][-1]["content"]
    assert "Here are the files you asked to READ" in served and "### calc/__init__.py" in served
    assert "attempt 1: invalid" in server.chat_requests()[2]["body"]["messages"][-1]["content"]


def test_the_prompt_carries_this_sessions_recent_changes(broken: Path) -> None:
    from app.fix.parsers import parse_errors
    from app.fix.prompt import fix_message

    session = ProjectStore(broken).session("main")
    diff = "--- a/calc/ops.py\n+++ b/calc/ops.py\n@@ -1,2 +1,2 @@\n-    return sum(values) / max(len(values), 1)\n+    return sum(values) / len(values)\n"
    session.record_change(
        {"id": "c1", "summary": "simplify mean", "files": ["calc/ops.py"], "diffs": {"calc/ops.py": diff}}
    )
    session.record_change(
        {"id": "c0", "summary": "undone one", "undone": True, "diffs": {"x.py": "--- a/x.py\n"}}
    )
    output = (
        "FAILED tests/test_ops.py::test_mean_empty - ZeroDivisionError: division by zero\n1 failed in 0.1s\n"
    )
    text, _, _ = fix_message(broken, parse_errors(output, broken), "pytest", session.changes(), [], 20_000)
    assert "# This session's recent changes (newest first)\n## c1: simplify mean\n```diff\n" + diff in text
    assert "undone one" not in text


def test_a_test_command_that_cannot_run_is_not_sent_to_the_model(broken: Path, model) -> None:
    server = model([{"reply": RIGHT}])
    result = run_ai("--fix", "--test-cmd", "no-such-test-runner --quick", cwd=broken, env=env_for(server))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith(
        "ai: the test command was not found: set test_cmd in .ai-agent.toml or pass --test-cmd ("
    )
    assert "no-such-test-runner" in result.stderr
    assert server.chat_requests() == []


async def test_a_fix_that_edits_the_test_says_so_in_its_evidence(broken: Path, model) -> None:
    from tests.support.fix_project import replace_block

    weaken = replace_block(
        "def test_mean_empty():\n    assert mean([]) == 0\n",
        "def test_mean_empty():\n    assert mean([5]) == 5\n",
        "tests/test_ops.py",
        "The test is wrong.",
    )
    server = model([{"reply": weaken}])
    session = ProjectStore(broken).session("main")
    config = load_config(broken, {"base_url": server.base_url, "model": "scripted-model"})
    events = [event async for event in run_fix(FixRequest(broken, session, config, dry_run=True), reject)]
    verified = next(e for e in events if isinstance(e, FixVerified))
    assert (
        verified.evidence[-1] == "note: this fix changes test file(s) tests/test_ops.py; check what they test"
    )


async def test_an_answer_that_stalls_in_the_fix_loop_is_retried_after_the_idle_gap(
    broken: Path, model
) -> None:
    from dataclasses import replace

    from app.events import Retrying, Waiting

    server = model([{"reply": RIGHT, "stall": 60, "stall_after": 10, "times": 1}, {"reply": RIGHT}])
    config = replace(
        load_config(broken, {"base_url": server.base_url, "model": "scripted-model"}),
        first_token_timeout=60.0,
        stream_idle_timeout=0.5,
        retry_base_delay=0.01,
    )
    session = ProjectStore(broken).session("main")

    async def reject(_ready: DiffReady) -> Decision:
        return Decision(DecisionKind.REJECT)

    events = [event async for event in run_fix(FixRequest(broken, session, config), reject)]
    retries = [e for e in events if isinstance(e, Retrying)]
    assert [(r.what, r.short) for r in retries] == [("stream_idle", "stream idle 0.5 s")]
    waits = [e for e in events if isinstance(e, Waiting) and e.what == "first_token" and not e.over]
    assert [(w.attempt, w.limit) for w in waits] == [
        (1, 60.0),
        (2, 60.0),
    ]  # each attempt says what it waits for
    assert any(isinstance(e, FixVerified) for e in events)
    assert len(server.chat_requests()) == 2


async def test_a_read_of_a_symlink_leading_outside_is_refused_as_in_a_build(
    broken: Path, model, tmp_path: Path
) -> None:
    """The fix loop serves READ through the build's turn (app/pipeline/turn.py), so the build's guard holds."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "private.py").write_text("TOKEN = 'FIX-READ-OUTSIDE-MARKER'\n")
    (broken / "calc" / "linked.py").symlink_to(outside / "private.py")
    server = model(
        [
            {"when": {"request": 1}, "reply": "<<<<<<< READ calc/linked.py\n>>>>>>> END\n"},
            {"when": {"request": 2}, "reply": RIGHT},
        ]
    )
    session = ProjectStore(broken).session("main")
    config = load_config(broken, {"base_url": server.base_url, "model": "scripted-model"})
    events = [event async for event in run_fix(FixRequest(broken, session, config, dry_run=True), reject)]

    assert any(isinstance(e, FixVerified) for e in events)
    served = server.chat_requests()[1]["body"]["messages"][-1]["content"]
    assert "- calc/linked.py: leads outside the project root through a symlink" in served
    assert all("FIX-READ-OUTSIDE-MARKER" not in json.dumps(r["body"]) for r in server.chat_requests())
