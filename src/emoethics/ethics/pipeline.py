"""The whole pipeline: write at a target emotion, judge, review, rectify (docs/specification.md sections 2-5).

:func:`guard` takes a draft through the checks: the judge assesses it; a verdict of ``review`` or a
low-confidence one goes to the adversary; then the verdict policy (:mod:`.policy`, the one the proxy
follows too) says what is done: by default a draft to ``rectify`` (or ``block``) is rewritten into the
allowed range, starting from the requested emotion and giving it up one level at a time, so the
result keeps as much of it as the guardrails allow. :func:`compose_text` first writes the draft at
the requested emotion (generator, then the critic's check and the rewriting loop if it is off).
The generator, the judge and the adversary are separate roles (executive, legislative, judicial).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from ..emotions.analysis import Analyzer
from ..emotions.rewriting import level_description, rewrite_text
from ..llm.base import Backend
from ..llm.structured import parse_text, text_schema
from ..prompting import render
from ..schema.emotion_models import EmotionModel, Target
from ..schema.usage import Usage
from ..store.queue import ReviewStore
from .adversary import LOW_CONFIDENCE, Review, debate
from .judge import Judge, Judgement
from .policy import COMPOSE_POLICY, VerdictPolicy, action_for
from .rectify import Rectification, rectify_text


class Guarded(BaseModel):
    """A draft after the judge, the adversary and rectification."""

    draft: str
    text: str | None = Field(description="What may be sent; None when nothing acceptable was found.")
    delivered: bool
    verdict: str = Field(description="The final verdict on the delivered text (or the draft).")
    judgement: Judgement
    review: Review | None = None
    rectification: Rectification | None = None
    steps: list[str] = Field(description="What happened, in order.")


class Composition(Guarded):
    """A text written for a prompt at a target emotion, and everything that checked it."""

    prompt: str
    target: Target
    measured_level: str
    usage: dict[str, Usage]


def guard(
    draft: str,
    judge: Judge,
    generator: Backend,
    critic: Analyzer,
    model: EmotionModel,
    *,
    adversary: Backend | None = None,
    context: str | None = None,
    culture: str | None = None,
    target: Target | None = None,
    debate_rounds: int = 2,
    store: ReviewStore | None = None,
    policy: VerdictPolicy = COMPOSE_POLICY,
) -> Guarded:
    """Judge ``draft``; review it when the verdict is uncertain; then act on the verdict per
    ``policy`` (:func:`~.policy.action_for`): by default rectify what violates, blocked drafts too."""
    j = judge.judge(draft, context, culture)
    steps = [f"judge: {j.verdict} ({j.confidence:.2f}) — {j.reasons[0]}"]
    verdict = j.verdict
    review: Review | None = None
    if adversary is not None and judge.backend is not None and (verdict == "review" or j.confidence < LOW_CONFIDENCE):
        review = debate(j, adversary, judge.backend, rounds=debate_rounds, store=store)
        verdict = review.verdict
        steps.append(
            f"adversary: {'agreed on' if review.resolved else 'no agreement;'} {verdict}"
            + (f" (queued as case {review.case_id})" if review.case_id else "")
            + (f"; {review.capped}" if review.capped else "")
        )
    rect: Rectification | None = None
    text: str | None = draft
    action = action_for(verdict, policy)
    if action == "rectify":
        rect = rectify_text(draft, judge, generator, critic, model, before=j, target=target)
        steps.append(
            f"rectify: {rect.after.verdict} after {len(rect.attempts)} attempt(s), similarity {rect.similarity:.2f}"
        )
        if rect.success:
            text, verdict = rect.text, rect.after.verdict
        else:
            text = None
            steps.append("withheld: no rewrite reached the allowed range")
    elif action == "block":
        text = None
        steps.append(f"withheld: judged '{verdict}'")
    elif verdict == "review":
        steps.append("delivered with a review flag: a person should look at it")
    return Guarded(
        draft=draft,
        text=text,
        delivered=text is not None,
        verdict=verdict,
        judgement=j,
        review=review,
        rectification=rect,
        steps=steps,
    )


def compose_text(
    prompt: str,
    target: Target,
    model: EmotionModel,
    generator: Backend,
    critic: Analyzer,
    judge: Judge,
    *,
    adversary: Backend | None = None,
    context: str | None = None,
    culture: str | None = None,
    rounds: int = 2,
    store: ReviewStore | None = None,
) -> Composition:
    """Write for ``prompt`` at ``target``, then :func:`guard` the draft."""
    spec = model.spectrum(target.spectrum)
    goal = spec.level(target.level)
    # the length cap (about 1-4 sentences) ends the string before the token budget runs out,
    # even at extreme levels where a small model rambles
    schema = text_schema(500)

    usage: dict[str, Usage] = {}
    with generator.metered() as gen_usage:
        draft = generator.chat_json(
            render(
                "compose",
                prompt=prompt,
                spectrum_line=spec.describe(),
                level=goal.word,
                level_description=level_description(spec, goal),
            ),
            schema,
            parse_text,
            max_tokens=450,
        )
        measured = critic.analyze(draft).reading(spec.id)
        steps = [f"draft: measured {measured.level} for target {goal.word}"]
        if abs(spec.level(measured.level).index - goal.index) > 1:
            r = rewrite_text(draft, target, model, generator, critic, rounds=rounds, explain=False)
            draft, measured_level = r.text, r.measured_level
            steps.append(f"rewrite loop: measured {measured_level} after {len(r.rounds)} round(s)")
        else:
            measured_level = measured.level
        g = guard(
            draft,
            judge,
            generator,
            critic,
            model,
            adversary=adversary,
            context=context,
            culture=culture,
            target=target,
            store=store,
        )
    usage["generator"] = gen_usage
    return Composition(
        prompt=prompt,
        target=target,
        measured_level=measured_level,
        usage=usage,
        **g.model_dump(exclude={"steps"}),
        steps=steps + g.steps,
    )
