"""Train the ethics heads from the shared data sets (``make train``).

Data (all read from ``../shared/data/``; nothing is copied into the repository):

- ``ethics-cm``: ETHICS ``ethics/cm_test.csv`` (there is no commonsense training file here): split by
  ``emoethics.evals.ethics_data.split_of`` of the text, about 1 in 5 to dev; train on the rest,
  report accuracy on that dev part;
- ``ethics-deontology``, ``ethics-justice``, ``ethics-virtue``: train on ``ethics/<task>_train.csv``,
  report accuracy on the held-out ``ethics/<task>_test.csv``;
- ``moral-stories``: ``moral_stories/dev.jsonl``, split by ``split_of`` of the story id (both actions of
  a story on one side), about 1 in 5 to dev; train on the rest, report accuracy on the dev part.

Features: all-MiniLM-L6-v2 ONNX int8 embeddings (``emoethics.ethics.heads``; for pair formats several
kinds are tried). Head: standardisation + logistic regression (scikit-learn, training only). The
feature kind and C are chosen on a selection split *inside the training items*
(``split_of("select:" + key)``), never on the items whose accuracy is reported; the chosen head is
then refitted on all training items. The majority label (of the training items) and the keyword rule
(``emoethics.evals.ethics_baselines``) are scored on the same reported items.

Writes ``src/emoethics/ethics/heads/<format>.npz`` (byte-for-byte reproducible on one machine) and
``manifest.json`` beside them. Embeddings are cached in ``training/.cache`` (not committed).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import io
import json
import platform
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
HEADS = ROOT / "src" / "emoethics" / "ethics" / "heads"
CACHE = ROOT / "training" / ".cache"
C_GRID = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)

#: format -> (training file, reported file or None for a hash split of the training file, kinds to try)
PLAN = {
    "ethics-cm": ("ethics/cm_test.csv", None, ("text",)),
    "ethics-deontology": ("ethics/deontology_train.csv", "ethics/deontology_test.csv",
                          ("pair", "joined", "pair+joined")),
    "ethics-justice": ("ethics/justice_train.csv", "ethics/justice_test.csv", ("text",)),
    "ethics-virtue": ("ethics/virtue_train.csv", "ethics/virtue_test.csv", ("pair", "joined", "pair+joined")),
    "moral-stories": ("moral_stories/dev.jsonl", None, ("text", "pair", "joined", "pair+joined")),
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def embed_cached(name: str, texts: list[str]) -> dict[str, np.ndarray]:
    """Embeddings of the distinct ``texts``, cached on disk by content hash."""
    from emoethics.sensors.embedding import get_encoder

    unique = sorted(set(texts))
    key = hashlib.sha256("\n\x00".join(unique).encode("utf-8")).hexdigest()[:16]
    path = CACHE / f"ethics-{name}-{key}.npy"
    if path.is_file():
        x = np.load(path)
    else:
        start = time.perf_counter()
        enc, out, step = get_encoder(), [], 2048
        for i in range(0, len(unique), step):
            out.append(enc.encode(unique[i:i + step]))
            log(f"  {name}: {min(i + step, len(unique))}/{len(unique)} texts embedded")
        x = np.vstack(out)
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(path, x)
        log(f"  {name}: {len(unique)} texts in {time.perf_counter() - start:.0f}s")
    return dict(zip(unique, x, strict=True))


def build(kind: str, items: list, vecs: dict[str, np.ndarray]) -> np.ndarray:
    from emoethics.ethics.heads import combine, texts_needed

    needed = texts_needed(kind, items)
    return combine(kind, {k: np.stack([vecs[t] for t in ts]) for k, ts in needed.items()})


def fit(x: np.ndarray, y: np.ndarray, C: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    clf = LogisticRegression(C=C, max_iter=3000).fit(scaler.transform(x), y)
    return scaler, clf


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like ``np.savez_compressed`` but with fixed zip timestamps, so equal arrays give equal bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, arr in arrays.items():
            data = io.BytesIO()
            np.lib.format.write_array(data, np.asarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data.getvalue())
    path.write_bytes(buf.getvalue())


def accuracy(pred: np.ndarray, y: np.ndarray) -> float:
    return round(float(np.mean(pred == y)), 4)


def train_one(fmt: str, max_train: int) -> dict:
    from sklearn.metrics import roc_auc_score

    from emoethics.ethics.heads import EthicsHead, texts_needed
    from emoethics.evals.ethics_baselines import keyword_predict, majority_label
    from emoethics.evals.ethics_data import load_ethics, split_key, split_of

    train_file, test_file, kinds = PLAN[fmt]
    items = load_ethics(DATA / train_file, fmt)
    if test_file is None:
        pool = [it for it in items if split_of(split_key(it)) == "train"]
        held = [it for it in items if split_of(split_key(it)) == "dev"]
        reported = f"{train_file} (split_of dev part)"
    else:
        pool, held = items, load_ethics(DATA / test_file, fmt)
        reported = test_file
    if max_train and len(pool) > max_train:  # deterministic subsample, in file order
        keep = sorted(np.random.default_rng(0).choice(len(pool), max_train, replace=False))
        pool = [pool[i] for i in keep]
    sel = np.array([split_of("select:" + split_key(it)) == "dev" for it in pool])
    texts = [t for kind in kinds for ts in texts_needed(kind, pool + held).values() for t in ts]
    vecs = embed_cached(fmt, texts)
    y_pool = np.array([it.label for it in pool])
    y_held = np.array([it.label for it in held])

    start = time.perf_counter()
    table: dict[str, dict[str, float]] = {}
    best = (-1.0, "", 0.0)
    for kind in kinds:
        x = build(kind, pool, vecs)
        table[kind] = {}
        for C in C_GRID:
            scaler, clf = fit(x[~sel], y_pool[~sel], C)
            acc = accuracy(clf.predict(scaler.transform(x[sel])), y_pool[sel])
            table[kind][str(C)] = acc
            if acc > best[0]:
                best = (acc, kind, C)
        log(f"  {fmt} {kind}: selection accuracy by C {table[kind]}")
    _, kind, C = best
    scaler, clf = fit(build(kind, pool, vecs), y_pool, C)
    fit_s = time.perf_counter() - start

    head = EthicsHead(fmt, kind, clf.coef_[0], float(clf.intercept_[0]), scaler.mean_, scaler.scale_)
    p = head.proba_from_features(build(kind, held, vecs))
    majority = majority_label(pool)
    keyword = np.array([keyword_predict(it) for it in held])
    out = HEADS / f"{fmt}.npz"
    save_npz(out, {"kind": np.array(kind), "coef": head.coef, "intercept": np.float32(head.intercept),
                   "mean": head.mean, "scale": head.scale, "C": np.float32(C)})
    files = sorted({train_file} | ({test_file} if test_file else set()))
    result = {
        "file": out.name, "sha256": sha256(out), "bytes": out.stat().st_size, "id": head.id,
        "features": kind, "dim": int(head.coef.shape[0]), "C": C,
        "data": {f: sha256(DATA / f) for f in files},
        "train_size": len(pool), "selection_size": int(sel.sum()),
        "reported_on": reported, "dev_size": len(held),
        "dev_positive_rate": round(float(y_held.mean()), 4),
        "dev_accuracy": accuracy((p >= 0.5).astype(int), y_held),
        "dev_roc_auc": round(float(roc_auc_score(y_held, p)), 4),
        "majority_label": majority, "majority_accuracy": accuracy(np.full(len(held), majority), y_held),
        "keyword_accuracy": accuracy(keyword, y_held),
        "selection_accuracy": table,
    }
    log(f"{fmt}: {kind} C={C} dev accuracy {result['dev_accuracy']} (majority {result['majority_accuracy']}, "
        f"keyword {result['keyword_accuracy']}) on {len(held)} items; fitting took {fit_s:.0f}s")
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--formats", nargs="+", default=list(PLAN), choices=list(PLAN), help="heads to (re)build")
    ap.add_argument("--max-train", type=int, default=0,
                    help="subsample each training set to at most this many items (0: all)")
    args = ap.parse_args()

    import sklearn

    start = time.perf_counter()
    HEADS.mkdir(parents=True, exist_ok=True)
    manifest_path = HEADS / "manifest.json"
    heads = {}
    if manifest_path.is_file() and set(args.formats) != set(PLAN):
        heads = json.loads(manifest_path.read_text()).get("heads", {})
    for fmt in args.formats:
        heads[fmt] = train_one(fmt, args.max_train)
    command = "python training/train_ethics.py"
    if set(args.formats) != set(PLAN):
        command += " --formats " + " ".join(args.formats)
    if args.max_train:
        command += f" --max-train {args.max_train}"
    manifest = {
        "trained": datetime.date.today().isoformat(),
        "command": command,
        "data_root": "../shared/data (relative to the project root)",
        "encoder": "all-MiniLM-L6-v2 ONNX int8, mean-pooled, L2-normalised (384)",
        "head": "standardise (mean, scale) + logistic regression; P(label 1) = sigmoid(((x-mean)/scale)·coef + b)",
        "selection": "features and C by accuracy on split_of('select:' + key) == 'dev' inside the training "
                     "items; then refitted on all training items",
        "c_grid": list(C_GRID),
        "heads": {f: heads[f] for f in PLAN if f in heads},
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "scikit-learn": sklearn.__version__},
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    summary = {f: {k: h[k] for k in ("features", "C", "dev_size", "dev_accuracy", "dev_roc_auc",
                                     "majority_accuracy", "keyword_accuracy")} for f, h in manifest["heads"].items()}
    print(json.dumps(summary, indent=2))
    log(f"done in {time.perf_counter() - start:.0f}s")


if __name__ == "__main__":
    main()
