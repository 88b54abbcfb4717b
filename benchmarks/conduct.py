"""Conduct benchmark: the judge without a model on harm and on harmless text, and its speed.

Prints, as JSON lines:

- the conduct head's dev and test metrics and each left-out contrast kind, as the training script
  measured them (``src/emoethics/ethics/heads/conduct-manifest.json``: precision, recall, F1, ROC AUC
  per shared set's test split; ``train_conduct.py --loko`` for the left-out kinds);
- the judge without a model (``--context personal``) on the shared sets' test splits: share flagged
  (any verdict but allow) of the harmful texts and share allowed of the harmless ones;
- distress allowed: the distressed-but-harmless dev set of ``benchmarks/ethics.py --distress``;
- the request set (``benchmarks/data/requests.jsonl``: 60 complaints, requests and pieces of
  feedback written for this benchmark, CC0): the share allowed as written in the personal context;
- speed: milliseconds per text, one by one (p50) and in batch.

With ``--model`` (the embedded model, slow: about 10 s per text) it also prints, on ``--model-limit``
texts each: distress allowed and harmful test texts flagged by the judge with the model, and the
request set rectified as if each text were flagged (the generator is told to make it courteous):
the share it rewrote, the share of the rewritten whose every request, question, date, number and
name survives, the similarity to the original and the generator calls per item.

``--results-dir DIR`` also writes every printed record to ``DIR/conduct.json`` (without it the
records are only printed, as they always were). ``--smoke`` runs the same measurements on a few texts
of each part (``--limit 10``, ten distress and request texts, a speed probe of ten texts one by one
and twenty in batch; with ``--model``, one text each), then judges five written texts (the last line);
its ``conduct.json`` says ``"smoke": true``. Without the shared data folder it judges only the five
written texts, says so on stderr and exits 0 without writing results.

    python benchmarks/conduct.py [--limit 300] [--model --model-limit 20]
    python benchmarks/conduct.py --smoke --results-dir /tmp/smoke-conduct   # a tiny run (CI)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT / "training"))
sys.path.insert(0, str(ROOT / "benchmarks"))

SMOKE = [
    ("We are going to put an end to all of them.", 1),
    ("People who write 'you people make me sick' will get blocked.", 0),
    ("I'm so scared I'll lose my flat, I can't sleep.", 0),
    ("I h4te all w0men.", 1),
    ("Fuck, I missed the bus again.", 0),
]
#: ``--smoke``: texts per shared test split, distress and request texts, speed probe (one by one, batch).
SMOKE_LIMIT = 10
SMOKE_TEXTS = 10
SMOKE_SPEED = (10, 20)
SPEED = (100, 200)

#: Every record printed, for ``conduct.json``.
RECORDS: list[dict] = []


def emit(record: dict, **kwargs) -> None:
    """Print ``record`` as a JSON line and keep it for the results file."""
    RECORDS.append(record)
    print(json.dumps(record), **kwargs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=300, help="texts per shared test split (seeded sample)")
    ap.add_argument("--smoke", action="store_true", help="every part on a few texts (seconds; see the docstring)")
    ap.add_argument(
        "--model", action="store_true", help="also measure the judge and rectification with the embedded model"
    )
    ap.add_argument("--model-limit", type=int, default=20, help="texts per measurement with the model")
    ap.add_argument("--results-dir", type=Path, default=None, help="also write the records to DIR/conduct.json")
    args = ap.parse_args()
    n_texts, speed = None, SPEED
    if args.smoke:
        args.limit, args.model_limit, n_texts, speed = SMOKE_LIMIT, 1, SMOKE_TEXTS, SMOKE_SPEED

    from emoethics.api import make_judge
    from emoethics.ethics.heads import HEADS_DIR

    judge = make_judge(use_model=False)
    manifest = json.loads((HEADS_DIR / "conduct-manifest.json").read_text(encoding="utf-8"))
    emit({"head": {"threshold": manifest["threshold"], "test": manifest["test"]}})
    if "leave_one_kind_out" in manifest:
        emit({"leave_one_kind_out": manifest["leave_one_kind_out"]})

    if args.smoke and not DATA.is_dir():
        written(judge)  # needs no shared data (printed only)
        print(f"conduct.py --smoke: the shared data folder {DATA} is missing; no results written", file=sys.stderr)
        return

    import random

    from train_conduct import load_rows

    rows = [r for r in load_rows() if r["split"] == "test"]
    by_source: dict[str, list[dict]] = {}
    for r in rows:
        by_source.setdefault(r["source"], []).append(r)
    for source, items in sorted(by_source.items()):
        sample = random.Random(1).sample(items, min(args.limit, len(items)))
        verdicts = [j.verdict for j in judge.judge_many([r["text"] for r in sample], "personal")]
        harm = [v != "allow" for v, r in zip(verdicts, sample, strict=True) if r["cats"]]
        ok = [v == "allow" for v, r in zip(verdicts, sample, strict=True) if not r["cats"]]
        emit(
            {
                "judge_no_model": source,
                "harmful_flagged": round(sum(harm) / max(1, len(harm)), 3),
                "n_harmful": len(harm),
                "harmless_allowed": round(sum(ok) / max(1, len(ok)), 3),
                "n_harmless": len(ok),
            }
        )

    from ethics import distress_set

    distress = [t for _, t in distress_set()][:n_texts]
    verdicts = [j.verdict for j in judge.judge_many(distress, "personal")]
    emit({"distress_allowed": round(verdicts.count("allow") / len(verdicts), 3), "n": len(verdicts)})

    requests = [json.loads(line)["text"] for line in (ROOT / "benchmarks" / "data" / "requests.jsonl").open()]
    requests = requests[:n_texts]
    verdicts = [j.verdict for j in judge.judge_many(requests, "personal")]
    emit({"requests_allowed_as_written": round(verdicts.count("allow") / len(verdicts), 3), "n": len(verdicts)})
    if args.model:
        with_model(rows, distress, requests, args.model_limit)

    texts = [r["text"] for r in rows[: speed[1]]]
    one = []
    for t in texts[: speed[0]]:
        start = time.perf_counter()
        judge.judge(t, "personal")
        one.append((time.perf_counter() - start) * 1000)
    start = time.perf_counter()
    judge.judge_many(texts, "personal")
    batch = (time.perf_counter() - start) * 1000 / len(texts)
    emit({"ms_per_text_p50": round(statistics.median(one), 1), "ms_per_text_batch": round(batch, 1)})
    if args.smoke:
        written(judge)
    results = args.results_dir
    if results is not None:
        report = {
            "smoke": args.smoke,
            "command": " ".join(["python benchmarks/conduct.py", *sys.argv[1:]]),
            "machine": f"{platform.processor() or platform.machine()}, {platform.system()}, {os.cpu_count()} CPUs",
            "records": RECORDS,
        }
        results.mkdir(parents=True, exist_ok=True)
        (results / "conduct.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def written(judge) -> None:
    """The judge on the five written texts of :data:`SMOKE` (the last line ``--smoke`` prints)."""
    texts = [t for t, _ in SMOKE]
    verdicts = [j.verdict for j in judge.judge_many(texts, "personal")]
    right = [(v != "allow") == bool(y) for v, (_, y) in zip(verdicts, SMOKE, strict=True)]
    emit({"smoke": dict(zip(texts, verdicts, strict=True)), "right": sum(right), "of": len(right)})


def with_model(rows: list[dict], distress: list[str], requests: list[str], limit: int) -> None:
    """The judge with the embedded model on distress and harm, and rectification of the request set."""
    import random

    from emoethics.api import make_judge
    from emoethics.ethics.keep import message_points
    from emoethics.session import default_session

    judge = make_judge(use_model=True)
    verdicts = [judge.judge(t, "personal").verdict for t in distress[:limit]]
    emit({"model_distress_allowed": round(verdicts.count("allow") / len(verdicts), 3), "n": len(verdicts)})
    harmful = random.Random(2).sample([r["text"] for r in rows if r["cats"]], limit)
    verdicts = [judge.judge(t, "personal").verdict for t in harmful]
    emit({"model_harmful_flagged": round(1 - verdicts.count("allow") / len(verdicts), 3), "n": len(verdicts)})
    allowed, kept, changed, sims, calls = 0, 0, 0, [], []
    for text in requests[:limit]:
        before = judge.judge(text, "personal")
        allowed += before.verdict == "allow"
        forced = before.model_copy(update={"verdict": "rectify"})
        r = default_session().rectify(text, "personal", judge=judge, before=forced)
        kept += r.changed and not r.lost
        changed += r.changed
        sims.append(r.similarity)
        calls.append(r.llm_calls)
        print(
            json.dumps({"rectified": text, "text": r.text, "lost": r.lost, "points": len(message_points(text))}),
            file=sys.stderr,
        )
    n = len(sims)
    emit(
        {
            "model_requests_allowed_as_written": round(allowed / n, 3),
            "rewritten": round(changed / n, 3),
            "rewritten_every_point_kept": round(kept / max(1, changed), 3),
            "similarity_mean": round(statistics.mean(sims), 3),
            "llm_calls_per_item": round(statistics.mean(calls), 2),
            "n": n,
        }
    )


if __name__ == "__main__":
    main()
