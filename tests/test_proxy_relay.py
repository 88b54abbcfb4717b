"""The ``sentence`` stream's relay on its own (:class:`SentenceRelay`), without HTTP: the real
sensor and fast judge, the scripted judge model and rectifier of ``proxy_world``, and an upstream
stream played from a list of chunks."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import pytest

from emoethics.proxy import ProxyConfig, ProxyWorkspace
from emoethics.proxy.chat import ChatHandler
from emoethics.proxy.exchange import Exchange
from emoethics.proxy.relay import SentenceRelay
from emoethics.store.records import Records

from proxy_world import scripted_judge, scripted_rectifier
from service_world import sensor

CALM = (
    "The museum opens at nine in the morning on weekdays. Tickets can be bought at the door or online. "
    "The north wing shows paintings from the last two centuries. A small cafe on the ground floor serves "
    "tea and cakes. Guided tours start every hour from the main hall. Children under twelve enter free."
)
OPENING = (
    "Paris is the capital of France. It lies on the river Seine in the north of the country. "
    "About two million people live in the city itself."
)
INSULTS = "You know what you are? Pathetic. An idiot. Worthless. A waste of everyone's time. Nobody wants you here."


class Upstream:
    id = "scripted-stream"

    async def close(self) -> None:
        return None


def chunks(text: str, finish: str = "stop") -> list[dict]:
    """``text`` as an upstream streams it, one word a chunk, then the finish."""
    base = {"id": "chatcmpl-1", "created": 1, "model": "m"}
    words = [w + " " for w in text.split(" ")]
    words[-1] = words[-1].rstrip()
    out = [{**base, "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]} for w in words]
    return out + [{**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("relay")
    url = f"sqlite:///{folder / 'relay.db'}"
    library = ProxyWorkspace(
        url=url,
        analyzer=sensor(),
        judge_backend=scripted_judge(),
        rectifier=scripted_rectifier(),
        judge_model=True,
    )
    config = ProxyConfig(upstream="http://127.0.0.1:9/v1", database_url=url, stream_policy="sentence")
    return SimpleNamespace(handler=ChatHandler(config, library, Upstream()), url=url)


def relayed(world, source_chunks: list[dict], leave_after: int | None = None) -> tuple[list[dict], str, Exchange]:
    """(the events as JSON, the raw stream, the exchange) of one relayed reply; ``leave_after``:
    the client goes after that many events."""
    handler = world.handler
    ex = Exchange(
        body={"messages": [{"role": "user", "content": "hello"}]},
        context="workplace",
        culture=None,
        user=None,
        run_id=handler.workspace.new_run_id(),
        inputs={"model": "m", "stream": True},
    )

    async def source():
        for c in source_chunks:
            yield c

    async def run() -> list[bytes]:
        gen = source()
        first = await gen.__anext__()
        events = SentenceRelay(handler, ex).events(first, gen)
        out = []
        async for e in events:
            out.append(e)
            if leave_after is not None and len(out) >= leave_after:
                await events.aclose()
                break
        return out

    raw = b"".join(asyncio.run(run())).decode()
    parsed = [json.loads(line[6:]) for line in raw.splitlines() if line.startswith("data: {")]
    return parsed, raw, ex


def content_of(events: list[dict]) -> list[str]:
    return [d for e in events if "choices" in e for d in [e["choices"][0]["delta"].get("content")] if d]


def run_of(world, run_id: str):
    return next(r for r in Records(world.url).runs(limit=500) if r.id == run_id)


def test_a_calm_reply_goes_out_in_several_windows_and_ends_with_its_verdict_and_done(world):
    events, raw, ex = relayed(world, chunks(CALM))
    windows = content_of(events)
    assert "".join(windows) == CALM and len(windows) >= 2
    final = events[-1]
    assert final["emoethics"]["verdict"] == "allow" and final["choices"][0]["finish_reason"] == "stop"
    assert final["emoethics"]["stream_policy"] == "sentence"
    assert raw.rstrip().endswith("data: [DONE]")
    assert run_of(world, ex.run_id).error is None


def test_an_insult_after_a_fine_opening_is_withheld_and_the_reply_queued_for_review(world):
    events, _, ex = relayed(world, chunks(f"{OPENING} {INSULTS}"))
    released = "".join(content_of(events))
    assert released == OPENING + " "
    info = events[-1]["emoethics"]
    assert info["verdict"] in ("rectify", "block") and info["withheld"] > len("Nobody wants you here.")
    assert info["released_before_judgement"] == len(OPENING) + 1
    assert events[-1]["choices"][0]["finish_reason"] == "content_filter" and info["case_id"]


def test_a_chunk_that_cannot_be_used_ends_the_stream_with_an_error_event_and_no_done(world):
    bad = chunks(CALM)[:3] + [{"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 10**6}]}}]}]
    events, raw, ex = relayed(world, bad)
    assert events[-1]["error"]["type"] == "upstream_error" and "cannot be used" in events[-1]["error"]["message"]
    assert "[DONE]" not in raw
    assert run_of(world, ex.run_id).error


def test_a_client_that_leaves_stops_the_work_and_the_run_says_so(world):
    _, raw, ex = relayed(world, chunks(CALM * 3), leave_after=1)
    assert ex.gone.is_set() and "[DONE]" not in raw
    assert "closed the stream" in run_of(world, ex.run_id).error


class CountingSensor:
    """The real sensor, counting the texts it reads."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.texts: list[str] = []

    def analyze(self, text: str, cues: bool = True):
        self.texts.append(text)
        return self.inner.analyze(text, cues=cues)

    def analyze_batch(self, texts: list[str], cues: bool = False):
        self.texts += texts
        return self.inner.analyze_batch(texts, cues=cues)

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


def test_the_judge_model_reuses_what_the_fast_judge_read_so_the_sensor_reads_a_reply_once(tmp_path):
    from emoethics.proxy.guard import Policy, ReplyGuard

    from proxy_world import ABUSE

    counting = CountingSensor(sensor())
    library = ProxyWorkspace(
        url=f"sqlite:///{tmp_path / 'once.db'}",
        analyzer=counting,
        judge_backend=scripted_judge(),
        rectifier=scripted_rectifier(),
    )
    try:
        d = ReplyGuard(library, Policy(mode="observe")).decide(ABUSE, "workplace")
        assert d.path == "model" and d.judgement.models.get("judge")
        assert counting.texts.count(ABUSE) == 1
    finally:
        library.close()
