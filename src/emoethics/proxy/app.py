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

The requests are answered by :class:`~.chat.ChatHandler`, a ``sentence`` stream by
:class:`~.relay.SentenceRelay`; this module holds the application, its routes and error answers.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..config import env
from ..errors import BackendError, ConfigError, EmoethicsError, InputError
from ..store.keys import ApiKey, KeyStore
from .chat import ChatHandler
from .exchange import check_culture
from .openai_errors import ERRORS, error_response, upstream_error
from .settings import ProxyConfig
from .upstream import HttpUpstream, LocalUpstream, UpstreamError
from .workspace import ProxyWorkspace


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


BEARER = HTTPBearer(auto_error=False, description="An emoethics API key (`emoethics keys create NAME`).")


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


def create_proxy_app(
    config: ProxyConfig | None = None, *, workspace: ProxyWorkspace | None = None, upstream: Any = None
) -> FastAPI:
    """The proxy's ASGI application. ``workspace`` and ``upstream`` replace the ones the config makes."""
    from ..plugins import load_plugins
    from ..service.security import LimitsMiddleware, RateLimiter
    from ..store import db
    from .limits import too_large_body

    load_plugins()
    config = config or ProxyConfig()
    url = config.database_url or db.database_url()
    db.engine(url)
    workspace = workspace or ProxyWorkspace(
        url=url,
        guidelines=config.guidelines,
        rulebook=config.rulebook,
        shadow=config.shadow,
        judge_model=config.policy.judge_model != "never",
    )
    workspace.guardrail(config.policy.context, config.policy.culture)  # a bad default context fails now
    try:
        check_culture(workspace, config.policy.culture)
    except InputError as e:
        raise ConfigError(str(e)) from None
    handler = ChatHandler(config, workspace, upstream if upstream is not None else upstream_of(config, workspace))

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        yield
        await handler.close()

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
    app.state.workspace = workspace
    app.add_middleware(LimitsMiddleware, max_bytes=config.max_body_bytes, too_large=too_large_body)
    add_error_handlers(app)
    app.include_router(openai_router(handler))
    return app


def upstream_of(config: ProxyConfig, workspace: ProxyWorkspace) -> HttpUpstream | LocalUpstream:
    """The upstream the config names: an OpenAI-compatible server, else the embedded model."""
    if config.upstream:
        return HttpUpstream(
            config.upstream,
            api_key=env(config.upstream_key_env),
            timeout=config.upstream_timeout,
            auth=config.upstream_credentials(),
        )
    return LocalUpstream(workspace.rectifier(), slot=workspace.model_slot)


def add_error_handlers(app: FastAPI) -> None:
    """Every error the proxy answers as an OpenAI error body."""

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


def openai_router(handler: ChatHandler) -> APIRouter:
    """The OpenAI-compatible routes: models, health and chat completions."""
    router = APIRouter(prefix="/v1")

    @router.get("/models", responses=ERRORS, dependencies=[Depends(BEARER)], summary="The upstream's models")
    async def models(key: Key) -> Any:
        try:
            return await handler.upstream.models()
        except UpstreamError as e:
            return upstream_error(e)

    @router.get("/health", summary="Liveness (no key needed)")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.post(
        "/chat/completions",
        responses=ERRORS,
        dependencies=[Depends(BEARER)],
        summary="A chat completion from the upstream, judged (plain or streamed)",
    )
    async def chat(req: ChatRequest, request: Request, key: Key) -> Any:
        return await handler.chat(req, request)

    return router
