"""Emotion analysis: text -> :class:`EmotionProfile`.

An *analyser* is anything with a ``name`` and an ``analyze(text) -> EmotionProfile`` method.
:class:`LLMAnalyzer` asks a chat model, under a JSON schema built from the emotion model, to pick
one level word per spectrum and quote the cues behind it (few-shot prompt in
``prompts/analyze.md`` and ``prompts/analyze_examples.yaml``). The level word gives the signed
intensity (its anchor); cues that do not occur in the text are dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from ..llm.base import Backend, Message
from ..prompting import examples, render
from ..schema.emotion_models import EmotionModel, Spectrum, load_model
from ..schema.profile import EmotionProfile, SpectrumReading
from ..schema.usage import Usage
from ..textio import check_text

#: How the model's confidence words map to numbers.
CONFIDENCE = {"low": 0.35, "medium": 0.65, "high": 0.9}


class Analyzer(Protocol):
    """Reads the emotions a text expresses."""

    name: str
    emotion_model: EmotionModel

    def analyze(self, text: str) -> EmotionProfile: ...


class LLMAnalyzer:
    """Emotion analysis by a chat model with schema-constrained output."""

    def __init__(self, backend: Backend, model: str | EmotionModel = "plutchik") -> None:
        self.backend = backend
        self.emotion_model = load_model(model)
        self.name = f"llm:{backend.id}"
        #: The JSON schema of one text's readings, and the few-shot turns every prompt starts with.
        self.schema = reading_schema(self.emotion_model)
        self._prefix = self._few_shot()

    def _few_shot(self) -> list[Message]:
        m = self.emotion_model
        spectra = "\n".join(f"- {s.describe()}" for s in m.spectra)
        msgs = render("analyze", spectra=spectra)
        for ex in examples("analyze_examples").get(m.id, []):
            msgs += render("analyze_text", text=ex["text"])
            answer = {}
            for s in m.spectra:
                r = ex["readings"].get(s.id) or {"level": s.neutral().word, "cues": [], "confidence": "high"}
                answer[s.id] = {"cues": r["cues"], "level": r["level"], "confidence": r["confidence"]}
            msgs.append({"role": "assistant", "content": json.dumps(answer, ensure_ascii=False)})
        return msgs

    def messages(self, text: str) -> list[Message]:
        """The chat messages sent to the model for ``text``: the few-shot turns, then the text."""
        return self._prefix + render("analyze_text", text=text)

    def analyze(self, text: str) -> EmotionProfile:
        """The emotion profile of ``text``."""
        text = check_text(text)
        messages = self.messages(text)
        with self.backend.metered() as usage:
            readings = self.backend.chat_json(
                messages,
                self.schema,
                lambda data: parse_readings(data, self.emotion_model, text),
                max_tokens=110 * len(self.emotion_model.spectra),
            )
        return EmotionProfile(emotion_model=self.emotion_model.id, analyzer=self.name, readings=readings, usage=usage)

    def analyze_several(self, texts: list[str]) -> list[EmotionProfile | None]:
        """Profiles of several texts from one call (``prompts/analyze_batch.md``): the texts are
        numbered in one message and the answer has one entry per number. An entry that is missing
        or invalid comes back as ``None``, for the caller to analyse that text on its own. The
        call's usage is reported on the first profile."""
        texts = [check_text(t) for t in texts]
        if len(texts) == 1:
            return [self.analyze(texts[0])]
        keys = [str(i) for i in range(1, len(texts) + 1)]
        blocks = "\n\n".join(
            render("analyze_batch_item", n=k, text=t)[0]["content"] for k, t in zip(keys, texts, strict=True)
        )
        messages = self._prefix + render("analyze_batch", n=len(texts), texts=blocks)
        schema = {
            "type": "object",
            "additionalProperties": False,
            "properties": {k: self.schema for k in keys},
            "required": keys,
        }

        def parse(data: Any) -> list[list[SpectrumReading] | None]:
            if not isinstance(data, dict):
                raise ValueError(f'expected a JSON object with keys "1" to "{len(texts)}"')
            out: list[list[SpectrumReading] | None] = []
            for k, t in zip(keys, texts, strict=True):
                try:
                    out.append(parse_readings(data.get(k), self.emotion_model, t))
                except ValueError:
                    out.append(None)
            if all(o is None for o in out):
                raise ValueError(f'no valid entry among keys "1" to "{len(texts)}"')
            return out

        with self.backend.metered() as usage:
            parsed = self.backend.chat_json(
                messages, schema, parse, max_tokens=110 * len(self.emotion_model.spectra) * len(texts)
            )
        profiles: list[EmotionProfile | None] = []
        for readings in parsed:
            if readings is None:
                profiles.append(None)
                continue
            first = not any(p is not None for p in profiles)
            profiles.append(
                EmotionProfile(
                    emotion_model=self.emotion_model.id,
                    analyzer=self.name,
                    readings=readings,
                    usage=usage if first else Usage(),
                )
            )
        return profiles


def reading_schema(model: EmotionModel) -> dict[str, Any]:
    """JSON schema of an analysis answer: per spectrum cues, a level word and a confidence."""

    def one(s: Spectrum) -> dict[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "cues": {"type": "array", "maxItems": 3, "items": {"type": "string", "maxLength": 80}},
                "level": {"type": "string", "enum": list(s.levels)},
                "confidence": {"type": "string", "enum": list(CONFIDENCE)},
            },
            "required": ["cues", "level", "confidence"],
        }

    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {s.id: one(s) for s in model.spectra},
        "required": [s.id for s in model.spectra],
    }


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip().lower()


def parse_readings(data: Any, model: EmotionModel, text: str) -> list[SpectrumReading]:
    """Validate a model's analysis answer; raise ``ValueError`` saying what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object with one entry per spectrum")
    haystack = _norm(text)
    readings = []
    for s in model.spectra:
        r = data.get(s.id)
        if not isinstance(r, dict):
            raise ValueError(f"missing entry for spectrum '{s.id}'")
        word = str(r.get("level", "")).strip().lower()
        match = [lv for lv in s.anchors() if lv.word.lower() == word]
        if not match:
            raise ValueError(f"'{word}' is not a level of {s.id}; choose one of {s.levels}")
        lv = match[0]
        raw_cues = r.get("cues") or []
        if not isinstance(raw_cues, list):
            raise ValueError(f"{s.id}.cues must be a list of phrases")
        cues = [c.strip() for c in raw_cues if isinstance(c, str) and c.strip() and _norm(c) in haystack][:3]
        if lv.intensity == 0:
            cues = []
        conf = CONFIDENCE.get(str(r.get("confidence", "")).lower(), CONFIDENCE["medium"])
        readings.append(
            SpectrumReading(
                spectrum=s.id,
                negative=s.negative,
                positive=s.positive,
                intensity=lv.intensity,
                level=lv.word,
                cues=cues,
                confidence=conf,
            )
        )
    return readings


def analyze_many(
    analyzer: Analyzer, texts: Iterable[str], *, concurrency: int = 1, on_done: Callable[[int], None] | None = None
) -> list[EmotionProfile]:
    """Profiles of ``texts`` in order, ``concurrency`` at a time; ``on_done(i)`` after each."""
    texts = list(texts)
    batch = getattr(analyzer, "analyze_batch", None)
    if batch is not None and len(texts) > 1:  # non-LLM analysers score many texts at once
        out: list[EmotionProfile] = []
        for start in range(0, len(texts), 256):
            out += batch(texts[start : start + 256])
            if on_done:
                for i in range(start, min(start + 256, len(texts))):
                    on_done(i)
        return out

    def one(i: int) -> EmotionProfile:
        p = analyzer.analyze(texts[i])
        if on_done:
            on_done(i)
        return p

    if concurrency <= 1:
        return [one(i) for i in range(len(texts))]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(one, range(len(texts))))
