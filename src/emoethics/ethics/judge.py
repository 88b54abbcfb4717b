"""The judge (DIKE in docs/specification.md section 4): assess a text's behaviour through its emotions.

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
   baseline the paper compares with), whether it is morally wrong, and a rationale. Quotes in the
   rationale that the text does not contain, and sentences that echo a worked example of the
   prompt, are dropped (:func:`check_rationale`).
4. A trained head on sentence embeddings gives a second opinion on moral wrongness: a calibrated
   P(wrong) and the sentence it rests on (:meth:`.heads.EthicsHead.read`).
5. Behaviour is what the text does to its addressee, not how its author feels: a negative reading
   stands only with evidence that someone is at the receiving end (an addressee or third party
   with insults, threats or anger and disgust, :mod:`.address`; a guideline violation; the model's
   or the head's finding that it is wrong). Without it, a sad or frightened text is read neutral.
6. The verdict: the guardrail of the context and culture maps the behaviour intensity to allow,
   review or rectify; each violated guideline raises it to its severity; disagreement between the
   model and the head, or a conversation escalating toward hostility (the *trajectory*), raises it
   to review at least.

When the model and the head disagree, the judge trusts a guideline violation the model names with
words of the text (it sets the verdict at the guideline's severity), and treats the model's bare
"wrong" and a confident head (P(wrong) >= :data:`HEAD_DISAGREES`) alike: either raises an allowed
text to review and lets a negative behaviour reading stand. One exception: on a text that voices
its author's own sadness or fear and aims at nobody (:attr:`.address.AddressReading.distressed`),
the model's findings are set aside when the head finds the text not wrong (P(wrong) <
:data:`OVERRULE_BELOW`), because a small model takes misfortune for misconduct ("I don't know how
I'll pay rent" read as a property violation).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from difflib import SequenceMatcher
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr

from ..emotions.analysis import Analyzer
from ..errors import ConfigError
from ..llm.base import Backend, Message
from ..prompting import examples, render
from ..schema.language import LanguageReading
from ..schema.profile import EmotionProfile
from ..schema.usage import Usage
from ..sensors.language import CONDUCT_LANGUAGES, detect_language
from ..store.verdicts import VerdictRecord
from ..textio import check_text
from .address import AddressReading, read_address
from .calibrate import EDGE
from .guidelines import Conduct, Guardrail, GuidelineSet, Verdict, stricter
from .heads import MoralReading, embed_texts
from .injection import Injection, find_injections_many, sanitise, without_injections
from .keep import message_points
from .signatures import BehaviourReading, Signatures, builtin_signatures

#: A conversation whose behaviour falls by this much from its first turn is escalating.
ESCALATION = 0.5
#: The moral head's probability of "wrong" from which it disagrees with a model that saw none,
#: and from which a negative behaviour reading counts as aimed at someone (the head leans toward
#: "wrong" on many sad texts, so only a confident head is evidence). Chosen on the distress dev
#: set of ``benchmarks/ethics.py --distress``: the lowest threshold, in steps of 0.01, with which
#: the judge without its model allows at least 0.97 of the distressed-but-harmless texts (0.95,
#: the goal, plus a margin for a set of that size).
HEAD_DISAGREES = 0.83
#: On a distressed text that aims at nobody, the judge model's violations and "wrong" are set
#: aside when the moral head's P(wrong) is below this (the two opinions disagree, and a small model
#: takes misfortune for misconduct).
OVERRULE_BELOW = 0.5
#: Below this P(wrong) the moral head scores a text as harmless for the guidelines the conduct head
#: does not read (property, honesty ...): with a clear conduct head, a judge-model finding of one
#: of those is set aside. Strict, because the head's P(wrong) is only loosely calibrated (0.31 on
#: "I found a wallet with 200 dollars and kept it.").
MORAL_CLEAR = 0.2
#: Negative behaviour intensities below this need an attack (not only an addressee) to stand.
STRONG_NEGATIVE = -0.5


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
    wrong_probability: float | None = Field(description="The trained head's second opinion: calibrated P(wrong).")
    wrong_sentence: str | None = Field(default=None, description="The sentence P(wrong) rests on.")
    wrong_span: tuple[int, int] | None = Field(
        default=None, description="Character span of that sentence in judged_text."
    )
    conduct_probabilities: dict[str, float] | None = Field(
        default=None,
        description="The conduct head's probability per category, on the sentence or text it rests on "
        "(what calibration fits thresholds to).",
    )
    address: AddressReading | None = Field(default=None, description="Whom the text addresses or attacks.")
    rationale: str
    rationale_dropped: list[str] = Field(
        default_factory=list,
        description=(
            "Sentences of the model's rationale dropped: quotes the text lacks, or echoes of a worked example."
        ),
    )
    confidence: float = Field(ge=0.0, le=1.0)
    profile: EmotionProfile
    trajectory: Trajectory | None = None
    injections: list[Injection] = Field(
        default_factory=list, description="Sentences addressed to the judge, set aside."
    )
    reading: Literal["as written", "set aside", "disputed kept"] = Field(
        default="as written",
        description="Which reading of the text decided the verdict: with every flagged "
        "part set aside, or with the parts only one mechanism flagged kept in.",
    )
    readings: dict[str, Verdict] = Field(default_factory=dict, description="The verdict of each reading judged.")
    language: LanguageReading | None = Field(
        default=None, description="The detected language and whether the instruments were trained for it."
    )
    guidelines_version: str
    rulebook_version: str | None = None
    signatures: str | None = None
    models: dict[str, str]
    usage: Usage

    #: what the instruments read of the text (kept in this process only: :meth:`Judge.judge_again`)
    _instrument_readings: Any = PrivateAttr(default=None)

    @property
    def instrument_readings(self) -> InstrumentReadings | None:
        """What the instruments read of the text, for a second judge (None once loaded from JSON)."""
        return self._instrument_readings

    def record(self, source: str, *, verdict: str | None = None, **more: Any) -> VerdictRecord:
        """What the verdict log keeps of this judgement (``verdict``: the one acted on, when a
        policy changed it; ``more``: action, mode, case_id, shadow_rulebook, shadow_verdict)."""
        return VerdictRecord(
            source=source,
            context=self.context,
            language=self.language.code if self.language is not None else "und",
            verdict=verdict or self.verdict,
            judged_verdict=self.verdict,
            guideline=self.violations[0].guideline if self.violations else None,
            rulebook=self.rulebook_version,
            emotions={r.spectrum: round(r.intensity, 3) for r in self.profile.readings},
            **more,
        )


@dataclasses.dataclass
class GateThresholds:
    """Where the fast judge's gates start flagging in one context (:mod:`.calibrate`): the conduct
    head's review threshold per guideline (empty: the head's own), the moral head's P(wrong) from
    which it disagrees with an allowed verdict, and whether a text in an unsupported language goes
    to review."""

    moral: float
    language_review: bool
    conduct: dict[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class TextReading:
    """One reading of a text as the instruments saw it, computed once and passed along: the text,
    what the models read of it (``clean``, with the parts set aside in ``injections``), the name of
    the reading, the sensor's profile, the moral and conduct heads' readings and its language."""

    text: str
    clean: str
    injections: list[Injection]
    name: str
    profile: EmotionProfile
    moral: MoralReading | None
    conduct: Any
    language: LanguageReading


@dataclasses.dataclass
class InstrumentReadings:
    """What the instruments read of one text: a reading with every flagged part set aside, and a
    second with the disputed parts kept when there are any (``injections``: every part found)."""

    readings: list[TextReading]
    injections: list[Injection]


@dataclasses.dataclass
class BehaviourEvidence:
    """The behaviour on the guardrail's spectrum: by the emotion signatures, by the judge model
    (``llm``: its whole answer), the reading that decides (``read``) and the tokens it took."""

    spectrum: Any
    signatures: Signatures | None
    by_emotion: BehaviourReading | None
    direct: BehaviourReading | None
    read: BehaviourReading
    llm: dict[str, Any] | None
    usage: Usage


@dataclasses.dataclass
class Findings:
    """The evidence on a text: guideline violations, the model's and the moral head's views of
    wrongness, who it addresses, and what was set aside (as reasons)."""

    hits: list[GuidelineHit]
    wrong: bool | None
    p_wrong: float | None
    address: AddressReading
    reasons: list[str]


@dataclasses.dataclass
class Decided:
    """The verdict on a text with the behaviour reading that decided it and the reasons."""

    verdict: Verdict
    behaviour: BehaviourReading
    trajectory: Trajectory | None
    reasons: list[str]


class Judge:
    """Judges texts against one guideline set with fixed models.

    ``backend`` is the judge's language model (``None`` for emotion-mediated judgement only);
    ``analyzer`` reads emotions; ``signatures`` maps behaviour spectrum ids to learned signatures
    (the built-in ones by default); ``rulebook`` adds an SSHF rulebook's rules; ``head`` is the
    moral second opinion (the built-in commonsense head by default; ``False`` for none);
    ``needs_target=False`` lets a negative behaviour reading stand without evidence that someone is
    at its receiving end (the judge before that rule, kept for comparison); ``head_threshold`` is the
    head's P(wrong) from which it disagrees with an allowed verdict and counts as evidence for a
    negative reading (:data:`HEAD_DISAGREES`; ``benchmarks/ethics.py --distress`` sweeps it).
    """

    def __init__(
        self,
        guidelines: GuidelineSet,
        backend: Backend | None,
        analyzer: Analyzer,
        *,
        signatures: dict[str, Signatures] | None = None,
        rulebook: Any = None,
        head: Any = None,
        behaviour_method: Literal["emotion", "direct"] = "emotion",
        needs_target: bool = True,
        head_threshold: float = HEAD_DISAGREES,
        conduct: Any = None,
        conduct_multilingual: Any = None,
    ) -> None:
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
        if conduct is None and guidelines.conduct_head:
            from .conduct import load_conduct_head
            from .heads import HEADS_DIR

            conduct = load_conduct_head() if (HEADS_DIR / "conduct.npz").is_file() else False
        if conduct_multilingual is None and guidelines.conduct_head and conduct:
            from .conduct import load_multilingual_conduct_head
            from .heads import HEADS_DIR

            found = (HEADS_DIR / "conduct-e5.npz").is_file()
            conduct_multilingual = load_multilingual_conduct_head() if found else False
        #: The conduct head (:mod:`.conduct`): its findings count as violations of the guideline
        #: its category maps to in the guideline file. ``conduct_multilingual`` reads the texts the
        #: language detector gives to the multilingual reader (:mod:`..sensors.language`).
        self.conduct = conduct or None
        self.conduct_multilingual = conduct_multilingual or None
        self.behaviour_method = behaviour_method
        self.needs_target = needs_target
        self.head_threshold = head_threshold

    # -- the model's reading -------------------------------------------------------------------
    def _messages(self, text: str, guardrail: Guardrail) -> list[Message]:
        spectrum = self.guidelines.behaviour(guardrail.behaviour)
        levels = "\n".join(
            f"- {lv.word}: {lv.description}" if lv.description else f"- {lv.word}" for lv in spectrum.levels
        )
        rules = self.rulebook.prompt_lines() if self.rulebook is not None else ""
        rules = f"\nLearned rules (from the rulebook):\n{rules}\n" if rules else ""
        msgs = render(
            "judge",
            guidelines=self.guidelines.describe(),
            rules=rules,
            spectrum=spectrum.id,
            levels=levels,
            context=context_line(guardrail),
            text="$text",
        )
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
        return {
            "type": "object",
            "additionalProperties": False,
            "required": ["rationale", "wrong", "violations", "behaviour"],
            "properties": {
                "rationale": {"type": "string", "minLength": 1, "maxLength": 300},
                "wrong": {"type": "boolean"},
                "violations": {
                    "type": "array",
                    "maxItems": 3,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["guideline", "quote"],
                        "properties": {
                            "guideline": {"type": "string", "enum": ids},
                            "quote": {"type": "string", "maxLength": 160},
                        },
                    },
                },
                "behaviour": {"type": "string", "enum": words},
            },
        }

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
                not isinstance(v, dict) or v.get("guideline") not in ids for v in viol
            ):
                raise ValueError("violations must be a list of {guideline, quote} with known ids")
            return {
                "rationale": str(data.get("rationale", "")).strip(),
                "violations": viol,
                "behaviour": data["behaviour"],
                "wrong": data["wrong"],
            }

        assert self.backend is not None
        return self.backend.chat_json(self._messages(text, guardrail), schema, parse, max_tokens=260)

    # -- judgement -----------------------------------------------------------------------------
    def judge(
        self, text: str, context: str | None = None, culture: str | None = None, *, history: list[str] | None = None
    ) -> Judgement:
        """Judge ``text`` (the last turn of a conversation whose earlier turns are ``history``)."""
        text = check_text(text)
        history = [check_text(t, "history turn") for t in (history or [])]
        return self._judge_all([text], self.guidelines.guardrail(context, culture), history)[0]

    def judge_many(self, texts: list[str], context: str | None = None, culture: str | None = None) -> list[Judgement]:
        """Judge each of ``texts`` on its own, as :meth:`judge` does, with the encoders' work done
        in batches: the injection check, the emotion reading and the moral head each embed all the
        texts at once. The judge model, when there is one, is still asked once per text."""
        texts = [check_text(t) for t in texts]
        return self._judge_all(texts, self.guidelines.guardrail(context, culture), [])

    def judge_in_contexts(self, items: list[tuple[str, str]]) -> list[Judgement]:
        """Judge (text, context) pairs, in their order, one :meth:`judge_many` batch per context."""
        by_context: dict[str, list[int]] = {}
        for i, (_, context) in enumerate(items):
            by_context.setdefault(context, []).append(i)
        out: list[Judgement | None] = [None] * len(items)
        for context, idx in by_context.items():
            for i, j in zip(idx, self.judge_many([items[i][0] for i in idx], context), strict=True):
                out[i] = j
        return [j for j in out if j is not None]

    def _gates(self, guardrail: Guardrail) -> tuple[Guardrail, GateThresholds]:
        """The guardrail and the gate thresholds for its context: the judge's own, or those an
        active rulebook's calibration fitted to reviewers' decisions (:mod:`.calibrate`)."""
        cal = getattr(self.rulebook, "calibration", None)
        fitted = cal.for_context(guardrail.context) if cal is not None else None
        gates = GateThresholds(
            moral=self.head_threshold, language_review=self.guidelines.unsupported_language == "review"
        )
        if fitted is None:
            return guardrail, gates
        t = fitted.thresholds
        gates.conduct = {g.removeprefix("conduct:"): v for g, v in t.items() if g.startswith("conduct:")}
        gates.moral = t.get("moral", gates.moral)
        if "language" in t:
            gates.language_review = t["language"] <= 1.0
        low, high = guardrail.allowed
        low -= t.get("behaviour_low", EDGE) - EDGE  # the allowed range moved out (or in) by the fit
        high += t.get("behaviour_high", EDGE) - EDGE
        low, high = max(-1.0, min(low, high)), min(1.0, max(low, high))
        review = (min(guardrail.review[0], low), max(guardrail.review[1], high))
        guardrail = guardrail.model_copy(update={"allowed": (low, high), "review": review})
        return guardrail, gates

    def _calibrated(self, conduct: Any, gates: GateThresholds) -> Any:
        """A conduct reading with the fitted review threshold of its category's guideline."""
        if conduct is None or not gates.conduct:
            return conduct
        rule = self.guidelines.conduct_head.get(conduct.category)
        t = gates.conduct.get(rule.guideline) if rule is not None else None
        if t is None:
            return conduct
        return dataclasses.replace(
            conduct,
            review_threshold=t,
            threshold=max(conduct.threshold, t),
            clear_threshold=min(conduct.clear_threshold, t),
        )

    def judge_again(self, judgement: Judgement) -> Judgement:
        """Judge the text of ``judgement`` again in its context, reusing what the instruments
        read of it (the injection check, the sensor, the moral and conduct heads) when another
        judge of the same guideline set and instruments made it in this process, as the fast judge
        does before the one with the model: only this judge's language model reads the text anew.
        A judgement without those readings (loaded from JSON) is judged from its text."""
        read = judgement.instrument_readings
        if read is None:
            return self.judge(judgement.text, judgement.context, judgement.culture)
        guardrail, gates = self._gates(self.guidelines.guardrail(judgement.context, judgement.culture))
        return self._judge_read([read], guardrail, [], gates)[0]

    def _judge_all(self, texts: list[str], guardrail: Guardrail, history: list[str]) -> list[Judgement]:
        guardrail, gates = self._gates(guardrail)
        return self._judge_read(self._read_texts(texts, gates), guardrail, history, gates)

    def _judge_read(
        self, read: list[InstrumentReadings], guardrail: Guardrail, history: list[str], gates: GateThresholds
    ) -> list[Judgement]:
        """Each text judged from its readings (the stricter of two when part of it is disputed)."""
        out = []
        for readings in read:
            judged = [self._judge_reading(r, guardrail, history, gates) for r in readings.readings]
            combined = _combine(judged, readings.injections)
            combined._instrument_readings = readings
            out.append(combined)
        return out

    def _read_texts(self, texts: list[str], gates: GateThresholds) -> list[InstrumentReadings]:
        """What the instruments read of each text, in batches: the injection check, the emotion
        sensor, the language, the moral head and the conduct heads (the multilingual one for text
        in another language); the conduct readings carry the context's fitted thresholds."""
        found = find_injections_many(texts)
        plans = [_readings_of(text, injections) for text, injections in zip(texts, found, strict=True)]
        cleans = list(dict.fromkeys(clean for plan in plans for clean, _, _ in plan))
        batch = getattr(self.analyzer, "analyze_batch", None)
        read = batch(cleans, cues=True) if batch is not None else [self.analyzer.analyze(c) for c in cleans]
        profiles: dict[str, EmotionProfile] = dict(zip(cleans, read, strict=True))
        languages = {c: (profiles[c].language or detect_language(c)).for_instrument(CONDUCT_LANGUAGES) for c in cleans}
        morals, conducts = self._read_heads(cleans, languages)
        out = []
        for text, injections, plan in zip(texts, found, plans, strict=True):
            # the text with every flagged part set aside; the sensor's profile of it has read it already
            language = languages[plan[0][0]]
            readings = [
                TextReading(
                    text,
                    clean,
                    used,
                    name,
                    profiles[clean],
                    morals.get(clean),
                    self._calibrated(conducts.get(clean), gates),
                    language,
                )
                for clean, used, name in plan
            ]
            out.append(InstrumentReadings(readings, injections))
        return out

    def _read_heads(
        self, cleans: list[str], languages: dict[str, LanguageReading]
    ) -> tuple[dict[str, MoralReading], dict[str, Any]]:
        """The moral and conduct heads' readings of each text. English (and text too short to
        tell) is read by the English heads; other languages by the multilingual conduct head,
        where there is one (the moral head reads English only)."""
        other = [c for c in cleans if languages[c].reader == "multilingual" and self.conduct_multilingual is not None]
        english = [c for c in cleans if c not in set(other)]
        morals: dict[str, MoralReading] = {}
        conducts: dict[str, Any] = {}
        shared = getattr(self.head, "encoder", None)
        if self.head is not None and self.conduct is not None and shared == getattr(self.conduct, "encoder", "?"):
            emb = embed_texts(english, shared)  # one pass for both heads
            morals = dict(zip(english, self.head.read_embedded(emb), strict=True))
            conducts = dict(zip(english, self.conduct.read_embedded(emb), strict=True))
        else:
            if self.head is not None:
                morals = dict(zip(english, self.head.read_many(english), strict=True))
            if self.conduct is not None:
                conducts = dict(zip(english, self.conduct.read_many(english), strict=True))
        if other and self.conduct_multilingual is not None:
            conducts |= dict(zip(other, self.conduct_multilingual.read_many(other), strict=True))
        return morals, conducts

    def _judge_reading(
        self, r: TextReading, guardrail: Guardrail, history: list[str], gates: GateThresholds
    ) -> Judgement:
        """Judge one reading of a text in four steps: read its behaviour, find the evidence,
        decide the verdict, explain it."""
        b = self._read(r, guardrail)
        found = self._find(r, b)
        decided = self._decide(r, guardrail, history, gates, b, found)
        return self._explain(r, guardrail, b, found, decided)

    def _read(self, r: TextReading, guardrail: Guardrail) -> BehaviourEvidence:
        """The behaviour on the guardrail's spectrum as the emotion signatures read it from the
        profile and (with a judge model) as the model reads it directly."""
        spectrum = self.guidelines.behaviour(guardrail.behaviour)
        sig = self.signatures.get(spectrum.id)
        usage = Usage()
        usage.add(r.profile.usage)
        by_emotion = sig.classify(r.profile) if sig else None
        llm: dict[str, Any] | None = None
        direct = None
        if self.backend is not None:
            with self.backend.metered() as u:
                llm = self._ask(r.clean, guardrail)
            usage.add(u)
            lv = spectrum.level(llm["behaviour"])
            direct = BehaviourReading(
                spectrum=spectrum.id, level=lv.word, intensity=lv.intensity, method="direct", confidence=0.5
            )
        if by_emotion is None and direct is None:
            raise ConfigError(
                f"no emotion signatures for behaviour '{spectrum.id}' and no judge model: "
                "learn signatures with 'emoethics dike learn' or give a model"
            )
        use_direct = self.behaviour_method == "direct" and direct is not None
        read = direct if use_direct or by_emotion is None else by_emotion
        assert read is not None
        return BehaviourEvidence(spectrum, sig, by_emotion, direct, read, llm, usage)

    def _find(self, r: TextReading, b: BehaviourEvidence) -> Findings:
        """The guideline violations (the judge model's, the conduct head's, the rulebook's), the
        model's view of wrongness, the moral head's P(wrong) and who the text addresses."""
        p_wrong = round(r.moral.probability, 4) if r.moral is not None else None
        address = read_address(r.clean, r.profile)
        hits, wrong, set_aside = self._model_evidence(r.clean, b.llm, r.conduct, p_wrong, address)
        if r.conduct is not None and (r.conduct.harmful or r.conduct.doubtful):
            hits.append(self._conduct_hit(r.conduct))
        if self.rulebook is not None:
            hits += self.rulebook.matches(r.clean, r.profile)
        return Findings(hits, wrong, p_wrong, address, list(set_aside))

    def _decide(
        self,
        r: TextReading,
        guardrail: Guardrail,
        history: list[str],
        gates: GateThresholds,
        b: BehaviourEvidence,
        f: Findings,
    ) -> Decided:
        """The verdict: the guardrail's for the behaviour, made stricter by each violation, the
        model's or the moral head's doubt, an unsupported language and an escalating conversation."""
        reasons = list(f.reasons)
        behaviour, note = self._behaviour(b.read, b.spectrum, f.address, f.hits, f.wrong, f.p_wrong, r.conduct, r.clean)
        verdict = guardrail.verdict_for(behaviour.intensity)
        where = {"allow": "inside the allowed", "review": "inside the review", "rectify": "outside the review"}[verdict]
        reasons.append(
            f"behaviour '{behaviour.level}' ({behaviour.intensity:+.2f}, {behaviour.method}) is "
            f"{where} range of context '{guardrail.context}' (allowed {list(guardrail.allowed)}, "
            f"review {list(guardrail.review)})" + (f"; {note}" if note else "")
        )
        for h in f.hits:
            new = stricter(verdict, h.severity)
            if new != verdict:
                reasons.append(f"violates '{h.guideline}' (severity {h.severity}): \"{h.quote}\"")
            verdict = new
        if f.wrong and not f.hits:
            verdict = stricter(verdict, "review")
            reasons.append("the judge model finds it morally wrong without naming a guideline")
        if f.p_wrong is not None and f.p_wrong >= gates.moral and not f.hits and verdict == "allow":
            verdict = "review"
            on = r.moral.sentence if r.moral else r.clean
            reasons.append(f'the moral head disagrees (P(wrong) = {f.p_wrong:.2f}, on "{on}")')
        lang = r.language
        if lang.support == "unsupported" and self.backend is None and verdict == "allow" and gates.language_review:
            verdict = "review"
            reasons.append(
                f"written in '{lang.code}' (P = {lang.probability:.2f}), a language the fast path's "
                "instruments were not trained for: a person reviews it"
            )
        trajectory = None
        if history and b.signatures is not None:
            trajectory = self._trajectory(history + [r.clean], b.signatures, r.profile)
            if trajectory.escalating:
                verdict = stricter(verdict, "review")
                reasons.append(
                    f"the conversation escalates: behaviour moved {trajectory.change:+.2f} from the first turn"
                )
        return Decided(verdict, behaviour, trajectory, reasons)

    def _explain(
        self, r: TextReading, guardrail: Guardrail, b: BehaviourEvidence, f: Findings, d: Decided
    ) -> Judgement:
        """The judgement: the verdict with its reasons, a rationale that rests on the text's words
        (the model's, when it agrees with the verdict and quotes what it found), and every reading."""
        said, dropped = check_rationale((b.llm or {}).get("rationale", ""), r.clean, self._worked_examples())
        quotes = [_norm(h.quote) for h in f.hits if h.source == "judge model" and _norm(h.quote)]
        model_flags = bool(f.wrong) or bool(quotes)
        grounded = any(q in _norm(said) for q in quotes) if quotes else _quotes_text(said, r.clean)
        if said and (model_flags != (d.verdict != "allow") or not grounded):
            dropped.append(said)  # it contradicts the verdict, or does not rest on the words it found
            said = ""
        reasons = list(d.reasons)
        if r.injections:
            reasons.append(f"{len(r.injections)} sentence(s) addressed to the judge were set aside")
        if r.name == "disputed kept":
            reasons.append("read with the parts flagged by one mechanism only kept in")
        moral, conduct = r.moral, r.conduct
        return Judgement(
            text=r.text,
            judged_text=r.clean,
            context=guardrail.context,
            culture=guardrail.culture,
            verdict=d.verdict,
            reasons=reasons,
            behaviour=d.behaviour,
            behaviour_emotion=b.by_emotion,
            behaviour_direct=b.direct,
            guardrail=guardrail,
            violations=f.hits,
            wrong=f.wrong,
            wrong_probability=f.p_wrong,
            wrong_sentence=moral.sentence if moral else None,
            wrong_span=moral.span if moral else None,
            conduct_probabilities=(
                {k: round(v, 4) for k, v in conduct.probabilities.items()} if conduct is not None else None
            ),
            address=f.address,
            rationale=explain(d.verdict, d.behaviour, f.hits, moral, conduct, r.profile, said),
            rationale_dropped=dropped,
            confidence=_confidence(d.behaviour, f.wrong, f.p_wrong, f.hits),
            profile=r.profile,
            trajectory=d.trajectory,
            injections=r.injections,
            reading=r.name,
            language=r.language,
            guidelines_version=self.guidelines.version,
            rulebook_version=self.rulebook.id if self.rulebook is not None else None,
            signatures=b.signatures.id if b.signatures else None,
            models=self._models(r),
            usage=b.usage,
        )

    def _models(self, r: TextReading) -> dict[str, str]:
        """The models behind a judgement, by role."""
        models = {"analyzer": r.profile.analyzer or self.analyzer.name}
        if self.backend is not None:
            models["judge"] = self.backend.id
        if self.head is not None and r.moral is not None:
            models["head"] = self.head.id
        if r.conduct is not None:
            models["conduct"] = getattr(r.conduct, "head_id", None) or (self.conduct.id if self.conduct else "")
        return models

    def _behaviour(
        self,
        read: BehaviourReading,
        spectrum: Any,
        address: AddressReading,
        hits: list[GuidelineHit],
        wrong: bool | None,
        p_wrong: float | None,
        conduct: Any = None,
        text: str = "",
    ) -> tuple[BehaviourReading, str]:
        """The reading that decides the guardrail, and a note when it is not ``read`` itself: a
        negative reading needs evidence that someone is at its receiving end; without it the text
        is read at the neutral level (its author's own sadness or fear is no misconduct). When the
        conduct head is confident that the text harms nobody, an addressee alone is no such
        evidence: the reading is held at the spectrum's mildest negative level (a firm request with
        some annoyance is not contempt), unless insults are found outside quotation marks (counter-speech
        quotes the abuse it condemns; threats are the conduct head's to read)."""
        if read.intensity >= 0 or not self.needs_target:
            return read, ""
        evidence = []
        if hits:
            evidence.append("a guideline violation")
        if wrong:
            evidence.append("the judge model finds it wrong")
        if p_wrong is not None and p_wrong >= self.head_threshold:
            evidence.append(f"the moral head's P(wrong) {p_wrong:.2f}")
        unquoted = _QUOTED.sub(" ", text).lower()
        abuse = [w for w in address.insults if w.lower() in unquoted]  # threats: the conduct head reads them
        if not evidence and conduct is not None and conduct.clear and address.addressee and not abuse:
            # anger at the reader without insults or threats: a complaint, a firm request, blame
            floor = min((lv for lv in spectrum.levels if lv.intensity < 0), key=lambda lv: -lv.intensity)
            if read.intensity >= floor.intensity:
                return read, ""
            return (
                read.model_copy(update={"level": floor.word, "intensity": floor.intensity}),
                f"read '{read.level}' from emotions, but the conduct head finds nothing aimed to hurt "
                f"(P(harmful) {conduct.probability:.2f}) and nothing is found wrong: held at '{floor.word}'",
            )
        if address.targets_someone:
            evidence.append(address.describe())
        elif read.intensity > STRONG_NEGATIVE and (address.addressee or address.third_party):
            evidence.append("a mild stance toward " + ("the addressee" if address.addressee else "a third party"))
        if evidence:
            return read, "negative reading upheld: " + "; ".join(evidence)
        neutral = spectrum.nearest(0.0)
        return (
            read.model_copy(update={"level": neutral.word, "intensity": neutral.intensity}),
            f"read '{read.level}' from emotions alone, but nobody is addressed or attacked "
            f"({address.describe()}) and nothing is found wrong: the author's own feelings, "
            f"read as '{neutral.word}'",
        )

    def _conduct_hit(self, conduct: Any) -> GuidelineHit:
        """The violation a harmful conduct reading counts as (the guideline file's ``conduct_head``);
        a reading in the review band counts at severity review."""
        rule = self.guidelines.conduct_head.get(conduct.category)
        gid = rule.guideline if rule is not None else "no-harm"
        item = self.guidelines.conduct_item(gid)
        principle = item.principle if isinstance(item, Conduct) else item.virtue
        severity = rule.severity if rule is not None and conduct.harmful else "review"
        band = "" if conduct.harmful else f", below {conduct.threshold:.2f}: for review"
        return GuidelineHit(
            guideline=gid,
            kind="conduct",
            principle=principle,
            severity=severity,
            quote=conduct.sentence,
            span=conduct.span,
            source=f"conduct head ({conduct.category.replace('_', ' ')}, P = {conduct.probability:.2f}{band})",
        )

    def _model_evidence(
        self, clean: str, llm: dict[str, Any] | None, conduct: Any, p_wrong: float | None, address: AddressReading
    ) -> tuple[list[GuidelineHit], bool | None, list[str]]:
        """The judge model's violations that count as evidence, its "wrong", and the reasons for what
        was set aside. The model can add evidence, never overturn the heads on its word alone:

        - a violation counts only with a quote found in the text that the heads do not clear
          (:meth:`_admitted`);
        - its bare "wrong" goes when the conduct head is clear and none of its violations stands;
        - on a text that voices its author's distress and aims at nobody, its findings go when the
          moral head finds the text not wrong (P(wrong) below :data:`OVERRULE_BELOW`, or below
          :data:`HEAD_DISAGREES` when the conduct head is clear): a small model takes misfortune for
          misconduct;
        - on a request or complaint to the reader that the conduct head clears, they go unless the
          moral head is confident (P(wrong) from :data:`HEAD_DISAGREES`): asking someone to move
          their car or stop texting at night is no misconduct of the writer's."""
        if not llm:
            return [], None, []
        hits, why = self._admitted(self._hits(clean, llm), conduct, p_wrong)
        reasons = [why] if why else []
        wrong = llm["wrong"]
        clear = conduct is not None and conduct.clear
        if wrong and not hits and clear:
            reasons.append(
                "the judge model's 'wrong' is set aside: no violation it names rests on words of the text "
                f"that the heads do not clear ({_heads_line(conduct, p_wrong)})"
            )
            wrong = False
        if not (hits or wrong):
            return hits, wrong, reasons
        found = ", ".join(h.guideline for h in hits) or "wrong"
        overrule = HEAD_DISAGREES if clear else OVERRULE_BELOW
        if address.distressed and p_wrong is not None and p_wrong < overrule:
            reasons.append(
                f"the judge model's finding ({found}) is set aside: the text voices its author's distress "
                f"({address.describe()}) and the moral head finds it not wrong (P(wrong) = {p_wrong:.2f})"
            )
            return [], False, reasons
        if clear and (p_wrong is None or p_wrong < HEAD_DISAGREES):
            asks = [p.text for p in message_points(clean) if p.kind == "request"]
            if asks:
                reasons.append(
                    f"the judge model's finding ({found}) is set aside: the text asks something of its reader "
                    f'("{asks[0]}"), the conduct head finds nothing aimed to hurt (P(harmful) '
                    f"{conduct.probability:.2f})"
                    + (f" and the moral head is not confident it is wrong (P(wrong) {p_wrong:.2f})" if p_wrong else "")
                )
                return [], False, reasons
        return hits, wrong, reasons

    def _admitted(
        self, found: list[GuidelineHit], conduct: Any, p_wrong: float | None
    ) -> tuple[list[GuidelineHit], str]:
        """The judge model's violations that count as evidence, and a reason naming those set aside.

        A violation counts only when it quotes words that exist in the text (a located span) and
        the heads do not score the text as harmless for it (:func:`_heads_clear`): the model can add
        evidence, never overturn a confident head's allow on its word alone."""
        kept, dropped = [], []
        covered = {rule.guideline for rule in self.guidelines.conduct_head.values()}
        cleared = False
        for h in found:
            if h.span is None:
                dropped.append(f"'{h.guideline}' (its quote is not in the text)")
            elif _heads_clear(conduct, p_wrong, h.guideline in covered):
                dropped.append(f"'{h.guideline}' on \"{h.quote}\" (the heads find it harmless)")
                cleared = True
            else:
                kept.append(h)
        if not dropped:
            return kept, ""
        why = f"the judge model's finding {', '.join(dropped)} is set aside"
        return kept, why + (f": {_heads_line(conduct, p_wrong)}" if cleared else "")

    def _worked_examples(self) -> list[str]:
        """The texts and rationales of the prompt's worked examples (a rationale must not echo them)."""
        out = []
        for ex in examples("judge_examples") or []:
            out += [str(ex.get("text", "")), str(ex.get("answer", {}).get("rationale", ""))]
        return out

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
                principle = (
                    item.principle
                    if isinstance(item, Conduct)
                    else f"{item.virtue} (between {item.deficiency} and {item.excess})"
                )
                severity = item.severity if isinstance(item, Conduct) else "review"
            quote, span = locate(text, str(v.get("quote", "")))
            hits.append(
                GuidelineHit(
                    guideline=gid,
                    kind=kind,
                    principle=principle,
                    severity=severity,
                    quote=quote,
                    span=span,
                    source="judge model",
                )
            )
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


def _heads_clear(conduct: Any, p_wrong: float | None, covered: bool = False) -> bool:
    """Whether the heads score the text as harmless for a guideline: the conduct head is confident
    that it harms nobody, and for a guideline it does not read (``covered`` False: property,
    honesty ...) the moral head finds it not wrong too (P(wrong) below :data:`MORAL_CLEAR`)."""
    if conduct is None or not conduct.clear:
        return False
    return covered or (p_wrong is not None and p_wrong < MORAL_CLEAR)


def _heads_line(conduct: Any, p_wrong: float | None) -> str:
    parts = [f"conduct head P(harmful) {conduct.probability:.2f}"] if conduct is not None else []
    if p_wrong is not None:
        parts.append(f"moral head P(wrong) {p_wrong:.2f}")
    return ", ".join(parts)


def _quotes_text(sentence: str, text: str) -> bool:
    """Whether ``sentence`` quotes words of ``text`` or shares a run of three words with it."""
    if _QUOTED.search(sentence):
        return True  # check_rationale has already dropped misquotes
    ws, body = _norm(sentence).split(), f" {_norm(text)} "
    return any(f" {' '.join(ws[i : i + 3])} " in body for i in range(len(ws) - 2))


def explain(
    verdict: str,
    behaviour: BehaviourReading,
    hits: list[GuidelineHit],
    moral: MoralReading | None,
    conduct: Any,
    profile: EmotionProfile,
    said: str = "",
) -> str:
    """The rationale, assembled from the evidence: the verdict, each violation with its quoted span
    and source, the heads' probabilities, the behaviour and the emotion reading; then the judge
    model's own sentence (``said``) when it was kept."""
    parts = [f"{verdict.capitalize()}."]
    for h in hits:
        parts.append(f"Violates '{h.guideline}' (severity {h.severity}) in \"{h.quote}\" ({h.source}).")
    if not hits:
        parts.append("No guideline is violated.")
    heads = []
    if conduct is not None and not any(h.source.startswith("conduct head") for h in hits):
        heads.append(f"conduct head P(harmful) {conduct.probability:.2f} ({conduct.category.replace('_', ' ')})")
    if moral is not None:
        heads.append(f'moral head P(wrong) {moral.probability:.2f} on "{moral.sentence}"')
    if heads:
        parts.append("Heads: " + "; ".join(heads) + ".")
    felt = [r for r in sorted(profile.readings, key=lambda r: -abs(r.intensity)) if abs(r.intensity) >= 0.05]
    emotions = ", ".join(f"{r.level} ({r.intensity:+.1f})" for r in felt) or "none"
    parts.append(f"Behaviour '{behaviour.level}' ({behaviour.intensity:+.2f}); emotions: {emotions}.")
    if said:
        parts.append("Judge model: " + said.rstrip())
    return " ".join(parts)


def _readings_of(text: str, injections: list[Injection]) -> list[tuple[str, list[Injection], str]]:
    """The readings of ``text`` to judge, as (what the models read, the parts set aside, name):
    the text as written when nothing is flagged; else with the flagged parts set aside and, when
    the lists and the learned detector disagree on some parts, with those parts kept in too."""
    if not injections:
        return [(text, [], "as written")]
    plan = [(sanitise(without_injections(text, injections)) or text, injections, "set aside")]
    if any(i.disputed for i in injections):
        agreed = [i for i in injections if not i.disputed]
        plan.append((sanitise(without_injections(text, agreed)) or text, agreed, "disputed kept"))
    return plan


def _combine(judged: list[Judgement], injections: list[Injection]) -> Judgement:
    """One text's judgement from its readings (:func:`_readings_of`): the stricter verdict, so
    that setting aside a part never makes a harmful text look harmless."""
    if len(judged) == 1:
        first = judged[0]
        return first if not injections else first.model_copy(update={"readings": {"set aside": first.verdict}})
    first, second = judged
    disputed = [i for i in injections if i.disputed]
    readings = {"set aside": first.verdict, "disputed kept": second.verdict}
    stricter_one = second if stricter(first.verdict, second.verdict) != first.verdict else first
    usage = Usage()
    usage.add(first.usage)
    usage.add(second.usage)
    reasons = list(stricter_one.reasons)
    reasons.append(
        f"{len(disputed)} part(s) flagged by one mechanism only; the reading "
        f"'{stricter_one.reading}' decided ({first.verdict} with them set aside, "
        f"{second.verdict} with them kept)"
    )
    return stricter_one.model_copy(
        update={"readings": readings, "usage": usage, "reasons": reasons, "injections": injections}
    )


def context_line(g: Guardrail) -> str:
    """The context of a guardrail as the prompts name it: its name, culture and audience."""
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
        return text[i : i + len(quote)], (i, i + len(quote))
    best, best_span, best_r = "", None, 0.0
    for m in re.finditer(r"[^.!?]+[.!?]*", text):
        r = SequenceMatcher(None, quote.lower(), m.group(0).lower()).ratio()
        if r > best_r:
            best, best_span, best_r = m.group(0).strip(), (m.start(), m.end()), r
    return (best, best_span) if best_r >= 0.4 else (quote, None)


_QUOTED = re.compile(r"[\"“”«»]([^\"“”«»]{2,}?)[\"“”«»]|(?<![\w'])'([^']{3,}?)'(?![\w'])")
_WORD = re.compile(r"[a-z0-9']+")
#: A rationale sentence sharing this many consecutive words with a worked example (and not with
#: the judged text) echoes the example.
ECHO_WORDS = 5


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def check_rationale(rationale: str, text: str, worked: Sequence[str] = ()) -> tuple[str, list[str]]:
    """The model's rationale without the sentences it cannot stand behind, and those sentences.

    A sentence is dropped when it quotes words (in double quotes, or single quotes around three
    or more characters) that ``text`` does not contain, or when it shares :data:`ECHO_WORDS`
    consecutive words with a worked example of ``worked`` that ``text`` does not share (a phrase
    carried over from the prompt, not read in the text)."""
    body = _norm(text)
    shingles: set[str] = set()
    for w in worked:
        ws = _norm(w).split()
        shingles |= {" ".join(ws[i : i + ECHO_WORDS]) for i in range(len(ws) - ECHO_WORDS + 1)}
    kept: list[str] = []
    dropped: list[str] = []
    for m in re.finditer(r"[^.!?]+[.!?]*", rationale or ""):
        sentence = m.group(0).strip()
        if not sentence:
            continue
        quotes = [q for pair in _QUOTED.findall(sentence) for q in pair if q.strip()]
        misquoted = any(_norm(q) and _norm(q) not in body for q in quotes)
        ws = _norm(sentence).split()
        echo = any(
            (sh := " ".join(ws[i : i + ECHO_WORDS])) in shingles and sh not in body
            for i in range(len(ws) - ECHO_WORDS + 1)
        )
        (dropped if misquoted or echo else kept).append(sentence)
    return " ".join(kept), dropped


def _confidence(
    behaviour: BehaviourReading, wrong: bool | None, p_wrong: float | None, hits: list[GuidelineHit]
) -> float:
    """How sure the judgement is: the behaviour reading's confidence, and whether the model's
    and the head's views of wrongness agree (a strong head that disagrees lowers it)."""
    conf = behaviour.confidence
    if p_wrong is not None and wrong is not None:
        flagged = wrong or bool(hits)
        agree = flagged == (p_wrong >= 0.5)
        certainty = abs(p_wrong - 0.5) * 2
        conf = 0.5 * conf + 0.5 * (0.5 + 0.5 * certainty if agree else 0.5 - 0.5 * certainty)
    return round(min(1.0, max(0.0, conf)), 3)
