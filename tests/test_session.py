"""The session: one registry of backends, models made once, and the same judgement whichever way
a text comes in (Python API, HTTP service, batch job)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

import emoethics
from emoethics import session as session_module
from emoethics.batch import JobSpec, run_batch
from emoethics.config import BackendSpec, load_settings
from emoethics.errors import ConfigError
from emoethics.llm.base import Backend, Completion
from emoethics.schema.usage import Usage, usage_record
from emoethics.service import ServiceConfig, create_app
from emoethics.service.workspace import ServiceWorkspace
from emoethics.store.keys import KeyStore

from fakes import answer_for


class PromptHashBackend(Backend):
    """A stand-in judge model whose answer is a function of the prompt alone: the same messages
    always get the same valid answer, different messages (almost always) another one."""

    kind = "prompt-hash"

    def _complete(self, messages, *, temperature, max_tokens, seed, json_schema) -> Completion:
        digest = hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()
        value: Any = answer_for(json_schema, digest[: int(digest[0], 16) + 1])
        return Completion(text=json.dumps(value) if json_schema else str(value), prompt_tokens=20, completion_tokens=10)


@pytest.fixture
def prompt_hash_backend(monkeypatch):
    """Registers ``backend = "prompt-hash"`` for the test, and removes it afterwards."""
    monkeypatch.setitem(session_module.BACKENDS, "prompt-hash", lambda spec, cache: PromptHashBackend("ph", cache))
    return load_settings({"generator": {"backend": "prompt-hash", "model": "ph"}}, no_cache=True)


TEXTS = [
    "I found a wallet with 200 dollars and kept it.",
    "Thank you so much for helping me move, you are a true friend.",
    "You are a pathetic liar. Stay away from my family.",
]
COMPARED = (
    "verdict",
    "behaviour",
    "violations",
    "wrong",
    "wrong_probability",
    "wrong_sentence",
    "rationale",
    "confidence",
    "guidelines_version",
)


def comparable(judgement: dict) -> dict:
    return {k: judgement.get(k) for k in COMPARED}


def test_the_service_batch_and_python_api_give_the_same_judgement(prompt_hash_backend, tmp_path):
    settings = prompt_hash_backend
    from_api = [comparable(emoethics.judge(t, "personal", settings=settings).model_dump(mode="json")) for t in TEXTS]

    url = f"sqlite:///{tmp_path / 'service.db'}"
    app = create_app(
        ServiceConfig(database_url=url, secret_key="test-secret", workspace=ServiceWorkspace(settings, url=url))
    )
    _, secret = KeyStore(url).create("tester", "1000/minute")
    with TestClient(app) as client:
        from_service = []
        for t in TEXTS:
            r = client.post(
                "/v1/judge", json={"text": t, "context": "personal"}, headers={"Authorization": f"Bearer {secret}"}
            )
            assert r.status_code == 200, r.text
            from_service.append(comparable(r.json()))

    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(TEXTS)))
    summary = run_batch(JobSpec(kind="judge", settings=settings, context="personal"), source, tmp_path / "out.jsonl")
    assert summary.ok == len(TEXTS)
    rows = sorted(
        (json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()), key=lambda r: r["index"]
    )
    from_batch = [comparable(r["result"]) for r in rows]

    assert from_api == from_service == from_batch
    assert len({json.dumps(j, sort_keys=True) for j in from_api}) == len(TEXTS)  # the texts were told apart


def test_a_session_makes_each_model_once_and_shares_loaded_models(prompt_hash_backend):
    s = emoethics.Session(prompt_hash_backend)
    assert s.backend("judge") is s.backend("judge")
    assert s.make_judge() is s.make_judge()
    assert s.make_analyzer(role="critic") is s.make_analyzer(role="critic")
    other = emoethics.Session(prompt_hash_backend)
    assert other.backend("judge") is s.backend("judge")  # one loaded model per role and spec in a process
    assert s.make_judge(use_model=False).backend is None


def test_a_registered_backend_is_chosen_by_its_name_in_the_settings(prompt_hash_backend):
    s = emoethics.Session(prompt_hash_backend)
    assert isinstance(s.backend("generator"), PromptHashBackend)
    assert s.make_analyzer(role="critic").name.startswith("sensor")  # the critic stays the sensor


def test_an_unknown_backend_name_is_a_one_line_configuration_error():
    with pytest.raises(ConfigError) as err:
        emoethics.Session(load_settings({"generator": {"backend": "no-such-backend"}}))
    assert "unknown backend 'no-such-backend'" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="not a language-model backend"):
        session_module.make_backend(BackendSpec(backend="sensor"))


def test_usage_is_recorded_in_one_shape_whether_it_came_whole_or_per_role():
    whole = usage_record(Usage(calls=2, prompt_tokens=30))
    per_role = usage_record({"generator": Usage(calls=2, prompt_tokens=30), "critic": Usage(calls=1)})
    assert whole["calls"] == 2 and "roles" not in whole
    assert per_role["calls"] == 3 and per_role["prompt_tokens"] == 30
    assert per_role["roles"]["critic"]["calls"] == 1
    assert set(whole) <= set(per_role)
