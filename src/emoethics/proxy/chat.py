"""Chat requests on their way through the proxy: :class:`ChatHandler` sends each to the upstream,
judges every text of the reply and answers with the verdict attached (plain, held stream, or
window by window with :class:`~.relay.SentenceRelay`), and writes the run once, however the
request ends."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse

from ..store.queue import Case
from . import fields
from .choices import Judged, apply, judged_fields, main_index, strictest, summary_of
from .exchange import (
    CLIENT_GONE,
    RETRY_AFTER,
    Exchange,
    abandoned,
    base_of,
    cases_of,
    check_culture,
    header_name,
    unless_gone,
)
from .guard import Abandoned, Decision, ReplyGuard, UserState, empathy_note, read_user
from .limits import Capacity, SlotStream
from .openai_errors import error_response, upstream_error
from .redact import scrub
from .relay import SentenceRelay
from .settings import ProxyConfig
from .streaming import DONE, chunk, event, pieces
from .upstream import UpstreamError
from .workspace import ProxyWorkspace

T = TypeVar("T")


class ChatHandler:
    """Answers chat requests for one proxy: its workspace, upstream, policy and capacity.

    ``policy`` is the config's, without review cases when texts are not logged. Work that blocks
    (judging, the store) runs on the handler's threads: one for every request in progress (most
    wait on the batcher) and a few for the store, made on first use and shut down by
    :meth:`close` (a test may start the application again).
    """

    def __init__(self, config: ProxyConfig, workspace: ProxyWorkspace, upstream: Any) -> None:
        self.config = config
        self.workspace = workspace
        self.upstream = upstream
        self.log_content = config.log_content
        policy = config.policy
        if not config.log_content:
            policy = policy.model_copy(update={"queue_reviews": False})
        self.policy = policy
        self.guard = ReplyGuard(workspace, policy)
        self.capacity = Capacity(config.capacity)
        self._pools: list[ThreadPoolExecutor] = []

    def in_thread(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Awaitable[T]:
        """``fn(*args, **kwargs)`` on one of the proxy's threads, awaited."""
        if not self._pools:
            self._pools.append(ThreadPoolExecutor(self.config.capacity + 4, thread_name_prefix="emoethics-proxy"))
        return asyncio.get_running_loop().run_in_executor(self._pools[0], functools.partial(fn, *args, **kwargs))

    async def close(self) -> None:
        """Close the upstream and the workspace, and stop the threads."""
        await self.upstream.close()
        self.workspace.close()
        while self._pools:
            self._pools.pop().shutdown(wait=False, cancel_futures=True)

    # -- the request ------------------------------------------------------------------------------

    async def chat(self, req: Any, request: Request) -> Any:
        """The answer to a chat request, or a 503 when the proxy is at its capacity."""
        slot = self.capacity.take()
        if slot is None:
            return error_response(
                503,
                f"the proxy is at its capacity of {self.capacity.size} requests in progress; try again shortly",
                "server_error",
                {"Retry-After": RETRY_AFTER},
                code="overloaded",
            )
        response: Any = None
        try:
            response = await self.answer(req, request)
            return response
        finally:
            if isinstance(response, SlotStream):
                response.slot = slot  # given back when the stream ends
            else:
                slot.release()

    async def answer(self, req: Any, request: Request) -> Any:
        """The judged answer to a chat request (a stream's: its response, which judges as it goes)."""
        ex = await self.prepare(req, request)
        n = ex.body.get("n") if isinstance(ex.body.get("n"), int) else 1
        if req.stream and self.config.stream_policy == "sentence" and n == 1:
            return await self.sentence_stream(ex, request)
        try:
            done = await unless_gone(request, ex.gone, self.upstream.complete(ex.body))
            judged = await unless_gone(request, ex.gone, self.judge_choices(done, ex))
        except UpstreamError as e:
            await self.in_thread(self.record, ex, None, e.message)
            return upstream_error(e)
        except Abandoned:
            await self.in_thread(self.record, ex, None, CLIENT_GONE)
            return abandoned()
        await self.in_thread(self.record, ex, self.output_of(judged, ex.user), None, cases_of(judged), judged)
        summary = self.attached(judged, ex)
        headers = self.headers_of(judged, ex.run_id)
        if not req.stream:
            return JSONResponse({**done, "emoethics": summary}, headers=headers)
        return SlotStream(
            held_events(done, summary), media_type="text/event-stream", headers={**headers, "cache-control": "no-cache"}
        )

    async def prepare(self, req: Any, request: Request) -> Exchange:
        """The exchange of a request: its context and culture, the user's state (with the empathy
        note when they are distressed), and a new run."""
        context, culture = self.context_of(request)
        body = req.model_dump(exclude_none=True)
        user = None
        if self.policy.empathy:
            user = await self.in_thread(read_user, self.workspace, body["messages"], self.policy.empathy_rules)
            if user is not None and user.distressed:
                body["messages"] = [empathy_note(user), *body["messages"]]
        inputs = self.inputs_of(req, body, context, user)
        return Exchange(body, context, culture, user, self.workspace.new_run_id(), inputs)

    def context_of(self, request: Request) -> tuple[str, str | None]:
        """The guardrail context and culture of a request (headers, else the policy's)."""
        context = header_name(request, "x-emoethics-context") or self.policy.context
        culture = header_name(request, "x-emoethics-culture") or self.policy.culture
        check_culture(self.workspace, culture)
        return self.workspace.guardrail(context, culture).context, culture

    async def sentence_stream(self, ex: Exchange, request: Request) -> Any:
        """The response of a stream released window by window (its first chunk is awaited here,
        so that an upstream that fails at once gets an error answer, not a broken stream)."""
        source = self.upstream.stream(ex.body).__aiter__()
        try:
            first = await unless_gone(request, ex.gone, source.__anext__())
        except StopAsyncIteration:
            first = None
        except UpstreamError as e:
            await self.in_thread(self.record, ex, None, e.message)
            return upstream_error(e)
        except Abandoned:
            await source.aclose()
            await self.in_thread(self.record, ex, None, CLIENT_GONE)
            return abandoned()
        headers = {
            "x-emoethics-verdict": "pending",
            "x-emoethics-run": ex.run_id,
            "x-emoethics-context": ex.context,
            "cache-control": "no-cache",
            **self.window_headers(),
        }
        events = SentenceRelay(self, ex).events(first, source)
        return SlotStream(events, media_type="text/event-stream", headers=headers)

    # -- judging ----------------------------------------------------------------------------------

    async def decide(self, text: str, ex: Exchange, rewrite: bool = True) -> Decision | None:
        """The guard's decision on one text of the reply (None: it has no text)."""
        if not text.replace("\x00", "").strip():
            return None
        return await self.in_thread(
            self.guard.decide,
            text,
            ex.context,
            ex.culture,
            ex.user,
            run_id=ex.run_id,
            rewrite=rewrite,
            stop=ex.gone.is_set,
        )

    async def judge_message(self, message: dict[str, Any], ex: Exchange) -> Judged | None:
        """Every text of ``message`` judged (None: it has none)."""
        decided = {}
        for f in judged_fields(message):
            d = await self.decide(f.text, ex, rewrite=f.rewritable)
            if d is not None:
                decided[f.name] = d
        return Judged(decided) if decided else None

    async def judge_choice(self, choice: dict[str, Any], ex: Exchange) -> Judged | None:
        """A choice judged, and what the decisions deliver put into it."""
        judged = await self.judge_message(choice.get("message") or {}, ex)
        if judged is not None:
            apply(choice, judged, self.policy.refusal)
        return judged

    async def judge_choices(self, done: dict[str, Any], ex: Exchange) -> list[Judged | None]:
        return [await self.judge_choice(choice, ex) for choice in done["choices"]]

    # -- what is kept and what is sent -------------------------------------------------------------

    def inputs_of(self, req: Any, body: dict[str, Any], context: str, user: UserState | None) -> dict[str, Any]:
        """What the run log keeps of a request (its messages only when texts are logged)."""
        base = {
            "model": req.model,
            "stream": req.stream,
            "context": context,
            "messages_count": len(req.messages),
            "user_distressed": bool(user and user.distressed),
        }
        if self.log_content:
            base["messages"] = body["messages"]
        return base

    def output_of(self, judged: list[Judged | None], user: UserState | None) -> dict[str, Any]:
        """What the run log keeps of the verdicts on a reply."""
        out = [j.log(user, self.log_content) if j is not None else summary_of(None, user) for j in judged]
        return {"choices": out, "verdict": strictest(judged)}

    def record(
        self,
        ex: Exchange,
        output: Any,
        error: str | None = None,
        cases: list[Case] | None = None,
        judged: list[Judged | None] | None = None,
    ) -> None:
        """Write the run of ``ex``, with the review cases that name it and the verdicts on its
        texts (one transaction); a second call for the same exchange (a client leaving after the
        end) writes nothing."""
        if not ex.recorded.acquire(blocking=False):
            return
        decisions = [d for j in judged or [] if j is not None for d in j.fields.values()]
        verdicts = self.workspace.verdict_records(decisions, self.policy.mode) if decisions else []
        self.workspace.record_run(
            ex.inputs,
            output,
            error=scrub(error) if error else None,
            seconds=time.perf_counter() - ex.start,
            run_id=ex.run_id,
            models={"upstream": self.upstream.id},
            cases=cases or [],
            verdicts=verdicts,
        )

    def attached(self, judged: list[Judged | None], ex: Exchange) -> dict[str, Any]:
        """The ``emoethics`` object: the strictest choice's summary, and every choice's when there are more."""
        per = [summary_of(j, ex.user) for j in judged]
        top = per[main_index(judged)]
        return {**top, "run_id": ex.run_id, "mode": self.policy.mode, **({"choices": per} if len(per) > 1 else {})}

    def headers_of(self, judged: list[Judged | None], run_id: str) -> dict[str, str]:
        """The ``x-emoethics-*`` headers of a judged reply."""
        main = judged[main_index(judged)]
        h = {"x-emoethics-verdict": strictest(judged), "x-emoethics-run": run_id, **self.window_headers(judged)}
        if main is not None:
            d = main.main
            b = d.judgement.behaviour
            h |= {
                "x-emoethics-behaviour": f"{b.level} ({b.intensity:+.2f})",
                "x-emoethics-action": d.action,
                "x-emoethics-path": d.path,
                "x-emoethics-context": d.judgement.context,
            }
            if d.judgement.language is not None:
                lang = d.judgement.language
                h["x-emoethics-language"] = f"{lang.code}; {lang.support}"
        return h

    def window_headers(self, judged: list[Judged | None] | None = None) -> dict[str, str]:
        """The judge's window limit, and (once judged) the most windows a text needed."""
        h = {"x-emoethics-window-chars": str(self.guard.window_chars)}
        counts = [j.windows for j in judged or [] if j is not None]
        if counts:
            h["x-emoethics-windows"] = str(max(counts))
        return h


async def held_events(done: dict[str, Any], summary: dict[str, Any]) -> AsyncIterator[bytes]:
    """A whole judged reply as a stream (the ``hold`` policy): its texts in pieces, then the final
    chunk of every choice with the verdict."""
    base = base_of(done)
    for choice in done["choices"]:
        i = choice.get("index", 0)
        yield event(chunk(base, {"role": "assistant", "content": ""}, index=i))
        for delta in fields.deltas(choice.get("message") or {}, pieces):
            yield event(chunk(base, delta, index=i))
    for choice in done["choices"]:
        yield event(
            chunk(base, {}, choice.get("finish_reason") or "stop", index=choice.get("index", 0), emoethics=summary)
        )
    yield DONE
