"""The scripted model server itself: as a subprocess (how end-to-end tests in tmux use it) and its rules."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import REPO
from tests.integration.pipeline.conftest import FIX_SUBTRACT, ai_build
from tests.model_server import ScriptedModelServer, read_log
from tests.waiting import BOUND, wait_for


def _post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url + "/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer sk-secret-in-header"},
    )
    try:
        with urllib.request.urlopen(request, timeout=BOUND) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_subprocess_server_serves_ai_and_logs_requests(calc_project: Path, tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"rules": [{"reply": FIX_SUBTRACT}]}))
    port_file, log = tmp_path / "port", tmp_path / "requests.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.model_server",
            "--script",
            str(script),
            "--port-file",
            str(port_file),
            "--log",
            str(log),
        ],
        cwd=REPO,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: port_file.exists() and port_file.read_text(), what="the server's port file")
        url = f"http://127.0.0.1:{port_file.read_text()}/v1"
        result = ai_build(
            calc_project,
            url,
            "--build",
            "fix subtract in calc/ops.py",
            "--yes",
            env={"OPENAI_API_KEY": "sk-logged-nowhere"},
        )
        assert result.returncode == 0, result.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert proc.returncode == 0
    entries = read_log(log)
    assert len(entries) == 1
    body = entries[0]["body"]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert entries[0]["auth"] is True and "sk-logged-nowhere" not in log.read_text()


def test_rules_times_request_number_and_plain_completions() -> None:
    script = {
        "rules": [
            {"when": {"request": 1}, "reply": "first"},
            {"when": {"contains": "again"}, "reply": "once", "times": 1},
        ],
        "default": {"reply": "fallback"},
    }
    with ScriptedModelServer(script) as server:
        replies = []
        for text in ("hello", "again", "again"):
            status, body = _post(
                server.base_url, {"model": "m", "messages": [{"role": "user", "content": text}]}
            )
            assert status == 200
            replies.append(body["choices"][0]["message"]["content"])
        assert replies == ["first", "once", "fallback"]
        assert [r["n"] for r in server.requests] == [1, 2, 3]
        assert all("authorization" not in r["headers"] for r in server.requests)


def test_no_matching_rule_is_a_400_and_status_rules_send_retry_after() -> None:
    with ScriptedModelServer([{"when": {"contains": "x"}, "status": 429, "retry_after": 7}]) as server:
        status, body = _post(server.base_url, {"messages": [{"role": "user", "content": "nothing"}]})
        assert status == 400 and "no scripted reply" in body["error"]["message"]
        request = urllib.request.Request(
            server.base_url + "/chat/completions",
            data=json.dumps({"messages": [{"role": "user", "content": "x"}]}).encode(),
        )
        try:
            urllib.request.urlopen(request, timeout=BOUND)
            raise AssertionError("expected HTTP 429")
        except urllib.error.HTTPError as exc:
            assert exc.code == 429 and exc.headers["Retry-After"] == "7"


def test_json_failure_is_an_error_event_and_a_stderr_line(calc_project: Path, model_server) -> None:
    server = model_server([{"status": 500}])
    result = ai_build(calc_project, server.base_url, "--build", "fix subtract", "--yes", "--json")
    assert result.returncode == 1
    events = [json.loads(line) for line in result.stdout.splitlines()]
    errors = [e for e in events if e["event"] == "error"]
    assert len(errors) == 1 and errors[0]["fatal"] is True and errors[0]["exit_code"] == 1
    assert events[-1]["event"] == "finished" and events[-1]["ok"] is False
    assert [line for line in result.stderr.splitlines() if "HTTP 500" in line and "failed after" in line]
