"""Structured output, re-asks, caching and usage accounting, with a scripted backend."""

import json
from pathlib import Path

import pytest

from emoethics.errors import MalformedOutputError
from emoethics.llm.base import parse_json
from emoethics.llm.cache import ResponseCache

from fakes import ScriptedBackend

SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}


def parse_n(data):
    if not isinstance(data, dict) or not isinstance(data.get("n"), int):
        raise ValueError("expected {'n': <integer>}")
    return data["n"]


def test_parse_json_tolerates_fences_and_chatter():
    assert parse_json('```json\n{"a": 1}\n```') == {"a": 1}
    assert parse_json('Sure! Here it is: {"a": [1, 2]} Hope that helps.') == {"a": [1, 2]}
    for bad in ("no json here", '{"a": }'):
        with pytest.raises(ValueError):
            parse_json(bad)


def test_reask_after_invalid_output_then_success():
    b = ScriptedBackend(["not json", '{"n": "seven"}', '{"n": 7}'])
    assert b.chat_json([{"role": "user", "content": "n?"}], SCHEMA, parse_n) == 7
    assert b.usage.calls == 3
    # the second and third calls carry the model's bad answer and what was wrong with it
    last = b.sent[-1]
    assert last[-2] == {"role": "assistant", "content": '{"n": "seven"}'}
    assert "expected {'n': <integer>}" in last[-1]["content"]


def test_malformed_output_gives_up_after_bounded_reasks():
    b = ScriptedBackend(["garbage"], max_reasks=2)
    with pytest.raises(MalformedOutputError, match="invalid output 3 times"):
        b.chat_json([{"role": "user", "content": "n?"}], SCHEMA, parse_n)
    assert b.usage.calls == 3


def test_cache_answers_deterministic_calls_and_only_stores_valid_output(tmp_path: Path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    b = ScriptedBackend(["oops", '{"n": 1}'], cache=cache)
    msgs = [{"role": "user", "content": "n?"}]
    assert b.chat_json(msgs, SCHEMA, parse_n) == 1
    assert len(cache) == 1
    b2 = ScriptedBackend(['{"n": 2}'], cache=cache)  # same backend id and messages: cached
    assert b2.chat_json(msgs, SCHEMA, parse_n) == 1
    assert (b2.usage.calls, b2.usage.cached_calls, len(b2.sent)) == (1, 1, 0)
    # a sampled call (temperature > 0) bypasses the cache
    assert b2.chat_json(msgs, SCHEMA, parse_n, temperature=0.7) == 2
    # different messages miss the cache
    assert b2.chat([{"role": "user", "content": "other"}]) == '{"n": 2}'


def test_metered_collects_only_calls_inside_the_block():
    b = ScriptedBackend(['{"n": 1}'])
    b.chat([{"role": "user", "content": "a"}])
    with b.metered() as u:
        b.chat([{"role": "user", "content": "b"}])
        b.chat([{"role": "user", "content": "c"}])
    assert u.calls == 2 and u.prompt_tokens == 20
    assert b.usage.calls == 3


def test_cache_key_covers_schema(tmp_path: Path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    b = ScriptedBackend(['{"n": 1}'], cache=cache)
    msgs = [{"role": "user", "content": "n?"}]
    b.chat_json(msgs, SCHEMA, parse_n)
    other = json.loads(json.dumps(SCHEMA))
    other["title"] = "different"
    b.chat_json(msgs, other, parse_n)
    assert len(cache) == 2


def test_grammar_safe_drops_only_string_limits_llama_cpp_cannot_compile():
    from emoethics.llm.local import grammar_safe

    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "string", "maxLength": 4000},
            "b": {"type": "string", "maxLength": 300},
            "c": {"type": "array", "items": {"type": "string", "maxLength": 5000}},
        },
    }
    safe = grammar_safe(schema)
    assert "maxLength" not in safe["properties"]["a"] and safe["properties"]["b"]["maxLength"] == 300
    assert "maxLength" not in safe["properties"]["c"]["items"]
    assert schema["properties"]["a"]["maxLength"] == 4000  # the caller's schema is not changed
