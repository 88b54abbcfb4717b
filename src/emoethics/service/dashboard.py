"""The review dashboard: what the guardrail decided on the team's traffic, drawn as small SVG charts.

Everything is counted in the database (:class:`~emoethics.store.verdicts.VerdictLog`) and drawn on
the server: verdicts per day and per context, the guidelines violated, the share observe mode would
have acted on, the emotion intensities of the traffic, the false-positive and false-negative rates
that reviews revealed (with 95% intervals), the age of the queue and what a shadow rulebook would
have changed. Every bar links to the rows behind it (``/review/verdicts?...``); every chart has its
figures as text for screen readers and for readers who would rather read.
"""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, Field

from ..ethics.calibrate import Rate, outcome, truth_of
from ..store.queue import ReviewStore
from ..store.verdicts import Filters, VerdictLog

VERDICT_ORDER = ("allow", "review", "rectify", "block")
AGE_BUCKETS = (("under 1 hour", 3600), ("1-24 hours", 86400), ("1-7 days", 7 * 86400), ("older", None))
BINS = 10


class Segment(BaseModel):
    label: str
    value: float
    x: float
    y: float
    width: float
    height: float
    css: str
    href: str = ""


class Figure(BaseModel):
    """One chart: its segments, its axis labels and its figures as a sentence."""

    title: str
    width: int
    height: int
    segments: list[Segment]
    labels: list[Segment] = []
    summary: str
    empty: bool = False
    legend: bool = Field(default=False, description="Whether its colours are the verdicts'.")


def link(f: Filters, **more: str) -> str:
    values = {k: v for k, v in (f.model_dump() | more).items() if v}
    return "/review/verdicts?" + urlencode(values)


def verdicts_by_day(rows: list[dict[str, Any]], f: Filters) -> Figure:
    """Stacked columns: per day, how many texts got each verdict."""
    days: dict[str, dict[str, int]] = {}
    for r in rows:
        days.setdefault(r["day"], {})[r["verdict"]] = days.get(r["day"], {}).get(r["verdict"], 0) + r["n"]
    names = sorted(days)[-30:]
    width, height, base = 640, 200, 170
    top = max((sum(days[d].values()) for d in names), default=0) or 1
    step = min(48.0, (width - 40) / max(1, len(names)))
    segs, labels = [], []
    for i, d in enumerate(names):
        y = float(base)
        for v in VERDICT_ORDER:
            n = days[d].get(v, 0)
            if not n:
                continue
            h = n / top * (base - 10)
            y -= h
            segs.append(
                Segment(
                    label=f"{d} {v}",
                    value=n,
                    x=30 + i * step,
                    y=y,
                    width=max(1.0, step - 2),
                    height=h,
                    css=v,
                    href=link(f, day=d, verdict=v),
                )
            )
        if i % max(1, len(names) // 6) == 0:
            labels.append(Segment(label=d[5:], value=0, x=30 + i * step, y=base + 16, width=0, height=0, css="label"))
    total = sum(sum(v.values()) for v in days.values())
    summary = f"{total} verdicts over {len(days)} days; " + ", ".join(
        f"{v} {sum(days[d].get(v, 0) for d in days)}" for v in VERDICT_ORDER
    )
    return Figure(
        title="Verdicts per day",
        width=width,
        height=height + 10,
        segments=segs,
        labels=labels,
        summary=summary,
        empty=not segs,
        legend=True,
    )


def horizontal(title: str, items: list[tuple[str, dict[str, int], str]], f: Filters) -> Figure:
    """One row per item, stacked by verdict: (label, verdict -> count, filter name)."""
    width, row, left = 640, 24, 170
    top = max((sum(c.values()) for _, c, _ in items), default=0) or 1
    segs, labels = [], []
    for i, (label, counts, key) in enumerate(items):
        x = float(left)
        labels.append(
            Segment(
                label=label or "(none)", value=sum(counts.values()), x=4, y=i * row + 16, width=0, height=0, css="label"
            )
        )
        for v in VERDICT_ORDER:
            n = counts.get(v, 0)
            if not n:
                continue
            w = n / top * (width - left - 60)
            segs.append(
                Segment(
                    label=f"{label} {v}",
                    value=n,
                    x=x,
                    y=i * row + 4,
                    width=max(1.0, w),
                    height=16,
                    css=v,
                    href=link(f, **{key: label, "verdict": v}),
                )
            )
            x += w
    summary = "; ".join(
        f"{label or '(none)'}: " + ", ".join(f"{v} {c[v]}" for v in VERDICT_ORDER if c.get(v)) for label, c, _ in items
    )
    return Figure(
        title=title,
        width=width,
        height=max(1, len(items)) * row + 8,
        segments=segs,
        labels=labels,
        summary=summary or "nothing recorded",
        empty=not segs,
        legend=True,
    )


def observe_share(rows: list[dict[str, Any]], f: Filters) -> Figure:
    """Per day, the share of observe-mode texts that enforce mode would have rewritten or blocked."""
    days: dict[str, list[int]] = {}
    for r in rows:
        tally = days.setdefault(r["day"], [0, 0])
        tally[0] += r["would_act"]
        tally[1] += r["observed"]
    names = [d for d in sorted(days) if days[d][1]][-30:]
    width, height, base = 640, 160, 140
    step = min(48.0, (width - 40) / max(1, len(names)))
    segs = []
    for i, d in enumerate(names):
        share = days[d][0] / days[d][1]
        h = share * (base - 10)
        segs.append(
            Segment(
                label=f"{d}: {share:.0%} of {days[d][1]}",
                value=round(share, 3),
                x=30 + i * step,
                y=base - h,
                width=max(1.0, step - 2),
                height=max(h, 0.5),
                css="block",
                href=link(f, day=d),
            )
        )
    acted = sum(days[d][0] for d in names)
    seen = sum(days[d][1] for d in names)
    summary = (
        f"observe mode would have rewritten or blocked {acted} of {seen} texts ({acted / seen:.1%})"
        if seen
        else "no observe-mode traffic recorded"
    )
    return Figure(
        title="Observe mode: would have acted",
        width=width,
        height=height,
        segments=segs,
        summary=summary,
        empty=not segs,
    )


def emotion_heat(samples: list[dict[str, float]], f: Filters) -> Figure:
    """Per spectrum, how the traffic's intensities spread over ten bins from -1 to +1."""
    spectra = sorted({k for s in samples for k in s})
    width, row, left = 640, 24, 170
    cell = (width - left - 20) / BINS
    segs, labels = [], []
    parts = []
    for i, name in enumerate(spectra):
        values = [s[name] for s in samples if name in s]
        counts = [0] * BINS
        for v in values:
            counts[min(BINS - 1, int((max(-1.0, min(1.0, v)) + 1) / 2 * BINS))] += 1
        top = max(counts) or 1
        labels.append(Segment(label=name, value=0, x=4, y=i * row + 16, width=0, height=0, css="label"))
        for b, n in enumerate(counts):
            lo = -1 + 2 * b / BINS
            segs.append(
                Segment(
                    label=f"{name} {lo:+.1f}..{lo + 2 / BINS:+.1f}: {n}",
                    value=round(n / top, 3),
                    x=left + b * cell,
                    y=i * row + 4,
                    width=cell - 1,
                    height=16,
                    css="neg" if lo < 0 else "pos",
                    href=link(f),
                )
            )
        mean = sum(values) / len(values) if values else 0.0
        parts.append(f"{name} mean {mean:+.2f}")
    return Figure(
        title=f"Emotion intensities of the newest {len(samples)} texts",
        width=width,
        height=max(1, len(spectra)) * row + 8,
        segments=segs,
        labels=labels,
        summary="; ".join(parts) or "no emotion readings recorded",
        empty=not segs,
    )


def review_rates(store: ReviewStore, f: Filters) -> dict[str, Any]:
    """False-positive and false-negative rates the reviewed cases revealed, per context, with intervals."""
    tally: dict[str, list[int]] = {}
    disputed = 0
    for c, decisions in store.decided(f.context or None):
        if f.guideline and f.guideline not in c.guidelines:
            continue
        t = truth_of(c, decisions)
        if t is None:
            continue
        what = outcome(c.verdict, t[0])
        if what == "disputed":
            disputed += 1
            continue
        k = tally.setdefault(c.context, [0, 0, 0, 0])  # fp, harmless, fn, harmful
        k[1 if t[0] == "harmless" else 3] += 1
        k[0] += what == "false positive"
        k[2] += what == "false negative"
    rows = [
        {"context": ctx, "fpr": Rate.of(k[0], k[1]), "fnr": Rate.of(k[2], k[3])} for ctx, k in sorted(tally.items())
    ]
    return {"rows": rows, "disputed": disputed}


def interval_figure(rates: dict[str, Any]) -> Figure:
    """Each context's false-positive and false-negative rate as a point with its 95% interval."""
    width, row, left = 640, 22, 210
    span = width - left - 30
    segs, labels = [], []
    i = 1  # the first row holds the axis
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        labels.append(
            Segment(label=f"{tick:.0%}", value=tick, x=left + tick * span - 8, y=14, width=0, height=0, css="label")
        )
    for r in rates["rows"]:
        for name, rate, css in (("false positives", r["fpr"], "review"), ("false negatives", r["fnr"], "block")):
            if not rate.n:
                continue
            y = i * row + 4
            labels.append(
                Segment(label=f"{r['context']} {name}", value=rate.value, x=4, y=y + 12, width=0, height=0, css="label")
            )
            segs.append(
                Segment(
                    label=f"{rate.value:.1%} ({rate.low:.1%}-{rate.high:.1%}, n={rate.n})",
                    value=rate.value,
                    x=left + rate.low * span,
                    y=y + 5,
                    width=max(1.0, (rate.high - rate.low) * span),
                    height=4,
                    css=css,
                    href=f"/review/reviewed?context={r['context']}",
                )
            )
            segs.append(
                Segment(
                    label="", value=rate.value, x=left + rate.value * span - 3, y=y + 2, width=6, height=10, css="point"
                )
            )
            i += 1
    summary = "; ".join(
        f"{r['context']}: false positives {r['fpr'].value:.1%} of {r['fpr'].n}, false negatives {r['fnr'].value:.1%} "
        f"of {r['fnr'].n}"
        for r in rates["rows"]
    )
    return Figure(
        title="What reviews revealed (95% intervals)",
        width=width,
        height=i * row + 8,
        segments=segs,
        labels=labels,
        summary=summary or "no reviewed cases yet",
        empty=not segs,
    )


def queue_age(store: ReviewStore, now: datetime.datetime | None = None) -> Figure:
    """How long the pending cases have waited."""
    now = now or datetime.datetime.now(datetime.UTC)
    counts = [0] * len(AGE_BUCKETS)
    oldest = 0.0
    for c in store.pending():
        try:
            created = datetime.datetime.fromisoformat(c.created.replace("Z", "+00:00"))
        except ValueError:
            continue
        age = (now - created).total_seconds()
        oldest = max(oldest, age)
        counts[next(i for i, (_, lim) in enumerate(AGE_BUCKETS) if lim is None or age < lim)] += 1
    items = [(name, {"review": n}, "") for (name, _), n in zip(AGE_BUCKETS, counts, strict=True)]
    fig = horizontal("Queue age", items, Filters())
    for s in fig.segments:
        s.href = "/review"
    total = sum(counts)
    fig.summary = f"{total} cases wait; the oldest for {oldest / 3600:.1f} hours; " + ", ".join(
        f"{name} {n}" for (name, _), n in zip(AGE_BUCKETS, counts, strict=True)
    )
    fig.empty = total == 0
    fig.legend = False
    return fig


def dashboard_data(log: VerdictLog, store: ReviewStore, f: Filters) -> dict[str, Any]:
    """Everything the dashboard page shows, for ``f``."""
    days = log.by_day(f)
    contexts = log.by_context_and_verdict(f)
    guidelines = log.counts("guideline", f)
    top = sorted(((g, n) for g, n in guidelines.items() if g), key=lambda x: -x[1])[:10]
    by_guideline = [(g, {"flagged": n}, "guideline") for g, n in top]
    shadow = log.shadow(f)
    rates = review_rates(store, f)
    options = {
        name: sorted(k for k in log.counts(name, Filters()) if k)
        for name in ("context", "guideline", "language", "rulebook")
    }
    return {
        "filters": f,
        "options": options,
        "total": sum(r["n"] for r in days),
        "figures": [
            verdicts_by_day(days, f),
            horizontal("Verdicts per context", [(c, v, "context") for c, v in sorted(contexts.items())], f),
            _guideline_figure(by_guideline, f),
            observe_share(days, f),
            emotion_heat(log.emotions(f), f),
            interval_figure(rates),
            queue_age(store),
        ],
        "disputed": rates["disputed"],
        "shadow": shadow,
        "verdicts": VERDICT_ORDER,
    }


def _guideline_figure(items: list[tuple[str, dict[str, int], str]], f: Filters) -> Figure:
    fig = horizontal("Guidelines violated (first named)", [(g, {"block": c["flagged"]}, k) for g, c, k in items], f)
    for s in fig.segments:
        s.href = link(f, guideline=s.label.rsplit(" ", 1)[0])
    fig.legend = False
    return fig


def dashboard_html(log: VerdictLog, store: ReviewStore, f: Filters, **page: Any) -> str:
    """The dashboard page as HTML (``page``: what the base template needs: request, csrf ...)."""
    from .web import templates

    values = {"request": None, "csrf": "", "signed_in": True} | page
    return templates.get_template("dashboard.html").render(**dashboard_data(log, store, f), **values)
