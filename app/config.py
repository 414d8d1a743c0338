"""Configuration: flags, then environment, then the project's ``.ai-agent.toml``, then the user's
``$AI_AGENT_HOME/config.toml`` (the first that sets a value wins).

The API key is read here and handed to the model client only: it is never written to a session, an export or
a log, and ``Config.redacted()`` is what may be shown or stored.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from app.errors import UsageError
from app.paths import agent_home

PROJECT_CONFIG = ".ai-agent.toml"
USER_CONFIG = "config.toml"
DEFAULT_FIX_ATTEMPTS = 3


@dataclass(frozen=True)
class Config:
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    test_cmd: str | None = None
    log_paths: tuple[str, ...] = ()
    auto_fix: bool = False
    fix_attempts: int = DEFAULT_FIX_ATTEMPTS
    use_git: bool = True
    request_timeout: float = 120.0
    max_retries: int = 3
    context_tokens: int = 24_000
    send_secrets: bool = False
    # The model client's bounded retry: delay before retry n is retry_base_delay * 2**(n-1), at most
    # retry_max_delay; a Retry-After longer than retry_max_delay is not waited for.
    retry_base_delay: float = 1.0
    retry_max_delay: float = 30.0
    # Rounds of READ blocks served before the model must answer with edits.
    read_rounds: int = 3
    # A pre-read file above this many estimated tokens is sent as its relevant regions plus an outline.
    max_file_tokens: int = 6_000
    # Background services (app/background): language servers on/off, the test watcher on/off, its quiet
    # period before a run, and the file watcher's grouping step (a save reaches the event feed after it).
    lsp: bool = True
    watch_tests: bool = True
    test_debounce_ms: int = 800
    watch_step_ms: int = 50
    # Where each value came from ("flag", "env", "project", "user", "default"), for `ai` to explain itself.
    sources: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def has_model(self) -> bool:
        return bool(self.base_url or self.api_key)

    def redacted(self) -> dict[str, Any]:
        """Everything but the key: what may be shown, logged or stored."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("api_key", "sources")}
        data["api_key_set"] = self.api_key is not None
        return data


_KEYS: dict[str, type] = {
    "model": str,
    "base_url": str,
    "test_cmd": str,
    "log_paths": list,
    "auto_fix": bool,
    "fix_attempts": int,
    "use_git": bool,
    "request_timeout": float,
    "max_retries": int,
    "context_tokens": int,
    "send_secrets": bool,
    "lsp": bool,
    "watch_tests": bool,
    "test_debounce_ms": int,
    "watch_step_ms": int,
    "retry_base_delay": float,
    "retry_max_delay": float,
    "read_rounds": int,
    "max_file_tokens": int,
}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}; fix or remove it") from None
    # Settings may sit at the top level or under [ai].
    section = data.get("ai", data)
    if "api_key" in section:
        raise UsageError(f"{path} sets api_key: keep the key in OPENAI_API_KEY, never in a file")
    values: dict[str, Any] = {}
    for key, kind in _KEYS.items():
        if key not in section:
            continue
        value = section[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise UsageError(f"{path}: '{key}' should be a {kind.__name__}")
        values[key] = tuple(str(v) for v in value) if isinstance(value, list) else value
    return values


def load_config(root: Path, overrides: dict[str, Any] | None = None) -> Config:
    """The configuration for a project. ``overrides`` are the command-line flags (None values ignored)."""
    layers: list[tuple[str, dict[str, Any]]] = [
        ("flag", {k: v for k, v in (overrides or {}).items() if v is not None}),
        (
            "env",
            {
                k: v
                for k, v in {
                    "model": os.environ.get("AI_AGENT_MODEL"),
                    "base_url": os.environ.get("OPENAI_BASE_URL"),
                    "api_key": os.environ.get("OPENAI_API_KEY"),
                }.items()
                if v
            },
        ),
        ("project", _read_toml(root / PROJECT_CONFIG)),
        ("user", _read_toml(agent_home() / USER_CONFIG)),
    ]
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, layer in layers:
        for key, value in layer.items():
            if key not in values:
                values[key] = value
                sources[key] = source
    if "log_paths" in values:
        values["log_paths"] = tuple(values["log_paths"])
    config = Config(**values)
    return replace(config, sources=sources)
