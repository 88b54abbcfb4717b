"""Train the emotion sensor's heads from the shared data sets (``make train``).

Data (all read from ``../shared/data/``; nothing is copied into the repository):

- XED ``en-annotated.tsv`` (8 Plutchik labels) and ``neu_en.txt`` (neutral): split by a hash of the
  sentence, 1 in 10 to dev;
- GoEmotions ``train.tsv`` (train) and ``dev.tsv`` (dev), folded onto Plutchik's eight with
  ``emoethics.evals.datasets.GOEMOTIONS_TO_PLUTCHIK``;
- GoodNewsEveryone ``gne-release-v1.0.tsv`` (news headlines; dominant and other emotions, folded
  with ``GNE_TO_PLUTCHIK``): split by a hash of the headline, 1 in 5 to dev;
- EmoBank ``emobank.csv``: valence and arousal, its own train/dev/test split;
- the graded intensity set ``training/data/graded_intensity.jsonl`` (built by
  ``training/make_intensity_set.py``): odd seeds are its dev half.

Features: the emotion-tuned MiniLM sentence embedding (``training/finetune_encoder.py`` runs
first) + VADER scores (``emoethics.sensors.emotion_sensor.features``).
Heads: one logistic regression per emotion on the three corpora (weighed by size,
``BALANCED``); ridge regression for valence and arousal; the intensity model
(:func:`fit_intensity`). The decision rule of family ``RULE_FAMILY`` is chosen on the three dev
sets together, maximising the mean of their macro-F1 on their emotional texts
(:func:`emoethics.sensors.calibration.tune_rule`); the family and the weighting were chosen by
the leave-one-corpus-out table of ``benchmarks/sensor.py``. Writes
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


def is_gne_dev(text: str) -> bool:
    """GoodNewsEveryone's dev split: 1 headline in 5 by hash (it has only 4,999)."""
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16) % 5 == 0


def load_sets() -> dict[str, list]:
    from emoethics.evals.datasets import load_examples

    xed = load_examples(DATA / "xed" / "en-annotated.tsv", "xed") + load_examples(DATA / "xed" / "neu_en.txt", "xed")
    go_train = load_examples(DATA / "goemotions" / "train.tsv", "goemotions")
    go_dev = load_examples(DATA / "goemotions" / "dev.tsv", "goemotions")
    gne = load_examples(DATA / "goodnewseveryone" / "gne-release-v1.0.tsv", "gne")
    return {
        "xed_train": [e for e in xed if not is_dev(e.text)],
        "xed_dev": [e for e in xed if is_dev(e.text)],
        "go_train": go_train,
        "go_dev": go_dev,
        "gne_train": [e for e in gne if not is_gne_dev(e.text)],
        "gne_dev": [e for e in gne if is_gne_dev(e.text)],
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


GRADED = ROOT / "training" / "data" / "graded_intensity.jsonl"
GRADED_WRITTEN = ROOT / "training" / "data" / "graded_written.jsonl"


def is_graded_dev(seed: int) -> bool:
    """The graded set's dev half: the odd seeds (a seed's rewrites stay together)."""
    return seed % 2 == 1


def load_graded() -> list[dict]:
    """The graded intensity set, one dict per text: the generated half
    (``training/make_intensity_set.py``, ``"source": "generated"``) then the written half
    (``training/make_written_intensity_set.py``)."""
    generated = [json.loads(line) for line in GRADED.read_text(encoding="utf-8").splitlines() if line]
    written = [json.loads(line) for line in GRADED_WRITTEN.read_text(encoding="utf-8").splitlines() if line]
    return [{**r, "source": "generated"} for r in generated] + written


def graded_pairs(rows: list[dict]) -> list[tuple[int, int, str]]:
    """(stronger row, weaker row, emotion): within one seed and spectrum, each level of a pole
    against the level below it on the same pole (the neutral seed is level 0 of both poles)."""
    by_key = {(r["seed"], r["spectrum"], r["pole"], r["rank"]): i for i, r in enumerate(rows)}
    pairs = []
    for (seed, spectrum, pole, rank), i in by_key.items():
        if rank == 0:
            continue
        below = by_key.get((seed, spectrum, pole if rank > 1 else "", rank - 1))
        if below is not None:
            pairs.append((i, below, pole))
    return pairs


def pole_pairs(rows: list[dict]) -> list[tuple[int, str, str]]:
    """(row, its pole, another emotion): a text written at a pole should read stronger on that
    emotion than on any other, so that intensity stays specific to the emotion it measures."""
    from emoethics.sensors.emotion_sensor import EMOTIONS

    return [(i, r["pole"], e) for i, r in enumerate(rows) if r["rank"] >= 1 for e in EMOTIONS if e != r["pole"]]


def pole_pair_inputs(inputs: np.ndarray, pairs: list[tuple[int, str, str]]) -> tuple[np.ndarray, np.ndarray]:
    """The intensity inputs of each :func:`pole_pairs` pair: the text on its pole, on the other."""
    from emoethics.sensors.emotion_sensor import EMOTIONS

    rows = [i for i, _, _ in pairs]
    poles = [EMOTIONS.index(p) for _, p, _ in pairs]
    others = [EMOTIONS.index(e) for _, _, e in pairs]
    return inputs[rows, poles], inputs[rows, others]


def pair_inputs(inputs: np.ndarray, pairs: list[tuple[int, int, str]]) -> tuple[np.ndarray, np.ndarray]:
    """The intensity inputs [pairs, 4] of the stronger and the weaker text of each pair, read on
    the pair's emotion (``inputs``: :meth:`IntensityModel.inputs` of the rows)."""
    from emoethics.sensors.emotion_sensor import EMOTIONS

    j = [EMOTIONS.index(e) for _, _, e in pairs]
    return inputs[[a for a, _, _ in pairs], j], inputs[[b for _, b, _ in pairs], j]


def pairwise_accuracy(score_hi: np.ndarray, score_lo: np.ndarray) -> float:
    """Share of pairs in the right order (ties count half)."""
    return float(np.mean((score_hi > score_lo) + 0.5 * (score_hi == score_lo)))


#: The intensity weights before the graded rewrites move them: the recipe z(logit) + sign *
#: z(valence), plus VADER's graded sentiment (its boosters and dampeners: "absolutely", "a
#: little") with the same weight; arousal starts at 0.
PRIOR_WEIGHTS = (1.0, 1.0, 0.0, 1.0, 1.0)
#: Bounds of the weights: none negative, and arousal held at 0: EmoBank's arousal regressor
#: reads "I'm a little annoyed" as more aroused than "I am absolutely furious", and with it the
#: learned intensity ranked EmoBank's valence worse (benchmarks/sensor.py, intensity).
WEIGHT_BOUNDS = [(0.0, None), (0.0, None), (0.0, 0.0), (0.0, None), (0.0, None)]


def fit_intensity(model, inputs: np.ndarray, rows: list[dict], prior_strength: float = 1.0, pole_weight: float = 1 / 7):
    """``model`` (an :class:`IntensityModel` with its z-score statistics) with weights learned
    as pairwise order on ``rows`` (graded texts; ``inputs`` are theirs): the logistic loss of
    each stronger-weaker pair's score difference (:func:`graded_pairs`), plus ``pole_weight`` x
    that of each text on its pole against another emotion (:func:`pole_pairs`; 1/7: the seven
    others weigh as one pair), plus ``prior_strength`` x the squared distance to
    :data:`PRIOR_WEIGHTS` (the prior holds where the set says little); weights stay >= 0.
    Then the knots: the median score of the neutral, mild, clear and extreme texts, read as 0,
    0.3, 0.6 and 1.0 (a sigmoid fitted by least squares put mild texts at 0.46, the clear level)."""
    from scipy.optimize import minimize

    from emoethics.sensors.emotion_sensor import EMOTIONS

    hi, lo = pair_inputs(inputs, graded_pairs(rows))
    d = hi - lo
    on, off = pole_pair_inputs(inputs, pole_pairs(rows))
    d_pole = on - off
    w0 = np.array(PRIOR_WEIGHTS)

    def objective(w: np.ndarray) -> float:
        order = np.logaddexp(0, -(d @ w)).sum() + pole_weight * np.logaddexp(0, -(d_pole @ w)).sum()
        return float(order + prior_strength * ((w - w0) ** 2).sum())

    w = minimize(objective, w0, method="L-BFGS-B", bounds=WEIGHT_BOUNDS).x
    # every row read on its pole's emotion (neutral seeds on both poles of their spectrum); the
    # knots: the median score of each rank, for intensities 0, 0.3, 0.6, 1.0
    raw: dict[int, list[float]] = {0: [], 1: [], 2: [], 3: []}
    for i, r in enumerate(rows):
        for e in [r["pole"]] if r["pole"] else r["spectrum"].split("-"):
            raw[r["rank"]].append(float(inputs[i, EMOTIONS.index(e)] @ w))
    knots = np.maximum.accumulate([float(np.median(raw[k])) for k in range(4)])  # kept increasing
    return model.model_copy(
        update={"weights": [round(float(x), 4) for x in w], "knots": [round(float(k), 4) for k in knots]}
    )


#: The cue words: at most this many words (the most frequent of the training texts), and a
#: word is a cue when its weight is at least CUE_THRESHOLD (logit units).
CUE_VOCAB, CUE_THRESHOLD = 40000, 0.5


def fit_cue_words(texts: list[str], logits: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The cue-word model (:class:`emoethics.sensors.emotion_sensor.CueWords`): a ridge regression
    from the words and pairs of neighbouring words a text contains (lower-cased, each counted
    once; pairs of two function words such as "what a" left out) to the sensor's own centred
    logits on it, over the ``CUE_VOCAB`` most frequent in ``texts``. Returns the vocabulary and
    its weights [words, 8]."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer
    from sklearn.linear_model import Ridge

    from emoethics.sensors.emotion_sensor import CueWords

    vec = CountVectorizer(
        lowercase=True,
        token_pattern=CueWords.WORD.pattern,
        ngram_range=(1, 2),
        binary=True,
        min_df=3,
        max_features=CUE_VOCAB,
    )
    bag = vec.fit_transform(texts)
    names = vec.get_feature_names_out()
    keep = [i for i, g in enumerate(names) if not (" " in g and set(g.split()) <= ENGLISH_STOP_WORDS)]
    bag, names = bag[:, keep], names[keep]
    target = logits - logits.mean(0)
    ridge = Ridge(alpha=3.0, fit_intercept=False, solver="sparse_cg").fit(bag, target)
    return list(names), ridge.coef_.T.astype(np.float16)


def featurize(name: str, texts: list[str], encoder: Path | None = None) -> np.ndarray:
    """Features for ``texts``, cached on disk by content hash (training/.cache, not committed);
    ``encoder``: another ONNX encoder file than the shipped one."""
    from emoethics.encoders.minilm import Encoder
    from emoethics.sensors import emoji_words
    from emoethics.sensors.embedding import EMOTION_ENCODER
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
        out.append(features(texts[i : i + step], enc))
        print(f"  {name}: {min(i + step, len(texts))}/{len(texts)}", file=sys.stderr, flush=True)
    x = np.vstack(out)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, x)
    print(f"  {name}: {len(texts)} texts in {time.perf_counter() - start:.0f}s", file=sys.stderr)
    return x


CORPORA = ("xed", "go", "gne")
#: The decision rule's family and tuning objective, chosen by the leave-one-corpus-out table of
#: benchmarks/sensor.py (see emoethics.sensors.calibration.tune_rule).
RULE_FAMILY, RULE_OBJECTIVE = "spread", "emotional"
#: Weigh the corpora equally in the heads' training (each corpus' rows add up to the same
#: weight) rather than by size: no better in that table, so by size.
BALANCED = False


def train_heads(
    x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None, C: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """One logistic regression per emotion: weights [features, 8] and biases [8]."""
    from sklearn.linear_model import LogisticRegression

    W = np.zeros((x.shape[1], y.shape[1]), dtype=np.float32)
    b = np.zeros(y.shape[1], dtype=np.float32)
    for j in range(y.shape[1]):
        clf = LogisticRegression(C=C, max_iter=2000).fit(x, y[:, j], sample_weight=weights)
        W[:, j], b[j] = clf.coef_[0], clf.intercept_[0]
    return W, b


def corpus_heads(
    feats: dict,
    ys: dict,
    corpora: tuple[str, ...] | list[str],
    C: float = 1.0,
    balanced: bool = BALANCED,
    extra: tuple[np.ndarray, np.ndarray, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Heads trained on the train splits of ``corpora`` (each weighing the same if ``balanced``),
    plus ``extra`` rows (features, labels, the weight of each row) if given."""
    x = np.vstack([feats[f"{c}_train"] for c in corpora])
    y = np.vstack([ys[f"{c}_train"] for c in corpora])
    weights = np.ones(len(x))
    if balanced:
        weights = np.concatenate([np.full(len(feats[f"{c}_train"]), 1.0 / len(feats[f"{c}_train"])) for c in corpora])
        weights *= len(weights) / weights.sum()
    if extra is not None:
        x, y = np.vstack([x, extra[0]]), np.vstack([y, extra[1]])
        weights = np.concatenate([weights, np.full(len(extra[0]), extra[2])])
    return train_heads(x, y, None if (weights == 1).all() else weights, C)


#: The written graded texts' train seeds can also teach the heads the plain emotion words that
#: the corpora rarely use ("furious" occurs 9 times in GoEmotions' 43,410 comments): each text at
#: a pole one more example of that emotion, each neutral sentence one of none, weighing
#: WRITTEN_WEIGHT each. At 5 the leave-one-corpus-out mean fell from 0.345 to 0.340 (XED
#: +0.014, GoEmotions -0.018, headlines -0.011; benchmarks/sensor.py), so they are left out (0).
WRITTEN_WEIGHT = 0.0


def written_examples(graded: list[dict], x: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The written half's train-seed texts as head training rows (``x``: the graded rows' features)."""
    from emoethics.sensors.emotion_sensor import EMOTIONS

    keep, seen = [], set()
    for i, r in enumerate(graded):
        if r["source"] == "written" and not is_graded_dev(r["seed"]) and r["text"] not in seen:
            seen.add(r["text"])
            keep.append(i)
    y = np.array([[e == graded[i]["pole"] for e in EMOTIONS] for i in keep], dtype=np.int8)
    return x[keep], y, WRITTEN_WEIGHT


def label_matrix(examples: list) -> np.ndarray:
    from emoethics.sensors.emotion_sensor import EMOTIONS

    return np.array([[e in ex.labels for e in EMOTIONS] for ex in examples], dtype=np.int8)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--C", type=float, default=1.0, help="inverse regularisation of the heads")
    args = ap.parse_args()

    from sklearn.linear_model import Ridge

    from emoethics.evals.metrics import multilabel_scores, pearson
    from emoethics.sensors.calibration import tune_rule
    from emoethics.sensors.emotion_sensor import EMOTIONS, IntensityModel, label_sets
    from emoethics.sensors.strength_words import emotion_word_strength

    sets = load_sets()
    feats = {k: featurize(k, [e.text for e in v]) for k, v in sets.items()}
    ys = {k: label_matrix(v) for k, v in sets.items()}
    graded = load_graded()
    g_x = featurize("graded", [r["text"] for r in graded])
    W, b = corpus_heads(feats, ys, CORPORA, args.C, extra=written_examples(graded, g_x) if WRITTEN_WEIGHT else None)
    for j, emo in enumerate(EMOTIONS):
        print(f"head {emo}: {int(sum(ys[f'{c}_train'][:, j].sum() for c in CORPORA))} positives", file=sys.stderr)

    def probs_of(name: str) -> np.ndarray:
        return sigmoid(feats[name] @ W + b)

    rule = tune_rule(
        [(probs_of(f"{c}_dev"), [e.labels for e in sets[f"{c}_dev"]]) for c in CORPORA], RULE_FAMILY, RULE_OBJECTIVE
    )
    print(f"rule: {rule.model_dump(exclude_none=True)}", file=sys.stderr)

    eb = load_emobank()
    eb_x = {k: featurize(f"emobank_{k}", t) for k, (t, _) in eb.items()}
    ridge = Ridge(alpha=10.0).fit(eb_x["train"], eb["train"][1])
    va_W, va_b = ridge.coef_.T.astype(np.float32), ridge.intercept_.astype(np.float32)
    va_dev = eb_x["dev"] @ va_W + va_b

    # intensity: z-scored on the emotion corpora's training texts, learned on the graded set's
    # train seeds, checked on its dev seeds
    x_all = np.vstack([feats[f"{c}_train"] for c in CORPORA])
    logits_all, va_all = x_all @ W + b, np.clip(x_all @ va_W + va_b, 1, 5)
    untrained = IntensityModel(
        logit_mean=logits_all.mean(0).round(4).tolist(),
        logit_std=logits_all.std(0).round(4).tolist(),
        va_mean=va_all.mean(0).round(4).tolist(),
        va_std=va_all.std(0).round(4).tolist(),
        compound_mean=round(float(x_all[:, -1].mean()), 4),
        compound_std=round(float(x_all[:, -1].std()), 4),
        weights=list(PRIOR_WEIGHTS),
        knots=[0.0, 1.0, 2.0, 3.0],
    )
    g_strength = emotion_word_strength([r["text"] for r in graded], EMOTIONS)
    g_inputs = untrained.inputs(g_x @ W + b, np.clip(g_x @ va_W + va_b, 1, 5), g_x[:, -1], g_strength)
    train_rows = [i for i, r in enumerate(graded) if not is_graded_dev(r["seed"])]
    dev_rows = [i for i, r in enumerate(graded) if is_graded_dev(r["seed"])]
    intensity = fit_intensity(untrained, g_inputs[train_rows], [graded[i] for i in train_rows])
    w = np.array(intensity.weights)
    train_pairs = len(graded_pairs([graded[i] for i in train_rows]))
    graded_dev = {}
    for source in ("generated", "written"):
        rows = [i for i in dev_rows if graded[i]["source"] == source]
        hi, lo = pair_inputs(g_inputs[rows], graded_pairs([graded[i] for i in rows]))
        on, off = pole_pair_inputs(g_inputs[rows], pole_pairs([graded[i] for i in rows]))
        graded_dev[source] = {
            "texts": len(rows),
            "pairs": len(hi),
            "pairwise_order_accuracy": round(pairwise_accuracy(hi @ w, lo @ w), 4),
            "pole_over_other_emotions": round(pairwise_accuracy(on @ w, off @ w), 4),
        }

    # cue words: a word-level model of the heads' own logits on their training texts
    cue_texts = [e.text for c in CORPORA for e in sets[f"{c}_train"]]
    cue_vocab, cue_W = fit_cue_words(cue_texts, x_all @ W + b)

    metrics = {}
    for c in CORPORA:
        sc = multilabel_scores(
            [e.labels for e in sets[f"{c}_dev"]], label_sets(rule.labels(probs_of(f"{c}_dev"))), EMOTIONS
        )
        metrics[f"{c}_dev"] = {k: v for k, v in sc.items() if k != "per_label"}
        metrics[f"{c}_dev"]["per_label_f1"] = {e: v["f1"] for e, v in sc["per_label"].items()}
    metrics["emobank_dev"] = {
        "n": len(va_dev),
        "valence_pearson": round(pearson(eb["dev"][1][:, 0], va_dev[:, 0]), 4),
        "arousal_pearson": round(pearson(eb["dev"][1][:, 1], va_dev[:, 1]), 4),
    }
    metrics["graded_dev"] = graded_dev

    HEADS.mkdir(parents=True, exist_ok=True)
    out = HEADS / "plutchik-minilm-vader.npz"
    np.savez_compressed(
        out,
        emotion_W=W,
        emotion_b=b,
        va_W=va_W,
        va_b=va_b,
        rule=np.array(json.dumps(rule.model_dump(exclude_none=True))),
        intensity=np.array(intensity.model_dump_json()),
        cue_vocab=np.array(cue_vocab),
        cue_W=cue_W,
        cue_threshold=np.array(CUE_THRESHOLD),
    )
    import sklearn

    files = [
        DATA / "xed" / "en-annotated.tsv",
        DATA / "xed" / "neu_en.txt",
        DATA / "goemotions" / "train.tsv",
        DATA / "goemotions" / "dev.tsv",
        DATA / "goemotions" / "labels.txt",
        DATA / "goodnewseveryone" / "gne-release-v1.0.tsv",
        DATA / "emobank" / "emobank.csv",
    ]
    manifest = {
        "heads": out.name,
        "sha256": sha256(out),
        "trained": datetime.date.today().isoformat(),
        "command": f"python training/train_sensor.py --C {args.C}",
        "features": "all-MiniLM-L6-v2 fine-tuned on emotions (minilm-emotions-int8.onnx, see "
        "encoder-manifest.json) mean-pooled (384) + VADER neg/neu/pos/compound (4)",
        "emotions": list(EMOTIONS),
        "rule_family": RULE_FAMILY,
        "rule_objective": RULE_OBJECTIVE,
        "balanced_corpora": BALANCED,
        "rule": rule.model_dump(exclude_none=True),
        "intensity": {**intensity.model_dump(include={"weights", "knots"}), "train_pairs": train_pairs},
        "data": {
            **{str(f.relative_to(DATA)): sha256(f) for f in files},
            **{str(f.relative_to(ROOT)): sha256(f) for f in (GRADED, GRADED_WRITTEN)},
        },
        "written_weight_in_heads": WRITTEN_WEIGHT,
        "cue_words": {"vocabulary": len(cue_vocab), "threshold": CUE_THRESHOLD},
        "train_size": {
            **{c: len(sets[f"{c}_train"]) for c in CORPORA},
            "emobank": len(eb["train"][0]),
            "graded": len(train_rows),
        },
        "dev_metrics": metrics,
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "scikit-learn": sklearn.__version__},
    }
    (HEADS / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    main()
