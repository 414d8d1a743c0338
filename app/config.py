"""Configuration: flags, then environment, then the model last picked in this project's workspace (only the
model: ``remembered_model``), then the project's ``.ai-agent.toml``, then the user's ``$AI_AGENT_HOME/config.toml``
(the first that sets a value wins).

The API key is read here and handed to the model client only: it is never written to a session, an export or
a log, and ``Config.redacted()`` is what may be shown or stored.

A project's own file comes with the repository, so its settings that send data or run commands
(``TRUST_NEEDED``) take effect only when the user trusted that exact content (``ai --trust``, app/trust.py);
otherwise they are left out here, before anything can use them, and named in ``Config.untrusted``.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from app.errors import UsageError
from app.paths import PROJECT_CONFIG, agent_home, project_data_dir

USER_CONFIG = "config.toml"
# The model picked in the workspace (/model, the palette), beside the project's sessions.
MODEL_CHOICE = "model.json"
DEFAULT_FIX_ATTEMPTS = 3

# Project settings that need the user's trust: where requests (and the API key) go, the shell command run as
# the tests, files read and sent to the model (log files anywhere on disk, secrets files), and applying the
# model's fixes without asking. Everything else (model, budgets, timeouts, lsp on/off, ...) applies as is.
TRUST_NEEDED: tuple[str, ...] = ("base_url", "test_cmd", "log_paths", "send_secrets", "auto_fix")


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
    # The model client's waits (app/llm/client.py): connecting and sending a request; the answer's first token,
    # generous because a local model reads the whole prompt first (minutes for a long one on a small machine);
    # and any silence once the answer streams, short because a streaming model sends chunks many times a
    # second, so a stalled stream is retried soon instead of after the first token's allowance.
    request_timeout: float = 30.0
    first_token_timeout: float = 300.0
    stream_idle_timeout: float = 30.0
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
    # What the endpoint charges, in USD per million prompt (in) and completion (out) tokens; None: not known,
    # so no cost is shown.
    price_per_mtok_in: float | None = None
    price_per_mtok_out: float | None = None
    # Where each value came from ("flag", "env", "project", "user", "default"), for `ai` to explain itself.
    sources: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    # The project config's trust: "trusted", "untrusted", "changed" (another content was trusted) or "none"
    # (no project config, or nothing in it needs trust); and the settings of TRUST_NEEDED it set that were
    # ignored for want of trust (those a flag or the environment overrode anyway are not named).
    project_trust: str = "none"
    untrusted: tuple[str, ...] = ()

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
    "first_token_timeout": float,
    "stream_idle_timeout": float,
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
    "price_per_mtok_in": float,
    "price_per_mtok_out": float,
}


# Settings that must be above zero (seconds to wait).
POSITIVE: frozenset[str] = frozenset({"request_timeout", "first_token_timeout", "stream_idle_timeout"})
# Prices: 0 (a free local model) or more.
PRICES: frozenset[str] = frozenset({"price_per_mtok_in", "price_per_mtok_out"})


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc}; fix or remove it") from None
    return parse_project_config(path, raw)


def parse_project_config(path: Path, raw: bytes) -> dict[str, Any]:
    """The settings in a config file's bytes (``path`` names it in errors)."""
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
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
        if key in PRICES and (not isinstance(value, float) or not value >= 0):
            raise UsageError(
                f"{path}: '{key}' should be a number of USD per million tokens, 0 or more, not {value!r}"
            )
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise UsageError(f"{path}: '{key}' should be a {kind.__name__}")
        if key in POSITIVE and isinstance(value, float) and not value > 0:
            # A wait of 0 s (or less) would fail every request at once, which reads like a dead endpoint.
            raise UsageError(f"{path}: '{key}' should be a number of seconds above 0, not {value!r}")
        values[key] = tuple(str(v) for v in value) if isinstance(value, list) else value
    return values


def _project_layer(root: Path) -> tuple[dict[str, Any], str, tuple[str, ...]]:
    """The project config's settings that may take effect, its trust state, and what was left out. The bytes
    are read once: the content parsed is the content whose digest is checked."""
    path = root / PROJECT_CONFIG
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}, "none", ()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc}; fix or remove it") from None
    values = parse_project_config(path, raw)
    needing = [key for key in TRUST_NEEDED if key in values]
    if not needing:
        return values, "none", ()
    from app.trust import trust_state

    state = trust_state(root, raw)
    if state == "trusted":
        return values, state, ()
    return {k: v for k, v in values.items() if k not in TRUST_NEEDED}, state, tuple(needing)


def load_config(root: Path, overrides: dict[str, Any] | None = None) -> Config:
    """The configuration for a project. ``overrides`` are the command-line flags (None values ignored)."""
    project, project_trust, left_out = _project_layer(root)
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
        ("remembered", {"model": model} if (model := remembered_model(root)) else {}),
        ("project", project),
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
    # Only what the project's value would have decided is worth telling: a flag or the environment wins anyway.
    untrusted = tuple(key for key in left_out if sources.get(key) not in ("flag", "env"))
    config = Config(**values)
    return replace(config, sources=sources, project_trust=project_trust, untrusted=untrusted)


def remembered_model(root: Path) -> str | None:
    """The model last picked in this project's workspace, or None. A file that is damaged or not ours counts
    as no choice (the next pick rewrites it): a remembered preference must never stop ``ai`` from starting."""
    import json

    try:
        data = json.loads((project_data_dir(root) / MODEL_CHOICE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    model = data.get("model") if isinstance(data, dict) else None
    return model if isinstance(model, str) and model.strip() else None


def remember_model(root: Path, model: str) -> None:
    """Keep ``model`` as this project's choice (``remembered_model``); a StorageError when it cannot be."""
    import json

    from app.project.atomic import atomic_write_bytes

    data = json.dumps({"model": model}, ensure_ascii=False).encode("utf-8")
    atomic_write_bytes(project_data_dir(root) / MODEL_CHOICE, data)
