"""Rewriting benchmark: N source sentences x every level of one spectrum.

Sources are the first N lines of XED's neutral English subtitles (``xed/neu_en.txt``) with 6-20
words, so every level starts from the same neutral point. For every (sentence, level) the
rewrite loop runs with the configured generator and critic; we report the hit rate (measured
level within one level of the target), mean absolute intensity error, mean content similarity,
LLM calls and seconds per rewrite, overall and per level.

Results stream to ``benchmarks/results/rewrite-<spectrum>-critic-<critic>.jsonl`` as they are
produced; a re-run resumes where the last stopped (delete the file to start over). The summary
goes to stdout and the same name with ``.json``.

    python benchmarks/rewrite.py --n 20 --spectrum sadness-joy --rounds 2 --critic sensor
    python benchmarks/rewrite.py --n 20 --spectrum sadness-joy --rounds 2 --critic local
    python benchmarks/rewrite.py --smoke --results-dir /tmp/rewrite   # a tiny run (CI)

``--results-dir DIR`` puts both files in DIR (made if missing) instead of ``benchmarks/results``.
``--smoke`` rewrites one source sentence to one level (``joy``) in one round with the embedded
model and no response cache, into a temporary folder unless ``--results-dir`` is given; without
the shared data it says so on stderr and exits 0.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import emoethics
from emoethics.config import load_settings

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "xed" / "neu_en.txt"
RESULTS = ROOT / "benchmarks" / "results"
#: the level a smoke run rewrites to (one rewrite: the embedded model writes ~12 tokens/s)
SMOKE_LEVEL = "joy"


def sources(n: int) -> list[str]:
    out = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        text = line.split("\t", 1)[-1].strip()
        if 6 <= len(text.split()) <= 20:
            out.append(text)
        if len(out) == n:
            break
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20, help="number of source sentences")
    ap.add_argument("--spectrum", default="sadness-joy")
    ap.add_argument("--emotion-model", default="plutchik")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--critic",
        default="sensor",
        choices=["sensor", "local", "ensemble"],
        help="what measures the rewrites (the generator is the embedded default)",
    )
    ap.add_argument("--no-cache", action="store_true", help="do not use the response cache")
    ap.add_argument(
        "--results-dir",
        type=Path,
        default=None,
        help="folder for the .jsonl and .json, made if missing (default: benchmarks/results; --smoke: a temporary one)",
    )
    ap.add_argument(
        "--smoke", action="store_true", help=f"a tiny run (CI): 1 sentence, level {SMOKE_LEVEL} only, 1 round, no cache"
    )
    args = ap.parse_args()
    if args.smoke:
        if not DATA.is_file():
            print(f"rewrite.py --smoke: shared data missing ({DATA}), skipped", file=sys.stderr)
            return
        args.n, args.rounds = 1, 1
        args.no_cache = True  # the model really writes, and the user's response cache is left alone
    results = args.results_dir or (Path(tempfile.mkdtemp(prefix="rewrite-smoke-")) if args.smoke else RESULTS)

    settings = load_settings({"critic": {"backend": args.critic}}, no_cache=args.no_cache)
    em = emoethics.load_model(args.emotion_model)
    spec = em.spectrum(args.spectrum)
    anchors = spec.anchors()
    if args.smoke:
        anchors = [lv for lv in anchors if lv.word == SMOKE_LEVEL] or anchors[-1:]
    levels = [lv.word for lv in anchors]
    results.mkdir(parents=True, exist_ok=True)
    stem = f"rewrite-{spec.id}-critic-{args.critic}"
    log = results / f"{stem}.jsonl"
    done = {}
    if log.exists():
        for line in log.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            done[(row["source"], row["level"])] = row
    texts = sources(args.n)
    with log.open("a", encoding="utf-8") as f:
        for i, text in enumerate(texts):
            for lv in anchors:
                if (text, lv.word) in done:
                    continue
                t0 = time.perf_counter()
                try:
                    r = emoethics.rewrite(
                        text, spec.id, lv.intensity, model=em, rounds=args.rounds, explain=False, settings=settings
                    )
                except emoethics.EmoethicsError as e:
                    row = {"source": text, "level": lv.word, "error": str(e), "seconds": time.perf_counter() - t0}
                else:
                    calls = sum(u.calls - u.cached_calls for u in r.usage.values())
                    row = {
                        "source": text,
                        "level": lv.word,
                        "target": lv.intensity,
                        "measured": r.measured_intensity,
                        "measured_level": r.measured_level,
                        "distance": r.level_distance,
                        "similarity": r.similarity,
                        "rounds": len(r.rounds),
                        "llm_calls": calls,
                        "seconds": round(time.perf_counter() - t0, 2),
                        "text": r.text,
                        "generator": r.generator,
                        "critic": r.critic,
                    }
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                f.flush()
                done[(text, lv.word)] = row
                print(
                    f"[{i + 1}/{len(texts)}] {lv.word:>12}: {row.get('measured_level', 'ERROR')}"
                    f" ({row['seconds']:.1f}s)",
                    flush=True,
                )

    rows = [done[(t, lv.word)] for t in texts for lv in anchors]
    ok = [r for r in rows if "error" not in r]
    fresh = [r for r in ok if r["llm_calls"] > 0]  # rewrites computed now, not from the cache

    def summary(rs: list[dict]) -> dict:
        if not rs:  # every rewrite failed
            return {"n": 0}
        return {
            "n": len(rs),
            "hit_rate": round(sum(r["distance"] <= 1 for r in rs) / len(rs), 3),
            "exact_rate": round(sum(r["distance"] == 0 for r in rs) / len(rs), 3),
            "mae_intensity": round(statistics.mean(abs(r["measured"] - r["target"]) for r in rs), 3),
            "mean_similarity": round(statistics.mean(r["similarity"] for r in rs), 3),
        }

    report = {
        "command": f"python benchmarks/rewrite.py --n {args.n} --spectrum {spec.id} "
        f"--rounds {args.rounds} --critic {args.critic}"
        + (" --no-cache" if args.no_cache else "")
        + (" --smoke" if args.smoke else ""),
        **({"smoke": True} if args.smoke else {}),
        "machine": f"{platform.machine()} {platform.processor() or ''} cpus={__import__('os').cpu_count()}",
        "generator": ok[0]["generator"] if ok else None,
        "critic": ok[0]["critic"] if ok else None,
        "sources": len(texts),
        "levels": levels,
        "errors": len(rows) - len(ok),
        **summary(ok),
        "llm_calls_per_rewrite": round(statistics.mean(r["llm_calls"] for r in fresh), 2) if fresh else None,
        "seconds_per_rewrite": round(statistics.mean(r["seconds"] for r in fresh), 2) if fresh else None,
        "median_seconds_per_rewrite": round(statistics.median(r["seconds"] for r in fresh), 2) if fresh else None,
        "per_level": {lv: summary([r for r in ok if r["level"] == lv]) for lv in levels},
    }
    (results / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
