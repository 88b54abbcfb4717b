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

    python benchmarks/conduct.py [--limit 300] [--model --model-limit 20]
    python benchmarks/conduct.py --smoke      # a few texts, seconds (CI)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "training"))
sys.path.insert(0, str(ROOT / "benchmarks"))

SMOKE = [
    ("We are going to put an end to all of them.", 1),
    ("People who write 'you people make me sick' will get blocked.", 0),
    ("I'm so scared I'll lose my flat, I can't sleep.", 0),
    ("I h4te all w0men.", 1),
    ("Fuck, I missed the bus again.", 0),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=300, help="texts per shared test split (seeded sample)")
    ap.add_argument("--smoke", action="store_true", help="judge a handful of texts only (seconds)")
    ap.add_argument(
        "--model", action="store_true", help="also measure the judge and rectification with the embedded model"
    )
    ap.add_argument("--model-limit", type=int, default=20, help="texts per measurement with the model")
    args = ap.parse_args()

    from emoethics.api import make_judge
    from emoethics.ethics.heads import HEADS_DIR

    judge = make_judge(use_model=False)
    manifest = json.loads((HEADS_DIR / "conduct-manifest.json").read_text(encoding="utf-8"))
    print(json.dumps({"head": {"threshold": manifest["threshold"], "test": manifest["test"]}}))
    if "leave_one_kind_out" in manifest:
        print(json.dumps({"leave_one_kind_out": manifest["leave_one_kind_out"]}))

    if args.smoke:
        texts = [t for t, _ in SMOKE]
        verdicts = [j.verdict for j in judge.judge_many(texts, "personal")]
        right = [(v != "allow") == bool(y) for v, (_, y) in zip(verdicts, SMOKE, strict=True)]
        print(json.dumps({"smoke": dict(zip(texts, verdicts, strict=True)), "right": sum(right), "of": len(right)}))
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
        print(
            json.dumps(
                {
                    "judge_no_model": source,
                    "harmful_flagged": round(sum(harm) / max(1, len(harm)), 3),
                    "n_harmful": len(harm),
                    "harmless_allowed": round(sum(ok) / max(1, len(ok)), 3),
                    "n_harmless": len(ok),
                }
            )
        )

    from ethics import distress_set

    distress = [t for _, t in distress_set()]
    verdicts = [j.verdict for j in judge.judge_many(distress, "personal")]
    print(json.dumps({"distress_allowed": round(verdicts.count("allow") / len(verdicts), 3), "n": len(verdicts)}))

    requests = [json.loads(line)["text"] for line in (ROOT / "benchmarks" / "data" / "requests.jsonl").open()]
    verdicts = [j.verdict for j in judge.judge_many(requests, "personal")]
    print(
        json.dumps(
            {"requests_allowed_as_written": round(verdicts.count("allow") / len(verdicts), 3), "n": len(verdicts)}
        )
    )
    if args.model:
        with_model(rows, distress, requests, args.model_limit)

    texts = [r["text"] for r in rows[:200]]
    one = []
    for t in texts[:100]:
        start = time.perf_counter()
        judge.judge(t, "personal")
        one.append((time.perf_counter() - start) * 1000)
    start = time.perf_counter()
    judge.judge_many(texts, "personal")
    batch = (time.perf_counter() - start) * 1000 / len(texts)
    print(json.dumps({"ms_per_text_p50": round(statistics.median(one), 1), "ms_per_text_batch": round(batch, 1)}))


def with_model(rows: list[dict], distress: list[str], requests: list[str], limit: int) -> None:
    """The judge with the embedded model on distress and harm, and rectification of the request set."""
    import random

    from emoethics.api import make_judge
    from emoethics.ethics.keep import message_points
    from emoethics.session import default_session

    judge = make_judge(use_model=True)
    verdicts = [judge.judge(t, "personal").verdict for t in distress[:limit]]
    print(json.dumps({"model_distress_allowed": round(verdicts.count("allow") / len(verdicts), 3), "n": len(verdicts)}))
    harmful = random.Random(2).sample([r["text"] for r in rows if r["cats"]], limit)
    verdicts = [judge.judge(t, "personal").verdict for t in harmful]
    print(
        json.dumps({"model_harmful_flagged": round(1 - verdicts.count("allow") / len(verdicts), 3), "n": len(verdicts)})
    )
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
    print(
        json.dumps(
            {
                "model_requests_allowed_as_written": round(allowed / n, 3),
                "rewritten": round(changed / n, 3),
                "rewritten_every_point_kept": round(kept / max(1, changed), 3),
                "similarity_mean": round(statistics.mean(sims), 3),
                "llm_calls_per_item": round(statistics.mean(calls), 2),
                "n": n,
            }
        )
    )


if __name__ == "__main__":
    main()
