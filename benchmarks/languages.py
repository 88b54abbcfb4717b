"""Per-language benchmark: emotion macro-F1, intensity Pearson, conduct flagged and allowed, texts/s.

One JSON line per language, then a summary line:

- ``emotion_f1``: the sensor's macro-F1 on BRIGHTER track A dev (never trained on; the emotions the
  language labels, of anger, disgust, fear, joy, sadness and surprise), beside ``predict_all``, the
  macro-F1 of predicting every label;
- ``intensity_pearson``: mean Pearson of the sensor's intensities with BRIGHTER track B dev's 0-3
  ratings, over the emotions rated (10 languages);
- ``conduct_dev``: the multilingual conduct head on the language's dev templates of the multilingual
  contrast set, kept out of its training until then (harmful flagged at the review threshold,
  harmless allowed), as ``training/train_conduct.py --encoder multilingual`` measured it
  (``conduct-e5-manifest.json``; ``conduct_lolo`` too where it was run with ``--loko``);
- ``judge``: the judge without a model (context ``personal``) on the test splits of MLMA French and
  Arabic and Korean HateSpeech, which neither head was trained on: share of harmful texts flagged (any
  verdict but allow) and of harmless texts allowed;
- ``texts_per_second``: the sensor on the language's dev texts, in batch; the summary adds the peak
  memory of this process (``peak_rss_mb``: the sets, the sensor, the judge and both encoders) and of a
  fresh one that only loads the sensor and the judge without a model and reads and judges MLMA and
  Korean texts in batch (``library_peak_rss_mb``: what a service or the proxy holds without a model).

With ``--rewrite N`` (the embedded model: about a minute a text) it also rewrites the N shortest dev
texts of German, Spanish, Brazilian Portuguese, Russian and Chinese towards joy (one round) and
replies to them (``respond``), and prints the share of rewrites and replies written in the source
language (as the language detector reads them).

    python benchmarks/languages.py [--limit 100]      # texts per language and set (seeded sample)
    python benchmarks/languages.py --rewrite 4        # and rewrites and replies with the embedded model
    python benchmarks/languages.py --smoke --results-dir /tmp/languages   # a tiny run (CI)

It prints and writes no file, unless ``--results-dir DIR`` is given: then the same lines go to
``DIR/languages.json`` (``DIR/languages-rewrite.json`` with ``--rewrite``; DIR made if missing).
``--smoke`` is ``--limit 5`` (with ``--rewrite``: one text, German only), into a temporary folder
unless ``--results-dir`` is given; without the shared data it says so on stderr and exits 0.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT / "training"))

SIX = ("anger", "disgust", "fear", "joy", "sadness", "surprise")
#: the shared sets read (BRIGHTER for the sensor; MLMA and Korean HateSpeech for the judge)
NEEDED = ("brighter", "mlma_hate", "korean_hate_speech")
REWRITE_LANGUAGES = (("deu", "de"), ("esp", "es"), ("ptbr", "pt"), ("rus", "ru"), ("chn", "zh"))
SMOKE_LIMIT = 5


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def macro_f1(gold: list[set[str]], pred: list[set[str]], labels: list[str]) -> float:
    f1s = []
    for lab in labels:
        tp = sum(lab in g and lab in p for g, p in zip(gold, pred, strict=True))
        denom = sum(lab in p for p in pred) + sum(lab in g for g in gold)
        f1s.append(2 * tp / denom if denom else 0.0)
    return statistics.fmean(f1s) if f1s else 0.0


def pearson(a: list[float], b: list[float]) -> float | None:
    if len(a) < 3 or statistics.pstdev(a) == 0 or statistics.pstdev(b) == 0:
        return None
    return statistics.correlation(a, b)


def write_results(folder: Path | None, name: str, command: str, smoke: bool, rows: list[dict]) -> None:
    """The printed lines, as one JSON file in ``folder`` (none written without one)."""
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    report = {"command": command, "smoke": smoke, "rows": rows}
    (folder / name).write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=100, help="texts per language and set (seeded sample)")
    ap.add_argument("--rewrite", type=int, default=0, help="rewrite and reply to N texts a language (embedded model)")
    ap.add_argument(
        "--results-dir",
        type=Path,
        default=None,
        help="also write languages.json (or languages-rewrite.json) there, made if missing (default: print only)",
    )
    ap.add_argument(
        "--smoke", action="store_true", help=f"a tiny run (CI): --limit {SMOKE_LIMIT}; --rewrite: 1 text, German only"
    )
    args = ap.parse_args()
    results = args.results_dir
    if args.smoke:
        missing = [name for name in NEEDED if not (DATA / name).is_dir()]
        if missing:
            print(f"languages.py --smoke: shared data missing ({DATA}: {', '.join(missing)}), skipped", file=sys.stderr)
            return
        args.limit = min(args.limit, SMOKE_LIMIT)
        args.rewrite = min(args.rewrite, 1)
        results = results or Path(tempfile.mkdtemp(prefix="languages-smoke-"))
    if args.rewrite:
        found = rewrite_languages(args.rewrite, REWRITE_LANGUAGES[:1] if args.smoke else REWRITE_LANGUAGES)
        command = f"python benchmarks/languages.py --rewrite {args.rewrite}" + (" --smoke" if args.smoke else "")
        write_results(results, "languages-rewrite.json", command, args.smoke, found)
        return
    from train_conduct import split_of

    from emoethics.api import make_judge
    from emoethics.ethics.heads import HEADS_DIR
    from emoethics.sensors.emotion_sensor import EmotionSensor

    sensor = EmotionSensor()
    rng = random.Random(7)
    rows: dict[str, dict] = {}
    for path in sorted((DATA / "brighter" / "track_a" / "dev").glob("*.csv")):
        found = read_csv(path)
        found = rng.sample(found, min(args.limit, len(found)))
        labels = [e for e in SIX if e in found[0]]
        start = time.perf_counter()
        profiles = sensor.analyze_batch([r["text"] for r in found])
        seconds = time.perf_counter() - start
        gold = [{e for e in labels if r[e] == "1"} for r in found]
        pred = [set(p.present or []) & set(labels) for p in profiles]
        codes = [p.language.code for p in profiles if p.language]
        rows[path.stem] = {
            "language": path.stem,
            "detected": max(set(codes), key=codes.count) if codes else "und",
            "n": len(found),
            "emotion_f1": round(macro_f1(gold, pred, labels), 3),
            "predict_all": round(macro_f1(gold, [set(labels)] * len(gold), labels), 3),
            "texts_per_second": round(len(found) / seconds, 1),
        }
    for path in sorted((DATA / "brighter" / "track_b" / "dev").glob("*.csv")):
        found = read_csv(path)
        found = rng.sample(found, min(args.limit, len(found)))
        profiles = sensor.analyze_batch([r["text"] for r in found])
        per = []
        for e in SIX:
            pairs = [(int(r[e]) / 3, (p.intensities or {}).get(e, 0.0)) for r, p in zip(found, profiles, strict=True)
                     if r.get(e, "") in ("0", "1", "2", "3")]  # fmt: skip
            if pairs and (r := pearson([a for a, _ in pairs], [b for _, b in pairs])) is not None:
                per.append(r)
        rows.setdefault(path.stem, {"language": path.stem})["intensity_pearson"] = (
            round(statistics.fmean(per), 3) if per else None
        )
    manifest = HEADS_DIR / "conduct-e5-manifest.json"
    measured = json.loads(manifest.read_text(encoding="utf-8")) if manifest.is_file() else {}
    for key, name in (("dev_by_language", "conduct_dev"), ("leave_one_language_out", "conduct_lolo")):
        for code, v in measured.get(key, {}).items():
            rows.setdefault(code, {"language": code})[name] = v
    judge = make_judge(use_model=False)
    shared = []
    for lang in ("fr", "ar"):
        for r in read_csv(DATA / "mlma_hate" / f"{lang}_dataset.csv"):
            if split_of(r["tweet"]) == "test":
                shared.append((f"mlma-{lang}", r["tweet"], int(r["sentiment"] != "normal")))
    with (DATA / "korean_hate_speech" / "dev.tsv").open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            if split_of(r["comments"]) != "train":  # the dev file's test part
                shared.append(("korean", r["comments"], int(r["hate"] != "none")))
    for name in ("mlma-fr", "mlma-ar", "korean"):
        items = [(t, y) for s, t, y in shared if s == name]
        items = rng.sample(items, min(2 * args.limit, len(items)))
        verdicts = [j.verdict for j in judge.judge_many([t for t, _ in items], "personal")]
        harmful = [v != "allow" for (_, y), v in zip(items, verdicts, strict=True) if y == 1]
        harmless = [v == "allow" for (_, y), v in zip(items, verdicts, strict=True) if y == 0]
        rows.setdefault(name, {"language": name})["judge"] = {
            "n": len(items),
            "harmful_flagged": round(statistics.fmean(harmful), 3) if harmful else None,
            "harmless_allowed": round(statistics.fmean(harmless), 3) if harmless else None,
        }
    for row in rows.values():
        print(json.dumps(row, ensure_ascii=False))
    f1 = [r for r in rows.values() if "emotion_f1" in r]
    summary = {
        "summary": True,
        "emotion_languages": len(f1),
        "emotion_f1_mean": round(statistics.fmean(r["emotion_f1"] for r in f1), 3),
        "below_predict_all": [r["language"] for r in f1 if r["emotion_f1"] <= r["predict_all"]],
        "intensity_pearson_mean": round(
            statistics.fmean(r["intensity_pearson"] for r in rows.values() if r.get("intensity_pearson")), 3
        ),
        "texts_per_second_min": min(r["texts_per_second"] for r in f1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "library_peak_rss_mb": library_peak_mb([t for _, t, _ in random.Random(0).sample(shared, 4 * args.limit)]),
    }
    print(json.dumps(summary))
    command = f"python benchmarks/languages.py --limit {args.limit}" + (" --smoke" if args.smoke else "")
    write_results(results, "languages.json", command, args.smoke, [*rows.values(), summary])


#: A process that only reads and judges (what a service or the proxy holds without a language model).
LIBRARY_LOAD = """
import json, sys
from emoethics import api
from emoethics.ethics.guidelines import load_guidelines
from emoethics.ethics.judge import Judge
from emoethics.sensors.emotion_sensor import EmotionSensor
texts = json.load(sys.stdin)
EmotionSensor().analyze_batch(texts)
Judge(load_guidelines(), None, api.make_analyzer(role="critic")).judge_many(texts, "personal")
status = open("/proc/self/status").read()  # VmHWM: this program's peak (ru_maxrss carries the parent's)
print(round(int(status.split("VmHWM:")[1].split()[0]) / 1024))
"""


def library_peak_mb(texts: list[str]) -> int:
    """Peak memory (MB) of a fresh process that loads the sensor and the judge without a model (both
    encoders, every head) and reads and judges ``texts`` (English and other languages) in batch."""
    import subprocess

    p = subprocess.run(
        [sys.executable, "-c", LIBRARY_LOAD], input=json.dumps(texts), capture_output=True, text=True, check=True
    )
    return int(p.stdout.split()[-1])


def rewrite_languages(n: int, languages: tuple[tuple[str, str], ...] = REWRITE_LANGUAGES) -> list[dict]:
    """Rewrites and replies in the source language (module docstring); the printed lines."""
    from emoethics import api
    from emoethics.sensors.language import detect_language

    out = []
    for lang, code in languages:
        found = sorted(read_csv(DATA / "brighter" / "track_a" / "dev" / f"{lang}.csv"), key=lambda r: len(r["text"]))
        texts = [r["text"] for r in found if len(r["text"]) >= 20][:n]
        start = time.perf_counter()
        rewrites = [api.rewrite(t, "joy", 0.6, rounds=1, explain=False).text for t in texts]
        replies = [api.respond(t).reply for t in texts]
        same = [detect_language(x).code == code for x in rewrites]
        answered = [detect_language(x).code == code for x in replies]
        out.append({
            "language": lang, "n": len(texts),
            "rewrites_in_source_language": round(statistics.fmean(same), 3),
            "replies_in_source_language": round(statistics.fmean(answered), 3),
            "seconds_per_text": round((time.perf_counter() - start) / max(1, len(texts)), 1),
            "example": {"text": texts[0], "rewrite": rewrites[0], "reply": replies[0]} if texts else None,
        })  # fmt: skip
        print(json.dumps(out[-1], ensure_ascii=False))
    return out


if __name__ == "__main__":
    main()
