"""Batch jobs against a misbehaving server: every item is answered or reported failed with a
reason, exactly once, also after ``kill -9`` and a resume; retries follow Retry-After; a dead
server stops the job instead of filling the output with failures; a re-run costs no calls."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from emoethics.batch import BatchOptions, JobSpec, run_batch
from emoethics.batch.retry import RetryPolicy
from emoethics.config import load_settings
from emoethics.errors import BackendError, MalformedOutputError, TransientBackendError
from emoethics.llm.openai_backend import retry_after
from fault_server import FaultMix, fault_server

N = 1000
CLI = [sys.executable, "-m", "emoethics.cli"]


def corpus(path: Path, n: int = N) -> Path:
    """``n`` records: objects with ids, plain strings, and a few that cannot be done."""
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            if i % 250 == 7:
                f.write("{not json\n")
            elif i % 250 == 11:
                f.write(json.dumps({"id": f"r{i}", "text": "   "}) + "\n")
            elif i % 3 == 0:
                f.write(json.dumps(f"Plain line {i}: what a lovely surprise!") + "\n")
            else:
                f.write(json.dumps({"id": f"r{i}", "text": f"Record {i}: they cancelled my flight again."}) + "\n")
            if i % 100 == 50:
                f.write("\n")  # blank lines are not records
    return path


def settings(url: str, timeout: float = 1.0, cache: bool = False):
    return load_settings({"generator": {"base_url": url, "model": "fault", "timeout": timeout}}, no_cache=not cache)


def rows_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def assert_exactly_once(rows: list[dict], n: int = N) -> None:
    counts = Counter(r["index"] for r in rows)
    assert sorted(counts) == list(range(n)), "an item is missing"
    assert max(counts.values()) == 1, f"duplicated: {[i for i, c in counts.items() if c > 1][:5]}"
    for r in rows:
        if r["ok"]:
            assert len(r["result"]["readings"]) == 4
        else:
            assert r["error"] and r["error_kind"] in ("input", "backend", "internal"), r


def test_a_thousand_items_against_a_faulty_server(tmp_path):
    src = corpus(tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    with fault_server(FaultMix.default(seed=3)) as srv:
        start = time.perf_counter()
        s = run_batch(
            JobSpec(kind="analyze", settings=settings(srv.url)),
            src,
            out,
            options=BatchOptions(concurrency=16, retries=3, backoff=0.05, max_failures=1000),
        )
        took = time.perf_counter() - start
        stats = dict(srv.stats)
    rows = rows_of(out)
    assert_exactly_once(rows)
    assert s.complete and s.processed == N and s.ok + s.failed == N and s.output_rows == N
    failed = [r for r in rows if not r["ok"]]
    assert {r["index"] for r in failed if r["error_kind"] == "input"} >= {7, 11, 257, 261, 507, 511, 757, 761}
    assert any("not valid JSON" in r["error"] for r in failed) and any("empty" in r["error"] for r in failed)
    assert s.retried_items > 0 and s.usage.calls > 0
    # every kind of fault happened, and most items still got an answer
    assert all(
        stats.get(k, 0) > 0
        for k in ("error500", "rate_limit", "hang", "malformed", "truncated", "garbage", "reset", "partial")
    ), stats
    assert s.ok >= 0.95 * N, (s.ok, s.failures)
    assert took < 600  # a few seconds on an idle machine


def test_kill_minus_nine_and_resume(tmp_path):
    src = corpus(tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    env = dict(os.environ, EMOETHICS_CACHE_DIR=str(tmp_path / "cache"), EMOETHICS_NO_CACHE="0")
    mix = FaultMix(error500=0.05, rate_limit=0.01, malformed=0.03, truncated=0.02, reset=0.01, seed=5)
    with fault_server(mix, latency=0.02) as srv:
        args = [
            *CLI,
            "batch",
            "analyze",
            str(src),
            "-o",
            str(out),
            "--base-url",
            srv.url,
            "--model",
            "fault",
            "--timeout",
            "1",
            "--concurrency",
            "4",
            "--batch-size",
            "1",
            "--retries",
            "3",
            "--backoff",
            "0.05",
            "--json",
        ]
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 300
        while time.time() < deadline:
            if out.exists() and out.read_bytes().count(b"\n") >= 200:
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        before = out.read_bytes()
        assert 200 <= before.count(b"\n") < N
        done = subprocess.run(args, env=env, capture_output=True, timeout=600)
        assert done.returncode == 0, done.stderr.decode()
    summary = json.loads(done.stdout)
    rows = rows_of(out)
    assert_exactly_once(rows)
    kept = before[: before.rfind(b"\n") + 1].count(b"\n")  # complete rows survive, a torn one is redone
    assert summary["already_done"] == kept and summary["processed"] == N - kept
    assert summary["complete"] and summary["output_rows"] == N
    assert "resuming" in done.stderr.decode()
    # running it once more finds nothing to do
    again = subprocess.run(args, env=env, capture_output=True, timeout=300)
    assert again.returncode == 0 and json.loads(again.stdout)["processed"] == 0
    assert len(rows_of(out)) == N


def test_a_dead_server_stops_the_job_and_a_resume_finishes_it(tmp_path):
    src = corpus(tmp_path / "in.jsonl", 120)
    out = tmp_path / "out.jsonl"
    spec_opts = dict(concurrency=4, retries=1, backoff=0.01, max_failures=10, batch_size=1)
    with fault_server(FaultMix(error500=1.0)) as srv:
        s = run_batch(JobSpec(kind="analyze", settings=settings(srv.url)), src, out, options=BatchOptions(**spec_opts))
        assert not s.complete and s.stopped and "HTTP 500" in s.stopped
        assert all(not r["ok"] and r["error_kind"] == "input" for r in rows_of(out))  # no backend failure rows
        srv.mix.error500 = 0.0  # the server comes back
        s2 = run_batch(JobSpec(kind="analyze", settings=settings(srv.url)), src, out, options=BatchOptions(**spec_opts))
    assert s2.complete and s2.failed == 0
    rows = rows_of(out)
    assert_exactly_once(rows, 120)
    assert sum(r["ok"] for r in rows) == 120 - 2


def test_a_rerun_is_answered_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOETHICS_CACHE_DIR", str(tmp_path / "cache"))
    src = corpus(tmp_path / "in.jsonl", 60)
    with fault_server() as srv:
        first = run_batch(
            JobSpec(kind="analyze", settings=settings(srv.url, cache=True)),
            src,
            tmp_path / "a.jsonl",
            options=BatchOptions(concurrency=4),
        )
        calls = srv.requests
        again = run_batch(
            JobSpec(kind="analyze", settings=settings(srv.url, cache=True)),
            src,
            tmp_path / "b.jsonl",
            options=BatchOptions(concurrency=4),
        )
        assert srv.requests == calls  # not one request more
    assert first.usage.calls > 0 and first.usage.cached_calls == 0
    assert again.usage.calls == again.usage.cached_calls == first.usage.calls
    strip = [{k: v for k, v in r.items() if k not in ("seconds", "usage")} for r in rows_of(tmp_path / "a.jsonl")]
    assert sorted(strip, key=lambda r: r["index"]) == sorted(
        [{k: v for k, v in r.items() if k not in ("seconds", "usage")} for r in rows_of(tmp_path / "b.jsonl")],
        key=lambda r: r["index"],
    )


# -- the retry policy ----------------------------------------------------------------------------


def test_retry_after_headers():
    assert retry_after({"retry-after-ms": "250"}) == 0.25
    assert retry_after({"retry-after": "3"}) == 3.0
    assert retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # in the past
    assert retry_after({"retry-after": "soon"}) is None and retry_after({}) is None


def test_backoff_has_jitter_and_honours_retry_after():
    slept: list[float] = []
    p = RetryPolicy(retries=3, base=0.5, cap=4.0, seed=1, sleep=slept.append)
    waits = [p.delay(n) for n in (1, 2, 3, 4, 5, 6) for _ in range(50)]
    assert all(0 <= w <= 4.0 for w in waits) and len(set(waits)) > 100
    assert p.delay(1, retry_after=2.5) >= 2.5 and p.delay(1, retry_after=1e6) == p.max_wait
    calls = iter([TransientBackendError("429", retry_after=0.2), MalformedOutputError("bad"), "ok"])

    def flaky():
        v = next(calls)
        if isinstance(v, Exception):
            raise v
        return v

    assert p.call(flaky) == ("ok", 3)
    assert slept and slept[0] >= 0.2
    with pytest.raises(BackendError) as e:  # not transient: no retry
        p.call(lambda: (_ for _ in ()).throw(BackendError("HTTP 401")))
    assert e.value.attempts == 1  # type: ignore[attr-defined]
