"""The model client: any OpenAI-compatible chat-completions endpoint, always streamed.

``openai`` is imported here, lazily (it costs ~400 ms), with its own retries off: this module retries timeouts,
refused or dropped connections, 429 (honouring Retry-After) and 5xx a bounded number of times with exponential
backoff, telling the caller about each retry (``Retrying``) so a face can reset the half-streamed reply. When the
retries run out it raises ``ModelUnavailable`` with one line saying what failed. The API key goes to the
``openai`` client and nowhere else: it is never part of an error, a log line or a stored message.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from app.config import Config
from app.errors import TaskFailed, UsageError

DEFAULT_MODEL = "gpt-4o-mini"
# Local servers (llama.cpp, Ollama, vLLM) accept any key; the openai client insists on one.
PLACEHOLDER_KEY = "not-needed"

NO_ENDPOINT = (
    "no model endpoint configured: set OPENAI_BASE_URL (and OPENAI_API_KEY if it needs one), pass --base-url, "
    "or put base_url in .ai-agent.toml or $AI_AGENT_HOME/config.toml"
)


_URL_SOURCES = {
    "flag": "--base-url",
    "env": "OPENAI_BASE_URL",
    "project": "base_url in .ai-agent.toml",
    "user": "base_url in $AI_AGENT_HOME/config.toml",
}


def check_base_url(config: Config) -> None:
    """A base URL that is not http(s)://host... is a usage error at once (exit 2), not a connection failure
    retried for seconds."""
    url = config.base_url
    if url is None:
        return
    try:
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and url == url.strip()
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        valid = False
    if not valid:
        source = _URL_SOURCES.get(config.sources.get("base_url", ""), "base_url")
        raise UsageError(
            f"{source} {url!r} is not an http(s) URL: give the endpoint's address, "
            "e.g. http://localhost:11434/v1 or https://api.openai.com/v1"
        )


# What the first request needs imported, ~1 s here, most of it openai's own import (its package imports all of
# openai.types): see warm_imports().
_FIRST_REQUEST_MODULES = (
    "openai",
    "openai.resources.chat.completions",  # imported by openai on first use of client.chat
    "httpcore2",  # imported by the HTTP client's transport when it is made
    "anyio._backends._asyncio",  # imported by the first request
)


def warm_imports() -> None:
    """Import what the first request needs. Start it in a thread as early as a build is known, so it overlaps
    the set-up's waits (store, index, rg, git); any failure shows later, where the import really happens."""
    import importlib

    for name in _FIRST_REQUEST_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # another openai version lays its modules out differently: nothing to warm
            pass


class ModelUnavailable(TaskFailed):
    """The endpoint could not be reached or kept failing after the bounded retries (exit 1)."""


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Retrying:
    """The attempt failed (``reason``); the next starts after ``delay`` seconds, from scratch."""

    attempt: int
    attempts: int
    delay: float
    reason: str


@dataclass(frozen=True)
class StreamDone:
    text: str
    usage: dict[str, int] | None
    finish_reason: str | None
    seconds: float


StreamPiece = TextDelta | Retrying | StreamDone


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class _AskAgain(Exception):
    """Send the request again at once, changed (e.g. without stream_options); no text was streamed."""


def _retry_after(response: Any) -> float | None:
    try:
        value = response.headers.get("retry-after")
    except AttributeError:
        return None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            import time

            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _status_message(status: int, detail: str, model: str, url: str) -> str:
    if status in (401, 403):
        return f"the endpoint {url} refused the request (HTTP {status}): check OPENAI_API_KEY"
    if status == 404:
        return f"the endpoint {url} has no model {model!r} (HTTP 404): check --model / AI_AGENT_MODEL and --base-url"
    return f"the endpoint {url} rejected the request (HTTP {status}: {detail[:200]})"


def _key_for_endpoint(config: Config) -> str:
    """The API key, unless the URL came from a project config that is not trusted (load_config leaves such a
    URL out; this holds even for a Config made another way): a repository never receives the user's key."""
    from_untrusted_project = config.sources.get("base_url") == "project" and config.project_trust != "trusted"
    if from_untrusted_project or not config.api_key:
        return PLACEHOLDER_KEY
    return config.api_key


class ModelClient:
    """One endpoint and model, from the configuration. Use ``stream(messages)``; ``close()`` when done."""

    def __init__(self, config: Config) -> None:
        if not config.has_model:
            if "base_url" in config.untrusted:  # the project names one, but it is not trusted
                raise TaskFailed(
                    f"{NO_ENDPOINT}; the base_url in .ai-agent.toml is not trusted: `ai --trust`"
                )
            raise TaskFailed(NO_ENDPOINT)
        check_base_url(config)
        self.config = config
        self.model = config.model or DEFAULT_MODEL
        self.url = config.base_url or "the OpenAI API"
        self._client: Any = None
        self._client_lock = threading.Lock()  # prepare() may run in a worker thread
        self._send_stream_options = True

    def _openai(self) -> Any:
        with self._client_lock:
            if self._client is None:
                import openai

                self._client = openai.AsyncOpenAI(
                    base_url=self.config.base_url or None,
                    api_key=_key_for_endpoint(self.config),
                    max_retries=0,
                    timeout=self.config.request_timeout,
                )
            return self._client

    def prepare(self) -> None:
        """What the first request would otherwise wait for, done ahead (callers run it in a worker thread
        while they read files): importing ``openai`` (~0.8 s here), its HTTP client with the TLS trust store
        (~0.1 s, even for http:// URLs) and its chat-completions modules, imported on first use (~0.1 s).
        No network: the client connects on its first request."""
        warm_imports()
        _ = self._openai().chat.completions

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        backoff = min(self.config.retry_max_delay, self.config.retry_base_delay * (2 ** (attempt - 1)))
        return max(backoff, retry_after) if retry_after is not None else backoff

    async def stream(self, messages: list[dict[str, str]]) -> AsyncIterator[StreamPiece]:
        """Stream one reply. Yields ``TextDelta`` pieces, a ``Retrying`` before each retry (the text so far is
        void), and one ``StreamDone``. Raises ``ModelUnavailable`` or ``TaskFailed`` with one clear line."""
        attempts = max(1, self.config.max_retries + 1)
        attempt = 0
        while attempt < attempts:
            attempt += 1
            try:
                async for piece in self._attempt(messages):
                    yield piece
                return
            except _AskAgain:  # the request itself was adjusted: not a failed attempt
                attempt -= 1
                continue
            except _Retryable as failure:
                if failure.retry_after is not None and failure.retry_after > self.config.retry_max_delay:
                    raise ModelUnavailable(
                        f"{failure.reason}; the endpoint asks to wait {failure.retry_after:.0f} s, "
                        "longer than retry_max_delay: try again later"
                    ) from None
                if attempt == attempts:
                    tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
                    raise ModelUnavailable(f"model endpoint failed after {tries}: {failure.reason}") from None
                delay = self._delay(attempt, failure.retry_after)
                yield Retrying(attempt=attempt, attempts=attempts, delay=delay, reason=failure.reason)
                await asyncio.sleep(delay)

    async def _attempt(self, messages: list[dict[str, str]]) -> AsyncIterator[StreamPiece]:
        import openai

        loop = asyncio.get_running_loop()
        started = loop.time()
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages, "stream": True}
        if self._send_stream_options:
            kwargs["stream_options"] = {"include_usage": True}
        parts: list[str] = []
        usage: dict[str, int] | None = None
        finish: str | None = None
        try:
            stream = await self._openai().chat.completions.create(**kwargs)
            try:
                async for chunk in stream:
                    if getattr(chunk, "usage", None) is not None:
                        u = chunk.usage
                        usage = {
                            "prompt_tokens": int(u.prompt_tokens or 0),
                            "completion_tokens": int(u.completion_tokens or 0),
                            "total_tokens": int(u.total_tokens or 0),
                        }
                    for choice in chunk.choices or []:
                        text = getattr(choice.delta, "content", None) if choice.delta else None
                        if text:
                            parts.append(text)
                            yield TextDelta(text)
                        if choice.finish_reason:
                            finish = choice.finish_reason
            finally:
                await stream.close()
        except openai.APITimeoutError:
            raise _Retryable(f"no answer from {self.url} within {self.config.request_timeout:g} s") from None
        except openai.APIConnectionError as exc:
            cause = repr(exc.__cause__ or exc)
            if parts or "RemoteProtocol" in cause or "ReadError" in cause:
                raise _Retryable(f"the connection to {self.url} dropped mid-answer") from None
            raise _Retryable(f"cannot connect to {self.url}") from None
        except openai.RateLimitError as exc:
            raise _Retryable(f"rate limited by {self.url} (HTTP 429)", _retry_after(exc.response)) from None
        except openai.APIStatusError as exc:
            status = exc.status_code
            if status >= 500 or status == 408:
                raise _Retryable(f"{self.url} answered HTTP {status}", _retry_after(exc.response)) from None
            detail = str(getattr(exc, "message", "") or exc)
            if status in (400, 422) and "stream_options" in detail and self._send_stream_options:
                # An older server that does not know stream_options: ask again without (usage unknown).
                self._send_stream_options = False
                raise _AskAgain from None
            raise TaskFailed(_status_message(status, detail, self.model, self.url)) from None
        except openai.APIError as exc:  # an error event inside the stream
            raise _Retryable(f"the endpoint reported an error mid-answer: {str(exc)[:200]}") from None
        if finish is None:
            # The body ended without a finish reason: a proxy or server that cut the answer short.
            raise _Retryable(f"the answer from {self.url} ended before it was complete")
        yield StreamDone(
            text="".join(parts), usage=usage, finish_reason=finish, seconds=loop.time() - started
        )
