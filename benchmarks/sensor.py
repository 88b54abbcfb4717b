"""Emotion sensor benchmark on the shared dev data: quality, transfer, intensity, speed, memory.

Reports, in one run:

1. the shipped heads on the three dev sets (XED hash split, GoEmotions dev, GoodNewsEveryone
   hash split), macro/micro-F1, Jaccard, next to a keyword-lexicon baseline we wrote
   (``LEXICON`` below), predicting every label, and, as an upper bound for the decision rule,
   thresholds chosen on the set itself; and on the GoEmotions dev texts that contain emoji, the
   sensor reading them as their names (as shipped) and as they are;
2. leave one corpus out: heads trained on two corpora, each decision-rule family tuned on
   those two's dev sets (whole and emotional texts, or emotional texts only), scored on the third's dev set, with its
   labels per text, against predicting every label and the lexicon. This table chooses the
   shipped rule family and objective (``training/train_sensor.py``). The encoder was fine-tuned
   on XED's and GoEmotions' training splits, so only the headlines are wholly unseen;
3. valence / arousal on EmoBank's test split, and with one source left out (its SemEval
   headlines against the other genres);
4. intensity: each emotion's intensity against EmoBank's valence (sign flipped for the negative
   emotions) and the strongest against arousal; pairwise order on the graded set, its generated
   and written halves apart (dev seeds, not used to fit the weights; only the generated half's
   dev texts are wholly unseen, the written half shares its wordings across seeds); next to the
   probability alone and the fixed recipe;
5. throughput in batch (texts/s) without and with cues, the encoder's by batch size, cold
   start (process start to first profile) and peak memory (RSS) of a fresh process, for the
   sensor and the lexicon baseline.

    python benchmarks/sensor.py            # writes benchmarks/results/sensor.json
    python benchmarks/sensor.py --smoke --results-dir /tmp/sensor   # a tiny run (CI)

``--results-dir DIR`` writes ``sensor.json`` into DIR (made if missing) instead. ``--smoke`` runs
every part on a few dozen texts a set (``SMOKE_TEXTS``, chosen so every emotion occurs), two
seeds of each graded half and the same speed probes on those texts; its features are cached in a
temporary folder, not ``training/.cache``, and its report goes to a temporary folder unless
``--results-dir`` is given. Without the shared data it says so on stderr and exits 0.
"""

from __future__ import annotations

import atexit
import csv
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import emoji
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "training"))

import train_sensor  # noqa: E402
from train_sensor import (  # noqa: E402
    CORPORA,
    DATA,
    WRITTEN_WEIGHT,
    corpus_heads,
    featurize,
    graded_pairs,
    is_graded_dev,
    label_matrix,
    load_emobank,
    load_graded,
    load_sets,
    pairwise_accuracy,
    sigmoid,
    written_examples,
)

from emoethics.evals.metrics import multilabel_scores, pearson, spearman  # noqa: E402
from emoethics.sensors.calibration import OBJECTIVES, RULE_GRIDS, fit_thresholds, tune_rule  # noqa: E402
from emoethics.sensors.embedding import get_emotion_encoder  # noqa: E402
from emoethics.sensors.emotion_sensor import (  # noqa: E402
    EMOTIONS,
    VALENCE_SIGN,
    DecisionRule,
    EmotionSensor,
    label_sets,
    vader_features,
)

RESULTS = ROOT / "benchmarks" / "results"
#: the shared sets read (``train_sensor.load_sets`` and ``load_emobank``)
NEEDED = ("xed", "goemotions", "goodnewseveryone", "emobank")
#: texts a set (and an EmoBank split) in a smoke run, besides those kept so every emotion occurs
SMOKE_TEXTS = 40

# A plain keyword baseline (our own short lists, not a published lexicon).
LEXICON = {
    "anger": "angry anger furious rage mad annoyed annoying irritated hate outraged pissed",
    "anticipation": "hope hoping expect soon plan eager await tomorrow wait future",
    "disgust": "disgusting disgusted gross sick nasty revolting yuck ew vile awful",
    "fear": "afraid scared fear terrified worried nervous anxious panic frightened scary",
    "joy": "happy glad joy love great wonderful awesome lol haha fun",
    "sadness": "sad cry crying depressed miss lonely unhappy sorry grief heartbroken",
    "surprise": "wow surprised surprise shocked unexpected omg really amazed whoa suddenly",
    "trust": "trust thank thanks believe honest reliable proud admire respect agree",
}
_LEX = {e: set(ws.split()) for e, ws in LEXICON.items()}
_WORD = re.compile(r"[a-z']+")


def lexicon_labels(text: str) -> frozenset[str]:
    words = set(_WORD.findall(text.lower()))
    return frozenset(e for e, ws in _LEX.items() if words & ws)


def short(s: dict) -> dict:
    return {k: s[k] for k in ("n", "macro_f1", "micro_f1", "jaccard", "labels_per_text_gold", "labels_per_text_pred")}


def fresh_process(code: str) -> dict:
    """Seconds and peak RSS (MB) of a new Python process running ``code``."""
    # peak RSS from /proc (VmHWM starts afresh at exec; ru_maxrss can carry the parent's peak)
    wrapper = (
        "import time; t = time.perf_counter()\n" + code + "\nimport re\n"
        "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
        "print(time.perf_counter() - t, hwm)"
    )
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    inner, rss_kb = out.stdout.split()[-2:]
    return {
        "seconds_wall": round(wall, 2),
        "seconds_in_process": round(float(inner), 2),
        "peak_rss_mb": round(int(rss_kb) / 1024, 1),
    }


def loco_table(sets: dict, feats: dict, ys: dict, extra: tuple | None = None) -> dict:
    """Leave one corpus out: heads trained on the other corpora's train splits (and ``extra``,
    the written graded texts, as shipped), each
    decision-rule family tuned on their dev sets (whole and emotional texts, or emotional texts
    only), scored on the left-out corpus' dev split, next to predicting every label and the
    keyword lexicon."""
    out: dict = {}
    for held in CORPORA:
        rest = [c for c in CORPORA if c != held]
        gold = [e.labels for e in sets[f"{held}_dev"]]
        row: dict = {
            "n": len(gold),
            "labels_per_text_gold": round(float(np.mean([len(g) for g in gold])), 3),
            "predict_every_label": multilabel_scores(gold, [frozenset(EMOTIONS)] * len(gold), EMOTIONS)["macro_f1"],
            "lexicon": multilabel_scores(gold, [lexicon_labels(e.text) for e in sets[f"{held}_dev"]], EMOTIONS)[
                "macro_f1"
            ],
        }
        W, b = corpus_heads(feats, ys, rest, balanced=False, extra=extra)
        own = [(sigmoid(feats[f"{c}_dev"] @ W + b), [e.labels for e in sets[f"{c}_dev"]]) for c in rest]
        target = sigmoid(feats[f"{held}_dev"] @ W + b)
        for family in RULE_GRIDS:
            for objective in OBJECTIVES:
                rule = tune_rule(own, family, objective)
                sc = multilabel_scores(gold, label_sets(rule.labels(target)), EMOTIONS)
                row[f"{family}, tuned on {objective} texts"] = {
                    "rule": rule.model_dump(exclude_none=True, exclude={"intensity_scale"}),
                    "macro_f1": sc["macro_f1"],
                    "labels_per_text_pred": sc["labels_per_text_pred"],
                }
        out[held] = row
        print(f"  left out {held}: {json.dumps(row)}", file=sys.stderr, flush=True)
    configs = [k for k in out[CORPORA[0]] if isinstance(out[CORPORA[0]][k], dict)]
    out["mean_macro_f1"] = {k: round(float(np.mean([out[c][k]["macro_f1"] for c in CORPORA])), 4) for k in configs}
    out["mean_macro_f1"]["predict_every_label"] = round(
        float(np.mean([out[c]["predict_every_label"] for c in CORPORA])), 4
    )
    return out


def emobank_genres(eb_rows: list[dict], x: np.ndarray) -> dict:
    """Valence/arousal regressors trained without one of EmoBank's sources and tested on it:
    the SemEval news headlines (ids ``SemEval_*``) against the other genres (blogs, essays,
    fiction, letters, newspapers, travel guides; their ids name documents, not genres)."""
    from sklearn.linear_model import Ridge

    y = np.array([[r["V"], r["A"]] for r in eb_rows], dtype=float)
    headline = np.array([r["id"].startswith("SemEval") for r in eb_rows])
    train = np.array([r["split"] == "train" for r in eb_rows])
    out = {}
    for name, group in (("headlines (SemEval)", headline), ("other genres", ~headline)):
        model = Ridge(alpha=10.0).fit(x[train & ~group], y[train & ~group])
        test = ~train & group
        pred = model.predict(x[test])
        out[f"left out {name}"] = {
            "n": int(test.sum()),
            "valence_pearson": round(pearson(y[test, 0], pred[:, 0]), 4),
            "arousal_pearson": round(pearson(y[test, 1], pred[:, 1]), 4),
        }
    return out


def intensity_figures(sensor: EmotionSensor, eb: dict, graded: list[dict] | None = None) -> dict:
    """Intensity against EmoBank's ratings (each signed emotion's intensity against valence
    with its sign; the strongest intensity against arousal) and pairwise order on the graded
    rewrites, next to the emotion probability alone and the fixed recipe z(logit) + sign *
    z(valence)."""
    texts, gold = eb["test"]
    sc = sensor.scores(texts)
    im = sensor.intensity_model
    recipe = im.model_copy(update={"weights": [1.0, 1.0, 0.0, 0.0, 0.0]})
    readers = {
        "intensity (shipped)": sc.intensity,
        "probability": sc.probs,
        "recipe z(logit) + sign * z(valence)": recipe.score(sc.logits, sc.va, sc.compound, sc.strength),
    }
    out: dict = {"emobank_test": {}}
    for name, value in readers.items():
        per = {
            e: {
                "pearson": round(pearson(VALENCE_SIGN[e] * gold[:, 0], value[:, j]), 4),
                "spearman": round(spearman(VALENCE_SIGN[e] * gold[:, 0], value[:, j]), 4),
            }
            for j, e in enumerate(EMOTIONS)
            if VALENCE_SIGN[e]
        }
        out["emobank_test"][name] = {
            "valence_with_sign": per,
            "valence_with_sign_mean_pearson": round(float(np.mean([v["pearson"] for v in per.values()])), 4),
            "arousal_vs_strongest_pearson": round(pearson(gold[:, 1], value.max(axis=1)), 4),
        }
    if graded is None:
        graded = load_graded()
    g = sensor.scores([r["text"] for r in graded])
    out["graded_pairwise_order"] = {}
    splits = [
        (f"{source} half, {split}", source, keep)
        for source in ("generated", "written")
        for split, keep in (("dev seeds", is_graded_dev), ("train seeds", lambda s: not is_graded_dev(s)))
    ]
    for split, source, keep in splits:
        rows = [i for i, r in enumerate(graded) if keep(r["seed"]) and r["source"] == source]
        pairs = graded_pairs([graded[i] for i in rows])
        res = {"pairs": len(pairs)}
        for name, value in (
            ("intensity (shipped)", g.intensity),
            ("probability", g.probs),
            ("recipe", recipe.score(g.logits, g.va, g.compound, g.strength)),
        ):
            v = value[rows]
            hi = np.array([v[a, EMOTIONS.index(e)] for a, _, e in pairs])
            lo = np.array([v[c, EMOTIONS.index(e)] for _, c, e in pairs])
            res[name] = round(pairwise_accuracy(hi, lo), 4) if pairs else None
        out["graded_pairwise_order"][split] = res
    examples = [
        "I'm a little annoyed",
        "I am annoyed",
        "I am angry",
        "I am absolutely furious",
        "I am not happy at all",
        "I'm a bit sad today",
        "I am utterly heartbroken",
    ]
    out["examples"] = {}
    for t, p in zip(examples, sensor.analyze_batch(examples), strict=True):
        lean = [f"{r.level} ({r.intensity:+.2f})" for r in p.readings if r.intensity]
        top = max(p.intensities, key=p.intensities.get)
        out["examples"][t] = {
            "readings": lean or ["neutral"],
            "strongest_intensity": f"{top} {p.intensities[top]:.2f}",
            "anger_intensity": p.intensities["anger"],
        }
    return out


def speed(sensor: EmotionSensor, texts: list[str]) -> dict:
    sensor.analyze_batch(texts[:64])  # warm up
    enc = get_emotion_encoder()
    per_batch = {}
    for size in (16, 32, 64, 128, 256):
        t = time.perf_counter()
        enc.encode(texts, batch_size=size)
        per_batch[size] = round(len(texts) / (time.perf_counter() - t), 1)
    t = time.perf_counter()
    sensor.analyze_batch(texts)
    no_cues = len(texts) / (time.perf_counter() - t)
    t = time.perf_counter()
    sensor.analyze_batch(texts, cues=True)
    with_cues = len(texts) / (time.perf_counter() - t)
    fast = EmotionSensor(fast=True)
    fast.analyze_batch(texts[:64])
    t = time.perf_counter()
    fast.analyze_batch(texts)
    fast_no_cues = len(texts) / (time.perf_counter() - t)
    t = time.perf_counter()
    fast.analyze_batch(texts, cues=True)
    fast_cues = len(texts) / (time.perf_counter() - t)
    t = time.perf_counter()
    for _ in range(5):
        [lexicon_labels(x) for x in texts]
    lex = 5 * len(texts) / (time.perf_counter() - t)
    return {
        "batch_texts": len(texts),
        "mean_words_per_text": round(float(np.mean([len(x.split()) for x in texts])), 1),
        "encoder_texts_per_second_by_batch_size": per_batch,
        "sensor_texts_per_second_no_cues": round(no_cues, 1),
        "sensor_texts_per_second_with_cues": round(with_cues, 1),
        "fast_sensor_texts_per_second_no_cues": round(fast_no_cues, 1),
        "fast_sensor_texts_per_second_with_cues": round(fast_cues, 1),
        "lexicon_texts_per_second": round(lex, 1),
        "sensor_cold_start": fresh_process(
            "from emoethics.sensors.emotion_sensor import EmotionSensor\n"
            "EmotionSensor().analyze('I am not happy at all')"
        ),
        "sensor_batch_process": fresh_process(
            "from emoethics.sensors.emotion_sensor import EmotionSensor\n"
            f"EmotionSensor().analyze_batch({json.dumps(texts)})"
        ),
        "fast_sensor_cold_start": fresh_process(
            "from emoethics.sensors.emotion_sensor import EmotionSensor\n"
            "EmotionSensor(fast=True).analyze('I am not happy at all')"
        ),
        "fast_sensor_batch_process": fresh_process(
            "from emoethics.sensors.emotion_sensor import EmotionSensor\n"
            f"EmotionSensor(fast=True).analyze_batch({json.dumps(texts)})"
        ),
    }


def smoke_sample(examples: list, n: int, also=None) -> list:
    """The first ``n`` examples, and the first three with each emotion, with none and matching
    ``also`` (a smoke run's sets: every head gets both classes)."""
    keep = set(range(min(n, len(examples))))
    wanted = [lambda x, e=e: e in x.labels for e in EMOTIONS] + [lambda x: not x.labels] + ([also] if also else [])
    for want in wanted:
        keep.update([i for i, x in enumerate(examples) if want(x)][:3])
    return [examples[i] for i in sorted(keep)]


def smoke_graded(graded: list[dict]) -> list[dict]:
    """The graded rows of the first two seeds (one dev, one train) of each half."""
    seeds = {src: sorted({r["seed"] for r in graded if r["source"] == src})[:2] for src in ("generated", "written")}
    return [r for r in graded if r["seed"] in seeds[r["source"]]]


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog="writes benchmarks/results/sensor.json (about 15 minutes)"
    )
    ap.add_argument(
        "--results-dir",
        type=Path,
        default=None,
        help="folder for sensor.json, made if missing (default: benchmarks/results; --smoke: a temporary one)",
    )
    ap.add_argument("--smoke", action="store_true", help=f"a tiny run (CI): about {SMOKE_TEXTS} texts a set")
    args = ap.parse_args()
    if args.smoke:
        missing = [name for name in NEEDED if not (DATA / name).is_dir()]
        if missing:
            print(f"sensor.py --smoke: shared data missing ({DATA}: {', '.join(missing)}), skipped", file=sys.stderr)
            return
    results = args.results_dir or (Path(tempfile.mkdtemp(prefix="sensor-smoke-")) if args.smoke else RESULTS)
    if args.smoke:
        train_sensor.CACHE = Path(tempfile.mkdtemp(prefix="sensor-smoke-features-"))  # featurize's cache
        atexit.register(shutil.rmtree, train_sensor.CACHE, True)
    sets = load_sets()
    if args.smoke:
        sets = {
            k: smoke_sample(v, SMOKE_TEXTS, (lambda x: emoji.emoji_count(x.text) > 0) if k == "go_dev" else None)
            for k, v in sets.items()
        }
    feats = {k: featurize(k, [e.text for e in v]) for k, v in sets.items()}
    ys = {k: label_matrix(v) for k, v in sets.items()}
    sensor = EmotionSensor()
    fast = EmotionSensor(fast=True)
    report: dict = {"command": "python benchmarks/sensor.py" + (" --smoke" if args.smoke else ""), "dev": {}}
    if args.smoke:
        report["smoke"] = True

    def fast_probs(examples: list) -> np.ndarray:
        return fast.scores([e.text for e in examples]).probs

    for c in CORPORA:
        name = f"{c}_dev"
        gold = [e.labels for e in sets[name]]
        probs = sigmoid(feats[name] @ sensor.W + sensor.b)
        report["dev"][name] = {
            "sensor (trained on all three)": short(
                multilabel_scores(gold, label_sets(sensor.rule.labels(probs)), EMOTIONS)
            ),
            "fast sensor (static encoder)": short(
                multilabel_scores(gold, label_sets(sensor.rule.labels(fast_probs(sets[name]))), EMOTIONS)
            ),
            "lexicon": short(multilabel_scores(gold, [lexicon_labels(e.text) for e in sets[name]], EMOTIONS)),
            "predict_every_label": short(multilabel_scores(gold, [frozenset(EMOTIONS)] * len(gold), EMOTIONS)),
            # an upper bound, not a result: per-emotion thresholds chosen on this very set
            "oracle_thresholds": short(
                multilabel_scores(
                    gold,
                    label_sets(DecisionRule(thresholds=fit_thresholds(probs, ys[name].astype(bool))).labels(probs)),
                    EMOTIONS,
                )
            ),
        }

    # the GoEmotions dev texts with emoji (XED and the headlines have none): the encoder reading
    # their names, as shipped, and the same encoder given the emoji as they are
    with_emoji = [e for e in sets["go_dev"] if emoji.emoji_count(e.text)]
    texts = [e.text for e in with_emoji]
    as_is = np.hstack([get_emotion_encoder().encode(texts), vader_features(texts)])
    report["go_dev_texts_with_emoji"] = {
        name: short(
            multilabel_scores(
                [e.labels for e in with_emoji],
                label_sets(sensor.rule.labels(sigmoid(x @ sensor.W + sensor.b))),
                EMOTIONS,
            )
        )
        for name, x in (
            ("emoji_as_names (shipped)", featurize("go_dev_emoji", texts)),
            ("emoji_as_unknown_tokens", as_is),
        )
    }

    graded = smoke_graded(load_graded()) if args.smoke else load_graded()
    extra = written_examples(graded, featurize("graded", [r["text"] for r in graded])) if WRITTEN_WEIGHT else None
    report["leave_one_corpus_out"] = loco_table(sets, feats, ys, extra)

    eb = load_emobank()
    # a smoke run: every k-th text of each split, so both the headlines and the other genres occur
    picks = {k: list(range(0, len(t), max(1, len(t) // SMOKE_TEXTS))) for k, (t, _) in eb.items()}
    if args.smoke:
        eb = {k: ([t[i] for i in picks[k]], y[picks[k]]) for k, (t, y) in eb.items()}
    x_test = featurize("emobank_test", eb["test"][0])
    va = x_test @ sensor.va_W + sensor.va_b
    report["emobank_test"] = {
        "n": len(va),
        "valence_pearson": round(pearson(eb["test"][1][:, 0], va[:, 0]), 4),
        "arousal_pearson": round(pearson(eb["test"][1][:, 1], va[:, 1]), 4),
    }
    # EmoBank's rows in the order of load_emobank's splits, to reuse their cached features
    with (DATA / "emobank" / "emobank.csv").open(encoding="utf-8") as f:
        by_split: dict[str, list] = {}
        for r in csv.DictReader(f):
            if r["text"].strip():
                by_split.setdefault(r["split"], []).append(
                    {"id": r["id"], "split": r["split"], "V": float(r["V"]), "A": float(r["A"])}
                )
    if args.smoke:
        by_split = {k: [v[i] for i in picks[k]] for k, v in by_split.items()}
    rows = [r for k in eb for r in by_split[k]]
    x_all = np.vstack([featurize(f"emobank_{k}", eb[k][0]) for k in eb])
    report["emobank_genres"] = emobank_genres(rows, x_all)
    report["intensity"] = intensity_figures(sensor, eb, graded)
    report["speed"] = speed(sensor, [e.text for e in sets["xed_dev"]][:1000])

    results.mkdir(parents=True, exist_ok=True)
    (results / "sensor.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
