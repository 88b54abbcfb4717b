"""The proxy under load: 2,000 requests of mixed kinds, faults among them, at concurrency 16, to
`emoethics proxy --workers 2` as its own processes; then kill -9 and a restart.

Every answer must be well-formed (a judged completion, a stream that ends in ``[DONE]`` or in an
error event, or a 502/504 in the OpenAI shape), no reply cut, no secret echoed, no traceback in
the proxy's log, and the store must hold exactly one run per request, with every review case
naming a run that exists. After kill -9 the database passes SQLite's integrity check, every
answer a client received before the kill has its run, and the restarted proxy serves again.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from emoethics.store.keys import KeyStore

from proxy_load import CANARY, MIX, Proxy, check_answer, load_upstream, plan, request


def runs_of(url: str) -> tuple[list[str], list[tuple[str, str]], str]:
    """(run ids, (case id, run id) of every review case, integrity check) of the store."""
    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        runs = [r[0] for r in con.execute("select id from runs where kind = 'proxy'")]
        cases = [(c, json.loads(d).get("run_id")) for c, d in con.execute("select id, detail from cases")]
        return runs, cases, con.execute("pragma integrity_check").fetchone()[0]
    finally:
        con.close()


@pytest.fixture()
def soak(tmp_path):
    with load_upstream() as up:
        proxy = Proxy(tmp_path, up.url)
        _, secret = KeyStore(proxy.url).create("soak", "1000000/minute")
        try:
            yield proxy, secret
        finally:
            proxy.stop()


def test_two_thousand_mixed_requests_with_faults_and_a_kill_lose_and_duplicate_nothing(soak):
    proxy, secret = soak
    proxy.start()
    todo = plan(2000)
    with httpx.Client(limits=httpx.Limits(max_connections=16)) as client, ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda a: request(client, proxy.base, secret, a[0], *a[1]), enumerate(todo)))
    for seen in answers:
        check_answer(seen)
    runs, cases, integrity = runs_of(proxy.url)
    assert integrity == "ok"
    assert len(runs) == len(set(runs)) == len(todo)  # one run per request, none twice
    assert {s["run"] for s in answers if s["run"]} <= set(runs)
    assert all(run in set(runs) for _, run in cases)
    assert Counter(s["kind"] for s in answers if s["status"] == 200) >= Counter(
        {k: n * len(todo) // sum(MIX.values()) for k, n in MIX.items() if k in ("fact", "long", "threat")}
    )
    everything = "\n".join(s["raw"] for s in answers)
    assert CANARY not in everything
    assert any("HTTP 400" in s["raw"] for s in answers if s["kind"] == "secret")

    # kill -9 under load, then restart on the same store
    received: list[dict] = []
    with httpx.Client(limits=httpx.Limits(max_connections=16)) as client, ThreadPoolExecutor(16) as pool:

        def one(i: int) -> None:
            try:
                received.append(request(client, proxy.base, secret, 10_000 + i, "fact", i % 2 == 0))
            except (httpx.HTTPError, json.JSONDecodeError, AssertionError, KeyError, IndexError):
                pass  # cut off by the kill

        futures = [pool.submit(one, i) for i in range(400)]
        time.sleep(3)
        proxy.kill()
        for f in futures:
            f.result()
    complete = [s for s in received if s["status"] == 200 and "verdict" in s]
    assert complete, "no request finished before the kill"
    runs, cases, integrity = runs_of(proxy.url)
    assert integrity == "ok"
    assert len(runs) == len(set(runs))
    assert {s["run"] for s in complete} <= set(runs)  # every answer a client got has its run
    assert all(run in set(runs) for _, run in cases)
    proxy.start()
    with httpx.Client() as client:
        again = request(client, proxy.base, secret, 20_000, "fact", False)
    check_answer(again)
    assert again["run"] in runs_of(proxy.url)[0]
    log = proxy.log.read_text()
    assert "Traceback" not in log and CANARY not in log, log[-3000:]
