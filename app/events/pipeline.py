"""The typed events of the build pipeline and the fix loop: the one contract between the core and every face.

``app.pipeline.build`` and ``app.fix.loop`` yield these; ``app.commands.printer`` prints them (plain transcript or JSON Lines)
and the TUI renders them. Extend by adding fields with defaults or new event classes; never rename what is here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any, ClassVar, Protocol

from app.events.base import Event
from app.events.records import Diagnostic
from app.text.editblocks import EditBlock


class ProposedFile(Protocol):
    """What a face reads of one file of a proposal (the edit engine's ``FileChange``, app/edits/proposal.py)."""

    @property
    def path(self) -> str: ...

    @property
    def new_text(self) -> str | None: ...  # None: the file is removed


class ProposalView(Protocol):
    """What a face reads of a proposal (the edit engine's ``Proposal``): its files with their new text."""

    @property
    def files(self) -> Sequence[ProposedFile]: ...

    def diffs(self) -> dict[str, str]: ...

    def hunk_counts(self) -> dict[str, int]: ...

    def with_edited(self, contents: Mapping[str, str]) -> ProposalView: ...  # the user's edited result


class Stage(IntEnum):
    """The eight stages of a build (README.md "How a build works"), numbered as the workspace shows them."""

    GOAL = 1
    LOCATE = 2
    READ = 3
    CONTEXT = 4
    PLAN = 5
    EDIT = 6
    VALIDATE = 7
    CONFIRM = 8

    @property
    def label(self) -> str:
        return self.name.capitalize()

    def to_json(self) -> dict[str, Any]:
        return {"number": int(self), "name": self.label}


class DecisionKind(StrEnum):
    APPLY = "apply"  # y
    REJECT = "reject"  # n (the default)
    EDIT = "edit"  # e: apply ``edited`` (path -> full new content) instead of the proposal
    REVISE = "revise"  # r: ``feedback`` goes back to the model in the same turn
    SUGGEST = "suggest"  # s: the model proposes alternatives


@dataclass(frozen=True)
class Decision:
    """The user's answer to a proposal. ``hunks`` selects per file which hunk indexes to keep (None: all)."""

    kind: DecisionKind = DecisionKind.REJECT
    hunks: dict[str, list[int]] | None = None
    edited: dict[str, str] | None = None
    feedback: str = ""


class Why(StrEnum):
    """Why a part is in the goal's context (a ``ContextEntry``'s ``why``)."""

    NAMED = "named"  # the goal names the file (path, file name or module)
    SYMBOL = "symbol"  # the file defines a symbol the goal names
    SEARCH = "search hit"  # lines of the file hold the goal's key terms
    PINNED = "pinned"  # pinned by the user (an @path mention, /add)
    RELATED = "related"  # a section the context adds: recent changes, project health, AGENTS.md
    REPO_MAP = "repo map"  # the repo map's most relevant definitions
    READ = "READ"  # the model asked for the file with a READ block


@dataclass(frozen=True)
class ContextEntry:
    """One part of the goal's context: a file (``path``) or, with ``section``, a titled section the context adds
    (``path`` is its title); ``why`` it is there (a ``Why`` value) and its estimated ``tokens`` as sent."""

    path: str
    why: str
    tokens: int
    section: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "why": str(self.why), "tokens": self.tokens, "section": self.section}


@dataclass(frozen=True)
class StageStarted(Event):
    kind: ClassVar[str] = "stage_started"
    stage: Stage
    detail: str = ""


@dataclass(frozen=True)
class StageFinished(Event):
    kind: ClassVar[str] = "stage_finished"
    stage: Stage
    detail: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class FilesRead(Event):
    """Files sent to the model in full (or as regions plus outline when ``partial``)."""

    kind: ClassVar[str] = "files_read"
    paths: tuple[str, ...]
    partial: tuple[str, ...] = ()
    reason: str = ""
    # A READ round's files as they join the context, each with its token cost (empty for the goal's own files:
    # ContextReady carries those).
    entries: tuple[ContextEntry, ...] = ()


@dataclass(frozen=True)
class ProseDelta(Event):
    """A chunk of the model's prose (everything outside edit blocks), as it streams."""

    kind: ClassVar[str] = "prose_delta"
    text: str


@dataclass(frozen=True)
class BlockCompleted(Event):
    """One edit block whose ``>>>>>>> END`` arrived. ``block`` is the parsed block (not serialised)."""

    kind: ClassVar[str] = "block_completed"
    index: int
    block_kind: str
    path: str
    block: EditBlock | None = field(default=None, compare=False, metadata={"json": False})


@dataclass(frozen=True)
class DiffReady(Event):
    """The validated proposal: a unified diff per file. ``proposal`` is the edit engine's object."""

    kind: ClassVar[str] = "diff_ready"
    diffs: dict[str, str]
    hunk_counts: dict[str, int] = field(default_factory=dict)
    proposal: ProposalView | None = field(default=None, compare=False, metadata={"json": False})
    # The language server's NEW diagnostics per file (path -> records); empty when none or not checked.
    diagnostics: dict[str, list[Diagnostic]] = field(default_factory=dict)


@dataclass(frozen=True)
class AwaitingDecision(Event):
    kind: ClassVar[str] = "awaiting_decision"
    files: tuple[str, ...]


@dataclass(frozen=True)
class Applied(Event):
    kind: ClassVar[str] = "applied"
    change_id: str
    files: tuple[str, ...]
    commit: str | None = None


@dataclass(frozen=True)
class Rejected(Event):
    kind: ClassVar[str] = "rejected"
    reason: str = ""


@dataclass(frozen=True)
class Usage(Event):
    """Token usage of one model call (also stored on the message)."""

    kind: ClassVar[str] = "usage"
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int = 0


@dataclass(frozen=True)
class Info(Event):
    kind: ClassVar[str] = "info"
    message: str


@dataclass(frozen=True)
class ErrorEvent(Event):
    """A failure the user should see. ``fatal`` ends the run (exit status ``exit_code``)."""

    kind: ClassVar[str] = "error"
    message: str
    stage: Stage | None = None
    fatal: bool = False
    exit_code: int = 1


@dataclass(frozen=True)
class Finished(Event):
    """The last event of a run."""

    kind: ClassVar[str] = "finished"
    ok: bool
    exit_code: int = 0
    summary: str = ""


@dataclass(frozen=True)
class Retrying(Event):
    """A model call failed (``reason``) and is retried from scratch after ``delay`` seconds: a face discards the
    reply streamed so far. ``attempt`` is the attempt that failed, of ``attempts``; ``short`` is the reason in a
    few words for a status line ("stream idle 30 s"); ``what`` names the wait that ran out ("first_token",
    "stream_idle"), empty for other failures."""

    kind: ClassVar[str] = "retrying"
    attempt: int
    attempts: int
    delay: float
    reason: str
    short: str = ""
    what: str = ""


@dataclass(frozen=True)
class Waiting(Event):
    """A model call waits: ``what`` is "first_token" (the server is still reading the prompt: bounded by
    ``first_token_timeout``) or "stream_idle" (an answer that began has gone quiet: ``stream_idle_timeout``).
    ``waited`` seconds so far, ``limit`` before attempt ``attempt`` of ``attempts`` is given up. Sent when the
    first-token wait of an attempt begins (``waited`` 0), once any wait has lasted a few seconds, and with
    ``over`` when it ended (``waited``: how long it took)."""

    kind: ClassVar[str] = "waiting"
    what: str
    waited: float
    limit: float
    attempt: int = 1
    attempts: int = 1
    over: bool = False

    @property
    def label(self) -> str:
        """What is waited for, as a face says it."""
        if self.what == "first_token":
            return "waiting for the model's first token"
        return "the stream is idle"


@dataclass(frozen=True)
class ContextReady(Event):
    """What the planning request carries: its size and what the context budget dropped; ``entries`` are its
    parts with why and token cost, ``history_tokens`` the session history's share of ``tokens``, ``window`` the
    model's context window in tokens (0: unknown), ``window_source`` where that figure comes from ("config",
    "known" by the model's name, "" unknown), and ``system_tokens`` the system prompt sent before it all."""

    kind: ClassVar[str] = "context_ready"
    tokens: int
    bytes: int
    files: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    entries: tuple[ContextEntry, ...] = ()
    history_tokens: int = 0
    window: int = 0
    window_source: str = ""
    # The system prompt that goes first in the same request (not part of ``tokens``).
    system_tokens: int = 0


# -- the auto-fix loop (app.fix): its own events, shown by every face like the build's ---------------------------


@dataclass(frozen=True)
class FixStarted(Event):
    """The fix loop starts on ``errors`` (one-line summaries); tests run with ``command`` in a scratch copy."""

    kind: ClassVar[str] = "fix_started"
    errors: tuple[str, ...]
    command: str = ""
    attempts: int = 3
    trigger: str = ""
    scratch_seconds: float = 0.0


@dataclass(frozen=True)
class TestsRun(Event):
    """One test run in the scratch copy: ``scope`` is "baseline", "failing" (only the failing tests) or "suite".
    ``still_failing`` are the target failures that remain, ``new_failures`` those that did not fail before."""

    kind: ClassVar[str] = "tests_run"
    __test__: ClassVar[bool] = False  # a pipeline event, not a test class for pytest to collect
    scope: str
    command: str
    ok: bool
    attempt: int = 0
    failing: tuple[str, ...] = ()
    still_failing: tuple[str, ...] = ()
    new_failures: tuple[str, ...] = ()
    passed: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class FixAttempt(Event):
    """An attempt's progress: ``outcome`` is "started", then one of "no_edit", "invalid", "still_failing",
    "new_failures" or "verified"; ``diff`` is what it changed in the scratch copy."""

    kind: ClassVar[str] = "fix_attempt"
    number: int
    attempts: int
    outcome: str
    reason: str = ""
    files: tuple[str, ...] = ()
    diff: str = ""
    seconds: float = 0.0
    model_seconds: float = 0.0


@dataclass(frozen=True)
class FixVerified(Event):
    """A fix made the failure go away in the scratch copy and nothing new fails: what it is offered with.
    ``seconds`` runs from the failure being known to this offer; ``model_seconds`` is the part spent waiting
    for the model and ``test_seconds`` the part spent in test runs."""

    kind: ClassVar[str] = "fix_verified"
    attempt: int
    files: tuple[str, ...]
    evidence: tuple[str, ...]
    seconds: float = 0.0
    model_seconds: float = 0.0
    test_seconds: float = 0.0


@dataclass(frozen=True)
class FixSummary(Event):
    """No attempt worked: each attempt's outcome and the closest one's diff (the user's tree is untouched)."""

    kind: ClassVar[str] = "fix_summary"
    attempts: tuple[str, ...]
    closest: int = 0
    diff: str = ""
