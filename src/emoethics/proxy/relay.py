"""The ``sentence`` streaming policy: a reply released window by window as the fast judge allows.

:class:`SentenceRelay` takes the upstream's chunks in, passes the content on in windows
(:class:`~.streaming.SentenceRelease`), each once the fast CPU judge allows it together with the
text before it so surely that the judge model would not be asked, holds the other texts
(reasoning, refusal, tool calls) to the end, and judges the whole reply at the end. What was
released cannot be taken back: a late rectify or block verdict withholds only the rest, says so
in the final chunk and queues the reply for review. A stream that breaks ends with an error
event, never with a reply marked complete; a client that leaves stops the work.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any, Protocol, TypeVar

from ..errors import EmoethicsError
from ..store.queue import Case
from . import fields
from .choices import Judged, apply
from .exchange import Exchange, base_of, cases_of
from .guard import Policy, ReplyGuard, UserState
from .redact import scrub
from .streaming import DONE, SentenceRelease, SentenceStream, chunk, event, pieces
from .upstream import UpstreamError
from .workspace import ProxyWorkspace

T = TypeVar("T")


class Judging(Protocol):
    """What the relay needs of the proxy's chat handler (:class:`~.chat.ChatHandler`)."""

    guard: ReplyGuard
    policy: Policy
    workspace: ProxyWorkspace
    log_content: bool

    def in_thread(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Awaitable[T]: ...

    async def judge_message(self, message: dict[str, Any], ex: Exchange) -> Judged | None: ...

    def record(
        self,
        ex: Exchange,
        output: Any,
        error: str | None = None,
        cases: list[Case] | None = None,
        judged: list[Judged | None] | None = None,
    ) -> None: ...

    def attached(self, judged: list[Judged | None], ex: Exchange) -> dict[str, Any]: ...

    def output_of(self, judged: list[Judged | None], user: UserState | None) -> dict[str, Any]: ...


class SentenceRelay:
    """One streamed reply of ``ex``, released window by window (module docstring)."""

    def __init__(self, handler: Judging, ex: Exchange) -> None:
        self.handler = handler
        self.ex = ex
        self.stream = SentenceStream(SentenceRelease(judge_chars=handler.guard.window_chars))

    async def events(
        self, first: dict[str, Any] | None, source: AsyncGenerator[dict[str, Any], None]
    ) -> AsyncIterator[bytes]:
        """The client's server-sent events: the released windows, what is left once the whole
        reply is judged, the final chunk with the verdict; an error event when the upstream or
        the judgement fails."""
        base = base_of(first or {})
        h, ex = self.handler, self.ex
        try:
            yield event(chunk(base, {"role": "assistant", "content": ""}))
            try:
                async for out in self.windows(first, source, base):
                    yield out
            except UpstreamError as e:
                await h.in_thread(h.record, ex, {"released": self.released()}, e.message)
                yield event({"error": {"message": scrub(e.message), "type": e.kind, "code": e.kind}})
                return
            try:
                async for out in self.end(base):
                    yield out
            except EmoethicsError as e:  # the judgement failed: nothing more is released
                await h.in_thread(h.record, ex, {"released": self.released_chars()}, str(e))
                yield event({"error": {"message": scrub(str(e)), "type": "server_error", "code": "judgement_failed"}})
        except (asyncio.CancelledError, GeneratorExit):  # the client went away: the work stops
            ex.gone.set()
            gone = "the client closed the stream before its end"
            await asyncio.shield(h.in_thread(h.record, ex, {"released": self.released_chars()}, gone))
            raise

    async def passes(self, text: str) -> bool:
        """Whether a window, with the text before it, may go out now."""
        if not text.replace("\x00", "").strip():
            return True
        ex = self.ex
        return await self.handler.in_thread(self.handler.guard.releasable, text, ex.context, ex.culture, ex.user)

    def released(self) -> str | int:
        """What the run log keeps of the released content: the text, or its length without texts."""
        return self.stream.content.released if self.handler.log_content else self.released_chars()

    def released_chars(self) -> int:
        return len(self.stream.content.released)

    async def windows(
        self, first: dict[str, Any] | None, source: AsyncGenerator[dict[str, Any], None], base: dict[str, Any]
    ) -> AsyncIterator[bytes]:
        """The upstream's chunks taken in, and each window of content released once it is judged."""
        chunks = upstream_chunks(first, source)
        try:
            async for c in chunks:
                take(self.stream, c)
                for window in await self.stream.content.release(self.passes):
                    yield event(chunk(base, {"content": window}))
        finally:
            await chunks.aclose()
            await source.aclose()

    async def end(self, base: dict[str, Any]) -> AsyncIterator[bytes]:
        """The whole reply judged, then what is left to send of it, and the final chunk."""
        h, ex, s = self.handler, self.ex, self.stream
        content = s.content
        message = {"role": "assistant", "content": content.full, **s.other}
        judged = await h.judge_message(message, ex)
        choice: dict[str, Any] = {"message": message, "finish_reason": s.finish or "stop"}
        if judged is not None:
            apply(choice, judged, h.policy.refusal)
        summary = h.attached([judged], ex)
        cases = cases_of([judged])
        out, finish = self.rest(judged, message, choice, summary, cases)
        for delta in out:
            yield event(chunk(base, delta))
        summary["stream_policy"] = "sentence"
        summary["released_before_judgement"] = len(content.released)
        output = h.output_of([judged], ex.user)
        output["released_before_judgement"] = len(content.released)
        await h.in_thread(h.record, ex, output, None, cases, [judged])
        yield event(chunk(base, {}, finish, emoethics=summary))
        yield DONE

    def rest(
        self,
        judged: Judged | None,
        message: dict[str, Any],
        choice: dict[str, Any],
        summary: dict[str, Any],
        cases: list[Case],
    ) -> tuple[list[dict[str, Any]], str]:
        """The deltas left to send once the whole reply is judged, and its finish reason (a late
        verdict's review case is added to ``cases``)."""
        content = self.stream.content
        finish = self.stream.finish or "stop"
        if judged is None or not judged.changed:
            out = [{"content": content.pending}] if content.pending else []
            return out + fields.deltas(message, pieces, content=False), finish
        if not content.released:
            return fields.deltas(choice["message"], pieces), choice["finish_reason"]
        out = self.late_verdict(judged, choice, summary)
        if case := self.late_case(judged, summary):
            cases.append(case)
        return out, "content_filter" if judged.blocked or summary["withheld"] else finish

    def late_verdict(self, judged: Judged, choice: dict[str, Any], summary: dict[str, Any]) -> list[dict[str, Any]]:
        """What is left to send of a reply changed after part of its content went out. When the
        content (or the whole reply) changed, the content still held is withheld (what went out
        cannot be taken back); the other texts, rectified, are sent (a blocked reply: none)."""
        changed = content_changed(judged)
        pending = self.stream.content.pending
        summary["withheld"] = len(pending) if changed else 0
        out = [] if changed or not pending else [{"content": pending}]
        if not judged.blocked:
            out += fields.deltas(choice["message"], pieces, content=False)
        return out

    def late_case(self, judged: Judged, summary: dict[str, Any]) -> Case | None:
        """The review case of a reply whose content changed after part of it went out."""
        h = self.handler
        if not content_changed(judged) or judged.main.case_id is not None or not h.policy.queue_reviews:
            return None
        note = "released window by window before the full judgement"
        case = h.workspace.review_case(judged.main.judgement, run_id=self.ex.run_id, note=note)
        summary["case_id"] = case.id
        return case


async def upstream_chunks(
    first: dict[str, Any] | None, source: AsyncGenerator[dict[str, Any], None]
) -> AsyncGenerator[dict[str, Any], None]:
    """The stream's first chunk (already read), then the rest."""
    if first is not None:
        yield first
    async for c in source:
        yield c


def content_changed(judged: Judged) -> bool:
    """Whether the client is to get other content than the upstream's (rectified, or blocked)."""
    content = judged.fields.get("content")
    return judged.blocked or (content is not None and content.action == "rectified")


def take(s: SentenceStream, c: dict[str, Any]) -> None:
    """Add an upstream chunk to ``s``; a chunk that cannot be used is an :class:`UpstreamError`."""
    try:
        s.take(c)
    except ValueError as e:
        raise UpstreamError(502, f"the upstream streamed a chunk that cannot be used: {e}") from None
