"""The adversarial reviewer (ERIS in docs/specification.md section 5) and its debate with the judge.

The adversary argues the opposite reading of the judge's verdict in the given context and culture,
to catch both harm the judge let through and over-censorship. The judge answers and may change
its verdict. Rounds go from contentious to conciliatory: the contentiousness starts high and falls
each round, and the prompts' tone follows it. The debate ends when both propose the same verdict,
or after the round limit; an unresolved debate, or a settled one of low confidence, goes to the
human review queue. The whole transcript is part of the result.

The debate can add doubt, not evidence: it may raise the verdict to review, but beyond review
only as far as a violation of the judgement with a quoted span reaches (:func:`evidence_ceiling`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ..llm.base import Backend
from ..prompting import render
from ..schema.usage import Usage
from ..store.queue import Case, ReviewStore, dump
from .guidelines import VERDICT_ORDER, Verdict
from .judge import Judgement, _context_line

#: Below this confidence a settled verdict still goes to a person.
LOW_CONFIDENCE = 0.4


class DebateRound(BaseModel):
    round: int
    contentiousness: float = Field(ge=0.0, le=1.0)
    argument: str
    proposed: Verdict = Field(description="The adversary's proposed verdict.")
    response: str
    verdict: Verdict = Field(description="The judge's verdict after answering.")
    agreed: bool


class Review(BaseModel):
    """The judge's first verdict, the debate, and where it ended."""

    text: str
    context: str
    culture: str
    initial: Judgement
    verdict: Verdict = Field(description="The verdict after the debate.")
    resolved: bool = Field(description="Judge and adversary agreed.")
    rounds: list[DebateRound]
    escalated: bool = Field(description="Sent to the human review queue.")
    case_id: str | None = None
    capped: str | None = Field(default=None, description="Why the debate's verdict was held at a milder one.")
    models: dict[str, str]
    usage: dict[str, Usage]


def evidence_ceiling(judgement: Judgement) -> Verdict:
    """The strictest verdict a debate may reach on ``judgement``: review, the judge's own verdict,
    or the severity of a violation it found with a quoted span, whichever is strictest."""
    grounded = [h.severity for h in judgement.violations if h.span is not None]
    return max(["review", judgement.verdict, *grounded], key=VERDICT_ORDER.index)


def contentiousness(round_index: int, rounds: int, start: float = 0.9, end: float = 0.2) -> float:
    """Falls linearly from ``start`` in the first round to ``end`` in the last."""
    if rounds <= 1:
        return start
    return round(start + (end - start) * round_index / (rounds - 1), 3)


def tone(c: float) -> str:
    if c >= 0.7:
        return "contentious: press your case hard and concede nothing that is not proven."
    if c >= 0.4:
        return "firm but open: keep your position where it is strong, acknowledge good points."
    return "conciliatory: look for the verdict you can both accept, and accept it if it is reasonable."


def _schema(field: str) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [field, "verdict"],
        "properties": {
            field: {"type": "string", "minLength": 1, "maxLength": 500},
            "verdict": {"type": "string", "enum": list(VERDICT_ORDER)},
        },
    }


def _parser(field: str):
    def parse(data: Any) -> tuple[str, Verdict]:
        if not isinstance(data, dict) or data.get("verdict") not in VERDICT_ORDER:
            raise ValueError(f"verdict must be one of {list(VERDICT_ORDER)}")
        if not isinstance(data.get(field), str) or not data[field].strip():
            raise ValueError(f"'{field}' must be a non-empty string")
        return data[field].strip(), data["verdict"]

    return parse


def debate(
    judgement: Judgement,
    adversary: Backend,
    judge: Backend,
    *,
    rounds: int = 3,
    store: ReviewStore | None = None,
    enqueue: bool = True,
) -> Review:
    """Run the adversarial review of ``judgement``; escalate to ``store`` when unsettled."""
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    text = judgement.judged_text
    context = _context_line(judgement.guardrail)
    verdict: Verdict = judgement.verdict
    reasons = "; ".join(judgement.reasons)
    transcript: list[DebateRound] = []
    resolved = False
    with adversary.metered() as adv_usage, judge.metered() as judge_usage:
        for r in range(rounds):
            c = contentiousness(r, rounds)
            history = "\n".join(
                f'Round {d.round}: you argued "{d.argument}"; the judge answered '
                f'"{d.response}" and now says {d.verdict}.'
                for d in transcript
            )
            argument, proposed = adversary.chat_json(
                render(
                    "adversary",
                    tone=tone(c),
                    context=context,
                    text=text,
                    verdict=verdict,
                    reasons=reasons,
                    history=history,
                ),
                _schema("argument"),
                _parser("argument"),
                max_tokens=220,
                temperature=0.0,
            )
            if proposed == verdict:  # the adversary concedes
                transcript.append(
                    DebateRound(
                        round=r + 1,
                        contentiousness=c,
                        argument=argument,
                        proposed=proposed,
                        response="",
                        verdict=verdict,
                        agreed=True,
                    )
                )
                resolved = True
                break
            response, new = judge.chat_json(
                render(
                    "judge_reply",
                    tone=tone(c),
                    context=context,
                    text=text,
                    verdict=verdict,
                    reasons=reasons,
                    argument=argument,
                    proposed=proposed,
                ),
                _schema("response"),
                _parser("response"),
                max_tokens=200,
                temperature=0.0,
            )
            agreed = new == proposed
            transcript.append(
                DebateRound(
                    round=r + 1,
                    contentiousness=c,
                    argument=argument,
                    proposed=proposed,
                    response=response,
                    verdict=new,
                    agreed=agreed,
                )
            )
            if new != verdict:
                reasons = f"{reasons}; after review: {response}"
            verdict = new
            if agreed:
                resolved = True
                break
    capped = None
    ceiling = evidence_ceiling(judgement)
    if VERDICT_ORDER.index(verdict) > VERDICT_ORDER.index(ceiling):
        capped = f"the debate proposed {verdict}, but no violation with a quoted span supports more than {ceiling}"
        verdict = ceiling
    escalate = not resolved or judgement.confidence < LOW_CONFIDENCE or capped is not None
    case_id = None
    if escalate and enqueue:
        store = store or ReviewStore()
        case = store.enqueue(
            Case(
                kind="unresolved-debate" if not resolved else "low-confidence",
                text=judgement.text,
                context=judgement.context,
                culture=judgement.culture,
                verdict=verdict,
                confidence=judgement.confidence,
                rationale=judgement.rationale,
                guidelines=[h.guideline for h in judgement.violations],
                rulebook_version=judgement.rulebook_version,
                detail={"judgement": dump(judgement), "debate": [dump(d) for d in transcript]},
            )
        )
        case_id = case.id
    return Review(
        text=judgement.text,
        context=judgement.context,
        culture=judgement.culture,
        initial=judgement,
        verdict=verdict,
        resolved=resolved,
        rounds=transcript,
        escalated=escalate,
        case_id=case_id,
        capped=capped,
        models={"adversary": adversary.id, "judge": judge.id},
        usage={"adversary": adv_usage, "judge": judge_usage},
    )
