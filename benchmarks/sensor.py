"""Emotion sensor benchmark on the shared dev data: quality, transfer, speed, memory.

Reports, in one run:

1. the shipped heads on the two dev sets (XED hash split, GoEmotions dev), macro/micro-F1,
   Jaccard, next to a keyword-lexicon baseline we wrote (``LEXICON`` below), the "predict all
   eight" floor and, as an upper bound for the decision rule, thresholds chosen on the set itself;
   and on the GoEmotions dev texts that contain emoji, the sensor reading them as their names (as
   shipped) and as they are;
2. out-of-domain transfer: an encoder fine-tuned and heads trained on one corpus only, tested on
   the other corpus' dev set, with the default (relative) decision rule tuned on the training
   corpus' own dev set, and with thresholds calibrated on a random half of the target dev set
   (scored on the other half). The two one-corpus encoders are fine-tuned on the first run (about 15
   minutes; ``training/.cache/``);
3. how the decision rule itself transfers: with the shipped encoder and heads, a rule chosen on
   one dev set alone and scored on the other, next to the same kind of rule chosen on the scored
   set (its upper bound), for three rule families that do not use absolute thresholds: relative
   to the strongest emotion (the sensor's), share of the text's total probability, and a margin
   in logits below the strongest;
4. valence / arousal Pearson on EmoBank's test split, and as a proxy for intensity (no
   intensity-annotated emotion data is in the shared folder) the correlation of the valence
   ratings with the profile's signed sadness-joy reading and with p(joy) - p(sadness);
5. throughput in batch (texts/s), cold start (process start to first profile) and peak memory
   (RSS) of a fresh process, for the sensor and the lexicon baseline.

    python benchmarks/sensor.py            # writes benchmarks/results/sensor.json
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import emoji
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "training"))

from train_sensor import CACHE, featurize, load_emobank, load_sets  # noqa: E402

from emoethics.evals.metrics import multilabel_scores, pearson, spearman  # noqa: E402
from emoethics.sensors.calibration import fit_thresholds, tune_relative_rule  # noqa: E402
from emoethics.sensors.embedding import get_emotion_encoder  # noqa: E402
from emoethics.sensors.emotion_sensor import (  # noqa: E402
    EMOTIONS,
    DecisionRule,
    EmotionSensor,
    label_sets,
    vader_features,
)

RESULTS = ROOT / "benchmarks" / "results"

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


def train_heads(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    W = np.zeros((x.shape[1], len(EMOTIONS)))
    b = np.zeros(len(EMOTIONS))
    for j in range(len(EMOTIONS)):
        clf = LogisticRegression(C=1.0, max_iter=2000).fit(x, y[:, j])
        W[:, j], b[j] = clf.coef_[0], clf.intercept_[0]
    return W, b


def short(s: dict) -> dict:
    return {k: s[k] for k in ("n", "macro_f1", "micro_f1", "jaccard", "labels_per_text_gold",
                              "labels_per_text_pred")}


def fresh_process(code: str) -> dict:
    """Seconds and peak RSS (MB) of a new Python process running ``code``."""
    # peak RSS from /proc (VmHWM starts afresh at exec; ru_maxrss can carry the parent's peak)
    wrapper = ("import time; t = time.perf_counter()\n" + code + "\nimport re\n"
               "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
               "print(time.perf_counter() - t, hwm)")
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    inner, rss_kb = out.stdout.split()[-2:]
    return {"seconds_wall": round(wall, 2), "seconds_in_process": round(float(inner), 2),
            "peak_rss_mb": round(int(rss_kb) / 1024, 1)}


def one_corpus_encoder(corpus: str) -> Path:
    """An encoder fine-tuned on ``corpus`` alone (built on first use, then kept in the cache)."""
    path = CACHE / f"minilm-emotions-{corpus}only-int8.onnx"
    if not path.is_file():
        print(f"fine-tuning an encoder on {corpus} only for the transfer figures ...", file=sys.stderr)
        subprocess.run([sys.executable, str(ROOT / "training" / "finetune_encoder.py"),
                        "--corpus", corpus, "--out", str(path)], check=True)
    return path


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def _top(z: np.ndarray) -> np.ndarray:
    return z.max(axis=1, keepdims=True)


# Rule families that ignore the training domain's absolute probabilities: (name, grid, labels(z,
# a, floor)) on logits z; every family also requires the strongest probability >= floor.
RULE_FAMILIES = {
    "relative to the strongest (p >= a * max p)": (
        np.arange(0.2, 0.95, 0.05),
        lambda z, a: _sigmoid(z) >= a * _top(_sigmoid(z))),
    "share of the total (p / sum p >= a)": (
        np.arange(0.05, 0.6, 0.05),
        lambda z, a: _sigmoid(z) / _sigmoid(z).sum(axis=1, keepdims=True) >= a),
    "logit margin (z >= max z - a)": (
        np.arange(0.2, 3.0, 0.2),
        lambda z, a: z >= _top(z) - a),
}
FLOORS = np.arange(0.05, 0.6, 0.05)


def rule_transfer(logits: dict[str, np.ndarray], gold: dict[str, list]) -> dict:
    """Each rule family chosen on one dev set (whole and emotional texts, as
    ``tune_relative_rule`` does) and scored on the other, next to its choice on the scored set."""

    def views(name: str) -> list[tuple[np.ndarray, list]]:
        z, g = logits[name], gold[name]
        emotional = np.array([bool(x) for x in g])
        return [(z, g), (z[emotional], [x for x in g if x])]

    def scored(family, a, floor, vs) -> list[float]:
        return [multilabel_scores(g, label_sets(family(z, a) & (_sigmoid(_top(z)) >= floor)),
                                  EMOTIONS)["macro_f1"] for z, g in vs]

    def choose(family, grid, vs) -> tuple[float, float]:
        return max(((a, f) for a in grid for f in FLOORS),
                   key=lambda af: np.mean(scored(family, *af, vs)))

    out = {}
    for fam, (grid, family) in RULE_FAMILIES.items():
        out[fam] = {}
        for src, dst in (("go_dev", "xed_dev"), ("xed_dev", "go_dev")):
            chosen, own = choose(family, grid, views(src)), choose(family, grid, views(dst))
            got, best = scored(family, *chosen, views(dst)), scored(family, *own, views(dst))
            out[fam][f"{src}->{dst}"] = {
                "chosen_on_source": [round(float(x), 2) for x in chosen],
                "macro_f1": round(got[0], 4), "macro_f1_emotional_texts": round(got[1], 4),
                "chosen_on_target (upper bound)": [round(float(x), 2) for x in own],
                "upper_bound_macro_f1": round(best[0], 4),
                "upper_bound_macro_f1_emotional_texts": round(best[1], 4)}
    return out


def main() -> None:
    sets = load_sets()
    feats = {k: featurize(k, [e.text for e in v]) for k, v in sets.items()}
    gold = {k: [e.labels for e in v] for k, v in sets.items()}
    ys = {k: np.array([[e in g for e in EMOTIONS] for g in gold[k]], dtype=np.int8) for k in sets}
    sensor = EmotionSensor()
    report: dict = {"command": "python benchmarks/sensor.py", "in_domain_dev": {}, "transfer": {}}

    for name in ("xed_dev", "go_dev"):
        x = feats[name]
        probs = _sigmoid(x @ sensor.W + sensor.b)
        report["in_domain_dev"][name] = {
            "sensor": short(multilabel_scores(gold[name], label_sets(sensor.rule.labels(probs)), EMOTIONS)),
            "lexicon": short(multilabel_scores(gold[name], [lexicon_labels(e.text) for e in sets[name]],
                                               EMOTIONS)),
            "all_eight": short(multilabel_scores(gold[name], [frozenset(EMOTIONS)] * len(gold[name]),
                                                 EMOTIONS)),
            # an upper bound, not a result: per-emotion thresholds chosen on this very set
            "sensor_oracle_thresholds": short(multilabel_scores(
                gold[name], label_sets(DecisionRule(thresholds=fit_thresholds(
                    probs, ys[name].astype(bool))).labels(probs)), EMOTIONS)),
        }

    # the GoEmotions dev texts with emoji (XED has none): the encoder reading their names, as
    # shipped, and the same encoder given the emoji as they are (one unknown token each)
    with_emoji = [e for e in sets["go_dev"] if emoji.emoji_count(e.text)]
    texts = [e.text for e in with_emoji]
    as_is = np.hstack([get_emotion_encoder().encode(texts), vader_features(texts)])
    report["go_dev_texts_with_emoji"] = {
        name: short(multilabel_scores([e.labels for e in with_emoji], label_sets(sensor.rule.labels(
            _sigmoid(x @ sensor.W + sensor.b))), EMOTIONS))
        for name, x in (("emoji_as_names (shipped)", featurize("go_dev_emoji", texts)),
                        ("emoji_as_unknown_tokens", as_is))}

    for src, dst in (("go", "xed"), ("xed", "go")):
        encoder = one_corpus_encoder(src)
        tf = {k: featurize(f"{k}-{src}only", [e.text for e in sets[k]], encoder)
              for k in (f"{src}_train", f"{src}_dev", f"{dst}_dev")}
        W, b = train_heads(tf[f"{src}_train"], ys[f"{src}_train"])
        own = _sigmoid(tf[f"{src}_dev"] @ W + b)
        rule = tune_relative_rule([(own, gold[f"{src}_dev"])])
        # two random halves of the target dev set (XED's file order puts the neutral lines last)
        order = np.random.default_rng(0).permutation(len(sets[f"{dst}_dev"]))
        cal, test = order[:len(order) // 2], order[len(order) // 2:]
        target = _sigmoid(tf[f"{dst}_dev"] @ W + b)
        g = [gold[f"{dst}_dev"][i] for i in test]
        # calibrate per-emotion thresholds on one half of the target dev set, score on the other
        thresholds = fit_thresholds(target[cal], ys[f"{dst}_dev"][cal].astype(bool))
        calibrated = DecisionRule(thresholds=thresholds)
        report["transfer"][f"{src}->{dst}"] = {
            "rule_from_source_dev": rule.model_dump(exclude_none=True),
            "uncalibrated": short(multilabel_scores(g, label_sets(rule.labels(target[test])), EMOTIONS)),
            "calibrated_on_half_of_target": short(
                multilabel_scores(g, label_sets(calibrated.labels(target[test])), EMOTIONS)),
            "lexicon": short(multilabel_scores(g, [lexicon_labels(sets[f"{dst}_dev"][i].text)
                                                   for i in test], EMOTIONS)),
            # an upper bound, not a result: thresholds chosen on the scored half itself
            "oracle_thresholds_on_scored_half": short(multilabel_scores(g, label_sets(DecisionRule(
                thresholds=fit_thresholds(target[test], ys[f"{dst}_dev"][test].astype(bool))
            ).labels(target[test])), EMOTIONS)),
        }

    report["rule_transfer"] = rule_transfer(
        {k: feats[k] @ sensor.W + sensor.b for k in ("xed_dev", "go_dev")},
        {k: gold[k] for k in ("xed_dev", "go_dev")})

    eb = load_emobank()
    x_test = featurize("emobank_test", eb["test"][0])
    va = x_test @ sensor.va_W + sensor.va_b
    report["emobank_test"] = {"n": len(va),
                              "valence_pearson": round(pearson(eb["test"][1][:, 0], va[:, 0]), 4),
                              "arousal_pearson": round(pearson(eb["test"][1][:, 1], va[:, 1]), 4)}
    # A proxy only (no intensity-annotated emotion data is here): do the sensor's emotion scores
    # rise and fall with people's valence ratings? Once as the profile's signed sadness-joy
    # reading (the presence rule and folding applied), once as p(joy) - p(sadness), the
    # per-emotion scores that `eval emotions` uses as intensities.
    profiles = sensor.analyze_batch(eb["test"][0])
    gold_v = eb["test"][1][:, 0]
    spectrum = np.array([p.reading("sadness-joy").intensity for p in profiles])
    scores = np.array([p.emotions["joy"] - p.emotions["sadness"] for p in profiles])
    report["emobank_test"]["valence_proxy_for_intensity"] = {
        name: {"pearson": round(pearson(gold_v, v), 4), "spearman": round(spearman(gold_v, v), 4)}
        for name, v in (("sadness_joy_reading", spectrum), ("p_joy_minus_p_sadness", scores))}
    report["emobank_test"]["valence_proxy_for_intensity"]["sadness_joy_reading_zero_share"] = \
        round(float((spectrum == 0).mean()), 3)

    texts = [e.text for e in sets["xed_dev"]][:1000]
    sensor.analyze_batch(texts[:32])  # warm up
    t = time.perf_counter()
    sensor.analyze_batch(texts)
    sensor_tps = len(texts) / (time.perf_counter() - t)
    t = time.perf_counter()
    for _ in range(5):
        [lexicon_labels(x) for x in texts]
    lex_tps = 5 * len(texts) / (time.perf_counter() - t)
    report["speed"] = {
        "batch_texts": len(texts),
        "sensor_texts_per_second": round(sensor_tps, 1),
        "lexicon_texts_per_second": round(lex_tps, 1),
        "sensor_cold_start": fresh_process(
            "from emoethics.sensors.emotion_sensor import EmotionSensor\n"
            "EmotionSensor().analyze('I am not happy at all')"),
        "sensor_batch_1000_process": fresh_process(
            "from emoethics.sensors.emotion_sensor import EmotionSensor\n"
            f"EmotionSensor().analyze_batch({json.dumps(texts)})"),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "sensor.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
