"""What app/text/terminal.py imports, seen from a fresh interpreter (a subprocess: an integration test; the
rule itself is unit-tested in tests/unit/escapes/test_terminal_text.py)."""

from __future__ import annotations

import subprocess
import sys


def test_the_module_is_standard_library_only() -> None:
    # `ai --list-sessions` imports it on its fast path.
    code = (
        "import sys, app.text.terminal; "
        "heavy = {'textual', 'rich', 'openai', 'dulwich', 'orjson', 'tinydb'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
