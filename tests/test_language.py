"""Language in every judgement: the detected language, the reader it goes to, whether the
instruments were trained for it, and the fast path routing an unsupported language to review."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emoethics.sensors.language import detect_language

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("text", "code", "support", "reader"),
    [
        ("You are a loser.", "en", "supported", "english"),
        ("Hey, can you keep it down after 11?", "en", "supported", "english"),
        ("Ich hasse Frauen.", "de", "supported", "multilingual"),
        ("Nienawidzę kobiet.", "pl", "supported", "multilingual"),
        ("Je vais te tuer.", "fr", "supported", "multilingual"),
        ("मैं महिलाओं से नफरत करता हूँ।", "hi", "supported", "multilingual"),
        ("Ina son ka sosai, abokina.", "ha", "supported", "multilingual"),  # Hausa: BRIGHTER has it
        ("ᎠᏂᏴᏫ ᎣᏍᏓ ᏣᏛᎦᏍᏓ", "und", "unsupported", "multilingual"),  # Cherokee: a script no model knows
        ("12345 !!!", "und", "transfer", "english"),
    ],
)
def test_the_language_of_a_text_is_detected_with_its_support_and_reader(
    text: str, code: str, support: str, reader: str
) -> None:
    reading = detect_language(text)
    assert (reading.code, reading.support, reading.reader) == (code, support, reader)


def test_support_depends_on_what_the_instrument_was_trained_on() -> None:
    from emoethics.sensors.language import CONDUCT_LANGUAGES

    russian = detect_language("Я так рада тебя видеть!")
    assert russian.code == "ru" and russian.support == "supported"  # the emotion heads saw Russian
    assert russian.for_instrument(CONDUCT_LANGUAGES).support == "transfer"  # the conduct heads did not


def test_english_with_disguises_is_not_taken_for_another_language() -> None:
    texts = [json.loads(line)["text"] for line in (ROOT / "training" / "data" / "conduct_contrast.jsonl").open()]
    texts += [json.loads(line)["text"] for line in (ROOT / "benchmarks" / "data" / "requests.jsonl").open()]
    other = [t for t in texts if detect_language(t).reader != "english"]
    assert len(other) <= 0.001 * len(texts), other  # 2 of 4,086 ("Latinos disgust me." reads as Latin)


def test_the_fast_path_routes_an_unsupported_language_to_review_unless_the_guidelines_say_allow() -> None:
    from emoethics.api import make_judge
    from emoethics.ethics.guidelines import load_guidelines

    text = "ᎠᏂᏴᏫ ᎣᏍᏓ ᏣᏛᎦᏍᏓ"  # Cherokee
    j = make_judge(use_model=False).judge(text, "personal")
    assert j.language is not None and j.language.code == "und" and j.language.support == "unsupported"
    assert j.verdict == "review" and any("not trained for" in r for r in j.reasons)
    english = make_judge(use_model=False).judge("We moved the meeting to Friday.", "personal")
    assert english.verdict == "allow" and english.language is not None and english.language.support == "supported"
    lenient = load_guidelines().model_copy(update={"unsupported_language": "allow"})
    from emoethics.ethics.judge import Judge
    from emoethics.session import default_session

    judge = default_session().make_judge(use_model=False)
    judge = Judge(lenient, None, judge.analyzer, head=judge.head, conduct=judge.conduct)
    assert judge.judge(text, "personal").verdict == "allow"


def test_an_emotion_profile_reports_its_language_and_caps_its_confidence_where_unsupported() -> None:
    from emoethics.sensors.emotion_sensor import UNSUPPORTED_CONFIDENCE, EmotionSensor

    sensor = EmotionSensor()
    cherokee, french, english = sensor.analyze_batch(
        ["ᎠᏂᏴᏫ", "Je suis tellement en colère contre toi !", "I am so angry with you!"]
    )
    assert cherokee.language is not None and cherokee.language.support == "unsupported"
    assert cherokee.language.code == "und"  # a script the detector cannot name a language of
    assert all(r.confidence <= UNSUPPORTED_CONFIDENCE for r in cherokee.readings)
    assert french.language is not None and (french.language.code, french.language.support) == ("fr", "supported")
    assert french.present is not None and "anger" in french.present  # read by the multilingual heads
    assert french.reading("fear-anger").intensity > 0 and max(r.confidence for r in french.readings) > 0.5
    assert english.language is not None and english.language.support == "supported"
    assert english.reading("fear-anger").intensity > 0 and max(r.confidence for r in english.readings) > 0.5


def test_the_analyze_command_shows_the_language_of_the_text() -> None:
    from typer.testing import CliRunner

    from emoethics.cli import app

    out = CliRunner().invoke(app, ["analyze", "--backend", "sensor", "ᎠᏂᏴᏫ"])
    assert out.exit_code == 0 and "unsupported" in out.output and "language und" in out.output
