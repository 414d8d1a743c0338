"""A scripted OpenAI-compatible chat-completions server: the only stand-in the tests use.

Real HTTP/1.1 on 127.0.0.1 (an ephemeral port unless one is given), ``POST /v1/chat/completions`` answered with
SSE streaming of ``chat.completion.chunk`` objects (chunked transfer encoding, a final chunk with
``finish_reason``, a usage chunk when the request asks for ``stream_options.include_usage``, then
``data: [DONE]``), or one ``chat.completion`` object when ``stream`` is false. ``GET /v1/models`` lists the
script's ``"models"`` (default: one, ``scripted-model``), or answers ``"models_status"`` (e.g. 404); a test may
set ``server.models`` / ``server.models_status`` meanwhile. Those GETs go to ``server.model_list_requests``
(``{"path", "auth"}``), not to ``server.requests``, which stays the log of chat requests and other POSTs.

In process (pytest)::

    with ScriptedModelServer({"rules": [{"reply": "hello"}]}) as server:
        ... server.base_url ...            # "http://127.0.0.1:PORT/v1"
        server.requests                    # the log: one dict per request

As a subprocess (end-to-end tests, the TUI in tmux)::

    python -m tests.model_server --script script.json --port-file port.txt [--log requests.jsonl] [--port N]

It writes the port to ``--port-file`` once it listens, appends one JSON line per request to ``--log``, and
runs until SIGTERM or SIGINT.

Script format (a JSON object; in process the same as a dict)::

    {
      "rules": [ RULE, ... ],      # tried in order; the first whose "when" holds and that has uses left answers
      "default": RULE,             # optional: answers when no rule does (else 400 "no scripted reply")
      "models": ["a", "b"],        # optional: what GET /v1/models lists (default ["scripted-model"])
      "models_status": 404         # optional: GET /v1/models answers this HTTP status instead
    }

    RULE = {
      "when": {                    # every condition given must hold (all optional)
        "contains": "text" | [..], # each string occurs in some message of the request
        "not_contains": "text" | [..],
        "last_user_contains": "text" | [..],   # each string occurs in the last user message
        "request": 3,              # the request's 1-based number on this server
        "model": "name",
        "stream": true,
        "stream_options": true     # the request carries stream_options (or, with false, does not)
      },
      "times": 1,                  # how many requests this rule may answer (default: unlimited)
      "reply": "text",             # the assistant content, streamed in pieces
      "chunk_size": 16,            # characters per streamed piece (default 16)
      "chunk_delay": 0.0,          # seconds between pieces
      "usage": {"prompt_tokens": 10, "completion_tokens": 5} | false,
                                   # default: estimated from the request and reply (4 chars a token);
                                   # false: send no usage chunk even when asked
      "status": 429,               # answer with this HTTP status and an OpenAI-style error body instead
      "retry_after": 1,            # with "status": a Retry-After header (seconds)
      "error": "message",          # with "status": the error message
      "drop_after": 40,            # stream this many characters of the reply, then cut the connection
      "stall": 5.0,                # after "stall_after" characters (default 0), go silent this many seconds
      "stall_after": 0,            # (0: right after the role chunk, before the first token of content)
      "prefill": 5.0,              # wait this long before even the response headers (a server that answers
                                   # only once its prefill is done)
      "raw_chunk": "{not json",    # after "raw_after" characters (default 0), one SSE event whose data is
      "raw_chunk_hex": "c328",     # this text (or these bytes, e.g. invalid UTF-8) as is; then the reply
      "raw_after": 0,              # goes on as scripted
      "hold_until": "/path/file"   # answer only once this file exists (a test's cue: the reply waits for an event)
    }

Each logged request is ``{"n", "time", "method", "path", "headers", "body"}``; ``headers`` leaves out
``authorization`` (recorded only as ``"auth": true/false``) so no key ever lands in a log.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MODEL_NAME = "scripted-model"


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):  # content parts
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")


def rule_matches(when: dict[str, Any], body: dict[str, Any], number: int) -> bool:
    messages = body.get("messages") or []
    texts = [_message_text(m) for m in messages]
    users = [t for m, t in zip(messages, texts, strict=False) if m.get("role") == "user"]
    last_user = users[-1] if users else ""
    if any(not any(s in t for t in texts) for s in _as_list(when.get("contains"))):
        return False
    if any(any(s in t for t in texts) for s in _as_list(when.get("not_contains"))):
        return False
    if any(s not in last_user for s in _as_list(when.get("last_user_contains"))):
        return False
    if "request" in when and int(when["request"]) != number:
        return False
    if "model" in when and when["model"] != body.get("model"):
        return False
    if "stream_options" in when and bool(when["stream_options"]) != ("stream_options" in body):
        return False
    return not ("stream" in when and bool(when["stream"]) != bool(body.get("stream")))


class Script:
    """The rules and how many uses each has left. Thread-safe: requests may arrive concurrently."""

    def __init__(self, script: dict[str, Any] | list[dict[str, Any]]) -> None:
        if isinstance(script, list):
            script = {"rules": script}
        self.rules: list[dict[str, Any]] = [dict(r) for r in script.get("rules", [])]
        self.default: dict[str, Any] | None = script.get("default")
        self.models: list[str] = [str(m) for m in script.get("models", [MODEL_NAME])]
        self.models_status: int | None = script.get("models_status")
        self._uses: list[int | None] = [r.get("times") for r in self.rules]
        self._lock = threading.Lock()

    def choose(self, body: dict[str, Any], number: int) -> dict[str, Any] | None:
        with self._lock:
            for i, rule in enumerate(self.rules):
                left = self._uses[i]
                if left is not None and left <= 0:
                    continue
                if rule_matches(rule.get("when") or {}, body, number):
                    if left is not None:
                        self._uses[i] = left - 1
                    return rule
        return self.default


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: ScriptedModelServer


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the request log is the record
        pass

    def handle(self) -> None:
        try:
            super().handle()
        except ConnectionResetError:  # a client that hung up while the connection waited for its next request
            self.close_connection = True

    # -- plumbing --------------------------------------------------------------------------------------------

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _event(self, payload: Any) -> None:
        text = payload if isinstance(payload, str) else json.dumps(payload)
        self._chunk(f"data: {text}\n\n".encode())

    def _cut(self) -> None:
        """Drop the connection without finishing the chunked body (a peer that went away)."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- endpoints -------------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            owner = self.server.owner
            auth = any(k.lower() == "authorization" for k in self.headers)
            owner.model_list_requests.append({"path": self.path, "auth": auth})
            script = owner.script
            if script.models_status:
                status = int(script.models_status)
                self._send_json(
                    status, {"error": {"message": f"scripted status {status}", "type": "scripted"}}
                )
                return
            models = [{"id": name, "object": "model", "owned_by": "scripted"} for name in script.models]
            self._send_json(200, {"object": "list", "data": models})
        else:
            self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._send_json(400, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}})
            return
        owner = self.server.owner
        number = owner._log(self.command, self.path, dict(self.headers), body)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        rule = owner.script.choose(body, number)
        if rule is None:
            self._send_json(
                400, {"error": {"message": "no scripted reply matches this request", "type": "scripted"}}
            )
            return
        if rule.get("hold_until"):
            cue = Path(str(rule["hold_until"]))
            while not cue.exists():
                if owner._stopping.wait(0.02):
                    return
        if rule.get("status"):
            status = int(rule["status"])
            headers = {}
            if rule.get("retry_after") is not None:
                headers["Retry-After"] = str(rule["retry_after"])
            message = rule.get("error") or f"scripted status {status}"
            self._send_json(status, {"error": {"message": message, "type": "scripted"}}, headers)
            return
        reply = str(rule.get("reply", ""))
        usage = rule.get("usage")
        if usage is None:
            prompt_chars = sum(len(_message_text(m)) for m in body.get("messages") or [])
            usage = {"prompt_tokens": max(1, prompt_chars // 4), "completion_tokens": max(1, len(reply) // 4)}
        if usage is not False:
            usage = {
                **usage,
                "total_tokens": usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0),
            }
        if body.get("stream"):
            self._stream(rule, body, number, reply, usage)
        else:
            self._send_json(200, self._completion(body, number, reply, usage))

    def _completion(self, body: dict[str, Any], number: int, reply: str, usage: Any) -> dict[str, Any]:
        result: dict[str, Any] = {
            "id": f"chatcmpl-scripted-{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or MODEL_NAME,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply},
                    "finish_reason": "stop",
                }
            ],
        }
        if usage is not False:
            result["usage"] = usage
        return result

    def _stream(
        self, rule: dict[str, Any], body: dict[str, Any], number: int, reply: str, usage: Any
    ) -> None:
        owner = self.server.owner
        prefill = float(rule.get("prefill", 0.0))
        if prefill and owner._stopping.wait(prefill):
            self._cut()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        base = {
            "id": f"chatcmpl-scripted-{number}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model") or MODEL_NAME,
        }
        size = max(1, int(rule.get("chunk_size", 16)))
        delay = float(rule.get("chunk_delay", 0.0))
        drop_after = rule.get("drop_after")
        stall = float(rule.get("stall", 0.0))
        stall_after = int(rule.get("stall_after", 0))
        raw: bytes | None = None
        if rule.get("raw_chunk") is not None:
            raw = str(rule["raw_chunk"]).encode()
        elif rule.get("raw_chunk_hex") is not None:
            raw = bytes.fromhex(str(rule["raw_chunk_hex"]))
        raw_after = int(rule.get("raw_after", 0))
        sent = 0
        stalled = False
        try:
            self._event({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})
            while True:
                if raw is not None and sent >= raw_after:
                    self._chunk(b"data: " + raw + b"\n\n")
                    raw = None
                if stall and not stalled and sent >= stall_after:
                    stalled = True
                    if owner._stopping.wait(stall):
                        self._cut()
                        return
                if drop_after is not None and sent >= int(drop_after):
                    self._cut()
                    return
                if sent >= len(reply):
                    break
                limit = size
                if drop_after is not None:
                    limit = min(limit, int(drop_after) - sent)
                if stall and not stalled:
                    limit = min(limit, max(1, stall_after - sent))
                if raw is not None:
                    limit = min(limit, max(1, raw_after - sent))
                piece = reply[sent : sent + limit]
                sent += len(piece)
                self._event(
                    {**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                )
                if delay:
                    time.sleep(delay)
            self._event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            if include_usage and usage is not False:
                self._event({**base, "choices": [], "usage": usage})
            self._event("[DONE]")
            self._chunk(b"")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class ScriptedModelServer:
    """The server, run in a background thread of the current process."""

    def __init__(
        self,
        script: dict[str, Any] | list[dict[str, Any]],
        port: int = 0,
        log_path: Path | None = None,
    ) -> None:
        self.script = Script(script)
        self.requests: list[dict[str, Any]] = []
        self.model_list_requests: list[dict[str, Any]] = []
        self.log_path = log_path
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = _Server(("127.0.0.1", port), _Handler)
        self._httpd.owner = self
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _log(self, method: str, path: str, headers: dict[str, str], body: Any) -> int:
        safe = {k.lower(): v for k, v in headers.items() if k.lower() != "authorization"}
        with self._lock:
            number = len(self.requests) + 1
            entry = {
                "n": number,
                "time": time.time(),
                "method": method,
                "path": path,
                "auth": any(k.lower() == "authorization" for k in headers),
                "headers": safe,
                "body": body,
            }
            self.requests.append(entry)
            if self.log_path is not None:
                with open(self.log_path, "a", encoding="utf-8") as handle:
                    handle.write(json.dumps(entry) + "\n")
        return number

    @property
    def models(self) -> list[str]:
        return self.script.models

    @models.setter
    def models(self, names: list[str]) -> None:
        self.script.models = list(names)

    @property
    def models_status(self) -> int | None:
        return self.script.models_status

    @models_status.setter
    def models_status(self, status: int | None) -> None:
        self.script.models_status = status

    def chat_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].rstrip("/").endswith("/chat/completions")]

    def start(self) -> ScriptedModelServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="model-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    """A port nothing listens on (for 'connection refused')."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def read_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.model_server", description=__doc__.split("\n")[0])
    parser.add_argument("--script", required=True, help="the script (JSON)")
    parser.add_argument("--port-file", required=True, help="where to write the port once listening")
    parser.add_argument("--log", help="append one JSON line per request here")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    script = json.loads(Path(args.script).read_text(encoding="utf-8"))
    server = ScriptedModelServer(script, port=args.port, log_path=Path(args.log) if args.log else None)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    server.start()
    port_file = Path(args.port_file)
    tmp = port_file.with_name(port_file.name + ".tmp")
    tmp.write_text(str(server.port), encoding="utf-8")
    os.replace(tmp, port_file)
    print(f"scripted model server on {server.base_url}", file=sys.stderr, flush=True)
    done.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
