"""The pages for people: sign in with an API key, the review queue, a case with its emotion chart,
rationale and debate, the decision form, and a playground to analyse a text and sweep a spectrum.

Server-rendered HTML (Jinja2, every value escaped) with one small script file; forms carry a
per-session CSRF token and the session cookie is SameSite=Strict.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ..errors import EmoethicsError, InputError
from ..schema.emotion_models import builtin_models, load_model
from ..store.keys import ApiKey
from ..store.queue import DECISIONS, Feedback
from .charts import profile_chart
from .security import SESSION_KEY, check_csrf, csrf_token, hide_database, session_key

HERE = Path(__file__).parent
VERDICTS = ("allow", "review", "rectify", "block")
templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True))
templates.globals["chart_of"] = profile_chart

router = APIRouter(include_in_schema=False)


def page(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    html = templates.get_template(name).render(
        request=request, csrf=csrf_token(request), signed_in=session_key(request) is not None, **values
    )
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return page(request, "error.html", status=status, status_code=status, message=message)


def login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)


def web_key(request: Request) -> ApiKey:
    key = session_key(request)
    if key is None:
        raise HTTPException(401, "sign in first")
    return key


Signed = Annotated[ApiKey, Depends(web_key)]


def _safe_next(path: str | None) -> str:
    return path if path and path.startswith("/") and not path.startswith("//") and "\\" not in path else "/review"


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/review", status_code=303)


@router.get("/docs")
def api_docs(request: Request) -> HTMLResponse:
    """The interactive API documentation (Swagger UI from the installed package, no CDN)."""
    return page(request, "docs.html")


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> HTMLResponse:  # noqa: A002
    return page(request, "login.html", next=_safe_next(next), failed=False)


@router.post("/login")
def login(
    request: Request,
    key: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/review",
) -> Response:  # noqa: A002
    check_csrf(request, csrf)
    found = request.app.state.keys.verify(key.strip())
    if found is None:
        return page(request, "login.html", status=401, next=_safe_next(next), failed=True)
    request.session.clear()
    request.session[SESSION_KEY] = found.id
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=100)] = "") -> RedirectResponse:
    check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/review")
def queue(request: Request, key: Signed) -> HTMLResponse:
    store = request.app.state.workspace.store
    return page(request, "queue.html", cases=store.pending(200), counts=store.counts())


def _case_view(request: Request, case_id: str) -> dict[str, Any]:
    workspace = request.app.state.workspace
    try:
        case = workspace.store.case(case_id)
    except InputError:
        raise HTTPException(404, f"no case '{case_id}'") from None
    judgement = case.detail.get("judgement") or {}
    profile = judgement.get("profile")
    if profile is None:  # e.g. an SSHF sample: measure it now with the critic (the fast sensor by default)
        try:
            profile = workspace.critic().analyze(case.text).model_dump(mode="json")
        except EmoethicsError:
            profile = None
    decided = workspace.store.feedback(case.id)
    following = [c.id for c in workspace.store.pending(50) if c.id != case.id]
    return {
        "case": case,
        "judgement": judgement,
        "profile": profile,
        "debate": case.detail.get("debate") or [],
        "decided": decided,
        "next_id": following[0] if following else None,
        "labels": ("violating", "compliant") if case.kind == "sshf-sample" else VERDICTS,
        "rule_id": case.detail.get("rule_id") or (case.guidelines[0] if case.guidelines else ""),
    }


@router.get("/review/{case_id}")
def show_case(request: Request, case_id: str, key: Signed) -> HTMLResponse:
    return page(request, "case.html", **_case_view(request, case_id), errors=[], decisions=DECISIONS)


@router.post("/review/{case_id}")
def decide(
    request: Request,
    case_id: str,
    key: Signed,
    decision: Annotated[str, Form(max_length=16)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    label: Annotated[str, Form(max_length=32)] = "",
    rule_text: Annotated[str, Form(max_length=2000)] = "",
    rule_id: Annotated[str, Form(max_length=128)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
    reviewer: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    check_csrf(request, csrf)
    view = _case_view(request, case_id)
    errors = []
    if decision not in DECISIONS:
        errors.append("choose a decision")
    elif decision == "relabel" and label not in view["labels"]:
        errors.append("relabel: choose the right label")
    elif decision == "edit-rule" and not (rule_text.strip() and rule_id.strip()):
        errors.append("edit rule: give the rule id and the corrected rule")
    if not errors:
        try:
            request.app.state.workspace.store.add_feedback(
                Feedback(
                    case_id=case_id,
                    decision=decision,
                    label=label or None,
                    rule_id=(rule_id.strip() or None) if decision in ("edit-rule", "accept", "reject") else None,
                    rule_text=rule_text.strip() or None if decision == "edit-rule" else None,
                    reviewer=reviewer.strip() or key.name,
                    note=note,
                )
            )
        except EmoethicsError as e:
            errors.append(hide_database(str(e), request.app.state.url))
    if errors:
        return page(request, "case.html", status=422, **view, errors=errors, decisions=DECISIONS)
    return RedirectResponse(f"/review/{view['next_id']}" if view["next_id"] else "/review?done=1", status_code=303)


@router.get("/playground")
def playground(request: Request, key: Signed) -> HTMLResponse:
    return page(request, "playground.html", job=None, models=builtin_models(), spectra=_spectra())


def _spectra() -> list[str]:
    return [s.id for s in load_model().spectra]


@router.post("/playground")
def play(
    request: Request,
    key: Signed,
    text: Annotated[str, Form(min_length=1, max_length=2000)],
    spectrum: Annotated[str, Form(max_length=64)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    rounds: Annotated[int, Form(ge=1, le=3)] = 1,
) -> Response:
    check_csrf(request, csrf)
    if spectrum not in _spectra():
        raise HTTPException(422, f"unknown spectrum '{spectrum}'")
    workspace = request.app.state.workspace
    inputs = {"text": text, "spectrum": spectrum, "rounds": rounds}

    def work() -> dict[str, Any]:
        source = workspace.analyze(text, "plutchik")
        swept = workspace.sweep(text, spectrum, "plutchik", rounds)
        return {"source": source, "sweep": swept}

    job = request.app.state.jobs.submit("playground", inputs, lambda: workspace.run("playground", inputs, work), key.id)
    return RedirectResponse(f"/playground/{job.id}", status_code=303)


@router.get("/playground/{job_id}")
def play_result(request: Request, job_id: str, key: Signed) -> HTMLResponse:
    job = request.app.state.jobs.get(job_id, key.id)
    if job is None:
        raise HTTPException(404, f"no job '{job_id}'")
    return page(request, "playground.html", job=job, models=builtin_models(), spectra=_spectra())
