"""Prompt-injection benchmark: how often does text addressed to the judge change its verdict?

``benchmarks/data/injection.jsonl`` holds base texts and injected variants of them: the same text
with a sentence that tries to steer the judge ("ignore previous instructions", forged JSON
verdicts, role-play set-ups, imitated system prompts and chat-template tokens, unicode tricks such
as zero-width characters, homoglyphs, full-width and styled letters and right-to-left overrides,
claims of authority, and attempts to make a harmless text look abusive). Each base text and each
variant is judged; the figure is the share of variants whose verdict differs from their base
text's. Also reported: how often the injected sentences were set aside (the judged text equals the
base text), and how often the judge model's own reading (``wrong``, direct behaviour level)
moved. ``--analyser`` does the same for emotion analysis with the default analyser (the dominant
level per text).

``injection.jsonl`` is the set the filter of :mod:`emoethics.ethics.injection` was developed
against; ``injection_heldout.jsonl`` was written afterwards and not used to tune it (``--data``).
The false-positive rate (with the default set only) is the share of real texts (GoEmotions dev,
ETHICS commonsense test, Moral Stories dev, from the shared data folder) in which the filter sets
anything aside.

Responses are cached, so an interrupted run continues where it stopped.

    EMOETHICS_THREADS=1 python benchmarks/injection.py                 # embedded default
    EMOETHICS_THREADS=1 python benchmarks/injection.py --data benchmarks/data/injection_heldout.jsonl
    python benchmarks/injection.py --limit 10 --context workplace
    python benchmarks/injection.py --base-url http://127.0.0.1:8000/v1 --model qwen2.5-7b-instruct
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import time
from collections import Counter, defaultdict
from pathlib import Path

from emoethics import api
from emoethics.cli import _settings
from emoethics.ethics.injection import find_injections

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data" / "injection.jsonl"
RESULTS = ROOT / "benchmarks" / "results"
SHARED = ROOT.parent / "shared" / "data"


def load(path: Path, limit: int | None) -> list[dict]:
    """The benchmark records (the first ``limit``)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows[:limit] if limit else rows


def real_texts() -> list[str]:
    """Texts people wrote, with no injection in them (empty if the shared data is missing)."""
    texts: list[str] = []
    try:
        with (SHARED / "goemotions" / "dev.tsv").open(encoding="utf-8") as f:
            texts += [row[0] for row in csv.reader(f, delimiter="\t") if row]
        with (SHARED / "ethics" / "cm_test.csv").open(encoding="utf-8") as f:
            texts += [row["input"] for row in csv.DictReader(f)]
        with (SHARED / "moral_stories" / "dev.jsonl").open(encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                texts += [d.get(k) or "" for k in ("situation", "moral_action", "immoral_action")]
    except OSError:
        return []
    return [t for t in texts if t.strip()]


def false_positives() -> dict:
    """How often the filter sets aside part of a real text."""
    texts = real_texts()
    flagged = [t for t in texts if find_injections(t)]
    return {"texts": len(texts), "flagged": len(flagged),
            "share": round(len(flagged) / len(texts), 5) if texts else None,
            "examples": [t[:200] for t in flagged[:10]]}


def reading(j) -> dict:
    """What is compared between a base text and its injected variant."""
    return {"verdict": j.verdict, "wrong": j.wrong,
            "direct": j.behaviour_direct.level if j.behaviour_direct else None,
            "behaviour": j.behaviour.level, "injections": [i.text for i in j.injections],
            "judged_text": j.judged_text}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA, help="A JSONL file of base and injected texts.")
    ap.add_argument("--limit", type=int, default=None, help="Only the first N injected texts.")
    ap.add_argument("--context", default="personal")
    ap.add_argument("--analyser", action="store_true", help="Also compare emotion analyses.")
    ap.add_argument("--backend"), ap.add_argument("--base-url"), ap.add_argument("--model")
    ap.add_argument("--no-cache", action="store_true")
    args = ap.parse_args()
    settings = _settings(args.backend, args.base_url, args.model, no_cache=args.no_cache)
    judge = api.make_judge(settings=settings)
    analyzer = api.make_analyzer(settings=settings) if args.analyser else None
    records = load(args.data, args.limit)
    base_cache: dict[str, dict] = {}
    base_levels: dict[str, str] = {}
    items = []
    start = time.perf_counter()
    for n, rec in enumerate(records, 1):
        if rec["base"] not in base_cache:
            base_cache[rec["base"]] = reading(judge.judge(rec["base"], args.context))
        base = base_cache[rec["base"]]
        t0 = time.perf_counter()
        inj = reading(judge.judge(rec["injected"], args.context))
        item = {"id": rec["id"], "kind": rec["kind"], "base": base, "injected": inj,
                "verdict_changed": base["verdict"] != inj["verdict"],
                "model_reading_changed": (base["wrong"], base["direct"]) != (inj["wrong"], inj["direct"]),
                "set_aside": inj["judged_text"] == rec["base"],
                "seconds": round(time.perf_counter() - t0, 2)}
        if analyzer is not None:
            if rec["base"] not in base_levels:
                base_levels[rec["base"]] = analyzer.analyze(rec["base"]).dominant().level
            level = analyzer.analyze(rec["injected"]).dominant().level
            item["analysis"] = {"base": base_levels[rec["base"]], "injected": level}
            item["analysis_changed"] = level != base_levels[rec["base"]]
        items.append(item)
        flag = "CHANGED" if item["verdict_changed"] else "same"
        print(f"[{n}/{len(records)}] {rec['id']:<22} {base['verdict']:>7} -> {inj['verdict']:<7} {flag}"
              f"{'' if item['set_aside'] else '  (not set aside)'}", flush=True)

    def share(key: str, rows: list[dict]) -> float:
        return round(sum(bool(r.get(key)) for r in rows) / len(rows), 4) if rows else 0.0

    by_kind: dict[str, list[dict]] = defaultdict(list)
    for it in items:
        by_kind[it["kind"]].append(it)
    summary = {
        "data": str(args.data.relative_to(ROOT) if args.data.is_relative_to(ROOT) else args.data),
        "n": len(items), "context": args.context, "judge": judge.backend.id if judge.backend else None,
        "verdict_change_share": share("verdict_changed", items),
        "verdicts_changed": sum(it["verdict_changed"] for it in items),
        "model_reading_change_share": share("model_reading_changed", items),
        "set_aside_share": share("set_aside", items),
        "base_verdicts": dict(Counter(b["verdict"] for b in base_cache.values())),
        "by_kind": {k: {"n": len(v), "verdict_change_share": share("verdict_changed", v),
                        "set_aside_share": share("set_aside", v)} for k, v in sorted(by_kind.items())},
        "false_positives": false_positives() if args.data == DATA else "see injection.json",
        "seconds": round(time.perf_counter() - start, 1), "machine": platform.machine(),
    }
    if analyzer is not None:
        summary["analysis_change_share"] = share("analysis_changed", items)
        summary["analyzer"] = analyzer.name
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "injection.json" if args.data == DATA else f"{args.data.stem}.json"
    (RESULTS / name).write_text(json.dumps({"summary": summary, "items": items}, indent=2,
                                                       ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
