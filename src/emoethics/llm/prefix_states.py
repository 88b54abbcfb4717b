"""Saved llama.cpp states for the prompt prefixes that every call of a kind begins with.

Each prompt of emoethics starts with the same system message and worked examples (the analyser's
few-shot turns, the judge's guidelines), and only its end changes. Within one process llama.cpp
already keeps what it evaluated and re-uses the longest common prefix; a new process would
evaluate the whole prefix again, which is most of the time to a first answer on a CPU. So the
evaluated state of a prefix is saved once, next to the model file, and a new process loads it
instead of evaluating it.

States are keyed by the model file, the llama.cpp build, the context size and the call's system
message. What a state holds is trimmed, call by call, to the tokens its calls share: the first
call saves its prompt, and a later call with the same system message that shares fewer tokens
saves the common part. A state is only a starting point: llama.cpp compares its tokens with the
new prompt and evaluates whatever differs, so a stale or partial state costs time, never
correctness. A file that cannot be read is deleted and treated as missing.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

#: At most this many saved prefixes per model folder; the least recently used go first.
MAX_STATES = 24


def common_prefix(a: np.ndarray, b: np.ndarray) -> int:
    """The number of leading tokens ``a`` and ``b`` share."""
    n = min(len(a), len(b))
    if n == 0:
        return 0
    differ = np.flatnonzero(a[:n] != b[:n])
    return int(differ[0]) if len(differ) else n


class PrefixStates:
    """The saved prefix states of one model file under one llama.cpp build."""

    def __init__(self, folder: Path, identity: str) -> None:
        self.folder = folder
        self.identity = identity
        self._tokens: dict[str, np.ndarray] = {}  # key -> tokens its file holds (what this process knows)

    def key(self, messages: list[dict[str, str]]) -> str:
        """The key of a call: its system message (or first message), with the model's identity."""
        first = json.dumps(messages[:1], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(f"{self.identity}\n{first}".encode()).hexdigest()[:24]

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.npz"

    def load(self, llm: Any, key: str) -> int:
        """Put the saved state of ``key`` into ``llm``'s context; the number of tokens it holds (0: none)."""
        path = self._path(key)
        if not path.is_file():
            return 0
        try:
            with np.load(path) as f:
                tokens = f["tokens"].astype(np.intc)
                state = f["state"]
            n = len(tokens)
            if n == 0 or n >= llm.n_ctx():
                raise ValueError("state does not fit this context")
            buf = (ctypes.c_uint8 * len(state)).from_buffer_copy(state.tobytes())
            import llama_cpp

            if llama_cpp.llama_state_set_data(llm.ctx, buf, len(state)) != len(state):
                raise ValueError("llama.cpp refused the state")
        except (OSError, ValueError, KeyError, EOFError):
            path.unlink(missing_ok=True)
            import llama_cpp

            memory = llama_cpp.llama_get_memory(llm.ctx)
            if memory is not None:
                llama_cpp.llama_memory_clear(memory, True)
            llm.reset()
            return 0
        llm.input_ids[:n] = tokens
        llm.n_tokens = n
        if hasattr(llm, "_requires_eval"):  # llama-cpp-python 0.3.36: logits must be recomputed first
            llm._requires_eval = True
        self._tokens[key] = tokens
        os.utime(path)  # recently used
        return n

    def save(self, llm: Any, key: str, prompt_tokens: int) -> None:
        """Save the prefix of the last call's ``prompt_tokens`` that calls with ``key`` share."""
        import llama_cpp

        prompt = np.array(llm.input_ids[: min(prompt_tokens, llm.n_tokens)], dtype=np.intc)
        known = self._tokens.get(key)
        if known is None and self._path(key).is_file():
            try:
                with np.load(self._path(key)) as f:
                    known = f["tokens"].astype(np.intc)
            except (OSError, ValueError, KeyError, EOFError):
                known = None
        keep = len(prompt) if known is None else common_prefix(known, prompt)
        if known is not None and keep == len(known):
            return  # the saved state is already the shared part
        if keep < 16:
            return  # nothing worth keeping in common
        # Trim the context to the shared tokens, then copy the state out of llama.cpp.
        memory = llama_cpp.llama_get_memory(llm.ctx)
        if memory is None or not llama_cpp.llama_memory_seq_rm(memory, -1, keep, -1):
            return
        llm.n_tokens = keep
        size = llama_cpp.llama_state_get_size(llm.ctx)
        buf = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_get_data(llm.ctx, buf, size)
        state = np.frombuffer(bytes(buf[:written]), dtype=np.uint8)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f".{key}.{os.getpid()}.tmp.npz"
            np.savez(tmp, tokens=prompt[:keep], state=state)
            os.replace(tmp, self._path(key))
        except OSError:
            return  # an unwritable cache only costs time
        self._tokens[key] = prompt[:keep]
        self._prune()

    def _prune(self) -> None:
        files = sorted(self.folder.glob("*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[MAX_STATES:]:
            old.unlink(missing_ok=True)
