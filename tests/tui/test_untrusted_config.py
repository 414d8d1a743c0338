"""The workspace on a project whose .ai-agent.toml sets what needs trust: README's promised `config: skipped`
line is in the event log on every open, once, whether or not the background services run (or start yet)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import load_config
from tests.tui.conftest import SIZE, feed_messages, wait_for_session, wait_until


def skipped_lines(pilot) -> list[str]:
    return [m for m in feed_messages(pilot) if m.startswith("config: skipped")]


@pytest.mark.parametrize("background", [False, True], ids=["services off", "services on"])
async def test_an_untrusted_project_config_is_said_once_in_the_event_log(
    workspace, project: Path, background: bool
) -> None:
    (project / ".ai-agent.toml").write_text('test_cmd = "python -c pass"\nlsp = false\n')
    config = load_config(project)
    assert config.untrusted == ("test_cmd",)
    app = workspace(config=config, background=background)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_session(pilot, "main")
        await wait_until(pilot, lambda: skipped_lines(pilot), what="the config: skipped line")
        if background:  # the services' own start must not say it a second time
            await wait_until(
                pilot,
                lambda: any(m.startswith("watcher: running") for m in feed_messages(pilot)),
                what="the services to run",
            )
        (line,) = skipped_lines(pilot)
        assert "ignored test_cmd from .ai-agent.toml (not trusted)" in line and "ai --trust" in line
