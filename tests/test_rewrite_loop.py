"""The rewrite loop's logic, with a scripted generator and a scripted critic."""

import json
import re

import pytest

from emoethics.emotions.rewriting import rewrite_text, sweep_text
from emoethics.schema.emotion_models import load_model, resolve_target

from fakes import ScriptedAnalyzer, ScriptedBackend

M = load_model("plutchik")
SRC = "The meeting moved to Friday."


def gen(*texts):
    return ScriptedBackend([json.dumps({"text": t}) for t in texts])


def test_stops_as_soon_as_within_tolerance():
    g = gen("calm", "angry!")
    critic = ScriptedAnalyzer({"calm": {}, "angry!": {"fear-anger": "anger"}})
    r = rewrite_text(SRC, resolve_target(M, "anger", 0.9), M, g, critic, rounds=3, explain=False)
    assert [x.measured_level for x in r.rounds] == ["neutral", "anger"]
    assert r.hit and r.text == "angry!" and r.best_round == 2 and r.level_distance == 1
    assert r.rounds[0].feedback and "make the anger stronger" in r.rounds[0].feedback
    # the feedback reached the generator, with its own previous answer
    second = g.sent[1]
    assert second[-2]["content"] == json.dumps({"text": "calm"})
    assert '"neutral"' in second[-1]["content"] and '"rage"' in second[-1]["content"]
    assert r.critic == "scripted-critic" and r.generator == "scripted:script"


def test_keeps_best_candidate_not_last_and_respects_round_budget():
    g = gen("a", "b", "c", "d")
    critic = ScriptedAnalyzer(
        {
            "a": {"sadness-joy": "serenity"},
            "b": {"sadness-joy": "joy"},
            "c": {"sadness-joy": "grief"},
            "d": {"sadness-joy": "ecstasy"},
        }
    )
    r = rewrite_text(SRC, resolve_target(M, level="ecstasy"), M, g, critic, rounds=3, tolerance=0, explain=False)
    assert len(r.rounds) == 3 and len(g.sent) == 3  # budget
    assert r.text == "b" and r.best_round == 2 and not r.hit and r.level_distance == 1
    assert r.measured_level == "joy"


def test_overshoot_feedback_asks_to_tone_down():
    g = gen("furious", "cross")
    critic = ScriptedAnalyzer({"furious": {"fear-anger": "rage"}, "cross": {"fear-anger": "annoyance"}})
    r = rewrite_text(SRC, resolve_target(M, level="annoyance"), M, g, critic, rounds=2, tolerance=0, explain=False)
    assert "tone it down" in r.rounds[0].feedback and r.text == "cross" and r.hit


def test_neutral_target_feedback_removes_emotion():
    g = gen("so sad", "Friday it is.")
    critic = ScriptedAnalyzer({"so sad": {"sadness-joy": "sadness"}})
    r = rewrite_text(
        "Sad news: the meeting moved.",
        resolve_target(M, "sadness-joy", 0.0),
        M,
        g,
        critic,
        rounds=2,
        tolerance=0,
        explain=False,
    )
    assert "Remove the sadness" in r.rounds[0].feedback and r.text == "Friday it is."


def test_result_carries_similarity_features_and_explanation():
    g = ScriptedBackend(
        [
            json.dumps({"text": "The meeting moved to Friday!!! I am FURIOUS."}),
            json.dumps(
                {
                    c: "more heated"
                    for c in ("vocabulary", "tone", "imagery", "diction", "figurative_language", "sentence_structure")
                }
            ),
        ]
    )
    critic = ScriptedAnalyzer({"The meeting moved to Friday!!! I am FURIOUS.": {"fear-anger": "rage"}})
    r = rewrite_text(SRC, resolve_target(M, "anger", 1.0), M, g, critic, rounds=1)
    assert 0.4 < r.similarity <= 1.0
    m = r.features.measured
    assert m["exclamations"] == [0, 3] and m["uppercase_words"] == [0, 1]
    assert "furious" in m["added_words"]
    assert r.features.explained["tone"] == "more heated"
    assert r.usage["generator"].calls == 2


def test_sweep_covers_every_level_in_order():
    levels = M.spectrum("sadness-joy").levels
    g = ScriptedBackend(
        lambda msgs: json.dumps({"text": re.search(r'Target level: "(\w+)"', msgs[-1]["content"]).group(1)})
    )
    # the generator echoes the target level word; the critic reads it back exactly
    critic = ScriptedAnalyzer({w: {"sadness-joy": w} for w in levels})
    s = sweep_text(SRC, "joy", M, g, critic, rounds=1)
    assert [r.target.level for r in s.results] == levels
    assert all(r.hit and r.level_distance == 0 for r in s.results)
    assert [row["measured"] for row in s.table()] == [-1.0, -0.6, -0.3, 0.0, 0.3, 0.6, 1.0]


def test_rounds_must_be_positive():
    with pytest.raises(ValueError):
        rewrite_text(SRC, resolve_target(M, level="joy"), M, gen("x"), ScriptedAnalyzer({}), rounds=0)
