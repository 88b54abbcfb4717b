"""The FastAPI application: the JSON API under ``/v1`` and the review pages under ``/``.

``create_app(ServiceConfig(...))`` builds it; ``emoethics serve`` runs it with uvicorn on
loopback. Every ``/v1`` call needs an API key (``Authorization: Bearer <key>``), bodies are
limited in size, each key has a rate limit, and errors are JSON with a one-line ``error``.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from ..config import Settings
from ..errors import BackendError, EmoethicsError, ModelFileError
from ..store import db
from ..store.keys import KeyStore
from . import loop_pages, routes, web
from .jobs import JobRunner
from .schemas import ErrorBody
from .security import LimitsMiddleware, RateLimiter, hide_database, session_secret
from .workspace import ServiceWorkspace


class ServiceConfig(BaseModel):
    """How the service runs. ``database_url`` None: ``$EMOETHICS_DATABASE_URL`` or SQLite."""

    model_config = {"arbitrary_types_allowed": True}

    database_url: str | None = None
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    concurrency: int = Field(default=1, ge=1, description="Language-model operations at a time.")
    secret_key: str | None = Field(
        default=None, description="Signs browser sessions (default: kept in the data directory)."
    )
    https_only_cookies: bool = False
    settings: Settings | None = None
    workspace: ServiceWorkspace | None = Field(
        default=None, description="Ready models (tests, embedding applications)."
    )


def create_app(config: ServiceConfig | None = None) -> FastAPI:
    """The service's ASGI application."""
    from ..plugins import load_plugins

    load_plugins()
    config = config or ServiceConfig()
    url = config.database_url or db.database_url()
    db.engine(url)  # create or upgrade the schema now, not on the first request
    workspace = config.workspace or ServiceWorkspace(config.settings, url=url, concurrency=config.concurrency)
    jobs = JobRunner(url)

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        jobs.recover()
        yield
        jobs.shutdown()

    app = FastAPI(
        title="emoethics",
        version=_version(),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        description="Emotion analysis and rewriting, ethical judgement, adversarial review, "
        "rectification and human feedback.",
    )
    app.state.keys = KeyStore(url)
    app.state.limiter = RateLimiter(url)
    app.state.workspace = workspace
    app.state.jobs = jobs
    app.state.url = url
    app.add_middleware(
        SessionMiddleware,
        secret_key=config.secret_key or session_secret(),
        session_cookie="emoethics_session",
        same_site="strict",
        https_only=config.https_only_cookies,
        max_age=8 * 3600,
    )
    app.add_middleware(LimitsMiddleware, max_bytes=config.max_body_bytes)
    _error_handlers(app)
    app.include_router(routes.texts)
    app.include_router(routes.records)
    app.include_router(loop_pages.router)  # before web's /review/{case_id}
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=web.HERE / "static"), name="static")
    app.mount("/docs-assets", StaticFiles(directory=_swagger_ui_files()), name="docs-assets")
    return app


def _swagger_ui_files() -> Path:
    """Swagger UI 5 (reads OpenAPI 3.1), as installed with the fastapi-offline package."""
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("emoethics")
    except PackageNotFoundError:
        return "0"


def _error_handlers(app: FastAPI) -> None:
    """Errors as one-line JSON (or an error page off ``/v1``), never showing where the store is."""

    def body(status: int, message: str, detail: Any = None, headers: dict | None = None) -> JSONResponse:
        message = hide_database(message, app.state.url)
        return JSONResponse(
            ErrorBody(error=message, detail=detail).model_dump(exclude_none=True), status, headers=headers
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Any:
        if request.url.path.startswith("/v1"):
            return body(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))
        if exc.status_code == 401:
            return web.login_redirect(request)
        return web.error_page(request, exc.status_code, hide_database(str(exc.detail), app.state.url))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")} for e in exc.errors()
        ]
        first = problems[0] if problems else {"where": "body", "problem": "invalid"}
        return body(422, f"{first['where']}: {first['problem']}", problems)

    @app.exception_handler(EmoethicsError)
    async def emoethics_error(request: Request, exc: EmoethicsError) -> JSONResponse:
        if isinstance(exc, ModelFileError):
            return body(503, str(exc))
        if isinstance(exc, BackendError):
            return body(502, str(exc))
        return body(400, str(exc))
