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

# -- help: the help screen (F1, ?), escape stops a build, copying, search in the conversation (help helper) -------
# Where the keys of each class work (app/tui/keys.py), in the help screen's order; a class not named here is
# worded from its name.
KEY_PLACES = {
    "WorkspaceApp": "anywhere",
    "MainScreen": "in the workspace",
    "GoalInput": "in the goal input",
    "ConversationSearch": "in the search bar (ctrl+r)",
    "SessionList": "in the session list",
    "DiffPane": "in the diff pane",
    "DiffPreview": "in the diff pane",
    "EventLog": "in the error feed",
    "ApprovalScreen": "in the approval",
    "EditorScreen": "in the built-in editor",
    "PromptScreen": "in a question that asks for a name",
    "ConfirmScreen": "in a yes/no question",
    "TrustScreen": "in the trust question",
    "SuggestionsScreen": "in the suggestions",
    "HelpScreen": "in this help",
}
KEY_PALETTE = "Command palette"
# The help screen's words for a key, by binding id (a key without one here is shown with its Footer word).
KEY_HELP = {
    "quit": "quit",
    "help": "this help",
    "command_palette": "the command palette: every command, searchable",
    "app.focus_next": "focus the next pane",
    "app.focus_previous": "focus the previous pane",
    "screen.copy_text": "copy the text selected with the mouse",
    "apply": "apply the pending proposal",
    "reject": "reject the pending proposal",
    "review": "reopen the approval of the pending proposal",
    "stop-build": "stop the running build or fix (nothing is applied)",
    "undo": "undo this session's last applied change",
    "new-session": "start a new named session",
    "toggle-sessions": "show or hide the session list",
    "error-feed": "focus the newest error in the feed",
    "older-messages": "load older messages of the conversation",
    "toggle-context": "show or hide the context panel: the files sent and why, their tokens, the window's fill",
    "focus-goal": "stop the running build (as ctrl+g); otherwise back to the goal input",
    "help-key": "this help (when the focus is not in a text input)",
    "copy-reply": "copy the model's last reply (Markdown)",
    "search": "search in the conversation",
    "copy-diff": "copy the diff shown",
    "goal-history-previous": "the previous goal",
    "goal-history-next": "the next goal",
    "session-rename": "rename the selected session",
    "session-delete": "delete the selected session (asks first)",
    "diff-next-hunk": "next hunk",
    "diff-prev-hunk": "previous hunk",
    "diff-next-file": "next file",
    "diff-prev-file": "previous file",
    "diff-toggle-hunk": "keep or skip the current hunk",
    "feed-previous-error": "previous error",
    "feed-next-error": "next error",
    "feed-fix": "start a fix of the selected error",
    "search-next": "next match",
    "search-previous": "previous match",
    "search-close": "close the search, back where you were",
    "help-close": "close this help",
    "approve-apply": "apply the hunks kept, with a git commit",
    "approve-reject": "reject: nothing changes (the default)",
    "approve-edit": "edit the proposed result in $VISUAL/$EDITOR or the built-in editor",
    "approve-revise": "revise: say what should change, the model answers again",
    "approve-suggest": "the model suggests alternatives and proposes one",
    "approve-hide": "back to the workspace; the decision stays pending",
    "editor-save": "use the edited result",
    "editor-cancel": "back without the edit",
    "prompt-cancel": "cancel",
    "confirm-yes": "yes",
    "confirm-no": "no",
    "trust-project": "trust this project: its tests and language servers may run",
    "trust-not-now": "not now",
    "suggestions-close": "close (enter builds the highlighted one)",
}
HELP_TITLE = "ai · keys and commands"
HELP_WORKFLOW = """\
How a change happens:
  1. type a goal in the input below; enter sends it
  2. ai reads the code it needs and plans (its reply streams in)
  3. the change waits in the diff pane: y apply · n reject · e edit
  4. ctrl+z undoes it; escape or ctrl+g stops a running build"""
HELP_KEYS_HEADING = "Keys"
HELP_SLASH_HEADING = "Slash commands (type them in the goal input)"
HELP_FOOTER = "escape, F1 or q closes · ↑/↓, PgUp/PgDn scroll"
# Copying (App.copy_to_clipboard: OSC 52, and the App's clipboard).
COPIED_REPLY = "copied the last reply ({lines} line{plural})"
COPIED_DIFF = "copied the diff ({files} file{files_plural}, {lines} line{plural})"
NOTHING_TO_COPY = "nothing to copy yet"
COMMAND_COPY_REPLY = ("Copy last reply", "copy the model's last reply to the clipboard, as Markdown")
COMMAND_COPY_DIFF = ("Copy diff", "copy the diff shown in the diff pane to the clipboard")
# The search bar (ctrl+r) above the goal input.
SEARCH_PLACEHOLDER = "search the conversation… (enter/↓ next · ↑ previous · escape closes)"
SEARCH_COUNT = "{current}/{total}"
SEARCH_NO_MATCH = "no match"
SEARCH_NOT_LOADED = " · {count} older not searched (ctrl+o loads them)"
# The Footer's words for this section's keys (texts.KEYS, by binding id).
KEYS.update(
    {
        "help": "Help",
        "help-key": "Help",
        "copy-reply": "Copy reply",
        "search": "Search",
        "copy-diff": "Copy diff",
    }
)

# -- models: the model picker, /model, tokens and cost, /tokens (app/tui/model_desk.py, app/tui/model_picker.py) --
COMMAND_PICK_MODEL = ("Pick model", "choose the model of this workspace from the endpoint's list")
PICKER_TITLE = "Model for the next builds of this project"
PICKER_PLACEHOLDER = "filter, or type a model's name"
PICKER_LOADING = "loading the endpoint's models…"
PICKER_HELP = "{count} model(s) · ● current · enter picks · escape cancels"
PICKER_NO_MATCH = "no listed model matches: enter switches to {name!r} as typed"
PICKER_FAILED = "{error}; enter switches to the name typed above"
PICKER_CURRENT = "  (current)"
MODEL_NEEDS_ENDPOINT = (
    "no model endpoint is configured: set OPENAI_BASE_URL (see the conversation) to pick a model"
)
MODEL_SWITCH_WHILE_BUSY = "a build is running: switch the model after it ends (ctrl+g stops it)"
MODEL_SWITCHED = "model: {name} for the next builds of this project"
MODEL_SWITCHED_OVERRIDDEN = "model: {name} for the next builds here; remembered for this project, but {source} still decides at the next start"
MODEL_UNCHANGED = "model: {name} already"
MODEL_NOT_LISTED = "{name!r} is not on the endpoint's model list ({listed}): switched anyway; the next build says if the endpoint refuses it"
MODEL_NOT_REMEMBERED = "model: {name} for this run only: {error}"
MODEL_SOURCES = {"flag": "--model", "env": "AI_AGENT_MODEL"}
# The status line's tokens: the session's, this turn's (once there is one), the session's cost (when priced).
USAGE_SESSION = "{tokens}"
USAGE_TURN = " (turn {tokens})"
USAGE_COST = " · {cost}"
TOKENS_NOTE = """\
tokens of session {session!r}: {prompt:,} prompt + {completion:,} completion = {total:,}{session_cost}
last turn: {turn}
{context}{prices}"""
TOKENS_NO_TURN = "none in this run yet"
TOKENS_CONTEXT = "last context sent: ~{tokens:,} tokens of the {budget:,} budget (context_tokens), "
TOKENS_WINDOW = "{percent}% of the model's {window:,}-token window"
TOKENS_NO_WINDOW = "the model's window unknown (set context_window)"
TOKENS_TURN = "{prompt:,} prompt + {completion:,} completion = {total:,}{cost}"
TOKENS_COST = " · {cost}"
TOKENS_PRICES = "prices: ${price_in:g} in / ${price_out:g} out per million tokens"
TOKENS_NO_PRICES = "no cost shown: set price_per_mtok_in and price_per_mtok_out (USD per million tokens) in .ai-agent.toml or $AI_AGENT_HOME/config.toml"

# -- slash commands: the dispatcher and /help /new /sessions /clear /undo /diff /export /quit (slash helper) --
SLASH_HELP_TITLE = "slash commands (type one in the goal input; nothing is sent to the model):"
SLASH_HELP_END = "F1: every key"
SLASH_WAIT = "/{name} changes the session: wait for the build to end, or stop it with ctrl+g"
SLASH_TAKES_NO_ARGUMENT = "/{name} takes no argument: type /{name} alone (/help lists the commands)"

CONTEXT_CLEARED = "context cleared: later goals start fresh"
APPLIED_DIFF_TITLE = "applied in this session"
NOTHING_APPLIED = "nothing applied in this session yet (or every change is undone): /diff has nothing to show"
APPLIED_DIFF_NOTE = "applied in this session (the diff pane is the running build's):\n{diff}"
SLASH_BAD_NAME = "no session created: {problem}"

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

# -- pins, /compact, /init (app/tui/pins.py) ------------------------------------------------------------------------
PIN_ADDED = (
    "pinned {path} (~{tokens} tokens): every goal of this session reads it in full (/drop {path} unpins it)"
)
PIN_ALREADY = "{path} is pinned already (~{tokens} tokens)"
PIN_REFUSED = "not pinned: {path}: {reason}"
PIN_NEEDS_PATH = "/add takes a path: /add app/users.py (the @ completion helps find it)"
PINS_NOW = "pinned now: {paths}"
UNPINNED = "unpinned {paths}: later goals read them only when they need them"
NOT_PINNED = "{path} is not pinned (pinned now: {pinned})"
NOTHING_PINNED = "nothing is pinned in this session (/add PATH pins a file)"
COMPACTING = "compacting: the model summarises this session's history…"
COMPACTED = "compacted {messages} turn(s) of this session into this summary (later goals send it instead):\n\n{summary}"
COMPACT_FAILED = "not compacted: {error}"
INIT_STARTED = "/init: AGENTS.md from the repository map, as a proposal (y applies it, ctrl+z undoes it)"
