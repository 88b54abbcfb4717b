"""Any OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp server) via the ``openai`` SDK.

Structured output asks for ``response_format: json_schema``; a server that rejects it is asked
for ``json_object`` instead, then for plain text, and the reply is validated either way. The SDK
retries 408/409/429/5xx with exponential backoff (honouring Retry-After) ``max_retries`` times;
what still fails becomes a one-line :class:`~emoethics.errors.BackendError`, a
:class:`~emoethics.errors.TransientBackendError` (with the server's Retry-After) when calling again
later may succeed. Batch jobs set ``max_retries=0`` and retry with their own policy
(:mod:`emoethics.batch.retry`), so that a failing call is never retried by two layers at once.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from ..config import env
from ..errors import BackendError, ConfigError, MalformedOutputError, TransientBackendError
from .base import Backend, Completion, Message
from .cache import ResponseCache

# Tried in order; a server that refuses one is asked with the next from then on.
# "json_object+schema" is llama.cpp's extension: JSON mode constrained by a schema.
_SCHEMA_MODES = ("json_schema", "json_object+schema", "json_object", "none")


class OpenAIBackend(Backend):
    """A chat model behind an OpenAI-compatible HTTP API."""

    kind = "openai"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 3,
        cache: ResponseCache | None = None,
        max_reasks: int = 2,
    ) -> None:
        import openai

        super().__init__(model, cache, max_reasks)
        key = api_key or env("EMOETHICS_API_KEY") or env("OPENAI_API_KEY") or ("not-needed" if base_url else None)
        if not key:
            raise ConfigError(
                "no API key for the openai backend: set OPENAI_API_KEY, or give --base-url of a server that needs none"
            )
        self.base_url = base_url or "https://api.openai.com/v1"
        self.timeout = timeout
        self.max_retries = max_retries
        self._openai = openai
        self.client = openai.OpenAI(base_url=base_url, api_key=key, timeout=timeout, max_retries=max_retries)
        self._schema_mode = 0  # index into _SCHEMA_MODES, lowered when a server refuses one

    @property
    def id(self) -> str:
        host = urlparse(self.base_url).netloc or self.base_url
        return f"openai:{self.model}@{host}"

    def _complete(
        self,
        messages: list[Message],
        *,
        temperature: float,
        max_tokens: int,
        seed: int,
        json_schema: dict[str, Any] | None,
    ) -> Completion:
        oa = self._openai
        while True:
            kwargs: dict[str, Any] = dict(
                model=self.model, messages=messages, temperature=temperature, max_tokens=max_tokens, seed=seed
            )
            mode = _SCHEMA_MODES[self._schema_mode] if json_schema is not None else "none"
            if mode == "json_schema":
                kwargs["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": "output", "schema": json_schema, "strict": False},
                }
            elif mode == "json_object+schema":
                kwargs["response_format"] = {"type": "json_object", "schema": json_schema}
            elif mode == "json_object":
                kwargs["response_format"] = {"type": "json_object"}
            try:
                resp = self.client.chat.completions.create(**kwargs)
                break
            except oa.APIStatusError as e:
                if mode != "none" and e.status_code in (400, 422, 500) and "response_format" in str(e).lower():
                    self._schema_mode += 1  # the server does not support this output mode
                    continue
                raise self._status_error(e) from None
            except oa.APITimeoutError:
                raise TransientBackendError(
                    f"{self.base_url} did not answer within {self.timeout:g} s "
                    f"({self.max_retries} retries); raise --timeout or check "
                    "the server"
                ) from None
            except oa.APIConnectionError as e:
                cause = e.__cause__ or e
                raise TransientBackendError(f"cannot reach {self.base_url}: {_brief(cause)}") from None
            except oa.APIError as e:
                raise MalformedOutputError(f"{self.base_url} returned an unusable response: {_brief(e)}") from None
        try:
            text = resp.choices[0].message.content or ""
            usage = getattr(resp, "usage", None)
            return Completion(
                text=text,
                prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
            )
        except (AttributeError, IndexError, TypeError):
            raise MalformedOutputError(
                f"{self.base_url} returned something that is not a chat completion: {str(resp)[:120]!r}"
            ) from None

    def _status_error(self, e: Exception) -> BackendError:
        status = getattr(e, "status_code", 0)
        if status == 400:
            return BackendError(f"{self.base_url} rejected the request (HTTP 400): {_brief(e)}")
        if status == 401:
            return BackendError(
                f"{self.base_url} rejected the API key (HTTP 401); check OPENAI_API_KEY / EMOETHICS_API_KEY"
            )
        if status == 404:
            return BackendError(f"{self.base_url}: not found (HTTP 404); is model '{self.model}' served there?")
        response = getattr(e, "response", None)
        wait = retry_after(response.headers) if response is not None else None
        if status == 429:
            return TransientBackendError(
                f"{self.base_url} is still rate-limiting (HTTP 429) after {self.max_retries} retries", wait
            )
        message = f"{self.base_url} answered HTTP {status} after {self.max_retries} retries: {_brief(e)}"
        if status in (408, 409) or status >= 500:
            return TransientBackendError(message, wait)
        return BackendError(message)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds a server asks us to wait: ``retry-after-ms``, or ``Retry-After`` as seconds or as
    an HTTP date; ``None`` when it says nothing usable."""
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return max(0.0, float(ms) / 1000)
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None


def _brief(e: BaseException) -> str:
    msg = getattr(e, "message", None) or str(e) or type(e).__name__
    return " ".join(str(msg).split())[:200]
