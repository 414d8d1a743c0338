"""The user config file of a test's AI_AGENT_HOME: fast retries and no language server, for every tier."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_user_config(home: Path, **values: Any) -> None:
    """Fast retries for tests, through the user config file (the lowest layer: flags and env still win)."""
    # lsp off: stage 7's language-server check would start basedpyright for every Python proposal (~2 s);
    # tests/integration/pipeline/test_validate_lsp.py turns it on.
    settings = {
        "retry_base_delay": 0.01,
        "retry_max_delay": 5.0,
        "max_retries": 2,
        "request_timeout": 5.0,
        "lsp": False,
    }
    settings.update(values)
    lines = []
    for key, value in settings.items():
        lines.append(f"{key} = {json.dumps(value)}")
    (home / "config.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
