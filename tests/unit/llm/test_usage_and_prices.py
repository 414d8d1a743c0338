"""Token usage kept as prompt and completion apart, what it costs at the configured prices, the price keys'
validation, and the model remembered per project in the configuration's order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.config import Config, load_config, parse_project_config, remember_model, remembered_model
from app.errors import UsageError
from app.llm.usage import TokenUsage, format_cost, last_turn_usage, stored_usage, usage_cost


def test_cost_prices_prompt_and_completion_tokens_apart() -> None:
    config = Config(price_per_mtok_in=2.5, price_per_mtok_out=10.0)
    used = TokenUsage(prompt=400_000, completion=20_000)
    assert usage_cost(used, config) == pytest.approx(1.0 + 0.2)
    # A completion-only price: the prompt is free, the cost still shown.
    assert usage_cost(used, Config(price_per_mtok_out=10.0)) == pytest.approx(0.2)
    assert usage_cost(used, Config()) is None  # no prices: no cost, never $0
    assert format_cost(1.2) == "$1.20" and format_cost(0.00042) == "$0.0004"


def test_stored_usage_keeps_the_split_and_the_last_turn() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "first goal"},
        {"role": "assistant", "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}},
        {"role": "user", "content": "second goal"},
        {"role": "assistant", "usage": {"prompt_tokens": 300, "completion_tokens": 30}},
        # A reported total above the parts (cached tokens): counted in the total, never priced.
        {"role": "assistant", "usage": {"prompt_tokens": 50, "completion_tokens": 5, "total_tokens": 60}},
        {"role": "assistant", "usage": {"prompt_tokens": "junk", "completion_tokens": None}},
    ]
    total = stored_usage(messages)
    assert (total.prompt, total.completion, total.total) == (450, 45, 500)
    last = last_turn_usage(messages)
    assert (last.prompt, last.completion, last.total) == (350, 35, 390)
    assert usage_cost(total, Config(price_per_mtok_in=1.0, price_per_mtok_out=2.0)) == pytest.approx(
        (450 * 1.0 + 45 * 2.0) / 1_000_000
    )


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (
            "price_per_mtok_in = -1",
            "'price_per_mtok_in' should be a number of USD per million tokens, 0 or more",
        ),
        ('price_per_mtok_out = "cheap"', "'price_per_mtok_out' should be a number of USD per million tokens"),
        ("price_per_mtok_in = true", "'price_per_mtok_in' should be a number"),
    ],
)
def test_a_bad_price_is_one_line_saying_what_is_wanted(tmp_path: Path, line: str, problem: str) -> None:
    path = tmp_path / ".ai-agent.toml"
    with pytest.raises(UsageError) as raised:
        parse_project_config(path, line.encode())
    assert problem in raised.value.message and "\n" not in raised.value.message


def test_prices_are_read_as_numbers(tmp_path: Path) -> None:
    values = parse_project_config(tmp_path / "c.toml", b"price_per_mtok_in = 0\nprice_per_mtok_out = 0.6\n")
    assert values == {"price_per_mtok_in": 0.0, "price_per_mtok_out": 0.6}


def test_the_remembered_model_sits_between_the_environment_and_the_files(
    project: Path, agent_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / ".ai-agent.toml").write_text('model = "from-project"\n')
    assert load_config(project).model == "from-project"
    remember_model(project, "picked-model")
    assert remembered_model(project) == "picked-model"
    config = load_config(project)
    assert (config.model, config.sources["model"]) == ("picked-model", "remembered")
    monkeypatch.setenv("AI_AGENT_MODEL", "from-env")
    assert load_config(project).model == "from-env"
    assert load_config(project, {"model": "from-flag"}).model == "from-flag"
    # Another project keeps its own (none).
    other = project.parent / "other"
    other.mkdir()
    monkeypatch.delenv("AI_AGENT_MODEL")
    assert load_config(other).model is None


def test_a_damaged_remembered_choice_counts_as_none(project: Path) -> None:
    remember_model(project, "picked-model")
    from app.config import MODEL_CHOICE
    from app.paths import project_data_dir

    (project_data_dir(project) / MODEL_CHOICE).write_text("{not json")
    assert remembered_model(project) is None
    assert load_config(project).model is None
