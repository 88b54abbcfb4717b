"""The proxy's ASGI application: an OpenAI-compatible ``/v1`` that judges every reply.

``POST /v1/chat/completions`` (plain and ``stream: true``) and ``GET /v1/models`` behave like an
OpenAI server, so an unmodified OpenAI client works with ``base_url`` pointed here and an emoethics
API key as its ``api_key``. The request goes to the upstream with the upstream's own key; the
reply is judged per the guardrails of the context (the ``X-Emoethics-Context`` header, else the
configured one) and passed, queued for review, rectified or blocked (:mod:`.guard`). Every answer
carries the verdict: ``x-emoethics-*`` headers and an ``emoethics`` object in the body (in the
final chunk of a stream). Errors are OpenAI-style bodies ``{"error": {"message", "type", ...}}``.

Streaming policies: ``hold`` gets the whole reply, judges it, then streams it (nothing unjudged
reaches the client; the first token waits for the upstream and the judgement); ``sentence`` passes
the upstream's stream on sentence by sentence, each released once the fast CPU judge allows it,
and the whole reply is judged at the end (a first sentence the fast judge doubts holds back the
rest; what was released cannot be taken back, so a late rectify or block verdict withholds only
the rest, says so in the final chunk and queues the reply for review).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import BackendError, EmoethicsError
from ..ethics.guidelines import VERDICT_ORDER
from ..store.keys import ApiKey, KeyStore
from ..textio import MAX_CHARS
from .guard import Decision, Policy, ReplyGuard, UserState, empathy_note, read_user
from .library import ProxyLibrary
from .streaming import DONE, chunk, event, pieces, split_sentences
from .upstream import HttpUpstream, LocalUpstream, UpstreamError, completion_id


class ProxyConfig(BaseModel):
    """How the proxy runs (the ``[proxy]`` section of the config file, then the flags)."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    upstream: str | None = Field(default=None, description="OpenAI-compatible base URL; none: the embedded model.")
    upstream_key_env: str = Field(default="OPENAI_API_KEY", description="Environment variable with the upstream's key.")
    upstream_timeout: float = Field(default=120.0, gt=0)
    stream_policy: Literal["hold", "sentence"] = "hold"
    log_content: bool = Field(default=True, description="Store texts in the run log (off: verdicts only).")
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    database_url: str | None = None
    guidelines: str = "default"
    rulebook: str | None = None
    policy: Policy = Field(default_factory=Policy)


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
        (400, "bad request (unknown context, invalid body)"),
        (401, "no valid API key"),
        (413, "body over the size limit"),
        (429, "rate limit reached (see Retry-After)"),
        (502, "the upstream failed or answered something unusable"),
        (504, "the upstream timed out"),
    )
}


def error_response(status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorBody(error=OpenAIError(message=message, type=kind, code=kind if status >= 500 else None))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


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
SENTENCE_CHARS = 600  # a "sentence" longer than this is checked as it stands


def create_proxy_app(
    config: ProxyConfig | None = None, *, library: ProxyLibrary | None = None, upstream: Any = None
) -> FastAPI:
    """The proxy's ASGI application. ``library`` and ``upstream`` replace the ones the config makes."""
    import os

    from ..service.security import LimitsMiddleware, RateLimiter
    from ..store import db

    config = config or ProxyConfig()
    url = config.database_url or db.database_url()
    db.engine(url)
    library = library or ProxyLibrary(
        url=url,
        guidelines=config.guidelines,
        rulebook=config.rulebook,
        judge_model=config.policy.judge_model != "never",
    )
    library.guardrail(config.policy.context, config.policy.culture)  # a bad default context fails now
    if upstream is None:
        if config.upstream:
            upstream = HttpUpstream(
                config.upstream, api_key=os.environ.get(config.upstream_key_env), timeout=config.upstream_timeout
            )
        else:
            upstream = LocalUpstream(library.rectifier(), slot=library.model_slot)
    policy = config.policy
    if not config.log_content:
        policy = policy.model_copy(update={"queue_reviews": False})
    guard = ReplyGuard(library, policy)

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        yield
        await upstream.close()

    app = FastAPI(
        title="emoethics proxy",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        description="An OpenAI-compatible proxy that judges every reply against the guardrails "
        "of a context: allow, review, rectify or block, with the verdict attached.",
    )
    app.state.keys = KeyStore(url)
    app.state.limiter = RateLimiter()
    app.state.library = library
    app.add_middleware(LimitsMiddleware, max_bytes=config.max_body_bytes)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = {401: "invalid_api_key", 404: "not_found", 405: "invalid_request_error", 429: "rate_limit_exceeded"}.get(
            exc.status_code, "invalid_request_error"
        )
        return error_response(exc.status_code, str(exc.detail), kind, getattr(exc, "headers", None))

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

    def context_of(request: Request) -> tuple[str, str | None]:
        context = request.headers.get("x-emoethics-context") or policy.context
        culture = request.headers.get("x-emoethics-culture") or policy.culture
        g = library.guardrail(context[:64] if context else None, culture[:64] if culture else None)
        return g.context, culture

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

    def output_of(decisions: list[Decision | None], user: UserState | None) -> dict[str, Any]:
        out = []
        for d in decisions:
            if d is None:
                out.append({"verdict": "allow", "action": "passed", "reasons": ["no text to judge"]})
                continue
            s = d.summary(user)
            if config.log_content:
                s |= {"original": d.original, "delivered": d.text}
            else:
                s = {
                    k: s[k]
                    for k in (
                        "verdict",
                        "action",
                        "judged_verdict",
                        "path",
                        "context",
                        "behaviour",
                        "confidence",
                        "wrong_probability",
                        "case_id",
                    )
                }
                s["violations"] = [h.guideline for h in d.judgement.violations]
            out.append(s)
        return {"choices": out, "verdict": strictest(decisions)}

    def record(run_id: str, inputs: dict[str, Any], output: Any, start: float, error: str | None = None) -> None:
        library.record_run(
            inputs,
            output,
            error=error,
            seconds=time.perf_counter() - start,
            run_id=run_id,
            models={"upstream": upstream.id},
        )

    def headers_of(decisions: list[Decision | None], run_id: str) -> dict[str, str]:
        main = next((d for d in decisions if d is not None and d.verdict == strictest(decisions)), None)
        h = {"x-emoethics-verdict": strictest(decisions), "x-emoethics-run": run_id}
        if main is not None:
            b = main.judgement.behaviour
            h |= {
                "x-emoethics-behaviour": f"{b.level} ({b.intensity:+.2f})",
                "x-emoethics-action": main.action,
                "x-emoethics-path": main.path,
                "x-emoethics-context": main.judgement.context,
            }
        return h

    async def prepare(req: ChatRequest, request: Request) -> tuple[dict[str, Any], str, str | None, UserState | None]:
        context, culture = context_of(request)
        body = req.model_dump(exclude_none=True)
        user = None
        if policy.empathy:
            user = await asyncio.to_thread(read_user, library, body["messages"])
            if user is not None and user.distressed:
                body["messages"] = [empathy_note(user), *body["messages"]]
        return body, context, culture, user

    async def decide(
        text: str, context: str, culture: str | None, user: UserState | None, run_id: str
    ) -> Decision | None:
        if not text.strip():
            return None
        return await asyncio.to_thread(guard.decide, text[:MAX_CHARS], context, culture, user, run_id=run_id)

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
        start = time.perf_counter()
        body, context, culture, user = await prepare(req, request)
        run_id = library.new_run_id()
        inputs = inputs_of(req, body, context, user)
        n = int(body.get("n") or 1) if isinstance(body.get("n"), int) else 1
        if req.stream and config.stream_policy == "sentence" and n == 1:
            return await sentence_stream(body, context, culture, user, run_id, inputs, start)
        try:
            done = await upstream.complete(body)
        except UpstreamError as e:
            await asyncio.to_thread(record, run_id, inputs, None, start, e.message)
            return upstream_error(e)
        decisions = []
        for choice in done["choices"]:
            message = choice.get("message") or {}
            d = await decide(message.get("content") or "", context, culture, user, run_id)
            decisions.append(d)
            if d is not None:
                message["content"] = d.text
                if d.finish_reason:
                    choice["finish_reason"] = d.finish_reason
        output = output_of(decisions, user)
        await asyncio.to_thread(record, run_id, inputs, output, start)
        summary = attached(decisions, user, run_id)
        headers = headers_of(decisions, run_id)
        if not req.stream:
            return JSONResponse({**done, "emoethics": summary}, headers=headers)
        return StreamingResponse(
            held_events(done, summary), media_type="text/event-stream", headers={**headers, "cache-control": "no-cache"}
        )

    def attached(decisions: list[Decision | None], user: UserState | None, run_id: str) -> dict[str, Any]:
        per = [
            d.summary(user)
            if d is not None
            else {"verdict": "allow", "action": "passed", "reasons": ["no text to judge"]}
            for d in decisions
        ]
        return {**per[0], "run_id": run_id, "mode": policy.mode, **({"choices": per} if len(per) > 1 else {})}

    async def held_events(done: dict[str, Any], summary: dict[str, Any]) -> AsyncIterator[bytes]:
        base = {
            "id": done.get("id") or completion_id(),
            "created": done.get("created") or int(time.time()),
            "model": done.get("model") or "upstream",
        }
        for choice in done["choices"]:
            i = choice.get("index", 0)
            yield event(chunk(base, {"role": "assistant", "content": ""}, index=i))
            for piece in pieces((choice.get("message") or {}).get("content") or ""):
                yield event(chunk(base, {"content": piece}, index=i))
        for choice in done["choices"]:
            yield event(
                chunk(base, {}, choice.get("finish_reason") or "stop", index=choice.get("index", 0), emoethics=summary)
            )
        yield DONE

    async def sentence_stream(
        body: dict[str, Any],
        context: str,
        culture: str | None,
        user: UserState | None,
        run_id: str,
        inputs: dict[str, Any],
        start: float,
    ) -> Any:
        source = upstream.stream(body).__aiter__()
        try:
            first = await source.__anext__()
        except StopAsyncIteration:
            first = None
        except UpstreamError as e:
            await asyncio.to_thread(record, run_id, inputs, None, start, e.message)
            return upstream_error(e)
        headers = {
            "x-emoethics-verdict": "pending",
            "x-emoethics-run": run_id,
            "x-emoethics-context": context,
            "cache-control": "no-cache",
        }
        return StreamingResponse(
            released_events(first, source, context, culture, user, run_id, inputs, start),
            media_type="text/event-stream",
            headers=headers,
        )

    async def released_events(
        first: dict[str, Any] | None,
        source: AsyncGenerator[dict[str, Any], None],
        context: str,
        culture: str | None,
        user: UserState | None,
        run_id: str,
        inputs: dict[str, Any],
        start: float,
    ) -> AsyncIterator[bytes]:
        base = {
            "id": (first or {}).get("id") or completion_id(),
            "created": (first or {}).get("created") or int(time.time()),
            "model": (first or {}).get("model") or "upstream",
        }
        full, pending, released, held = "", "", "", False
        finish: str | None = None
        yield event(chunk(base, {"role": "assistant", "content": ""}))

        async def upstream_chunks() -> AsyncGenerator[dict[str, Any], None]:
            if first is not None:
                yield first
            async for c in source:
                yield c

        chunks = upstream_chunks()
        try:
            async for c in chunks:
                for choice in c.get("choices") or []:
                    if choice.get("index", 0) != 0:
                        continue
                    text = (choice.get("delta") or {}).get("content") or ""
                    finish = choice.get("finish_reason") or finish
                    full += text
                    pending += text
                if held:
                    continue
                sentences, rest = split_sentences(pending)
                if not sentences and len(rest) > SENTENCE_CHARS:
                    sentences, rest = [rest], ""
                for i, s in enumerate(sentences):
                    if await asyncio.to_thread(guard.sentence_passes, s, context, culture):
                        released += s
                        yield event(chunk(base, {"content": s}))
                    else:
                        held = True
                        rest = "".join(sentences[i:]) + rest
                        break
                pending = rest
        except UpstreamError as e:
            await asyncio.to_thread(
                record,
                run_id,
                inputs,
                {"released": released if config.log_content else len(released)},
                start,
                e.message,
            )
            yield event({"error": {"message": e.message, "type": e.kind, "code": e.kind}})
            return
        except (asyncio.CancelledError, GeneratorExit):  # the client went away mid-stream
            await asyncio.shield(
                asyncio.to_thread(
                    record,
                    run_id,
                    inputs,
                    {"released": len(released)},
                    start,
                    "the client closed the stream before its end",
                )
            )
            raise
        finally:
            await chunks.aclose()
            await source.aclose()
        d = await decide(full, context, culture, user, run_id)
        summary = attached([d], user, run_id)
        out_finish = finish or "stop"
        if d is not None and d.action in ("rectified", "blocked"):
            if not released:
                for piece in pieces(d.text):
                    yield event(chunk(base, {"content": piece}))
                out_finish = d.finish_reason or out_finish
            else:
                if d.case_id is None and policy.queue_reviews:
                    case = await asyncio.to_thread(
                        library.queue_case,
                        d.judgement,
                        run_id=run_id,
                        note="released sentence by sentence before the full judgement",
                    )
                    summary["case_id"] = case.id
                summary["released_before_judgement"] = len(released)
                summary["withheld"] = len(pending)
                out_finish = "content_filter" if pending else out_finish
        elif pending:
            yield event(chunk(base, {"content": pending}))
        summary["stream_policy"] = "sentence"
        output = output_of([d], user)
        output["released_before_judgement"] = len(released)
        await asyncio.to_thread(record, run_id, inputs, output, start)
        yield event(chunk(base, {}, out_finish, emoethics=summary))
        yield DONE

    return app


def upstream_error(e: UpstreamError) -> JSONResponse:
    headers = {"Retry-After": e.retry_after} if e.retry_after else None
    return error_response(e.status, e.message, e.kind, headers)


def strictest(decisions: list[Decision | None]) -> str:
    verdicts = [d.verdict for d in decisions if d is not None] or ["allow"]
    return max(verdicts, key=VERDICT_ORDER.index)


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
