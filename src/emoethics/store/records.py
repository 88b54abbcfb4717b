"""What was run and with which rules: the run log, guideline files and rulebook versions.

Every analysis, rewrite, judgement (and the other service calls) can be recorded as a *run* with
its inputs, output, model ids and token usage, so a verdict can be traced to the exact guideline
file and rulebook version behind it.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy import desc, select

from ..errors import InputError
from . import db
from .models import CaseRow, GuidelineFileRow, RulebookActivationRow, RulebookRow, RunRow, VerdictRow, new_id
from .queue import Case
from .verdicts import VerdictRecord


class Run(BaseModel):
    """One recorded call."""

    id: str
    created: datetime.datetime
    kind: str
    source: str
    status: str
    inputs: dict[str, Any]
    output: Any = None
    error: str | None = None
    models: dict[str, Any] = {}
    usage: dict[str, Any] = {}
    seconds: float = 0.0


def jsonable(x: Any) -> Any:
    """``x`` as JSON can hold it (models dumped, mappings and sequences turned into dicts and lists)."""
    if isinstance(x, BaseModel):
        return x.model_dump(mode="json")
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [jsonable(v) for v in x]
    return x


class Records:
    """Runs, guideline files and rulebook versions of one database (``url``; default as in ``db``)."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or db.database_url()

    # runs
    def record_run(
        self,
        kind: str,
        inputs: dict[str, Any],
        output: Any = None,
        *,
        error: str | None = None,
        models: dict[str, Any] | None = None,
        usage: Any = None,
        seconds: float = 0.0,
        source: str = "library",
        run_id: str | None = None,
        cases: Sequence[Case] = (),
        verdicts: Sequence[VerdictRecord] = (),
    ) -> str:
        """Record a run; ``run_id`` chooses its id (one already shown to a client), else a new one.
        ``cases`` (review cases that name the run) and ``verdicts`` (one per judged text) are
        written in the same transaction, so a case never points to a run that is not there, even
        after a crash."""
        row = RunRow(
            id=run_id or new_id(),
            kind=kind,
            source=source,
            status="error" if error else "ok",
            inputs=jsonable(inputs),
            output=jsonable(output),
            error=error,
            models=jsonable(models or {}),
            usage=jsonable(usage) or {},
            seconds=round(seconds, 4),
        )
        with db.session(self.url) as s:
            s.add(row)
            s.flush()
            for case in cases:
                s.add(CaseRow(**case.model_dump()))
            for v in verdicts:
                s.add(VerdictRow(**v.model_dump(), run_id=row.id))
            return row.id

    def record_verdicts(self, verdicts: Sequence[VerdictRecord]) -> int:
        """Record judged texts that belong to no run (a replay, a batch), in one transaction."""
        with db.session(self.url) as s:
            s.add_all([VerdictRow(**v.model_dump()) for v in verdicts])
        return len(verdicts)

    def runs(self, kind: str | None = None, limit: int = 50) -> list[Run]:
        q = select(RunRow).order_by(desc(RunRow.created)).limit(limit)
        if kind:
            q = q.where(RunRow.kind == kind)
        with db.session(self.url) as s:
            return [Run.model_validate(r, from_attributes=True) for r in s.scalars(q)]

    # guideline files
    def save_guidelines(self, guidelines: Any) -> str:
        """Keep the content of a guideline set under its version id (once)."""
        content = guidelines.model_dump(mode="json")
        row = GuidelineFileRow(version=guidelines.version, name=guidelines.id, content=content)
        db.add_once(self.url, row, guidelines.version)
        return guidelines.version

    def guideline_versions(self) -> list[str]:
        with db.session(self.url) as s:
            return list(s.scalars(select(GuidelineFileRow.version).order_by(GuidelineFileRow.created)))

    # rulebooks
    def save_rulebook(self, book: Any) -> str:
        """Keep a rulebook version (``ethics.sshf.Rulebook``); the same version is stored once."""
        row = RulebookRow(
            id=book.id,
            version=book.version,
            parent=book.parent,
            guidelines_version=book.guidelines_version,
            feedback_used=list(book.feedback_used),
            content=book.model_dump(mode="json"),
        )
        db.add_once(self.url, row, book.id)
        return book.id

    def rulebook_content(self, rulebook_id: str = "latest") -> dict[str, Any]:
        """A stored rulebook's JSON by id, or the newest with ``"latest"``."""
        with db.session(self.url) as s:
            if rulebook_id == "latest":
                row = s.scalars(
                    select(RulebookRow).order_by(desc(RulebookRow.version), desc(RulebookRow.created))
                ).first()
            else:
                row = s.get(RulebookRow, rulebook_id)
            if row is None:
                raise InputError(f"no rulebook '{rulebook_id}' in {db.describe(self.url)}")
            return row.content

    def rulebooks(self) -> list[dict[str, Any]]:
        """Id, version, parent and the feedback each stored version used, oldest first."""
        with db.session(self.url) as s:
            return [
                {
                    "id": r.id,
                    "version": r.version,
                    "parent": r.parent,
                    "created": r.created.isoformat(),
                    "guidelines_version": r.guidelines_version,
                    "feedback_used": r.feedback_used,
                }
                for r in s.scalars(select(RulebookRow).order_by(RulebookRow.version, RulebookRow.created))
            ]

    # which rulebook is in force
    def activate_rulebook(self, rulebook_id: str | None, actor: str = "anonymous", note: str = "") -> dict[str, Any]:
        """Put a stored rulebook in force (``None``: none, the judge's own thresholds), recording who
        did it and which one it replaced; undone by activating the previous one."""
        with db.session(self.url) as s:
            if rulebook_id is not None and s.get(RulebookRow, rulebook_id) is None:
                raise InputError(f"no rulebook '{rulebook_id}' in {db.describe(self.url)}: save it first")
            last = s.scalars(
                select(RulebookActivationRow).order_by(
                    desc(RulebookActivationRow.created), desc(RulebookActivationRow.id)
                )
            ).first()
            row = RulebookActivationRow(
                rulebook_id=rulebook_id, previous=last.rulebook_id if last else None, actor=actor, note=note
            )
            s.add(row)
            s.flush()
            return {"id": row.id, "rulebook": rulebook_id, "previous": row.previous, "actor": actor}

    def active_rulebook(self) -> str | None:
        """The id of the rulebook in force, or ``None``."""
        with db.session(self.url) as s:
            last = s.scalars(
                select(RulebookActivationRow).order_by(
                    desc(RulebookActivationRow.created), desc(RulebookActivationRow.id)
                )
            ).first()
            return last.rulebook_id if last else None

    def activations(self) -> list[dict[str, Any]]:
        """Every activation, newest first."""
        with db.session(self.url) as s:
            rows = s.scalars(
                select(RulebookActivationRow).order_by(
                    desc(RulebookActivationRow.created), desc(RulebookActivationRow.id)
                )
            )
            return [
                {
                    "id": r.id,
                    "created": r.created.isoformat(),
                    "rulebook": r.rulebook_id,
                    "previous": r.previous,
                    "actor": r.actor,
                    "note": r.note,
                }
                for r in rows
            ]
