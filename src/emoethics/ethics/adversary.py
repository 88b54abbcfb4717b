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

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from ..llm.base import Backend
from ..prompting import render
from ..schema.usage import Usage
from ..store.queue import Case, ReviewStore, dump
from .guidelines import VERDICT_ORDER, Verdict
from .judge import Judgement, context_line

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


def _history(transcript: list[DebateRound]) -> str:
    """The rounds so far, as the adversary's prompt tells them."""
    return "\n".join(
        f'Round {d.round}: you argued "{d.argument}"; the judge answered "{d.response}" and now says {d.verdict}.'
        for d in transcript
    )


@dataclass
class _Debate:
    """The debate's fixed inputs and its running state: the verdict, the reasons, the transcript."""

    adversary: Backend
    judge: Backend
    text: str
    context: str
    verdict: Verdict
    reasons: str
    transcript: list[DebateRound] = field(default_factory=list)
    resolved: bool = False

    def argue(self, c: float) -> tuple[str, Verdict]:
        """The adversary's argument and proposed verdict, at contentiousness ``c``."""
        return self.adversary.chat_json(
            render(
                "adversary",
                tone=tone(c),
                context=self.context,
                text=self.text,
                verdict=self.verdict,
                reasons=self.reasons,
                history=_history(self.transcript),
            ),
            _schema("argument"),
            _parser("argument"),
            max_tokens=220,
            temperature=0.0,
        )

    def answer(self, c: float, argument: str, proposed: Verdict) -> tuple[str, Verdict]:
        """The judge's response to ``argument`` and its verdict after it, at contentiousness ``c``."""
        return self.judge.chat_json(
            render(
                "judge_reply",
                tone=tone(c),
                context=self.context,
                text=self.text,
                verdict=self.verdict,
                reasons=self.reasons,
                argument=argument,
                proposed=proposed,
            ),
            _schema("response"),
            _parser("response"),
            max_tokens=200,
            temperature=0.0,
        )

    def play_round(self, r: int, rounds: int) -> bool:
        """Round ``r`` (from 0) of ``rounds``: argument, then the judge's answer unless the adversary
        concedes; records it and returns whether the two agreed (the debate is then resolved)."""
        c = contentiousness(r, rounds)
        argument, proposed = self.argue(c)
        if proposed == self.verdict:  # the adversary concedes
            self.transcript.append(
                DebateRound(
                    round=r + 1,
                    contentiousness=c,
                    argument=argument,
                    proposed=proposed,
                    response="",
                    verdict=self.verdict,
                    agreed=True,
                )
            )
            self.resolved = True
            return True
        response, new = self.answer(c, argument, proposed)
        agreed = new == proposed
        self.transcript.append(
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
        if new != self.verdict:
            self.reasons = f"{self.reasons}; after review: {response}"
        self.verdict = new
        if agreed:
            self.resolved = True
        return agreed


def _cap_to_evidence(judgement: Judgement, verdict: Verdict) -> tuple[Verdict, str | None]:
    """``verdict`` held at :func:`evidence_ceiling`, and why it was held (None when it was not)."""
    ceiling = evidence_ceiling(judgement)
    if VERDICT_ORDER.index(verdict) > VERDICT_ORDER.index(ceiling):
        return (
            ceiling,
            f"the debate proposed {verdict}, but no violation with a quoted span supports more than {ceiling}",
        )
    return verdict, None


def _enqueue_case(
    judgement: Judgement, verdict: Verdict, resolved: bool, transcript: list[DebateRound], store: ReviewStore | None
) -> str:
    """Put the judgement and its debate in the human review queue (the default store when none is given);
    returns the case's id."""
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
    return case.id


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
    state = _Debate(
        adversary=adversary,
        judge=judge,
        text=judgement.judged_text,
        context=context_line(judgement.guardrail),
        verdict=judgement.verdict,
        reasons="; ".join(judgement.reasons),
    )
    with adversary.metered() as adv_usage, judge.metered() as judge_usage:
        for r in range(rounds):
            if state.play_round(r, rounds):
                break
    verdict, capped = _cap_to_evidence(judgement, state.verdict)
    resolved = state.resolved
    escalate = not resolved or judgement.confidence < LOW_CONFIDENCE or capped is not None
    case_id = None
    if escalate and enqueue:
        case_id = _enqueue_case(judgement, verdict, resolved, state.transcript, store)
    return Review(
        text=judgement.text,
        context=judgement.context,
        culture=judgement.culture,
        initial=judgement,
        verdict=verdict,
        resolved=resolved,
        rounds=state.transcript,
        escalated=escalate,
        case_id=case_id,
        capped=capped,
        models={"adversary": adversary.id, "judge": judge.id},
        usage={"adversary": adv_usage, "judge": judge_usage},
    )
