"""The conduct head, the normaliser it reads through, and the judge without a model deciding alone."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from emoethics.ethics.conduct import CATEGORIES, load_conduct_head
from emoethics.sensors.normalise import normalise

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("text", "expected", "change"),
    [
        ("I h4te all w0men", "I hate all women", "leet"),
        ("k i l l them all", "kill them all", "spaced"),
        ("I will k.i.l.l you", "I will kill you", "spaced"),
        ("f\u200buck you", "fuck you", "invisible"),
        ("G\u0435t \u043eut", "Get out", "homoglyphs"),
        ("\uff59\uff4f\uff55 \uff41\uff52\uff45", "you are", "unicode"),
        ("diiiie", "diie", "repeated"),
        ("I hate \U0001f400s", "I hate rat s", "emoji"),
    ],
)
def test_normalise_undoes_each_disguise_and_names_it(text: str, expected: str, change: str) -> None:
    out, changes = normalise(text)
    assert out == expected and change in changes


@pytest.mark.parametrize(
    "text", ["I paid $20 on the 2nd at 10am.", "The U.S.A. is big.", "I love you!", "Wow!!! Great news."]
)
def test_normalise_leaves_ordinary_text_alone(text: str) -> None:
    assert normalise(text) == (text, [])


def test_the_conduct_head_names_a_category_and_the_sentence_it_rests_on() -> None:
    head = load_conduct_head()
    threat, harmless = head.read_many(["Nice weather today. I am going to kill all of them.", "Nice weather today."])
    assert set(threat.probabilities) == set(CATEGORIES)
    assert threat.harmful and threat.category in ("threat", "identity_attack")
    assert threat.sentence == "I am going to kill all of them." and threat.span is not None
    assert not harmless.harmful


def test_the_judge_without_a_model_blocks_a_threat_quoting_it() -> None:
    from emoethics.api import make_judge

    j = make_judge(use_model=False).judge("We are going to put an end to all of them.", "personal")
    assert j.verdict == "block"
    hit = next(h for h in j.violations if h.source.startswith("conduct head"))
    assert hit.quote and j.text[hit.span[0] : hit.span[1]] == hit.quote  # type: ignore[index]


def test_the_judge_without_a_model_allows_counter_speech_and_distress() -> None:
    from emoethics.api import make_judge

    judge = make_judge(use_model=False)
    texts = [
        "People who write 'you people make me sick' will get blocked.",
        "I'm so scared I'll lose my flat, I can't sleep.",
    ]
    assert [j.verdict for j in judge.judge_many(texts, "personal")] == ["allow", "allow"]


def test_a_disguised_insult_is_read_after_normalising_and_says_so() -> None:
    reading = load_conduct_head().read("I h4te all w0men.")
    assert "leet" in reading.normalised and reading.harmful


def test_firm_requests_with_some_annoyance_are_allowed_without_a_model() -> None:
    from emoethics.api import make_judge

    texts = [
        "Hey, I noticed the music is getting loud. Can you please keep it down after 11? I'm feeling a bit annoyed.",
        "Please pay back the 40 pounds you owe me before the weekend. Honestly I'm annoyed.",
        "I was charged twice for order 55812. Please refund the second payment.",
    ]
    assert [j.verdict for j in make_judge(use_model=False).judge_many(texts, "personal")] == ["allow"] * 3


def test_the_contrast_set_in_the_repository_is_what_its_recipe_writes() -> None:
    sys.path.insert(0, str(ROOT / "training"))
    from make_conduct_set import OUT, build

    written = [json.loads(line) for line in OUT.read_text(encoding="utf-8").splitlines()]
    assert written == build()
