"""Ethics benchmark: accuracy, seconds and LLM calls per item of every predictor, per format.

Held-out items only (the trained heads never saw them):

- ``ethics-cm``: the hash-dev part of ``ethics/cm_test.csv`` (the heads train on the rest);
- ``ethics-deontology``, ``ethics-justice``, ``ethics-virtue``: ``*_test.csv`` (heads train on
  ``*_train.csv``);
- ``moral-stories``: the story-hash dev part of ``moral_stories/dev.jsonl``.

A seeded sample of ``--limit`` items per format is scored by ``majority`` (of the training part),
``keyword``, ``head`` (trained head on MiniLM embeddings), ``llm`` (the embedded model, few-shot with
the most similar training items as examples) and ``cascade`` (the head where it is sure, the LLM
elsewhere). ``--rectify N`` also rectifies N immoral Moral Stories actions with the full judge.

Results stream to ``benchmarks/results/ethics.jsonl`` (one line per format and predictor; a re-run
skips what is there: delete the file to start over); the summary goes to stdout and ``ethics.json``.

    python benchmarks/ethics.py --limit 200
    python benchmarks/ethics.py --limit 200 --formats ethics-cm --predictors head,llm,cascade
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from pathlib import Path

from emoethics import api
from emoethics.config import load_settings
from emoethics.evals import ethics as ev
from emoethics.evals.ethics_baselines import majority_label
from emoethics.evals.ethics_data import ETHICS_FORMATS, EthicsItem, load_ethics, split_key, split_of
from emoethics.session import get_backend

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"
FILES = {
    "ethics-cm": ("ethics/cm_test.csv", None),
    "ethics-deontology": ("ethics/deontology_test.csv", "ethics/deontology_train.csv"),
    "ethics-justice": ("ethics/justice_test.csv", "ethics/justice_train.csv"),
    "ethics-virtue": ("ethics/virtue_test.csv", "ethics/virtue_train.csv"),
    "moral-stories": ("moral_stories/dev.jsonl", None),
}


def held_out(fmt: str) -> tuple[list[EthicsItem], list[EthicsItem]]:
    """(evaluation items, training pool) for ``fmt``."""
    test, train = FILES[fmt]
    items = load_ethics(DATA / test, fmt)
    if train is None:  # one file: split it the way the heads were trained
        pool = [it for it in items if split_of(split_key(it)) == "train"]
        items = [it for it in items if split_of(split_key(it)) == "dev"]
    else:
        pool = load_ethics(DATA / train, fmt)
    return items, pool


def sample(items: list[EthicsItem], n: int, seed: int) -> list[EthicsItem]:
    if items and items[0].group is not None:  # keep both actions of a story together
        groups = sorted({it.group for it in items if it.group})
        keep = set(random.Random(seed).sample(groups, min(len(groups), n // 2)))
        return [it for it in items if it.group in keep]
    return sorted(random.Random(seed).sample(items, min(n, len(items))), key=lambda it: it.id)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=200, help="items per format")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--formats", default=",".join(ETHICS_FORMATS))
    ap.add_argument("--predictors", default="majority,keyword,head,llm,cascade")
    ap.add_argument("--rectify", type=int, default=0, help="rectify N immoral Moral Stories actions")
    ap.add_argument("--no-cache", action="store_true")
    args = ap.parse_args()

    settings = load_settings(no_cache=args.no_cache)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out_path = RESULTS / "ethics.jsonl"
    done = {}
    if out_path.is_file():
        for line in out_path.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            done[(r["format"], r["key"])] = r
    backend = get_backend("judge", settings)
    for fmt in args.formats.split(","):
        items, pool = held_out(fmt)
        items = sample(items, args.limit, args.seed)
        for name in args.predictors.split(","):
            key = f"{name}@{args.limit}/{args.seed}"
            if (fmt, key) in done:
                continue
            if name == "majority":
                pred = ev.Majority(majority_label(pool))
            elif name == "keyword":
                pred = ev.Keyword()
            elif name == "head":
                pred = ev.Head(fmt)
            elif name == "llm":
                pred = ev.LLM(backend, fmt, pool)
            elif name == "cascade":
                pred = ev.Cascade(ev.Head(fmt), ev.LLM(backend, fmt, pool))
            else:
                raise SystemExit(f"unknown predictor {name}")
            report = ev.evaluate_ethics(items, pred, backend=backend if name in ("llm", "cascade") else None)
            row = {"format": fmt, "key": key, "predictor_name": name, **report}
            done[(fmt, key)] = row
            with out_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
            print(f"{fmt:>18} {name:>9}: accuracy {report['accuracy']:.3f}  n={report['n']}  "
                  f"{report['seconds_per_item']:.3f} s/item  {report['llm_calls_per_item']:.2f} LLM calls/item",
                  flush=True)
    if args.rectify:
        key = f"rectify@{args.rectify}/{args.seed}"
        if ("moral-stories", key) not in done:
            items, _ = held_out("moral-stories")
            immoral = [it for it in items if it.label == 0]
            random.Random(args.seed).shuffle(immoral)
            judge = api.make_judge(settings=settings)
            generator = get_backend("generator", settings)
            start = time.perf_counter()
            with backend.metered() as uj, generator.metered() as ug:
                rep = ev.rectification_rate(immoral[: args.rectify], judge, settings)
            rep["llm_calls_per_item"] = round((uj.calls + ug.calls) / args.rectify, 2)
            rep["seconds_per_item"] = round((time.perf_counter() - start) / args.rectify, 2)
            row = {"format": "moral-stories", "key": key, "predictor_name": "rectify", **rep}
            done[("moral-stories", key)] = row
            with out_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
        r = done[("moral-stories", key)]
        print(f"moral-stories rectification: flagged {r['flagged']}/{r['n']}, success {r['success_rate']}, "
              f"similarity {r['similarity_mean']}")
    summary = {"machine": f"{platform.processor() or platform.machine()}, {platform.system()}",
               "generator": backend.id, "results": [
                   {k: v for k, v in r.items() if k != "rows"} for r in done.values()]}
    (RESULTS / "ethics.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
