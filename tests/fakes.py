"""Scripted test doubles for loop logic. They are not backends anyone should use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emoethics.llm.base import Backend, Completion
from emoethics.schema.emotion_models import EmotionModel, load_model
from emoethics.schema.profile import EmotionProfile, SpectrumReading


class ScriptedBackend(Backend):
    """Returns the scripted replies in order; records every message list it was sent."""

    kind = "scripted"

    def __init__(self, replies: list[str] | Callable[[list[dict]], str], **kw: Any) -> None:
        super().__init__("script", **kw)
        self.replies = replies
        self.sent: list[list[dict]] = []

    def _complete(self, messages, *, temperature, max_tokens, seed, json_schema) -> Completion:
        self.sent.append(messages)
        if callable(self.replies):
            text = self.replies(messages)
        else:
            text = self.replies[min(len(self.sent) - 1, len(self.replies) - 1)]
        return Completion(text=text, prompt_tokens=10, completion_tokens=5)


class ScriptedAnalyzer:
    """Measures each text by looking it up in a {text: {spectrum: level}} table."""

    def __init__(self, table: dict[str, dict[str, str]], model: str | EmotionModel = "plutchik"):
        self.emotion_model = load_model(model)
        self.name = "scripted-critic"
        self.table = table
        self.seen: list[str] = []

    def analyze(self, text: str) -> EmotionProfile:
        self.seen.append(text)
        levels = self.table.get(text, {})
        readings = []
        for s in self.emotion_model.spectra:
            lv = s.level(levels.get(s.id, s.neutral().word))
            readings.append(
                SpectrumReading(
                    spectrum=s.id,
                    negative=s.negative,
                    positive=s.positive,
                    intensity=lv.intensity,
                    level=lv.word,
                    cues=[],
                    confidence=0.9,
                )
            )
        return EmotionProfile(emotion_model=self.emotion_model.id, analyzer=self.name, readings=readings)


def answer_for(schema: dict | None, seed: str = "") -> object:
    """A deterministic value that satisfies ``schema`` (the subset of JSON Schema the prompts use)."""
    if not schema:
        return "A calm and considerate reply."
    if "enum" in schema:
        return schema["enum"][len(seed) % len(schema["enum"])]
    if "anyOf" in schema:
        return answer_for(schema["anyOf"][0], seed)
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "null")
    if t == "object":
        props = schema.get("properties", {})
        return {k: answer_for(v, seed + k) for k, v in props.items() if k in schema.get("required", props)}
    if t == "array":
        n = max(schema.get("minItems", 1), 1)
        n = min(n, schema.get("maxItems", n))
        return [answer_for(schema.get("items", {}), seed + str(i)) for i in range(n)]
    if t in ("number", "integer"):
        lo = schema.get("minimum", 0)
        hi = schema.get("maximum", lo + 1)
        v = lo + (hi - lo) * ((len(seed) % 7) / 7)
        return int(v) if t == "integer" else round(v, 3)
    if t == "boolean":
        return len(seed) % 2 == 0
    if t == "null":
        return None
    words = f"Please note, {seed or 'this'} matters to me and I ask you kindly to consider it. "
    text = (words * 10)[: schema.get("maxLength", 200)].strip()
    return text.ljust(schema.get("minLength", 0), ".")


class SchemaBackend(Backend):
    """Answers every request with a valid value for its JSON schema (plain text without one)."""

    kind = "schema"

    def __init__(self, **kw: Any) -> None:
        super().__init__("schema", **kw)
        self.calls = 0

    def _complete(self, messages, *, temperature, max_tokens, seed, json_schema) -> Completion:
        self.calls += 1
        import json

        value = answer_for(json_schema, str(self.calls))
        return Completion(text=json.dumps(value) if json_schema else str(value), prompt_tokens=20, completion_tokens=10)
