"""A plugin package for the tests: registers a backend that answers every chat with one fixed
sentence (a test double: it shows that a plugin's backend is reachable from the command line),
an analyser that reads every text with the built-in sensor and says so in its name, and the
built-in guideline set and emotion model under new names."""

from __future__ import annotations

from emoethics.ethics.guidelines import DATA_DIR as GUIDELINES
from emoethics.llm.base import Backend, Completion
from emoethics.schema.emotion_models import DATA_DIR as EMOTION_MODELS

ANSWER = "Hello from the demo plugin."


class EchoBackend(Backend):
    kind = "demo-echo"

    def _complete(self, messages, *, temperature, max_tokens, seed, json_schema) -> Completion:
        return Completion(text=ANSWER, prompt_tokens=1, completion_tokens=1)


class NamedSensor:
    """The emotion sensor under the plugin's name."""

    def __init__(self, emotion_model) -> None:
        from emoethics.sensors.emotion_sensor import EmotionSensor

        self.inner = EmotionSensor(emotion_model)
        self.emotion_model = emotion_model
        self.name = "demo-sensor:" + self.inner.name

    def analyze(self, text: str, cues: bool = True):
        return self.inner.analyze(text, cues=cues).model_copy(update={"analyzer": self.name})


def register(registry) -> None:
    registry.backend("demo-echo", lambda spec, cache: EchoBackend(spec.model or "echo", cache))
    registry.analyzer("demo-sensor", lambda emotion_model, session: NamedSensor(emotion_model))
    registry.guidelines("demo-default", GUIDELINES / "default.yaml")
    registry.emotion_model("demo-plutchik", EMOTION_MODELS / "plutchik.yaml")
