"""The protocol every language-model backend follows.

A backend turns chat messages into text (:meth:`Backend.chat`) or into validated structured data
(:meth:`Backend.chat_json`: JSON-schema constrained output, parsed and validated, with a bounded
re-ask when the model's output is invalid). It counts its calls, tokens and seconds in
:attr:`Backend.usage`, and answers deterministic calls from the response cache when it has one.
Subclasses implement only :meth:`Backend._complete`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError

from ..errors import MalformedOutputError
from ..schema.usage import Usage
from .cache import ResponseCache, cache_key

T = TypeVar("T")
Message = dict[str, str]


@dataclass
class Completion:
    """Raw text from one model call, with its token counts."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Backend(ABC):
    """A chat model. ``id`` ("local:qwen2.5-coder-1.5b-instruct", "openai:gpt-4o") names it."""

    kind: str = "backend"
    #: The longest ``maxLength`` a JSON schema may give a string for this backend (None: any);
    #: callers cap the texts they ask for at it.
    max_string_length: int | None = None

    def __init__(self, model: str, cache: ResponseCache | None = None, max_reasks: int = 2) -> None:
        self.model = model
        self.cache = cache
        self.max_reasks = max_reasks
        #: Also cache sampled (temperature > 0) calls, keyed with their seed: batch jobs turn this
        #: on so that a re-run replays every answer instead of paying for it again.
        self.cache_sampled = False
        self.usage = Usage()
        self._usage_lock = threading.Lock()
        self._meters = threading.local()

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.model}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"

    @abstractmethod
    def _complete(
        self,
        messages: list[Message],
        *,
        temperature: float,
        max_tokens: int,
        seed: int,
        json_schema: dict[str, Any] | None,
    ) -> Completion:
        """One call to the model. Raise :class:`~emoethics.errors.BackendError` on failure."""

    @contextmanager
    def metered(self) -> Iterator[Usage]:
        """Collect the usage of the calls this thread makes inside the ``with`` block."""
        stack = self._meters.__dict__.setdefault("stack", [])
        usage = Usage()
        stack.append(usage)
        try:
            yield usage
        finally:
            stack[:] = [u for u in stack if u is not usage]

    def _count(self, u: Usage) -> None:
        with self._usage_lock:
            self.usage.add(u)
        for meter in getattr(self._meters, "stack", []):
            meter.add(u)

    def _call(self, messages: list[Message], **params: Any) -> Completion:
        start = time.perf_counter()
        comp = self._complete(messages, **params)
        self._count(
            Usage(
                calls=1,
                prompt_tokens=comp.prompt_tokens,
                completion_tokens=comp.completion_tokens,
                seconds=round(time.perf_counter() - start, 4),
            )
        )
        return comp

    def _cached(self, key: str) -> str | None:
        hit = self.cache.get(key) if self.cache is not None else None
        if hit is None:
            return None
        self._count(Usage(calls=1, cached_calls=1))
        return hit[0]

    def _store(self, key: str, comp: Completion) -> None:
        if self.cache is not None:
            self.cache.put(key, self.id, comp.text, comp.prompt_tokens, comp.completion_tokens)

    def chat(self, messages: list[Message], *, temperature: float = 0.0, max_tokens: int = 512, seed: int = 0) -> str:
        """Plain chat: the model's reply as text."""
        params = dict(temperature=temperature, max_tokens=max_tokens, seed=seed)
        key = cache_key(backend=self.id, messages=messages, schema=None, **params)
        use_cache = temperature == 0.0 or self.cache_sampled
        if use_cache and (hit := self._cached(key)) is not None:
            return hit
        comp = self._call(messages, json_schema=None, **params)
        if use_cache:
            self._store(key, comp)
        return comp.text.strip()

    def chat_json(
        self,
        messages: list[Message],
        schema: dict[str, Any],
        parse: Callable[[Any], T],
        *,
        temperature: float = 0.0,
        max_tokens: int = 512,
        seed: int = 0,
    ) -> T:
        """Structured chat: JSON constrained by ``schema``, then ``parse`` validates it.

        ``parse`` raises ``ValueError`` (or a pydantic ``ValidationError``) when the data is not
        acceptable; the model is then told what was wrong and asked again, at most
        ``max_reasks`` times, before :class:`MalformedOutputError` is raised.
        """
        params = dict(temperature=temperature, max_tokens=max_tokens, seed=seed)
        key = cache_key(backend=self.id, messages=messages, schema=schema, **params)
        use_cache = temperature == 0.0 or self.cache_sampled
        if use_cache and (hit := self._cached(key)) is not None:
            try:
                return parse(parse_json(hit))
            except (ValueError, ValidationError):
                pass  # the parser became stricter since: ask the model again
        convo = list(messages)
        problem = ""
        for _attempt in range(self.max_reasks + 1):
            comp = self._call(convo, json_schema=schema, **params)
            try:
                value = parse(parse_json(comp.text))
            except (ValueError, ValidationError) as e:
                problem = _short(e)
                convo = convo + [
                    {"role": "assistant", "content": comp.text[:2000]},
                    {
                        "role": "user",
                        "content": f"That reply is not valid: {problem}. Reply again "
                        "with only a JSON object that follows the required format.",
                    },
                ]
                continue
            if use_cache:
                self._store(key, comp)
            return value
        raise MalformedOutputError(
            f"{self.id} returned invalid output {self.max_reasks + 1} times "
            f"(last problem: {problem}); try a stronger model"
        )


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


def parse_json(text: str) -> Any:
    """Parse a model's JSON reply, tolerating code fences and text around one object."""
    s = _FENCE.sub("", text.strip())
    try:
        return json.loads(s, strict=False)  # tolerate raw newlines inside strings
    except json.JSONDecodeError:
        pass
    start, end = s.find("{"), s.rfind("}")
    if start != -1 and end <= start:
        raise ValueError("the reply is cut off before its JSON object ends")
    if start == -1:
        raise ValueError("the reply contains no JSON object")
    try:
        return json.loads(s[start : end + 1], strict=False)
    except json.JSONDecodeError as e:
        raise ValueError(f"the reply is not valid JSON ({e.msg} at character {e.pos})") from None


def _short(e: Exception) -> str:
    if isinstance(e, ValidationError):
        err = e.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        return f"{loc}: {err['msg']}" if loc else err["msg"]
    return str(e).splitlines()[0][:300]
