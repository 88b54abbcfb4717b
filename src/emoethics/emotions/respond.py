"""Empathetic replies: detect the user's emotional state and answer in a tone adapted to it.

The care setting of docs/specification.md section 2. The tone for each detected emotion is data
(``prompts/tones.yaml``); the reply reports what was detected, the tone chosen, and why.
"""

from __future__ import annotations

from pydantic import BaseModel

from ..llm.base import Backend, Message
from ..prompting import examples, render
from ..schema.profile import EmotionProfile, SpectrumReading
from ..textio import check_text
from .analysis import Analyzer


class Reply(BaseModel):
    """An adapted reply and the reasoning behind its tone."""

    message: str
    reply: str
    detected: EmotionProfile
    state: str
    tone: str
    reason: str
    generator: str


def choose_tone(profile: EmotionProfile) -> tuple[str, str, SpectrumReading | None]:
    """(state, tone, deciding reading) for a detected profile."""
    tones = examples("tones")
    strong = [r for r in profile.readings if r.intensity != 0]
    if not strong:
        return "calm, no strong emotion", tones["neutral"], None
    top = max(strong, key=lambda r: (abs(r.intensity), r.confidence))
    pole = top.emotion
    tone = tones.get(pole) or tones["default_positive" if top.intensity > 0 else "default_negative"]
    state = ", ".join(
        f"{r.level} ({r.emotion}, {r.intensity:+.1f})" for r in sorted(strong, key=lambda r: -abs(r.intensity))
    )
    return state, tone, top


def reply_to(message: str, analyzer: Analyzer, generator: Backend, history: list[Message] | None = None) -> Reply:
    """Detect the emotions in ``message`` and reply in an adapted tone."""
    message = check_text(message)
    profile = analyzer.analyze(message)
    state, tone, top = choose_tone(profile)
    if top is None:
        reason = "No emotion stood out, so the reply is plainly friendly."
    else:
        cues = f" (cues: {', '.join(repr(c) for c in top.cues)})" if top.cues else ""
        reason = (
            f"The strongest emotion detected is {top.level} on {top.spectrum} "
            f"({top.intensity:+.1f}){cues}, so the tone is: {tone}."
        )
    messages = (
        render("respond", state=state, tone=tone) + list(history or [])[-8:] + [{"role": "user", "content": message}]
    )
    text = generator.chat(messages, max_tokens=160, temperature=0.3)
    return Reply(
        message=message, reply=text, detected=profile, state=state, tone=tone, reason=reason, generator=generator.id
    )
