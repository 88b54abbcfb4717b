"""What lets the proxy scale: the judge batcher (concurrent requests' fast judgements made in one
batch, each caller getting its own judgement or error), rate limits counted in the store (so that
they hold across processes), and `--workers N` (several processes on one port, one store)."""

from __future__ import annotations

import multiprocessing
import threading
import time

import httpx
import pytest

from emoethics.errors import InputError
from emoethics.ethics.judge import Judgement
from emoethics.proxy.batcher import JudgeBatcher
from emoethics.proxy.workers import app_from_environment, worker_environment
from emoethics.store.keys import KeyStore
from emoethics.store.rates import RateCounter

from chat_upstream import chat_upstream
from proxy_load import Proxy
from proxy_world import make_proxy
from service_world import running

FACT = "Paris is the capital of France."


class CountingJudge:
    """judge_many that records the batches it gets and fails on the text 'bad'."""

    def __init__(self, judge) -> None:
        self.judge = judge
        self.batches: list[list[str]] = []
        self.gate = threading.Event()

    def __call__(self, texts: list[str], context: str, culture: str | None) -> list[Judgement]:
        self.gate.wait(10)
        self.batches.append(list(texts))
        if "bad" in texts:
            raise InputError("the text 'bad' cannot be judged")
        return self.judge.judge_many(texts, context, culture)


@pytest.fixture(scope="module")
def fast_judge(tmp_path_factory):
    from emoethics.proxy import ProxyWorkspace

    from service_world import sensor

    folder = tmp_path_factory.mktemp("batcher")
    return ProxyWorkspace(url=f"sqlite:///{folder / 'b.db'}", analyzer=sensor(), judge_model=False).fast_judge()


def judged_together(counting: CountingJudge, texts: list[str]) -> dict[str, object]:
    """Each of ``texts`` judged by its own thread while a first text ('warm up') holds the batcher
    at the gate, so that they wait together; text -> its judgement, or the error it raised."""
    batcher = JudgeBatcher(counting)
    out: dict[str, object] = {}

    def one(text: str) -> None:
        try:
            out[text] = batcher.judge(text, "workplace")
        except InputError as e:
            out[text] = e

    blocker = threading.Thread(target=one, args=("warm up",))
    blocker.start()
    time.sleep(0.2)
    threads = [threading.Thread(target=one, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    time.sleep(0.3)
    counting.gate.set()
    for t in [blocker, *threads]:
        t.join(30)
    batcher.close()
    return out


def test_concurrent_judgements_are_made_in_one_batch_and_match_one_at_a_time(fast_judge):
    counting = CountingJudge(fast_judge)
    texts = [FACT, "I will hurt you and your family.", "The train leaves at nine.", "You are an idiot."]
    results = judged_together(counting, texts)
    assert counting.batches[0] == ["warm up"] and sorted(counting.batches[1]) == sorted(texts)
    for text in texts:
        alone = fast_judge.judge(text, "workplace")
        got = results[text]
        assert isinstance(got, Judgement)
        assert got.text == text and got.verdict == alone.verdict
        assert abs(got.confidence - alone.confidence) < 1e-3
    assert results["I will hurt you and your family."].verdict == "block"  # type: ignore[union-attr]
    assert results[FACT].verdict == "allow"  # type: ignore[union-attr]


def test_a_text_that_fails_in_a_batch_fails_alone_and_the_others_get_their_judgements(fast_judge):
    out = judged_together(CountingJudge(fast_judge), [FACT, "bad", "The shop opens at eight."])
    assert isinstance(out["bad"], InputError) and "cannot be judged" in str(out["bad"])
    assert out[FACT].verdict == "allow" and out["The shop opens at eight."].verdict == "allow"  # type: ignore[union-attr]


def test_users_messages_are_read_in_batches_on_the_batchers_thread_and_match_one_at_a_time(fast_judge):
    from service_world import sensor

    reader = sensor()
    batches: list[list[str]] = []
    gate = threading.Event()

    def read_many(texts: list[str]):
        gate.wait(10)
        batches.append(list(texts))
        return reader.analyze_batch(texts)

    batcher = JudgeBatcher(CountingJudge(fast_judge), read_many=read_many)
    texts = ["I'm so scared I'll lose my flat.", "Thank you, that made my day!", "warm up"]
    out: dict[str, object] = {}
    threads = [threading.Thread(target=lambda t=t: out.__setitem__(t, batcher.read(t))) for t in texts]
    threads[-1].start()
    time.sleep(0.2)
    for t in threads[:-1]:
        t.start()
    time.sleep(0.3)
    gate.set()
    for t in threads:
        t.join(30)
    batcher.close()
    assert batches[0] == ["warm up"] and sorted(batches[1]) == sorted(texts[:2])
    for text in texts:
        assert out[text].emotions == reader.analyze(text).emotions  # type: ignore[attr-defined]


def hits(url: str, key_id: str, n: int, answers) -> None:  # noqa: ANN001 (a multiprocessing list)
    counter = RateCounter(url)
    for _ in range(n):
        answers.append(counter.hit(key_id, 30, 60).allowed)


def test_a_rate_limit_holds_across_processes_sharing_the_store(tmp_path):
    url = f"sqlite:///{tmp_path / 'rates.db'}"
    RateCounter(url).hit("warm", 1, 60)  # the schema made once, before the processes race
    with multiprocessing.Manager() as manager:
        answers = manager.list()
        procs = [multiprocessing.Process(target=hits, args=(url, "k1", 20, answers)) for _ in range(3)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        allowed = list(answers)
    assert len(allowed) == 60 and sum(allowed) == 30  # 30 per minute between the three, not 30 each
    refused = RateCounter(url).hit("k1", 30, 60)
    assert not refused.allowed and 1 <= refused.retry_after <= 60
    assert RateCounter(url).hit("k2", 30, 60).allowed  # another key has its own count


def test_a_sliding_window_lets_requests_through_again_as_the_last_window_slides_out(tmp_path):
    counter = RateCounter(f"sqlite:///{tmp_path / 'rates.db'}")
    start = 6000.0  # the start of a window of 60 s
    assert all(counter.hit("k", 10, 60, now=start + i).allowed for i in range(10))
    assert not counter.hit("k", 10, 60, now=start + 30).allowed
    # 30 s into the next window half of the last one still counts: 5 of 10 more
    later = [counter.hit("k", 10, 60, now=start + 90).allowed for _ in range(8)]
    assert sum(later) == 5
    waited = counter.hit("k", 10, 60, now=start + 90)
    assert not waited.allowed and waited.retry_after >= 1
    assert counter.hit("k", 10, 60, now=start + 180).allowed  # two windows on: a fresh start


def test_the_proxy_refuses_over_the_rate_limit_with_a_429_in_the_openai_shape(tmp_path):
    with chat_upstream(FACT) as up:
        app, url, _, _ = make_proxy(tmp_path, up.url)
        _, secret = KeyStore(url).create("tight", "2/minute")
        with running(app) as base:
            auth = {"Authorization": f"Bearer {secret}"}
            body = {"model": "m", "messages": [{"role": "user", "content": "hello"}]}
            codes = [httpx.post(f"{base}/v1/chat/completions", headers=auth, json=body, timeout=60) for _ in range(3)]
    assert [r.status_code for r in codes] == [200, 200, 429]
    error = codes[2].json()["error"]
    assert error["code"] == "rate_limit_exceeded" and int(codes[2].headers["retry-after"]) >= 1


def test_a_worker_builds_the_same_proxy_from_the_environment_with_the_upstream_credentials(tmp_path, monkeypatch):
    from emoethics.config import Settings
    from emoethics.proxy.settings import proxy_settings

    config, _ = proxy_settings(
        {}, {"upstream": "http://user:s3cret-pass@127.0.0.1:9/v1", "judge_model": "never", "context": "workplace"}
    )
    config = config.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'w.db'}"})
    monkeypatch.setenv("EMOETHICS_PROXY_WORKER", worker_environment(config, Settings()))
    app = app_from_environment()
    assert app.title == "emoethics proxy"
    assert "s3cret-pass" not in config.model_dump_json()


def test_two_workers_share_the_rate_limit_of_a_key(tmp_path):
    with chat_upstream(FACT) as up:
        proxy = Proxy(tmp_path, up.url, workers=2, stream_policy="hold")
        _, secret = KeyStore(proxy.url).create("shared", "10/minute")
        proxy.start()
        try:
            auth = {"Authorization": f"Bearer {secret}"}
            body = {"model": "m", "messages": [{"role": "user", "content": "hello"}]}
            # a new connection each time: the kernel spreads them over both workers
            codes = [
                httpx.post(f"{proxy.base}/v1/chat/completions", headers=auth, json=body, timeout=60).status_code
                for _ in range(14)
            ]
        finally:
            proxy.stop()
    assert codes.count(200) == 10 and codes.count(429) == 4 and codes[:10] == [200] * 10
