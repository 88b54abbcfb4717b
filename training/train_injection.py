"""Train the injection detector (``make train``): which parts of a judged text address the judge.

Data: ``training/make_injection_set.py`` (generated sentences addressed to the judge, by kind,
and real sentences from the shared training files), rebuilt here from its recipes.

Features: the all-MiniLM-L6-v2 embedding (ONNX int8, the encoder the ethics heads and the
neighbour check already use) of each part as the detector reads it (markup comments opened,
base64 decoded, folded: ``emoethics.ethics.injection.detector_text``), and four cheap features
(``cheap_features``: a reader addressed, a verdict word, the text itself as object, the second
person). Model: standardisation + logistic regression (scikit-learn here; numpy at run time).

Threshold: chosen from negatives only, as the score that 99.9% of real training sentences stay
under in 5-fold out-of-fold predictions (never below 0.5). C and the quantile were picked once
from a few values, on out-of-fold recall and the false positives of the first trained detector
on the real texts below (0.999 left 5 of 600 long ETHICS texts flagged).

Reported (in ``heads/injection-manifest.json``):

- by kind: for each kind of injection, a detector trained without that kind (and without a fifth
  of the negatives), scored on that kind and those negatives: recall, precision, false positives;
- false positives on real texts the set never read: a fixed sample (by hash; 1,500 texts, 600 of
  the long ETHICS ones) of GoEmotions ``dev.tsv``, ETHICS ``cm_test.csv``, Moral Stories
  ``dev.jsonl``, the other half of GoodNewsEveryone and of XED (a text counts when the detector
  flags any of its parts).

Writes ``src/emoethics/ethics/heads/injection-detector.npz``. Embeddings are cached in
``training/.cache``.

    python training/train_injection.py
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import make_injection_set  # noqa: E402
from train_ethics import CACHE, DATA, HEADS, log, save_npz, sha256  # noqa: E402

C = 0.1
FP_QUANTILE = 0.9995
FOLDS = 5


def embed(texts: list[str]) -> np.ndarray:
    """Embeddings of ``texts`` (rows in order), cached on disk by content."""
    from emoethics.encoders.minilm import get_encoder

    unique = sorted(set(texts))
    key = hashlib.sha256("\n\x00".join(unique).encode("utf-8")).hexdigest()[:16]
    path = CACHE / f"injection-{key}.npy"
    if path.is_file():
        x = np.load(path)
    else:
        start, enc, out = time.perf_counter(), get_encoder(), []
        for i in range(0, len(unique), 2048):
            out.append(enc.encode(unique[i : i + 2048]))
            log(f"  {min(i + 2048, len(unique))}/{len(unique)} texts embedded")
        x = np.vstack(out) if out else np.zeros((0, 384), np.float32)
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(path, x)
        log(f"  {len(unique)} texts in {time.perf_counter() - start:.0f}s")
    row = {t: i for i, t in enumerate(unique)}
    return x[[row[t] for t in texts]]


def features(texts: list[str]) -> np.ndarray:
    from emoethics.ethics.injection import cheap_features

    return np.hstack([embed(texts), cheap_features(texts)])


def fit(x: np.ndarray, y: np.ndarray):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    clf = LogisticRegression(C=C, max_iter=5000, class_weight="balanced").fit(scaler.transform(x), y)
    return scaler, clf


def proba(model, x: np.ndarray) -> np.ndarray:
    scaler, clf = model
    return clf.predict_proba(scaler.transform(x))[:, 1]


def fold_of(text: str) -> int:
    return int(hashlib.sha256(("fold:" + text).encode("utf-8")).hexdigest(), 16) % FOLDS


def dev_texts() -> dict[str, list[str]]:
    """Real texts the training set never read, by corpus."""
    side = make_injection_set.hash_side
    out: dict[str, list[str]] = {}
    with (DATA / "goemotions" / "dev.tsv").open(encoding="utf-8") as f:
        out["goemotions-dev"] = [r[0] for r in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE) if r]
    with (DATA / "ethics" / "cm_test.csv").open(encoding="utf-8") as f:
        out["ethics-cm"] = [r["input"] for r in csv.DictReader(f)]
    ms = []
    with (DATA / "moral_stories" / "dev.jsonl").open(encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            ms += [d.get(k) or "" for k in ("norm", "moral_action", "immoral_action")]
    out["moral-stories-dev"] = ms
    with (DATA / "goodnewseveryone" / "gne-release-v1.0.tsv").open(encoding="utf-8") as f:
        out["goodnewseveryone-half"] = [
            r["headline"] for r in csv.DictReader(f, delimiter="\t") if side(r["headline"]) == "dev"
        ]
    xed = sorted({t for t in make_injection_set.xed_texts() if side(t) == "dev"})
    out["xed-half"] = xed

    # a fixed sample of each (embedding every part of every text takes too long for make train;
    # benchmarks/injection.py --false-positives measures the whole finder on more of them)
    def sample(texts: list[str], n: int) -> list[str]:
        ranked = sorted({t for t in texts if t.strip()}, key=lambda t: hashlib.sha256(t.encode("utf-8")).hexdigest())
        return sorted(ranked[:n])

    return {k: sample(v, 600 if k == "ethics-cm" else 1500) for k, v in out.items()}


DEV_FILES = [
    "goemotions/dev.tsv",
    "ethics/cm_test.csv",
    "moral_stories/dev.jsonl",
    "goodnewseveryone/gne-release-v1.0.tsv",
    "xed/en-annotated.tsv",
    "xed/neu_en.txt",
]


def fp_on_real(model, threshold: float) -> dict:
    """Share of real texts with a part the detector flags, per corpus (detector alone)."""
    from emoethics.ethics.injection import detector_text, embeddable, split_parts

    report = {}
    for name, texts in dev_texts().items():
        owner, parts = [], []
        for i, t in enumerate(texts):
            for m in split_parts(t):
                p = detector_text(m.group(0))
                if embeddable(p):
                    owner.append(i)
                    parts.append(p)
        p = proba(model, features(parts))
        flagged = sorted({owner[k] for k in np.flatnonzero(p >= threshold)})
        report[name] = {
            "texts": len(texts),
            "parts": len(parts),
            "flagged_texts": len(flagged),
            "share": round(len(flagged) / len(texts), 5),
            "examples": [texts[i][:160] for i in flagged[:5]],
        }
        log(f"  {name}: {len(flagged)} of {len(texts)} texts flagged")
    return report


def main() -> None:
    import sklearn
    from sklearn.metrics import precision_score, recall_score

    from emoethics.ethics.injection import detector_text

    start = time.perf_counter()
    rows = make_injection_set.build()
    set_sha = hashlib.sha256(
        "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows).encode("utf-8")
    ).hexdigest()
    texts = [detector_text(r["text"]) for r in rows]
    y = np.array([r["label"] for r in rows])
    kinds = np.array([r["kind"] for r in rows])
    folds = np.array([fold_of(r["text"]) for r in rows])
    x = features(texts)
    log(f"{len(rows)} rows ({int(y.sum())} positives), features {x.shape[1]}")

    # threshold from out-of-fold scores of the negatives
    oof = np.zeros(len(rows))
    for k in range(FOLDS):
        m = fit(x[folds != k], y[folds != k])
        oof[folds == k] = proba(m, x[folds == k])
    threshold = max(0.5, float(np.quantile(oof[y == 0], FP_QUANTILE)))
    log(f"threshold {threshold:.4f}; out-of-fold recall {np.mean(oof[y == 1] >= threshold):.3f}")

    # by kind: train without the kind (and without one fold of negatives), test on both
    by_kind = {}
    positive_kinds = sorted({k for k, lab in zip(kinds, y, strict=True) if lab == 1})
    for n, kind in enumerate(positive_kinds):
        neg_fold = n % FOLDS
        test = (kinds == kind) | ((y == 0) & (folds == neg_fold))
        train = ~test & (kinds != kind)
        m = fit(x[train], y[train])
        pred = (proba(m, x[test]) >= threshold).astype(int)
        by_kind[kind] = {
            "positives": int((y[test] == 1).sum()),
            "negatives": int((y[test] == 0).sum()),
            "recall": round(float(recall_score(y[test], pred)), 4),
            "precision": round(float(precision_score(y[test], pred, zero_division=0)), 4),
            "false_positive_rate": round(float(pred[y[test] == 0].mean()), 5),
        }
        log(f"  held-out kind {kind}: {by_kind[kind]}")
    recalls = [v["recall"] for v in by_kind.values()]

    model = fit(x, y)
    scaler, clf = model
    out = HEADS / "injection-detector.npz"
    save_npz(
        out,
        {
            "coef": clf.coef_[0].astype(np.float32),
            "intercept": np.float32(clf.intercept_[0]),
            "mean": scaler.mean_.astype(np.float32),
            "scale": scaler.scale_.astype(np.float32),
            "threshold": np.float32(threshold),
            "C": np.float32(C),
        },
    )
    real = fp_on_real(model, threshold)

    data = make_injection_set.data_files()
    data.update({f: sha256(DATA / f) for f in DEV_FILES})
    entry = {
        "file": out.name,
        "sha256": sha256(out),
        "bytes": out.stat().st_size,
        "trained": datetime.date.today().isoformat(),
        "command": "python training/train_injection.py",
        "set": {
            "generator": "training/make_injection_set.py",
            "seed": make_injection_set.SEED,
            "sha256": set_sha,
            "rows": len(rows),
            "positives": int(y.sum()),
            "negatives": int((1 - y).sum()),
            "by_kind": {k: int((kinds == k).sum()) for k in sorted(set(kinds))},
        },
        "data": dict(sorted(data.items())),
        "features": "all-MiniLM-L6-v2 ONNX int8 embedding (384) of detector_text(part) + 4 cheap features",
        "model": "standardise + logistic regression (class_weight balanced)",
        "C": C,
        "threshold": round(threshold, 4),
        "threshold_rule": f"{FP_QUANTILE} quantile of out-of-fold scores of the negatives, at least 0.5",
        "out_of_fold_recall": round(float(np.mean(oof[y == 1] >= threshold)), 4),
        "out_of_fold_negative_fp": round(float(np.mean(oof[y == 0] >= threshold)), 5),
        "held_out_kind": by_kind,
        "held_out_kind_mean_recall": round(float(np.mean(recalls)), 4),
        "real_texts_never_read": real,
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "scikit-learn": sklearn.__version__},
    }
    (HEADS / "injection-manifest.json").write_text(json.dumps(entry, indent=2, ensure_ascii=False) + "\n")
    summary = {
        k: entry[k] for k in ("threshold", "out_of_fold_recall", "out_of_fold_negative_fp", "held_out_kind_mean_recall")
    }
    summary["held_out_kind"] = {k: (v["recall"], v["precision"]) for k, v in by_kind.items()}
    summary["real_fp"] = {k: v["share"] for k, v in real.items()}
    print(json.dumps(summary, indent=2))
    log(f"done in {time.perf_counter() - start:.0f}s")


if __name__ == "__main__":
    main()
