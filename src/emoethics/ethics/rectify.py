"""Rectification (docs/specification.md section 4): rewrite a violating text into the allowed range.

The judge says what is wrong: the behaviour level is outside the context's allowed range, or
guidelines are violated. The target behaviour is the allowed level nearest to the text's own.
The first attempt corrects the content: the generator is told the violations and the behaviour
to reach. If the judge still does not allow the result, the next attempts run the rewriting loop
from it: the target level's learned emotion signature gives the emotion target (the spectrum on
which the text is furthest from it), the request again names the behaviour and the violations,
and after each judged attempt the emotion target moves one level toward neutral. Up to
``attempts`` attempts; the best (mildest verdict, then most similar to the source) is returned
with the before and after judgements. An attempt that returns the source unchanged is no success.

Every request, question, date, number and name of the source (:func:`.keep.message_points`) must
survive: the requests name them, an attempt that lost some is retried once with the lost points
named, and the best attempt is the one that keeps most of them (after the mildest verdict). The
result says what was kept and what was lost; a rewrite that lost a request (a refusal in its
place, or the request cut) is no success.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from ..emotions.analysis import Analyzer
from ..emotions.rewriting import RewriteResult, rewrite_text
from ..encoders.minilm import similarity
from ..errors import MalformedOutputError
from ..llm.base import Backend
from ..llm.structured import parse_text, text_schema
from ..prompting import render
from ..schema.emotion_models import EmotionModel, Target
from ..schema.profile import EmotionProfile
from .guidelines import VERDICT_ORDER, BehaviourLevel, Guardrail, GuidelineSet
from .judge import Judge, Judgement
from .keep import Point, describe, message_points, missing_points


class RectifyAttempt(BaseModel):
    attempt: int
    target: Target | None = Field(
        description="The emotion target of the rewriting loop (None: the first attempt corrects the content directly)."
    )
    text: str
    verdict: str
    similarity: float
    lost: list[str] = Field(default_factory=list, description="The source's points this attempt lost.")


class Rectification(BaseModel):
    """A violating text, its rectified version, and both judgements."""

    source: str
    text: str = Field(description="The rectified text (the source itself when it was allowed).")
    context: str
    culture: str
    success: bool = Field(description="The rectified text is changed, judged 'allow' and keeps every request.")
    changed: bool
    target_behaviour: str | None
    before: Judgement
    after: Judgement
    similarity: float = Field(description="Content similarity of the result to the source (cosine).")
    attempts: list[RectifyAttempt]
    rewrite: RewriteResult | None = Field(description="The rewriting loop's result, when a loop attempt was chosen.")
    kept: list[str] = Field(
        default_factory=list, description="The source's requests, questions, dates, numbers and names the text keeps."
    )
    lost: list[str] = Field(default_factory=list, description="Those it lost (every attempt lost them).")
    llm_calls: int = Field(default=0, description="Generator requests made (rewriting loop rounds included).")


def allowed_level(guidelines: GuidelineSet, guardrail: Guardrail, intensity: float) -> BehaviourLevel:
    """The level of the guardrail's behaviour spectrum inside the allowed range nearest to
    ``intensity`` (ties go toward neutral)."""
    spectrum = guidelines.behaviour(guardrail.behaviour)
    lo, hi = guardrail.allowed
    inside = [lv for lv in spectrum.levels if lo - 1e-9 <= lv.intensity <= hi + 1e-9]
    if not inside:
        return spectrum.nearest((lo + hi) / 2)
    return min(inside, key=lambda lv: (abs(lv.intensity - intensity), abs(lv.intensity)))


def emotion_target(
    model: EmotionModel, profile: EmotionProfile, judge: Judge, guardrail: Guardrail, level: BehaviourLevel
) -> Target:
    """Where the emotions must go for ``level``: the spectrum with the largest gap between the
    text's reading and the level's signature (without signatures: the dominant reading, to neutral)."""
    sig = judge.signatures.get(guardrail.behaviour)
    goal = next((s for s in sig.levels if s.level == level.word), None) if sig else None
    best: tuple[float, str, float] | None = None
    if goal is not None:
        for s in model.spectra:
            want = goal.mean.get(f"spectrum:{s.id}")
            if want is None:
                continue
            gap = abs(want - profile.reading(s.id).intensity)
            if best is None or gap > best[0]:
                best = (gap, s.id, want)
    if best is None:
        r = profile.dominant()
        best = (abs(r.intensity), r.spectrum, 0.0)
    spec = model.spectrum(best[1])
    lv = spec.nearest(best[2])
    return Target(spectrum=spec.id, intensity=lv.intensity, level=lv.word)


def toward_neutral(model: EmotionModel, target: Target) -> Target:
    """``target`` one level closer to the neutral middle of its spectrum."""
    spec = model.spectrum(target.spectrum)
    levels = spec.anchors()
    i = next(k for k, lv in enumerate(levels) if lv.word == target.level)
    mid = next(k for k, lv in enumerate(levels) if lv.intensity == 0)
    j = i + (1 if i < mid else -1 if i > mid else 0)
    return Target(spectrum=spec.id, intensity=levels[j].intensity, level=levels[j].word)


def _already_allowed(before: Judgement) -> Rectification:
    """The result for a text the judge already allows: the source itself, unchanged."""
    return Rectification(
        source=before.text,
        text=before.text,
        context=before.context,
        culture=before.culture,
        success=True,
        changed=False,
        target_behaviour=None,
        before=before,
        after=before,
        similarity=1.0,
        attempts=[],
        rewrite=None,
    )


def _problems(before: Judgement) -> str:
    """What the requests say is wrong with the source: its violations, or its behaviour out of range."""
    return (
        "; ".join(f"it violates '{h.guideline}' ({h.principle}) with \"{h.quote}\"" for h in before.violations)
        or "its behaviour is outside the allowed range"
    )


def _keep_instruction(points: list[Point]) -> str:
    """The requests' instruction to keep the source's points (named when there are any)."""
    return (
        f"Keep every one of these, in the same or other words: {describe(points)}."
        if points
        else "Keep every request, question, date, number and name it contains."
    )


def _length_cap(generator: Backend, n_chars: int) -> int:
    """The longest text an attempt may return, for a source of ``n_chars`` characters."""
    longest = generator.max_string_length or 2 * n_chars + 200
    return min(longest, 2 * n_chars + 200) if n_chars <= 700 else int(1.3 * n_chars) + 100


#: A judged attempt: its ranking key (mildest verdict, fewest lost points, most similar, earliest),
#: the attempt, the rewriting loop's result (None for the content correction) and its judgement.
_Tried = tuple[tuple, RectifyAttempt, RewriteResult | None, Judgement]


@dataclass
class _Rectifier:
    """One rectification's requests to the generator, and the attempts judged so far."""

    before: Judgement
    judge: Judge
    generator: Backend
    level: BehaviourLevel
    problems: str
    points: list[Point]
    keep: str
    model: EmotionModel
    critic: Analyzer
    guidance: str = field(init=False)  # the rewriting loop's guidance
    cap: int = field(init=False)
    schema: dict[str, Any] = field(init=False)
    tried: list[_Tried] = field(default_factory=list)
    calls: int = 0

    def __post_init__(self) -> None:
        self.guidance = self._render_guidance()
        self.cap = _length_cap(self.generator, len(self.before.judged_text))
        self.schema = text_schema(self.cap)

    def _render_guidance(self) -> str:
        """The rewriting loop's guidance: the behaviour to reach, the violations and the points to keep."""
        return render(
            "rectify",
            context=self.before.context,
            problems=self.problems,
            behaviour=self.level.word,
            behaviour_description=self.level.description or self.level.word,
            keep=self.keep,
        )[0]["content"]

    def correct(self, extra: str) -> str:
        """One content correction request (``extra`` added to the keep instruction); the source back
        when the generator's output is malformed."""
        self.calls += 1
        try:
            return self.generator.chat_json(
                render(
                    "rectify_correct",
                    context=self.before.context,
                    text=self.before.judged_text,
                    problems=self.problems,
                    behaviour=self.level.word,
                    behaviour_description=self.level.description or self.level.word,
                    keep=self.keep + extra,
                ),
                self.schema,
                parse_text,
                max_tokens=self.cap // 2 + 40,
            )
        except MalformedOutputError:  # a failed attempt, not the end of the rectification
            return self.before.judged_text

    def corrected_text(self) -> str:
        """The content correction, retried once naming the lost points when it changed the text but lost some."""
        source = self.before.judged_text
        corrected = self.correct("")
        lost = missing_points(self.points, corrected)
        if lost and corrected.strip() != source.strip():  # one retry, naming what was lost
            again = self.correct(f" The last correction lost {describe(lost)}: put them back.")
            if len(missing_points(self.points, again)) < len(lost):
                corrected = again
        return corrected

    def record(self, n: int, target: Target | None, text: str, rewrite: RewriteResult | None) -> Judgement:
        """Judge attempt ``n``'s ``text`` and keep it with its ranking key; returns its judgement."""
        after = self.judge.judge(text, self.before.context, self.before.culture)
        sim = round(similarity(self.before.judged_text, text), 4)
        lost = missing_points(self.points, text)
        attempt = RectifyAttempt(
            attempt=n, target=target, text=text, verdict=after.verdict, similarity=sim, lost=[p.text for p in lost]
        )
        self.tried.append(((VERDICT_ORDER.index(after.verdict), len(lost), -sim, n), attempt, rewrite, after))
        return after

    def rewrite_attempts(self, start: str, goal: Target, after: Judgement, attempts: int, rounds: int) -> None:
        """Attempts 2 to ``attempts``: the rewriting loop from ``start`` toward ``goal``, the emotion target
        moving one level toward neutral after each; stops once an attempt is allowed."""
        for n in range(2, attempts + 1):
            if after.verdict == "allow":
                break
            try:
                result = rewrite_text(
                    start,
                    goal,
                    self.model,
                    self.generator,
                    self.critic,
                    rounds=rounds,
                    tolerance=1,
                    explain=False,
                    guidance=self.guidance,
                )
            except MalformedOutputError:
                goal = toward_neutral(self.model, goal)
                continue
            self.calls += len(result.rounds)
            after = self.record(n, goal, result.text, result)
            goal = toward_neutral(self.model, goal)

    def result(self) -> Rectification:
        """The best attempt (by its ranking key) as the rectification, with every attempt tried."""
        before = self.before
        _, best, best_rewrite, after = min(self.tried, key=lambda t: t[0])
        changed = best.text.strip() != before.judged_text.strip()
        return Rectification(
            source=before.text,
            text=best.text,
            context=before.context,
            culture=before.culture,
            success=changed
            and after.verdict == "allow"
            and not any(p.kind == "request" and p.text in best.lost for p in self.points),
            changed=changed,
            target_behaviour=self.level.word,
            before=before,
            after=after,
            similarity=best.similarity,
            attempts=[t[1] for t in self.tried],
            rewrite=best_rewrite,
            kept=[p.text for p in self.points if p.text not in best.lost],
            lost=best.lost,
            llm_calls=self.calls,
        )


def rectify_text(
    text: str,
    judge: Judge,
    generator: Backend,
    critic: Analyzer,
    model: EmotionModel,
    context: str | None = None,
    culture: str | None = None,
    *,
    attempts: int = 2,
    rounds: int = 2,
    before: Judgement | None = None,
    target: Target | None = None,
) -> Rectification:
    """Rectify ``text`` for ``context``; ``target`` starts the emotion target somewhere else than
    the level's signature (compose passes the requested emotion, to keep as much of it as allowed)."""
    before = before or judge.judge(text, context, culture)
    if before.verdict == "allow":
        return _already_allowed(before)
    guardrail = before.guardrail
    level = allowed_level(judge.guidelines, guardrail, before.behaviour.intensity)
    goal = target or emotion_target(model, before.profile, judge, guardrail, level)
    problems = _problems(before)
    points = message_points(before.judged_text)
    rectifier = _Rectifier(
        before=before,
        judge=judge,
        generator=generator,
        level=level,
        problems=problems,
        points=points,
        keep=_keep_instruction(points),
        model=model,
        critic=critic,
    )
    # attempt 1: correct what breaks the guidelines (the content); later attempts: the rewriting
    # loop toward the allowed behaviour's emotions, from the best text so far
    corrected = rectifier.corrected_text()
    after = rectifier.record(1, None, corrected, None)
    start = corrected if corrected.strip() != before.judged_text.strip() else before.judged_text
    rectifier.rewrite_attempts(start, goal, after, attempts, rounds)
    return rectifier.result()
