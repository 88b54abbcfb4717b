"""The JSON API under ``/v1``: :data:`texts` (the library's operations on a text, each recorded
as a run; the long ones also as background jobs) and :data:`records` (review cases, feedback,
jobs, rulebooks). Every route needs an API key except ``/v1/health``; the service's
:class:`~.workspace.ServiceWorkspace` and :class:`~.jobs.JobRunner` come from the application's state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer
from pydantic import BaseModel

from ..emotions.rewriting import RewriteResult
from ..errors import InputError
from ..ethics.adversary import Review
from ..ethics.judge import Judgement
from ..ethics.rectify import Rectification
from ..schema.emotion_models import load_model, resolve_target
from ..schema.profile import EmotionProfile
from ..store.keys import ApiKey
from ..store.queue import Case, Feedback
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
from .security import api_key
from .workspace import ServiceWorkspace

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


def workspace_of(request: Request) -> ServiceWorkspace:
    return request.app.state.workspace


def jobs_of(request: Request) -> JobRunner:
    return request.app.state.jobs


Service = Annotated[ServiceWorkspace, Depends(workspace_of)]
Jobs = Annotated[JobRunner, Depends(jobs_of)]
texts = APIRouter(prefix="/v1", responses=ERRORS, dependencies=[Depends(BEARER)])
records = APIRouter(prefix="/v1", responses=ERRORS, dependencies=[Depends(BEARER)])
BACKGROUND: dict[int | str, dict[str, Any]] = {
    202: {"model": JobAccepted, "description": "background: the job to poll"}
}


def maybe_background(
    workspace: ServiceWorkspace,
    jobs: JobRunner,
    kind: str,
    req: BaseModel,
    fn: Callable[[], Any],
    key: ApiKey,
    background: bool,
) -> Any:
    """Run ``fn`` as a recorded run now, or (``background``) as a job whose id is answered at once."""
    inputs = req.model_dump(exclude={"background"})
    if background:
        job = jobs.submit(kind, inputs, lambda: workspace.run(kind, inputs, fn), key.id)
        return JSONResponse(
            JobAccepted(job=job.id, status=job.status, status_url=f"/v1/jobs/{job.id}").model_dump(),
            status_code=202,
        )
    return workspace.run(kind, inputs, fn)


@texts.post("/analyze", response_model=EmotionProfile, summary="Emotion profile of a text")
def analyze(req: AnalyzeRequest, key: Key, workspace: Service) -> Any:
    return workspace.run("analyze", req.model_dump(), lambda: workspace.analyze(req.text, req.model))


@texts.post(
    "/rewrite",
    response_model=RewriteResult,
    summary="Rewrite a text at a target emotion",
    responses=BACKGROUND,
)
def rewrite(req: RewriteRequest, key: Key, workspace: Service, jobs: Jobs) -> Any:
    resolve_target(load_model(req.model), req.emotion, req.intensity, req.level)  # a bad target is a 400 now

    def run() -> Any:
        return workspace.rewrite(req.text, req.emotion, req.intensity, req.level, req.model, req.rounds, req.tolerance)

    return maybe_background(workspace, jobs, "rewrite", req, run, key, req.background)


@texts.post(
    "/sweep",
    status_code=202,
    response_model=JobAccepted,
    summary="Rewrite a text at every level of a spectrum (a background job)",
)
def sweep(req: SweepRequest, key: Key, workspace: Service, jobs: Jobs) -> Any:
    load_model(req.model).spectrum(req.spectrum)  # an unknown spectrum is a 400 now, not a failed job

    def run() -> Any:
        return workspace.sweep(req.text, req.spectrum, req.model, req.rounds)

    return maybe_background(workspace, jobs, "sweep", req, run, key, True)


@texts.post("/judge", response_model=Judgement, summary="Ethical judgement of a text in a context (DIKE)")
def judge(req: JudgeRequest, key: Key, workspace: Service) -> Any:
    def run() -> Any:
        return workspace.judge_text(
            req.text, req.context, req.culture, req.history or None, req.guidelines, req.rulebook
        )

    return workspace.run("judge", req.model_dump(), run)


@texts.post("/review", response_model=Review, summary="Adversarial review of a judgement (ERIS)", responses=BACKGROUND)
def review(req: ReviewRequest, key: Key, workspace: Service, jobs: Jobs) -> Any:
    def run() -> Any:
        return workspace.review(req.text, req.context, req.culture, req.rounds, req.guidelines)

    return maybe_background(workspace, jobs, "review", req, run, key, req.background)


@texts.post(
    "/rectify",
    response_model=Rectification,
    summary="Rewrite a violating text into the allowed range",
    responses=BACKGROUND,
)
def rectify(req: RectifyRequest, key: Key, workspace: Service, jobs: Jobs) -> Any:
    def run() -> Any:
        return workspace.rectify(req.text, req.context, req.culture, req.attempts, req.rounds, req.guidelines)

    return maybe_background(workspace, jobs, "rectify", req, run, key, req.background)


@records.post(
    "/feedback",
    response_model=Feedback,
    status_code=201,
    summary="A person's decision on a review case or a rulebook rule (committed before the answer)",
)
def feedback(req: FeedbackRequest, key: Key, workspace: Service) -> Any:
    return workspace.store.add_feedback(Feedback(**req.model_dump()))


@records.get("/cases", response_model=list[Case], summary="The review queue")
def cases(key: Key, workspace: Service, pending: bool = True, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Any:
    return workspace.store.pending(limit) if pending else workspace.store.cases()[:limit]


@records.get("/cases/{case_id}", response_model=Case, summary="One review case")
def case(case_id: str, key: Key, workspace: Service) -> Any:
    try:
        return workspace.store.case(case_id)
    except InputError as e:
        raise HTTPException(404, str(e)) from None


@records.get("/jobs/{job_id}", response_model=Job, summary="A background job's status and result")
def job(job_id: str, key: Key, jobs: Jobs) -> Any:
    found = jobs.get(job_id, key.id)
    if found is None:
        raise HTTPException(404, f"no job '{job_id}' for this key")
    return found


@records.get("/rulebooks", summary="Stored rulebook versions and the feedback each used")
def rulebooks(key: Key, workspace: Service) -> list[dict[str, Any]]:
    return workspace.records.rulebooks()


@records.get("/health", include_in_schema=True, summary="Liveness (no key needed)", dependencies=[])
def health() -> dict[str, str]:
    return {"status": "ok"}
