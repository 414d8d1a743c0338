"""What the goal's context holds, part by part (ContextReady's entries): a real stage 2-4 run
(app/pipeline/prepare.py) on a small project says why each file is there and what it costs, the history's
share, the window of the model, and a READ round's files as they join."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Config
from app.events import ContextEntry, ContextReady, FilesRead, Why
from app.llm.prompts import FileContext
from app.pipeline.prepare import prepare_context
from app.pipeline.state import BuildRequest, BuildState
from app.pipeline.turn import ServedReads
from app.session.store import ProjectStore
from tests.conftest import git

OPS = "def add(a, b):\n    return a + b\n\n\ndef subtract(a, b):\n    return a + b\n"
TEXTS = "def slugify(text):\n    return text.lower().replace(' ', '-')\n"
NOTES = "Remember: subtract must never add.\n"


@pytest.fixture
def calc(git_project: Path) -> Path:
    files = {
        "calc/__init__.py": "",
        "calc/ops.py": OPS,
        "calc/texts.py": TEXTS,
        "docs/notes.md": NOTES,
        "AGENTS.md": "Run the tests with pytest.\n",
    }
    for rel, text in files.items():
        path = git_project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(git_project, "add", ".")
    git(git_project, "commit", "-q", "-m", "calc")
    return git_project


async def context_of(root: Path, goal: str, earlier: list | None = None, **config) -> ContextReady:
    session = ProjectStore(root).session("main")
    request = BuildRequest(root, session, goal, Config(**config))
    state = BuildState(request, root.resolve())
    try:
        events = [event async for event in prepare_context(state, earlier or [])]
    finally:
        if state.index is not None:
            state.index.close()
    (ready,) = [e for e in events if isinstance(e, ContextReady)]
    return ready


async def test_each_file_says_why_it_is_in_the_context_and_what_it_costs(calc: Path) -> None:
    ready = await context_of(calc, "make subtract subtract in calc/ops.py and use `slugify` for the names")
    whys: dict[str, list[str]] = {}
    for entry in ready.entries:
        whys.setdefault(entry.path, []).append(entry.why)
    # The files first, then the sections: a named file's lines may be search hits too (two parts, two costs).
    assert whys["calc/ops.py"] == [Why.NAMED, Why.SEARCH]
    assert whys["calc/texts.py"][0] == Why.SYMBOL
    assert whys["docs/notes.md"] == [Why.SEARCH]  # "subtract" is one of the goal's key terms
    assert whys["AGENTS.md"] == [Why.RELATED]
    by_path = {e.path: e for e in ready.entries if e.why != Why.SEARCH}
    assert all(e.tokens > 0 for e in ready.entries)
    # A file's cost is what it costs as sent: its whole text with the heading and fence around it.
    assert by_path["calc/ops.py"].tokens > len(OPS) // 4
    # The parts add up to the request's context (no history here).
    assert ready.history_tokens == 0
    assert ready.system_tokens > 100  # the system prompt goes first in the same request
    assert sum(e.tokens for e in ready.entries) == ready.tokens
    assert ready.to_json()["entries"][0] == {
        "path": "calc/ops.py",
        "why": "named",
        "tokens": by_path["calc/ops.py"].tokens,
        "section": False,
    }


async def test_the_history_share_and_the_window_of_the_model(calc: Path) -> None:
    earlier = [
        {"role": "user", "content": "rename add to plus " * 20, "kind": "goal"},
        {"role": "assistant", "content": "Done, it is renamed. " * 20},
    ]
    ready = await context_of(calc, "fix calc/ops.py", earlier, model="gpt-4o")
    assert ready.history_tokens > 100
    assert ready.tokens == ready.history_tokens + sum(e.tokens for e in ready.entries)
    assert (ready.window, ready.window_source) == (128_000, "known")
    configured = await context_of(calc, "fix calc/ops.py", model="gpt-4o", context_window=50_000)
    assert (configured.window, configured.window_source) == (50_000, "config")
    unknown = await context_of(calc, "fix calc/ops.py", model="scripted-model")
    assert (unknown.window, unknown.window_source) == (0, "")


async def test_what_the_budget_dropped_is_not_an_entry(calc: Path) -> None:
    ready = await context_of(calc, "make subtract subtract in calc/ops.py", context_tokens=60)
    assert ready.dropped  # the search hits (dropped first) did not fit
    assert Why.SEARCH not in {e.why for e in ready.entries}
    assert ready.entries[0].why == Why.NAMED
    assert sum(e.tokens for e in ready.entries) == ready.tokens


def test_a_read_round_tells_its_files_with_their_cost() -> None:
    served = ServedReads([FileContext("calc/texts.py", TEXTS, "asked with READ", rank=5)], [], {})
    (event, *_) = served.events()
    assert isinstance(event, FilesRead)
    assert event.entries == (ContextEntry("calc/texts.py", Why.READ, served.files[0].tokens),)


def test_a_pinned_file_says_pinned_whatever_named_it() -> None:
    from app.pipeline.context_report import file_entries

    named = FileContext("calc/ops.py", OPS, "named: calc/ops.py", rank=0)
    symbol = FileContext("calc/texts.py", TEXTS, "defines slugify", rank=3)
    entries = file_entries([named, symbol], pinned={"calc/texts.py"})
    assert [e.why for e in entries] == [Why.NAMED, Why.PINNED]


def test_the_headless_transcript_says_the_windows_fill() -> None:
    import io

    from app.commands.printer import Transcript

    out = io.StringIO()
    transcript = Transcript(out, io.StringIO())
    transcript.show(ContextReady(tokens=12_000, bytes=48_000, window=128_000, system_tokens=800))
    transcript.show(ContextReady(tokens=900, bytes=3_600, system_tokens=100))
    first, second = out.getvalue().splitlines()
    assert first == (
        "context: 48000 bytes, ~12000 tokens "
        "(the request ~12800 with the system prompt: 10% of the model's 128000-token window)"
    )
    assert second.endswith(
        "(the request ~1000 with the system prompt: the model's window unknown: set context_window)"
    )
