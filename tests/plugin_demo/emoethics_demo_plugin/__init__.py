"""A plugin package for the tests: registers a backend that answers every chat with one fixed
sentence (a test double: it shows that a plugin's backend is reachable from the command line),
and the built-in guideline set and emotion model under new names."""

from __future__ import annotations

from emoethics.ethics.guidelines import DATA_DIR as GUIDELINES
from emoethics.llm.base import Backend, Completion
from emoethics.schema.emotion_models import DATA_DIR as EMOTION_MODELS

ANSWER = "Hello from the demo plugin."


class EchoBackend(Backend):
    kind = "demo-echo"

    def _complete(self, messages, *, temperature, max_tokens, seed, json_schema) -> Completion:
        return Completion(text=ANSWER, prompt_tokens=1, completion_tokens=1)


def register(registry) -> None:
    registry.backend("demo-echo", lambda spec, cache: EchoBackend(spec.model or "echo", cache))
    registry.guidelines("demo-default", GUIDELINES / "default.yaml")
    registry.emotion_model("demo-plutchik", EMOTION_MODELS / "plutchik.yaml")
