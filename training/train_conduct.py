"""Train the conduct head: what a text does to people, from the moral encoder's embeddings (``make train``).

Data (read from ``../shared/data/`` and the contrast set of ``training/make_conduct_set.py``):

- the contrast set ``training/data/conduct_contrast.jsonl`` (every row, weight 3; ``--loko`` leaves one
  kind out at a time and reports each left-out kind);
- HatemojiBuild ``train.csv`` (validation and test for dev and test): ``type`` derogation, animosity,
  dehumanizing language -> identity_attack; threatening language -> threat (and identity_attack);
- Davidson et al. ``labeled_data.csv``, split by a hash of the tweet (1 in 5 to test): hate speech ->
  identity_attack; offensive language -> insult (weight 0.3: much of it is profanity aimed at nobody);
- Stormfront ``sentences.csv``, split by a hash of the comment id: hate -> identity_attack;
- MLMA English ``en_dataset_with_stop_words.csv``, split by a hash of the tweet: ``normal`` alone -> none,
  ``hateful`` -> identity_attack, else -> insult;
- GoEmotions ``train.tsv`` texts labelled sadness, grief, fear or nervousness (1,500, seeded): none
  (distress addresses nobody).

Features: the moral encoder's embedding (``emoethics.ethics.heads``) of the text after
``emoethics.sensors.normalise.normalise``, the vectors the judge already computes for the moral head.
Head: a one-hidden-layer network (scikit-learn ``MLPClassifier``, training only; inference is numpy),
one sigmoid output per category of ``emoethics.ethics.conduct.CATEGORIES``. Three thresholds on
P(harmful) (the largest category output) are chosen on the harmless dev texts, each the lowest in steps
of 0.05 below which a share of them score: 0.95 for ``threshold`` (the judge acts), 0.90 for
``review_threshold`` (a person reviews) and 0.60 for ``clear_threshold`` (confidently harmless).

Writes ``src/emoethics/ethics/heads/conduct.npz`` and ``conduct-manifest.json`` (data files with their
sha256, recipe, dev and test metrics). Embeddings are cached in ``training/.cache``.

    python training/make_conduct_set.py && python training/train_conduct.py [--loko]
"""

from __future__ import annotations

import argparse
import csv
import datetime
import hashlib
import json
import random
import sys
import time
import zlib
from pathlib import Path

import numpy as np

from emoethics.ethics.conduct import CATEGORIES
from emoethics.ethics.heads import embed
from emoethics.sensors.normalise import normalise

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
HEADS = ROOT / "src" / "emoethics" / "ethics" / "heads"
CONTRAST = ROOT / "training" / "data" / "conduct_contrast.jsonl"
CACHE = ROOT / "training" / ".cache"
SEED = 23
#: Each contrast row counts three times: without it the shared sets (52k rows, mostly long posts)
#: swamp the short contrast sentences, and left-out kinds fare worse (pronoun reference 0.65 against
#: 0.93, negated positive statements 0.14 against 0.74, counter-speech by reference 0.87 against 0.99).
CONTRAST_WEIGHT = 3.0
IDX = {c: i for i, c in enumerate(CATEGORIES)}


def split_of(key: str) -> str:
    """``test`` for about 1 in 5 keys, ``dev`` for 1 in 10, else ``train`` (crc32 of the key)."""
    h = zlib.crc32(key.encode("utf-8")) % 10
    return "test" if h < 2 else "dev" if h == 2 else "train"


def row(text: str, cats: list[str], source: str, split: str, weight: float = 1.0, kind: str = "") -> dict:
    return {"text": text, "cats": cats, "source": source, "split": split, "weight": weight, "kind": kind}


def load_rows() -> list[dict]:
    rows = []
    for line in CONTRAST.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        cats = [r["category"]] if r["label"] else []
        rows.append(row(r["text"], cats, "contrast", "train", CONTRAST_WEIGHT, r["kind"]))
    hatemoji = {
        "derogation": ["identity_attack"],
        "animosity": ["identity_attack"],
        "dehumanizinglanguage": ["identity_attack"],
        "threateninglanguage": ["threat", "identity_attack"],
    }
    for name, split in (("train", "train"), ("validation", "dev"), ("test", "test")):
        with (DATA / "hatemoji_build" / f"{name}.csv").open(encoding="utf-8", newline="") as f:
            for r in csv.DictReader(f):
                cats = hatemoji.get(r["type"], ["identity_attack"]) if r["label_gold"] == "1" else []
                rows.append(row(r["text"], cats, "hatemoji", split))
    with (DATA / "davidson_hate_offensive" / "labeled_data.csv").open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            c = r["class"]
            cats, w = (["identity_attack"], 1.0) if c == "0" else (["insult"], 0.3) if c == "1" else ([], 1.0)
            rows.append(row(r["tweet"], cats, "davidson", split_of(r["tweet"]), w))
    with (DATA / "stormfront_hate" / "sentences.csv").open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            if r["label"] in ("hate", "noHate"):
                cats = ["identity_attack"] if r["label"] == "hate" else []
                rows.append(row(r["text"], cats, "stormfront", split_of(r["file_id"].split("_")[0])))
    with (DATA / "mlma_hate" / "en_dataset_with_stop_words.csv").open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            s = r["sentiment"].split("_")
            cats = [] if s == ["normal"] else ["identity_attack"] if "hateful" in s else ["insult"]
            rows.append(row(r["tweet"], cats, "mlma-en", split_of(r["tweet"])))
    labels = (DATA / "goemotions" / "labels.txt").read_text(encoding="utf-8").split()
    sad = {labels.index(x) for x in ("sadness", "grief", "fear", "nervousness")}
    distress = []
    for line in (DATA / "goemotions" / "train.tsv").read_text(encoding="utf-8").splitlines():
        text, ids, _ = line.split("\t")
        if {int(i) for i in ids.split(",")} & sad:
            distress.append(text)
    for t in random.Random(SEED).sample(distress, 1500):
        rows.append(row(t, [], "goemotions-distress", "train"))
    return rows


def embeddings(texts: list[str]) -> np.ndarray:
    """Moral-encoder embeddings of the normalised texts; each text's vector is cached (keyed by a
    digest of the normalised text, in a file per encoder), so only new texts are encoded."""
    from emoethics.ethics.heads import HEADS_DIR, MORAL_ENCODER_FILE

    enc = hashlib.sha256((HEADS_DIR / MORAL_ENCODER_FILE).read_bytes()).hexdigest()[:12]
    path = CACHE / f"conduct-{enc}.npz"
    cached: dict[str, np.ndarray] = {}
    if path.is_file():
        with np.load(path) as z:
            cached = dict(zip(z["keys"].tolist(), z["vecs"], strict=True))
    normalised = [normalise(t)[0] for t in texts]
    keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in normalised]
    todo = list(dict.fromkeys(k for k in keys if k not in cached))
    if todo:
        text_of = dict(zip(keys, normalised, strict=True))
        print(f"encoding {len(todo)} new texts", file=sys.stderr)
        vecs = embed([text_of[k] for k in todo], "moral")
        cached.update(zip(todo, vecs, strict=True))
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(path, keys=np.array(list(cached)), vecs=np.stack(list(cached.values())))
    return np.stack([cached[k] for k in keys])


def targets(rows: list[dict]) -> np.ndarray:
    y = np.zeros((len(rows), len(CATEGORIES)), dtype=np.int64)
    for i, r in enumerate(rows):
        for c in r["cats"]:
            y[i, IDX[c]] = 1
    return y


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, seed: int = SEED):
    """A network on ``x`` (weights by repetition: scikit-learn's MLP takes no sample weights)."""
    from sklearn.neural_network import MLPClassifier

    rng = np.random.default_rng(seed)
    reps = np.floor(w).astype(int)  # weight 3: three copies; weight 0.3: kept with probability 0.3
    reps += rng.random(len(w)) < (w - reps)
    keep = np.repeat(np.arange(len(w)), reps)
    model = MLPClassifier(
        hidden_layer_sizes=(256,), alpha=1e-3, batch_size=256, learning_rate_init=1e-3, max_iter=60,
        early_stopping=True, validation_fraction=0.1, n_iter_no_change=6, random_state=seed,
    )  # fmt: skip
    model.fit(x[keep], y[keep])
    return model


def harmful(model, x: np.ndarray) -> np.ndarray:
    return model.predict_proba(x).max(axis=1)


def pick(harmless: np.ndarray, share: float) -> float:
    """The lowest threshold, in steps of 0.05, below which at least ``share`` of ``harmless`` score."""
    t = next((t for t in np.arange(0.05, 1.0, 0.05) if (harmless < t).mean() >= share), 0.95)
    return round(float(t), 2)


def metrics(p: np.ndarray, y: np.ndarray, threshold: float) -> dict:
    from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

    pred = (p >= threshold).astype(int)
    out = {"n": int(len(y)), "positives": int(y.sum())}
    if 0 < y.sum() < len(y):
        out |= {
            "precision": round(float(precision_score(y, pred, zero_division=0)), 3),
            "recall": round(float(recall_score(y, pred)), 3),
            "f1": round(float(f1_score(y, pred)), 3),
            "roc_auc": round(float(roc_auc_score(y, p)), 3),
        }
    else:
        out["share_flagged"] = round(float(pred.mean()), 3)
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--loko", action="store_true", help="also leave each contrast kind out in turn and report it")
    ap.add_argument("--out", type=Path, default=HEADS, help="folder for conduct.npz and its manifest")
    args = ap.parse_args()
    start = time.time()
    rows = load_rows()
    x = embeddings([r["text"] for r in rows])
    y = targets(rows)
    w = np.array([r["weight"] for r in rows])
    split = np.array([r["split"] for r in rows])
    source = np.array([r["source"] for r in rows])
    tr, dev, test = split == "train", split == "dev", split == "test"
    print(f"{len(rows)} rows: train {tr.sum()}, dev {dev.sum()}, test {test.sum()}", file=sys.stderr)
    model = fit(x[tr], y[tr], w[tr])
    p_dev = harmful(model, x[dev])
    harmless = p_dev[y[dev].max(axis=1) == 0]
    harmful_dev = p_dev[y[dev].max(axis=1) == 1]
    threshold = pick(harmless, 0.95)
    review = pick(harmless, 0.90)
    clear = pick(harmless, 0.60)
    report: dict = {
        "threshold": threshold,
        "review_threshold": review,
        "clear_threshold": clear,
        "dev_harmful_below_clear": round(float((harmful_dev < clear).mean()), 3),
        "dev": {},
        "test": {},
    }
    for name, mask in (("dev", dev), ("test", test)):
        p = harmful(model, x[mask])
        yy = y[mask].max(axis=1)
        for s in sorted(set(source[mask])):
            m = source[mask] == s
            report[name][s] = metrics(p[m], yy[m], threshold) | {
                "flagged_at_review": round(float((p[m][yy[m] == 1] >= review).mean()), 3) if yy[m].any() else None,
                "allowed_at_review": round(float((p[m][yy[m] == 0] < review).mean()), 3)
                if (yy[m] == 0).any()
                else None,
            }
    if args.loko:
        report["leave_one_kind_out"] = {}
        kinds = np.array([r["kind"] for r in rows])
        for k in sorted(set(kinds[source == "contrast"])):
            held = kinds == k
            m = fit(x[tr & ~held], y[tr & ~held], w[tr & ~held])
            p = harmful(m, x[held])
            yy = y[held].max(axis=1)
            share = float((p >= review).mean())  # flagged: reviewed or acted on
            report["leave_one_kind_out"][k] = {
                "n": int(held.sum()),
                "label": "harmful" if yy.mean() > 0.5 else "harmless",
                "right": round(share if yy.mean() > 0.5 else 1 - share, 3),
            }
            print(f"  left out {k}: {report['leave_one_kind_out'][k]}", file=sys.stderr)
    # refit on train + dev for the shipped head (the threshold stays the dev-chosen one)
    final = fit(x[tr | dev], y[tr | dev], w[tr | dev])
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez(
        args.out / "conduct.npz",
        w1=final.coefs_[0].astype(np.float32),
        b1=final.intercepts_[0].astype(np.float32),
        w2=final.coefs_[1].astype(np.float32),
        b2=final.intercepts_[1].astype(np.float32),
        categories=np.array(CATEGORIES),
        threshold=np.array(threshold),
        review_threshold=np.array(review),
        clear_threshold=np.array(clear),
        encoder=np.array("moral"),
    )
    files = [CONTRAST] + [
        DATA / p
        for p in (
            "hatemoji_build/train.csv", "hatemoji_build/validation.csv", "hatemoji_build/test.csv",
            "davidson_hate_offensive/labeled_data.csv", "stormfront_hate/sentences.csv",
            "mlma_hate/en_dataset_with_stop_words.csv", "goemotions/train.tsv",
        )
    ]  # fmt: skip
    manifest = {
        "head": "conduct.npz",
        "sha256": sha256(args.out / "conduct.npz"),
        "built": datetime.date.today().isoformat(),
        "recipe": "training/make_conduct_set.py + training/train_conduct.py (MLP 384-256-6 on the moral "
        "encoder's embeddings of normalised text; refitted on train + dev)",
        "data": {str(p.relative_to(p.parents[1])): sha256(p) for p in files},
        "categories": list(CATEGORIES),
        "seconds": round(time.time() - start, 1),
        **report,
    }
    (args.out / "conduct-manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
