"""The proxy loses nothing, leaks nothing and checks everything it forwards (issue 24), against a
scripted upstream: long replies judged in windows and delivered whole, every text of a reply
judged (refusal, reasoning, tool-call arguments) and logprobs taken off a changed one, stream
faults as errors, bad Unicode as a 400, OpenAI-shaped errors, upstream errors summarised and
secrets scrubbed, URL credentials kept out of every answer and table, no SQLite path in `serve`'s
errors, the strictest of several choices speaking for the body, unknown cultures refused, work
abandoned when its client leaves, requests beyond the capacity refused with a 503, and review
cases written with their run, never before it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time

import httpx
import openai
import pytest
from fastapi.testclient import TestClient
from openai import OpenAI

from emoethics.errors import ConfigError
from emoethics.proxy import ProxyWorkspace
from emoethics.proxy.exchange import CLIENT_GONE
from emoethics.proxy.guard import windows
from emoethics.proxy.redact import scrub
from emoethics.proxy.settings import proxy_settings
from emoethics.store.queue import ReviewStore
from emoethics.store.records import Records
from emoethics.textio import MAX_CHARS

from chat_upstream import chat_upstream, last_user
from proxy_world import ABUSE, POLITE, make_proxy, scripted_judge, scripted_rectifier
from servers import free_port
from service_world import make_service, running

FACT = "Paris is the capital of France."
CALM_REPLY = "The museum opens at nine in the morning on weekdays. Tickets can be bought at the door or online."
CALM = [
    "The museum opens at nine in the morning on weekdays.",
    "Tickets can be bought at the door or online.",
    "The north wing shows paintings from the last two centuries.",
    "A small cafe on the ground floor serves tea and cakes.",
    "Guided tours start every hour from the main hall.",
    "Children under twelve enter free with an adult.",
]
#: An allowed reply of about 18,800 characters: more than two windows of the judge.
LONG = " ".join(CALM[i % len(CALM)] for i in range(400))[:18_800].rsplit(" ", 1)[0] + "."
CANARY_KEY = "sk-canary0123456789abcdefCANARY"
CANARY_PASS = "canarypass-7f3e9d1b"
CANARY_ENV = "sk-envcanary-5a6b7c8d9e0f1a2b"


def client_for(app_base: str, secret: str) -> OpenAI:
    return OpenAI(base_url=f"{app_base}/v1", api_key=secret, max_retries=0)


def ask(client: OpenAI, text: str, **kw):
    raw = client.chat.completions.with_raw_response.create(
        model="scripted", messages=[{"role": "user", "content": text}], **kw
    )
    return raw.headers, raw.parse()


def sse(base: str, secret: str, text: str, **body) -> tuple[int, dict, list]:
    """(status, headers, parsed events) of a raw streamed request (``[DONE]`` as the string)."""
    with httpx.stream(
        "POST",
        f"{base}/v1/chat/completions",
        headers={"Authorization": f"Bearer {secret}"},
        json={"model": "m", "stream": True, "messages": [{"role": "user", "content": text}], **body},
        timeout=120,
    ) as r:
        raw = r.read().decode()
    events = []
    for line in raw.splitlines():
        if line.startswith("data: "):
            data = line[6:]
            events.append(data if data == "[DONE]" else json.loads(data))
    if r.status_code != 200:
        events = [json.loads(raw)]
    return r.status_code, dict(r.headers), events


def delivered(events: list) -> str:
    """The choices of every event, as text (the ``emoethics`` object, which quotes violations, left out)."""
    return json.dumps([e["choices"] for e in events if isinstance(e, dict) and "choices" in e])


def streamed_text(events: list, field: str = "content") -> str:
    return "".join(
        (c["choices"][0]["delta"].get(field) or "") for c in events if isinstance(c, dict) and c.get("choices")
    )


@pytest.fixture()
def world(tmp_path, monkeypatch):
    """start(reply, **proxy config) -> (client, base, secret, url, upstream): a proxy (context
    workplace) in front of a scripted upstream that gives ``reply``."""
    monkeypatch.setenv("UPSTREAM_TEST_KEY", "sk-upstream-secret")
    stack: list = []

    def start(reply=FACT, upstream_mode: str = "ok", error_message: str = "bad request", **config):
        folder = tmp_path / f"p{len(stack)}"
        folder.mkdir()
        up_ctx = chat_upstream(reply, mode=upstream_mode, error_message=error_message)
        up = up_ctx.__enter__()
        stack.append(up_ctx)
        app, url, secret, _ = make_proxy(folder, up.url, **({"policy": {"context": "workplace"}} | config))
        ctx = running(app)
        base = ctx.__enter__()
        stack.append(ctx)
        return client_for(base, secret), base, secret, url, up

    yield start
    for ctx in reversed(stack):
        ctx.__exit__(None, None, None)


# -- 1. never cut, never drop ------------------------------------------------------------------


def test_a_long_reply_is_cut_into_windows_that_join_back_and_fit_the_judge():
    parts = windows(LONG)
    assert len(LONG) > 2 * MAX_CHARS and len(parts) == 3 and "".join(parts) == LONG
    assert all(len(p.strip()) <= MAX_CHARS and p.rstrip().endswith(".") for p in parts)


def test_a_long_allowed_reply_reaches_the_client_whole(world):
    client, base, secret, url, _ = world(LONG)
    headers, done = ask(client, "tell me about the museum")
    assert done.choices[0].message.content == LONG and done.choices[0].finish_reason == "stop"
    assert headers["x-emoethics-verdict"] == "allow"
    assert headers["x-emoethics-windows"] == "3" and headers["x-emoethics-window-chars"] == str(MAX_CHARS)
    judged = done.model_extra["emoethics"]["judged"]
    assert judged == {"chars": len(LONG), "windows": 3, "window_chars": MAX_CHARS}
    assert Records(url).runs("proxy")[0].output["choices"][0]["delivered"] == LONG
    # the hold streaming policy delivers all of it too
    status, headers, events = sse(base, secret, "tell me about the museum")
    assert status == 200 and streamed_text(events) == LONG and headers["x-emoethics-windows"] == "3"
    assert events[-2]["choices"][0]["finish_reason"] == "stop" and events[-1] == "[DONE]"


def test_abuse_past_the_first_window_is_judged_and_only_its_window_is_rectified(world):
    # every window goes to the (scripted) judge model, which finds the insult wherever it is
    client, _, _, _, _ = world(f"{LONG} {ABUSE}", policy={"context": "workplace", "judge_model": "always"})
    headers, done = ask(client, "tell me about the museum")
    text = done.choices[0].message.content
    assert headers["x-emoethics-verdict"] == "rectify" and headers["x-emoethics-action"] == "rectified"
    assert "idiot" not in text and text.endswith(POLITE)
    first, second, *_ = windows(f"{LONG} {ABUSE}")
    assert text.startswith(first + second)  # the allowed windows are delivered as they were
    assert any("windows of at most" in r for r in done.model_extra["emoethics"]["reasons"])


# -- 2. every text the client sees is judged -------------------------------------------------


def tool_call(arguments: str) -> dict:
    return {"id": "call_1", "type": "function", "function": {"name": "send_message", "arguments": arguments}}


def test_abuse_in_refusal_and_reasoning_is_rectified_in_plain_and_held_replies(world):
    def reply(body: dict) -> dict:
        if "refuse" in last_user(body):
            return {"content": None, "refusal": ABUSE}
        return {"content": FACT, "reasoning_content": ABUSE}

    client, base, secret, _, _ = world(reply)
    headers, done = ask(client, "refuse me")
    assert done.choices[0].message.refusal == POLITE and headers["x-emoethics-verdict"] == "rectify"
    assert done.model_extra["emoethics"]["fields"]["refusal"]["action"] == "rectified"
    headers, done = ask(client, "think")
    message = done.choices[0].message
    assert message.content == FACT and message.model_extra["reasoning_content"] == POLITE
    assert done.model_extra["emoethics"]["fields"] == {
        "content": {"verdict": "allow", "action": "passed"},
        "reasoning_content": {"verdict": "rectify", "action": "rectified"},
    }
    _, _, events = sse(base, secret, "think")
    assert streamed_text(events) == FACT and streamed_text(events, "reasoning_content") == POLITE


def test_abuse_in_tool_call_arguments_blocks_the_reply_in_every_mode(world):
    abusive = tool_call(json.dumps({"to": "sam", "text": ABUSE}))
    client, base, secret, _, _ = world({"content": None, "tool_calls": [abusive]})
    headers, done = ask(client, "message sam")
    choice = done.choices[0]
    assert headers["x-emoethics-verdict"] == "block" and choice.finish_reason == "content_filter"
    assert not choice.message.tool_calls and "idiot" not in json.dumps(done.model_dump()["choices"])
    assert "never rewritten" in " ".join(done.model_extra["emoethics"]["reasons"])
    _, _, events = sse(base, secret, "message sam")
    assert "idiot" not in delivered(events) and events[-2]["choices"][0]["finish_reason"] == "content_filter"


def test_an_allowed_tool_call_reaches_the_client_in_plain_held_and_sentence_streams(world):
    fine = tool_call(json.dumps({"to": "sam", "text": "See you at noon."}))
    for policy in ("hold", "sentence"):
        client, base, secret, _, _ = world({"content": FACT, "tool_calls": [fine]}, stream_policy=policy)
        _, done = ask(client, "message sam")
        assert done.choices[0].message.tool_calls[0].function.arguments == fine["function"]["arguments"]
        _, _, events = sse(base, secret, "message sam")
        calls = [c for e in events if isinstance(e, dict) for c in e["choices"][0]["delta"].get("tool_calls") or []]
        assert calls and calls[0]["function"]["arguments"] == fine["function"]["arguments"], policy
        assert streamed_text(events) == FACT


def test_abusive_reasoning_in_a_sentence_stream_is_held_and_rectified(world):
    _, base, secret, _, _ = world({"content": FACT, "reasoning_content": ABUSE}, stream_policy="sentence")
    _, _, events = sse(base, secret, "think")
    assert streamed_text(events) == FACT and streamed_text(events, "reasoning_content") == POLITE
    assert "idiot" not in delivered(events)


def test_a_changed_reply_loses_its_logprobs_and_says_so(world):
    logprobs = {"content": [{"token": w, "logprob": -0.1, "bytes": None, "top_logprobs": []} for w in ABUSE.split()]}

    def reply(body: dict) -> dict:
        return {"content": ABUSE if "abuse" in last_user(body) else FACT, "logprobs": logprobs}

    client, _, _, _, _ = world(reply)
    _, done = ask(client, "abuse me", logprobs=True)
    assert done.choices[0].message.content == POLITE and done.choices[0].logprobs is None
    assert "removed" in done.model_extra["emoethics"]["logprobs"]
    _, kept = ask(client, "hello", logprobs=True)
    assert kept.choices[0].logprobs is not None and "logprobs" not in kept.model_extra["emoethics"]


# -- 3. faults are errors ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["json-stream", "garbage"])
def test_a_sentence_stream_answered_with_plain_json_or_garbage_is_a_502(world, mode):
    _, base, secret, url, _ = world(FACT, upstream_mode=mode, stream_policy="sentence")
    status, _, [body] = sse(base, secret, "hello")
    assert status == 502 and body["error"]["type"] == "upstream_error" and body["error"]["code"]
    assert "not an event stream" in body["error"]["message"] or "not a chat completion" in body["error"]["message"]
    assert Records(url).runs("proxy")[0].status == "error"


def test_a_stream_closed_before_done_ends_in_an_error_event_not_a_stop(world):
    reply = "First point. Second point. Third point. Fourth point. Fifth point. Sixth point."
    _, base, secret, url, _ = world(reply, upstream_mode="cut", stream_policy="sentence")
    status, _, events = sse(base, secret, "hello")
    assert status == 200 and "error" in events[-1] and "[DONE]" in events[-1]["error"]["message"]
    assert all(c["choices"][0]["finish_reason"] is None for c in events if isinstance(c, dict) and "choices" in c)
    assert len(streamed_text(events)) < len(reply)
    [run] = Records(url).runs("proxy")
    assert run.status == "error" and "before the end" in run.error


def test_a_lone_surrogate_in_the_request_is_a_400_in_the_openai_shape(world):
    _, base, secret, _, up = world(FACT)
    body = b'{"model": "m", "messages": [{"role": "user", "content": "hi \\ud800 there"}]}'
    r = httpx.post(
        f"{base}/v1/chat/completions",
        content=body,
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    assert "messages.0.content" in r.json()["error"]["message"] and "Unicode" in r.json()["error"]["message"]
    assert "Traceback" not in r.text and up.bodies == []


def test_an_upstream_reply_that_is_not_valid_unicode_is_a_502(world):
    client, _, _, _, _ = world("hi \ud800 there")
    with pytest.raises(openai.APIStatusError) as e:
        ask(client, "hello")
    assert e.value.status_code == 502 and "not valid Unicode" in e.value.message


def test_a_body_over_the_limit_is_a_413_in_the_openai_shape(world):
    client, base, secret, _, _ = world(FACT, max_body_bytes=4096)
    with pytest.raises(openai.APIStatusError) as e:
        ask(client, "x" * 5000)
    error = e.value.response.json()["error"]
    assert e.value.status_code == 413 and error["type"] == "invalid_request_error"
    assert error["code"] == "request_too_large" and "4,096 bytes" in error["message"]
    r = httpx.get(f"{base}/v1/nowhere", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 404 and set(r.json()["error"]) == {"message", "type", "param", "code"}


# -- 4. secrets stay in ------------------------------------------------------------------------


def test_an_upstream_error_is_summarised_and_its_secrets_never_stored(world):
    leak = f"Invalid header: Authorization: Bearer {CANARY_KEY} for org org-123"
    client, _, _, url, _ = world(FACT, upstream_mode="error", error_message=leak)
    with pytest.raises(openai.BadRequestError) as e:
        ask(client, "hello")
    assert "HTTP 400" in e.value.message and "Invalid header" not in e.value.message
    assert CANARY_KEY not in e.value.response.text
    [run] = Records(url).runs("proxy")
    assert run.status == "error" and "HTTP 400" in run.error and CANARY_KEY not in run.error


def test_anything_that_looks_like_a_key_is_scrubbed():
    text = (
        f"Bearer {CANARY_KEY} at http://user:{CANARY_PASS}@host/v1 api_key={CANARY_ENV} "
        f"digest {'ab' * 20} token QmFzZTY0U2VjcmV0VG9rZW5WYWx1ZUhlcmUxMjM0NTY3ODkw"
    )
    clean = scrub(text)
    for secret in (CANARY_KEY, CANARY_PASS, CANARY_ENV, "ab" * 20, "QmFzZTY0U2Vj"):
        assert secret not in clean
    assert scrub("the upstream http://127.0.0.1:8080/v1 answered HTTP 500") == (
        "the upstream http://127.0.0.1:8080/v1 answered HTTP 500"
    )


def all_rows(url: str) -> str:
    """Every row of every table of a SQLite store, as text."""
    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type = 'table'")]
        return "\n".join(repr(row) for t in tables for row in con.execute(f'select * from "{t}"'))
    finally:
        con.close()


def test_canary_secrets_in_an_upstream_error_and_the_upstream_url_never_leave_the_proxy(tmp_path, monkeypatch):
    monkeypatch.setenv("CANARY_UPSTREAM_KEY", CANARY_ENV)
    leak = f"Your key Bearer {CANARY_KEY} is wrong (user canary-user, password {CANARY_PASS})"
    seen: list[str] = []

    def check(r: httpx.Response) -> None:
        seen.append(r.text + json.dumps(dict(r.headers)))

    def calls(base: str, secret: str) -> None:
        auth = {"Authorization": f"Bearer {secret}"}
        body = {"model": "m", "messages": [{"role": "user", "content": "hello"}]}
        check(httpx.post(f"{base}/v1/chat/completions", headers=auth, json=body, timeout=60))
        check(httpx.post(f"{base}/v1/chat/completions", headers=auth, json={**body, "stream": True}, timeout=60))
        check(httpx.get(f"{base}/v1/models", headers=auth, timeout=60))

    for i, (mode, key_env, policy) in enumerate(
        (("error", "CANARY_UPSTREAM_KEY", "hold"), ("ok", "NO_SUCH_KEY_VARIABLE", "sentence"))
    ):
        folder = tmp_path / str(i)
        folder.mkdir()
        with chat_upstream(FACT, mode=mode, error_message=leak) as up:
            with_credentials = up.url.replace("http://", f"http://canary-user:{CANARY_PASS}@")
            app, url, secret, _ = make_proxy(folder, with_credentials, key_env=key_env, stream_policy=policy)
            with running(app) as base:
                calls(base, secret)
        if key_env == "NO_SUCH_KEY_VARIABLE":  # the URL's credentials became basic auth, out of the URL
            assert all(a and a.startswith("Basic ") for a in up.auth)
        else:
            assert all(a == f"Bearer {CANARY_ENV}" for a in up.auth)
        seen.append(all_rows(url))
    # an upstream that cannot be reached, named with credentials: its 502 names it without them
    folder = tmp_path / "unreachable"
    folder.mkdir()
    app, url, secret, _ = make_proxy(folder, f"http://canary-user:{CANARY_PASS}@127.0.0.1:9/v1", key_env="X")
    with running(app) as base:
        calls(base, secret)
    seen.append(all_rows(url))
    assert any('"status": "error"' in s or "HTTP 400" in s for s in seen)
    everything = "\n".join(seen)
    for canary in (CANARY_KEY, CANARY_PASS, CANARY_ENV):
        assert canary not in everything
    assert "127.0.0.1:9/v1" in everything  # the 502 still names the upstream


def test_url_credentials_are_taken_out_of_the_configuration():
    config, _ = proxy_settings({}, {"upstream": f"http://canary-user:{CANARY_PASS}@10.0.0.1:8080/v1"})
    assert config.upstream == "http://10.0.0.1:8080/v1"
    assert config.upstream_credentials() == ("canary-user", CANARY_PASS)
    assert CANARY_PASS not in repr(config) and CANARY_PASS not in config.model_dump_json()


def test_the_start_up_banner_shows_no_url_credentials(tmp_path):
    port = free_port()
    env = {**os.environ, "EMOETHICS_DATA_DIR": str(tmp_path)}
    cmd = [sys.executable, "-m", "emoethics.cli", "proxy", "--port", str(port), "--judge-model", "never"]
    cmd += ["--upstream", f"http://canary-user:{CANARY_PASS}@127.0.0.1:9/v1"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines: list[str] = []
    try:
        deadline = time.time() + 120
        while time.time() < deadline and p.stderr is not None:
            line = p.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "emoethics proxy on" in line:
                break
    finally:
        p.terminate()
        p.wait(timeout=30)
    banner = "".join(lines)
    assert "emoethics proxy on" in banner and "127.0.0.1:9/v1" in banner
    assert CANARY_PASS not in banner and "canary-user" not in banner


def test_serve_errors_do_not_show_the_sqlite_path(tmp_path):
    app, url, secret = make_service(tmp_path)
    path = url.removeprefix("sqlite:///")
    auth = {"Authorization": f"Bearer {secret}"}
    with TestClient(app) as client:
        missing = client.get("/v1/cases/nope", headers=auth)
        feedback = client.post("/v1/feedback", headers=auth, json={"case_id": "nope", "decision": "accept"})
    assert missing.status_code == 404 and feedback.status_code == 400
    for r in (missing, feedback):
        assert path not in r.text and str(tmp_path) not in r.text and "service.db" not in r.text
        assert "no case 'nope'" in r.json()["error"]


# -- 5. smaller --------------------------------------------------------------------------------


def test_with_two_choices_the_body_speaks_for_the_strictest_choice_as_the_header_does(world):
    client, _, _, _, _ = world([FACT, ABUSE])
    headers, done = ask(client, "two please", n=2)
    info = done.model_extra["emoethics"]
    assert headers["x-emoethics-verdict"] == info["verdict"] == "rectify"
    assert headers["x-emoethics-action"] == info["action"] == "rectified"
    assert [c["verdict"] for c in info["choices"]] == ["allow", "rectify"]
    assert done.choices[0].message.content == FACT and done.choices[1].message.content == POLITE


def test_an_unknown_culture_is_refused_with_a_clear_400(world):
    client, _, _, _, up = world(FACT, policy={"context": "personal"})
    with pytest.raises(openai.BadRequestError) as e:
        ask(client, "hello", extra_headers={"X-Emoethics-Culture": "martian"})
    assert "unknown culture 'martian'" in e.value.message and "reserved" in e.value.message
    assert up.bodies == []  # refused before the upstream was asked
    headers, done = ask(client, "hello", extra_headers={"X-Emoethics-Culture": "reserved"})
    assert done.model_extra["emoethics"]["culture"] == "reserved"


# -- 6. abandoned work and capacity ------------------------------------------------------------


def slow(backend, seconds: float):
    """``backend`` (a scripted model) answering ``seconds`` late."""
    inner = backend.replies

    def reply(messages: list[dict]) -> str:
        time.sleep(seconds)
        return inner(messages)

    backend.replies = reply
    return backend


@pytest.fixture()
def served(tmp_path, monkeypatch):
    """served(reply, judge=, upstream=dict(latency=, token_delay=), **config) -> (base, secret,
    url, judge, rectifier): a proxy (context workplace) with the scripted judge model and
    rectifier, in front of a scripted upstream."""
    monkeypatch.setenv("UPSTREAM_TEST_KEY", "k")
    stack: list = []

    def start(reply=ABUSE, judge=None, upstream=None, **config):
        folder = tmp_path / f"s{len(stack)}"
        folder.mkdir()
        judge, rectifier = judge or scripted_judge(), scripted_rectifier()
        up_ctx = chat_upstream(reply, **(upstream or {}))
        stack.append(up_ctx)
        policy = {"context": "workplace"} | config.pop("policy", {})
        app, url, secret, _ = make_proxy(
            folder, up_ctx.__enter__().url, judge=judge, rectifier=rectifier, policy=policy, **config
        )
        ctx = running(app)
        stack.append(ctx)
        return ctx.__enter__(), secret, url, judge, rectifier

    yield start
    for ctx in reversed(stack):
        ctx.__exit__(None, None, None)


def post(base: str, secret: str, text: str = "hello", timeout: float = 60, **body) -> httpx.Response:
    payload = {"model": "m", "messages": [{"role": "user", "content": text}], **body}
    return httpx.post(
        f"{base}/v1/chat/completions", headers={"Authorization": f"Bearer {secret}"}, json=payload, timeout=timeout
    )


def recorded_run(url: str, status: str | None = None, seconds: float = 10):
    """The proxy's newest run (with ``status``, when given), once it is written."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        runs = [r for r in Records(url).runs("proxy") if status in (None, r.status)]
        if runs:
            return runs[0]
        time.sleep(0.1)
    raise AssertionError("no run was recorded")


def test_a_client_that_leaves_while_the_upstream_thinks_costs_no_judgement(served):
    base, secret, url, judge, rectifier = served(ABUSE, upstream={"latency": 1.5})
    with pytest.raises(httpx.ReadTimeout):
        post(base, secret, timeout=0.4)
    run = recorded_run(url)
    assert run.status == "error" and run.error == CLIENT_GONE and run.seconds < 1.4
    time.sleep(1.5)  # the upstream's answer would have come by now
    assert judge.sent == [] and rectifier.sent == []


def test_a_client_that_leaves_during_the_judgement_starts_no_rectification(served):
    def reply(body: dict) -> str:
        return ABUSE if "abuse" in last_user(body) else FACT

    base, secret, url, judge, rectifier = served(reply, judge=slow(scripted_judge(), 2.5))
    assert post(base, secret).status_code == 200  # the fast judge is loaded, and allows it alone
    assert judge.sent == [] and Records(url).runs("proxy")[0].status == "ok"
    with pytest.raises(httpx.ReadTimeout):
        post(base, secret, "abuse me", timeout=1.2)  # the fast judgement is done by then; the judge model is not
    run = recorded_run(url, "error")
    assert run.status == "error" and run.error == CLIENT_GONE
    time.sleep(2.5)  # the judge model's answer has come back: rectification would start now
    assert len(judge.sent) == 1 and rectifier.sent == []


def test_a_sentence_stream_that_its_client_leaves_is_not_judged_to_its_end(served):
    reply = f"{FACT} The museum opens at nine. {ABUSE}"
    base, secret, url, judge, rectifier = served(reply, upstream={"token_delay": 0.2}, stream_policy="sentence")
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hello"}]}
    with httpx.stream(
        "POST", f"{base}/v1/chat/completions", headers={"Authorization": f"Bearer {secret}"}, json=body, timeout=30
    ) as r:
        next(r.iter_lines())  # the first event, then the client goes
    run = recorded_run(url)
    assert run.status == "error" and "closed the stream" in run.error
    time.sleep(len(reply.split()) * 0.2)  # the upstream would have finished by now
    assert judge.sent == [] and rectifier.sent == []


def test_requests_beyond_the_capacity_get_a_503_with_retry_after_in_the_openai_shape(served):
    base, secret, _, _, _ = served(FACT, upstream={"latency": 1.0}, capacity=1)
    first: list[httpx.Response] = []
    worker = threading.Thread(target=lambda: first.append(post(base, secret)))
    worker.start()
    time.sleep(0.4)
    refused = post(base, secret)
    worker.join()
    assert first[0].status_code == 200 and refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    error = refused.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["code"] == "overloaded"
    assert "capacity of 1" in error["message"]
    assert post(base, secret).status_code == 200  # the place was given back


def test_a_stream_gives_its_place_back_when_it_ends_and_when_its_client_leaves(served):
    for policy in ("hold", "sentence"):
        base, secret, _, _, _ = served(CALM_REPLY, upstream={"token_delay": 0.05}, capacity=1, stream_policy=policy)
        assert post(base, secret, stream=True).status_code == 200
        body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hello"}]}
        with httpx.stream(
            "POST", f"{base}/v1/chat/completions", headers={"Authorization": f"Bearer {secret}"}, json=body
        ) as r:
            next(r.iter_lines())
        deadline = time.time() + 10
        while (status := post(base, secret).status_code) == 503 and time.time() < deadline:
            time.sleep(0.2)
        assert status == 200, policy


def test_the_capacity_is_a_proxy_setting_of_the_config_file_and_the_flags():
    assert proxy_settings({}, {})[0].capacity == 32
    assert proxy_settings({"capacity": 4}, {})[0].capacity == 4
    assert proxy_settings({"capacity": 4}, {"capacity": 8})[0].capacity == 8
    with pytest.raises(ConfigError, match="capacity"):
        proxy_settings({"capacity": 0}, {})


# -- 7. a review case never points to a run that is not there ----------------------------------

BROKEN_PROMISE = "I said I would send you the file today, but I won't bother after all."


def promise_judge():
    """A judge model that finds a broken promise (severity review) in texts with 'bother'."""
    return scripted_judge(("bother",), "promise-keeping")


def test_a_review_case_is_in_the_store_with_the_run_it_names(served):
    base, secret, url, _, _ = served(
        BROKEN_PROMISE, judge=promise_judge(), policy={"context": "personal", "judge_model": "always"}
    )
    r = post(base, secret)
    assert r.headers["x-emoethics-action"] == "queued"
    [case] = ReviewStore(url=url).cases()
    [run] = Records(url).runs("proxy")
    assert (
        case.id == r.json()["emoethics"]["case_id"] and case.detail["run_id"] == run.id == r.headers["x-emoethics-run"]
    )


def test_a_review_case_is_not_written_when_its_run_cannot_be_written(served, monkeypatch):
    # the run's id is taken already, so writing the run fails, as a crash before it would
    base, secret, url, _, _ = served(
        BROKEN_PROMISE, judge=promise_judge(), policy={"context": "personal", "judge_model": "always"}
    )
    monkeypatch.setattr(ProxyWorkspace, "new_run_id", staticmethod(lambda: "taken-run-id"))
    Records(url).record_run("proxy", {"note": "written before"}, run_id="taken-run-id")
    r = post(base, secret)
    assert r.status_code == 500 and r.json()["error"]["type"] == "server_error"
    assert ReviewStore(url=url).cases() == []
    assert [run.inputs for run in Records(url).runs("proxy")] == [{"note": "written before"}]


def test_a_case_queued_after_a_late_verdict_in_a_sentence_stream_names_a_written_run(served):
    opening = (
        "Paris is the capital of France. It lies on the river Seine in the north of the country. "
        "About two million people live in the city itself."
    )
    base, secret, url, _, _ = served(f"{opening} {ABUSE}", stream_policy="sentence")
    _, _, events = sse(base, secret, "hello")
    info = events[-2]["emoethics"]
    assert info["released_before_judgement"] == len(opening) + 1 and info["withheld"]
    [case] = ReviewStore(url=url).cases()
    [run] = Records(url).runs("proxy")
    assert case.id == info["case_id"] and case.detail["run_id"] == run.id


def test_a_client_that_leaves_after_the_final_chunk_leaves_one_run_and_no_error(served, caplog):
    base, secret, url, _, _ = served(FACT, stream_policy="sentence")
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hello"}]}
    with caplog.at_level("ERROR"):
        with httpx.stream(
            "POST", f"{base}/v1/chat/completions", headers={"Authorization": f"Bearer {secret}"}, json=body, timeout=30
        ) as r:
            for line in r.iter_lines():
                if '"emoethics"' in line:
                    break  # the final chunk is in; the client goes before [DONE]
        time.sleep(1.0)
    runs = Records(url).runs("proxy")
    assert len(runs) == 1 and runs[0].status == "ok"
    assert not [rec for rec in caplog.records if "IntegrityError" in rec.getMessage() or rec.exc_info]
