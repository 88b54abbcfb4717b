"""The review loop: reviewed cases (and labelled files) become a calibrated rulebook, and a candidate
rulebook is compared with the one in force on the same traffic before anyone switches.

- :func:`calibrate_rulebook`: the reviewed cases of the store, plus any labelled file judged now,
  fitted by :func:`.calibrate.calibrate`, written as the next rulebook version (stored, not
  activated);
- :func:`shadow_compare`: the same texts judged by the judge in force and by a candidate's, one
  :class:`~emoethics.store.verdicts.VerdictRecord` each, with what the candidate would have said;
- activation itself is :meth:`.Records.activate_rulebook` (explicit, recorded, undone by
  activating the previous one).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..store.queue import ReviewStore
from ..store.records import Records
from ..store.verdicts import SHADOW, VerdictRecord
from ..textio import decode
from .calibrate import ReviewedCase, calibrate, gate_scores, reviewed_cases
from .sshf import Rulebook, calibrated_rulebook

HARMFUL_LABELS = {"1", "true", "harmful", "review", "rectify", "block", "violating", "hate", "offensive"}
HARMLESS_LABELS = {"0", "false", "harmless", "allow", "compliant", "none", "normal"}


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a JSONL or CSV file (``-``: JSON lines on stdin), or of a text file, one text per line."""
    try:
        raw = decode(sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes(), str(path))
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None
    if path.suffix.lower() == ".csv":
        rows: list[dict[str, Any]] = list(csv.DictReader(io.StringIO(raw)))
    elif path.suffix.lower() == ".txt":
        rows = [{"text": line} for line in raw.splitlines() if line.strip()]
    else:
        rows = []
        for n, line in enumerate(raw.splitlines(), 1):
            if line.strip():
                try:
                    item = json.loads(line)
                except ValueError:
                    raise InputError(f"{path}:{n}: not a JSON object") from None
                if not isinstance(item, dict):
                    raise InputError(f"{path}:{n}: not a JSON object")
                rows.append(item)
    return rows


def read_texts(path: Path, default_context: str) -> list[tuple[str, str]]:
    """(text, context) from a file :func:`read_rows` reads."""
    out = []
    for n, r in enumerate(read_rows(path), 1):
        text = r.get("text")
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"{path}: row {n} has no text")
        out.append((text, str(r.get("context") or default_context)))
    return out


def read_labelled(path: Path, default_context: str) -> list[tuple[str, str, bool]]:
    """(text, context, harmful) from a JSONL or CSV file with ``text``, ``label`` and optionally
    ``context`` columns; a label is harmful (1, harmful, block, ...) or harmless (0, allow, ...)."""
    rows = read_rows(path)
    out = []
    for n, r in enumerate(rows, 1):
        text, label = r.get("text"), str(r.get("label", "")).strip().lower()
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"{path}: row {n} has no text")
        if label not in HARMFUL_LABELS | HARMLESS_LABELS:
            raise InputError(
                f"{path}: row {n}: label '{label}' is neither harmful (1, block ...) nor harmless (0, allow ...)"
            )
        out.append((text, str(r.get("context") or default_context), label in HARMFUL_LABELS))
    return out


def labelled_cases(judge: Any, items: list[tuple[str, str, bool]], source: str) -> list[ReviewedCase]:
    """Labelled texts judged now, as reviewed cases."""
    judged = judge.judge_in_contexts([(text, context) for text, context, _ in items])
    return [
        ReviewedCase(
            id=f"{source}:{n}",
            context=j.context,
            language=j.language.code if j.language is not None else "und",
            truth="harmful" if harmful else "harmless",
            verdict=j.verdict,
            scores=gate_scores(j.model_dump(mode="json"), judge),
            decisions=["block" if harmful else "allow"],
            reviewers=[source],
        )
        for n, ((_, _, harmful), j) in enumerate(zip(items, judged, strict=True), 1)
    ]


def calibrate_rulebook(
    judge: Any,
    store: ReviewStore,
    records: Records,
    max_fpr: float = 0.02,
    labelled: Path | None = None,
    base: Rulebook | None = None,
    cross_validate: bool = True,
) -> Rulebook:
    """The next rulebook version, its thresholds fitted to the store's reviewed cases (and
    ``labelled``) at ``max_fpr``; stored in ``records``, not activated. ``judge`` is the judge
    without the rulebook (its thresholds are the starting point); ``cross_validate``: see
    :func:`.calibrate.fit_checked`."""
    feedback = store.feedback()
    cases = reviewed_cases(store.cases(), feedback, judge)
    sources = {"review": len(cases)}
    if labelled is not None:
        more = labelled_cases(judge, read_labelled(labelled, judge.guidelines.contexts()[0]), labelled.name)
        cases += more
        sources[labelled.name] = len(more)
    cal = calibrate(cases, judge, max_fpr, sources=sources, cross_validate=cross_validate)
    used = sorted({f.id for f in feedback if f.case_id in {c.id for c in cases}})
    book = calibrated_rulebook(base, cal, judge.guidelines, used)
    records.save_rulebook(book)
    return book


def shadow_compare(
    active: Any, candidate: Any, texts: list[tuple[str, str]], source: str = SHADOW, candidate_id: str = ""
) -> list[VerdictRecord]:
    """Judge ``texts`` ((text, context) pairs) with the judge in force and a candidate's; one
    record each, carrying the candidate's verdict."""
    now, then = active.judge_in_contexts(texts), candidate.judge_in_contexts(texts)
    return [
        a.record(source, shadow_rulebook=candidate_id or b.rulebook_version, shadow_verdict=b.verdict)
        for a, b in zip(now, then, strict=True)
    ]
