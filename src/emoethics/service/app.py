"""The FastAPI application: the JSON API under ``/v1`` and the review pages under ``/``.

``create_app(ServiceConfig(...))`` builds it; ``emoethics serve`` runs it with uvicorn on
loopback. Every ``/v1`` call needs an API key (``Authorization: Bearer <key>``), bodies are
limited in size, each key has a rate limit, and errors are JSON with a one-line ``error``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from ..config import Settings
from ..emotions.rewriting import RewriteResult
from ..errors import BackendError, EmoethicsError, InputError, ModelFileError
from ..ethics.adversary import Review
from ..ethics.judge import Judgement
from ..ethics.rectify import Rectification
from ..schema.emotion_models import load_model, resolve_target
from ..schema.profile import EmotionProfile
from ..store import db
from ..store.keys import ApiKey, KeyStore
from ..store.queue import Case, Feedback
from . import loop_pages, web
from .jobs import Job, JobRunner
from .schemas import (
    AnalyzeRequest,
    ErrorBody,
    FeedbackRequest,
    JobAccepted,
    JudgeRequest,
    RectifyRequest,
    ReviewRequest,
    RewriteRequest,
    SweepRequest,
)
from .security import LimitsMiddleware, RateLimiter, api_key, hide_database, session_secret
from .worker import Worker


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
    worker: Worker | None = Field(default=None, description="Ready models (tests, embedding applications).")


Key = Annotated[ApiKey, Depends(api_key)]
BEARER = HTTPBearer(auto_error=False, description="An API key from `emoethics keys create NAME`.")
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": why}
    for code, why in (
        (400, "the request cannot be carried out (bad option, unknown context)"),
        (401, "no valid API key"),
        (413, "body over the size limit"),
        (422, "the body does not match the schema"),
        (429, "rate limit reached (see Retry-After)"),
        (502, "the language model failed or kept answering badly"),
        (503, "the local model is missing or broken"),
    )
}


def create_app(config: ServiceConfig | None = None) -> FastAPI:
    """The service's ASGI application."""
    from ..plugins import load_plugins

    load_plugins()
    config = config or ServiceConfig()
    url = config.database_url or db.database_url()
    db.engine(url)  # create or upgrade the schema now, not on the first request
    worker = config.worker or Worker(config.settings, url=url, concurrency=config.concurrency)
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
    app.state.worker = worker
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
    app.include_router(_api(worker, jobs))
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


def _api(worker: Worker, jobs: JobRunner) -> APIRouter:
    r = APIRouter(prefix="/v1", responses=ERRORS, dependencies=[Depends(BEARER)])

    def maybe_background(kind: str, req: BaseModel, fn: Callable[[], Any], key: ApiKey, background: bool) -> Any:
        inputs = req.model_dump(exclude={"background"})
        if background:
            job = jobs.submit(kind, inputs, lambda: worker.run(kind, inputs, fn), key.id)
            return JSONResponse(
                JobAccepted(job=job.id, status=job.status, status_url=f"/v1/jobs/{job.id}").model_dump(),
                status_code=202,
            )
        return worker.run(kind, inputs, fn)

    @r.post("/analyze", response_model=EmotionProfile, summary="Emotion profile of a text")
    def analyze(req: AnalyzeRequest, key: Key) -> Any:
        return worker.run("analyze", req.model_dump(), lambda: worker.analyze(req.text, req.model))

    @r.post(
        "/rewrite",
        response_model=RewriteResult,
        summary="Rewrite a text at a target emotion",
        responses={202: {"model": JobAccepted, "description": "background: the job to poll"}},
    )
    def rewrite(req: RewriteRequest, key: Key) -> Any:
        resolve_target(load_model(req.model), req.emotion, req.intensity, req.level)  # a bad target is a 400 now
        return maybe_background(
            "rewrite",
            req,
            lambda: worker.rewrite(
                req.text, req.emotion, req.intensity, req.level, req.model, req.rounds, req.tolerance
            ),
            key,
            req.background,
        )

    @r.post(
        "/sweep",
        status_code=202,
        response_model=JobAccepted,
        summary="Rewrite a text at every level of a spectrum (a background job)",
    )
    def sweep(req: SweepRequest, key: Key) -> Any:
        load_model(req.model).spectrum(req.spectrum)  # an unknown spectrum is a 400 now, not a failed job
        return maybe_background(
            "sweep", req, lambda: worker.sweep(req.text, req.spectrum, req.model, req.rounds), key, True
        )

    @r.post("/judge", response_model=Judgement, summary="Ethical judgement of a text in a context (DIKE)")
    def judge(req: JudgeRequest, key: Key) -> Any:
        return worker.run(
            "judge",
            req.model_dump(),
            lambda: worker.judge_text(
                req.text, req.context, req.culture, req.history or None, req.guidelines, req.rulebook
            ),
        )

    @r.post(
        "/review",
        response_model=Review,
        summary="Adversarial review of a judgement (ERIS)",
        responses={202: {"model": JobAccepted, "description": "background: the job to poll"}},
    )
    def review(req: ReviewRequest, key: Key) -> Any:
        return maybe_background(
            "review",
            req,
            lambda: worker.review(req.text, req.context, req.culture, req.rounds, req.guidelines),
            key,
            req.background,
        )

    @r.post(
        "/rectify",
        response_model=Rectification,
        summary="Rewrite a violating text into the allowed range",
        responses={202: {"model": JobAccepted, "description": "background: the job to poll"}},
    )
    def rectify(req: RectifyRequest, key: Key) -> Any:
        return maybe_background(
            "rectify",
            req,
            lambda: worker.rectify(req.text, req.context, req.culture, req.attempts, req.rounds, req.guidelines),
            key,
            req.background,
        )

    @r.post(
        "/feedback",
        response_model=Feedback,
        status_code=201,
        summary="A person's decision on a review case or a rulebook rule (committed before the answer)",
    )
    def feedback(req: FeedbackRequest, key: Key) -> Any:
        fb = Feedback(**req.model_dump())
        return worker.store.add_feedback(fb)

    @r.get("/cases", response_model=list[Case], summary="The review queue")
    def cases(key: Key, pending: bool = True, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Any:
        return worker.store.pending(limit) if pending else worker.store.cases()[:limit]

    @r.get("/cases/{case_id}", response_model=Case, summary="One review case")
    def case(case_id: str, key: Key) -> Any:
        try:
            return worker.store.case(case_id)
        except InputError as e:
            raise HTTPException(404, str(e)) from None

    @r.get("/jobs/{job_id}", response_model=Job, summary="A background job's status and result")
    def job(job_id: str, key: Key) -> Any:
        found = jobs.get(job_id, key.id)
        if found is None:
            raise HTTPException(404, f"no job '{job_id}' for this key")
        return found

    @r.get("/rulebooks", summary="Stored rulebook versions and the feedback each used")
    def rulebooks(key: Key) -> list[dict[str, Any]]:
        return worker.records.rulebooks()

    @r.get("/health", include_in_schema=True, summary="Liveness (no key needed)", dependencies=[])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return r
