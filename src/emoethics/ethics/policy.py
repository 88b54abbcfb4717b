"""From a verdict to what is done with the text: the one policy compose, chat and the proxy follow.

A :class:`VerdictPolicy` is data: whether verdicts are acted on (``enforce``) or only reported
(``observe``), whether a ``review`` verdict queues the text for a person, whether a ``block``
verdict is first rewritten (compose and chat try to rectify what they wrote; the proxy refuses),
and the empathy rules for a reply to a user in distress (:class:`EmpathyRules`). :func:`action_for`
turns a verdict into one of five actions; :func:`care` applies the empathy rules to a verdict.

=========  ==========================================================================
verdict    action
=========  ==========================================================================
any        ``observe`` in observe mode: reported, never acted on
allow      ``pass``
review     ``queue`` for a person (``queue_reviews``), else ``pass`` with the flag
rectify    ``rectify`` (``block`` when the text may not be rewritten: tool-call arguments)
block      ``block`` (``rectify`` first with ``rectify_blocked``)
=========  ==========================================================================
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ..schema.profile import EmotionProfile
from .guidelines import Verdict, stricter
from .judge import Judgement

Mode = Literal["enforce", "observe"]
Action = Literal["observe", "pass", "queue", "rectify", "block"]


class EmpathyRules(BaseModel):
    """When a user is in distress and what that changes (see :func:`care`)."""

    distress: float = Field(
        default=0.6, ge=0.0, le=1.0, description="Sadness or fear at or beyond this on its pole is distress."
    )
    harsh: float = Field(
        default=0.6, ge=0.0, le=1.0, description="A reply's anger or disgust at or beyond this is harsh for them."
    )


class VerdictPolicy(BaseModel):
    """How verdicts are acted on (module docstring)."""

    mode: Mode = "enforce"
    queue_reviews: bool = Field(default=True, description="Queue review verdicts for the review page.")
    rectify_blocked: bool = Field(default=False, description="Try to rewrite a text judged 'block' before refusing it.")
    empathy_rules: EmpathyRules = Field(default_factory=EmpathyRules)


#: What compose and chat do with what they wrote: a review verdict is delivered with its flag (the
#: adversary has already queued an unsettled one), and a blocked draft is rewritten before it is withheld.
COMPOSE_POLICY = VerdictPolicy(queue_reviews=False, rectify_blocked=True)


def action_for(verdict: Verdict, policy: VerdictPolicy, *, rewrite: bool = True) -> Action:
    """What is done with a text judged ``verdict``; ``rewrite=False``: the text may not be rewritten."""
    if policy.mode == "observe":
        return "observe"
    if verdict == "allow":
        return "pass"
    if verdict == "review":
        return "queue" if policy.queue_reviews else "pass"
    if verdict == "rectify" or policy.rectify_blocked:
        return "rectify" if rewrite else "block"
    return "block"


def distress_of(profile: EmotionProfile, rules: EmpathyRules) -> str:
    """The distress a user's message shows, e.g. 'grief (sadness, -0.9)'; empty when none:
    sadness or fear at ``rules.distress`` or beyond (grief, terror and their neighbours)."""
    strong = [
        r
        for r in profile.readings
        if r.spectrum in ("sadness-joy", "fear-anger") and r.intensity <= -rules.distress + 1e-9
    ]
    return ", ".join(f"{r.level} ({r.negative}, {r.intensity:+.1f})" for r in strong)


def care(verdict: Verdict, judgement: Judgement, distress: str, rules: EmpathyRules, reasons: list[str]) -> Verdict:
    """The verdict on a reply to a user whose distress is ``distress`` (empty: none), with the
    reasons for any change added to ``reasons``: a harsh tone (anger or disgust at ``rules.harsh``)
    is at least reviewed, and distress never turns into a refusal: the reply is rectified or
    blocked only for a guideline it violates, not for the emotions it shares with the user (a
    compassionate reply reads as sad), which pass with a review flag instead."""
    if not distress:
        return verdict
    harsh = [
        r
        for r in judgement.profile.readings
        if (r.spectrum == "fear-anger" and r.intensity >= rules.harsh - 1e-9)
        or (r.spectrum == "disgust-trust" and r.intensity <= -rules.harsh + 1e-9)
    ]
    if harsh:
        verdict = stricter(verdict, "review")
        reasons.append(
            f"the reply's tone ({', '.join(r.level for r in harsh)}) is harsh for a user in distress ({distress})"
        )
    grounded = any(h.severity in ("rectify", "block") for h in judgement.violations)
    if verdict in ("rectify", "block") and not grounded:
        verdict = "review"
        reasons.append(
            "the user is in distress and the reply violates no guideline: its verdict came from "
            "the emotions it shares with the user, so it passes with a review flag"
        )
    return verdict
