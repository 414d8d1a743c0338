"""Every user-facing text of the workspace in one place: help, notes, toasts and event-log lines.

Texts with fields are ``str.format`` templates, filled in by the panes and the screen's collaborators. This
module imports nothing, so any widget may use it.
"""

from __future__ import annotations

NO_MODEL_HELP = """\
**No model is configured.** Sessions, history and undo work without one; to build, point `ai` at any
OpenAI-compatible chat-completions endpoint (OpenAI, Ollama, llama.cpp, vLLM, LM Studio):

- `OPENAI_BASE_URL`: the endpoint, e.g. `http://localhost:11434/v1`
- `OPENAI_API_KEY`: the key, if the server needs one (kept in the environment, never stored)
- `AI_AGENT_MODEL`: the model name

or put `base_url = "..."` and `model = "..."` in `.ai-agent.toml` at the project root, then restart `ai`.
"""

# -- the build: decisions, outcomes, the model call's waits -------------------------------------------------------
# Keyed by DecisionKind's values (a StrEnum: its members look these up).
DECISION_NOTES = {
    "apply": "you: apply",
    "reject": "you: reject",
    "edit": "you: apply my edited version",
    "revise": "you: revise",
    "suggest": "you: suggest alternatives",
}
HUNKS_KEPT = " ({kept} hunk{plural} kept)"
BUILD_RUNNING = "a build is running: wait for it, or stop it with ctrl+g"
STOPPING = "stopping the build…"
# After a stop: the feed's line (whether a change was applied by then) and the conversation's note.
STOPPED = "stopped: nothing was applied"
STOPPED_AFTER_APPLY = "stopped: the change was applied before the stop"
STOPPED_NOTE = "■ stopped"
NO_PROPOSAL = "no proposal yet"
WAITING_FOR_MODEL = "waiting for the model…"
DIFF_APPLIED = "applied"
DIFF_REJECTED = "rejected: nothing was changed"
DIFF_DEAD = "nothing was applied"
# Under the diff while a proposal waits (the goal input is off meanwhile, so these letters are never typed).
DECIDE_PENDING = "y apply · n reject · a review"
GOAL_WAITS = "a proposal waits for your decision: y apply · n reject · a review"
FILES_READ = "read {paths}{partial}"
FILES_READ_PARTLY = " (partly: {paths})"
NO_FILES = "no files"
APPLIED_NOTE = "✓ applied {files}{commit}"
APPLIED_LINE = "applied change {change} to {count} file(s){commit}"
COMMIT = " · commit {short}"
REJECTED_NOTE = "✗ rejected{reason}"
ERROR_NOTE = "error: {message}"
STAGE_DETAIL = "{stage}: {detail}"
CONTEXT_LINE = "context: {tokens} tokens, {count} file(s){dropped}"
CONTEXT_DROPPED = ", dropped {paths}"
RETRY_LINE = "model call failed ({reason}); attempt {next}/{attempts} in {delay:.0f}s"
WAIT_LINE = "{label}: {waited:.0f} s so far, at most {limit:g} s (attempt {attempt}/{attempts})"
WAIT_FIRST_TOKEN = "waiting for the model's first token"
WAIT_STREAM_IDLE = "stream idle"
WAIT_TICK = "{label} ({seconds:.0f} s)"
WAIT_RETRYING = "{short}, retrying {next}/{attempts}"
MODEL_CALL_FAILED = "model call failed"
DIAGNOSTICS_NOTE = "⚠ the proposal adds diagnostics:\n  {lines}"
DIAGNOSTIC = "{path}:{line}: {severity}: {message}"
DIAGNOSTIC_LINE = "proposal: {line}"
WORKER_FAILED = "{worker}: {error}"

# -- fixes and suggestions ----------------------------------------------------------------------------------------
ATTEMPT_WORDS = {
    "started": "started",
    "no_edit": "no edit proposed",
    "invalid": "the edit could not be applied",
    "still_failing": "still failing",
    "new_failures": "broke other tests",
    "verified": "verified",
}
FIX_STARTED_LINE = "fix loop{trigger}: {count} error(s), up to {attempts} attempts"
FIX_STARTED_NOTE = "fixing{trigger}: {errors}"
FIX_TESTS_LINE = "tests ({scope}, attempt {attempt}) {outcome}{new} · {seconds:.1f}s"
FIX_ATTEMPT_LINE = "fix attempt {number}/{attempts} {word}{reason}"
FIX_VERIFIED_NOTE = "✓ fix verified (attempt {attempt}) in a scratch copy: {evidence}"
FIX_FAILED_NOTE = "no verified fix; your files are untouched. Attempts:\n{lines}"
CLOSEST_ATTEMPT = "closest attempt"
FIX_GOAL = "fix: {error}"
FEED_FAILURE = "failing: {test} ({file}:{line}) {message}"
FIX_AFTER_CHANGE = "tests fail after change {change}: asking the fix loop for a verified fix"
FIX_TRIGGER_AFTER_CHANGE = "after change {change}"
FIX_QUEUED = "the fix starts when the running build ends"
FIX_NEEDS_MODEL = "no model is configured: a fix needs one (see the conversation)"
NO_ERRORS_IN_FEED = "no errors in the feed: failing tests, language-server errors and log errors show there"
NO_ERRORS_TO_FIX = "no errors in the feed to fix"
SUGGESTIONS_COLLECTING = "collecting suggestions (tests, diagnostics, TODOs, complex functions, history)…"
SUGGESTIONS_NOTE = "suggestions: {note}"
NO_SUGGESTIONS = "no suggestions: nothing fails, no TODOs, no long or complex functions"
SUGGESTION_WAIT = "a build is running: pick the suggestion again when it ends"
SUGGESTION_SESSION = "suggestion → new session {name!r}: {goal}"

# -- sessions, undo, export --------------------------------------------------------------------------------------
SWITCH_WHILE_BUSY = "a build is running: stop it (ctrl+g) before switching sessions"
NEW_SESSION_PROMPT = "Name of the new session"
NEW_SESSION_PLACEHOLDER = "e.g. dark-mode"
SESSION_EXISTS = "session {name!r} exists: opening it"
RENAME_PROMPT = "Rename session {name!r} to"
RENAMED = "renamed session {old!r} to {new!r}"
DELETE_WHILE_BUSY = "a build is running in this session: stop it first (ctrl+g)"
DELETE_QUESTION = "Delete session {name!r} and its history? Its applied changes stay in the files. [y/N]"
DELETED = "deleted session {name!r}"
UNDO_WHILE_BUSY = "a build is running: undo after it ends"
UNDO_REFUSED = "undo refused: {error}"
UNDO_REFUSED_TITLE = "Undo refused"
NOTHING_TO_UNDO = "nothing to undo in this session"
UNDONE_NOTE = "↶ undone: {summary}"
UNDONE_LINE = "undone: {summary}"
EXPORTED = "exported session {name!r} to {path}"
EXPORTED_TITLE = "Session exported"

# -- trust and background services -----------------------------------------------------------------------------
LAST_TIME = "(last time) {summary}"
TRUST_IGNORED_SETTINGS = "Its .ai-agent.toml settings {names} stay ignored: {how}."
TRUST_ERROR = "trust: {error}"
TRUSTED_WITHOUT_SERVICES = "project trusted: its tests and language servers run in the background"
TRUSTED_ALREADY = "this project is trusted already"

# -- rerun tests ------------------------------------------------------------------------------------------------
RERUN_ASKS_TRUST = "Rerun tests runs `{command}`, and the test watcher after each change"
NO_TEST_COMMAND = "no test command configured (--test-cmd or test_cmd in .ai-agent.toml)"
RUNNING_TESTS = "running {command}"
TESTS_PASSED = "tests passed · {last}"
TESTS_FAILED = "tests failed (exit {code}) · {last}"
TESTS_TIMED_OUT = "tests stopped after {seconds:g} s (they ran too long) · {last}"

# -- panes, keys and the command palette ---------------------------------------------------------------------
EVENTS_TITLE = "Events"
DEFAULT_MODEL = "default model"
# The Footer's words for the workspace's keys, by binding id.
KEYS = {
    "apply": "Apply",
    "reject": "Reject",
    "review": "Review",
    "stop-build": "Stop",
    "undo": "Undo change",
    "new-session": "New session",
    "toggle-sessions": "Sessions",
    "error-feed": "Errors",
    "older-messages": "Older msgs",
    "focus-goal": "Goal",
    "toggle-context": "Context",
    "quit": "Quit",
}
# The Footer's shorter words below 100 columns, by action (the others keep theirs), and the keys it leaves out
# first when even those do not fit (every key works all the same).
KEYS_NARROW = {"undo": "Undo", "new_session": "New", "toggle_hunk": "Keep/skip"}
KEYS_DROPPED_FIRST = ("toggle_context", "command_palette", "toggle_sessions", "errors")
# The palette's commands: (title, help).
COMMAND_NEW_SESSION = ("New session", "start a new named session")
COMMAND_UNDO = ("Undo last change", "undo this session's most recent applied change")
COMMAND_EXPORT = ("Export session", "write this session as a JSON document")
COMMAND_RERUN_TESTS = ("Rerun tests", "run the configured test command")
COMMAND_SUGGESTIONS = (
    "Suggestions",
    "what to improve next (failing tests, diagnostics, TODOs, complex code); pick one to build it",
)
COMMAND_FIX_NEWEST = ("Fix newest error", "start a fix of the newest error in the feed")
COMMAND_TRUST = (
    "Trust this project",
    "let its tests and the language servers that run its code run in the background",
)
COMMAND_SWITCH = ("Switch session: {name}", "open session {name}")
RERUN_FROM_PALETTE = "from the command palette"

# -- slash commands (app/tui/slash.py): name -> (argument, what it does) -------------------------------------------
SLASH_HELP = {
    "help": ("", "list the slash commands (F1 shows every key)"),
    "model": ("[NAME]", "pick the model from the endpoint's list, or switch to NAME"),
    "new": ("[NAME]", "start a new session"),
    "sessions": ("", "show the session list and move to it"),
    "clear": ("", "a fresh context in this session: earlier messages stay stored but are not sent"),
    "compact": ("", "summarise this session's history; the summary is sent instead of it"),
    "undo": ("", "undo this session's most recent applied change"),
    "diff": ("", "show this session's applied changes"),
    "add": ("PATH", "pin a file into the context of every goal of this session"),
    "drop": ("PATH", "unpin a file (/drop alone unpins every file)"),
    "tokens": ("", "tokens of this session and of the last turn, the context window's fill, the cost"),
    "init": ("", "write AGENTS.md from the repository map, as a change to approve"),
    "export": ("", "write this session as a JSON document"),
    "quit": ("", "leave ai"),
}
SLASH_UNKNOWN = "unknown command /{name}: /help lists the commands (nothing was sent to the model)"

# -- the context panel (ctrl+t; app/tui/context_pane.py): what the last goal's request holds ----------------------
CONTEXT_TITLE = "Context"
CONTEXT_EMPTY = "the next goal's context shows here"
CONTEXT_HEADERS = ("part", "why", "tokens")
CONTEXT_FILL = "{tokens} of {window} tokens, {percent}%"
CONTEXT_FILL_CONFIGURED = "{tokens} of {window} tokens (context_window), {percent}%"
CONTEXT_NO_LIMIT = "{tokens} tokens · limit unknown (set context_window)"
CONTEXT_OVER = " · over the model's window"
CONTEXT_HISTORY_ROW = "session history"
CONTEXT_HISTORY_WHY = "history"
CONTEXT_SYSTEM_ROW = "system prompt"
CONTEXT_SYSTEM_WHY = "always"
CONTEXT_HISTORY = "history: {tokens} tokens, {percent}% of this request"
CONTEXT_NO_HISTORY = "history: none sent with this goal"
CONTEXT_BUDGET_DROPPED = "the budget (context_tokens) dropped: {parts}"
CONTEXT_NOTHING_DROPPED = "the budget dropped nothing"
CONTEXT_NOT_SENT = "not sent: {parts}"
CONTEXT_WHY_JOIN = ", "
