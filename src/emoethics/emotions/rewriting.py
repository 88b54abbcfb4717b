"""Rewriting a text at a target emotion and intensity, with a generator and an independent critic.

The loop (docs/specification.md section 2): the generator rewrites the text, its prompt naming the target
level word; the critic measures the emotion the candidate actually expresses; if the measured
level is not within ``tolerance`` levels of the target, the gap is fed back and the generator
tries again, up to ``rounds`` times. The best candidate seen (nearest level, then nearest
intensity, then most similar to the source) is returned, not the last, with the full trace.
:func:`sweep_text` renders one text at every level of a spectrum (the paper's poem study).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from ..encoders.minilm import ENCODER_ID, similarity
from ..llm.base import Backend
from ..llm.structured import parse_text, text_schema
from ..prompting import examples, render
from ..schema.emotion_models import EmotionModel, Level, Spectrum, Target
from ..schema.profile import EmotionProfile
from ..schema.usage import Usage
from ..textio import check_text
from .analysis import Analyzer
from .features import FeatureChanges, explain_changes


class RewriteRound(BaseModel):
    """One generator attempt and the critic's measurement of it."""

    round: int
    text: str
    measured_level: str
    measured_intensity: float
    level_distance: int = Field(description="Levels between measured and target.")
    within_tolerance: bool
    feedback: str | None = Field(default=None, description="What the generator was told next.")


class RewriteResult(BaseModel):
    """A rewrite, how it measured, and how it was reached."""

    source: str
    text: str
    emotion_model: str
    target: Target
    measured: EmotionProfile
    measured_level: str
    measured_intensity: float
    level_distance: int
    hit: bool = Field(description="Measured level within the tolerance of the target.")
    similarity: float = Field(description="Content similarity to the source (cosine, 0..1).")
    similarity_method: str = ENCODER_ID
    features: FeatureChanges
    best_round: int
    rounds: list[RewriteRound]
    generator: str
    critic: str
    usage: dict[str, Usage]


class SweepResult(BaseModel):
    """One text rewritten at every level of a spectrum."""

    source: str
    emotion_model: str
    spectrum: str
    results: list[RewriteResult]

    def table(self) -> list[dict[str, Any]]:
        """One row per level: target, measured, hit, similarity, text."""
        return [
            {
                "level": r.target.level,
                "target": r.target.intensity,
                "measured_level": r.measured_level,
                "measured": r.measured_intensity,
                "hit": r.hit,
                "similarity": round(r.similarity, 3),
                "text": r.text,
            }
            for r in self.results
        ]


def level_description(spec: Spectrum, level: Level) -> str:
    """Words for a level that a language model follows better than a number."""
    if level.intensity == 0:
        return f"emotionally neutral: neither {spec.negative} nor {spec.positive}"
    pole = spec.positive if level.intensity > 0 else spec.negative
    mag = abs(level.intensity)
    strength = "a mild, subtle" if mag < 0.45 else "a clear, strong" if mag < 0.8 else "an extreme, overwhelming"
    return f"{strength} degree of {pole}"


def _direction(spec: Spectrum, target: Level, measured: Level) -> str:
    if target.intensity == 0:
        pole = spec.positive if measured.intensity > 0 else spec.negative
        return f"Remove the {pole}: the text must sound emotionally neutral."
    pole = spec.positive if target.intensity > 0 else spec.negative
    same_side = measured.intensity * target.intensity > 0
    if same_side and abs(measured.intensity) > abs(target.intensity):
        return f"It expresses too much {pole}: tone it down to {target.word}."
    return f"It does not express enough {pole}: make the {pole} stronger, up to {target.word}."


def rewrite_text(
    text: str,
    target: Target,
    model: EmotionModel,
    generator: Backend,
    critic: Analyzer,
    *,
    rounds: int = 3,
    tolerance: int = 1,
    explain: bool = True,
    guidance: str = "",
) -> RewriteResult:
    """Rewrite ``text`` toward ``target``: the loop described in this module's docstring.

    ``guidance`` is added to the request (rectification uses it to name the behaviour to reach
    and the guideline violations to remove)."""
    text = check_text(text)
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    spec = model.spectrum(target.spectrum)
    goal = spec.level(target.level)
    messages = _rewrite_messages(text, spec, goal, guidance)
    max_chars = _max_chars(text, generator)
    loop = _RewriteLoop(spec, goal, generator, critic, text_schema(max_chars), max_chars // 2 + 32, tolerance)
    with generator.metered() as gen_usage, _metered(critic) as critic_usage:
        loop.run(messages, rounds)
        best = loop.best()
        features = explain_changes(text, best.text, goal.word, generator if explain else None)
    reading = best.profile.reading(spec.id)
    return RewriteResult(
        source=text,
        text=best.text,
        emotion_model=model.id,
        target=target,
        measured=best.profile,
        measured_level=reading.level,
        measured_intensity=reading.intensity,
        level_distance=best.distance,
        hit=best.distance <= tolerance,
        similarity=round(similarity(text, best.text), 4),
        features=features,
        best_round=best.round,
        rounds=loop.trace,
        generator=generator.id,
        critic=critic.name,
        usage={"generator": gen_usage, "critic": critic_usage},
    )


def _rewrite_messages(text: str, spec: Spectrum, goal: Level, guidance: str) -> list[dict[str, str]]:
    """The first request to the generator: instructions, a worked example at the same level, the
    text to rewrite, and ``guidance`` (if any) appended to that last turn."""
    request = dict(spectrum_line=spec.describe(), level=goal.word, level_description=level_description(spec, goal))
    messages = render("rewrite") + _demonstration(goal.word, request) + render("rewrite_request", text=text, **request)
    if guidance:
        messages[-1] = {"role": "user", "content": f"{messages[-1]['content']}\n{guidance}"}
    return messages


def _max_chars(text: str, generator: Backend) -> int:
    """The longest rewrite the generator may write for ``text``.

    Room for a longer, more emotional rewrite; the length cap keeps grammar-constrained
    decoding from running out of tokens inside the string (a small model at an extreme level
    can repeat itself until it does). Up to the backend's longest string the cap goes into the schema."""
    longest = generator.max_string_length or 3 * len(text) + 300
    return min(longest, 3 * len(text) + 300) if len(text) <= 700 else int(1.3 * len(text)) + 100


@dataclass
class _Candidate:
    """A rewrite the critic measured, ranked by level distance, then intensity gap, then round."""

    text: str
    profile: EmotionProfile
    distance: int
    intensity_gap: float
    round: int

    @property
    def rank(self) -> tuple[int, float, int]:
        """Lower is better: nearest level, then nearest intensity, then earliest (closest to the source)."""
        return (self.distance, self.intensity_gap, self.round)


@dataclass
class _RewriteLoop:
    """The generator-critic rounds toward one target level, with the trace and every candidate."""

    spec: Spectrum
    goal: Level
    generator: Backend
    critic: Analyzer
    schema: dict[str, Any]
    max_tokens: int
    tolerance: int
    trace: list[RewriteRound] = field(default_factory=list)
    candidates: list[_Candidate] = field(default_factory=list)

    def run(self, messages: list[dict[str, str]], rounds: int) -> None:
        """Up to ``rounds`` attempts; after each miss the gap is fed back to the generator."""
        for n in range(1, rounds + 1):
            candidate = self.generator.chat_json(
                messages,
                self.schema,
                parse_text,
                temperature=0.0 if n == 1 else 0.7,
                seed=n,
                max_tokens=self.max_tokens,
            )
            step, measured = self.measure(n, candidate)
            if step.within_tolerance or n == rounds:
                break
            step.feedback = _direction(self.spec, self.goal, measured)
            messages = (
                messages
                + [{"role": "assistant", "content": _dump_text(candidate)}]
                + render(
                    "rewrite_feedback", measured_level=measured.word, level=self.goal.word, direction=step.feedback
                )
            )

    def measure(self, n: int, candidate: str) -> tuple[RewriteRound, Level]:
        """Have the critic measure round ``n``'s candidate; record it in the trace and the candidates."""
        profile = self.critic.analyze(candidate)
        reading = profile.reading(self.spec.id)
        measured = self.spec.level(reading.level)
        distance = abs(measured.index - self.goal.index)
        self.candidates.append(
            _Candidate(candidate, profile, distance, abs(reading.intensity - self.goal.intensity), n)
        )
        step = RewriteRound(
            round=n,
            text=candidate,
            measured_level=measured.word,
            measured_intensity=reading.intensity,
            level_distance=distance,
            within_tolerance=distance <= self.tolerance,
        )
        self.trace.append(step)
        return step, measured

    def best(self) -> _Candidate:
        """The best candidate seen (not the last)."""
        return min(self.candidates, key=lambda c: c.rank)


def sweep_text(
    text: str,
    spectrum: str,
    model: EmotionModel,
    generator: Backend,
    critic: Analyzer,
    *,
    rounds: int = 3,
    tolerance: int = 1,
    explain: bool = False,
    on_level: Callable[[int, RewriteResult], None] | None = None,
) -> SweepResult:
    """``text`` rewritten at every level of ``spectrum``, from the negative end to the positive."""
    spec = model.spectrum(spectrum)
    results = []
    for i, lv in enumerate(spec.anchors()):
        r = rewrite_text(
            text,
            Target(spectrum=spec.id, intensity=lv.intensity, level=lv.word),
            model,
            generator,
            critic,
            rounds=rounds,
            tolerance=tolerance,
            explain=explain,
        )
        results.append(r)
        if on_level:
            on_level(i, r)
    return SweepResult(source=results[0].source, emotion_model=model.id, spectrum=spec.id, results=results)


def _demonstration(level: str, request: dict[str, str]) -> list[dict[str, str]]:
    """One worked example as a prior turn: a different sentence rewritten at the same level.
    As a turn (not a list in the instructions) it shows the pattern without inviting copying."""
    ex = examples("rewrite_examples")
    if level not in ex.get("levels", {}):
        return []
    return render("rewrite_request", text=ex["source"], **request) + [
        {"role": "assistant", "content": _dump_text(ex["levels"][level])}
    ]


def _dump_text(text: str) -> str:
    return json.dumps({"text": text}, ensure_ascii=False)


def _metered(analyzer: Analyzer) -> Any:
    backend = getattr(analyzer, "backend", None)
    return backend.metered() if backend is not None else nullcontext(Usage())
