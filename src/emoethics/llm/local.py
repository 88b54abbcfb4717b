"""The embedded local backend: llama.cpp in-process through llama-cpp-python.

Loads a packaged GGUF model (see :mod:`emoethics.llm.weights`) from disk, never from the network,
and decodes JSON output under a grammar compiled from the requested JSON schema, so even a small
model returns well-formed structures. Before the first load of a llama.cpp build on a machine, a
child process checks that the build can decode here (:mod:`emoethics.llm.cpu_check`), and the
evaluated prompt prefixes are saved for the next process (:mod:`emoethics.llm.prefix_states`).
"""

from __future__ import annotations

import os
import threading
from typing import Any

from ..config import cache_dir, env
from ..errors import BackendError
from .base import Backend, Completion, Message
from .cache import ResponseCache
from .cpu_check import build_identity, check_decodes
from .prefix_states import PrefixStates
from .weights import resolve_model_path

#: llama.cpp's grammar parser aborts the process (it does not raise) on string length limits much
#: above this: longer limits are dropped, and ``max_tokens`` bounds the output instead.
MAX_GRAMMAR_LENGTH = 1000


class LocalBackend(Backend):
    """A GGUF chat model run in this process (default: Qwen2.5-Coder-1.5B-Instruct Q4_K_M)."""

    kind = "local"
    max_string_length = MAX_GRAMMAR_LENGTH

    def __init__(
        self,
        model: str | None = None,
        cache: ResponseCache | None = None,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        max_reasks: int = 2,
        prefix_states: bool = True,
    ) -> None:
        name, self.path = resolve_model_path(model)
        super().__init__(name, cache, max_reasks)
        self.n_ctx = n_ctx
        self.n_threads = n_threads or int(env("EMOETHICS_THREADS", "0") or 0) or os.cpu_count() or 1
        #: Save evaluated prompt prefixes for the next process, and load them (first answers in
        #: seconds instead of tens of seconds).
        self.use_prefix_states = prefix_states
        self._prefixes: PrefixStates | None = None
        self._live_key: str | None = None
        self._llm: Any = None
        self._lock = threading.Lock()

    def llama(self) -> Any:
        """The ``llama_cpp.Llama`` behind this backend, loaded on first use."""
        with self._lock:
            return self._model()

    def _model(self) -> Any:
        if self._llm is None:
            try:
                from llama_cpp import Llama
            except ImportError:
                raise BackendError(
                    "the local backend needs llama-cpp-python: pip install 'emoethics[local]' (or make install)"
                ) from None
            check_decodes(self.path, self.n_threads)
            try:
                self._llm = Llama(model_path=str(self.path), n_ctx=self.n_ctx, n_threads=self.n_threads, verbose=False)
            except (ValueError, RuntimeError, OSError) as e:
                raise BackendError(f"cannot load {self.path}: {e}") from None
            if self.use_prefix_states:
                st = self.path.stat()
                identity = f"{build_identity()}:{self.path.resolve()}:{st.st_size}:{self.n_ctx}"
                self._prefixes = PrefixStates(cache_dir() / "prefix-states" / self.model, identity)
        return self._llm

    def _complete(
        self,
        messages: list[Message],
        *,
        temperature: float,
        max_tokens: int,
        seed: int,
        json_schema: dict[str, Any] | None,
    ) -> Completion:
        kwargs: dict[str, Any] = dict(messages=messages, temperature=temperature, max_tokens=max_tokens, seed=seed)
        if json_schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": grammar_safe(json_schema)}
        with self._lock:
            llm = self._model()
            key = self._prefixes.key(messages) if self._prefixes else None
            if self._prefixes and key and key != self._live_key:
                self._prefixes.load(llm, key)
            try:
                out = llm.create_chat_completion(**kwargs)
            except ValueError as e:  # e.g. the prompt exceeds the context window
                self._live_key = None
                raise BackendError(f"{self.id}: {e}") from None
            usage = out.get("usage") or {}
            self._live_key = key
            if self._prefixes and key:
                self._prefixes.save(llm, key, usage.get("prompt_tokens", 0))
        return Completion(
            text=out["choices"][0]["message"]["content"] or "",
            prompt_tokens=usage.get("prompt_tokens", 0),
            completion_tokens=usage.get("completion_tokens", 0),
        )


def grammar_safe(schema: Any) -> Any:
    """``schema`` without ``maxLength`` limits the grammar compiler cannot take."""
    if isinstance(schema, dict):
        return {
            k: grammar_safe(v)
            for k, v in schema.items()
            if not (k == "maxLength" and isinstance(v, int) and v > MAX_GRAMMAR_LENGTH)
        }
    if isinstance(schema, list):
        return [grammar_safe(v) for v in schema]
    return schema
