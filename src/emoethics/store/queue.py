"""The human review queue and the feedback log, in the database (see ``store/db.py``).

Cases the judge and the adversary could not settle, verdicts of low confidence, and samples of
what SSHF learned wait here for a person (the web page, ``emoethics feedback`` or the API).
Every write is committed before the call returns, so an acknowledged case or feedback item
survives a crash. A case's state is derived from the feedback given on it; nothing is rewritten.
"""

from __future__ import annotations

import datetime
import json
import uuid
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, select

from ..datafiles import data_dir
from ..errors import InputError
from . import db
from .models import CaseRow, FeedbackRow

Decision = Literal["accept", "reject", "relabel", "edit-rule"]
DECISIONS: tuple[str, ...] = ("accept", "reject", "relabel", "edit-rule")


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Case(BaseModel):
    """A text waiting for a human decision, with what the machines said about it."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    created: str = Field(default_factory=_now)
    kind: Literal["unresolved-debate", "low-confidence", "sshf-sample", "proxy-review", "traffic-sample"]
    text: str
    context: str
    culture: str = "any"
    verdict: str
    confidence: float
    rationale: str
    guidelines: list[str] = Field(default_factory=list, description="Guideline ids involved.")
    rulebook_version: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict, description="Judgement and debate transcript.")


class Feedback(BaseModel):
    """A person's decision on a case or on a rulebook rule."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    created: str = Field(default_factory=_now)
    case_id: str | None = Field(default=None, max_length=32)
    rule_id: str | None = Field(default=None, max_length=128)
    decision: Decision
    label: str | None = Field(
        default=None,
        max_length=32,
        description="relabel: the right verdict (allow, review, rectify, block) or "
        "'violating'/'compliant' for a rulebook example.",
    )
    rule_text: str | None = Field(default=None, max_length=2000, description="edit-rule: the corrected rule.")
    reviewer: str = Field(default="anonymous", max_length=128)
    note: str = Field(default="", max_length=4000)


_CASE_FIELDS = tuple(Case.model_fields)
_FEEDBACK_FIELDS = tuple(Feedback.model_fields)


def _case(row: CaseRow) -> Case:
    return Case.model_validate({f: getattr(row, f) for f in _CASE_FIELDS})


def _feedback(row: FeedbackRow) -> Feedback:
    return Feedback.model_validate({f: getattr(row, f) for f in _FEEDBACK_FIELDS})


class ReviewStore:
    """The review queue and the feedback log of one database.

    ``ReviewStore()`` uses ``$EMOETHICS_DATABASE_URL`` or SQLite in the user data directory;
    ``ReviewStore(folder)`` SQLite in ``folder``; ``ReviewStore(url=...)`` any SQLAlchemy URL.
    """

    def __init__(self, root: Path | None = None, *, url: str | None = None) -> None:
        self.url = url or db.database_url(root)
        if url is None:
            self._import_jsonl(root or data_dir())

    def _import_jsonl(self, folder: Path) -> None:
        """Move a queue and feedback log kept as JSON lines by earlier versions into the database
        (once: the files are renamed ``*.imported``)."""
        files = [(folder / "review_queue.jsonl", Case, CaseRow), (folder / "feedback.jsonl", Feedback, FeedbackRow)]
        if not any(path.is_file() for path, _, _ in files):
            return
        with db.session(self.url) as s:
            for path, model, row in files:
                if not path.is_file():
                    continue
                for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                    try:
                        item = model.model_validate_json(line)  # type: ignore[attr-defined]
                    except ValueError:
                        continue  # a line cut off by a crash
                    orphan = isinstance(item, Feedback) and item.case_id and s.get(CaseRow, item.case_id) is None
                    if s.get(row, item.id) is None and not orphan:
                        s.add(row(**item.model_dump()))
                s.flush()
        for path, _, _ in files:
            if path.is_file():
                path.replace(path.with_suffix(".jsonl.imported"))

    @property
    def where(self) -> str:
        return db.describe(self.url)

    def enqueue(self, case: Case) -> Case:
        with db.session(self.url) as s:
            s.add(CaseRow(**case.model_dump()))
        return case

    def cases(self, kind: str | None = None) -> list[Case]:
        q = select(CaseRow).order_by(CaseRow.created, CaseRow.id)
        if kind:
            q = q.where(CaseRow.kind == kind)
        with db.session(self.url) as s:
            return [_case(r) for r in s.scalars(q)]

    def case(self, case_id: str) -> Case:
        with db.session(self.url) as s:
            row = s.get(CaseRow, case_id)
            if row is None:
                raise InputError(f"no case '{case_id}' in the review queue ({self.where})")
            return _case(row)

    def pending(self, limit: int | None = None) -> list[Case]:
        """Cases nobody has decided on yet, oldest first."""
        decided = select(FeedbackRow.case_id).where(FeedbackRow.case_id.is_not(None))
        q = select(CaseRow).where(CaseRow.id.not_in(decided)).order_by(CaseRow.created, CaseRow.id)
        if limit:
            q = q.limit(limit)
        with db.session(self.url) as s:
            return [_case(r) for r in s.scalars(q)]

    def counts(self) -> dict[str, int]:
        """How many cases there are, and how many wait for a decision."""
        with db.session(self.url) as s:
            total = s.scalar(select(func.count()).select_from(CaseRow)) or 0
            decided = s.scalar(select(func.count(func.distinct(FeedbackRow.case_id)))) or 0
        return {"cases": total, "pending": total - decided}

    def add_feedback(self, fb: Feedback) -> Feedback:
        """Check and record a decision; it is committed before this returns."""
        if fb.case_id is None and fb.rule_id is None:
            raise InputError("feedback names a case or a rule")
        if fb.decision == "relabel" and not fb.label:
            raise InputError("relabel needs the new label")
        if fb.decision == "edit-rule" and not (fb.rule_text and fb.rule_text.strip() and fb.rule_id):
            raise InputError("edit-rule needs the rule id and the corrected rule text")
        with db.session(self.url) as s:
            if fb.case_id is not None and s.get(CaseRow, fb.case_id) is None:
                raise InputError(f"no case '{fb.case_id}' in the review queue ({self.where})")
            s.add(FeedbackRow(**fb.model_dump()))
        return fb

    def decided(self, context: str | None = None) -> list[tuple[Case, list[Feedback]]]:
        """The cases someone decided on, each with its decisions in order, without the cases'
        ``detail`` (what the dashboard counts; cheap with many large judgements stored)."""
        light = [f for f in _CASE_FIELDS if f != "detail"]
        q = (
            select(*[getattr(CaseRow, f) for f in light])
            .where(CaseRow.id.in_(select(FeedbackRow.case_id).where(FeedbackRow.case_id.is_not(None))))
            .order_by(CaseRow.created, CaseRow.id)
        )
        if context:
            q = q.where(CaseRow.context == context)
        by_case: dict[str, list[Feedback]] = {}
        with db.session(self.url) as s:
            for f in s.scalars(
                select(FeedbackRow)
                .where(FeedbackRow.case_id.is_not(None))
                .order_by(FeedbackRow.created, FeedbackRow.id)
            ):
                by_case.setdefault(f.case_id or "", []).append(_feedback(f))
            cases = [Case.model_validate(dict(zip(light, row, strict=True))) for row in s.execute(q)]
        return [(c, by_case.get(c.id, [])) for c in cases]

    def feedback(self, case_id: str | None = None) -> list[Feedback]:
        q = select(FeedbackRow).order_by(FeedbackRow.created, FeedbackRow.id)
        if case_id:
            q = q.where(FeedbackRow.case_id == case_id)
        with db.session(self.url) as s:
            return [_feedback(r) for r in s.scalars(q)]


def dump(obj: Any) -> Any:
    """JSON-ready form of a pydantic object (for a case's ``detail``)."""
    return json.loads(obj.model_dump_json()) if isinstance(obj, BaseModel) else obj
