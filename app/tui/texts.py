"""Every user-facing text of the workspace in one place: help, notes, toasts and event-log lines.

Texts with fields are ``str.format`` templates; the panes and collaborators fill them in.
"""

from __future__ import annotations

# -- rerun tests ------------------------------------------------------------------------------------------------
TESTS_PASSED = "tests passed · {last}"
TESTS_FAILED = "tests failed (exit {code}) · {last}"
TESTS_TIMED_OUT = "tests stopped after {seconds:g} s (they ran too long) · {last}"
