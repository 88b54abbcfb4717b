"""The verdict log: one row per judged text, and the counts the review dashboard draws.

Every judged text the proxy, the service or a replay decides on leaves a :class:`VerdictRecord`:
its context, language, verdict (and what the judge said before any policy), the action taken,
observe or enforce mode, the first guideline violated, the rulebook in force, the review case it
opened, its emotion intensities, and, under a shadow rulebook, what that one would have decided.
:class:`VerdictLog` answers the dashboard's questions with grouped SQL over indexed columns, so a
page stays fast with hundreds of thousands of rows.
"""

from __future__ import annotations

import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import and_, case, desc, func, select

from . import db
from .models import VerdictRow

#: The verdicts that change what a client sees (what observe mode "would block").
ACTING = ("rectify", "block")
#: The source of the rows a shadow comparison of stored texts writes.
SHADOW = "shadow"
#: How many of the newest rows the emotion distribution is drawn from.
EMOTION_SAMPLE = 2000


class VerdictRecord(BaseModel):
    """What the verdict log keeps of one judged text."""

    created: datetime.datetime = Field(default_factory=lambda: datetime.datetime.now(datetime.UTC))
    source: str = "library"
    context: str
    language: str = "und"
    verdict: str
    judged_verdict: str
    action: str = ""
    mode: str = "enforce"
    guideline: str | None = None
    rulebook: str | None = None
    case_id: str | None = None
    emotions: dict[str, float] = Field(default_factory=dict)
    shadow_rulebook: str | None = None
    shadow_verdict: str | None = None


class Filters(BaseModel):
    """What the dashboard is narrowed to (empty: everything)."""

    context: str = ""
    guideline: str = ""
    language: str = ""
    rulebook: str = ""
    verdict: str = ""
    day: str = ""

    def apply(self, q: Any, traffic: bool = True) -> Any:
        """``q`` narrowed to these filters; ``traffic``: without the rows a shadow comparison wrote
        (source ``shadow``: texts judged again, not traffic)."""
        conds = [VerdictRow.source != SHADOW] if traffic else []
        for name in ("context", "guideline", "language", "rulebook", "verdict"):
            value = getattr(self, name)
            if value:
                conds.append(getattr(VerdictRow, name) == value)
        if self.day:
            try:
                start = datetime.datetime.fromisoformat(self.day).replace(tzinfo=datetime.UTC)
            except ValueError:
                start = None
            if start is not None:
                conds.append(and_(VerdictRow.created >= start, VerdictRow.created < start + datetime.timedelta(days=1)))
        return q.where(*conds) if conds else q


class VerdictLog:
    """The verdict log of one database (``url``; default as in ``db``)."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or db.database_url()

    def by_day(self, f: Filters) -> list[dict[str, Any]]:
        """Per day and verdict, how many texts; with the observe-mode rows that would have acted."""
        day = func.date(VerdictRow.created).label("day")
        acting = func.sum(case((and_(VerdictRow.mode == "observe", VerdictRow.verdict.in_(ACTING)), 1), else_=0))
        observed = func.sum(case((VerdictRow.mode == "observe", 1), else_=0))
        q = f.apply(
            select(day, VerdictRow.verdict, func.count(), acting, observed).group_by(day, VerdictRow.verdict)
        ).order_by(day)
        with db.session(self.url) as s:
            return [
                {"day": str(d), "verdict": v, "n": int(n), "would_act": int(a or 0), "observed": int(o or 0)}
                for d, v, n, a, o in s.execute(q)
            ]

    def counts(self, column: str, f: Filters) -> dict[str, int]:
        """How many texts per value of ``column`` (context, guideline, language, rulebook, verdict)."""
        col = getattr(VerdictRow, column)
        q = f.apply(select(col, func.count()).group_by(col))
        with db.session(self.url) as s:
            return {str(k) if k is not None else "": int(n) for k, n in s.execute(q)}

    def by_context_and_verdict(self, f: Filters) -> dict[str, dict[str, int]]:
        """Context -> verdict -> count."""
        q = f.apply(
            select(VerdictRow.context, VerdictRow.verdict, func.count()).group_by(
                VerdictRow.context, VerdictRow.verdict
            )
        )
        out: dict[str, dict[str, int]] = {}
        with db.session(self.url) as s:
            for c, v, n in s.execute(q):
                out.setdefault(c, {})[v] = int(n)
        return out

    def shadow(self, f: Filters) -> dict[str, Any]:
        """Where the shadow rulebook would have decided otherwise: verdict -> shadow verdict -> count."""
        q = f.apply(
            select(VerdictRow.shadow_rulebook, VerdictRow.verdict, VerdictRow.shadow_verdict, func.count())
            .where(VerdictRow.shadow_verdict.is_not(None))
            .group_by(VerdictRow.shadow_rulebook, VerdictRow.verdict, VerdictRow.shadow_verdict),
            traffic=False,
        )
        matrix: dict[str, dict[str, int]] = {}
        books: set[str] = set()
        total = changed = 0
        with db.session(self.url) as s:
            for book, v, sv, n in s.execute(q):
                books.add(book or "")
                matrix.setdefault(v, {})[sv] = matrix.get(v, {}).get(sv, 0) + int(n)
                total += int(n)
                changed += int(n) if v != sv else 0
        return {"rulebooks": sorted(books), "matrix": matrix, "total": total, "changed": changed}

    def emotions(self, f: Filters, limit: int = EMOTION_SAMPLE) -> list[dict[str, float]]:
        """The emotion intensities of the newest ``limit`` matching texts."""
        q = f.apply(select(VerdictRow.emotions)).order_by(desc(VerdictRow.created)).limit(limit)
        with db.session(self.url) as s:
            return [dict(e or {}) for e in s.scalars(q)]

    def rows(self, f: Filters, limit: int = 200) -> list[dict[str, Any]]:
        """The newest matching rows (the list behind a chart)."""
        q = f.apply(select(VerdictRow), traffic=False).order_by(desc(VerdictRow.created)).limit(limit)
        with db.session(self.url) as s:
            return [
                {c: getattr(r, c) for c in VerdictRecord.model_fields} | {"id": r.id, "run_id": r.run_id}
                for r in s.scalars(q)
            ]

    def total(self) -> int:
        with db.session(self.url) as s:
            return int(s.scalar(select(func.count()).select_from(VerdictRow)) or 0)
