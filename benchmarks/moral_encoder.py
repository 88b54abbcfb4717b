"""The moral encoder against the original all-MiniLM-L6-v2: heads on each, on every shared dev split,
and the judge's CPU-only path in batch.

1. ``--probe``: ``training/train_ethics.py`` builds every head twice, with the same protocol (feature
   kind and C chosen on the selection split inside the training items), the same seeded training
   subsample (``--max-train``) and the same seeded dev subsample (``--max-dev``; 0: the whole dev
   splits), once on each encoder only, into ``training/.cache/probe-<encoder>/`` (the shipped heads
   are not touched), and the two manifests' dev figures are put side by side. The dev splits are
   the ones the shipped heads report on: the hash-dev part of ``ethics/cm_test.csv``, the ETHICS
   ``*_test.csv`` files and ``moral_stories/dev.jsonl``; the moral encoder never trained on them.
2. ``--speed N``: the judge without its language model (``make_judge(use_model=False)``: the
   injection filter, the emotion sensor, the commonsense head's reading by sentence) on N texts
   (GoEmotions dev comments and ETHICS commonsense dev items, alternating), milliseconds per text
   after one warm-up text, one text at a time (``judge``) and all N in one batch (``judge_many``,
   what ``batch judge --no-model`` does per group), with how many batch verdicts equal the
   one-by-one ones; and the commonsense head's reading alone, both ways.

Writes ``benchmarks/results/moral-encoder.json`` (each part's key is kept when the other is run;
``--results-dir DIR``: ``DIR/moral-encoder.json``; the parts of a smoke run are not kept).

``--smoke`` runs both parts, tiny: the probe of the ``ethics-cm`` and ``ethics-justice`` heads with
``--max-train 40 --max-dev 20`` (the heads go to a temporary folder, not ``training/.cache``) and
``--speed 10``; the file says ``"smoke": true``. It needs the shared data folder and exits 0
without results when that is missing.

    python benchmarks/moral_encoder.py --probe --max-train 1500 --max-dev 500
    python benchmarks/moral_encoder.py --speed 500
    python benchmarks/moral_encoder.py --smoke --results-dir /tmp/smoke-moral_encoder   # a tiny run (CI)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"
RESULT_FILE = "moral-encoder.json"
PROBE = ROOT / "training" / ".cache"
#: ``--smoke``: the probe's heads, training and dev subsamples, and the speed probe's texts.
SMOKE_FORMATS = ("ethics-cm", "ethics-justice")
SMOKE_MAX_TRAIN = 40
SMOKE_MAX_DEV = 20
SMOKE_SPEED = 10
FIGURES = ("dev_size", "dev_accuracy", "dev_roc_auc", "dev_both_actions_right", "features", "C")


def probe(max_train: int, max_dev: int, root: Path = PROBE, formats: tuple[str, ...] = ()) -> dict:
    """Heads on each encoder alone, same subsamples, into ``root/probe-<encoder>`` (``formats``: only
    those heads; default all); their dev figures side by side."""
    runs = {}
    for encoder in ("original", "moral"):
        out = root / f"probe-{encoder}"
        cmd = [sys.executable, str(ROOT / "training" / "train_ethics.py"), "--encoders", encoder, "--out", str(out)]
        cmd += ["--max-train", str(max_train), "--max-dev", str(max_dev)]
        cmd += ["--formats", *formats] if formats else []
        runs[encoder] = (out, subprocess.Popen(cmd, cwd=ROOT))  # both at once: one core each
    report: dict = {"max_train": max_train, "max_dev": max_dev, "formats": {}}
    for encoder, (out, proc) in runs.items():
        if proc.wait() != 0:
            raise SystemExit(f"train_ethics.py --encoders {encoder} failed")
        heads = json.loads((out / "manifest.json").read_text())["heads"]
        for fmt, h in heads.items():
            row = {k: h[k] for k in FIGURES if k in h}
            if "judge_reading" in h:
                row["judge_reading"] = h["judge_reading"]
            report["formats"].setdefault(fmt, {"reported_on": h["reported_on"]})[encoder] = row
    for fmt, r in report["formats"].items():
        o, m = r["original"], r["moral"]
        print(
            f"{fmt:>18} on {r['reported_on']} (n={m['dev_size']}): original {o['dev_accuracy']:.3f} "
            f"(AUC {o['dev_roc_auc']:.3f})  moral {m['dev_accuracy']:.3f} (AUC {m['dev_roc_auc']:.3f})",
            flush=True,
        )
    return report


def speed_texts(n: int) -> list[str]:
    from emoethics.evals.ethics_data import load_ethics, split_key, split_of

    go = [
        line.split("\t")[0]
        for line in (DATA / "goemotions" / "dev.tsv").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    cm = [
        it.text for it in load_ethics(DATA / "ethics" / "cm_test.csv", "ethics-cm") if split_of(split_key(it)) == "dev"
    ]
    out = [t for pair in zip(go, cm, strict=False) for t in pair]
    return out[:n]


def speed(n: int) -> dict:
    from emoethics import api
    from emoethics.ethics.heads import EthicsHead

    texts = speed_texts(n + 1)
    judge = api.make_judge(use_model=False)
    judge.judge(texts[0], "personal")  # loads the models
    start = time.perf_counter()
    one_by_one = [judge.judge(t, "personal") for t in texts[1:]]
    per_text = (time.perf_counter() - start) / (len(texts) - 1)
    start = time.perf_counter()
    batched = judge.judge_many(texts[1:], "personal")
    per_text_batch = (time.perf_counter() - start) / (len(texts) - 1)
    head = EthicsHead.load("ethics-cm")
    head.read(texts[0])
    start = time.perf_counter()
    for t in texts[1:]:
        head.read(t)
    per_read = (time.perf_counter() - start) / (len(texts) - 1)
    start = time.perf_counter()
    head.read_many(texts[1:])
    per_read_batch = (time.perf_counter() - start) / (len(texts) - 1)
    report = {
        "texts": len(texts) - 1,
        "judge_no_model_ms_per_text": round(per_text * 1000, 1),
        "judge_no_model_batch_ms_per_text": round(per_text_batch * 1000, 1),
        "batch_verdicts_as_one_by_one": sum(a.verdict == b.verdict for a, b in zip(one_by_one, batched, strict=True)),
        "head_read_ms_per_text": round(per_read * 1000, 1),
        "head_read_batch_ms_per_text": round(per_read_batch * 1000, 1),
        "head_encoder": head.encoder,
        "mean_chars": round(sum(len(t) for t in texts[1:]) / (len(texts) - 1)),
        "load_average_1min": round(os.getloadavg()[0], 1),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(report), flush=True)
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--probe", action="store_true", help="heads on each encoder on every shared dev split")
    ap.add_argument("--max-train", type=int, default=1500)
    ap.add_argument("--max-dev", type=int, default=500)
    ap.add_argument("--speed", type=int, default=0, help="time the judge's CPU path on N texts")
    ap.add_argument("--results-dir", type=Path, default=RESULTS, help=f"where {RESULT_FILE} goes")
    ap.add_argument("--smoke", action="store_true", help="both parts on a few items (see the module docstring)")
    args = ap.parse_args()
    if args.smoke:
        if not DATA.is_dir():
            print(f"moral_encoder.py --smoke: the shared data folder {DATA} is missing; nothing run", file=sys.stderr)
            return
        args.probe, args.max_train, args.max_dev, args.speed = True, SMOKE_MAX_TRAIN, SMOKE_MAX_DEV, SMOKE_SPEED
    path = args.results_dir / RESULT_FILE
    result = json.loads(path.read_text()) if path.is_file() else {}
    if args.smoke or result.get("smoke"):  # a smoke run's parts are not mixed with a real run's
        result = {"smoke": True} if args.smoke else {}
    result["machine"] = f"{platform.processor() or platform.machine()}, {platform.system()}, {os.cpu_count()} CPUs"
    if args.probe:
        if args.smoke:
            with tempfile.TemporaryDirectory(prefix="moral-encoder-probe-") as tmp:
                result["probe"] = probe(args.max_train, args.max_dev, Path(tmp), SMOKE_FORMATS)
            result["probe"]["command"] = "python benchmarks/moral_encoder.py --smoke"
        else:
            result["probe"] = probe(args.max_train, args.max_dev)
            result["probe"]["command"] = (
                f"python benchmarks/moral_encoder.py --probe --max-train {args.max_train} --max-dev {args.max_dev}"
            )
    if args.speed:
        result["speed"] = speed(args.speed)
        result["speed"]["command"] = (
            "python benchmarks/moral_encoder.py --smoke"
            if args.smoke
            else f"python benchmarks/moral_encoder.py --speed {args.speed}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
