"""Server-sent events in the OpenAI chunk format, and releasing a growing reply window by window.

:class:`SentenceRelease` holds the content of a ``sentence`` stream and lets it out in windows,
each only once the judge allowed it together with the text released before it; :class:`SentenceStream`
is what such a stream has seen of the upstream (the content, the other texts, the finish reason).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ..textio import MAX_CHARS
from . import fields

#: The end of a sentence: . ! ? … (with closing quotes or brackets), then white space; or a line break.
_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*\s+|\n+")
_SPACE = re.compile(r"\s+")
#: The fewest characters of a release window (more once the reply grows: see SentenceRelease).
LEAST_WINDOW = 120
#: A window without a sentence end is cut at white space before this many times its least size.
WINDOW_SPAN = 3

#: Whether a text (a window and the text released before it) may go out now.
Passes = Callable[[str], Awaitable[bool]]


def split_sentences(buffer: str) -> tuple[list[str], str]:
    """(complete sentences, the unfinished rest) of ``buffer``; each sentence keeps its trailing
    white space, so joining them gives the text back."""
    out, start = [], 0
    for m in _END.finditer(buffer):
        out.append(buffer[start : m.end()])
        start = m.end()
    return out, buffer[start:]


@dataclass
class SentenceRelease:
    """The content of a ``sentence`` stream, released window by window, each once it is judged.

    A window ends at the first sentence end (or line break) past its least size, or, when none
    comes before ``WINDOW_SPAN`` times that size, at the last white space before it (inside a
    word only when there is no white space). The least size is ``LEAST_WINDOW`` characters, or
    half the text released so far when that is more (up to a quarter of what the judge reads), so
    that short sentences, one word per line, lists and text without punctuation make windows like
    any other text, and the judgements of a long reply stay few. A boundary counts only once text
    follows it, so the windows do not depend on where the upstream cut its chunks.

    A window is released only when ``passes`` allows it together with the released text before
    it (as much of it as the judge reads at once, ``judge_chars``); the first window it does not
    allow holds that window and everything after it for the judgement of the whole reply.
    """

    judge_chars: int = MAX_CHARS
    full: str = ""
    released: str = ""
    held: bool = False

    @property
    def pending(self) -> str:
        """The content received and not released."""
        return self.full[len(self.released) :]

    def add(self, text: str) -> None:
        self.full += text

    def bounds(self) -> tuple[int, int]:
        """(least, most) characters of the next window."""
        least = min(max(LEAST_WINDOW, len(self.released) // 2), self.judge_chars // 4)
        return least, least * WINDOW_SPAN

    def next_window(self) -> str | None:
        """The next complete window of the pending text, or None while there is none yet."""
        pending = self.pending
        least, most = self.bounds()
        if len(pending) <= least:
            return None
        for m in _END.finditer(pending):
            if m.end() < least:
                continue
            if m.end() == len(pending):
                break  # more white space, or the rest of an abbreviation, may follow
            if m.end() <= most:
                return pending[: m.end()]
            break
        if len(pending) <= most:
            return None
        ends = [m.end() for m in _SPACE.finditer(pending, least, most)]
        return pending[: ends[-1] if ends else most]

    def judged_text(self, window: str) -> str:
        """What is judged before ``window`` goes out: the window and the released text before
        it, as much as the judge reads at once (starting after white space when it is cut)."""
        room = max(0, self.judge_chars - len(window))
        if len(self.released) <= room:
            return self.released + window
        before = self.released[len(self.released) - room :]
        space = _SPACE.search(before)
        return (before[space.end() :] if space else before) + window

    async def release(self, passes: Passes) -> list[str]:
        """The windows that go out now, in order; each is judged (``passes``) before it is released."""
        out = []
        while not self.held and (window := self.next_window()) is not None:
            if await passes(self.judged_text(window)):
                self.released += window
                out.append(window)
            else:
                self.held = True
        return out


@dataclass
class SentenceStream:
    """What a ``sentence`` stream has seen of the upstream: its content (released window by
    window), the other texts (reasoning, refusal, tool calls; held to the end) and the finish reason."""

    content: SentenceRelease = field(default_factory=SentenceRelease)
    other: dict[str, Any] = field(default_factory=dict)
    finish: str | None = None

    def take(self, c: dict[str, Any]) -> None:
        """Add an upstream chunk's first choice (raises ValueError for a delta that cannot be used)."""
        for choice in c.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            self.finish = choice.get("finish_reason") or self.finish
            self.content.add(delta.get("content") or "")
            fields.merge_delta(self.other, delta)


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
