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

``--encoder multilingual`` trains the head the judge reads texts in other languages with, on
multilingual-e5-small's embeddings (``emoethics.encoders.e5``), and writes ``conduct-e5.npz``
and ``conduct-e5-manifest.json``. Its data are the same (Davidson's offensive tweets and Stormfront's
harmless sentences thinned to a third, to keep the encoding time in bounds) plus:

- the multilingual contrast set of ``training/make_multilingual_conduct_set.py`` (weight 6: its rows are
  few; its dev templates are kept out until the dev figures are taken; ``--loko`` leaves one language
  out at a time instead of one kind);
- MLMA French and Arabic (``fr_dataset.csv``, ``ar_dataset.csv``), split and labelled as MLMA English;
- Korean HateSpeech ``train.tsv`` (train) and ``dev.tsv`` (split into dev and test by hash): hate ->
  identity_attack, offensive -> insult (weight 0.5).

Its thresholds are chosen on the harmless dev texts other than MLMA's (few, and often hostile).

    python training/make_conduct_set.py && python training/train_conduct.py [--loko]
    python training/make_multilingual_conduct_set.py && python training/train_conduct.py --encoder multilingual [--loko]
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
MULTILINGUAL = ROOT / "training" / "data" / "conduct_contrast_multilingual.jsonl"
CACHE = ROOT / "training" / ".cache"
SEED = 23
#: Each contrast row counts three times: without it the shared sets (52k rows, mostly long posts)
#: swamp the short contrast sentences, and left-out kinds fare worse (pronoun reference 0.65 against
#: 0.93, negated positive statements 0.14 against 0.74, counter-speech by reference 0.87 against 0.99).
CONTRAST_WEIGHT = 3.0
#: The multilingual contrast set's weight (its rows are few; 3 gave lower dev figures on the social-media
#: sets, Davidson, MLMA and Korean, and the same on the templates) and the multilingual network's epochs.
MULTILINGUAL_WEIGHT, MULTILINGUAL_EPOCHS = 6.0, 150
IDX = {c: i for i, c in enumerate(CATEGORIES)}


def split_of(key: str) -> str:
    """``test`` for about 1 in 5 keys, ``dev`` for 1 in 10, else ``train`` (crc32 of the key)."""
    h = zlib.crc32(key.encode("utf-8")) % 10
    return "test" if h < 2 else "dev" if h == 2 else "train"


def row(text: str, cats: list[str], source: str, split: str, weight: float = 1.0, kind: str = "") -> dict:
    return {"text": text, "cats": cats, "source": source, "split": split, "weight": weight, "kind": kind}


def load_rows(multilingual: bool = False) -> list[dict]:
    rows = []
    for line in CONTRAST.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        cats = [r["category"]] if r["label"] else []
        rows.append(row(r["text"], cats, "contrast", "train", CONTRAST_WEIGHT, r["kind"]) | {"language": "en"})
    if multilingual:
        for line in MULTILINGUAL.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            cats = [r["category"]] if r["label"] else []
            rows.append(
                row(r["text"], cats, "contrast-ml", r["split"], MULTILINGUAL_WEIGHT, r["kind"])
                | {"language": r["language"]}
            )
    thin = random.Random(SEED)
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
            if multilingual and c == "1":  # thinned, not weighted
                if thin.random() >= 0.3:
                    continue
                w = 1.0
            rows.append(row(r["tweet"], cats, "davidson", split_of(r["tweet"]), w))
    with (DATA / "stormfront_hate" / "sentences.csv").open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            if r["label"] in ("hate", "noHate"):
                if multilingual and r["label"] == "noHate" and thin.random() >= 1 / 3:
                    continue
                cats = ["identity_attack"] if r["label"] == "hate" else []
                rows.append(row(r["text"], cats, "stormfront", split_of(r["file_id"].split("_")[0])))
    with (DATA / "mlma_hate" / "en_dataset_with_stop_words.csv").open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            s = r["sentiment"].split("_")
            cats = [] if s == ["normal"] else ["identity_attack"] if "hateful" in s else ["insult"]
            rows.append(row(r["tweet"], cats, "mlma-en", split_of(r["tweet"])))
    if multilingual:
        for lang in ("fr", "ar"):
            with (DATA / "mlma_hate" / f"{lang}_dataset.csv").open(encoding="utf-8", newline="") as f:
                for r in csv.DictReader(f):
                    s = r["sentiment"].split("_")
                    cats = [] if s == ["normal"] else ["identity_attack"] if "hateful" in s else ["insult"]
                    rows.append(row(r["tweet"], cats, f"mlma-{lang}", split_of(r["tweet"])))
        korean = {"hate": (["identity_attack"], 1.0), "offensive": (["insult"], 0.5), "none": ([], 1.0)}
        for name in ("train", "dev"):
            with (DATA / "korean_hate_speech" / f"{name}.tsv").open(encoding="utf-8", newline="") as f:
                for r in csv.DictReader(f, delimiter="\t"):
                    cats, w = korean[r["hate"]]
                    split = "train" if name == "train" else "test" if split_of(r["comments"]) != "train" else "dev"
                    rows.append(row(r["comments"], cats, "korean", split, w))
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


def embeddings(texts: list[str], encoder: str = "moral") -> np.ndarray:
    """``encoder``'s embeddings of the normalised texts; each text's vector is cached (keyed by a
    digest of the normalised text, in a file per encoder), so only new texts are encoded."""
    from emoethics.encoders.e5 import MODEL_SHA256
    from emoethics.ethics.heads import HEADS_DIR, MORAL_ENCODER_FILE

    if encoder == "multilingual":
        enc = "e5-" + MODEL_SHA256[:12]
    else:
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
        for i in range(0, len(todo), 4000):  # saved as it goes: a long run can be resumed
            chunk = todo[i : i + 4000]
            cached.update(zip(chunk, embed([text_of[k] for k in chunk], encoder), strict=True))
            CACHE.mkdir(parents=True, exist_ok=True)
            np.savez(path, keys=np.array(list(cached)), vecs=np.stack(list(cached.values())))
            print(f"  {min(i + 4000, len(todo))}/{len(todo)}", file=sys.stderr)
    return np.stack([cached[k] for k in keys])


def targets(rows: list[dict]) -> np.ndarray:
    y = np.zeros((len(rows), len(CATEGORIES)), dtype=np.int64)
    for i, r in enumerate(rows):
        for c in r["cats"]:
            y[i, IDX[c]] = 1
    return y


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, seed: int = SEED, epochs: int = 60):
    """A network on ``x`` (weights by repetition: scikit-learn's MLP takes no sample weights), at most
    ``epochs`` passes (early stopping after 6 without progress, 12 past 60 epochs)."""
    from sklearn.neural_network import MLPClassifier

    rng = np.random.default_rng(seed)
    reps = np.floor(w).astype(int)  # weight 3: three copies; weight 0.3: kept with probability 0.3
    reps += rng.random(len(w)) < (w - reps)
    keep = np.repeat(np.arange(len(w)), reps)
    model = MLPClassifier(
        hidden_layer_sizes=(256,), alpha=1e-3, batch_size=256, learning_rate_init=1e-3, max_iter=epochs,
        early_stopping=True, validation_fraction=0.1, n_iter_no_change=6 if epochs <= 60 else 12, random_state=seed,
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
    ap.add_argument(
        "--encoder", choices=("moral", "multilingual"), default="moral", help="the embeddings the head reads"
    )
    args = ap.parse_args()
    start = time.time()
    multilingual = args.encoder == "multilingual"
    head_name = "conduct-e5" if multilingual else "conduct"
    rows = load_rows(multilingual)
    x = embeddings([r["text"] for r in rows], args.encoder)
    y = targets(rows)
    w = np.array([r["weight"] for r in rows])
    split = np.array([r["split"] for r in rows])
    source = np.array([r["source"] for r in rows])
    tr, dev, test = split == "train", split == "dev", split == "test"
    print(f"{len(rows)} rows: train {tr.sum()}, dev {dev.sum()}, test {test.sum()}", file=sys.stderr)
    epochs = MULTILINGUAL_EPOCHS if multilingual else 60
    model = fit(x[tr], y[tr], w[tr], epochs=epochs)
    p_dev = harmful(model, x[dev])
    harmless = p_dev[y[dev].max(axis=1) == 0]
    if multilingual:  # MLMA's "normal" tweets are few and often hostile: they would set the thresholds
        harmless = p_dev[(y[dev].max(axis=1) == 0) & ~np.char.startswith(source[dev].astype(str), "mlma")]
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
    langs = np.array([r.get("language", "") for r in rows])
    if multilingual:  # the multilingual templates kept for dev, per language
        report["dev_by_language"] = {}
        p = harmful(model, x[dev])
        for lg in sorted(set(langs[source == "contrast-ml"])):
            m = (langs[dev] == lg) & (source[dev] == "contrast-ml")
            yy = y[dev][m].max(axis=1)
            right = np.where(yy == 1, p[m] >= review, p[m] < review)  # flagged if harmful, allowed if not
            kinds = np.array([r["kind"] for r in rows])[dev][m]
            report["dev_by_language"][lg] = {
                "n": int(m.sum()),
                "harmful_flagged": round(float((p[m][yy == 1] >= review).mean()), 3),
                "harmless_allowed": round(float((p[m][yy == 0] < review).mean()), 3),
                "right_by_kind": {k: round(float(right[kinds == k].mean()), 3) for k in sorted(set(kinds))},
            }
            print(f"  dev {lg}: {report['dev_by_language'][lg]}", file=sys.stderr)
    if args.loko and multilingual:
        report["leave_one_language_out"] = {}
        for lg in sorted(set(langs[source == "contrast-ml"])):
            held = (langs == lg) & (source == "contrast-ml")
            m = fit(x[tr & ~held], y[tr & ~held], w[tr & ~held], epochs=epochs)
            p = harmful(m, x[held])
            yy = y[held].max(axis=1)
            report["leave_one_language_out"][lg] = {
                "n": int(held.sum()),
                "harmful_flagged": round(float((p[yy == 1] >= review).mean()), 3),
                "harmless_allowed": round(float((p[yy == 0] < review).mean()), 3),
            }
            print(f"  left out {lg}: {report['leave_one_language_out'][lg]}", file=sys.stderr)
    elif args.loko:
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
    final = fit(x[tr | dev], y[tr | dev], w[tr | dev], epochs=epochs)
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez(
        args.out / f"{head_name}.npz",
        w1=final.coefs_[0].astype(np.float32),
        b1=final.intercepts_[0].astype(np.float32),
        w2=final.coefs_[1].astype(np.float32),
        b2=final.intercepts_[1].astype(np.float32),
        categories=np.array(CATEGORIES),
        threshold=np.array(threshold),
        review_threshold=np.array(review),
        clear_threshold=np.array(clear),
        encoder=np.array(args.encoder),
    )
    extra = ["mlma_hate/fr_dataset.csv", "mlma_hate/ar_dataset.csv", "korean_hate_speech/train.tsv",
             "korean_hate_speech/dev.tsv"] if multilingual else []  # fmt: skip
    files = [CONTRAST] + ([MULTILINGUAL] if multilingual else []) + [DATA / p for p in extra] + [
        DATA / p
        for p in (
            "hatemoji_build/train.csv", "hatemoji_build/validation.csv", "hatemoji_build/test.csv",
            "davidson_hate_offensive/labeled_data.csv", "stormfront_hate/sentences.csv",
            "mlma_hate/en_dataset_with_stop_words.csv", "goemotions/train.tsv",
        )
    ]  # fmt: skip
    manifest = {
        "head": f"{head_name}.npz",
        "sha256": sha256(args.out / f"{head_name}.npz"),
        "built": datetime.date.today().isoformat(),
        "recipe": f"training/make_conduct_set.py + training/train_conduct.py --encoder {args.encoder} (MLP "
        f"384-256-6 on the {args.encoder} encoder's embeddings of normalised text; refitted on train + dev)",
        "data": {str(p.relative_to(p.parents[1])): sha256(p) for p in files},
        "categories": list(CATEGORIES),
        "seconds": round(time.time() - start, 1),
        **report,
    }
    (args.out / f"{head_name}-manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
