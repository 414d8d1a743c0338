"""The endpoint's models (``GET {base_url}/models``) against the real scripted server: the names, the key sent
as a build sends it, and each failure as one line."""

from __future__ import annotations

import socket

import pytest

from app.config import Config
from app.errors import TaskFailed
from app.llm.client import ModelUnavailable, list_models
from tests.model_server import ScriptedModelServer, free_port


def test_lists_the_endpoints_models_sorted_with_the_key() -> None:
    with ScriptedModelServer({"rules": [], "models": ["zeta-7b", "alpha-1", "zeta-7b"]}) as server:
        config = Config(base_url=server.base_url, api_key="sk-test")
        assert list_models(config) == ["alpha-1", "zeta-7b"]
        server.models = ["other"]
        assert list_models(config) == ["other"]
        assert [r["auth"] for r in server.model_list_requests] == [True, True]
        assert server.requests == []  # the chat log is untouched


def test_an_endpoint_without_a_list_says_so_in_one_line() -> None:
    with (
        ScriptedModelServer({"rules": [], "models_status": 404}) as server,
        pytest.raises(TaskFailed) as raised,
    ):
        list_models(Config(base_url=server.base_url, api_key="sk-secret-value"))
    message = raised.value.message
    assert "has no model list (GET /models: HTTP 404)" in message and "type the model's name" in message
    assert "sk-secret-value" not in message and "\n" not in message


def test_refused_and_silent_endpoints_fail_fast_in_one_line() -> None:
    with pytest.raises(
        ModelUnavailable, match=r"cannot connect to http://127\.0\.0\.1:\d+/v1 to list its models"
    ):
        list_models(Config(base_url=f"http://127.0.0.1:{free_port()}/v1"))
    with socket.socket() as silent:  # accepts the connection (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        with pytest.raises(ModelUnavailable, match=r"did not list its models within 0\.5 s"):
            list_models(Config(base_url=url), timeout=0.5)


def test_no_endpoint_is_the_usual_line() -> None:
    with pytest.raises(TaskFailed, match="no model endpoint configured"):
        list_models(Config())


def test_a_headless_build_asks_for_the_model_remembered_for_the_project(calc_project, model_server) -> None:
    from app.config import remember_model
    from tests.integration.pipeline.conftest import FIX_SUBTRACT, ai_build

    server = model_server({"default": {"reply": FIX_SUBTRACT}})
    remember_model(calc_project, "picked-in-the-workspace")
    result = ai_build(calc_project, server.base_url, "--build", "fix subtract in calc/ops.py", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert server.chat_requests()[-1]["body"]["model"] == "picked-in-the-workspace"
    ai_build(calc_project, server.base_url, "--build", "fix subtract", "--dry-run", "--model", "flagged")
    assert server.chat_requests()[-1]["body"]["model"] == "flagged"
