"""The proxy's ASGI application: an OpenAI-compatible ``/v1`` that judges every reply.

``POST /v1/chat/completions`` (plain and ``stream: true``) and ``GET /v1/models`` behave like an
OpenAI server, so an unmodified OpenAI client works with ``base_url`` pointed here and an emoethics
API key as its ``api_key``. The request goes to the upstream with the upstream's own key; the
reply is judged per the guardrails of the context (the ``X-Emoethics-Context`` header, else the
configured one; ``X-Emoethics-Culture`` must be a culture of the guideline set) and passed, queued
for review, rectified or blocked (:mod:`.guard`). Every text the client would see is judged:
content, refusal, reasoning and tool-call arguments (:mod:`.fields`); a long reply is judged in
windows, all of it, and delivered whole. Every answer carries the verdict: ``x-emoethics-*``
headers and an ``emoethics`` object in the body (in the final chunk of a stream). Errors are
OpenAI-style bodies ``{"error": {"message", "type", "param", "code"}}``, scrubbed of anything
that looks like a key.

Streaming policies: ``hold`` gets the whole reply, judges it, then streams it (nothing unjudged
reaches the client; the first token waits for the upstream and the judgement); ``sentence`` passes
the upstream's content on window by window (:class:`~.streaming.SentenceRelease`: sentences, at
least ``LEAST_WINDOW`` characters, cut at white space when no sentence ends), each released once
the fast CPU judge allows it together with the text before it so surely that the judge model
would not be asked; it holds the other texts (reasoning, refusal, tool calls) to the end, and
judges the whole reply at the end (the first window the fast judge doubts holds back the rest;
what was released cannot be taken back, so a late rectify or block verdict withholds only the
rest, says so in the final chunk and queues the reply for review). A stream that breaks, turns
into something else or ends without ``[DONE]`` ends with an error event, never with a reply
marked complete.

Capacity and cancellation: at most ``capacity`` chat requests are in progress at once; one more is
refused at once with a 503 and ``Retry-After``. A client that disconnects ends the work on its
request: the upstream call is cancelled, and the judgement stops before its next window,
judge-model call or rectification (the run is recorded as abandoned).
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_core import PydanticCustomError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..config import env
from ..errors import BackendError, ConfigError, EmoethicsError, InputError
from ..store.keys import ApiKey, KeyStore
from ..store.queue import Case
from . import fields
from .choices import Judged, apply, judged_fields, main_index, strictest, summary_of
from .guard import Abandoned, Decision, Policy, ReplyGuard, UserState, empathy_note, read_user
from .library import ProxyLibrary
from .limits import Capacity, SlotStream
from .redact import scrub, split_credentials
from .streaming import DONE, Passes, SentenceRelease, SentenceStream, chunk, event, pieces
from .upstream import HttpUpstream, LocalUpstream, UpstreamError, completion_id

#: The longest X-Emoethics-Context or X-Emoethics-Culture header value.
MAX_HEADER_NAME = 64


class ProxyConfig(BaseModel):
    """How the proxy runs (the ``[proxy]`` section of the config file, then the flags)."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    upstream: str | None = Field(default=None, description="OpenAI-compatible base URL; none: the embedded model.")
    upstream_key_env: str = Field(default="OPENAI_API_KEY", description="Environment variable with the upstream's key.")
    upstream_auth: SecretStr | None = Field(
        default=None,
        exclude=True,
        description="user:password for the upstream (taken out of an upstream URL that holds them).",
    )
    upstream_timeout: float = Field(default=120.0, gt=0)
    stream_policy: Literal["hold", "sentence"] = "hold"
    log_content: bool = Field(default=True, description="Store texts in the run log (off: verdicts only).")
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    capacity: int = Field(
        default=32, ge=1, description="Chat requests in progress at once; one more gets a 503 with Retry-After."
    )
    database_url: str | None = None
    guidelines: str = "default"
    rulebook: str | None = None
    shadow: str | None = Field(
        default=None, description="A candidate rulebook judged beside the one in force, for the verdict log only."
    )
    policy: Policy = Field(default_factory=Policy)

    @model_validator(mode="before")
    @classmethod
    def _credentials_out_of_the_url(cls, data: Any) -> Any:
        """``http://user:password@host/v1`` becomes the URL without them and ``upstream_auth``."""
        if isinstance(data, dict) and isinstance(data.get("upstream"), str):
            clean, credentials = split_credentials(data["upstream"])
            if credentials is not None:
                data = {**data, "upstream": clean}
                data.setdefault("upstream_auth", ":".join(credentials))
        return data

    def upstream_credentials(self) -> tuple[str, str] | None:
        """(user, password) for the upstream's basic auth, if any were given."""
        if self.upstream_auth is None:
            return None
        user, _, password = self.upstream_auth.get_secret_value().partition(":")
        return user, password


def lone_surrogate(value: Any, where: str = "body") -> str | None:
    """Where in ``value`` a lone surrogate hides (text that is no valid Unicode), or None."""
    if isinstance(value, str):
        return where if any(0xD800 <= ord(c) <= 0xDFFF for c in value) else None
    if isinstance(value, dict):
        items: list[tuple[Any, Any]] = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return None
    for k, v in items:
        found = lone_surrogate(k, where) or lone_surrogate(v, f"{where}.{k}")
        if found:
            return found
    return None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    """An OpenAI chat completion request; fields not named here go to the upstream as they are."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=200)
    messages: list[ChatMessage] = Field(min_length=1, max_length=500)
    stream: bool = False

    @model_validator(mode="before")
    @classmethod
    def _valid_unicode(cls, data: Any) -> Any:
        where = lone_surrogate(data)
        if where:
            raise PydanticCustomError(
                "unicode",
                "{where} holds a lone surrogate, which is not valid Unicode; send UTF-8 text",
                {"where": where.removeprefix("body.")},
            )
        return data


class OpenAIError(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorBody(BaseModel):
    error: OpenAIError


BEARER = HTTPBearer(auto_error=False, description="An emoethics API key (`emoethics keys create NAME`).")
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": why}
    for code, why in (
        (400, "bad request (unknown context or culture, invalid body, text that is not valid Unicode)"),
        (401, "no valid API key"),
        (413, "body over the size limit"),
        (429, "rate limit reached (see Retry-After)"),
        (502, "the upstream failed or answered something unusable"),
        (503, "the proxy is at its capacity of requests in progress (see Retry-After)"),
        (504, "the upstream timed out"),
    )
}


def error_response(
    status: int, message: str, kind: str, headers: dict[str, str] | None = None, code: str | None = None
) -> JSONResponse:
    """An OpenAI error body; the message is scrubbed of anything that looks like a key."""
    error = OpenAIError(message=scrub(message), type=kind, code=code or (kind if status >= 500 else None))
    return JSONResponse(ErrorBody(error=error).model_dump(), status_code=status, headers=headers)


def client_key(request: Request) -> ApiKey:
    """The caller's emoethics key (``Authorization: Bearer``, as the OpenAI SDK sends it), rate-limited."""
    from ..service.security import bearer

    secret = bearer(request)
    key = request.app.state.keys.verify(secret) if secret else None
    if key is None:
        raise HTTPException(
            401,
            "a valid emoethics API key is needed as the client's api_key; make one with `emoethics keys create NAME`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    request.app.state.limiter.check(key)
    return key


Key = Annotated[ApiKey, Depends(client_key)]
#: Seconds between checks that a client is still connected.
DISCONNECT_POLL = 0.1
#: What a request refused for capacity waits before it tries again (Retry-After, seconds).
RETRY_AFTER = "1"
CLIENT_GONE = "the client closed the connection before the answer"
T = TypeVar("T")


@dataclass
class Exchange:
    """One chat request on its way: its body, context, culture, user state and run."""

    body: dict[str, Any]
    context: str
    culture: str | None
    user: UserState | None
    run_id: str
    inputs: dict[str, Any]
    start: float = field(default_factory=time.perf_counter)
    #: set once the client has gone: the work on the request stops at its next step
    gone: threading.Event = field(default_factory=threading.Event)
    #: taken by the first write of its run: a run is written once, however the request ends
    recorded: threading.Lock = field(default_factory=threading.Lock)


async def unless_gone(request: Request, gone: threading.Event, work: Awaitable[T]) -> T:
    """The result of ``work``; when the client disconnects first, ``gone`` is set, ``work`` is
    cancelled (work in a thread stops at its next step, which checks ``gone``) and
    :class:`~.guard.Abandoned` is raised."""
    task = asyncio.ensure_future(work)
    task.add_done_callback(lambda t: t.cancelled() or t.exception())  # an abandoned task's error is not news
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=DISCONNECT_POLL)
            if done:
                return task.result()
            if await request.is_disconnected():
                gone.set()
                raise Abandoned(CLIENT_GONE)
    finally:
        task.cancel()


def check_culture(library: ProxyLibrary, culture: str | None) -> None:
    """Raise InputError for a culture no guardrail of the guideline set names."""
    known = library.cultures()
    if culture and culture not in known:
        raise InputError(
            f"unknown culture '{culture}' in guideline set '{library.guidelines.id}' (cultures: {', '.join(known)})"
        )


def header_name(request: Request, name: str) -> str | None:
    """A short name from a request header (context, culture), or None when it is not given."""
    value = request.headers.get(name)
    if value is not None and len(value) > MAX_HEADER_NAME:
        raise InputError(f"the {name} header is over {MAX_HEADER_NAME} characters")
    return value or None


def create_proxy_app(
    config: ProxyConfig | None = None, *, library: ProxyLibrary | None = None, upstream: Any = None
) -> FastAPI:
    """The proxy's ASGI application. ``library`` and ``upstream`` replace the ones the config makes."""
    from ..plugins import load_plugins
    from ..service.security import LimitsMiddleware, RateLimiter
    from ..store import db
    from .limits import too_large_body

    load_plugins()
    config = config or ProxyConfig()
    url = config.database_url or db.database_url()
    db.engine(url)
    library = library or ProxyLibrary(
        url=url,
        guidelines=config.guidelines,
        rulebook=config.rulebook,
        shadow=config.shadow,
        judge_model=config.policy.judge_model != "never",
    )
    library.guardrail(config.policy.context, config.policy.culture)  # a bad default context fails now
    try:
        check_culture(library, config.policy.culture)
    except InputError as e:
        raise ConfigError(str(e)) from None
    if upstream is None:
        if config.upstream:
            upstream = HttpUpstream(
                config.upstream,
                api_key=env(config.upstream_key_env),
                timeout=config.upstream_timeout,
                auth=config.upstream_credentials(),
            )
        else:
            upstream = LocalUpstream(library.rectifier(), slot=library.model_slot)
    policy = config.policy
    if not config.log_content:
        policy = policy.model_copy(update={"queue_reviews": False})
    guard = ReplyGuard(library, policy)
    capacity = Capacity(config.capacity)
    # a thread for every request in progress (most wait on the batcher) and a few for the store;
    # made on first use and shut down with the application (which a test may start again)
    pools: list[ThreadPoolExecutor] = []

    def in_thread(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Awaitable[T]:
        """``fn(*args, **kwargs)`` on one of the proxy's threads, awaited."""
        if not pools:
            pools.append(ThreadPoolExecutor(config.capacity + 4, thread_name_prefix="emoethics-proxy"))
        return asyncio.get_running_loop().run_in_executor(pools[0], functools.partial(fn, *args, **kwargs))

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        yield
        await upstream.close()
        library.close()
        while pools:
            pools.pop().shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        title="emoethics proxy",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        description="An OpenAI-compatible proxy that judges every reply against the guardrails "
        "of a context: allow, review, rectify or block, with the verdict attached.",
    )
    app.state.keys = KeyStore(url)
    app.state.limiter = RateLimiter(url)
    app.state.library = library
    app.add_middleware(LimitsMiddleware, max_bytes=config.max_body_bytes, too_large=too_large_body)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = {401: "invalid_api_key", 404: "not_found", 405: "invalid_request_error", 429: "rate_limit_exceeded"}.get(
            exc.status_code, "invalid_request_error"
        )
        code = kind if exc.status_code == 429 else None  # as OpenAI's own 429 says
        return error_response(exc.status_code, str(exc.detail), kind, getattr(exc, "headers", None), code=code)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = exc.errors()
        first = errs[0] if errs else {"loc": ("body",), "msg": "invalid"}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return error_response(400, f"{where}: {first.get('msg', '')}"[:300], "invalid_request_error")

    @app.exception_handler(EmoethicsError)
    async def emoethics_error(request: Request, exc: EmoethicsError) -> JSONResponse:
        if isinstance(exc, BackendError):
            return error_response(502, str(exc), "upstream_error")
        return error_response(400, str(exc), "invalid_request_error")

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        return error_response(500, "the proxy failed on this request (see its log)", "server_error")

    def context_of(request: Request) -> tuple[str, str | None]:
        """The guardrail context and culture of a request (headers, else the policy's)."""
        context = header_name(request, "x-emoethics-context") or policy.context
        culture = header_name(request, "x-emoethics-culture") or policy.culture
        check_culture(library, culture)
        return library.guardrail(context, culture).context, culture

    def inputs_of(req: ChatRequest, body: dict[str, Any], context: str, user: UserState | None) -> dict[str, Any]:
        base = {
            "model": req.model,
            "stream": req.stream,
            "context": context,
            "messages_count": len(req.messages),
            "user_distressed": bool(user and user.distressed),
        }
        if config.log_content:
            base["messages"] = body["messages"]
        return base

    def output_of(judged: list[Judged | None], user: UserState | None) -> dict[str, Any]:
        out = [j.log(user, config.log_content) if j is not None else summary_of(None, user) for j in judged]
        return {"choices": out, "verdict": strictest(judged)}

    def record(
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
        verdicts = library.verdict_records(decisions, policy.mode) if decisions else []
        library.record_run(
            ex.inputs,
            output,
            error=scrub(error) if error else None,
            seconds=time.perf_counter() - ex.start,
            run_id=ex.run_id,
            models={"upstream": upstream.id},
            cases=cases or [],
            verdicts=verdicts,
        )

    def headers_of(judged: list[Judged | None], run_id: str) -> dict[str, str]:
        main = judged[main_index(judged)]
        h = {"x-emoethics-verdict": strictest(judged), "x-emoethics-run": run_id, **window_headers(judged)}
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

    def window_headers(judged: list[Judged | None] | None = None) -> dict[str, str]:
        """The judge's window limit, and (once judged) the most windows a text needed."""
        h = {"x-emoethics-window-chars": str(guard.window_chars)}
        counts = [j.windows for j in judged or [] if j is not None]
        if counts:
            h["x-emoethics-windows"] = str(max(counts))
        return h

    async def prepare(req: ChatRequest, request: Request) -> Exchange:
        context, culture = context_of(request)
        body = req.model_dump(exclude_none=True)
        user = None
        if policy.empathy:
            user = await in_thread(read_user, library, body["messages"])
            if user is not None and user.distressed:
                body["messages"] = [empathy_note(user), *body["messages"]]
        return Exchange(body, context, culture, user, library.new_run_id(), inputs_of(req, body, context, user))

    async def decide(text: str, ex: Exchange, rewrite: bool = True) -> Decision | None:
        if not text.replace("\x00", "").strip():
            return None
        return await in_thread(
            guard.decide,
            text,
            ex.context,
            ex.culture,
            ex.user,
            run_id=ex.run_id,
            rewrite=rewrite,
            stop=ex.gone.is_set,
        )

    async def judge_message(message: dict[str, Any], ex: Exchange) -> Judged | None:
        """Every text of ``message`` judged (None: it has none)."""
        decided = {}
        for f in judged_fields(message):
            d = await decide(f.text, ex, rewrite=f.rewritable)
            if d is not None:
                decided[f.name] = d
        return Judged(decided) if decided else None

    async def judge_choice(choice: dict[str, Any], ex: Exchange) -> Judged | None:
        """A choice judged, and what the decisions deliver put into it."""
        judged = await judge_message(choice.get("message") or {}, ex)
        if judged is not None:
            apply(choice, judged, policy.refusal)
        return judged

    async def judge_choices(done: dict[str, Any], ex: Exchange) -> list[Judged | None]:
        return [await judge_choice(choice, ex) for choice in done["choices"]]

    @app.get("/v1/models", responses=ERRORS, dependencies=[Depends(BEARER)], summary="The upstream's models")
    async def models(key: Key) -> Any:
        try:
            return await upstream.models()
        except UpstreamError as e:
            return upstream_error(e)

    @app.get("/v1/health", summary="Liveness (no key needed)")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(
        "/v1/chat/completions",
        responses=ERRORS,
        dependencies=[Depends(BEARER)],
        summary="A chat completion from the upstream, judged (plain or streamed)",
    )
    async def chat(req: ChatRequest, request: Request, key: Key) -> Any:
        slot = capacity.take()
        if slot is None:
            return error_response(
                503,
                f"the proxy is at its capacity of {capacity.size} requests in progress; try again shortly",
                "server_error",
                {"Retry-After": RETRY_AFTER},
                code="overloaded",
            )
        response: Any = None
        try:
            response = await answer(req, request)
            return response
        finally:
            if isinstance(response, SlotStream):
                response.slot = slot  # given back when the stream ends
            else:
                slot.release()

    async def answer(req: ChatRequest, request: Request) -> Any:
        """The judged answer to a chat request (a stream's: its response, which judges as it goes)."""
        ex = await prepare(req, request)
        n = ex.body.get("n") if isinstance(ex.body.get("n"), int) else 1
        if req.stream and config.stream_policy == "sentence" and n == 1:
            return await sentence_stream(ex, request)
        try:
            done = await unless_gone(request, ex.gone, upstream.complete(ex.body))
            judged = await unless_gone(request, ex.gone, judge_choices(done, ex))
        except UpstreamError as e:
            await in_thread(record, ex, None, e.message)
            return upstream_error(e)
        except Abandoned:
            await in_thread(record, ex, None, CLIENT_GONE)
            return error_response(499, CLIENT_GONE, "client_closed_request")
        await in_thread(record, ex, output_of(judged, ex.user), None, cases_of(judged), judged)
        summary = attached(judged, ex)
        headers = headers_of(judged, ex.run_id)
        if not req.stream:
            return JSONResponse({**done, "emoethics": summary}, headers=headers)
        return SlotStream(
            held_events(done, summary), media_type="text/event-stream", headers={**headers, "cache-control": "no-cache"}
        )

    def attached(judged: list[Judged | None], ex: Exchange) -> dict[str, Any]:
        """The ``emoethics`` object: the strictest choice's summary, and every choice's when there are more."""
        per = [summary_of(j, ex.user) for j in judged]
        top = per[main_index(judged)]
        return {**top, "run_id": ex.run_id, "mode": policy.mode, **({"choices": per} if len(per) > 1 else {})}

    async def held_events(done: dict[str, Any], summary: dict[str, Any]) -> AsyncIterator[bytes]:
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

    async def sentence_stream(ex: Exchange, request: Request) -> Any:
        source = upstream.stream(ex.body).__aiter__()
        try:
            first = await unless_gone(request, ex.gone, source.__anext__())
        except StopAsyncIteration:
            first = None
        except UpstreamError as e:
            await in_thread(record, ex, None, e.message)
            return upstream_error(e)
        except Abandoned:
            await source.aclose()
            await in_thread(record, ex, None, CLIENT_GONE)
            return error_response(499, CLIENT_GONE, "client_closed_request")
        headers = {
            "x-emoethics-verdict": "pending",
            "x-emoethics-run": ex.run_id,
            "x-emoethics-context": ex.context,
            "cache-control": "no-cache",
            **window_headers(),
        }
        return SlotStream(released_events(first, source, ex), media_type="text/event-stream", headers=headers)

    def releasable(ex: Exchange) -> Passes:
        """Whether a window of ``ex``'s stream, with the text before it, may go out now."""

        async def passes(text: str) -> bool:
            if not text.replace("\x00", "").strip():
                return True
            return await in_thread(guard.releasable, text, ex.context, ex.culture, ex.user)

        return passes

    def released_of(s: SentenceStream) -> str | int:
        """What the run log keeps of the released content: the text, or its length without texts."""
        return s.content.released if config.log_content else len(s.content.released)

    async def released_events(
        first: dict[str, Any] | None, source: AsyncGenerator[dict[str, Any], None], ex: Exchange
    ) -> AsyncIterator[bytes]:
        base = base_of(first or {})
        s = SentenceStream(SentenceRelease(judge_chars=guard.window_chars))
        try:
            yield event(chunk(base, {"role": "assistant", "content": ""}))
            try:
                async for out in released_windows(first, source, s, ex, base):
                    yield out
            except UpstreamError as e:
                await in_thread(record, ex, {"released": released_of(s)}, e.message)
                yield event({"error": {"message": scrub(e.message), "type": e.kind, "code": e.kind}})
                return
            try:
                async for out in sentence_end(s, ex, base):
                    yield out
            except EmoethicsError as e:  # the judgement failed: nothing more is released
                await in_thread(record, ex, {"released": len(s.content.released)}, str(e))
                yield event({"error": {"message": scrub(str(e)), "type": "server_error", "code": "judgement_failed"}})
        except (asyncio.CancelledError, GeneratorExit):  # the client went away: the work stops
            ex.gone.set()
            await asyncio.shield(
                in_thread(
                    record, ex, {"released": len(s.content.released)}, "the client closed the stream before its end"
                )
            )
            raise

    async def released_windows(
        first: dict[str, Any] | None,
        source: AsyncGenerator[dict[str, Any], None],
        s: SentenceStream,
        ex: Exchange,
        base: dict[str, Any],
    ) -> AsyncIterator[bytes]:
        """The upstream's chunks taken in, and each window of content released once it is judged."""
        passes = releasable(ex)
        chunks = upstream_chunks(first, source)
        try:
            async for c in chunks:
                take(s, c)
                for window in await s.content.release(passes):
                    yield event(chunk(base, {"content": window}))
        finally:
            await chunks.aclose()
            await source.aclose()

    async def sentence_end(s: SentenceStream, ex: Exchange, base: dict[str, Any]) -> AsyncIterator[bytes]:
        """The whole reply judged, then what is left to send of it, and the final chunk."""
        content = s.content
        message = {"role": "assistant", "content": content.full, **s.other}
        judged = await judge_message(message, ex)
        finish = s.finish or "stop"
        choice: dict[str, Any] = {"message": message, "finish_reason": finish}
        if judged is not None:
            apply(choice, judged, policy.refusal)
        summary = attached([judged], ex)
        cases = cases_of([judged])
        if judged is None or not judged.changed:
            out = [{"content": content.pending}] if content.pending else []
            out += fields.deltas(message, pieces, content=False)
        elif not content.released:
            out = fields.deltas(choice["message"], pieces)
            finish = choice["finish_reason"]
        else:
            out = late_verdict(s, judged, choice, summary)
            cases += [case] if (case := late_case(judged, ex, summary)) else []
            finish = "content_filter" if judged.blocked or summary["withheld"] else finish
        for delta in out:
            yield event(chunk(base, delta))
        summary["stream_policy"] = "sentence"
        summary["released_before_judgement"] = len(content.released)
        output = output_of([judged], ex.user)
        output["released_before_judgement"] = len(content.released)
        await in_thread(record, ex, output, None, cases, [judged])
        yield event(chunk(base, {}, finish, emoethics=summary))
        yield DONE

    def late_verdict(
        s: SentenceStream, judged: Judged, choice: dict[str, Any], summary: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """What is left to send of a reply changed after part of its content went out. When the
        content (or the whole reply) changed, the content still held is withheld (what went out
        cannot be taken back); the other texts, rectified, are sent (a blocked reply: none)."""
        changed = content_changed(judged)
        pending = s.content.pending
        summary["withheld"] = len(pending) if changed else 0
        out = [] if changed or not pending else [{"content": pending}]
        if not judged.blocked:
            out += fields.deltas(choice["message"], pieces, content=False)
        return out

    def late_case(judged: Judged, ex: Exchange, summary: dict[str, Any]) -> Case | None:
        """The review case of a reply whose content changed after part of it went out."""
        if not content_changed(judged) or judged.main.case_id is not None or not policy.queue_reviews:
            return None
        case = library.review_case(
            judged.main.judgement, run_id=ex.run_id, note="released window by window before the full judgement"
        )
        summary["case_id"] = case.id
        return case

    return app


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


def cases_of(judged: list[Judged | None]) -> list[Case]:
    """The review cases the decisions on a reply made (written with its run)."""
    return [d.case for j in judged if j is not None for d in j.fields.values() if d.case is not None]


def take(s: SentenceStream, c: dict[str, Any]) -> None:
    """Add an upstream chunk to ``s``; a chunk that cannot be used is an :class:`UpstreamError`."""
    try:
        s.take(c)
    except ValueError as e:
        raise UpstreamError(502, f"the upstream streamed a chunk that cannot be used: {e}") from None


def base_of(done: dict[str, Any]) -> dict[str, Any]:
    """The id, created time and model a stream's chunks carry."""
    return {
        "id": done.get("id") or completion_id(),
        "created": done.get("created") or int(time.time()),
        "model": done.get("model") or "upstream",
    }


def upstream_error(e: UpstreamError) -> JSONResponse:
    headers = {"Retry-After": e.retry_after} if e.retry_after else None
    return error_response(e.status, e.message, e.kind, headers)


POLICY_KEYS = tuple(Policy.model_fields)
SERVER_KEYS = ("host", "port", "public")


def proxy_settings(section: dict[str, Any], flags: dict[str, Any]) -> tuple[ProxyConfig, dict[str, Any]]:
    """(ProxyConfig, {host, port, public}) from the config file's ``[proxy]`` section and the flags
    (a flag that is None leaves the file's value). One flat table: the policy's keys sit beside the rest."""
    from pydantic import ValidationError

    from ..errors import ConfigError

    values = dict(section) | {k: v for k, v in flags.items() if v is not None}
    server = {k: values.pop(k) for k in SERVER_KEYS if k in values}
    policy = {k: values.pop(k) for k in POLICY_KEYS if k in values}
    try:
        return ProxyConfig(**values, policy=Policy(**policy)), server
    except ValidationError as e:
        err = e.errors()[0]
        raise ConfigError(f"proxy settings: '{'.'.join(map(str, err['loc']))}': {err['msg']}") from None
