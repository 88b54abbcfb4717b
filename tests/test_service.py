"""The HTTP API: keys, limits, errors, every endpoint, background jobs, the run log, and a
schema-driven fuzz run that must find no server error."""

from __future__ import annotations

import time

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error

from emoethics.store.keys import KeyStore
from emoethics.store.queue import Case, ReviewStore
from emoethics.store.records import Records

from service_world import make_service

APP, URL, SECRET = make_service()
AUTH = {"Authorization": f"Bearer {SECRET}"}


@pytest.fixture(scope="module")
def client():
    with TestClient(APP) as c:
        yield c


def wait_job(client, url: str) -> dict:
    for _ in range(300):
        j = client.get(url, headers=AUTH).json()
        if j["status"] not in ("queued", "running"):
            return j
        time.sleep(0.1)
    raise AssertionError("job did not finish")


def test_the_openapi_document_is_valid(client):
    doc = client.get("/openapi.json").json()
    validate(doc)
    assert {
        "/v1/analyze",
        "/v1/rewrite",
        "/v1/sweep",
        "/v1/judge",
        "/v1/review",
        "/v1/rectify",
        "/v1/feedback",
        "/v1/jobs/{job_id}",
    } <= set(doc["paths"])


def test_calls_need_a_valid_unrevoked_key(client):
    assert client.post("/v1/analyze", json={"text": "hi"}).status_code == 401
    r = client.post("/v1/analyze", json={"text": "hi"}, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and "emoethics keys create" in r.json()["error"]
    keys = KeyStore(URL)
    key, secret = keys.create("short-lived")
    assert client.post("/v1/analyze", json={"text": "hi"}, headers={"X-API-Key": secret}).status_code == 200
    keys.revoke(key.id)
    assert client.post("/v1/analyze", json={"text": "hi"}, headers={"X-API-Key": secret}).status_code == 401


def test_each_key_has_its_own_rate_limit(client):
    _, secret = KeyStore(URL).create("slow", "2/minute")
    h = {"Authorization": f"Bearer {secret}"}
    codes = [client.post("/v1/analyze", json={"text": "hi"}, headers=h).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    r = client.post("/v1/analyze", json={"text": "hi"}, headers=h)
    assert int(r.headers["retry-after"]) >= 1 and "rate limit" in r.json()["error"]
    assert client.post("/v1/analyze", json={"text": "hi"}, headers=AUTH).status_code == 200  # others unaffected


def test_bad_requests_get_clear_4xx_errors(client):
    big = "x" * 300_000
    r = client.post("/v1/analyze", content=big, headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 413 and "limit" in r.json()["error"]
    r = client.post("/v1/analyze", content=b"{not json", headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 422
    r = client.post("/v1/analyze", json={"text": ""}, headers=AUTH)
    assert r.status_code == 422 and r.json()["error"].startswith("body.text")
    r = client.post("/v1/analyze", json={"text": "hi", "model": "/etc/passwd"}, headers=AUTH)
    assert r.status_code == 422 and "built-in models" in r.json()["error"]
    r = client.post("/v1/judge", json={"text": "hi", "guidelines": "../secrets"}, headers=AUTH)
    assert r.status_code == 422
    r = client.post("/v1/judge", json={"text": "hi", "context": "the-moon"}, headers=AUTH)
    assert r.status_code == 400 and "the-moon" in r.json()["error"]
    r = client.post("/v1/sweep", json={"text": "hi", "spectrum": "nope"}, headers=AUTH)
    assert r.status_code == 400 and "no spectrum" in r.json()["error"]
    r = client.post("/v1/feedback", json={"case_id": "missing", "decision": "accept"}, headers=AUTH)
    assert r.status_code == 400 and "no case" in r.json()["error"]
    assert client.get("/v1/jobs/nope", headers=AUTH).status_code == 404


def test_endpoints_answer_with_the_library_schemas_and_every_call_is_recorded(client):
    r = client.post("/v1/analyze", json={"text": "What a wonderful, happy day!"}, headers=AUTH)
    assert r.status_code == 200
    joy = next(x for x in r.json()["readings"] if x["spectrum"] == "sadness-joy")
    assert joy["intensity"] > 0.3
    r = client.post(
        "/v1/judge", json={"text": "I found a wallet and kept the money.", "context": "personal"}, headers=AUTH
    )
    assert r.status_code == 200 and r.json()["verdict"] in ("allow", "review", "rectify", "block")
    r = client.post(
        "/v1/rewrite",
        json={"text": "The meeting moved to Friday.", "emotion": "joy", "intensity": 0.5, "rounds": 1},
        headers=AUTH,
    )
    assert r.status_code == 200 and r.json()["target"]["spectrum"] == "sadness-joy"
    runs = Records(URL).runs(limit=500)
    kinds = {x.kind for x in runs}
    assert {"analyze", "judge", "rewrite"} <= kinds
    judged = next(x for x in runs if x.kind == "judge")
    assert judged.inputs["text"].startswith("I found") and judged.output["verdict"]
    assert judged.models["judge"] == "schema:schema" and judged.usage["calls"] >= 1
    assert "default@" in Records(URL).guideline_versions()[0]


def test_long_work_runs_as_a_background_job(client):
    r = client.post(
        "/v1/sweep", json={"text": "The meeting moved to Friday.", "spectrum": "sadness-joy", "rounds": 1}, headers=AUTH
    )
    assert r.status_code == 202
    job = wait_job(client, r.json()["status_url"])
    assert job["status"] == "done" and len(job["result"]["results"]) >= 5
    r = client.post(
        "/v1/rectify",
        json={"text": "You idiot, I hate you.", "attempts": 1, "rounds": 1, "background": True},
        headers=AUTH,
    )
    assert r.status_code == 202 and wait_job(client, r.json()["status_url"])["status"] == "done"
    # another key cannot read it
    _, other = KeyStore(URL).create("other")
    assert client.get(r.json()["status_url"], headers={"X-API-Key": other}).status_code == 404


def test_feedback_is_committed_before_the_answer(client):
    store = ReviewStore(url=URL)
    case = store.enqueue(
        Case(
            kind="low-confidence",
            text="Maybe rude?",
            context="personal",
            verdict="review",
            confidence=0.3,
            rationale="unsure",
        )
    )
    r = client.post(
        "/v1/feedback",
        json={"case_id": case.id, "decision": "relabel", "label": "allow", "reviewer": "ana"},
        headers=AUTH,
    )
    assert r.status_code == 201
    # a fresh connection (another process would see the same) finds it at once
    assert [f.id for f in ReviewStore(url=URL).feedback(case.id)] == [r.json()["id"]]
    assert case.id not in [c["id"] for c in client.get("/v1/cases", headers=AUTH).json()]


def test_a_restart_marks_interrupted_jobs_failed(tmp_path):
    from emoethics.service.jobs import JobRunner

    app, url, secret = make_service(tmp_path)
    runner = JobRunner(url)
    import threading

    gate = threading.Event()
    job = runner.submit("sweep", {"text": "x"}, lambda: gate.wait(5))
    assert JobRunner(url).recover() == 1  # what a new process finds on start
    gate.set()
    assert runner.get(job.id) is not None


# -- schema-driven fuzzing: whatever the schema allows must never produce a 5xx ------------------

schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_fuzz_finds_no_server_error(case):
    case.call_and_validate(headers=AUTH, checks=[not_a_server_error], timeout=120)
