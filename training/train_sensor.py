"""Train the emotion sensor's heads from the shared data sets (``make train``).

Data (all read from ``../shared/data/``; nothing is copied into the repository):

- XED ``en-annotated.tsv`` (8 Plutchik labels) and ``neu_en.txt`` (neutral): split by a hash of the
  sentence, 1 in 10 to dev;
- GoEmotions ``train.tsv`` (train) and ``dev.tsv`` (dev), folded onto Plutchik's eight with
  ``emoethics.evals.datasets.GOEMOTIONS_TO_PLUTCHIK``;
- EmoBank ``emobank.csv``: valence and arousal, its own train/dev/test split.

Features: the emotion-tuned MiniLM sentence embedding (``training/finetune_encoder.py`` runs
first) + VADER scores (``emoethics.sensors.emotion_sensor.features``).
Heads: one logistic regression per emotion; ridge regression for valence and arousal. The decision
rule (relative-to-strongest, floor) is chosen on the two dev sets together, maximising the mean of
their macro-F1, whole and on their emotional texts
(:func:`emoethics.sensors.calibration.tune_relative_rule`), so it does not favour one domain. Writes
``src/emoethics/sensors/heads/plutchik-minilm-vader.npz`` and ``manifest.json`` beside it.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import hashlib
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
HEADS = ROOT / "src" / "emoethics" / "sensors" / "heads"
CACHE = ROOT / "training" / ".cache"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def is_dev(text: str) -> bool:
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16) % 10 == 0


def load_sets() -> dict[str, list]:
    from emoethics.evals.datasets import load_examples

    xed = load_examples(DATA / "xed" / "en-annotated.tsv", "xed") + \
        load_examples(DATA / "xed" / "neu_en.txt", "xed")
    go_train = load_examples(DATA / "goemotions" / "train.tsv", "goemotions")
    go_dev = load_examples(DATA / "goemotions" / "dev.tsv", "goemotions")
    return {
        "xed_train": [e for e in xed if not is_dev(e.text)],
        "xed_dev": [e for e in xed if is_dev(e.text)],
        "go_train": go_train,
        "go_dev": go_dev,
    }


def load_emobank() -> dict[str, tuple[list[str], np.ndarray]]:
    out: dict[str, tuple[list[str], list]] = {}
    with (DATA / "emobank" / "emobank.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            texts, ys = out.setdefault(row["split"], ([], []))
            if row["text"].strip():
                texts.append(row["text"].strip())
                ys.append([float(row["V"]), float(row["A"])])
    return {k: (t, np.array(y, dtype=np.float32)) for k, (t, y) in out.items()}


def featurize(name: str, texts: list[str], encoder: Path | None = None) -> np.ndarray:
    """Features for ``texts``, cached on disk by content hash (training/.cache, not committed);
    ``encoder``: another ONNX encoder file than the shipped one."""
    from emoethics.sensors import emoji_words
    from emoethics.sensors.embedding import EMOTION_ENCODER, Encoder
    from emoethics.sensors.emotion_sensor import features

    digest = sha256(encoder or EMOTION_ENCODER)  # the cache is only valid for the same encoder
    key = hashlib.sha256(("\n".join(texts) + digest + emoji_words.VERSION).encode("utf-8")).hexdigest()[:16]
    path = CACHE / f"{name}-{key}.npy"
    if path.is_file():
        return np.load(path)
    enc = Encoder(encoder, digest) if encoder else None
    start = time.perf_counter()
    out = []
    step = 2048
    for i in range(0, len(texts), step):
        out.append(features(texts[i:i + step], enc))
        print(f"  {name}: {min(i + step, len(texts))}/{len(texts)}", file=sys.stderr, flush=True)
    x = np.vstack(out)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, x)
    print(f"  {name}: {len(texts)} texts in {time.perf_counter() - start:.0f}s", file=sys.stderr)
    return x


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--C", type=float, default=1.0, help="inverse regularisation of the heads")
    args = ap.parse_args()

    from sklearn.linear_model import LogisticRegression, Ridge

    from emoethics.evals.metrics import multilabel_scores, pearson
    from emoethics.sensors.calibration import tune_relative_rule
    from emoethics.sensors.emotion_sensor import EMOTIONS, DecisionRule, label_sets

    sets = load_sets()
    feats = {k: featurize(k, [e.text for e in v]) for k, v in sets.items()}
    ys = {k: np.array([[e in ex.labels for e in EMOTIONS] for ex in v], dtype=np.int8)
          for k, v in sets.items()}
    x_train = np.vstack([feats["xed_train"], feats["go_train"]])
    y_train = np.vstack([ys["xed_train"], ys["go_train"]])

    W = np.zeros((x_train.shape[1], len(EMOTIONS)), dtype=np.float32)
    b = np.zeros(len(EMOTIONS), dtype=np.float32)
    for j, emo in enumerate(EMOTIONS):
        clf = LogisticRegression(C=args.C, max_iter=2000)
        clf.fit(x_train, y_train[:, j])
        W[:, j], b[j] = clf.coef_[0], clf.intercept_[0]
        print(f"head {emo}: {int(y_train[:, j].sum())} positives", file=sys.stderr)

    def probs(x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(x @ W + b)))

    def scores(rule: DecisionRule, name: str) -> dict:
        pred = rule.labels(probs(feats[name]))
        gold = label_sets(ys[name])
        p = label_sets(pred)
        return multilabel_scores(gold, p, EMOTIONS)

    def probs_of(name: str) -> np.ndarray:
        return probs(feats[name])

    rule = tune_relative_rule([(probs_of("xed_dev"), [e.labels for e in sets["xed_dev"]]),
                               (probs_of("go_dev"), [e.labels for e in sets["go_dev"]])])
    print(f"rule: {rule.model_dump(exclude_none=True)}", file=sys.stderr)

    eb = load_emobank()
    eb_x = {k: featurize(f"emobank_{k}", t) for k, (t, _) in eb.items()}
    ridge = Ridge(alpha=10.0).fit(eb_x["train"], eb["train"][1])
    va_W, va_b = ridge.coef_.T.astype(np.float32), ridge.intercept_.astype(np.float32)
    va_dev = eb_x["dev"] @ va_W + va_b

    metrics = {name: {k: v for k, v in scores(rule, name).items() if k != "per_label"}
               for name in ("xed_dev", "go_dev")}
    for name in ("xed_dev", "go_dev"):
        metrics[name]["per_label_f1"] = {e: v["f1"] for e, v in scores(rule, name)["per_label"].items()}
    metrics["emobank_dev"] = {"n": len(va_dev),
                              "valence_pearson": round(pearson(eb["dev"][1][:, 0], va_dev[:, 0]), 4),
                              "arousal_pearson": round(pearson(eb["dev"][1][:, 1], va_dev[:, 1]), 4)}

    HEADS.mkdir(parents=True, exist_ok=True)
    out = HEADS / "plutchik-minilm-vader.npz"
    np.savez_compressed(out, emotion_W=W, emotion_b=b, va_W=va_W, va_b=va_b,
                        rule=np.array(json.dumps(rule.model_dump(exclude_none=True))))
    import sklearn

    files = [DATA / "xed" / "en-annotated.tsv", DATA / "xed" / "neu_en.txt",
             DATA / "goemotions" / "train.tsv", DATA / "goemotions" / "dev.tsv",
             DATA / "goemotions" / "labels.txt", DATA / "emobank" / "emobank.csv"]
    manifest = {
        "heads": out.name, "sha256": sha256(out),
        "trained": datetime.date.today().isoformat(),
        "command": f"python training/train_sensor.py --C {args.C}",
        "features": "all-MiniLM-L6-v2 fine-tuned on emotions (minilm-emotions-int8.onnx, see "
                    "encoder-manifest.json) mean-pooled (384) + VADER neg/neu/pos/compound (4)",
        "emotions": list(EMOTIONS), "rule": rule.model_dump(exclude_none=True),
        "data": {str(f.relative_to(DATA)): sha256(f) for f in files},
        "train_size": {"xed": len(sets["xed_train"]), "goemotions": len(sets["go_train"]),
                       "emobank": len(eb["train"][0])},
        "dev_metrics": metrics,
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "scikit-learn": sklearn.__version__},
    }
    (HEADS / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    main()
