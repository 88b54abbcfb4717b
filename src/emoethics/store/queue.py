"""A file-backed human review queue and feedback log (JSON lines in the user data directory).

Cases the judge and the adversary could not settle, and verdicts of low confidence, wait here
for a person (``emoethics feedback``). Every write is appended, flushed and fsynced before the
call returns, so an acknowledged case or feedback item survives a crash; a line cut off by a
crash is skipped on reading. Records are never rewritten: a case's state is derived from the
feedback given on it.
"""

from __future__ import annotations

import datetime
import json
import os
import threading
import uuid
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..datafiles import data_dir
from ..errors import InputError

Decision = Literal["accept", "reject", "relabel", "edit-rule"]
_lock = threading.Lock()


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Case(BaseModel):
    """A text waiting for a human decision, with what the machines said about it."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    created: str = Field(default_factory=_now)
    kind: Literal["unresolved-debate", "low-confidence", "sshf-sample"]
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
    case_id: str | None = None
    rule_id: str | None = None
    decision: Decision
    label: str | None = Field(default=None, description="relabel: the right verdict (allow, review, "
                              "rectify, block) or 'violating'/'compliant' for a rulebook example.")
    rule_text: str | None = Field(default=None, description="edit-rule: the corrected rule.")
    reviewer: str = "anonymous"
    note: str = ""


def _append(path: Path, record: BaseModel) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    line = record.model_dump_json() + "\n"
    with _lock, path.open("a", encoding="utf-8") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def _read(path: Path, cls: type[BaseModel]) -> list[Any]:
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            out.append(cls.model_validate_json(line))
        except ValueError:
            continue  # a line cut off by a crash
    return out


class ReviewStore:
    """The queue (``review_queue.jsonl``) and the feedback log (``feedback.jsonl``) in ``root``."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or data_dir()
        self.queue_path = self.root / "review_queue.jsonl"
        self.feedback_path = self.root / "feedback.jsonl"

    def enqueue(self, case: Case) -> Case:
        _append(self.queue_path, case)
        return case

    def cases(self) -> list[Case]:
        return _read(self.queue_path, Case)

    def case(self, case_id: str) -> Case:
        for c in self.cases():
            if c.id == case_id:
                return c
        raise InputError(f"no case '{case_id}' in the review queue ({self.queue_path})")

    def pending(self) -> list[Case]:
        done = {f.case_id for f in self.feedback()}
        return [c for c in self.cases() if c.id not in done]

    def add_feedback(self, fb: Feedback) -> Feedback:
        if fb.case_id is None and fb.rule_id is None:
            raise InputError("feedback names a case or a rule")
        if fb.case_id is not None:
            self.case(fb.case_id)
        if fb.decision == "relabel" and not fb.label:
            raise InputError("relabel needs the new label")
        if fb.decision == "edit-rule" and not (fb.rule_text and fb.rule_id):
            raise InputError("edit-rule needs the rule id and the corrected rule text")
        _append(self.feedback_path, fb)
        return fb

    def feedback(self) -> list[Feedback]:
        return _read(self.feedback_path, Feedback)


def dump(obj: Any) -> Any:
    """JSON-ready form of a pydantic object (for a case's ``detail``)."""
    return json.loads(obj.model_dump_json()) if isinstance(obj, BaseModel) else obj
