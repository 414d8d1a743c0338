"""The model's context window (app/llm/limits.py): the configured figure wins, else the model's well-known window
by its name, else unknown; and ``context_window`` is validated where the configuration is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import load_config
from app.errors import UsageError
from app.llm.limits import Window, context_window, fill_share, known_window


@pytest.mark.parametrize(
    ("model", "tokens"),
    [
        ("gpt-4o", 128_000),
        ("gpt-4o-mini", 128_000),
        ("gpt-4o-2024-08-06", 128_000),
        ("gpt-4.1", 1_047_576),
        ("gpt-4.1-mini", 1_047_576),
        ("o3", 200_000),
        ("o4-mini", 200_000),
        ("claude-3-5-sonnet-latest", 200_000),
        ("llama3.1:8b", 128_000),
        ("llama3.3", 128_000),
        ("qwen2.5-coder:7b", 32_768),
        ("openrouter/deepseek-coder-v2", 128_000),
        ("mistral", 32_768),
        ("mistral-large-latest", 128_000),
        ("GPT-4o", 128_000),
    ],
)
def test_known_models_have_their_published_window(model: str, tokens: int) -> None:
    assert known_window(model) == tokens
    assert context_window(model) == Window(tokens, "known")


@pytest.mark.parametrize("model", ["scripted-model", "my-finetune", "", None, "phi3"])
def test_an_unknown_model_has_no_window_rather_than_a_guess(model: str | None) -> None:
    window = context_window(model)
    assert not window.known
    assert window == Window(0, "")


def test_the_configured_window_wins_over_the_known_one() -> None:
    assert context_window("gpt-4o", 64_000) == Window(64_000, "config")
    assert context_window("scripted-model", 8_192) == Window(8_192, "config")


def test_fill_share() -> None:
    assert fill_share(32_000, 128_000) == 0.25
    assert fill_share(10, 0) is None


def test_context_window_is_read_from_the_project_config(project: Path) -> None:
    (project / ".ai-agent.toml").write_text("context_window = 16384\n")
    assert load_config(project).context_window == 16_384


@pytest.mark.parametrize("value", ["0", "-5", '"128k"', "1.5"])
def test_a_bad_context_window_is_one_clear_line(project: Path, value: str) -> None:
    (project / ".ai-agent.toml").write_text(f"context_window = {value}\n")
    with pytest.raises(UsageError) as raised:
        load_config(project)
    assert "'context_window'" in str(raised.value)
    assert "\n" not in str(raised.value)
