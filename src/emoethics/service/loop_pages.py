"""The review loop's pages: the dashboard, the rows behind its charts, the reviewed cases, and the
rulebooks page with its three buttons (calibrate, shadow, activate).

Calibration and shadow comparison use the service's fast judge (no language model) on what the
store holds: the reviewed cases' judgements, and the texts of the newest cases. Activation is a
row in ``rulebook_activations`` (who, which, what it replaced); the service's judge uses the
rulebook in force from the next request on.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from ..errors import EmoethicsError
from ..ethics.calibrate import outcome, truth_of
from ..store.verdicts import Filters, VerdictLog
from .dashboard import dashboard_data
from .security import check_csrf, hide_database
from .web import Signed, page

router = APIRouter(include_in_schema=False)
#: How many of the newest cases the page's shadow button judges again.
SHADOW_CASES = 500


def _filters(request: Request) -> Filters:
    q = request.query_params
    return Filters(**{k: q.get(k, "")[:128] for k in Filters.model_fields})


@router.get("/review/dashboard")
def dashboard(request: Request, key: Signed) -> HTMLResponse:
    workspace = request.app.state.workspace
    data = dashboard_data(VerdictLog(workspace.records.url), workspace.store, _filters(request))
    return page(request, "dashboard.html", **data)


@router.get("/review/verdicts")
def verdicts(request: Request, key: Signed) -> HTMLResponse:
    f = _filters(request)
    rows = VerdictLog(request.app.state.workspace.records.url).rows(f)
    return page(request, "verdicts.html", rows=rows, filters=f)


@router.get("/review/reviewed")
def reviewed(request: Request, key: Signed, context: str = "") -> HTMLResponse:
    store = request.app.state.workspace.store
    rows = []
    for c, decisions in store.decided(context or None):
        t = truth_of(c, decisions)
        if t is None:
            continue
        rows.append({"case": c, "truth": t[0], "labels": t[1], "outcome": outcome(c.verdict, t[0])})
    return page(request, "reviewed.html", rows=rows[-500:], context=context)


def _rulebooks_page(
    request: Request, status: int = 200, message: str = "", errors: list[str] | None = None
) -> HTMLResponse:
    workspace = request.app.state.workspace
    rec = workspace.records
    books = []
    for b in reversed(rec.rulebooks()):
        content = rec.rulebook_content(b["id"])
        books.append({**b, "calibration": content.get("calibration")})
    n_reviewed = len({f.case_id for f in workspace.store.feedback() if f.case_id})
    return page(
        request,
        "rulebooks.html",
        status=status,
        books=books,
        active=rec.active_rulebook(),
        activations=rec.activations()[:20],
        reviewed=n_reviewed,
        message=message,
        errors=errors or [],
    )


@router.get("/review/rulebooks")
def rulebooks(request: Request, key: Signed) -> HTMLResponse:
    return _rulebooks_page(request)


@router.post("/review/calibrate")
def calibrate(
    request: Request,
    key: Signed,
    max_fpr: Annotated[str, Form(max_length=8)] = "0.02",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    check_csrf(request, csrf)
    from ..ethics.review_loop import calibrate_rulebook

    workspace = request.app.state.workspace
    try:
        target = float(max_fpr)
    except ValueError:
        return _rulebooks_page(request, 422, errors=["the largest false-positive rate is a number, e.g. 0.02"])
    if not 0.0 <= target <= 0.5:
        return _rulebooks_page(request, 422, errors=["the largest false-positive rate is between 0 and 0.5"])
    try:
        book = calibrate_rulebook(workspace.fast_judge(), workspace.store, workspace.records, target)
    except EmoethicsError as e:
        return _rulebooks_page(request, 422, errors=[hide_database(str(e), request.app.state.url)])
    cal = book.calibration
    pooled = cal.for_context("*") if cal else None
    summary = (
        f" On the {pooled.cases} reviewed cases: false positives {pooled.before['false_positive_rate'].value:.1%} -> "
        f"{pooled.false_positive_rate.value:.1%}, false negatives {pooled.before['false_negative_rate'].value:.1%} -> "
        f"{pooled.false_negative_rate.value:.1%}."
        + (
            f" On reviewed cases each fit did not see: false positives {pooled.cross_validated_fpr.value:.1%}."
            if pooled.cross_validated_fpr
            else ""
        )
        if pooled
        else ""
    )
    return _rulebooks_page(request, message=f"Stored {book.id} (not active).{summary}")


@router.post("/review/shadow")
def shadow(
    request: Request,
    key: Signed,
    rulebook: Annotated[str, Form(max_length=64)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    check_csrf(request, csrf)
    from ..ethics.review_loop import shadow_compare

    workspace = request.app.state.workspace
    cases = workspace.store.cases()[-SHADOW_CASES:]
    try:
        active = workspace.fast_judge(workspace.records.active_rulebook())
        candidate = workspace.fast_judge(rulebook)
        rows = shadow_compare(active, candidate, [(c.text, c.context) for c in cases], candidate_id=rulebook)
        workspace.records.record_verdicts(rows)
    except EmoethicsError as e:
        return _rulebooks_page(request, 422, errors=[hide_database(str(e), request.app.state.url)])
    changed = sum(r.verdict != r.shadow_verdict for r in rows)
    return _rulebooks_page(
        request,
        message=f"Shadow: {changed} of {len(rows)} recent texts would get another verdict from {rulebook}; "
        "the dashboard shows which.",
    )


@router.post("/review/activate")
def activate(
    request: Request,
    key: Signed,
    rulebook: Annotated[str, Form(max_length=64)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    check_csrf(request, csrf)
    rec = request.app.state.workspace.records
    try:
        done = rec.activate_rulebook(rulebook or None, actor=key.name)
    except EmoethicsError as e:
        return _rulebooks_page(request, 422, errors=[hide_database(str(e), request.app.state.url)])
    return _rulebooks_page(
        request, message=f"In force: {done['rulebook'] or 'no rulebook'} (was {done['previous'] or 'none'})."
    )
