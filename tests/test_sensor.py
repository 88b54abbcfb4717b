"""The emotion sensor (real ONNX encoder, VADER and the committed heads), ensemble, calibration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import emoethics
from emoethics.emotions.ensemble import EnsembleAnalyzer
from emoethics.encoders.minilm import Encoder, StaticEncoder, get_encoder
from emoethics.errors import ModelFileError
from emoethics.evals.datasets import Example
from emoethics.sensors.calibration import (
    fit_calibration,
    load_calibration,
    macro_f1,
    save_calibration,
    tune_relative_rule,
    tune_rule,
)
from emoethics.sensors.embedding import EMOTION_ENCODER, STATIC_ENCODER, get_emotion_encoder
from emoethics.sensors.emotion_sensor import DEFAULT_HEADS, EMOTIONS, DecisionRule, EmotionSensor, label_sets

from fakes import ScriptedAnalyzer

pytestmark = pytest.mark.skipif(not DEFAULT_HEADS.is_file(), reason="sensor heads not trained")


@pytest.fixture(scope="module")
def sensor():
    return EmotionSensor()


def test_encoder_is_deterministic_and_order_independent():
    enc = get_encoder()
    texts = ["short", "a much longer sentence about the weather today", "mid length text"]
    a = enc.encode(texts)
    b = enc.encode(texts[::-1])[::-1]
    assert a.shape == (3, 384) and np.allclose(a, b, atol=1e-5)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)


def test_emotion_encoder_is_the_fine_tuned_one_and_pinned(tmp_path):
    texts = ["I am so angry right now", "What a lovely surprise"]
    tuned, original = get_emotion_encoder().encode(texts), get_encoder().encode(texts)
    assert tuned.shape == original.shape == (2, 384)
    assert np.allclose(np.linalg.norm(tuned, axis=1), 1.0, atol=1e-4)
    assert not np.allclose(tuned, original, atol=1e-2)  # fine-tuning moved the embedding
    digest = json.loads((EMOTION_ENCODER.parent / "encoder-manifest.json").read_text())["sha256"]
    damaged = tmp_path / "damaged.onnx"
    damaged.write_bytes(EMOTION_ENCODER.read_bytes()[:4096])
    with pytest.raises(ModelFileError, match="sha256"):
        Encoder(damaged, digest)


def test_relative_rule_is_tuned_on_whole_sets_and_emotional_texts():
    # neutral texts: everything low; emotional texts: a clear emotion and a weaker second one
    neutral = np.full((20, 8), 0.08)
    emotional = np.full((20, 8), 0.04)
    emotional[:, 0], emotional[:, 2] = 0.8, 0.4
    probs = np.vstack([neutral, emotional])
    gold = [frozenset()] * 20 + [frozenset({"anger", "disgust"})] * 20
    rule = tune_relative_rule([(probs, gold)])
    assert rule.relative <= 0.5 and 0.08 < rule.floor <= 0.8
    assert label_sets(rule.labels(probs)) == gold


def test_profile_shape_and_folding(sensor):
    p = sensor.analyze("I am so happy, this is the best day of my life!")
    assert [r.spectrum for r in p.readings] == [s.id for s in emoethics.load_model().spectra]
    assert set(p.emotions) == {"anger", "anticipation", "disgust", "fear", "joy", "sadness", "surprise", "trust"}
    assert p.reading("sadness-joy").intensity > 0 and p.reading("sadness-joy").level != "neutral"
    assert p.valence is not None and p.valence > 3.0
    assert p.analyzer.startswith("sensor:")


def test_negation_is_not_joy(sensor):
    p = sensor.analyze("I am not happy at all")
    assert p.reading("sadness-joy").intensity <= 0


@pytest.mark.parametrize(
    "text, spectrum, sign",
    [
        ("I'm terrified, I think someone is following me home.", "fear-anger", -1),
        ("This is outrageous, I am furious with you!", "fear-anger", +1),
        ("My grandmother died last night and I can't stop crying.", "sadness-joy", -1),
    ],
)
def test_clear_emotions_lean_the_right_way(sensor, text, spectrum, sign):
    assert np.sign(sensor.analyze(text).reading(spectrum).intensity) == sign


@pytest.mark.parametrize(
    "text, emotion",
    [
        ("😂😂😂", "joy"),
        ("😱", "fear"),
        ("😭😭", "sadness"),
        ("😡😡😡", "anger"),
    ],
)
def test_emoji_carry_their_emotion(sensor, text, emotion):
    """Each emoji used to be the same unknown token to the encoder (and read as mild joy)."""
    p = sensor.analyze(text)
    assert max(p.emotions, key=p.emotions.get) == emotion


def test_batch_equals_single(sensor):
    texts = ["What a lovely surprise!", "I hate this so much.", "The bus leaves at nine."]
    batch = sensor.analyze_batch(texts)
    for t, p in zip(texts, batch, strict=True):
        single = sensor.analyze(t)
        assert [(r.intensity, r.level) for r in p.readings] == [(r.intensity, r.level) for r in single.readings]
    angry = sensor.analyze("I hate this so much, it makes me furious.").reading("fear-anger")
    assert (
        angry.intensity > 0 and angry.cues and all(c in "I hate this so much, it makes me furious." for c in angry.cues)
    )


def test_spread_rule_gives_as_many_labels_as_stand_out():
    probs = np.array(
        [
            [0.9, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05],  # one clear emotion
            [0.7, 0.05, 0.6, 0.05, 0.05, 0.05, 0.05, 0.05],  # two
            [0.08, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05],
        ]
    )  # weak: below the floor
    assert DecisionRule(spread=1.0, floor=0.1).labels(probs).sum(axis=1).tolist() == [1, 2, 0]


def test_tune_rule_learns_how_many_labels_emotional_texts_carry():
    one = np.full((20, 8), 0.05)
    one[:, 4] = 0.9  # joy alone
    two = np.full((20, 8), 0.05)
    two[:, 0], two[:, 2] = 0.95, 0.5  # anger and disgust
    probs = np.vstack([one, two])
    gold = [frozenset({"joy"})] * 20 + [frozenset({"anger", "disgust"})] * 20
    rule = tune_rule([(probs, gold)], "spread")
    assert label_sets(rule.labels(probs)) == gold
    g = np.array([[e in x for e in EMOTIONS] for x in gold])
    assert macro_f1(g, rule.labels(probs)) == pytest.approx(3 / 8)  # 3 of 8 emotions occur, all right


def test_cues_only_when_asked_and_batched_like_single(sensor):
    texts = ["I hate this so much, it makes me furious.", "What a lovely surprise party!", "The bus leaves at nine."]
    assert all(not r.cues for p in sensor.analyze_batch(texts) for r in p.readings)
    batched = sensor.analyze_batch(texts, cues=True)
    for t, p in zip(texts, batched, strict=True):
        assert [r.cues for r in p.readings] == [r.cues for r in sensor.analyze(t).readings]
    anger = batched[0].reading("fear-anger")
    assert anger.intensity > 0 and {"hate", "furious"} & set(anger.cues)


def test_cue_words_are_words_of_the_text_for_the_emotion_it_reads(sensor):
    text = "Honestly I am disgusted and furious that they lied to us again."
    cues = dict(zip(EMOTIONS, sensor.cues([text])[0], strict=True))
    assert set(cues["anger"]) & {"furious", "lied"} and all(w in text for w in cues["anger"])
    assert "furious" not in cues["joy"]
    assert sensor.cues(["", "12 34"]) == [[[] for _ in EMOTIONS]] * 2  # no word: no cue, no error


def test_the_fast_sensor_reads_like_the_sensor_on_clear_texts_and_is_pinned(sensor, tmp_path):
    fast = EmotionSensor(fast=True)
    texts = ["I hate this so much, it makes me furious.", "What a lovely day, I'm so happy!", "I am terrified."]
    expected = [("fear-anger", 1), ("sadness-joy", 1), ("fear-anger", -1)]
    for p, (spectrum, sign) in zip(fast.analyze_batch(texts), expected, strict=True):
        assert p.analyzer.startswith("sensor-fast") and np.sign(p.reading(spectrum).intensity) == sign
    x = fast.encoder.encode(texts)
    assert np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-4)
    assert (np.sum(x * get_emotion_encoder().encode(texts), axis=1) > 0.6).all()  # it points where MiniLM does
    manifest = json.loads((STATIC_ENCODER.parent / "static-encoder-manifest.json").read_text())
    damaged = tmp_path / "static.npz"
    damaged.write_bytes(STATIC_ENCODER.read_bytes()[:1000])
    with pytest.raises(ModelFileError, match="sha256"):
        StaticEncoder(damaged, manifest["sha256"], "rebuild it")


def test_intensities_are_graded_and_the_spectrum_reads_them(sensor):
    ps = sensor.analyze_batch(
        ["I'm a bit sad today", "I am utterly heartbroken and devastated", "The bus leaves at nine."]
    )
    for p in ps:
        assert set(p.intensities) == set(EMOTIONS) and all(0 <= v <= 1 for v in p.intensities.values())
    bit, utterly, neutral = (p.intensities["sadness"] for p in ps)
    assert neutral < 0.2 < bit < utterly  # a neutral text reads about 0.1 on every emotion
    # the reading is sadness' intensity (joy is not present), not its probability
    for p in ps[:2]:
        assert p.reading("sadness-joy").intensity == pytest.approx(-p.intensities["sadness"], abs=1e-3)
    assert ps[1].reading("sadness-joy").level == "grief"


def test_cli_anger_intensity_grows_from_a_little_annoyed_to_absolutely_furious(tmp_path):
    def run(text):
        p = subprocess.run(
            [sys.executable, "-m", "emoethics.cli", "analyze", "--backend", "sensor", text, "--json"],
            capture_output=True,
            timeout=300,
            env=dict(os.environ, EMOETHICS_DATA_DIR=str(tmp_path)),
        )
        assert p.returncode == 0, p.stderr.decode()
        return json.loads(p.stdout)

    mild, furious = run("I'm a little annoyed"), run("I am absolutely furious")
    assert mild["intensities"]["anger"] < furious["intensities"]["anger"]
    levels = [next(r for r in p["readings"] if r["spectrum"] == "fear-anger") for p in (mild, furious)]
    assert 0 < levels[0]["intensity"] < levels[1]["intensity"]
    assert levels[0]["level"] == "annoyance" and levels[1]["level"] in ("anger", "rage")


def test_decision_rule_relative_and_thresholds():
    probs = np.array([[0.9, 0.5, 0.1, 0, 0, 0, 0, 0], [0.1, 0.05, 0, 0, 0, 0, 0, 0]])
    assert DecisionRule(relative=0.5, floor=0.3).labels(probs).sum(axis=1).tolist() == [2, 0]
    t = DecisionRule(thresholds={"anger": 0.95, "anticipation": 0.04})
    assert t.labels(probs)[:, :2].tolist() == [[False, True], [False, True]]


def test_calibration_fit_save_load(sensor, tmp_path, monkeypatch):
    monkeypatch.setenv("EMOETHICS_DATA_DIR", str(tmp_path))
    ex = [
        Example("I am furious!", frozenset({"anger"})),
        Example("So angry right now", frozenset({"anger"})),
        Example("This makes me mad", frozenset({"anger"})),
        Example("Lovely day", frozenset({"joy"})),
        Example("The bus is at nine", frozenset()),
    ]
    rule = fit_calibration(sensor, ex)
    assert set(rule.thresholds) == set(EMOTIONS)
    # three angry examples: the anger threshold admits them all and nothing else
    assert (sensor.probabilities([e.text for e in ex])[0][:, 0] >= rule.thresholds["anger"]).tolist() == [
        True,
        True,
        True,
        False,
        False,
    ]
    path = save_calibration("mine", rule, {"n": len(ex)})
    assert path.is_file() and load_calibration("mine") == rule
    with pytest.raises(emoethics.ConfigError, match="no calibration 'other'"):
        load_calibration("other")
    with pytest.raises(emoethics.ConfigError, match="use letters"):
        save_calibration("../evil", rule, {})


def test_ensemble_combines_and_prefilters(sensor):
    llm = ScriptedAnalyzer({"I am furious!": {"fear-anger": "rage"}})
    ens = EnsembleAnalyzer(sensor, llm)
    p = ens.analyze("I am furious!")
    s = sensor.analyze("I am furious!")
    assert p.reading("fear-anger").intensity == pytest.approx(
        0.5 * s.reading("fear-anger").intensity + 0.5 * 1.0, abs=1e-3
    )
    pre = EnsembleAnalyzer(sensor, llm, prefilter=True, neutral_below=1.01)
    assert "sensor only" in pre.analyze("The bus leaves at nine.").analyzer
    assert llm.seen == ["I am furious!"]


def test_cli_sensor_analyze_and_eval(tmp_path: Path):
    def run(*args):
        p = subprocess.run(
            [sys.executable, "-m", "emoethics.cli", *args],
            capture_output=True,
            timeout=300,
            env=dict(os.environ, EMOETHICS_DATA_DIR=str(tmp_path)),
        )
        assert p.returncode == 0, p.stderr.decode()
        return p.stdout.decode()

    out = json.loads(run("analyze", "--backend", "sensor", "I am not happy at all", "--json"))
    assert out["analyzer"].startswith("sensor:")
    assert all(not (r["positive"] == "joy" and r["intensity"] > 0) for r in out["readings"])
    assert out["intensities"]["joy"] < 0.1
    assert any(r["cues"] for r in out["readings"] if r["intensity"] != 0)  # occlusion cues
    head = "ID\tTweet\t" + "\t".join(
        [
            "anger",
            "anticipation",
            "disgust",
            "fear",
            "joy",
            "love",
            "optimism",
            "pessimism",
            "sadness",
            "surprise",
            "trust",
        ]
    )
    rows = [
        "1\tI am so angry at you\t1\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0",
        "2\tBest day ever!\t0\t0\t0\t0\t1\t1\t1\t0\t0\t0\t0",
        "3\tI'm scared of the dark\t0\t0\t0\t1\t0\t0\t0\t1\t0\t0\t0",
    ]
    f = tmp_path / "ec.tsv"
    f.write_text(head + "\n" + "\n".join(rows) + "\n")
    rep = json.loads(
        run("eval", "emotions", "--format", "semeval-ec", "--data", str(f), "--analyzer", "sensor", "--json")
    )
    assert rep["n"] == 3 and 0 <= rep["classification"]["macro_f1"] <= 1
    assert "anger" in rep["classification"]["per_label"]
    cal = json.loads(run("calibrate", "--data", str(f), "--format", "semeval-ec", "--name", "t", "--json"))
    assert cal["calibrated"]["macro_f1"] >= cal["uncalibrated"]["macro_f1"] - 1e-9
    rep2 = json.loads(
        run(
            "eval",
            "emotions",
            "--format",
            "semeval-ec",
            "--data",
            str(f),
            "--analyzer",
            "sensor",
            "--calibration",
            "t",
            "--json",
        )
    )
    assert rep2["analyzer"].endswith("+t")
