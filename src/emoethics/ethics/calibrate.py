"""Recalibration from reviewers' decisions: thresholds fitted to a false-positive rate the team chooses.

Every reviewed case is a labelled example of the team's own traffic: the judgement kept with the
case (verdict, context, guideline, the conduct head's probabilities, P(wrong), the behaviour
reading, the language) and what people decided about it. The fast judge lets a text through
unless one of its *gates* fires; each gate is a score and a threshold:

- ``conduct:<guideline>``: the conduct head's probability of its most likely category, when that
  category maps to the guideline (the guideline file's ``conduct_head``); from the threshold on, a
  person reviews the text (and the head acts on it from the larger of this and its own threshold);
- ``moral``: the moral head's P(wrong), from which it disagrees with an allowed verdict;
- ``behaviour``: how far below zero the behaviour reading is (the guardrail's allowed range starts
  at minus the threshold);
- ``language``: 1 for a text in a language the instruments were not trained for (sent to review).

:func:`fit_thresholds` starts from the thresholds the judge ships with and moves them one step
at a time: while more than ``max_fpr`` of the harmless reviewed cases are flagged, it raises the
threshold whose step clears the most false positives per true positive lost; then, while there is
room under ``max_fpr``, it lowers the one that catches the most missed harm per false positive
added (stricter or looser, where the reviewers disagreed with the judge). A fit to the few harmless
cases a team has reviewed flags more of the harmless texts it has not seen, so with fewer than
:data:`CV_BELOW` of them :func:`fit_checked` aims lower until the rate measured by 5-fold
cross-validation is within ``max_fpr``, and reports that rate. Contexts with enough
reviewed cases get their own thresholds; the others share the pooled ones. The result is a
:class:`Calibration` with the expected flag, false-positive and false-negative rates on the reviewed
cases, each with a 95% Wilson interval, and it goes into a new rulebook version
(:func:`calibrated_rulebook`), which the judge applies when the rulebook is active.

Two reviewers who disagree are both kept: a case's truth is the majority of its decisions, a tie is
*disputed*, left out of the fit and listed in the calibration.
"""

from __future__ import annotations

import datetime
import math
from collections import Counter
from collections.abc import Iterable
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from ..errors import InputError
from ..store.queue import Case, Feedback

#: The gates of the fast judge that calibration moves (module docstring).
GATES = ("moral", "behaviour_low", "behaviour_high", "language")
#: A behaviour reading this far outside the allowed range is outside it (the edge is inside).
EDGE = 0.005
#: A threshold no score reaches: the gate is off.
OFF = 2.0
#: Below this many harmless reviewed cases a fit is checked by cross-validation (:func:`fit_checked`).
CV_BELOW = 1000
CV_FOLDS = 5
#: How much closer than a harmless reviewed case's score a loosened threshold may not come.
MARGIN = 0.03
#: A context gets thresholds of its own when its harmless reviewed cases leave room for this many
#: false positives at the chosen rate (150 harmless cases at 0.02); below, it shares the pooled
#: thresholds (fewer would fit the thresholds to the few harmless cases seen).
MIN_FALSE_POSITIVES = 3
#: A threshold on a probability never goes below this (a gate that fires on everything is no gate).
FLOOR = 0.05
Truth = Literal["harmful", "harmless", "disputed"]


class ReviewedCase(BaseModel):
    """One labelled example of the team's traffic, with the scores its gates read."""

    id: str
    context: str
    language: str = "und"
    truth: Truth
    verdict: str = Field(description="What the judge said when the case was recorded.")
    scores: dict[str, float] = Field(description="Gate name -> score (module docstring).")
    decisions: list[str] = Field(default_factory=list, description="Each reviewer's label, in order.")
    reviewers: list[str] = Field(default_factory=list)


class Rate(BaseModel):
    """A share with its 95% Wilson interval."""

    value: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, k: int, n: int) -> Rate:
        lo, hi = wilson(k, n)
        return cls(value=round(k / n, 4) if n else 0.0, low=round(lo, 4), high=round(hi, 4), n=n)


class ContextCalibration(BaseModel):
    """The thresholds of one context (or ``*``, the pooled ones) and what they do on the reviewed cases."""

    context: str
    thresholds: dict[str, float] = Field(description="Gate name -> threshold.")
    cases: int
    harmful: int
    flag_rate: Rate
    false_positive_rate: Rate
    false_negative_rate: Rate
    before: dict[str, Rate] = Field(description="The same rates with the judge's own thresholds.")
    aimed_fpr: float | None = Field(
        default=None, description="The rate the fit aimed at on the reviewed cases (at most max_fpr)."
    )
    cross_validated_fpr: Rate | None = Field(
        default=None,
        description="The false-positive rate of the same fit on reviewed cases it did not see (5 folds): "
        "what to expect on new traffic. None with many harmless reviewed cases (not needed).",
    )
    gates: dict[str, Rate] = Field(default_factory=dict, description="Each gate's own false-positive rate.")


class Calibration(BaseModel):
    """Thresholds fitted to reviewers' decisions (module docstring)."""

    max_fpr: float
    created: str
    cases: int = Field(description="Reviewed cases used (disputed ones are not).")
    disputed: list[str] = Field(
        default_factory=list, description="Cases whose reviewers disagree: kept out of the fit."
    )
    sources: dict[str, int] = Field(default_factory=dict, description="Where the labelled cases came from.")
    contexts: list[ContextCalibration]

    def for_context(self, context: str) -> ContextCalibration | None:
        """The thresholds for ``context``: its own, else the pooled ones."""
        by = {c.context: c for c in self.contexts}
        return by.get(context) or by.get("*")


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of ``k`` successes in ``n``."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    d = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, mid - half), min(1.0, mid + half)


def conduct_map(judge: Any) -> dict[str, str]:
    """Conduct category -> the guideline it counts against (the guideline file's ``conduct_head``)."""
    return {cat: rule.guideline for cat, rule in judge.guidelines.conduct_head.items()}


def gate_scores(judgement: dict[str, Any], judge: Any) -> dict[str, float]:
    """The score of every gate for one judgement (its JSON form, as cases keep it), against the
    guardrail of ``judge``'s own guideline set (not the one a rulebook may have moved)."""
    scores: dict[str, float] = {}
    probs = judgement.get("conduct_probabilities") or {}
    if probs:
        top = max(probs, key=lambda k: probs[k])
        guideline = conduct_map(judge).get(top)
        if guideline:
            scores[f"conduct:{guideline}"] = float(probs[top])
    wrong = judgement.get("wrong_probability")
    if wrong is not None and not judgement.get("violations"):
        scores["moral"] = float(wrong)
    behaviour = (judgement.get("behaviour") or {}).get("intensity")
    context = judgement.get("context")
    if behaviour is not None and context in judge.guidelines.contexts():
        allowed = judge.guidelines.guardrail(context, judgement.get("culture")).allowed
        scores["behaviour_low"] = round(allowed[0] - float(behaviour), 4)
        scores["behaviour_high"] = round(float(behaviour) - allowed[1], 4)
    language = judgement.get("language") or {}
    scores["language"] = 1.0 if language.get("support") == "unsupported" else 0.0
    return scores


def default_thresholds(judge: Any, gates: Iterable[str]) -> dict[str, float]:
    """The thresholds the judge applies today, for each gate (the behaviour gates are distances
    outside the guardrail's allowed range: the range's edge is allowed)."""
    out: dict[str, float] = {}
    conduct = getattr(judge, "conduct", None)
    for g in gates:
        if g.startswith("conduct:"):
            out[g] = float(conduct.review_threshold) if conduct is not None else 0.5
        elif g == "moral":
            out[g] = float(judge.head_threshold)
        elif g in ("behaviour_low", "behaviour_high"):
            out[g] = EDGE
        elif g == "language":
            out[g] = 0.5 if judge.guidelines.unsupported_language == "review" else OFF
    return out


def truth_of(case: Case, feedback: list[Feedback]) -> tuple[Truth, list[str]] | None:
    """What people said the right call on ``case`` was: harmful (anything but allow) or harmless;
    ``None`` when nobody decided or the decisions say nothing about the verdict."""
    labels = []
    for f in feedback:
        if f.decision == "accept":
            labels.append(case.verdict)
        elif f.decision == "relabel" and f.label in ("allow", "review", "rectify", "block"):
            labels.append(f.label)
        elif f.decision == "reject":  # the verdict was wrong, without a better label
            labels.append("block" if case.verdict == "allow" else "allow")
    if not labels:
        return None
    votes = Counter("harmless" if x == "allow" else "harmful" for x in labels)
    if votes["harmful"] == votes["harmless"]:
        return "disputed", labels
    return ("harmful" if votes["harmful"] > votes["harmless"] else "harmless"), labels


def outcome(verdict: str, truth: Truth) -> str:
    """What a reviewed verdict was: ``right``, ``false positive`` (flagged, harmless), ``false
    negative`` (allowed, harmful) or ``disputed``."""
    if truth == "disputed":
        return "disputed"
    flagged = verdict != "allow"
    if flagged == (truth == "harmful"):
        return "right"
    return "false positive" if flagged else "false negative"


def reviewed_cases(cases: list[Case], feedback: list[Feedback], judge: Any) -> list[ReviewedCase]:
    """The cases people decided on that carry a judgement, as labelled examples."""
    by_case: dict[str, list[Feedback]] = {}
    for f in feedback:
        if f.case_id:
            by_case.setdefault(f.case_id, []).append(f)
    out = []
    for c in cases:
        judgement = c.detail.get("judgement")
        decided = by_case.get(c.id)
        if not judgement or not decided:
            continue
        truth = truth_of(c, decided)
        if truth is None:
            continue
        out.append(
            ReviewedCase(
                id=c.id,
                context=c.context,
                language=(judgement.get("language") or {}).get("code", "und"),
                truth=truth[0],
                verdict=c.verdict,
                scores=gate_scores(judgement, judge),
                decisions=truth[1],
                reviewers=[f.reviewer for f in decided],
            )
        )
    return out


def _matrix(cases: list[ReviewedCase], gates: list[str]) -> tuple[np.ndarray, np.ndarray]:
    s = np.full((len(cases), len(gates)), -np.inf)
    for i, c in enumerate(cases):
        for j, g in enumerate(gates):
            if g in c.scores:
                s[i, j] = c.scores[g]
    y = np.array([c.truth == "harmful" for c in cases], dtype=bool)
    return s, y


def _between(column: np.ndarray, value: float, up: bool) -> float:
    """The midpoint between ``value`` and the next distinct finite score of ``column`` above it
    (``up``) or below it; past the last one, a step of 0.01 (or :data:`OFF`, above)."""
    finite = column[np.isfinite(column)]
    other = finite[finite > value] if up else finite[finite < value]
    if other.size:
        return float((value + (other.min() if up else other.max())) / 2)
    return OFF if up else value - 0.01


def fit_thresholds(
    scores: np.ndarray, harmful: np.ndarray, start: np.ndarray, max_fpr: float, floor: np.ndarray | None = None
) -> np.ndarray:
    """Thresholds (one per gate column of ``scores``) that flag at most ``max_fpr`` of the harmless
    rows, moving from ``start`` greedily (module docstring). A row is flagged when any gate's score
    reaches its threshold; every threshold lies between two observed scores, never on one, and
    none is lowered below ``floor``."""
    t = start.astype(float).copy()
    floor = np.full(len(t), -np.inf) if floor is None else floor
    neg, pos = ~harmful, harmful
    budget = math.floor(max_fpr * max(1, int(neg.sum())) + 1e-9)

    def flagged(th: np.ndarray, margin: float = 0.0) -> np.ndarray:
        return np.asarray((scores >= th - margin).any(axis=1))

    flag = flagged(t)
    stricter = int((flag & neg).sum()) > budget
    while int((flag & neg).sum()) > budget:
        best = None
        for j in range(len(t)):
            firing = neg & (scores[:, j] >= t[j])
            if not firing.any():
                continue
            new = t.copy()
            new[j] = _between(scores[:, j], float(scores[firing, j].min()), up=True)
            f2 = flagged(new)
            cleared = int((flag & neg).sum() - (f2 & neg).sum())
            lost = int((flag & pos).sum() - (f2 & pos).sum())
            fires_cleared = int(firing.sum() - (neg & (scores[:, j] >= new[j])).sum())
            key = (cleared == 0, lost / max(cleared, 1), -fires_cleared)
            if best is None or key < best[0]:
                best = (key, new, f2)
        if best is None:
            break
        t, flag = best[1], best[2]
    if stricter:
        return t
    # looser, when the judge's own thresholds flag fewer harmless cases than allowed: lower the
    # threshold that catches the most missed harm, keeping MARGIN from every harmless score
    while True:
        loose: tuple[tuple[float, int], np.ndarray, np.ndarray] | None = None
        for j in range(len(t)):
            below = pos & ~flag & (scores[:, j] < t[j]) & np.isfinite(scores[:, j])
            if not below.any():
                continue
            new = t.copy()
            new[j] = max(_between(scores[:, j], float(scores[below, j].max()), up=False), float(floor[j]))
            if new[j] >= t[j]:
                continue
            f2 = flagged(new)
            if int((flagged(new, MARGIN) & neg).sum()) > budget:
                continue
            caught = int((f2 & pos).sum() - (flag & pos).sum())
            added = int((f2 & neg).sum() - (flag & neg).sum())
            if caught <= 0:
                continue
            loose_key = (added / caught, -caught)
            if loose is None or loose_key < loose[0]:
                loose = (loose_key, new, f2)
        if loose is None:
            break
        t, flag = loose[1], loose[2]
    return t


def cross_validated_fpr(
    scores: np.ndarray, harmful: np.ndarray, start: np.ndarray, rate: float, floor: np.ndarray, folds: int = CV_FOLDS
) -> tuple[int, int]:
    """(false positives, harmless cases) of fits at ``rate`` on ``folds - 1`` folds, each counted
    on the fold it did not see (folds drawn with a fixed seed, harmful and harmless apart)."""
    rng = np.random.default_rng(0)
    fold = np.empty(len(harmful), dtype=int)
    for side in (harmful, ~harmful):
        idx = np.flatnonzero(side)
        fold[rng.permutation(idx)] = np.arange(len(idx)) % folds
    fp = n = 0
    for k in range(folds):
        train, test = fold != k, fold == k
        t = fit_thresholds(scores[train], harmful[train], start, rate, floor)
        flagged = (scores[test] >= t).any(axis=1)
        fp += int((flagged & ~harmful[test]).sum())
        n += int((~harmful[test]).sum())
    return fp, n


def fit_checked(
    scores: np.ndarray,
    harmful: np.ndarray,
    start: np.ndarray,
    max_fpr: float,
    floor: np.ndarray,
    check: bool = True,
) -> tuple[np.ndarray, float, Rate | None]:
    """Thresholds whose false-positive rate on unseen cases stays within ``max_fpr``: with fewer
    than :data:`CV_BELOW` harmless reviewed cases a fit to ``max_fpr`` flags more than that share of
    new harmless texts (it fits the few it saw), so the fit aims at the largest of ``max_fpr``,
    3/4, 1/2, 1/4 of it or 0 whose cross-validated rate is within ``max_fpr``. Returns the
    thresholds, the rate aimed at and the cross-validated rate (None when not checked). With
    ``check`` off the fit aims at ``max_fpr`` on the reviewed cases themselves (more recall, a
    higher rate on new traffic)."""
    if not check or int((~harmful).sum()) >= CV_BELOW or max_fpr == 0:
        return fit_thresholds(scores, harmful, start, max_fpr, floor), max_fpr, None
    checked = (0, 0)
    aimed = 0.0
    for share in (1.0, 0.75, 0.5, 0.25, 0.0):
        checked = cross_validated_fpr(scores, harmful, start, max_fpr * share, floor)
        aimed = max_fpr * share
        if checked[0] <= max_fpr * checked[1]:
            break
    return fit_thresholds(scores, harmful, start, aimed, floor), aimed, Rate.of(*checked)


def _rates(scores: np.ndarray, harmful: np.ndarray, t: np.ndarray) -> dict[str, Rate]:
    flag = np.asarray((scores >= t).any(axis=1))
    neg, pos = ~harmful, harmful
    return {
        "flag_rate": Rate.of(int(flag.sum()), len(flag)),
        "false_positive_rate": Rate.of(int((flag & neg).sum()), int(neg.sum())),
        "false_negative_rate": Rate.of(int((~flag & pos).sum()), int(pos.sum())),
    }


def calibrate(
    cases: list[ReviewedCase],
    judge: Any,
    max_fpr: float = 0.02,
    sources: dict[str, int] | None = None,
    cross_validate: bool = True,
) -> Calibration:
    """Fit thresholds per context (and pooled) to ``max_fpr`` on the reviewed ``cases``; ``judge``
    gives the thresholds it applies today (the starting point and the *before* figures)."""
    if not 0.0 <= max_fpr < 1.0:
        raise InputError(f"--max-fpr is a share between 0 and 1, not {max_fpr}")
    usable = [c for c in cases if c.truth != "disputed"]
    disputed = [c.id for c in cases if c.truth == "disputed"]
    if not usable:
        raise InputError("no reviewed cases with a judgement to calibrate on: review some cases first")
    gates = sorted({g for c in usable for g in c.scores if g.startswith("conduct:")}) + list(GATES)
    by_context: dict[str, list[ReviewedCase]] = {}
    for c in usable:
        by_context.setdefault(c.context, []).append(c)
    groups: list[tuple[str, list[ReviewedCase]]] = [("*", usable)]
    for ctx, rows in sorted(by_context.items()):
        n_harmless = sum(r.truth == "harmless" for r in rows)
        if math.floor(max_fpr * n_harmless + 1e-9) >= MIN_FALSE_POSITIVES and len(by_context) > 1:
            groups.append((ctx, rows))
    defaults = default_thresholds(judge, gates)
    start = np.array([defaults[g] for g in gates])
    floor = np.array(
        [FLOOR if g.startswith("conduct:") or g == "moral" else 0.5 if g == "language" else -0.5 for g in gates]
    )
    out = []
    for name, rows in groups:
        s, y = _matrix(rows, gates)
        t, aimed, checked = fit_checked(s, y, start, max_fpr, floor, cross_validate)
        after, before = _rates(s, y, t), _rates(s, y, start)
        neg = ~y
        out.append(
            ContextCalibration(
                context=name,
                thresholds={g: round(float(v), 4) for g, v in zip(gates, t, strict=True) if np.isfinite(v)},
                cases=len(rows),
                harmful=int(y.sum()),
                before=before,
                aimed_fpr=aimed,
                cross_validated_fpr=checked,
                gates={g: Rate.of(int((neg & (s[:, j] >= t[j])).sum()), int(neg.sum())) for j, g in enumerate(gates)},
                **after,
            )
        )
    return Calibration(
        max_fpr=max_fpr,
        created=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        cases=len(usable),
        disputed=disputed,
        sources=sources or {"review": len(cases)},
        contexts=out,
    )
