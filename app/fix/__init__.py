"""Self-correction: error parsers, test runs and the auto-fix loop.

Nothing is imported here (the test watcher imports ``app.fix.testrun`` and ``app.fix.parsers`` on a fast path);
import from the modules.

Parsers (``app.fix.parsers.parse_errors(text, root)``, one module per tool under ``app/fix/parsers/``) read the
output of Python, pytest, unittest, tsc, rustc and cargo, Rust panics, go test, Node.js, jest, generic
``file:line:col: message`` tools and log entries into one form,
``app.fix.parsers.ParsedError(file, line, column, message, kind, frames, tool, raw, test_id)``;
``app.fix.parsers.parse_test_output(text)`` adds a test run's counts for the test watcher. Running a test command
(``app.fix.testrun.run_tests``/``run_command``) and detecting it (``detect_test_command``) are shared with the
test watcher too.

The fix loop, for every face (the TUI's error feed, the background test watcher and log tailer, ``ai --fix``)::

    from app.fix.loop import FixRequest, run_fix

    request = FixRequest(root, session, config)            # runs the test command first, fixes what fails
    request = FixRequest(root, session, config, errors=[...], baseline=outcome)   # a failure already known
    async for event in run_fix(request, decide):           # decide(DiffReady) -> Decision, awaited once
        ...                                                # app.events: FixStarted, TestsRun, FixAttempt,
                                                           # DiffReady, FixVerified, AwaitingDecision,
                                                           # Applied | Rejected, FixSummary, Finished

``app.fix.triggers`` turns what the background services report into a ``FixRequest``: a failing
``TestRunFinished`` (``request_for_test_run``: its run is the baseline), a ``LogError`` (``request_for_log_error``)
or language-server errors (``request_for_diagnostics``); the last two are verified by the suite not getting worse.
After a build applied a change, ``FixRequest(root, session, config, trigger="after change ID")`` runs the tests
and fixes what fails. ``FixRequest.auto_apply`` (default: ``Config.auto_fix``)
applies a verified fix without asking; ``dry_run`` only shows it. The user's tree is written only by applying a
verified fix; every attempt runs in a scratch copy (``app.fix.scratch``) that is removed afterwards.

Suggestions (what to improve next) are ``app.suggest``, which sits above this package and uses its test runs
and parsers; nothing here imports it.
"""
