"""Where the proxy sends a chat request: an OpenAI-compatible server, or the embedded model.

:class:`HttpUpstream` forwards the client's request body (with the upstream's own key from the
environment, never the client's) and returns the completion, or the server-sent chunks of a
streamed one. :class:`LocalUpstream` answers with the embedded llama.cpp model when no upstream is
given; it writes the whole reply first (the backend interface returns text), so its "stream" is
that reply cut into pieces. Every failure is an :class:`UpstreamError` with the HTTP status and the
OpenAI error type the proxy answers with.

What an upstream says in its errors is never relayed: the message names the HTTP status and a
short generic reason (and the upstream's error code when it is a plain identifier), because an
upstream's error text can hold keys, prompts or internal addresses. Credentials in the base URL
(``http://user:password@host/v1``) are taken out of it at once; they become HTTP basic auth when
no key is given, and the URL is only ever shown without them. A stream must be server-sent
events and end with ``[DONE]``; anything else is a fault.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncGenerator
from typing import Any

import httpx

from ..errors import EmoethicsError
from ..llm.base import Backend
from .fields import problem
from .redact import scrub, split_credentials
from .streaming import pieces


class UpstreamError(Exception):
    """The upstream failed; ``status`` and ``kind`` are what the client gets."""

    def __init__(self, status: int, message: str, kind: str = "upstream_error", retry_after: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.retry_after = retry_after


def completion_id() -> str:
    return "chatcmpl-" + uuid.uuid4().hex[:24]


#: What the proxy says about an upstream's error status, instead of the upstream's own words.
_STATUS_REASONS = {
    400: "the upstream rejected the request",
    404: "the upstream does not know the model or the path",
    408: "the upstream timed out the request",
    413: "the upstream found the request too large",
    422: "the upstream could not process the request",
    429: "the upstream's rate limit was reached",
}
_CODE = re.compile(r"^[a-z][a-z0-9_.]{1,63}$")


def _upstream_code(resp: httpx.Response) -> str | None:
    """The upstream's error code or type, when it is a plain identifier (``model_not_found``)."""
    try:
        err = resp.json().get("error")
    except (ValueError, AttributeError):
        return None
    if not isinstance(err, dict):
        return None
    for value in (err.get("code"), err.get("type")):
        if isinstance(value, str) and _CODE.match(value) and scrub(value) == value:
            return value
    return None


def _summary(resp: httpx.Response) -> str:
    """A short, generic description of an upstream's error answer: its status, a reason, its code."""
    status = resp.status_code
    reason = _STATUS_REASONS.get(status) or ("the upstream failed" if status >= 500 else "the upstream refused")
    code = _upstream_code(resp)
    return f"HTTP {status} ({reason}{f'; code {code}' if code else ''})"


def _describe(resp: httpx.Response) -> str:
    """What an unusable 200 answer was, without its content: type and size."""
    kind = resp.headers.get("content-type", "no content type").split(";")[0].strip()
    return f"HTTP {resp.status_code}, {kind[:60]}, {len(resp.content):,} bytes"


def _has_surrogate(value: object) -> bool:
    """Whether a lone surrogate (text that is not valid Unicode) hides anywhere in ``value``."""
    if isinstance(value, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    return False


def check_completion(data: object) -> str | None:
    """What makes ``data`` no usable chat completion, or None."""
    if not isinstance(data, dict) or not isinstance(data.get("choices"), list) or not data["choices"]:
        return "it has no choices"
    for c in data["choices"]:
        why = problem(c.get("message") if isinstance(c, dict) else None)
        if why:
            return why
    if _has_surrogate(data):
        return "it holds text that is not valid Unicode"
    return None


def check_chunk(data: object) -> str | None:
    """What makes ``data`` no usable chat completion chunk, or None."""
    if not isinstance(data, dict) or not isinstance(data.get("choices", []), list):
        return "it is not a chat completion chunk"
    for c in data.get("choices", []):
        if not isinstance(c, dict) or not isinstance(c.get("delta") or {}, dict):
            return "a choice has no delta object"
        why = problem(c.get("delta") or {})
        if why:
            return why
    if _has_surrogate(data):
        return "it holds text that is not valid Unicode"
    return None


#: Lines a server-sent event stream may hold besides ``data:`` (and blank lines).
_SSE_FIELDS = ("event:", "id:", "retry:", ":")


class HttpUpstream:
    """An OpenAI-compatible server at ``base_url`` (ending in ``/v1``)."""

    def __init__(
        self, base_url: str, *, api_key: str | None = None, timeout: float = 120.0, auth: tuple[str, str] | None = None
    ) -> None:
        clean, in_url = split_credentials(base_url)
        self.base_url = clean.rstrip("/")
        self.timeout = timeout
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        credentials = auth or in_url
        self._auth = httpx.BasicAuth(*credentials) if credentials and not api_key else None
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        """The connection pool, opened on first use in the serving event loop (closed by :meth:`close`)."""
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                headers=self._headers,
                auth=self._auth,
                timeout=httpx.Timeout(self.timeout, connect=min(10.0, self.timeout)),
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
            )
        return self._client

    @property
    def id(self) -> str:
        return self.base_url

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _failure(self, e: Exception) -> UpstreamError:
        if isinstance(e, httpx.TimeoutException):
            return UpstreamError(
                504, f"the upstream {self.base_url} did not answer within {self.timeout:g} s", "upstream_timeout"
            )
        return UpstreamError(
            502, f"cannot reach the upstream {self.base_url}: {type(e).__name__}", "upstream_unreachable"
        )

    def _status(self, resp: httpx.Response) -> UpstreamError:
        message = f"the upstream {self.base_url} answered {_summary(resp)}"
        if resp.status_code == 429:
            return UpstreamError(429, message, "rate_limit_exceeded", resp.headers.get("retry-after"))
        if resp.status_code in (401, 403):
            return UpstreamError(
                502,
                f"the upstream {self.base_url} refused the proxy's key (HTTP "
                f"{resp.status_code}); check the upstream key variable",
                "upstream_error",
            )
        if resp.status_code in (400, 404, 413, 422):
            return UpstreamError(resp.status_code, message, "invalid_request_error")
        return UpstreamError(502, message, "upstream_error")

    def _unusable(self, what: str, why: str) -> UpstreamError:
        return UpstreamError(502, f"the upstream {self.base_url} answered with something that is not {what}: {why}")

    async def models(self) -> dict[str, Any]:
        try:
            resp = await self.client.get("/models")
        except httpx.HTTPError as e:
            raise self._failure(e) from None
        if resp.status_code != 200:
            raise self._status(resp)
        try:
            data = resp.json()
            assert isinstance(data.get("data"), list)
        except (ValueError, AssertionError, AttributeError):
            raise UpstreamError(
                502, f"the upstream {self.base_url} answered /models with something that is not a model list"
            ) from None
        return data

    async def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            plain = {k: v for k, v in body.items() if k != "stream_options"}
            resp = await self.client.post("/chat/completions", json={**plain, "stream": False})
        except httpx.HTTPError as e:
            raise self._failure(e) from None
        if resp.status_code != 200:
            raise self._status(resp)
        try:
            data = resp.json()
        except ValueError:
            raise self._unusable("a chat completion", _describe(resp)) from None
        why = check_completion(data)
        if why:
            raise self._unusable("a chat completion", why)
        return data

    async def stream(self, body: dict[str, Any]) -> AsyncGenerator[dict[str, Any], None]:
        """The upstream's chunks (parsed ``data:`` lines) until ``[DONE]``; a stream that is no
        event stream, holds an error event or ends without ``[DONE]`` raises :class:`UpstreamError`."""
        try:
            async with self.client.stream("POST", "/chat/completions", json={**body, "stream": True}) as resp:
                if resp.status_code != 200:
                    await resp.aread()
                    raise self._status(resp)
                async for line in resp.aiter_lines():
                    data = self._data(line)
                    if data is None:
                        continue
                    if data == "[DONE]":
                        return
                    yield self._chunk(data)
        except httpx.HTTPError as e:
            raise self._failure(e) from None
        raise UpstreamError(
            502, f"the upstream {self.base_url} closed its stream before the end ([DONE])", "upstream_error"
        )

    def _data(self, line: str) -> str | None:
        """The payload of a ``data:`` line, None for the other lines of an event stream."""
        if line.startswith("data:"):
            return line[5:].strip()
        if not line.strip() or line.startswith(_SSE_FIELDS):
            return None
        raise self._unusable("an event stream", "a line that is no server-sent event")

    def _chunk(self, data: str) -> dict[str, Any]:
        """One parsed chunk; an error event of the upstream becomes an :class:`UpstreamError`."""
        try:
            chunk = json.loads(data)
        except ValueError:
            raise self._unusable("a chat completion chunk", "an event that is not JSON") from None
        if isinstance(chunk, dict) and chunk.get("error") is not None:
            raise UpstreamError(502, f"the upstream {self.base_url} sent an error event in its stream")
        why = check_chunk(chunk)
        if why:
            raise self._unusable("a chat completion chunk", why)
        return chunk


class LocalUpstream:
    """The embedded model (or any backend) as the upstream."""

    def __init__(self, backend: Backend, slot: Any = None) -> None:
        self.backend = backend
        self.slot = slot

    @property
    def id(self) -> str:
        return self.backend.id

    async def close(self) -> None:
        return None

    async def models(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [{"id": self.backend.model, "object": "model", "created": 0, "owned_by": "emoethics"}],
        }

    def _chat(self, body: dict[str, Any]) -> tuple[str, Any]:
        messages = [
            {
                "role": m.get("role", "user"),
                "content": m.get("content")
                if isinstance(m.get("content"), str)
                else " ".join(p.get("text", "") for p in m.get("content") or [] if isinstance(p, dict)),
            }
            for m in body.get("messages", [])
        ]
        temperature = float(body.get("temperature") or 0.0)
        max_tokens = int(body.get("max_tokens") or body.get("max_completion_tokens") or 512)
        with self.backend.metered() as usage:
            if self.slot is not None:
                with self.slot:
                    text = self.backend.chat(messages, temperature=temperature, max_tokens=max_tokens)
            else:
                text = self.backend.chat(messages, temperature=temperature, max_tokens=max_tokens)
        return text, usage

    async def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            text, usage = await asyncio.to_thread(self._chat, body)
        except EmoethicsError as e:
            raise UpstreamError(502, f"the embedded model failed: {e}") from None
        return {
            "id": completion_id(),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.backend.model,
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
            "usage": {
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
                "total_tokens": usage.prompt_tokens + usage.completion_tokens,
            },
        }

    async def stream(self, body: dict[str, Any]) -> AsyncGenerator[dict[str, Any], None]:
        done = await self.complete(body)
        text = done["choices"][0]["message"]["content"]
        base = {"id": done["id"], "object": "chat.completion.chunk", "created": done["created"], "model": done["model"]}
        yield {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
        for piece in pieces(text):
            yield {**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
        yield {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
