"""The model client: any OpenAI-compatible chat-completions endpoint, always streamed.

``openai`` is imported here, lazily (it costs ~400 ms), with its own retries off: this module retries timeouts,
refused or dropped connections, a stream that stalls or sends a chunk that is not a completion chunk (invalid
JSON, invalid UTF-8, the wrong shape: a broken stream, like a dropped one), 429 (honouring Retry-After) and 5xx a
bounded number of times with exponential backoff, telling the caller about each retry (``Retrying``) so a face can
reset the half-streamed reply. When the retries run out it raises ``ModelUnavailable`` with one line saying what
failed. The API key goes to the ``openai`` client and nowhere else: it is never part of an error, a log line or a
stored message.

Two waits of an attempt are bounded apart, because they differ by orders of magnitude: the first token
(``first_token_timeout``: the server reads the whole prompt first, which takes a local model minutes on a small
machine) and every gap after it (``stream_idle_timeout``: a model that streams sends chunks many times a second,
so a long silence is a stalled stream, retried at once rather than after the first token's allowance). Each
wait the caller should know of is told as ``Waiting``: the first token at every attempt, an idle gap once it has
lasted ``WAIT_NOTICE`` seconds, again at ``WAIT_NOTICE`` for the first token, and ``over`` when it ended.
``request_timeout`` bounds connecting and sending the request.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from app.config import Config
from app.errors import TaskFailed, UsageError
from app.events import Retrying, Waiting

DEFAULT_MODEL = "gpt-4o-mini"
# Local servers (llama.cpp, Ollama, vLLM) accept any key; the openai client insists on one.
PLACEHOLDER_KEY = "not-needed"

NO_ENDPOINT = (
    "no model endpoint configured: set OPENAI_BASE_URL (and OPENAI_API_KEY if it needs one) and AI_AGENT_MODEL, "
    "pass --base-url and --model, or put base_url and model in .ai-agent.toml or $AI_AGENT_HOME/config.toml"
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


# What an attempt waits for (``Waiting.what``, ``Retrying.what``).
FIRST_TOKEN = "first_token"
STREAM_IDLE = "stream_idle"
# A wait is told again once it has lasted this long (at most half its limit): a fast answer stays quiet.
WAIT_NOTICE = 3.0


@dataclass(frozen=True)
class StreamDone:
    text: str
    usage: dict[str, int] | None
    finish_reason: str | None
    seconds: float


# Waiting and Retrying are the pipeline's own events (app/events/pipeline.py): the turn passes them on as they are.
StreamPiece = TextDelta | Waiting | Retrying | StreamDone


class _Retryable(Exception):
    def __init__(self, reason: str, short: str, retry_after: float | None = None, what: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.short = short
        self.retry_after = retry_after
        self.what = what


class _Malformed(Exception):
    """A chunk that is not a chat-completion chunk (``reason`` says how)."""


_JSON_KINDS: dict[type, str] = {
    list: "a JSON array",
    str: "a JSON string",
    int: "a number",
    float: "a number",
    bool: "true or false",
    type(None): "null",
}


def _read_chunk(chunk: Any) -> tuple[list[str], str | None, dict[str, int] | None]:
    """The texts, finish reason and usage of one streamed chunk, or ``_Malformed``. The openai client builds
    chunks without validating them, so whatever JSON the server sent arrives here: it is checked, never trusted
    to have the shape."""
    if not hasattr(chunk, "choices"):
        raise _Malformed(f"{_JSON_KINDS.get(type(chunk), 'a value')} where a completion chunk belongs")
    usage: dict[str, int] | None = None
    raw_usage = getattr(chunk, "usage", None)
    if raw_usage is not None:
        try:
            usage = {
                "prompt_tokens": int(getattr(raw_usage, "prompt_tokens", 0) or 0),
                "completion_tokens": int(getattr(raw_usage, "completion_tokens", 0) or 0),
                "total_tokens": int(getattr(raw_usage, "total_tokens", 0) or 0),
            }
        except (TypeError, ValueError):
            raise _Malformed("token usage that is not a number") from None
    choices = chunk.choices or []
    if not isinstance(choices, list):
        raise _Malformed("choices that are not a list")
    texts: list[str] = []
    finish: str | None = None
    for choice in choices:
        delta = getattr(choice, "delta", None)
        if not hasattr(choice, "delta") or (delta is not None and not hasattr(delta, "content")):
            raise _Malformed("a choice without a delta")
        text = getattr(delta, "content", None)
        if text is not None and not isinstance(text, str):
            raise _Malformed("content that is not text")
        if text:
            texts.append(text)
        reason = getattr(choice, "finish_reason", None)
        if reason:
            finish = str(reason)
    return texts, finish, usage


def _is_progress(chunk: Any, texts: list[str], finish: str | None) -> bool:
    """Whether a chunk is the answer coming (a first token), not only its envelope (the role chunk servers
    send before the prefill is done). Reasoning models stream their thinking in fields of their own."""
    if texts or finish:
        return True
    for choice in chunk.choices or []:
        delta = choice.delta
        extra = getattr(delta, "model_extra", None) or {}
        if any(extra.get(key) for key in ("reasoning_content", "reasoning")) or getattr(
            delta, "tool_calls", None
        ):
            return True
    return False


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
                    # Connecting and sending only: the reads are bounded by _attempt's two waits, which no
                    # single read timeout can express (minutes for the first token, seconds between chunks).
                    timeout=openai.Timeout(self.config.request_timeout, read=None),
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
        backoff = min(self.config.retry_max_delay, self.config.retry_base_delay * (2.0 ** (attempt - 1)))
        return max(backoff, retry_after) if retry_after is not None else backoff

    async def stream(self, messages: list[dict[str, str]]) -> AsyncIterator[StreamPiece]:
        """Stream one reply. Yields ``TextDelta`` pieces, ``Waiting`` notes, a ``Retrying`` before each retry
        (the text so far is void), and one ``StreamDone``. Raises ``ModelUnavailable`` or ``TaskFailed`` with
        one clear line."""
        attempts = max(1, self.config.max_retries + 1)
        attempt = 0
        while attempt < attempts:
            attempt += 1
            try:
                async for piece in self._attempt(messages, attempt, attempts):
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
                yield Retrying(
                    attempt=attempt,
                    attempts=attempts,
                    delay=delay,
                    reason=failure.reason,
                    short=failure.short,
                    what=failure.what,
                )
                await asyncio.sleep(delay)

    def _timeout_failure(self, what: str, limit: float) -> _Retryable:
        if what == FIRST_TOKEN:
            return _Retryable(
                f"no first token from {self.url} within {limit:g} s (first_token_timeout; a local model may "
                "need more to read a long prompt)",
                f"no first token in {limit:g} s",
                what=FIRST_TOKEN,
            )
        return _Retryable(
            f"the answer from {self.url} stalled: nothing for {limit:g} s after it began (stream_idle_timeout)",
            f"stream idle {limit:g} s",
            what=STREAM_IDLE,
        )

    async def _attempt(
        self, messages: list[dict[str, str]], attempt: int, attempts: int
    ) -> AsyncIterator[StreamPiece]:
        import openai

        loop = asyncio.get_running_loop()
        started = loop.time()
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages, "stream": True}
        if self._send_stream_options:
            kwargs["stream_options"] = {"include_usage": True}
        parts: list[str] = []
        usage: dict[str, int] | None = None
        finish: str | None = None
        # The request and its chunks are read by a task of their own, into a queue this loop waits on with the
        # deadline of the wait at hand: the HTTP stream is only ever touched by that one task (the transport's
        # cancel scopes are per task), and stopping it when a wait runs out is one cancellation.
        chunks: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        async def read_stream() -> None:
            try:
                stream = await self._openai().chat.completions.create(**kwargs)
                try:
                    async for chunk in stream:
                        chunks.put_nowait(("chunk", chunk))
                finally:
                    await stream.close()
            except Exception as exc:  # handed over to be classified below, with the waits' own failures
                chunks.put_nowait(("error", exc))
            else:
                chunks.put_nowait(("end", None))

        reader = asyncio.ensure_future(read_stream())
        what, limit = FIRST_TOKEN, self.config.first_token_timeout
        since = loop.time()
        # How long the current wait had lasted when it was told (0: not told, or only its start).
        told = 0.0
        try:
            yield Waiting(FIRST_TOKEN, 0.0, limit, attempt, attempts)
            while True:
                try:
                    kind, value = chunks.get_nowait()
                except asyncio.QueueEmpty:
                    waited = loop.time() - since
                    if waited >= limit:
                        raise self._timeout_failure(what, limit) from None
                    notice = min(WAIT_NOTICE, limit / 2)
                    if not told and waited >= notice:
                        told = waited
                        yield Waiting(what, round(waited, 3), limit, attempt, attempts)
                    until = since + (limit if told else notice)
                    try:
                        kind, value = await asyncio.wait_for(chunks.get(), max(0.0, until - loop.time()))
                    except TimeoutError:
                        continue
                if kind == "error":
                    raise value
                if kind == "end":
                    break
                try:
                    texts, chunk_finish, chunk_usage = _read_chunk(value)
                    progress = what == STREAM_IDLE or _is_progress(value, texts, chunk_finish)
                except _Malformed as exc:
                    raise _Retryable(
                        f"the answer from {self.url} broke off: it sent {exc} (a broken stream)",
                        "broken stream",
                    ) from None
                if progress:
                    if what == FIRST_TOKEN or told:
                        yield Waiting(
                            what, round(loop.time() - since, 3), limit, attempt, attempts, over=True
                        )
                    what, limit = STREAM_IDLE, self.config.stream_idle_timeout
                    since, told = loop.time(), 0.0
                if chunk_usage is not None:
                    usage = chunk_usage
                if chunk_finish:
                    finish = chunk_finish
                for text in texts:
                    parts.append(text)
                    yield TextDelta(text)
        except openai.APITimeoutError:
            raise _Retryable(
                f"could not reach {self.url} within {self.config.request_timeout:g} s (request_timeout)",
                "connect timeout",
            ) from None
        except openai.APIConnectionError as exc:
            cause = repr(exc.__cause__ or exc)
            if parts or "RemoteProtocol" in cause or "ReadError" in cause:
                raise _Retryable(
                    f"the connection to {self.url} dropped mid-answer", "connection dropped"
                ) from None
            raise _Retryable(f"cannot connect to {self.url}", "cannot connect") from None
        except openai.RateLimitError as exc:
            raise _Retryable(
                f"rate limited by {self.url} (HTTP 429)", "rate limited", _retry_after(exc.response)
            ) from None
        except openai.APIStatusError as exc:
            status = exc.status_code
            if status >= 500 or status == 408:
                raise _Retryable(
                    f"{self.url} answered HTTP {status}", f"HTTP {status}", _retry_after(exc.response)
                ) from None
            detail = str(getattr(exc, "message", "") or exc)
            if status in (400, 422) and "stream_options" in detail and self._send_stream_options:
                # An older server that does not know stream_options: ask again without (usage unknown).
                self._send_stream_options = False
                raise _AskAgain from None
            raise TaskFailed(_status_message(status, detail, self.model, self.url)) from None
        except openai.APIError as exc:  # an error event inside the stream
            raise _Retryable(
                f"the endpoint reported an error mid-answer: {str(exc)[:200]}", "error mid-answer"
            ) from None
        except ValueError as exc:
            # A chunk the openai client cannot decode: not JSON (JSONDecodeError) or not UTF-8
            # (UnicodeDecodeError), both ValueErrors raised from inside its stream. A broken stream, like a
            # dropped one: retried, never an internal error.
            what_broke = (
                "text that is not UTF-8"
                if isinstance(exc, UnicodeDecodeError)
                else "a chunk that is not JSON"
            )
            raise _Retryable(
                f"the answer from {self.url} broke off: it sent {what_broke} (a broken stream)",
                "broken stream",
            ) from None
        finally:
            if not reader.done():
                reader.cancel()
            await asyncio.wait({reader})
        if finish is None:
            # The body ended without a finish reason: a proxy or server that cut the answer short.
            raise _Retryable(f"the answer from {self.url} ended before it was complete", "answer cut short")
        yield StreamDone(
            text="".join(parts), usage=usage, finish_reason=finish, seconds=loop.time() - started
        )


# GET /models answers at once or not at all: a picker waits this long, never the first token's minutes.
LIST_MODELS_TIMEOUT = 5.0


def list_models(config: Config, timeout: float = LIST_MODELS_TIMEOUT) -> list[str]:
    """The model names the endpoint lists (``GET {base_url}/models``, with the key as a build sends it),
    sorted. Blocking: run it in a worker thread. Raises ``ModelUnavailable`` (refused, timed out) or
    ``TaskFailed`` (an HTTP error, a body that is not a model list) with one line, never the key."""
    if not config.has_model:
        raise TaskFailed(NO_ENDPOINT)
    check_base_url(config)
    import openai

    url = config.base_url or "the OpenAI API"
    by_hand = "type the model's name instead"
    client = openai.OpenAI(
        base_url=config.base_url or None,
        api_key=_key_for_endpoint(config),
        max_retries=0,
        timeout=timeout,
    )
    try:
        page = client.models.list()
        names = {str(model.id) for model in page.data if getattr(model, "id", None)}
    except openai.APITimeoutError:
        raise ModelUnavailable(f"{url} did not list its models within {timeout:g} s: {by_hand}") from None
    except openai.APIConnectionError:
        raise ModelUnavailable(f"cannot connect to {url} to list its models: {by_hand}") from None
    except openai.APIStatusError as exc:
        status = exc.status_code
        if status in (401, 403):
            raise TaskFailed(
                f"{url} refused to list its models (HTTP {status}): check OPENAI_API_KEY"
            ) from None
        raise TaskFailed(f"{url} has no model list (GET /models: HTTP {status}): {by_hand}") from None
    except (openai.APIError, TypeError, ValueError, AttributeError):
        raise TaskFailed(
            f"{url} answered GET /models with something that is not a model list: {by_hand}"
        ) from None
    finally:
        client.close()
    return sorted(names)


def import_model_library() -> None:
    """Import the client's library ahead (~0.4 s), in a worker thread while other work goes on."""
    try:
        import openai  # noqa: F401
    except ImportError:  # the client says so itself when it is used
        pass
