"""Where the proxy sends a chat request: an OpenAI-compatible server, or the embedded model.

:class:`HttpUpstream` forwards the client's request body (with the upstream's own key from the
environment, never the client's) and returns the completion, or the server-sent chunks of a
streamed one. :class:`LocalUpstream` answers with the embedded llama.cpp model when no upstream is
given; it writes the whole reply first (the backend interface returns text), so its "stream" is
that reply cut into pieces. Every failure is an :class:`UpstreamError` with the HTTP status and the
OpenAI error type the proxy answers with.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncGenerator
from typing import Any

import httpx

from ..errors import EmoethicsError
from ..llm.base import Backend
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


def _brief(text: str) -> str:
    return " ".join(text.split())[:200]


def _error_message(resp: httpx.Response) -> str:
    try:
        data = resp.json()
    except ValueError:
        return _brief(resp.text) or resp.reason_phrase
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(err, dict):
        return _brief(str(err.get("message") or err))
    return _brief(str(err or data))


class HttpUpstream:
    """An OpenAI-compatible server at ``base_url`` (ending in ``/v1``)."""

    def __init__(self, base_url: str, *, api_key: str | None = None, timeout: float = 120.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        """The connection pool, opened on first use in the serving event loop (closed by :meth:`close`)."""
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                headers=self._headers,
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
        message = f"the upstream {self.base_url} answered HTTP {resp.status_code}: {_error_message(resp)}"
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
            choices = data["choices"]
            assert isinstance(choices, list) and choices
            for c in choices:
                assert isinstance(c["message"].get("content") or "", str)
        except (ValueError, KeyError, TypeError, AssertionError, AttributeError):
            raise UpstreamError(
                502,
                f"the upstream {self.base_url} answered with something that is not a "
                f"chat completion: {_brief(resp.text)[:80]!r}",
            ) from None
        return data

    async def stream(self, body: dict[str, Any]) -> AsyncGenerator[dict[str, Any], None]:
        """The upstream's chunks (parsed ``data:`` lines) until ``[DONE]``."""
        try:
            async with self.client.stream("POST", "/chat/completions", json={**body, "stream": True}) as resp:
                if resp.status_code != 200:
                    await resp.aread()
                    raise self._status(resp)
                async for line in resp.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    try:
                        chunk = json.loads(data)
                        assert isinstance(chunk, dict) and isinstance(chunk.get("choices", []), list)
                    except (ValueError, AssertionError):
                        raise UpstreamError(
                            502,
                            f"the upstream {self.base_url} streamed something that is not "
                            f"a chat completion chunk: {_brief(data)[:80]!r}",
                        ) from None
                    yield chunk
        except httpx.HTTPError as e:
            raise self._failure(e) from None


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
