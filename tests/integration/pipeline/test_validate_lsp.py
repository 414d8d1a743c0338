"""Stage 7's language-server check with a real basedpyright: the new diagnostics of a proposal are in --json's
diff_ready and in the transcript, go back to the model once, and a clean proposal has none.

Each test starts basedpyright once (about 2 s here), so they take a few seconds each."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from app.background.lsp_launch import pyright_binary
from app.workspace.proposal_check import ProposalDiagnostics
from tests.integration.pipeline.conftest import FIX_SUBTRACT, ai_build, build_in_process
from tests.support.user_config import write_user_config

pytestmark = pytest.mark.skipif(pyright_binary() is None, reason="basedpyright is not installed")

UNDEFINED = (
    "<<<<<<< REPLACE calc/ops.py\n"
    "def subtract(a, b):\n"
    "    return a + b\n"
    "=======\n"
    "def subtract(a, b):\n"
    "    return a - bb\n"
    ">>>>>>> END\n"
)
# The model keeps talking after its block, as real ones do: the server starts meanwhile (2 s of prose).
TAIL = "\nThat is the whole change. " + "It makes subtract subtract. " * 8
SLOW = {"chunk_size": 16, "chunk_delay": 0.1}
SENT_BACK = "The language server sees new problems"


def _script(first: str) -> dict:
    return {
        "rules": [
            {"when": {"last_user_contains": SENT_BACK}, "reply": UNDEFINED},  # the model insists
            {"reply": first + TAIL, **SLOW},
        ]
    }


def test_json_diff_ready_carries_the_new_undefined_name(calc_project: Path, model_server, agent_home) -> None:
    write_user_config(agent_home, lsp=True)
    server = model_server(_script(UNDEFINED))
    result = ai_build(calc_project, server.base_url, "--build", "fix subtract in calc/ops.py", "--json")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    ready = next(e for e in events if e["event"] == "diff_ready")
    found = ready["diagnostics"]["calc/ops.py"]
    assert any(d["line"] == 6 and '"bb" is not defined' in d["message"] for d in found), found
    assert all(d["severity"] in ("error", "warning") for d in found)
    # Sent back to the model once with the exact problem, then shown.
    assert len(server.requests) == 2
    assert '"bb" is not defined' in server.requests[1]["body"]["messages"][-1]["content"]


async def test_transcript_names_the_new_problem_and_yes_still_applies(
    calc_project: Path, model_server
) -> None:
    server = model_server(_script(UNDEFINED))
    code, out, err = await build_in_process(
        calc_project, server, "fix subtract in calc/ops.py", mode="apply", lsp=True
    )
    assert code == 0, err
    assert "new problems the language server sees in the proposal:" in out
    assert 'calc/ops.py:6: "bb" is not defined' in out
    assert "return a - bb" in (calc_project / "calc" / "ops.py").read_text()  # not blocked on its own


async def test_a_clean_proposal_has_no_new_problems(calc_project: Path, model_server) -> None:
    server = model_server(_script(FIX_SUBTRACT))
    code, out, err = await build_in_process(calc_project, server, "fix subtract in calc/ops.py", lsp=True)
    assert code == 0, err
    assert "new problems" not in out and "language server" not in out
    assert len(server.requests) == 1


def _server_processes() -> list[str]:
    """Command lines of this process's children that are language servers."""
    found = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "pyright" in command:
                found.append(command)
    return found


async def test_a_proposal_without_python_starts_no_server(calc_project: Path) -> None:
    checker = ProposalDiagnostics(calc_project)
    try:
        assert await checker("NOTES.md", "# notes\nbb is not defined here\n") == []
        assert _server_processes() == []
        # A Python file does start it (the same check, so the one above could have seen one).
        assert [d.line for d in await checker("calc/new.py", "x = bb\n")] == [1]
        assert _server_processes() != []
    finally:
        await checker.close()
    assert _server_processes() == []
