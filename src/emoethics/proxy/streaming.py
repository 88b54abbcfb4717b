"""Server-sent events in the OpenAI chunk format, and cutting a growing text into sentences."""

from __future__ import annotations

import json
import re
from typing import Any

#: The end of a sentence: . ! ? … (with closing quotes or brackets), then white space; or a line break.
_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*\s+|\n+")


def split_sentences(buffer: str) -> tuple[list[str], str]:
    """(complete sentences, the unfinished rest) of ``buffer``; each sentence keeps its trailing
    white space, so joining them gives the text back."""
    out, start = [], 0
    for m in _END.finditer(buffer):
        out.append(buffer[start : m.end()])
        start = m.end()
    return out, buffer[start:]


def event(data: dict[str, Any] | str) -> bytes:
    """One SSE event: ``data: <json>`` and a blank line."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"data: {payload}\n\n".encode()


DONE = event("[DONE]")


def chunk(
    base: dict[str, Any], delta: dict[str, Any], finish_reason: str | None = None, index: int = 0, **extra: Any
) -> dict[str, Any]:
    """A ``chat.completion.chunk`` with one choice."""
    return {
        **base,
        "object": "chat.completion.chunk",
        "choices": [{"index": index, "delta": delta, "finish_reason": finish_reason}],
        **extra,
    }


def pieces(text: str, size: int = 4) -> list[str]:
    """``text`` cut into pieces of about ``size`` words, keeping every character."""
    parts = re.findall(r"\S+\s*|\s+", text)
    return ["".join(parts[i : i + size]) for i in range(0, len(parts), size)] or [""]
