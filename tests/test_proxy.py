"""The guardrail proxy with the real OpenAI SDK as its client, in front of a scripted upstream:
verdicts in headers and body, rectified and blocked replies, both streaming policies, failing
upstreams, keys and limits, empathy, the run log, the review page and SSHF, the [proxy] config
section, and a schema-driven fuzz run that must find no server error."""

from __future__ import annotations

import atexit
import json
import re

import httpx
import openai
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from openai import OpenAI
from schemathesis.checks import not_a_server_error

from emoethics.errors import ConfigError
from emoethics.proxy.settings import proxy_settings
from emoethics.proxy.streaming import split_sentences
from emoethics.store.keys import KeyStore
from emoethics.store.queue import ReviewStore
from emoethics.store.records import Records

from chat_upstream import chat_upstream, last_user
from proxy_world import ABUSE, POLITE, make_proxy, scripted_rectifier
from service_world import make_service, running

FACT = "Paris is the capital of France."
#: A fine opening longer than the first release window of a sentence stream.
OPENING = (
    f"{FACT} It lies on the river Seine in the north of the country. About two million people live in the city itself."
)
THREAT = "I know where you live and I will kill you."
BROKEN_PROMISE = "I said I would send you the file today, but I won't bother after all."
COMPASSION = (
    "I'm really sorry you're going through this, it sounds frightening. You can call your bank today "
    "and ask for a payment plan."
)


def replies(body: dict) -> str:
    """The scripted upstream: abuse when asked for it, compassion for a worried user, else a fact."""
    text = last_user(body)
    if "abuse" in text:
        return ABUSE
    if "mixed" in text:
        return f"{OPENING} {ABUSE}"
    if "bank" in text:
        return COMPASSION
    if "promise" in text:
        return BROKEN_PROMISE
    if "threaten" in text:
        return THREAT
    return FACT


@pytest.fixture(scope="module")
def upstream():
    with chat_upstream(replies) as up:
        yield up


@pytest.fixture()
def proxy(tmp_path, upstream, monkeypatch):
    """A running proxy (context workplace) and an OpenAI client for it."""
    monkeypatch.setenv("UPSTREAM_TEST_KEY", "sk-upstream-secret")

    def start(**config):
        app, url, secret, library = make_proxy(
            tmp_path, upstream.url, **({"policy": {"context": "workplace"}} | config)
        )
        ctx = running(app)
        base = ctx.__enter__()
        started.append(ctx)
        return OpenAI(base_url=f"{base}/v1", api_key=secret, max_retries=0), url, base, secret

    started: list = []
    yield start
    for ctx in started:
        ctx.__exit__(None, None, None)


def ask(client: OpenAI, text: str, **kw):
    raw = client.chat.completions.with_raw_response.create(
        model="scripted", messages=[{"role": "user", "content": text}], **kw
    )
    return raw.headers, raw.parse()


def streamed(client: OpenAI, text: str, **kw) -> tuple[str, object, list]:
    parts, chunks = [], []
    for ch in client.chat.completions.create(
        model="scripted", messages=[{"role": "user", "content": text}], stream=True, **kw
    ):
        chunks.append(ch)
        if ch.choices and ch.choices[0].delta.content:
            parts.append(ch.choices[0].delta.content)
    return "".join(parts), chunks[-1], chunks


def test_an_allowed_reply_passes_unchanged_with_the_verdict_in_headers_and_body(proxy, upstream):
    client, url, _, secret = proxy()
    headers, done = ask(client, "What is the capital of France?")
    assert done.choices[0].message.content == FACT and done.choices[0].finish_reason == "stop"
    assert headers["x-emoethics-verdict"] == "allow" and headers["x-emoethics-action"] == "passed"
    assert headers["x-emoethics-path"] == "fast" and re.match(r"\w+ \([+-]\d\.\d\d\)", headers["x-emoethics-behaviour"])
    assert headers["x-emoethics-language"] == "en; supported"
    extra = done.model_extra["emoethics"]
    assert extra["language"]["code"] == "en"
    assert extra["verdict"] == "allow" and extra["reasons"] and set(extra["profile"]) >= {"sadness-joy", "fear-anger"}
    assert extra["run_id"] == headers["x-emoethics-run"]
    # the upstream got its own key from the environment, never the client's
    assert upstream.auth[-1] == "Bearer sk-upstream-secret" and secret not in str(upstream.auth)
    [run] = Records(url).runs("proxy")
    assert run.id == headers["x-emoethics-run"] and run.source == "proxy" and run.status == "ok"
    assert run.inputs["messages"][0]["content"] == "What is the capital of France?"
    assert run.output["choices"][0]["delivered"] == FACT and run.seconds > 0
    assert client.models.list().data[0].id == "scripted"


def test_an_abusive_upstream_reply_comes_back_rectified_with_the_original_kept_in_the_store(proxy):
    client, url, _, _ = proxy()
    headers, done = ask(client, "abuse me")
    text = done.choices[0].message.content
    assert text == POLITE and ABUSE not in text
    assert headers["x-emoethics-verdict"] == "rectify" and headers["x-emoethics-action"] == "rectified"
    assert headers["x-emoethics-path"] == "model"  # the fast path was not sure: the judge model was asked
    extra = done.model_extra["emoethics"]
    assert extra["violations"][0]["guideline"] == "respect" and extra["violations"][0]["span"]
    assert extra["rectified"]["success"] and extra["rectified"]["verdict_after"] == "allow"
    [run] = Records(url).runs("proxy")
    assert run.output["choices"][0]["original"] == ABUSE and run.output["choices"][0]["delivered"] == POLITE


def test_an_abusive_reply_that_cannot_be_rectified_is_blocked_with_content_filter(tmp_path, upstream, monkeypatch):
    monkeypatch.setenv("UPSTREAM_TEST_KEY", "k")
    app, _, secret, _ = make_proxy(
        tmp_path, upstream.url, rectifier=scripted_rectifier(ABUSE), policy={"context": "workplace"}
    )
    with running(app) as base:
        client = OpenAI(base_url=f"{base}/v1", api_key=secret, max_retries=0)
        headers, done = ask(client, "abuse me")
        assert done.choices[0].finish_reason == "content_filter" and "idiot" not in done.choices[0].message.content
        assert headers["x-emoethics-verdict"] == "block"
        assert "no rewrite reached the allowed range" in " ".join(done.model_extra["emoethics"]["reasons"])
        # streamed with the hold policy: the same refusal, nothing of the original
        text, last, _ = streamed(client, "abuse me")
        assert "idiot" not in text and last.choices[0].finish_reason == "content_filter"
        assert last.model_extra["emoethics"]["verdict"] == "block"


def test_a_blocked_reply_is_refused_or_with_rectify_blocked_rewritten_first(proxy):
    client, _, _, _ = proxy()
    headers, done = ask(client, "threaten me")
    assert headers["x-emoethics-verdict"] == "block" and headers["x-emoethics-action"] == "blocked"
    assert done.choices[0].finish_reason == "content_filter" and "kill" not in done.choices[0].message.content
    client, _, _, _ = proxy(policy={"context": "workplace", "rectify_blocked": True})
    headers, done = ask(client, "threaten me")  # the verdict reported is what was done with the reply
    assert headers["x-emoethics-verdict"] == "rectify" and headers["x-emoethics-action"] == "rectified"
    assert done.choices[0].message.content == POLITE and done.model_extra["emoethics"]["rectified"]["success"]


def test_observe_mode_judges_and_logs_but_changes_nothing(proxy):
    client, url, _, _ = proxy(policy={"context": "workplace", "mode": "observe"})
    headers, done = ask(client, "abuse me")
    assert done.choices[0].message.content == ABUSE
    assert headers["x-emoethics-verdict"] in ("rectify", "block") and headers["x-emoethics-action"] == "observed"
    assert ReviewStore(url=url).cases() == []
    assert Records(url).runs("proxy")[0].output["verdict"] == headers["x-emoethics-verdict"]


def test_streaming_with_the_hold_policy_sends_the_judged_reply_in_openai_chunks(proxy):
    client, _, _, _ = proxy()
    text, last, chunks = streamed(client, "What is the capital of France?")
    assert text == FACT and len(chunks) >= 3 and all(c.object == "chat.completion.chunk" for c in chunks)
    assert last.choices[0].finish_reason == "stop" and last.model_extra["emoethics"]["verdict"] == "allow"
    text, last, _ = streamed(client, "abuse me")
    assert text == POLITE and last.model_extra["emoethics"]["action"] == "rectified"


def test_streaming_sentence_by_sentence_releases_what_passes_and_withholds_the_rest(proxy):
    client, _, base, secret = proxy(stream_policy="sentence")
    text, last, _ = streamed(client, "What is the capital of France?")
    assert text == FACT and last.model_extra["emoethics"]["verdict"] == "allow"
    assert last.model_extra["emoethics"]["stream_policy"] == "sentence"
    with httpx.stream(
        "POST",
        f"{base}/v1/chat/completions",
        headers={"Authorization": f"Bearer {secret}"},
        json={"model": "m", "stream": True, "messages": [{"role": "user", "content": "x"}]},
    ) as r:
        assert r.headers["x-emoethics-verdict"] == "pending" and r.headers["content-type"].startswith("text/event")
        r.read()
    # a fine opening goes out; the abusive rest is held, judged and never sent
    text, last, _ = streamed(client, "mixed please")
    assert text.startswith(OPENING) and "idiot" not in text
    info = last.model_extra["emoethics"]
    assert info["verdict"] in ("rectify", "block") and info["released_before_judgement"] == len(OPENING) + 1
    assert last.choices[0].finish_reason == "content_filter" and info["case_id"]
    # nothing released yet when the verdict came: the rectified text is streamed instead
    text, last, _ = streamed(client, "abuse me")
    assert text == POLITE and last.model_extra["emoethics"]["action"] == "rectified"


def test_failing_upstreams_become_clear_openai_errors_and_are_recorded(tmp_path, monkeypatch):
    monkeypatch.setenv("UPSTREAM_TEST_KEY", "k")
    for mode, status, words in (
        ("500", 502, "HTTP 500"),
        ("garbage", 502, "not a chat completion"),
        ("slow", 504, "did not answer within"),
    ):
        folder = tmp_path / mode
        folder.mkdir()
        with chat_upstream(mode=mode, slow_seconds=3) as up:
            app, url, secret, _ = make_proxy(folder, up.url, upstream_timeout=0.5)
            with running(app) as base:
                client = OpenAI(base_url=f"{base}/v1", api_key=secret, max_retries=0)
                for stream in (False, True):
                    with pytest.raises(openai.APIStatusError) as e:
                        ask(client, "hello", stream=stream) if not stream else streamed(client, "hello")
                    assert e.value.status_code == status and words in e.value.message
                    body = e.value.response.json()
                    assert set(body["error"]) >= {"message", "type"} and "Traceback" not in e.value.response.text
            runs = Records(url).runs("proxy")
            assert len(runs) == 2 and all(r.status == "error" and words in r.error for r in runs)


def test_a_stream_that_turns_into_garbage_ends_with_an_error_event(tmp_path, monkeypatch):
    monkeypatch.setenv("UPSTREAM_TEST_KEY", "k")
    with chat_upstream(FACT, mode="badstream") as up:
        app, url, secret, _ = make_proxy(tmp_path, up.url, stream_policy="sentence")
        with running(app) as base:
            client = OpenAI(base_url=f"{base}/v1", api_key=secret, max_retries=0)
            with pytest.raises(openai.APIError) as e:
                streamed(client, "hello")
            assert "not a chat completion chunk" in str(e.value)
    assert Records(url).runs("proxy")[0].status == "error"


def test_keys_contexts_and_body_limits_are_checked(proxy):
    client, url, base, secret = proxy(max_body_bytes=4096)
    with pytest.raises(openai.AuthenticationError):
        OpenAI(base_url=f"{base}/v1", api_key="wrong", max_retries=0).models.list()
    with pytest.raises(openai.BadRequestError) as e:
        ask(client, "hi", extra_headers={"X-Emoethics-Context": "the-moon"})
    assert "the-moon" in e.value.message and "workplace" in e.value.message
    headers, _ = ask(client, "hi", extra_headers={"X-Emoethics-Context": "children"})
    assert headers["x-emoethics-context"] == "children"
    with pytest.raises(openai.APIStatusError) as e:
        ask(client, "x" * 5000)
    assert e.value.status_code == 413
    r = httpx.post(
        f"{base}/v1/chat/completions",
        headers={"Authorization": f"Bearer {secret}"},
        json={"model": "m", "messages": []},
    )
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    _, slow = KeyStore(url).create("slow", "1/minute")
    limited = OpenAI(base_url=f"{base}/v1", api_key=slow, max_retries=0)
    limited.models.list()
    with pytest.raises(openai.RateLimitError):
        limited.models.list()


def test_no_log_content_keeps_only_verdicts_in_the_run_log(proxy):
    client, url, _, _ = proxy(log_content=False)
    ask(client, "abuse me")
    run = Records(url).runs("proxy")[0]
    stored = json.dumps(run.model_dump(mode="json"))
    assert "abuse me" not in stored and "idiot" not in stored and run.output["verdict"] in ("rectify", "block")


def test_empathy_tells_the_upstream_about_distress_and_never_refuses_because_of_it(proxy, upstream):
    worried = "I'm terrified, I can't stop crying, I think I'm going to lose my house. What can I do about the bank?"
    client, _, _, _ = proxy(policy={"context": "personal"})
    _, plain = ask(client, worried)
    client, url, _, _ = proxy(policy={"context": "personal", "empathy": True})
    headers, done = ask(client, worried)
    note = upstream.bodies[-1]["messages"][0]
    assert note["role"] == "system" and "distress" in note["content"]
    extra = done.model_extra["emoethics"]
    assert extra["user"]["distressed"] and ("fear" in extra["user"]["state"] or "sad" in extra["user"]["state"])
    assert extra["user"]["read"]["chars"] == extra["user"]["read"]["of"]  # a short message is read whole
    assert done.choices[0].message.content == COMPASSION and headers["x-emoethics-verdict"] in ("allow", "review")
    # a calm question gets no note
    ask(client, "What is the capital of France?")
    assert upstream.bodies[-1]["messages"][0]["role"] == "user"
    assert plain.model_extra["emoethics"].get("user") is None


def test_the_review_page_shows_a_case_the_proxy_queued_and_its_feedback_reaches_sshf(tmp_path, upstream, monkeypatch):
    from emoethics.ethics.sshf import learn_rulebook
    from test_ethics_logic import G, sshf_world

    monkeypatch.setenv("UPSTREAM_TEST_KEY", "k")
    service, url, service_secret = make_service(tmp_path)  # the same database as the proxy below
    app, _, secret, _ = make_proxy_on(url, upstream.url)
    gen, an = sshf_world()
    store = ReviewStore(url=url)
    v1 = learn_rulebook(G, ["personal"], gen, an, only=["promise-keeping"], pairs=4, store=store, sample=0)
    with running(app) as base:
        client = OpenAI(base_url=f"{base}/v1", api_key=secret, max_retries=0)
        headers, done = ask(client, "your promise?")  # the judge model sees a broken promise: severity review
    assert headers["x-emoethics-verdict"] == "review" and headers["x-emoethics-action"] == "queued"
    case_id = done.model_extra["emoethics"]["case_id"]
    case = store.case(case_id)
    assert case.kind == "proxy-review" and case.detail["rule_id"] == "promise-keeping@personal"
    assert case.detail["run_id"] == headers["x-emoethics-run"]
    with TestClient(service) as browser:
        page = browser.get("/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        browser.post("/login", data={"key": service_secret, "csrf": csrf, "next": "/review"})
        queue = browser.get("/review").text
        assert "bother after all" in queue
        csrf = re.search(r'name="csrf" value="([^"]+)"', queue).group(1)  # the signed-in session's token
        page = browser.get(f"/review/{case_id}").text
        assert "bother after all" in page and 'value="promise-keeping@personal"' in page
        r = browser.post(
            f"/review/{case_id}",
            data={"decision": "accept", "rule_id": "promise-keeping@personal", "csrf": csrf},
            follow_redirects=False,
        )
        assert r.status_code == 303
    [fb] = store.feedback(case_id)
    v2 = learn_rulebook(G, ["personal"], gen, an, only=["promise-keeping"], pairs=4, previous=v1, store=store, sample=0)
    assert fb.id in v2.feedback_used and v2.rules[0].status == "accepted"


def make_proxy_on(url: str, upstream_url: str):
    """A proxy on an existing database (the service's), context personal, every reply read by the
    judge model (the fast path reads the broken promise as allowed: the queue is what is tested)."""
    from emoethics.proxy import Policy, ProxyConfig, ProxyWorkspace, create_proxy_app

    from proxy_world import scripted_judge
    from service_world import sensor

    library = ProxyWorkspace(
        url=url,
        analyzer=sensor(),
        judge_backend=scripted_judge(("bother",), "promise-keeping"),
        rectifier=scripted_rectifier(),
    )
    app = create_proxy_app(
        ProxyConfig(
            upstream=upstream_url,
            upstream_key_env="UPSTREAM_TEST_KEY",
            database_url=url,
            policy=Policy(context="personal", judge_model="always"),
        ),
        workspace=library,
    )
    _, secret = KeyStore(url).create("client", "100000/minute")
    return app, url, secret, library


def test_the_proxy_section_of_the_config_file_and_the_flags_make_one_configuration(tmp_path, monkeypatch):
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[generator]\nbackend = "local"\n[proxy]\nupstream = "http://127.0.0.1:9/v1"\nmode = "observe"\n'
        'empathy = true\nport = 8200\nmodel_contexts = ["children"]\n'
    )
    monkeypatch.setenv("EMOETHICS_CONFIG", str(cfg))
    from emoethics.config import config_section, load_settings

    load_settings()  # the [proxy] section is no unknown key for the model settings
    config, server = proxy_settings(config_section("proxy"), {"mode": "enforce", "stream_policy": None})
    assert config.upstream == "http://127.0.0.1:9/v1" and config.policy.mode == "enforce"  # the flag wins
    assert config.policy.empathy and config.policy.model_contexts == ["children"] and server == {"port": 8200}
    with pytest.raises(ConfigError, match="stream_policy"):
        proxy_settings({}, {"stream_policy": "sometimes"})


def test_the_proxy_command_refuses_to_listen_beyond_loopback_without_public(tmp_path, monkeypatch):
    import subprocess
    import sys

    env = {**__import__("os").environ, "EMOETHICS_DATA_DIR": str(tmp_path)}
    p = subprocess.run(
        [sys.executable, "-m", "emoethics.cli", "proxy", "--host", "0.0.0.0", "--upstream", "http://127.0.0.1:9/v1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert p.returncode == 2 and "--public" in p.stderr and "Traceback" not in p.stderr


def test_sentences_are_cut_at_their_ends_and_join_back_to_the_text():
    text = 'He said "stop." Then left!\nWhy? Because… it was late. unfinished'
    done, rest = split_sentences(text)
    assert done == ['He said "stop." ', "Then left!\n", "Why? ", "Because… ", "it was late. "] and rest == "unfinished"
    assert "".join(done) + rest == text


# -- schema-driven fuzzing: whatever the schema allows must never produce a 5xx ------------------

_FUZZ_UP = chat_upstream(FACT)
_FUZZ_URL = _FUZZ_UP.__enter__().url
# stopped at exit while its server thread still runs (a generator closed later, at interpreter
# finalisation, would wait forever for a thread that no longer runs)
atexit.register(_FUZZ_UP.__exit__, None, None, None)


def _fuzz_app():
    import tempfile
    from pathlib import Path

    app, _, secret, _ = make_proxy(
        Path(tempfile.mkdtemp(prefix="emoethics-proxy-fuzz-")), _FUZZ_URL, policy={"empathy": True}
    )
    return app, secret


FUZZ_APP, FUZZ_SECRET = _fuzz_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", FUZZ_APP)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_fuzz_finds_no_server_error(case):
    case.call_and_validate(headers={"Authorization": f"Bearer {FUZZ_SECRET}"}, checks=[not_a_server_error], timeout=120)


def test_a_shadow_rulebook_is_judged_beside_the_one_in_force_and_only_logged(proxy, tmp_path):
    from emoethics.store.verdicts import Filters, VerdictLog
    from test_calibration import book_with

    lenient = book_with({g: 2.0 for g in ("conduct:respect", "conduct:no-harm", "behaviour_low", "moral")})
    Records(f"sqlite:///{tmp_path / 'proxy.db'}").save_rulebook(lenient)
    client, url, _, _ = proxy(policy={"context": "workplace", "mode": "observe"}, shadow=lenient.id)
    headers, done = ask(client, "abuse me")
    assert done.choices[0].message.content == ABUSE and headers["x-emoethics-verdict"] != "allow"
    ask(client, "tell me a fact")
    rows = {r["verdict"]: r for r in VerdictLog(url).rows(Filters())}
    flagged = rows[headers["x-emoethics-verdict"]]
    assert flagged["shadow_rulebook"] == lenient.id and flagged["shadow_verdict"] == "allow"
    assert flagged["mode"] == "observe" and flagged["action"] == "observed" and flagged["run_id"]
    assert rows["allow"]["shadow_verdict"] == "allow"
