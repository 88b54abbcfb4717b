"""Batch throughput: the batch path against a naive loop, on a server with a fixed latency.

A loopback OpenAI-compatible server (``tests/fault_server.py``, no faults) answers every call after
``--latency`` seconds (200 ms by default), whatever the call holds. In the same run, the same
``--n`` texts go through:

- a naive loop: ``for text in texts: api.analyze(text, analyzer=...)`` (or ``judge.judge``), one
  call at a time;
- the batch path: ``run_batch`` with ``--concurrency`` calls in flight and, for analysis,
  ``--batch-size`` texts per call;
- the batch path again with the response cache warm (a re-run of the same job).

The figure is items per second of the batch path over the naive loop's. Three configurations:
analysis with several texts per call, analysis with one text per call (concurrency alone), and the
judge (one call per text; the emotion sensor and the moral head run on the CPU for every text).
The server's latency is per call: several texts in one call cost one latency here, while a real
server's time also grows with the tokens it writes, so the one-text-per-call figures are the
conservative ones. Results go to ``benchmarks/results/batch.json`` (``batch-concurrency16.json`` with
``--concurrency 16``), or to ``--results-dir``. ``--smoke`` runs the same three configurations on 16
texts with a 20 ms server (unless ``--n`` or ``--latency`` is given) and marks the result ``"smoke": true``.

    python benchmarks/batch.py
    python benchmarks/batch.py --n 400 --latency 0.2 --concurrency 16
    python benchmarks/batch.py --smoke --results-dir /tmp/smoke-batch   # a tiny run (CI)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from emoethics import api  # noqa: E402
from emoethics.batch import BatchOptions, JobSpec, run_batch  # noqa: E402
from emoethics.config import load_settings  # noqa: E402
from fault_server import fault_server  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
OPENINGS = [
    "I can't believe they cancelled my flight again",
    "We finally got the keys to our new flat",
    "The meeting moved to Friday",
    "My cat knocked the vase off the table",
    "Nobody called me back",
    "The results come out tomorrow morning",
    "She laughed at my joke in front of everyone",
    "They kept the money they found",
]


def texts(n: int) -> list[str]:
    """``n`` distinct short texts."""
    return [f"{OPENINGS[i % len(OPENINGS)]} (note {i})." for i in range(n)]


def naive(kind: str, items: list[str], settings) -> float:
    """Seconds for the one-call-at-a-time loop."""
    start = time.perf_counter()
    if kind == "judge":
        j = api.make_judge(settings=settings)
        for t in items:
            j.judge(t)
    else:
        analyzer = api.make_analyzer(settings=settings)
        for t in items:
            api.analyze(t, analyzer=analyzer)
    return time.perf_counter() - start


def batch(kind: str, src: Path, out: Path, settings, options: BatchOptions) -> dict:
    """The batch run's summary (with the wall time of the whole call)."""
    start = time.perf_counter()
    s = run_batch(JobSpec(kind=kind, settings=settings), src, out, options=options)
    wall = time.perf_counter() - start
    assert s.complete and s.failed == 0, s.failures
    return {
        "seconds": round(wall, 3),
        "items_per_second": round(s.processed / wall, 2),
        "calls": s.usage.calls - s.usage.cached_calls,
        "cached_calls": s.usage.cached_calls,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=None, help="texts per run (default 200; 16 with --smoke)")
    ap.add_argument("--latency", type=float, default=None, help="server latency in s (default 0.2; 0.02 with --smoke)")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--results-dir", type=Path, default=RESULTS, help="where the result file goes (created)")
    ap.add_argument("--smoke", action="store_true", help="a tiny run (16 texts, 20 ms server) for CI")
    args = ap.parse_args()
    if args.n is None:
        args.n = 16 if args.smoke else 200
    if args.latency is None:
        args.latency = 0.02 if args.smoke else 0.2
    items = texts(args.n)
    runs = [("analyze", args.batch_size), ("analyze", 1), ("judge", 1)]
    report: dict = {
        "n": args.n,
        "latency_s": args.latency,
        "concurrency": args.concurrency,
        "runs": [],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "command": " ".join(["python benchmarks/batch.py"] + sys.argv[1:]),
    }
    if args.smoke:
        report["smoke"] = True
    with tempfile.TemporaryDirectory() as tmp, fault_server(latency=args.latency) as srv:
        os.environ["EMOETHICS_CACHE_DIR"] = str(Path(tmp) / "cache")
        src = Path(tmp) / "in.jsonl"
        src.write_text(
            "".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(items)), encoding="utf-8"
        )
        base = {"generator": {"base_url": srv.url, "model": "bench", "timeout": 30}}
        plain = load_settings(base, no_cache=True)
        cached = load_settings(base, no_cache=False)
        for kind, size in runs:
            naive_s = naive(kind, items, plain)
            opts = BatchOptions(concurrency=args.concurrency, batch_size=size)
            cold = batch(kind, src, Path(tmp) / f"{kind}-{size}-a.jsonl", cached, opts)
            warm = batch(kind, src, Path(tmp) / f"{kind}-{size}-b.jsonl", cached, opts)
            naive_rate = args.n / naive_s
            row = {
                "job": kind,
                "texts_per_call": size,
                "naive": {"seconds": round(naive_s, 3), "items_per_second": round(naive_rate, 2)},
                "batch": cold,
                "rerun_warm_cache": warm,
                "speedup": round(cold["items_per_second"] / naive_rate, 1),
            }
            report["runs"].append(row)
            print(
                f"{kind:<8} {size} text(s)/call: naive {naive_rate:7.2f} items/s | batch "
                f"{cold['items_per_second']:7.2f} items/s ({cold['calls']} calls) | ratio {row['speedup']:5.1f}x | "
                f"re-run with warm cache {warm['seconds']:.2f} s, {warm['calls']} calls",
                flush=True,
            )
    args.results_dir.mkdir(parents=True, exist_ok=True)
    name = "batch.json" if args.concurrency == 8 else f"batch-concurrency{args.concurrency}.json"
    (args.results_dir / name).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
