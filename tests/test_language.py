"""Language in every judgement: the detected language, whether the instruments were trained for
it, and the fast path routing an unsupported language to review."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emoethics.sensors.language import detect_language

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("text", "code", "support"),
    [
        ("You are a loser.", "en", "supported"),
        ("Hey, can you keep it down after 11?", "en", "supported"),
        ("Ich hasse Frauen.", "de", "unsupported"),
        ("Nienawidzę kobiet.", "pl", "unsupported"),
        ("Je déteste les femmes.", "fr", "unsupported"),
        ("मैं महिलाओं से नफरत करता हूँ।", "hi", "unsupported"),
        ("12345 !!!", "und", "transfer"),
    ],
)
def test_the_language_of_a_text_is_detected_with_its_support(text: str, code: str, support: str) -> None:
    reading = detect_language(text)
    assert (reading.code, reading.support) == (code, support)


def test_english_with_disguises_is_not_taken_for_another_language() -> None:
    texts = [json.loads(line)["text"] for line in (ROOT / "training" / "data" / "conduct_contrast.jsonl").open()]
    texts += [json.loads(line)["text"] for line in (ROOT / "benchmarks" / "data" / "requests.jsonl").open()]
    other = [t for t in texts if detect_language(t).support == "unsupported"]
    assert other == []


def test_the_fast_path_routes_an_unsupported_language_to_review_unless_the_guidelines_say_allow() -> None:
    from emoethics.api import make_judge
    from emoethics.ethics.guidelines import load_guidelines

    text = "Wir haben das Treffen auf Freitag verschoben."  # "we moved the meeting to Friday"
    j = make_judge(use_model=False).judge(text, "personal")
    assert j.language is not None and j.language.code == "de" and j.language.support == "unsupported"
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
    assert french.language is not None and (french.language.code, french.language.support) == ("fr", "unsupported")
    for profile in (cherokee, french):
        assert all(r.confidence <= UNSUPPORTED_CONFIDENCE for r in profile.readings)
    assert english.language is not None and english.language.support == "supported"
    assert english.reading("fear-anger").intensity > 0 and max(r.confidence for r in english.readings) > 0.5


def test_the_analyze_command_shows_the_language_of_the_text() -> None:
    from typer.testing import CliRunner

    from emoethics.cli import app

    out = CliRunner().invoke(app, ["analyze", "--backend", "sensor", "ᎠᏂᏴᏫ"])
    assert out.exit_code == 0 and "unsupported" in out.output and "language und" in out.output
