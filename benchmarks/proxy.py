"""What the guardrail proxy costs and whom it stops, against a scripted upstream on loopback.

The upstream (``tests/chat_upstream.py``) answers every chat request after a fixed latency
(200 ms by default) and streams one word per chunk (20 ms apart). The client is the OpenAI SDK.
The proxy runs on the fast path only (``judge_model = never``: emotion sensor, signatures, moral
head and guardrail on the CPU), as ``emoethics proxy --judge-model never`` does. Measured:

- added latency for allowed replies: the same requests straight to the upstream and through the
  proxy; p50 and p95 of each, and their difference (goal: at most 30 ms at p50);
- time to first token with ``stream=True`` for both streaming policies (hold, sentence) and straight
  to the upstream, on a reply of four sentences;
- throughput (requests per second) at concurrency 1 and 16, straight and through the proxy;
- under load: 16 clients at once against a 50 ms upstream, through one proxy process and through
  ``emoethics proxy --workers 2`` (its own processes, sharing a SQLite store): requests/s and the
  p50/p95 latency each request adds over the same load sent straight to the upstream (goal: at
  least 60 requests/s, p95 added at most 150 ms);
- distressed but harmless messages (``benchmarks/data/distress.jsonl``, 30 hand-written user
  messages in sadness or fear with a harmless request, each with a helpful, compassionate reply
  the upstream returns): the share that passes (allow or review, not rectified or blocked), with
  and without ``--empathy``, per context; in observe mode, so that the verdict is what enforce
  mode would act on.

With ``--faults`` it sends instead the soak test's mixed load (``tests/proxy_load.py``: facts,
long replies, threats, upstream 500s, garbage, hangs, cut and broken streams, errors quoting a
key; plain and streamed) at concurrency 16 to ``emoethics proxy --workers 2`` and counts what must
be zero: truncated replies, unjudged or delivered abuse, secrets echoed, 5xx outside 502/504,
malformed answers and tracebacks in the proxy's log.

    python benchmarks/proxy.py                       # writes benchmarks/results/proxy.json
    python benchmarks/proxy.py --faults --n 2000     # writes benchmarks/results/proxy-faults.json
    python benchmarks/proxy.py --smoke --results-dir /tmp/smoke-proxy   # a tiny run (CI)

``--results-dir`` puts the result file elsewhere (an explicit ``--output`` still wins). ``--smoke`` runs
every measurement above with very few requests and repeats (``SIZES``; with ``--faults``: 24 requests
of the mixed load) and marks the result ``"smoke": true``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("EMOETHICS_NO_CACHE", "1")

from openai import OpenAI  # noqa: E402

from emoethics.proxy import Policy, ProxyConfig, ProxyWorkspace, create_proxy_app  # noqa: E402
from emoethics.sensors.emotion_sensor import EmotionSensor  # noqa: E402
from emoethics.store.keys import KeyStore  # noqa: E402

from chat_upstream import chat_upstream, last_user  # noqa: E402
from proxy_load import CANARY, KINDS, Proxy, check_answer, load_upstream, plan, request  # noqa: E402
from service_world import running  # noqa: E402

#: Plain answers the fast path allows in the personal context (what "allowed replies" are timed on).
ALLOWED = [
    "Paris is the capital of France.",
    "The meeting moved to Friday.",
    "The capital of France is Paris.",
    "Here is a simple recipe: boil the pasta for ten minutes, then add the sauce.",
    "Water boils at 100 degrees Celsius at sea level.",
    "The train leaves at 9:40 from platform 3.",
    "A week has seven days.",
    "You can reset the password from the account settings page.",
]
#: How many requests and repeats each measurement makes: the full run, and ``--smoke``'s tiny one.
SIZES = {
    "full": {"n": 80, "latency": 0.2, "warm": 5, "ttft": 10, "throughput": (48, 96), "distress": None, "load": None},
    "smoke": {"n": 8, "latency": 0.05, "warm": 2, "ttft": 2, "throughput": (8, 16), "distress": 4, "load": (32, 16)},
}
FAULTS_N = {"full": 80, "smoke": 24}
STORY = (
    "The museum opens at nine. Tickets cost twelve euros. The east wing has the modern collection. "
    "The cafe closes at five."
)


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))]


def ms(x: float) -> float:
    return round(1000 * x, 1)


def make(folder: Path, upstream_url: str, sensor: EmotionSensor, **config) -> tuple:
    url = f"sqlite:///{folder / 'bench.db'}"
    policy = Policy(judge_model="never", **config.pop("policy", {}))
    library = ProxyWorkspace(url=url, analyzer=sensor, judge_model=False)
    app = create_proxy_app(
        ProxyConfig(upstream=upstream_url, database_url=url, policy=policy, **config), workspace=library
    )
    _, secret = KeyStore(url).create("bench", "1000000/minute")
    return app, secret


def timed_create(client: OpenAI, text: str) -> tuple[float, dict]:
    t = time.perf_counter()
    raw = client.chat.completions.with_raw_response.create(
        model="scripted", messages=[{"role": "user", "content": text}]
    )
    return time.perf_counter() - t, dict(raw.headers)


def first_token(client: OpenAI, text: str) -> float:
    t = time.perf_counter()
    for ch in client.chat.completions.create(
        model="scripted", messages=[{"role": "user", "content": text}], stream=True
    ):
        if ch.choices and ch.choices[0].delta.content:
            return time.perf_counter() - t
    return float("nan")


def throughput(client: OpenAI, n: int, concurrency: int) -> float:
    t = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda i: timed_create(client, f"q{i}"), range(n)))
    return round(n / (time.perf_counter() - t), 2)


def load(client: OpenAI, n: int, concurrency: int) -> tuple[float, list[float]]:
    """(requests/s, each request's seconds) for ``n`` requests by ``concurrency`` clients at once."""
    t = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        times = [x[0] for x in pool.map(lambda i: timed_create(client, f"load {i}"), range(n))]
    return n / (time.perf_counter() - t), times


def under_load(folder: Path, sensor: EmotionSensor, n: int, warm: int = 48) -> dict:
    """16 clients against a 50 ms upstream: straight, one proxy process, two worker processes."""
    out: dict = {"upstream_latency_ms": 50, "concurrency": 16, "n": n}
    with chat_upstream(ALLOWED[0], latency=0.05) as up:
        direct = OpenAI(base_url=up.url, api_key="x", max_retries=0)
        load(direct, 2 * warm // 3, 16)
        rps, times = load(direct, n, 16)
        base_p50, base_p95 = pct(times, 0.5), pct(times, 0.95)
        out["direct"] = {"rps": round(rps, 1), "p50_ms": ms(base_p50), "p95_ms": ms(base_p95)}
        app, secret = make(folder, up.url, sensor, policy={"context": "personal"})
        with running(app) as base:
            runs = [("one_process", OpenAI(base_url=f"{base}/v1", api_key=secret, max_retries=0))]
            runs_out = measure_runs(runs, n, base_p50, base_p95, warm)
        out |= runs_out
        workers = Proxy(folder / "workers", up.url, workers=2, stream_policy="hold")
        workers.folder.mkdir(exist_ok=True)
        _, secret2 = KeyStore(workers.url).create("bench", "1000000/minute")
        workers.start()
        try:
            client = OpenAI(base_url=f"{workers.base}/v1", api_key=secret2, max_retries=0)
            out |= measure_runs([("two_workers", client)], n, base_p50, base_p95, warm)
        finally:
            workers.stop()
    return out


def measure_runs(runs: list[tuple[str, OpenAI]], n: int, base_p50: float, base_p95: float, warm: int = 48) -> dict:
    out = {}
    for name, client in runs:
        load(client, warm, 16)  # warm: models loaded in every worker, connections open
        rps, times = load(client, n, 16)
        out[name] = {
            "rps": round(rps, 1),
            "p50_ms": ms(pct(times, 0.5)),
            "p95_ms": ms(pct(times, 0.95)),
            "added_p50_ms": ms(pct(times, 0.5) - base_p50),
            "added_p95_ms": ms(pct(times, 0.95) - base_p95),
        }
        print("under load:", name, out[name], flush=True)
    return out


def faults(folder: Path, n: int, output: Path, smoke: bool = False) -> None:
    """The soak test's mixed load at concurrency 16, with the counts that must be zero."""
    import httpx

    with load_upstream() as up:
        proxy = Proxy(folder, up.url, workers=2)
        _, secret = KeyStore(proxy.url).create("bench", "1000000/minute")
        proxy.start()
        t = time.perf_counter()
        try:
            with httpx.Client(limits=httpx.Limits(max_connections=16)) as client, ThreadPoolExecutor(16) as pool:

                def one(a: tuple[int, tuple[str, bool]]) -> dict:
                    try:
                        return request(client, proxy.base, secret, a[0], *a[1])
                    except (AssertionError, ValueError, KeyError, httpx.HTTPError) as e:
                        return {"i": a[0], "kind": a[1][0], "malformed": repr(e)[:300], "raw": ""}

                answers = list(pool.map(one, enumerate(plan(n))))
        finally:
            seconds = time.perf_counter() - t
            proxy.stop()
    wrong = []
    for seen in answers:
        if "malformed" in seen:
            continue
        try:
            check_answer(seen)
        except AssertionError:
            wrong.append(seen)
    log = proxy.log.read_text()
    report = {
        "requests": n,
        "concurrency": 16,
        "seconds": round(seconds, 1),
        "kinds": {k: sum(s["kind"] == k for s in answers) for k in dict.fromkeys(s["kind"] for s in answers)},
        "statuses": {
            str(v): sum(s.get("status") == v for s in answers)
            for v in sorted({s.get("status") for s in answers if s.get("status")})
        },
        "malformed": sum("malformed" in s for s in answers),
        "truncated": sum(
            s.get("status") == 200
            and s["kind"] in ("fact", "long")
            and s.get("text") is not None
            and s["text"] != KINDS[s["kind"]][1]
            for s in answers
        ),
        "abuse_delivered": sum(s.get("status") == 200 and "hurt you" in (s.get("text") or "") for s in answers),
        "secrets_echoed": sum(CANARY in s["raw"] for s in answers) + (CANARY in log),
        "5xx_outside_502_504": sum((s.get("status") or 0) >= 500 and s["status"] not in (502, 504) for s in answers),
        "wrong_answers": len(wrong),
        "tracebacks_in_log": log.count("Traceback"),
    }
    if smoke:
        report["smoke"] = True
    print(json.dumps(report, indent=2))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {output}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency", type=float, help="Upstream latency in seconds (default 0.2; 0.05 with --smoke).")
    ap.add_argument("--n", type=int, help="Timed requests per latency measurement (default 80; 8 with --smoke).")
    ap.add_argument("--output", type=Path, help="Default: RESULTS_DIR/proxy.json (proxy-faults.json).")
    ap.add_argument("--faults", action="store_true", help="Send the soak test's mixed load with faults instead.")
    ap.add_argument(
        "--results-dir", type=Path, default=ROOT / "benchmarks/results", help="Default: benchmarks/results (created)."
    )
    ap.add_argument("--smoke", action="store_true", help="A tiny run: very few requests and repeats (CI).")
    args = ap.parse_args()
    size = SIZES["smoke" if args.smoke else "full"]
    folder = Path(tempfile.mkdtemp(prefix="emoethics-proxy-bench-"))
    os.environ["EMOETHICS_DATA_DIR"] = str(folder)
    if args.faults:
        n = args.n if args.n is not None else FAULTS_N["smoke" if args.smoke else "full"]
        faults(folder, n, args.output or args.results_dir / "proxy-faults.json", smoke=args.smoke)
        return
    args.n = args.n if args.n is not None else size["n"]
    args.latency = args.latency if args.latency is not None else size["latency"]
    args.output = args.output or args.results_dir / "proxy.json"
    sensor = EmotionSensor()
    pairs = [json.loads(x) for x in (ROOT / "benchmarks/data/distress.jsonl").read_text().splitlines() if x.strip()]
    pairs = pairs[: size["distress"]]
    by_message = {p["message"]: p["reply"] for p in pairs}

    def reply(body: dict) -> str:
        text = last_user(body)
        if text in by_message:
            return by_message[text]
        if text == "story":
            return STORY
        return ALLOWED[sum(map(ord, text)) % len(ALLOWED)]

    report: dict = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        "upstream_latency_ms": ms(args.latency),
        "n": args.n,
        "load_average_at_start": [round(x, 1) for x in os.getloadavg()],
    }
    if args.smoke:
        report["smoke"] = True
    with chat_upstream(reply, latency=args.latency, token_delay=0.02) as up:
        app, secret = make(folder, up.url, sensor, policy={"context": "personal"})
        with running(app) as base:
            direct = OpenAI(base_url=up.url, api_key="x", max_retries=0)
            proxied = OpenAI(base_url=f"{base}/v1", api_key=secret, max_retries=0)
            for i in range(size["warm"]):  # warm both paths (models loaded, connections open)
                timed_create(direct, f"w{i}")
                timed_create(proxied, f"w{i}")
            d, p, paths = [], [], []
            for i in range(args.n):
                d.append(timed_create(direct, f"m{i}")[0])
                t, h = timed_create(proxied, f"m{i}")
                if h.get("x-emoethics-verdict") == "allow" and h.get("x-emoethics-path") == "fast":
                    p.append(t)
                paths.append(h.get("x-emoethics-verdict"))
            report["allowed_latency"] = {
                "direct_p50_ms": ms(pct(d, 0.5)),
                "direct_p95_ms": ms(pct(d, 0.95)),
                "proxy_p50_ms": ms(pct(p, 0.5)),
                "proxy_p95_ms": ms(pct(p, 0.95)),
                "added_p50_ms": ms(pct(p, 0.5) - pct(d, 0.5)),
                "added_p95_ms": ms(pct(p, 0.95) - pct(d, 0.95)),
                "allowed_on_fast_path": len(p),
                "verdicts": {v: paths.count(v) for v in set(paths)},
            }
            print("allowed replies:", report["allowed_latency"], flush=True)
            ttft = {
                "direct": [first_token(direct, "story") for _ in range(size["ttft"])],
                "hold": [first_token(proxied, "story") for _ in range(size["ttft"])],
            }
            report["throughput_rps"] = {
                f"{who}_c{c}": throughput(client, size["throughput"][c != 1], c)
                for c in (1, 16)
                for who, client in (("direct", direct), ("proxy", proxied))
            }
            print("throughput:", report["throughput_rps"], flush=True)
        app_s, secret_s = make(folder, up.url, sensor, policy={"context": "personal"}, stream_policy="sentence")
        with running(app_s) as base:
            client = OpenAI(base_url=f"{base}/v1", api_key=secret_s, max_retries=0)
            first_token(client, "story")
            ttft["sentence"] = [first_token(client, "story") for _ in range(size["ttft"])]
        report["time_to_first_token_ms"] = {
            k: {"p50": ms(statistics.median(v)), "p95": ms(pct(v, 0.95))} for k, v in ttft.items()
        }
        report["time_to_first_token_ms"]["reply"] = f"{len(STORY.split())} words in 4 sentences, 20 ms per word"
        print("first token:", report["time_to_first_token_ms"], flush=True)
        distress = {}
        for context in ("personal", "workplace"):
            for empathy in (False, True):
                app_d, secret_d = make(
                    folder, up.url, sensor, policy={"context": context, "mode": "observe", "empathy": empathy}
                )
                with running(app_d) as base:
                    client = OpenAI(base_url=f"{base}/v1", api_key=secret_d, max_retries=0)
                    verdicts, distressed = [], 0
                    for pair in pairs:
                        raw = client.chat.completions.with_raw_response.create(
                            model="scripted", messages=[{"role": "user", "content": pair["message"]}]
                        )
                        verdicts.append(raw.headers["x-emoethics-verdict"])
                        distressed += bool((raw.parse().model_extra["emoethics"].get("user") or {}).get("distressed"))
                passed = sum(v in ("allow", "review") for v in verdicts)
                distress[f"{context}{'_empathy' if empathy else ''}"] = {
                    "n": len(pairs),
                    "pass_share": round(passed / len(pairs), 3),
                    "rectified_or_blocked": len(pairs) - passed,
                    "verdicts": {v: verdicts.count(v) for v in ("allow", "review", "rectify", "block")},
                    **({"read_as_distressed": distressed} if empathy else {}),
                }
                print("distress", context, empathy, distress[f"{context}{'_empathy' if empathy else ''}"], flush=True)
        report["distressed_but_harmless"] = distress
    if size["load"]:  # (requests, warm-up requests)
        report["under_load"] = under_load(folder, sensor, size["load"][0], warm=size["load"][1])
    else:
        report["under_load"] = under_load(folder, sensor, max(args.n * 4, 320))
    report["load_average_at_end"] = [round(x, 1) for x in os.getloadavg()]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
