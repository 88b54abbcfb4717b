"""Scripted test doubles for loop logic. They are not backends anyone should use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emoethics.emotions.models import EmotionModel, load_model
from emoethics.emotions.profile import EmotionProfile, SpectrumReading
from emoethics.llm.base import Backend, Completion


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
            readings.append(SpectrumReading(spectrum=s.id, negative=s.negative,
                                            positive=s.positive, intensity=lv.intensity,
                                            level=lv.word, cues=[], confidence=0.9))
        return EmotionProfile(emotion_model=self.emotion_model.id, analyzer=self.name,
                              readings=readings)
