"""The judge (DIKE in PAPER.md section 5): assess a text's behaviour through its emotions.

For one text (or the last turn of a conversation) in a context:

1. Sentences that address the judge ("ignore your rules", forged verdicts, markup comments,
   base64 instructions) are set aside (:mod:`.injection`: patterns, nearest known injections and
   a learned detector); the rest is what every model below reads. Where the lists and the learned
   detector disagree on a part, the text is judged twice, with the part set aside and with it kept
   in, and the stricter verdict stands (``reading`` says which one decided), so that setting a
   sentence aside never makes a harmful text look harmless.
2. The emotion analyser (the sensor by default, independent of any language model) reads the
   emotion profile; the learned emotion signatures of the context's behaviour spectrum turn it into
   a behaviour level and intensity (*emotion-mediated*, :mod:`.signatures`).
3. One language-model call reads the text against the guidelines (and a rulebook's learned rules):
   which guidelines it violates, with the words that do, the behaviour level read *directly* (the
   baseline the paper compares with), whether it is morally wrong, and a rationale.
4. A trained head on sentence embeddings gives a second opinion on moral wrongness.
5. The verdict: the guardrail of the context and culture maps the behaviour intensity to allow,
   review or rectify; each violated guideline raises it to its severity; disagreement between the
   model and the head, or a conversation escalating toward hostility (the *trajectory*), raises it
   to review at least.
"""

from __future__ import annotations

import json
import re
from difflib import SequenceMatcher
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..emotions.analysis import Analyzer
from ..emotions.profile import EmotionProfile
from ..errors import ConfigError
from ..evals.ethics_data import EthicsItem
from ..llm.base import Backend, Message
from ..llm.usage import Usage
from ..prompting import examples, render
from ..textio import check_text
from .guidelines import Conduct, Guardrail, GuidelineSet, Verdict, stricter
from .injection import Injection, find_injections, sanitise, without_injections
from .signatures import BehaviourReading, Signatures, builtin_signatures

#: A conversation whose behaviour falls by this much from its first turn is escalating.
ESCALATION = 0.5
#: The moral head's probability of "wrong" above which it disagrees with a model that saw none.
HEAD_DISAGREES = 0.8


class GuidelineHit(BaseModel):
    """A guideline the text violates, with the words that do."""

    guideline: str
    kind: Literal["conduct", "virtue", "rule"]
    principle: str
    severity: Verdict
    quote: str = Field(description="The words of the text that violate it.")
    span: tuple[int, int] | None = Field(default=None, description="Character span of the quote.")
    source: str = Field(description="What found it: the judge model or a rulebook rule.")


class TurnReading(BaseModel):
    """One turn of a conversation: its emotions and behaviour."""

    turn: int
    summary: str
    behaviour: BehaviourReading | None


class Trajectory(BaseModel):
    """How emotion and behaviour move across the turns of a conversation."""

    turns: list[TurnReading]
    change: float = Field(description="Behaviour intensity of the last turn minus the first.")
    escalating: bool


class Judgement(BaseModel):
    """A verdict and everything it was reasoned from."""

    text: str
    judged_text: str = Field(description="The text the models read: without sentences addressed to the judge.")
    context: str
    culture: str
    verdict: Verdict
    reasons: list[str] = Field(description="Each step that set or raised the verdict.")
    behaviour: BehaviourReading = Field(description="The behaviour that decided the guardrail.")
    behaviour_emotion: BehaviourReading | None = Field(description="Emotion-mediated reading.")
    behaviour_direct: BehaviourReading | None = Field(description="Read directly by the model.")
    guardrail: Guardrail
    violations: list[GuidelineHit]
    wrong: bool | None = Field(description="The judge model's view: clearly morally wrong.")
    wrong_probability: float | None = Field(description="The trained head's second opinion.")
    rationale: str
    confidence: float = Field(ge=0.0, le=1.0)
    profile: EmotionProfile
    trajectory: Trajectory | None = None
    injections: list[Injection] = Field(default_factory=list,
                                        description="Sentences addressed to the judge, set aside.")
    reading: Literal["as written", "set aside", "disputed kept"] = Field(
        default="as written", description="Which reading of the text decided the verdict: with every flagged "
        "part set aside, or with the parts only one mechanism flagged kept in.")
    readings: dict[str, Verdict] = Field(default_factory=dict, description="The verdict of each reading judged.")
    guidelines_version: str
    rulebook_version: str | None = None
    signatures: str | None = None
    models: dict[str, str]
    usage: Usage


class Judge:
    """Judges texts against one guideline set with fixed models.

    ``backend`` is the judge's language model (``None`` for emotion-mediated judgement only);
    ``analyzer`` reads emotions; ``signatures`` maps behaviour spectrum ids to learned signatures
    (the built-in ones by default); ``rulebook`` adds an SSHF rulebook's rules; ``head`` is the
    moral second opinion (the built-in commonsense head by default; ``False`` for none).
    """

    def __init__(self, guidelines: GuidelineSet, backend: Backend | None, analyzer: Analyzer, *,
                 signatures: dict[str, Signatures] | None = None, rulebook: Any = None,
                 head: Any = None, behaviour_method: Literal["emotion", "direct"] = "emotion") -> None:
        self.guidelines = guidelines
        self.backend = backend
        self.analyzer = analyzer
        self.signatures = dict(signatures or {})
        for b in guidelines.behaviours:
            if b.id not in self.signatures and (sig := builtin_signatures(b.id)) is not None:
                self.signatures[b.id] = sig
        self.rulebook = rulebook
        if head is None:
            from .heads import EthicsHead

            head = EthicsHead.load("ethics-cm")
        self.head = head or None
        self.behaviour_method = behaviour_method

    # -- the model's reading -------------------------------------------------------------------
    def _messages(self, text: str, guardrail: Guardrail) -> list[Message]:
        spectrum = self.guidelines.behaviour(guardrail.behaviour)
        levels = "\n".join(f"- {lv.word}: {lv.description}" if lv.description else f"- {lv.word}"
                           for lv in spectrum.levels)
        rules = self.rulebook.prompt_lines() if self.rulebook is not None else ""
        rules = f"\nLearned rules (from the rulebook):\n{rules}\n" if rules else ""
        msgs = render("judge", guidelines=self.guidelines.describe(), rules=rules, spectrum=spectrum.id,
                      levels=levels, context=_context_line(guardrail), text="$text")
        system, user = msgs[0], msgs[1]["content"]
        known = set(self.guidelines.guideline_ids())
        out = [system]
        for ex in examples("judge_examples") or []:
            ids = {v["guideline"] for v in ex["answer"]["violations"]}
            if not ids <= known:
                continue
            answer = dict(ex["answer"], behaviour=spectrum.nearest(ex["answer"]["behaviour"]).word)
            out.append({"role": "user", "content": user.replace("$text", ex["text"])})
            out.append({"role": "assistant", "content": json.dumps(answer, ensure_ascii=False)})
        out.append({"role": "user", "content": user.replace("$text", text)})
        return out

    def _schema(self, guardrail: Guardrail) -> dict[str, Any]:
        ids = self.guidelines.guideline_ids() + (self.rulebook.rule_ids() if self.rulebook is not None else [])
        words = [lv.word for lv in self.guidelines.behaviour(guardrail.behaviour).levels]
        return {"type": "object", "additionalProperties": False,
                "required": ["rationale", "wrong", "violations", "behaviour"],
                "properties": {
                    "rationale": {"type": "string", "minLength": 1, "maxLength": 300},
                    "wrong": {"type": "boolean"},
                    "violations": {"type": "array", "maxItems": 3, "items": {
                        "type": "object", "additionalProperties": False,
                        "required": ["guideline", "quote"],
                        "properties": {"guideline": {"type": "string", "enum": ids},
                                       "quote": {"type": "string", "maxLength": 160}}}},
                    "behaviour": {"type": "string", "enum": words}}}

    def _ask(self, text: str, guardrail: Guardrail) -> dict[str, Any]:
        schema = self._schema(guardrail)
        ids = set(schema["properties"]["violations"]["items"]["properties"]["guideline"]["enum"])
        words = set(schema["properties"]["behaviour"]["enum"])

        def parse(data: Any) -> dict[str, Any]:
            if not isinstance(data, dict):
                raise ValueError("expected a JSON object")
            if data.get("behaviour") not in words:
                raise ValueError(f"behaviour must be one of {sorted(words)}")
            if not isinstance(data.get("wrong"), bool):
                raise ValueError("wrong must be true or false")
            viol = data.get("violations")
            if not isinstance(viol, list) or any(
                    not isinstance(v, dict) or v.get("guideline") not in ids for v in viol):
                raise ValueError("violations must be a list of {guideline, quote} with known ids")
            return {"rationale": str(data.get("rationale", "")).strip(), "violations": viol,
                    "behaviour": data["behaviour"], "wrong": data["wrong"]}

        assert self.backend is not None
        return self.backend.chat_json(self._messages(text, guardrail), schema, parse, max_tokens=260)

    # -- judgement -----------------------------------------------------------------------------
    def judge(self, text: str, context: str | None = None, culture: str | None = None, *,
              history: list[str] | None = None) -> Judgement:
        """Judge ``text`` (the last turn of a conversation whose earlier turns are ``history``)."""
        text = check_text(text)
        history = [check_text(t, "history turn") for t in (history or [])]
        guardrail = self.guidelines.guardrail(context, culture)
        injections = find_injections(text)
        if not injections:
            return self._judge_reading(text, text, [], guardrail, history, "as written")
        first = self._judge_reading(text, sanitise(without_injections(text, injections)) or text, injections,
                                    guardrail, history, "set aside")
        disputed = [i for i in injections if i.disputed]
        if not disputed:
            return first.model_copy(update={"readings": {"set aside": first.verdict}})
        # The lists and the learned detector disagree on some parts: judge the text with those parts
        # kept in as well, and keep the stricter verdict, so that setting aside a part never makes a
        # harmful text look harmless.
        agreed = [i for i in injections if not i.disputed]
        second = self._judge_reading(text, sanitise(without_injections(text, agreed)) or text, agreed,
                                     guardrail, history, "disputed kept")
        readings = {"set aside": first.verdict, "disputed kept": second.verdict}
        stricter_one = second if stricter(first.verdict, second.verdict) != first.verdict else first
        usage = Usage()
        usage.add(first.usage)
        usage.add(second.usage)
        reasons = list(stricter_one.reasons)
        reasons.append(f"{len(disputed)} part(s) flagged by one mechanism only; the reading "
                       f"'{stricter_one.reading}' decided ({first.verdict} with them set aside, "
                       f"{second.verdict} with them kept)")
        return stricter_one.model_copy(update={"readings": readings, "usage": usage, "reasons": reasons,
                                               "injections": injections})

    def _judge_reading(self, text: str, clean: str, injections: list[Injection], guardrail: Guardrail,
                       history: list[str], reading: str) -> Judgement:
        """Judge one reading of ``text``: ``clean`` is what the models read."""
        spectrum = self.guidelines.behaviour(guardrail.behaviour)
        sig = self.signatures.get(spectrum.id)
        usage = Usage()
        reasons: list[str] = []

        profile = self.analyzer.analyze(clean)
        usage.add(profile.usage)
        by_emotion = sig.classify(profile) if sig else None

        llm: dict[str, Any] | None = None
        direct = None
        if self.backend is not None:
            with self.backend.metered() as u:
                llm = self._ask(clean, guardrail)
            usage.add(u)
            lv = spectrum.level(llm["behaviour"])
            direct = BehaviourReading(spectrum=spectrum.id, level=lv.word, intensity=lv.intensity,
                                      method="direct", confidence=0.5)
        if by_emotion is None and direct is None:
            raise ConfigError(f"no emotion signatures for behaviour '{spectrum.id}' and no judge model: "
                              "learn signatures with 'emoethics dike learn' or give a model")
        use_direct = self.behaviour_method == "direct" and direct is not None
        behaviour = direct if use_direct or by_emotion is None else by_emotion
        assert behaviour is not None

        verdict = guardrail.verdict_for(behaviour.intensity)
        where = {"allow": "inside the allowed range", "review": "inside the review range",
                 "rectify": "outside the review range"}[verdict]
        reasons.append(f"behaviour '{behaviour.level}' ({behaviour.intensity:+.2f}, {behaviour.method}) is "
                       f"{where} of context '{guardrail.context}' (allowed {list(guardrail.allowed)}, "
                       f"review {list(guardrail.review)})")

        hits = self._hits(clean, llm)
        if self.rulebook is not None:
            hits += self.rulebook.matches(clean, profile)
        for h in hits:
            new = stricter(verdict, h.severity)
            if new != verdict:
                reasons.append(f"violates '{h.guideline}' (severity {h.severity}): \"{h.quote}\"")
            verdict = new

        p_wrong = None
        if self.head is not None:
            p_wrong = round(float(self.head.predict_proba(
                [EthicsItem(id="0", format="ethics-cm", text=clean, label=0)])[0]), 4)
        wrong = llm["wrong"] if llm else None
        if wrong and not hits:
            verdict = stricter(verdict, "review")
            reasons.append("the judge model finds it morally wrong without naming a guideline")
        if p_wrong is not None and p_wrong >= HEAD_DISAGREES and not hits and verdict == "allow":
            verdict = "review"
            reasons.append(f"the moral head disagrees (P(wrong) = {p_wrong:.2f})")

        trajectory = None
        if history and sig is not None:
            trajectory = self._trajectory(history + [clean], sig, profile)
            if trajectory.escalating:
                verdict = stricter(verdict, "review")
                reasons.append(f"the conversation escalates: behaviour moved {trajectory.change:+.2f} "
                               "from the first turn")

        confidence = _confidence(behaviour, wrong, p_wrong, hits)
        rationale = (llm or {}).get("rationale") or reasons[0]
        if injections:
            reasons.append(f"{len(injections)} sentence(s) addressed to the judge were set aside")
        if reading == "disputed kept":
            reasons.append("read with the parts flagged by one mechanism only kept in")
        models = {"analyzer": self.analyzer.name}
        if self.backend is not None:
            models["judge"] = self.backend.id
        if self.head is not None:
            models["head"] = self.head.id
        return Judgement(
            text=text, judged_text=clean, context=guardrail.context, culture=guardrail.culture, verdict=verdict,
            reasons=reasons, behaviour=behaviour, behaviour_emotion=by_emotion, behaviour_direct=direct,
            guardrail=guardrail, violations=hits, wrong=wrong, wrong_probability=p_wrong,
            rationale=rationale, confidence=confidence, profile=profile, trajectory=trajectory,
            injections=injections, reading=reading, guidelines_version=self.guidelines.version,
            rulebook_version=self.rulebook.id if self.rulebook is not None else None,
            signatures=sig.id if sig else None, models=models, usage=usage)

    def _hits(self, text: str, llm: dict[str, Any] | None) -> list[GuidelineHit]:
        hits: list[GuidelineHit] = []
        for v in (llm or {}).get("violations", []):
            gid = v["guideline"]
            if any(h.guideline == gid for h in hits):
                continue
            if self.rulebook is not None and gid in self.rulebook.rule_ids():
                rule = self.rulebook.rule(gid)
                kind, principle, severity = "rule", rule.statement, rule.severity
            else:
                item = self.guidelines.conduct_item(gid)
                kind = "conduct" if isinstance(item, Conduct) else "virtue"
                principle = item.principle if isinstance(item, Conduct) else \
                    f"{item.virtue} (between {item.deficiency} and {item.excess})"
                severity = item.severity if isinstance(item, Conduct) else "review"
            quote, span = locate(text, str(v.get("quote", "")))
            hits.append(GuidelineHit(guideline=gid, kind=kind, principle=principle, severity=severity,
                                     quote=quote, span=span, source="judge model"))
        return hits

    def _trajectory(self, turns: list[str], sig: Signatures, last: EmotionProfile) -> Trajectory:
        readings = []
        for i, t in enumerate(turns):
            p = last if i == len(turns) - 1 else self.analyzer.analyze(t)
            readings.append(TurnReading(turn=i, summary=p.summary(), behaviour=sig.classify(p)))
        first, final = readings[0].behaviour, readings[-1].behaviour
        assert first is not None and final is not None
        change = round(final.intensity - first.intensity, 3)
        return Trajectory(turns=readings, change=change, escalating=change <= -ESCALATION)


def _context_line(g: Guardrail) -> str:
    parts = [g.context]
    if g.culture != "any":
        parts.append(f"culture: {g.culture}")
    if g.audience != "general":
        parts.append(f"audience: {g.audience}")
    return ", ".join(parts) + (f" — {g.description}" if g.description else "")


def locate(text: str, quote: str) -> tuple[str, tuple[int, int] | None]:
    """The quote as it occurs in ``text`` and its span; a misquoted one is matched to the most
    similar sentence (a model's quote is not trusted to be exact)."""
    quote = quote.strip().strip("\"'")
    if not quote:
        return "", None
    i = text.lower().find(quote.lower())
    if i >= 0:
        return text[i:i + len(quote)], (i, i + len(quote))
    best, best_span, best_r = "", None, 0.0
    for m in re.finditer(r"[^.!?]+[.!?]*", text):
        r = SequenceMatcher(None, quote.lower(), m.group(0).lower()).ratio()
        if r > best_r:
            best, best_span, best_r = m.group(0).strip(), (m.start(), m.end()), r
    return (best, best_span) if best_r >= 0.4 else (quote, None)


def _confidence(behaviour: BehaviourReading, wrong: bool | None, p_wrong: float | None,
                hits: list[GuidelineHit]) -> float:
    """How sure the judgement is: the behaviour reading's confidence, and whether the model's
    and the head's views of wrongness agree (a strong head that disagrees lowers it)."""
    conf = behaviour.confidence
    if p_wrong is not None and wrong is not None:
        flagged = wrong or bool(hits)
        agree = flagged == (p_wrong >= 0.5)
        certainty = abs(p_wrong - 0.5) * 2
        conf = 0.5 * conf + 0.5 * (0.5 + 0.5 * certainty if agree else 0.5 - 0.5 * certainty)
    return round(min(1.0, max(0.0, conf)), 3)
