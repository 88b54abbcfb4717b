"""Real decoding with the small packaged SmolLM2-135M model through the local backend."""

from __future__ import annotations

import pytest

import emoethics
from emoethics.emotions.analysis import LLMAnalyzer
from emoethics.llm.weights import SMOLLM2, resolve_model_path

from conftest import requires_smollm

pytestmark = requires_smollm


@pytest.fixture(scope="module")
def small():
    from emoethics.llm.local import LocalBackend

    return LocalBackend("smollm2", n_ctx=4096)


def test_resolves_packaged_model_offline():
    name, path = resolve_model_path("smollm2")
    assert name == SMOLLM2.name and path.is_file() and path.suffix == ".gguf"


def test_plain_chat_decodes_text(small):
    text = small.chat([{"role": "user", "content": "Say hello."}], max_tokens=16)
    assert isinstance(text, str) and text.strip()
    assert small.usage.completion_tokens > 0 and small.id == f"local:{SMOLLM2.name}"


def test_schema_constrained_output_is_valid(small):
    schema = {
        "type": "object",
        "properties": {"colour": {"type": "string", "enum": ["red", "green", "blue"]}, "count": {"type": "integer"}},
        "required": ["colour", "count"],
    }

    def parse(d):
        if d["colour"] not in ("red", "green", "blue") or not isinstance(d["count"], int):
            raise ValueError("bad")
        return d

    out = small.chat_json(
        [{"role": "user", "content": "Pick a colour and a count as JSON."}], schema, parse, max_tokens=40
    )
    assert out["colour"] in ("red", "green", "blue")


def test_analysis_with_small_model_gives_every_spectrum(small):
    p = LLMAnalyzer(small, "plutchik").analyze("I am so happy today, thank you!")
    assert [r.spectrum for r in p.readings] == [s.id for s in emoethics.load_model().spectra]
    for r in p.readings:
        assert -1 <= r.intensity <= 1 and r.level in emoethics.load_model().spectrum(r.spectrum).levels
        assert all(c.lower() in "i am so happy today, thank you!" for c in r.cues)
    assert p.analyzer == f"llm:local:{SMOLLM2.name}" and p.usage.calls >= 1


def test_rewrite_and_respond_run_end_to_end_on_small_model(small):
    critic = LLMAnalyzer(small, "plutchik")
    r = emoethics.rewrite("The meeting moved to Friday.", level="joy", rounds=2, generator=small, critic=critic)
    assert r.text and 1 <= len(r.rounds) <= 2 and r.features.explained is not None
    assert r.generator == small.id and r.critic == critic.name
    reply = emoethics.respond("I lost my keys and I'm really upset.", generator=small, analyzer=critic)
    assert reply.reply and reply.tone and reply.reason
